"""Training DeepLab models: the classification trainer's loop, another task.

`train(config)` runs `slim_resnets.training.train_lib.train` with a
`SegmentationTask`, so a segmentation run has everything a classification
run has: resuming from its train_dir after a kill, stopping cleanly on
SIGINT/SIGTERM, clones over several devices, synchronous or asynchronous
replicas in a cluster, exponential moving averages, a checkpoint that
must fit the model. The task adds DeepLab's inputs (random scale, crop and
flip of image and labels), the model and the pixel-wise loss.

Initializing from a checkpoint (`checkpoint_path`, DeepLab's
`--tf_initial_checkpoint`) restores what the model and the checkpoint
share by name; `initialize_last_layer=False` leaves out the head
(`model.get_extra_layer_scopes`), as when starting from a classification
checkpoint or from a segmentation model of other classes.
"""

import dataclasses

import tensorflow.compat.v1 as tf

from nets import nets_factory
from resnet_utils import checks
from slim_resnets.datasets import dataset_factory
from slim_resnets.datasets import input_pipeline
from slim_resnets.datasets import segmentation_format
from slim_resnets.preprocessing import preprocessing_factory
from slim_resnets.preprocessing import segmentation_preprocessing
from slim_resnets.segmentation import losses
from slim_resnets.segmentation import model as model_lib
from slim_resnets.training import train_lib


def preprocessing_name(config):
  """The pixel normalization of `config`: its own, else the backbone's."""
  name = (config.preprocessing_name or
          preprocessing_factory.default_preprocessing_name(config.model_name))
  checks.check_choice(name, segmentation_preprocessing.NORMALIZATIONS,
                      'preprocessing_name')
  return name


def model_options(config, num_classes, **overrides):
  """The `model.ModelOptions` a `config.ModelConfig`-based config describes."""
  values = dict(
      model_variant=config.model_name, num_classes=num_classes,
      output_stride=config.output_stride, atrous_rates=config.atrous_rates,
      multi_grid=config.multi_grid,
      decoder_output_stride=config.decoder_output_stride,
      image_pooling=config.image_pooling, aspp_depth=config.aspp_depth,
      decoder_depth=config.decoder_depth,
      decoder_use_separable_conv=config.decoder_use_separable_conv)
  values.update(overrides)
  return model_lib.ModelOptions(**values)


def _train_options(config, num_classes):
  return model_options(
      config, num_classes, dropout_keep_prob=config.dropout_keep_prob,
      weight_decay=config.weight_decay,
      batch_norm_decay=(config.batch_norm_decay if
                        config.batch_norm_decay is not None else
                        model_lib.ModelOptions.batch_norm_decay))


def _crop_size(config):
  crop = tuple(config.train_crop_size)
  if len(crop) == 1:
    crop = crop * 2
  if len(crop) != 2:
    raise ValueError('train_crop_size must be one size or a height and a '
                     'width; got %s.' % (crop,))
  for side in crop:
    checks.check_int(side, 'train_crop_size', note='(pixels)')
  return crop


class SegmentationTask:
  """DeepLab's inputs, model and loss for `train_lib.train`."""

  dataset_task = dataset_factory.SEGMENTATION

  def check(self, config):
    nets_factory.check_name(config.model_name, 'model_name')
    _train_options(config, num_classes=2)  # checks every model setting
    _crop_size(config)
    preprocessing_name(config)
    segmentation_preprocessing.check_scales(
        config.min_scale_factor, config.max_scale_factor,
        config.scale_factor_step_size)
    if not 0 < config.top_k_percent_pixels <= 1:
      raise ValueError('top_k_percent_pixels must be in (0, 1]; got %r.'
                       % (config.top_k_percent_pixels,))
    if config.precision != 'float32':
      raise ValueError('segmentation trains in float32; got precision=%r.'
                       % (config.precision,))
    if config.labels_offset:
      raise ValueError('labels_offset does not apply to segmentation; got '
                       '%r.' % (config.labels_offset,))

  def num_classes(self, config, split):
    return split.num_classes

  def run_settings(self, config, split):
    """None: the segmentation scripts take DeepLab's flags, not a record."""
    del config, split
    return None

  def inputs(self, config, split):
    """(images [batch, crop, crop, 3], labels [batch, crop, crop, 1])."""
    crop = _crop_size(config)
    name = preprocessing_name(config)

    def preprocess(image, label):
      return segmentation_preprocessing.preprocess_for_train(
          image, label, crop, name, segmentation_format.IGNORE_LABEL,
          min_scale_factor=config.min_scale_factor,
          max_scale_factor=config.max_scale_factor,
          scale_factor_step_size=config.scale_factor_step_size,
          flip=config.random_flip, seed=config.seed)

    dataset = input_pipeline.make_segmentation_dataset(
        split, config.batch_size, preprocess, is_training=True,
        seed=config.seed, num_readers=config.num_readers,
        num_parallel_calls=config.num_preprocessing_threads)
    batch = tf.data.make_one_shot_iterator(dataset).get_next()
    return batch['image'], batch['label']

  def model_and_loss(self, config, num_classes, images, labels):
    logits, _ = model_lib.logits(
        images, _train_options(config, num_classes), is_training=True,
        fine_tune_batch_norm=config.fine_tune_batch_norm)
    loss = losses.pixel_cross_entropy(
        logits, labels, num_classes,
        top_k_percent_pixels=config.top_k_percent_pixels)
    return logits, loss

  def accuracy(self, logits, labels):
    """Pixel accuracy over the labelled pixels (a training summary)."""
    labels = labels[..., 0]
    predictions = tf.argmax(
        model_lib.resize_bilinear(logits, model_lib.spatial_size(
            labels[..., tf.newaxis])), 3, output_type=tf.int32)
    labelled = tf.not_equal(labels, segmentation_format.IGNORE_LABEL)
    right = tf.logical_and(tf.equal(predictions, labels), labelled)
    return (tf.reduce_sum(tf.cast(right, tf.float32)) /
            tf.maximum(tf.reduce_sum(tf.cast(labelled, tf.float32)), 1.0))

  def summarize(self, images):
    tf.summary.image('images', images, max_outputs=3)


def effective_config(config):
  """`config` with DeepLab's initialization rule applied.

  Without `initialize_last_layer` the head's scopes join
  `checkpoint_exclude_scopes`, so a checkpoint that lacks them (a
  classification checkpoint) or has them for other classes restores the
  backbone only.
  """
  if config.initialize_last_layer or not config.checkpoint_path:
    return config
  scopes = [s for s in (config.checkpoint_exclude_scopes or '').split(',')
            if s.strip()]
  scopes += model_lib.get_extra_layer_scopes(
      config.last_layers_contain_logits_only,
      _train_options(config, num_classes=2))
  return dataclasses.replace(config,
                             checkpoint_exclude_scopes=','.join(scopes))


def train(config, log_fn=None, session_config=None, environ=None):
  """Trains a DeepLab model as `training.train_lib.train` trains a classifier.

  Returns its `TrainResult`; raises what it raises (see there).
  """
  return train_lib.train(effective_config(config), log_fn=log_fn,
                         session_config=session_config, environ=environ,
                         task=SegmentationTask())
