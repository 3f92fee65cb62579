"""Evaluation of DeepLab checkpoints: mean IoU, per-class IoU, pixel accuracy.

One pass over the split, every image at its own size, every labelled pixel
counted once into one confusion matrix (see `metrics`), so the figures are
exact. With several `eval_scales` and/or `add_flipped_images` the
predictions are DeepLab's averaged multi-scale ones (`model.predict`).
Results go to `<eval_dir>/eval_results.json` (written atomically), like
the classification evaluation's.
"""

import json
import os
import time

import numpy as np
import tensorflow.compat.v1 as tf

from resnet_utils import checks
from resnet_utils import graph_building
from slim_resnets import publish
from slim_resnets.datasets import dataset_factory
from slim_resnets.datasets import input_pipeline
from slim_resnets.preprocessing import segmentation_preprocessing
from slim_resnets.segmentation import metrics
from slim_resnets.segmentation import model as model_lib
from slim_resnets.segmentation import train_lib
from slim_resnets.training import checkpoints
from slim_resnets.training import config as config_lib
from slim_resnets.training import eval_lib as classification_eval_lib

RESULTS_FILENAME = 'eval_results.json'


def check_config(config):
  """The checks an evaluation makes before it reads any data."""
  config_lib.check_finite(config)
  train_lib.model_options(config, num_classes=2)
  train_lib.preprocessing_name(config)
  checks.check_int(config.eval_batch_size, 'eval_batch_size')
  checks.check_int(config.max_num_batches, 'max_num_batches',
                   allow_none=True)
  if not config.eval_scales:
    raise ValueError('eval_scales must name at least one scale.')
  for scale in config.eval_scales:
    checks.check_positive_number(scale, 'eval_scales')


def eval_dataset(config, split, num_epochs=1):
  """Batches of {'image', 'label', 'filename'} at the images' own sizes."""
  name = train_lib.preprocessing_name(config)
  return input_pipeline.make_segmentation_dataset(
      split, config.eval_batch_size,
      lambda image, label: segmentation_preprocessing.preprocess_for_eval(
          image, label, name),
      is_training=False, num_epochs=num_epochs, num_readers=1,
      num_parallel_calls=config.num_preprocessing_threads)


def build_predictions(config, images, num_classes):
  """`model.predict` of `config`'s model, scales and flips on `images`."""
  with graph_building.fast_graph_building():
    return model_lib.predict(
        images, train_lib.model_options(config, num_classes),
        eval_scales=config.eval_scales,
        add_flipped_images=config.add_flipped_images)


def evaluate_checkpoint(config, checkpoint_path, split):
  """Evaluates one checkpoint over the split; returns a results dict."""
  num_classes = split.num_classes
  graph = tf.Graph()
  with graph.as_default():
    batch = tf.data.make_one_shot_iterator(
        eval_dataset(config, split)).get_next()
    predictions = build_predictions(config, batch['image'], num_classes)
    confusion = metrics.confusion_matrix_op(
        batch['label'][..., 0], predictions['semantic'], num_classes)
    global_step = tf.train.get_or_create_global_step()
    restore = {v.op.name: v for v in tf.global_variables()}
    if not tf.train.load_checkpoint(checkpoint_path).has_tensor(
        global_step.op.name):
      del restore[global_step.op.name]
    checkpoints.check_restore(
        checkpoint_path, restore,
        hint='Check --model_variant, --output_stride, --atrous_rates and the '
        'decoder flags against the run that wrote the checkpoint, and that '
        '--dataset has the classes it was trained on.')
    saver = tf.train.Saver(restore)
    total = np.zeros((num_classes, num_classes), np.int64)
    num_images = 0
    progress = classification_eval_lib.evaluation_progress(
        config, split, config.eval_batch_size, 'images')
    with tf.Session() as sess:
      sess.run(global_step.initializer)
      saver.restore(sess, checkpoint_path)
      step = int(sess.run(global_step))
      while (config.max_num_batches is None or
             num_images < config.max_num_batches * config.eval_batch_size):
        try:
          counts, labels = sess.run([confusion, batch['label']])
        except tf.errors.OutOfRangeError:
          break
        total += counts
        num_images += len(labels)
        progress.add(len(labels))
      progress.finish()
  found = metrics.scores(total)
  names = split.labels_to_names or {}
  return {
      'mean_iou': found.mean_iou,
      'pixel_accuracy': found.pixel_accuracy,
      'per_class_iou': {names.get(c, str(c)): iou for c, iou in
                        enumerate(found.per_class_iou)},
      'confusion_matrix': total.tolist(),
      'num_images': num_images,
      'num_pixels': found.num_pixels,
      'checkpoint': checkpoint_path,
      'global_step': step,
      'model_name': config.model_name,
      'dataset': '%s/%s' % (config.dataset_name, config.dataset_split_name),
      'eval_scales': list(config.eval_scales),
      'add_flipped_images': config.add_flipped_images,
  }


def evaluate(config, log_fn=None):
  """Evaluates `config.checkpoint_path` (a file or a train dir's latest).

  Returns the results dict, also written to <eval_dir>/eval_results.json.
  """
  log = log_fn or tf.logging.info
  check_config(config)
  split = dataset_factory.get_split(config.dataset_name,
                                    config.dataset_split_name,
                                    config.dataset_dir,
                                    task=dataset_factory.SEGMENTATION)
  path = checkpoints.resolve_checkpoint(config.checkpoint_path)
  start = time.time()
  results = evaluate_checkpoint(config, path, split)
  results['seconds'] = time.time() - start
  out = os.path.join(config.eval_dir, RESULTS_FILENAME)
  publish.write_file(out, json.dumps(results, indent=2, sort_keys=True),
                     'eval results', overwrite=True)
  log('%s (step %d): mean IoU %.4f, pixel accuracy %.4f over %d images; '
      'wrote %s' % (path, results['global_step'], results['mean_iou'],
                    results['pixel_accuracy'], results['num_images'], out))
  return results
