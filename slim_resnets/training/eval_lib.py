"""Evaluation of classification checkpoints: top-1, top-5, per-class recall.

One pass over a whole split (every example exactly once, the last batch
possibly smaller), counting in NumPy, so the figures are exact rather than
streaming estimates. With `eval_interval_secs` every new checkpoint in a
directory is evaluated as training writes it.
"""

import collections
import json
import os
import time

import numpy as np
import tensorflow.compat.v1 as tf
import tf_slim as slim

from nets import nets_factory
from resnet_utils import graph_building
from resnet_utils import precision as precision_lib
from slim_resnets import progress as progress_lib
from slim_resnets import publish
from slim_resnets.datasets import dataset_factory
from slim_resnets.datasets import input_pipeline
from slim_resnets.preprocessing import preprocessing_factory
from slim_resnets.training import checkpoints
from slim_resnets.training import config as config_lib
from slim_resnets.training import performance

EvalSettings = collections.namedtuple(
    'EvalSettings', ['num_classes', 'labels_offset', 'image_size'])


def resolve_settings(config, split):
  """Fills in num_classes, labels_offset and image size left unset.

  On ImageNet, a model with a published slim checkpoint defaults to what
  that checkpoint expects (see `nets_factory.PUBLISHED_CHECKPOINTS`): e.g.
  resnet_v1_50 evaluates 1000 classes at 224 with labels_offset 1 on the
  1001-label records, resnet_v2_50 1001 classes at 299. Everywhere else the
  dataset decides the classes and the model its default image size.
  """
  published = (nets_factory.get_published_checkpoint(config.model_name)
               if config.dataset_name == 'imagenet' else None)
  labels_offset = config.labels_offset
  num_classes = config.num_classes
  if num_classes is None:
    if published is not None and labels_offset is None:
      num_classes = published.num_classes
    else:
      num_classes = split.num_classes - (labels_offset or 0)
  if labels_offset is None:
    labels_offset = split.num_classes - num_classes if published else 0
  if labels_offset < 0:
    raise ValueError('labels_offset must be >= 0; got %d (num_classes=%d for '
                     'a dataset of %d classes).'
                     % (labels_offset, num_classes, split.num_classes))
  image_size = config.eval_image_size
  if image_size is None:
    image_size = (published.eval_image_size if published else
                  nets_factory.networks_map[config.model_name]
                  .default_image_size)
  return EvalSettings(num_classes, labels_offset, image_size)


def eval_dataset(config, split, settings):
  """The split once, in batches, with the model's evaluation preprocessing."""
  preprocess = preprocessing_factory.get_preprocessing(
      config.preprocessing_name or config.model_name, is_training=False)
  return input_pipeline.make_dataset(
      split, config.batch_size, preprocess_fn=preprocess,
      image_size=settings.image_size, is_training=False, num_epochs=1,
      labels_offset=settings.labels_offset,
      num_parallel_calls=config.num_preprocessing_threads)


def collect_predictions(next_batch, max_num_batches=None, progress=None):
  """Labels [N] and top-k predictions [N, k] of every batch, concatenated.

  `next_batch()` returns one batch's (labels, top_k) and raises
  tf.errors.OutOfRangeError after the last; at most `max_num_batches` are
  read when it is set. `progress` (a slim_resnets.progress.Progress), if
  given, counts the examples.
  """
  all_labels, all_top = [], []
  while max_num_batches is None or len(all_labels) < max_num_batches:
    try:
      labels, top = next_batch()
    except tf.errors.OutOfRangeError:
      break
    all_labels.append(labels)
    all_top.append(top)
    if progress is not None:
      progress.add(len(labels))
  if progress is not None:
    progress.finish()
  labels = np.concatenate(all_labels) if all_labels else np.zeros([0], int)
  top = np.concatenate(all_top) if all_top else np.zeros([0, 1], int)
  return labels, top


def _build_eval_graph(config, split):
  settings = resolve_settings(config, split)
  num_classes = settings.num_classes
  network_fn = nets_factory.get_network_fn(config.model_name, num_classes,
                                           is_training=False,
                                           precision=config.precision)
  images, labels = tf.data.make_one_shot_iterator(
      eval_dataset(config, split, settings)).get_next()
  with performance.xla_scope(config.xla), graph_building.fast_graph_building():
    logits, _ = network_fn(images)
  logits = tf.reshape(logits, [-1, num_classes])
  k = min(5, num_classes)
  _, top_k = tf.nn.top_k(logits, k=k)
  global_step = tf.train.get_or_create_global_step()
  if config.moving_average_decay:
    ema = tf.train.ExponentialMovingAverage(config.moving_average_decay,
                                            global_step)
    restore = ema.variables_to_restore(slim.get_model_variables())
    restore[global_step.op.name] = global_step
  else:
    restore = {v.op.name: v for v in tf.global_variables()}
  return {'labels': labels, 'top_k': top_k, 'num_classes': num_classes,
          'restore': restore, 'global_step': global_step}


