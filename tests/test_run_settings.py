"""Tests of `slim_resnets.training.run_settings`: the record of a run."""

import json
import os
import types

from absl import flags
import pytest

from slim_resnets.training import run_settings
from slim_resnets.training import train_lib

import digits_run

# The flags of an evaluation-like script: the record's other settings
# (preprocessing, labels offset, dataset name) have no flag here.
_RENAMED = {'image_size': 'eval_image_size'}


def _flag_values(argv):
  values = flags.FlagValues()
  flags.DEFINE_string('model_name', 'resnet_v2_50', '', flag_values=values)
  flags.DEFINE_integer('eval_image_size', None, '', flag_values=values)
  flags.DEFINE_integer('num_classes', None, '', flag_values=values)
  flags.DEFINE_string('dataset_dir', None, '', flag_values=values)
  flags.DEFINE_string('checkpoint_path', None, '', flag_values=values)
  values(['prog'] + argv)
  return values


def _record_of_training(config):
  """The record the trainer writes for `config` on the 10 digit classes."""
  return train_lib.ClassificationTask().run_settings(
      config, types.SimpleNamespace(num_classes=10))


def test_the_record_holds_the_resolved_settings(tmp_path):
  config = digits_run.tiny_config(tmp_path, '/data/digits',
                                  preprocessing_name=None,
                                  train_image_size=None)
  record = _record_of_training(config)
  assert record == {
      'model_name': digits_run.MODEL,
      'preprocessing_name': digits_run.MODEL,  # the model's own recipe
      'image_size': 32,  # the CIFAR nets' default
      'num_classes': 10, 'labels_offset': 0, 'dataset_name': 'digits',
      'dataset_dir': '/data/digits'}
  assert set(record) == set(run_settings.SETTINGS)


def test_the_trainer_writes_the_record(shared_run):
  config, _ = shared_run
  with open(os.path.join(config.train_dir, run_settings.FILENAME)) as f:
    record = json.load(f)
  assert record == _record_of_training(config)
  assert run_settings.read(config.train_dir) == record
  checkpoint = os.path.join(config.train_dir, 'model.ckpt-%d'
                            % digits_run.SHARED_STEPS)
  assert run_settings.read(checkpoint) == record


def test_unset_flags_take_the_record_and_set_ones_win(tmp_path):
  run_settings.write(str(tmp_path), {
      'model_name': 'resnet_v1_cifar_20', 'image_size': 16,
      'num_classes': 10, 'dataset_dir': '/data/digits',
      'preprocessing_name': 'cifarnet'})
  values = _flag_values(['--eval_image_size=24'])
  printed = []
  record = run_settings.apply_to_flags(values, str(tmp_path), _RENAMED,
                                       log=printed.append)
  assert record['model_name'] == 'resnet_v1_cifar_20'
  assert values.model_name == 'resnet_v1_cifar_20'
  assert values.num_classes == 10 and values.dataset_dir == '/data/digits'
  assert values.eval_image_size == 24  # given explicitly: it wins
  assert printed == [
      'note: --eval_image_size=24 differs from image_size=16 that the run in '
      '%s was trained with; using --eval_image_size=24.' % tmp_path,
      'Settings of the run in %s: --model_name=resnet_v1_cifar_20 '
      '--num_classes=10 --dataset_dir=/data/digits' % tmp_path]


def test_an_agreeing_flag_is_not_reported(tmp_path):
  run_settings.write(str(tmp_path), {'model_name': 'resnet_v1_cifar_20'})
  values = _flag_values(['--model_name=resnet_v1_cifar_20'])
  printed = []
  run_settings.apply_to_flags(values, str(tmp_path), _RENAMED,
                              log=printed.append)
  assert printed == []


@pytest.mark.parametrize('where', ['empty_dir', 'none', 'published'])
def test_without_a_record_nothing_changes(tmp_path, where):
  path = {'empty_dir': str(tmp_path), 'none': None,
          'published': str(tmp_path / 'resnet_v2_50.ckpt')}[where]
  values = _flag_values([])
  printed = []
  assert run_settings.apply_to_flags(values, path, _RENAMED,
                                     log=printed.append) is None
  assert values.model_name == 'resnet_v2_50' and values.num_classes is None
  assert printed == []


def test_write_replaces_the_record_whole(tmp_path):
  run_settings.write(str(tmp_path), {'model_name': 'a'})
  run_settings.write(str(tmp_path), {'model_name': 'b'})
  assert run_settings.read(str(tmp_path)) == {'model_name': 'b'}
  assert os.listdir(tmp_path) == [run_settings.FILENAME]
