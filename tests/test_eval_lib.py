"""Tests of `slim_resnets.training.eval_lib`: exact figures on digits.

The checkpoint is the session's shared training run (see test_train_lib).
Every figure `evaluate` reports is recomputed here independently: the
validation images are read as raw pixels, pushed through a network built
here with nets_factory and the evaluation preprocessing, restored by
explicit variable names, and scored with NumPy. Top-1, top-5 and per-class
recall must match exactly.
"""

import dataclasses
import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from nets import nets_factory
from slim_resnets import console
from slim_resnets.datasets import dataset_factory
from slim_resnets.datasets import input_pipeline
from slim_resnets.preprocessing import preprocessing_factory
from slim_resnets.training import checkpoints
from slim_resnets.training import config as config_lib
from slim_resnets.training import eval_lib

import digits_run

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_MODEL = digits_run.MODEL
_SHARED_STEPS = digits_run.SHARED_STEPS
_SIZE = digits_run.SIZE
_EMA = '/ExponentialMovingAverage'


# The independent computation.


@pytest.fixture(scope='module')
def validation(digits):
  """uint8 images [300, 8, 8, 3] and labels, in the order evaluation reads.

  Read without preprocessing: the pipeline then only decodes and casts, so
  the float pixels convert back to uint8 exactly.
  """
  split = dataset_factory.get_split('digits', 'validation', digits)
  with tf.Graph().as_default():
    dataset = input_pipeline.make_dataset(split, batch_size=1000,
                                          is_training=False, num_epochs=1)
    images, labels = tf.data.make_one_shot_iterator(dataset).get_next()
    with tf.Session() as sess:
      images, labels = sess.run([images, labels])
  assert images.shape == (300, 8, 8, 3)
  return images.astype(np.uint8), labels


def _logits(checkpoint, images, moving_averages=False):
  """The network's logits for uint8 `images`, built and restored here.

  The 8x8 digits are resized to the network's 12x12 input by the
  evaluation preprocessing, as in `evaluate`.
  """
  with tf.Graph().as_default():
    inputs = tf.placeholder(tf.uint8, [None, None, None, 3])
    preprocess = preprocessing_factory.get_preprocessing('cifarnet')
    batch = tf.map_fn(lambda image: preprocess(image, _SIZE, _SIZE), inputs,
                      dtype=tf.float32)
    network_fn = nets_factory.get_network_fn(_MODEL, 10)
    logits, _ = network_fn(batch)
    assert set(tf.global_variables()) == set(tf.model_variables())
    names = {v.op.name + (_EMA if moving_averages else ''): v
             for v in tf.model_variables()}
    with tf.Session() as sess:
      tf.train.Saver(names).restore(sess, checkpoint)
      return sess.run(tf.reshape(logits, [-1, 10]), {inputs: images})


def _expected(logits, labels, num_classes=10):
  """top-1, top-5 and per-class recall, computed in NumPy."""
  top5 = np.argsort(-logits, axis=1)[:, :5]
  correct1 = top5[:, 0] == labels
  recall = {c: float(correct1[labels == c].mean())
            for c in range(num_classes) if (labels == c).any()}
  return {'num_examples': len(labels),
          'top1_accuracy': float(correct1.mean()),
          'top5_accuracy': float((top5 == labels[:, None]).any(1).mean()),
          'per_class_recall': recall,
          'mean_per_class_recall': float(np.mean(list(recall.values())))}


def _eval_config(trained, digits, eval_dir, **overrides):
  config = config_lib.EvalConfig(
      checkpoint_path=trained[0], eval_dir=str(eval_dir),
      dataset_name='digits', dataset_split_name='validation',
      dataset_dir=digits, model_name=_MODEL, preprocessing_name='cifarnet',
      eval_image_size=_SIZE, batch_size=64, num_preprocessing_threads=2)
  return dataclasses.replace(config, **overrides)


def _assert_scores(results, expected):
  for key, value in expected.items():
    assert results[key] == value, key