def scores(labels, top_k, num_classes):
  """Accuracy figures from all labels [N] and top-k predictions [N, k]."""
  n = len(labels)
  correct1 = top_k[:, 0] == labels
  correct5 = (top_k == labels[:, None]).any(axis=1)
  recall = {}
  for c in range(num_classes):
    mask = labels == c
    if mask.any():
      recall[c] = float(correct1[mask].mean())
  return {
      'num_examples': int(n),
      'top1_accuracy': float(correct1.mean()) if n else 0.0,
      'top5_accuracy': float(correct5.mean()) if n else 0.0,
      'top5_k': int(top_k.shape[1]),
      'per_class_recall': recall,
      'mean_per_class_recall': (float(np.mean(list(recall.values())))
                                if recall else 0.0),
  }


def evaluate_checkpoint(config, checkpoint_path, split=None):
  """Evaluates one checkpoint over the split; returns a results dict."""
  split = split or dataset_factory.get_split(
      config.dataset_name, config.dataset_split_name, config.dataset_dir,
      task=dataset_factory.CLASSIFICATION)
  graph = tf.Graph()
  with graph.as_default():
    ops = _build_eval_graph(config, split)
    restore = dict(ops['restore'])
    step_name = ops['global_step'].op.name
    if not tf.train.load_checkpoint(checkpoint_path).has_tensor(step_name):
      del restore[step_name]  # E.g. converted checkpoints; report step 0.
    checkpoints.check_restore(checkpoint_path, restore)
    saver = tf.train.Saver(restore)
    with tf.Session(config=performance.session_config(
        config.intra_op_threads, config.inter_op_threads)) as sess:
      sess.run(ops['global_step'].initializer)
      saver.restore(sess, checkpoint_path)
      step = int(sess.run(ops['global_step']))
      labels, top = collect_predictions(
          lambda: sess.run([ops['labels'], ops['top_k']]),
          config.max_num_batches,
          evaluation_progress(config, split, config.batch_size))
  results = scores(labels, top, ops['num_classes'])
  results.update(describe_run(config))
  results.update({'checkpoint': checkpoint_path, 'global_step': step,
                  'moving_averages': bool(config.moving_average_decay)})
  return results


def evaluation_progress(config, split, batch_size, unit='examples'):
  """A Progress over the `unit`s an evaluation of `split` will read.

  At most `config.max_num_batches` batches of `batch_size` when that is set.
  """
  total = split.num_samples
  if config.max_num_batches is not None:
    total = min(total, config.max_num_batches * batch_size)
  return progress_lib.Progress(
      'Evaluating %s/%s' % (config.dataset_name, config.dataset_split_name),
      total, unit)


def describe_run(config):
  """The results entries naming what was evaluated on what."""
  return {'model_name': config.model_name,
          'dataset': '%s/%s' % (config.dataset_name,
                                config.dataset_split_name)}


def write_results(config, results):
  """Writes `results` to <eval_dir>/eval_results.json and as summaries."""
  path = os.path.join(config.eval_dir, 'eval_results.json')
  publish.write_file(path, json.dumps(results, indent=2, sort_keys=True),
                     'eval results', overwrite=True)
  summary = tf.Summary(value=[
      tf.Summary.Value(tag='eval/top1_accuracy',
                       simple_value=results['top1_accuracy']),
      tf.Summary.Value(tag='eval/top5_accuracy',
                       simple_value=results['top5_accuracy'])])
  with tf.Graph().as_default():  # The v1 writer needs graph mode.
    writer = tf.summary.FileWriter(config.eval_dir)
    writer.add_summary(summary, results['global_step'])
    writer.close()
  return path


def check_config(config):
  """The checks every evaluation makes before it reads any data."""
  config_lib.check_finite(config)
  nets_factory.check_name(config.model_name)
  nets_factory.check_image_size(config.eval_image_size, 'eval_image_size',
                                config.model_name)
  precision_lib.check_precision(config.precision)
  performance.check_threads(config.intra_op_threads, 'intra_op_threads')
  performance.check_threads(config.inter_op_threads, 'inter_op_threads')


def evaluate(config, log_fn=None):
  """Evaluates once, or every new checkpoint when eval_interval_secs is set.

  A TensorFlow Lite model (`config.tflite_model`) is evaluated by
  `slim_resnets.serving.tflite_lib.evaluate` instead, on the same split
  with the same preprocessing and scoring; the eval script picks the one
  that applies.

  Returns:
    The results dict of the last evaluated checkpoint (None when none came
    before the timeout); it is also written to
    `<eval_dir>/eval_results.json` and as summaries.
  """
  log = log_fn or tf.logging.info
  if config.tflite_model:
    raise ValueError(
        'tflite_model=%r: TFLite models are evaluated by '
        'slim_resnets.serving.tflite_lib.evaluate.' % config.tflite_model)
  check_config(config)
  split = dataset_factory.get_split(config.dataset_name,
                                    config.dataset_split_name,
                                    config.dataset_dir,
                                    task=dataset_factory.CLASSIFICATION)
  if config.eval_interval_secs:
    paths = tf.train.checkpoints_iterator(
        config.checkpoint_path, min_interval_secs=config.eval_interval_secs,
        timeout=config.eval_timeout_secs)
  else:
    paths = [checkpoints.resolve_checkpoint(config.checkpoint_path)]
  results = None
  for path in paths:
    start = time.time()
    results = evaluate_checkpoint(config, path, split)
    results['seconds'] = time.time() - start
    out = write_results(config, results)
    log('%s (step %d): top-1 %.4f, top-5 %.4f over %d examples; wrote %s'
        % (path, results['global_step'], results['top1_accuracy'],
           results['top5_accuracy'], results['num_examples'], out))
  return results
