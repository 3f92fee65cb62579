"""Tests of `slim_resnets.training.keras_lib` and fine_tune_keras.py.

A slim checkpoint with another head is fine-tuned on the digits with
Keras's `fit`; the slim checkpoint it writes is then evaluated by the slim
evaluation library (a graph builder restoring it by name), which must find
the accuracy Keras reported on the same validation images.
"""

import dataclasses
import os
import sys

import keras
import pytest
import tensorflow as tf

from nets import checkpoint_fit
from nets import keras_nets
from slim_resnets.training import config as config_lib
from slim_resnets.training import eval_lib
from slim_resnets.training import keras_lib
from slim_resnets.training import run_settings

import digits_run
import subprocesses

MODEL = digits_run.MODEL  # resnet_v1_cifar_20
# The quick start's size: at 12x12 a net learns the digits far more slowly.
IMAGE_SIZE = 16


@pytest.fixture(scope='module')
def source(tmp_path_factory):
  """A slim checkpoint of MODEL with a 3-class head, and no run record."""
  keras.utils.set_random_seed(0)
  model = keras_nets.get_model(MODEL, 3)
  path = str(tmp_path_factory.mktemp('source') / 'model.ckpt')
  return keras_nets.save_slim_checkpoint(model, path)


def _config(source, train_dir, digits, **overrides):
  config = config_lib.KerasFineTuneConfig(
      checkpoint_path=source, train_dir=str(train_dir),
      dataset_name='digits', dataset_dir=digits, model_name=MODEL,
      preprocessing_name='cifarnet', image_size=IMAGE_SIZE,
      checkpoint_exclude_scopes=MODEL + '/logits', random_flip=False,
      epochs=3, batch_size=32, learning_rate=0.05)
  return dataclasses.replace(config, **overrides)


@pytest.fixture(scope='module')
def fine_tuned(source, digits, tmp_path_factory):
  train_dir = tmp_path_factory.mktemp('fine_tuned') / 'run'
  lines = []
  result = keras_lib.fine_tune(_config(source, train_dir, digits),
                               log=lines.append)
  return train_dir, result, lines


def test_fine_tuning_learns_and_reports_each_epoch(fine_tuned):
  _, result, lines = fine_tuned
  # 95% in this configuration; 10 classes: chance is 10%.
  assert result['validation_accuracy'] > 0.6
  assert lines[0].startswith('Fine-tuning resnet_v1_cifar_20 from ')
  assert [line.split(':')[0] for line in lines[1:]] == [
      'epoch 1/3', 'epoch 2/3', 'epoch 3/3']


def test_slim_evaluation_of_the_saved_checkpoint_agrees(fine_tuned, digits,
                                                        tmp_path):
  train_dir, result, _ = fine_tuned
  record = run_settings.read(str(train_dir))
  assert record == {
      'model_name': MODEL, 'preprocessing_name': 'cifarnet',
      'image_size': IMAGE_SIZE, 'num_classes': 10, 'labels_offset': 0,
      'dataset_name': 'digits', 'dataset_dir': digits}
  results = eval_lib.evaluate(config_lib.EvalConfig(
      checkpoint_path=str(train_dir), eval_dir=str(tmp_path),
      dataset_name='digits', dataset_split_name='validation',
      dataset_dir=digits, model_name=MODEL, preprocessing_name='cifarnet',
      eval_image_size=IMAGE_SIZE, batch_size=100),
                              log_fn=lambda msg: None)
  # The same 300 images through the graph builder: the same answers, up to
  # one image whose two top logits are within float32 rounding.
  assert results['num_examples'] == 300
  assert abs(results['top1_accuracy'] - result['validation_accuracy']) <= (
      1 / 300 + 1e-9)


@pytest.mark.slow  # a second fine-tuning run
def test_run_settings_of_the_checkpoints_run_fill_unset_settings(
    fine_tuned, digits, tmp_path):
  train_dir, _, _ = fine_tuned
  # Fine-tune the fine-tuned run again, naming nothing about the net.
  config = _config(str(train_dir), tmp_path / 'again', digits,
                   model_name=None, preprocessing_name=None, image_size=None,
                   checkpoint_exclude_scopes=None, epochs=1)
  lines = []
  result = keras_lib.fine_tune(config, log=lines.append)
  assert result['model_name'] == MODEL
  assert run_settings.read(str(tmp_path / 'again'))['image_size'] == (
      IMAGE_SIZE)


def test_refuses_a_train_dir_that_holds_a_checkpoint(fine_tuned, source,
                                                     digits):
  train_dir, _, _ = fine_tuned
  before = {f: os.path.getmtime(os.path.join(train_dir, f))
            for f in os.listdir(train_dir)}
  with pytest.raises(FileExistsError, match='already holds a checkpoint'):
    keras_lib.fine_tune(_config(source, train_dir, digits))
  assert {f: os.path.getmtime(os.path.join(train_dir, f))
          for f in os.listdir(train_dir)} == before


def test_another_head_without_exclusion_gets_the_report(source, digits,
                                                        tmp_path):
  with pytest.raises(checkpoint_fit.CheckpointMismatchError,
                     match=r'(?s)logits/weights: model \[1, 1, 64, 10\], '
                     r'checkpoint \[1, 1, 64, 3\].*exclude_scopes'):
    keras_lib.fine_tune(_config(source, tmp_path / 'run', digits,
                                checkpoint_exclude_scopes=None))
  assert not tf.io.gfile.exists(str(tmp_path / 'run'))


@pytest.mark.parametrize('overrides, message', [
    (dict(model_name=None), 'model_name: the checkpoint'),
    (dict(image_size=2), 'image_size'),
    (dict(epochs=0), 'epochs'),
    (dict(learning_rate=float('nan')), 'learning_rate'),
    (dict(dataset_dir=''), 'dataset_dir must be given'),
])
def test_bad_settings_name_the_setting(source, digits, tmp_path, overrides,
                                       message):
  with pytest.raises(ValueError, match=message):
    keras_lib.fine_tune(_config(source, tmp_path / 'run', digits,
                                **overrides))


@pytest.mark.slow
def test_script_end_to_end(source, digits, tmp_path):
  script = os.path.join(subprocesses.ROOT, 'fine_tune_keras.py')
  common = ['--checkpoint_path=' + source, '--dataset_dir=' + digits,
            '--model_name=' + MODEL, '--preprocessing_name=cifarnet',
            '--image_size=%d' % IMAGE_SIZE, '--norandom_flip']
  (ok_code, ok_out), (bad_code, bad_out) = subprocesses.run_together(
      [sys.executable, script, '--train_dir=%s' % (tmp_path / 'run'),
       '--epochs=1', '--checkpoint_exclude_scopes=%s/logits' % MODEL]
      + common,
      [sys.executable, script, '--train_dir=%s' % (tmp_path / 'bad'),
       '--epochs=1'] + common)
  assert ok_code == 0, ok_out
  assert 'Validation accuracy' in ok_out.splitlines()[-1]
  assert tf.train.latest_checkpoint(str(tmp_path / 'run'))
  # A checkpoint that does not fit is a data error, reported in one piece.
  assert bad_code == 3, bad_out
  assert 'does not match the model' in bad_out
  assert not os.path.exists(tmp_path / 'bad')