def test_figures_equal_numpy_and_json(trained, digits, validation,
                                      tmp_path):
  """Whole split in batches of 64 (the last one 44): exact figures.

  eval_results.json holds the same numbers (JSON makes the class keys
  strings), and the top-1/top-5 summaries are written for TensorBoard.
  """
  images, labels = validation
  expected = _expected(_logits(trained[1], images), labels)
  # Not a quality bar, only a guard that the comparison means something:
  # a half-trained net predicts several classes and gets some wrong, so
  # recall varies from class to class.
  assert 0.0 < expected['top1_accuracy'] < 1.0
  assert len(set(expected['per_class_recall'].values())) > 2
  results = eval_lib.evaluate(_eval_config(trained, digits, tmp_path))
  _assert_scores(results, expected)
  assert results['num_examples'] == 300
  assert results['top5_k'] == 5
  assert results['global_step'] == _SHARED_STEPS
  assert results['checkpoint'] == trained[1]
  assert results['moving_averages'] is False
  assert results['dataset'] == 'digits/validation'

  with open(tmp_path / 'eval_results.json') as f:
    written = json.load(f)
  assert written['per_class_recall'] == {
      str(c): r for c, r in expected['per_class_recall'].items()}
  for key in ('top1_accuracy', 'top5_accuracy', 'num_examples',
              'global_step', 'mean_per_class_recall', 'checkpoint'):
    assert written[key] == results[key], key
  assert not (tmp_path / 'eval_results.json.tmp').exists()
  summaries = {}
  for path in tmp_path.glob('events.out.tfevents.*'):
    for event in tf.train.summary_iterator(str(path)):
      for value in event.summary.value:
        summaries[value.tag] = (event.step, value.simple_value)
  assert summaries['eval/top1_accuracy'] == (
      _SHARED_STEPS, pytest.approx(expected['top1_accuracy']))
  assert summaries['eval/top5_accuracy'][1] == pytest.approx(
      expected['top5_accuracy'])


def test_moving_averages_use_shadow_variables(trained, digits, validation,
                                              tmp_path):
  """With moving_average_decay the shadows, not the weights, are evaluated."""
  images, labels = validation
  raw = _logits(trained[1], images)
  shadow = _logits(trained[1], images, moving_averages=True)
  assert not np.allclose(raw, shadow, atol=1e-3)
  results = eval_lib.evaluate(_eval_config(trained, digits, tmp_path,
                                           moving_average_decay=0.9))
  _assert_scores(results, _expected(shadow, labels))
  assert results['moving_averages'] is True
  with open(tmp_path / 'eval_results.json') as f:
    assert json.load(f)['moving_averages'] is True


def test_max_num_batches_limits_examples(trained, digits, validation,
                                         tmp_path):
  images, labels = validation
  results = eval_lib.evaluate(_eval_config(
      trained, digits, tmp_path, batch_size=128, max_num_batches=2))
  assert results['num_examples'] == 256
  _assert_scores(results, _expected(_logits(trained[1], images[:256]),
                                    labels[:256]))


def test_labels_offset_shifts_labels(trained, digits, validation, tmp_path):
  """labels_offset=1 scores the same logits against label - 1.

  (With num_classes given, as for a 1000-class net on 1001-label data.)
  """
  images, labels = validation
  results = eval_lib.evaluate(_eval_config(
      trained, digits, tmp_path, labels_offset=1, num_classes=10))
  expected = _expected(_logits(trained[1], images), labels - 1)
  _assert_scores(results, expected)
  assert sorted(results['per_class_recall']) == list(range(9))


def test_eval_loop_evaluates_existing_checkpoint_and_times_out(
    trained, digits, tmp_path):
  """Polling a directory evaluates its latest checkpoint, then gives up."""
  start = time.time()
  results = eval_lib.evaluate(_eval_config(
      trained, digits, tmp_path, eval_interval_secs=1, eval_timeout_secs=1,
      max_num_batches=1))
  assert time.time() - start < 60
  assert results['checkpoint'] == trained[1]
  assert results['global_step'] == _SHARED_STEPS
  assert results['num_examples'] == 64
  assert (tmp_path / 'eval_results.json').exists()


