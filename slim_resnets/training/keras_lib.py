"""Fine-tuning a slim checkpoint with Keras `fit`, saved back as slim.

The TensorFlow 2 way through the same data and checkpoints as the slim
trainer: the net comes from `nets.keras_nets` with the checkpoint's
weights (its head left out when the classes change), the data from the
project's own input pipeline and preprocessing (the same recipe the
trainer and the evaluation script use, so the numbers carry over), and
the result is written as a slim checkpoint with a `run_settings.json`
beside it: `eval_image_classifier.py --checkpoint_path=<train_dir>`, the
export scripts and further slim or Keras runs read it as they read the
trainer's.
"""

import dataclasses
import os
import time

import keras
import tensorflow as tf

from nets import keras_nets
from nets import nets_factory
from resnet_utils import checks
from slim_resnets.datasets import dataset_factory
from slim_resnets.datasets import input_pipeline
from slim_resnets.preprocessing import preprocessing_factory
from slim_resnets.training import checkpoints
from slim_resnets.training import config as config_lib
from slim_resnets.training import run_settings

CHECKPOINT_NAME = 'model.ckpt'


def _resolve(config):
  """`config` with the unset net settings taken from the checkpoint's run."""
  config_lib.check_finite(config)
  for name in ('checkpoint_path', 'train_dir', 'dataset_dir'):
    if not getattr(config, name):
      raise ValueError('%s must be given.' % name)
  record = run_settings.read(config.checkpoint_path) or {}
  filled = {name: record.get(name) for name in
            ('model_name', 'preprocessing_name', 'image_size')
            if getattr(config, name) is None}
  config = dataclasses.replace(config, **filled)
  if config.model_name is None:
    raise ValueError('model_name: the checkpoint\'s run recorded no net; '
                     'pass one of nets_factory\'s names.')
  nets_factory.check_name(config.model_name, 'model_name')
  if config.preprocessing_name is None:
    config = dataclasses.replace(
        config, preprocessing_name=preprocessing_factory
        .default_preprocessing_name(config.model_name))
  if config.image_size is None:
    config = dataclasses.replace(
        config,
        image_size=nets_factory.networks_map[config.model_name]
        .default_image_size)
  nets_factory.check_image_size(config.image_size, 'image_size',
                                config.model_name)
  for name in ('epochs', 'batch_size'):
    checks.check_int(getattr(config, name), name)
  checks.check_positive_number(config.learning_rate, 'learning_rate')
  return config


def _dataset(config, split_name, is_training):
  split = dataset_factory.get_split(config.dataset_name, split_name,
                                    config.dataset_dir)
  preprocess = preprocessing_factory.get_preprocessing(
      config.preprocessing_name, is_training=is_training,
      random_flip=config.random_flip)
  # Training repeats (fit counts the steps of an epoch); validation is one
  # pass over every image.
  dataset = input_pipeline.make_dataset(
      split, config.batch_size, preprocess, config.image_size,
      is_training=is_training, num_epochs=None if is_training else 1,
      labels_offset=config.labels_offset, seed=config.seed)
  if not is_training:
    # Interleaved files hide the pass's length from tf.data; told it, fit
    # knows where validation ends instead of finding out by running dry.
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(
        -(-split.num_samples // config.batch_size)))
  return split, dataset


def _report(log, epochs, start):
  def on_epoch_end(epoch, logs):
    log('epoch %d/%d: loss %.4f, accuracy %.2f%%, validation accuracy '
        '%.2f%%, %.0f s' % (epoch + 1, epochs, logs['loss'],
                           100 * logs['accuracy'],
                           100 * logs['val_accuracy'], time.time() - start))
  return keras.callbacks.LambdaCallback(on_epoch_end=on_epoch_end)


def fine_tune(config, log=print):
  """Fine-tunes as `config` (a config_lib.KerasFineTuneConfig) says.

  Settings left unset (None) come from the run that wrote the checkpoint.

  Returns:
    dict with 'validation_accuracy' (after the last epoch), 'checkpoint'
    (the slim checkpoint written), 'seconds' (the whole run) and
    'model_name'.

  Raises:
    FileExistsError: when train_dir already holds a checkpoint (nothing is
      replaced).
    CheckpointMismatchError: when the checkpoint does not fit the net (the
      report says what differs; a changed head needs
      checkpoint_exclude_scopes).
    ValueError: for settings that cannot work, naming the setting.
  """
  start = time.time()
  config = _resolve(config)
  if checkpoints.has_checkpoint(config.train_dir):
    raise FileExistsError(
        'train_dir %s already holds a checkpoint; choose a new directory '
        '(nothing there was changed).' % config.train_dir)
  keras.utils.set_random_seed(config.seed)
  train_split, train_data = _dataset(config, 'train', True)
  _, validation_data = _dataset(config, config.validation_split_name, False)
  num_classes = train_split.num_classes - config.labels_offset
  model = keras_nets.get_model(
      config.model_name, num_classes,
      input_shape=(config.image_size, config.image_size, 3),
      weight_decay=config.weight_decay,
      batch_norm_decay=config.batch_norm_decay)
  path = keras_nets.load_slim_checkpoint(
      model, config.checkpoint_path,
      checkpoints.split_scopes(config.checkpoint_exclude_scopes))
  log('Fine-tuning %s from %s on %s for %d epochs ...'
      % (config.model_name, path, config.dataset_name, config.epochs))
  steps_per_epoch = max(1, train_split.num_samples // config.batch_size)
  schedule = keras.optimizers.schedules.CosineDecay(
      config.learning_rate, config.epochs * steps_per_epoch)
  model.compile(
      optimizer=keras.optimizers.SGD(schedule, momentum=config.momentum),
      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
      metrics=['accuracy'])
  history = model.fit(train_data, epochs=config.epochs,
                      steps_per_epoch=steps_per_epoch,
                      validation_data=validation_data, verbose=0,
                      shuffle=False,  # the input pipeline shuffles
                      callbacks=[_report(log, config.epochs, start)])
  written = keras_nets.save_slim_checkpoint(
      model, os.path.join(config.train_dir, CHECKPOINT_NAME))
  run_settings.write(config.train_dir, run_settings.of_training(
      config, config.preprocessing_name, config.image_size, num_classes))
  return {'validation_accuracy': history.history['val_accuracy'][-1],
          'checkpoint': written, 'seconds': time.time() - start,
          'model_name': config.model_name}