def test_eval_loop_without_checkpoint_returns_none(digits, tmp_path):
  """No checkpoint before the timeout: nothing evaluated, nothing written."""
  empty = tmp_path / 'empty'
  empty.mkdir()
  config = _eval_config((str(empty), None), digits, tmp_path / 'eval',
                        eval_interval_secs=1, eval_timeout_secs=1)
  assert eval_lib.evaluate(config) is None
  assert not (tmp_path / 'eval').exists()


@pytest.mark.slow
def test_eval_script_without_checkpoint_exits_cleanly(digits, tmp_path):
  empty = tmp_path / 'empty'
  empty.mkdir()
  process = subprocess.run(
      [sys.executable, os.path.join(_ROOT, 'eval_image_classifier.py'),
       '--checkpoint_path=%s' % empty, '--eval_dir=%s' % (tmp_path / 'eval'),
       '--dataset_dir=' + digits, '--model_name=' + _MODEL,
       '--eval_interval_secs=1', '--eval_timeout_secs=1'],
      cwd=_ROOT, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2'),
      capture_output=True, text=True, timeout=300)
  output = process.stdout + process.stderr
  assert process.returncode == console.DATA_ERROR, output
  assert ('No checkpoint appeared in %s within --eval_timeout_secs=1'
          % empty) in output
  assert 'Traceback' not in output, output


@pytest.mark.parametrize('overrides,error,pattern', [
    (dict(model_name='resnet_v9'), ValueError, 'resnet_v9.*known networks'),
    (dict(eval_image_size=0), ValueError, 'eval_image_size must be an '
     r'integer >= 4 or None \(pixels; resnet_v1_cifar_20 has a total stride '
     'of 4'),
    (dict(checkpoint_path='/nonexistent/ckpt'), FileNotFoundError,
     '/nonexistent/ckpt does not exist'),
    (dict(dataset_split_name='test'), ValueError,
     "no split 'test'; its splits are: "),
])
def test_bad_arguments(trained, digits, tmp_path, overrides, error, pattern):
  with pytest.raises(error, match=pattern):
    eval_lib.evaluate(_eval_config(trained, digits, tmp_path, **overrides))
  assert not (tmp_path / 'eval_results.json').exists()


def test_resolve_settings_defaults(digits):
  """Digits: classes from the dataset, offset 0, the model's default size."""
  split = dataset_factory.get_split('digits', 'validation', digits)
  config = config_lib.EvalConfig(model_name=_MODEL)
  settings = eval_lib.resolve_settings(config, split)
  assert settings == eval_lib.EvalSettings(
      10, 0, nets_factory.get_model_info(_MODEL).default_image_size)
  with pytest.raises(ValueError, match='labels_offset must be >= 0'):
    eval_lib.resolve_settings(
        dataclasses.replace(config, labels_offset=-1), split)


def test_mismatched_checkpoint_is_refused(trained, digits, tmp_path):
  """A wrong class count: the shapes, and only flags evaluation has."""
  with pytest.raises(checkpoints.CheckpointMismatchError) as raised:
    eval_lib.evaluate(_eval_config(trained, digits, tmp_path,
                                   num_classes=9))
  message = str(raised.value)
  assert 'different shapes (2):' in message  # the logits' weights, biases
  assert '%s/logits/weights: model [1, 1, 64, 9], checkpoint [1, 1, 64, 10]' % (
      _MODEL) in message
  assert message.endswith(checkpoints.RESTORE_HINT)
  assert 'looks like' not in message
  assert '--ignore_missing_vars' not in message
  assert '--checkpoint_exclude_scopes' not in message


def test_checkpoint_of_another_net_is_named(trained, digits, tmp_path):
  """Missing and unexpected variables, and the net the checkpoint is of."""
  with pytest.raises(checkpoints.CheckpointMismatchError) as raised:
    eval_lib.evaluate(_eval_config(trained, digits, tmp_path,
                                   model_name='resnet_v2_cifar_20'))
  message = str(raised.value)
  assert 'missing from the checkpoint (' in message
  assert 'in the checkpoint but not in the model (' in message
  assert ('This checkpoint looks like %s (its variables are under %s/): pass '
          '--model_name=%s.' % (_MODEL, _MODEL, _MODEL)) in message
  # The run's bookkeeping is not reported as the model's.
  assert '/Momentum' not in message and 'global_step' not in message
