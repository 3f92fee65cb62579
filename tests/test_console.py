"""Tests of `slim_resnets.console` and the scripts' errors, exit codes, noise.

The scripts run for real, in subprocesses started together by one fixture
(each pays TensorFlow's start-up), in an environment without
TF_CPP_MIN_LOG_LEVEL, as a user's shell would be. The convention under
test: 2 for a refused flag or setting, 3 for unusable data, 128 + signal
for a stopped run (test_train_lib), one `error:` line that names the cause
and the fix, a traceback only with --verbosity=debug, and no TensorFlow
start-up lines on the console.
"""

import os
import shutil
import sys

from absl import flags
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from nets import nets_factory
from slim_resnets import console
from slim_resnets.datasets import dataset_factory
from slim_resnets.training import checkpoints
from slim_resnets.training import cli
from slim_resnets.training import config as config_lib
from slim_resnets.training import train_lib

import digits_run
import subprocesses

_TRAIN = os.path.join(subprocesses.ROOT, 'train_image_classifier.py')
_EVAL = os.path.join(subprocesses.ROOT, 'eval_image_classifier.py')
_CLASSIFY = os.path.join(subprocesses.ROOT, 'classify_image.py')
# What TensorFlow prints at start-up, which the scripts keep off the console.
_STARTUP_NOISE = ('absl::InitializeLog', 'oneDNN custom operations',
                  'cuda drivers', 'cuInit', 'cpu_feature_guard')


def _truncate_a_train_shard(dataset_dir):
  split = dataset_factory.get_split('digits', 'train', dataset_dir)
  shard = split.files[-1]
  with open(shard, 'rb') as f:
    data = f.read()
  with open(shard, 'wb') as f:
    f.write(data[:len(data) // 2])
  return shard


@pytest.fixture(scope='module')
def runs(tmp_path_factory, digits, trained):
  """{case: (exit code, output, details)} of the scripts' runs."""
  root = tmp_path_factory.mktemp('console')
  damaged = str(root / 'damaged')
  shutil.copytree(digits, damaged)
  shard = _truncate_a_train_shard(damaged)

  def train(name, dataset_dir=digits, **overrides):
    config = digits_run.tiny_config(root / name, dataset_dir, **overrides)
    return [sys.executable, _TRAIN] + config_lib.to_flags(config)

  cases = {
      'truncated': (train('truncated', damaged, max_number_of_steps=200,
                          batch_size=64), {'shard': shard, 'dir': damaged}),
      'nan_flag': (train('nan_flag') + ['--learning_rate=nan'], {}),
      'tiny_image': (train('tiny_image', train_image_size=1), {}),
      'diverges': (train('diverges', learning_rate=1e30,
                         max_number_of_steps=20), {}),
      'positional': (train('positional') + ['extra'], {}),
      'debug': (train('debug', train_image_size=2) + ['--verbosity=debug'],
                {}),
      'trains': (train('trains', max_number_of_steps=2), {}),
      'wrong_model': ([sys.executable, _EVAL, '--checkpoint_path=' + trained[0],
                       '--eval_dir=%s' % (root / 'eval'),
                       '--dataset_dir=' + digits,
                       '--model_name=resnet_v2_cifar_110',
                       '--preprocessing_name=cifarnet',
                       '--eval_image_size=%d' % digits_run.SIZE], {}),
  }
  cases['help'] = ([sys.executable, _TRAIN, '--help'], {})
  cases['unknown_flag'] = ([sys.executable, _TRAIN, '--learning_rat=0.1'], {})
  cases['eval_from_the_run'] = ([
      sys.executable, _EVAL, '--checkpoint_path=' + trained[0],
      '--eval_dir=%s' % (root / 'eval_from_the_run')], {})
  image = _digit_png(root / 'digit.png')
  cases['classify_train_dir'] = ([
      sys.executable, _CLASSIFY, '--checkpoint_path=' + trained[0],
      '--images=%s' % image, '--top_k=3'], {'image': image})
  env = {k: v for k, v in os.environ.items() if k != 'TF_CPP_MIN_LOG_LEVEL'}
  results = subprocesses.run_together(
      *[command for command, _ in cases.values()], env=env)
  return {case: (code, output, details) for (case, (_, details)), (
      code, output) in zip(cases.items(), results)}


def _digit_png(path):
  """Writes the first of scikit-learn's digits (a 0) as an 8x8 gray PNG."""
  from PIL import Image  # pylint: disable=g-import-not-at-top
  from sklearn import datasets  # pylint: disable=g-import-not-at-top
  digits = datasets.load_digits()
  assert digits.target[0] == 0
  Image.fromarray((digits.images[0] * 16).clip(0, 255).astype(np.uint8)).save(
      path)
  return str(path)


def _errors(output):
  return [line for line in output.splitlines() if line.startswith('error: ')]


def _one_error(output):
  errors = _errors(output)
  assert len(errors) == 1, output[-3000:]
  return errors[0]


@pytest.mark.slow
def test_truncated_shard_names_the_file_and_the_check(runs):
  code, output, details = runs['truncated']
  assert code == console.DATA_ERROR, output[-3000:]
  error = _one_error(output)
  assert details['shard'] in error
  assert 'truncated or damaged' in error
  assert cli.verify_command('digits', details['dir']) in error
  assert 'Traceback' not in output


@pytest.mark.slow
def test_non_finite_float_flag_is_refused_up_front(runs):
  code, output, _ = runs['nan_flag']
  assert code == console.USAGE_ERROR, output[-3000:]
  assert _one_error(output).startswith(
      'error: flag --learning_rate=nan: must be a finite number')
  assert 'step' not in output  # refused before anything trained


@pytest.mark.slow
def test_image_size_below_the_total_stride_is_refused(runs):
  code, output, _ = runs['tiny_image']
  assert code == console.USAGE_ERROR, output[-3000:]
  assert _one_error(output) == (
      'error: train_image_size must be an integer >= 4 or None (pixels; '
      'resnet_v1_cifar_20 has a total stride of 4); got 1.')


@pytest.mark.slow
def test_nan_loss_names_the_step_and_the_learning_rate(runs):
  code, output, _ = runs['diverges']
  assert code == console.USAGE_ERROR, output[-3000:]
  error = _one_error(output)
  assert 'the loss became NaN at step ' in error
  assert '--learning_rate=1e+30' in error
  assert 'Traceback' not in output


@pytest.mark.slow
def test_positional_arguments_are_refused(runs):
  code, output, _ = runs['positional']
  assert code == console.USAGE_ERROR
  assert _one_error(output).startswith('error: unexpected arguments: extra')


@pytest.mark.slow
def test_help_is_success_and_an_unknown_flag_a_usage_error(runs):
  code, output, _ = runs['help']
  assert code == console.OK, output[-3000:]
  assert 'Trains an image classifier' in output and '--helpfull' in output
  code, output, _ = runs['unknown_flag']
  assert code == console.USAGE_ERROR, output[-3000:]
  error = _one_error(output)
  assert error.startswith("error: Unknown command line flag 'learning_rat'. "
                          'Did you mean: learning_rate')
  assert error.endswith('(--helpfull lists the flags).')


@pytest.mark.slow
def test_debug_verbosity_adds_the_traceback_and_tensorflows_lines(runs):
  code, output, _ = runs['debug']
  assert code == console.USAGE_ERROR
  assert 'Traceback' in output
  assert _one_error(output).startswith(
      'error: train_image_size must be an integer >= 4')
  assert any(noise in output for noise in _STARTUP_NOISE), output[:3000]


@pytest.mark.slow
def test_a_run_prints_no_tensorflow_start_up_lines(runs):
  code, output, _ = runs['trains']
  assert code == console.OK, output[-3000:]
  assert output.rstrip().splitlines()[-1].startswith(
      'Finished at global step 2 ')
  for noise in _STARTUP_NOISE:
    assert noise not in output
  assert 'is deprecated' not in output
  for name in ('truncated', 'nan_flag', 'tiny_image', 'positional'):
    for noise in _STARTUP_NOISE:
      assert noise not in runs[name][1], name


@pytest.mark.slow
def test_eval_of_another_nets_checkpoint_names_it(runs):
  """Missing and unexpected variables, the net it is, only eval's flags."""
  code, output, _ = runs['wrong_model']
  assert code == console.DATA_ERROR, output[-3000:]
  assert len(_errors(output)) == 1, output[-3000:]
  assert 'missing from the checkpoint (' in output
  assert 'in the checkpoint but not in the model (' in output
  assert ('This checkpoint looks like %s (its variables are under %s/): pass '
          '--model_name=%s.' % ((digits_run.MODEL,) * 3)) in output
  assert output.rstrip().endswith(checkpoints.RESTORE_HINT)
  assert '--ignore_missing_vars' not in output
  assert 'Traceback' not in output


@pytest.mark.slow
def test_eval_takes_the_runs_settings_from_its_train_dir(runs):
  """Only --checkpoint_path and --eval_dir: the rest from run_settings."""
  code, output, _ = runs['eval_from_the_run']
  assert code == console.OK, output[-3000:]
  assert ('--model_name=%s --preprocessing_name=cifarnet --eval_image_size=%d '
          '--num_classes=10 --labels_offset=0 --dataset_name=digits'
          % (digits_run.MODEL, digits_run.SIZE)) in output
  assert '"top1_accuracy"' in output


@pytest.mark.slow
def test_classify_takes_a_train_dir_of_any_net(runs):
  """The quick start's kind of net, from a train dir, on a PNG of a 0."""
  code, output, details = runs['classify_train_dir']
  assert code == console.OK, output[-3000:]
  assert '--model_name=%s' % digits_run.MODEL in output
  predicted = [line for line in output.splitlines()
               if line.startswith(details['image'] + ': ')]
  assert len(predicted) == 1, output[-3000:]
  classes = [int(item.split(' ')[0])
             for item in predicted[0].split(': ', 1)[1].split(', ')]
  assert len(classes) == 3 and len(set(classes)) == 3
  assert all(0 <= c < 10 for c in classes)


# The same rules in process, where no script is needed.


def test_interrupted_status_is_128_plus_the_signal():
  assert console.interrupted_status(2) == 130
  assert console.interrupted_status(15) == 143


def test_verbosity_takes_names_and_numbers():
  values = flags.FlagValues()
  flags.DEFINE_integer('verbosity', -1, 'absl\'s own flag', flag_values=values)
  console._accept_verbosity_names(values)  # pylint: disable=protected-access
  values(['prog', '--verbosity=debug'])
  assert values.verbosity == 1
  values(['prog', '--verbosity=-2'])
  assert values.verbosity == -2
  with pytest.raises(flags.IllegalFlagValueError,
                     match='integer or one of debug, info, warning, error'):
    values(['prog', '--verbosity=loud'])


@pytest.mark.parametrize('field,value', [
    ('learning_rate', float('nan')), ('weight_decay', float('inf')),
    ('moving_average_decay', float('-inf'))])
def test_check_finite_names_the_field(tmp_path, field, value):
  config = digits_run.tiny_config(tmp_path, str(tmp_path), **{field: value})
  with pytest.raises(ValueError, match='^%s must be a finite number; got'
                     % field):
    config_lib.check_finite(config)
  with pytest.raises(ValueError, match=field):
    train_lib.check_config(config)


def test_finite_flags_accept_ordinary_values():
  values = flags.FlagValues()
  config_lib.define_flags(config_lib.TrainConfig, flags, flag_values=values)
  values(['prog', '--learning_rate=0.5', '--weight_decay=0'])
  assert values.learning_rate == 0.5
  with pytest.raises(flags.IllegalFlagValueError, match='finite'):
    values(['prog', '--weight_decay=inf'])


@pytest.mark.parametrize('name,stride', [
    ('resnet_v1_cifar_20', 4), ('resnet_v2_50', 32), ('resnet_v1_18', 32),
    ('resnet_v2_101_beta', 32)])
def test_total_stride_and_image_size_check(name, stride):
  assert nets_factory.total_stride(name) == stride
  nets_factory.check_image_size(stride, 'image_size', name)
  nets_factory.check_image_size(None, 'image_size', name)
  with pytest.raises(ValueError, match='image_size must be an integer >= %d'
                     % stride):
    nets_factory.check_image_size(stride - 1, 'image_size', name)


def test_divergence_is_a_training_diverged_error(tmp_path, digits):
  config = digits_run.tiny_config(tmp_path / 'train', digits,
                                  learning_rate=1e30, max_number_of_steps=20)
  with pytest.raises(train_lib.TrainingDivergedError,
                     match=r'NaN at step \d+ of the run in .*'
                     r'--learning_rate=1e\+30 \(fixed decay\)'):
    train_lib.train(config)


def test_damaged_record_message_finds_the_file(tmp_path, digits):
  damaged = str(tmp_path / 'damaged')
  shutil.copytree(digits, damaged)
  shard = _truncate_a_train_shard(damaged)
  error = tf.errors.DataLossError(None, None, 'truncated record at 110452')
  message = cli._damaged_input(  # pylint: disable=protected-access
      error, ('digits', 'train', damaged))
  assert message.startswith(shard + ': record ')
  assert cli.verify_command('digits', damaged) in message
  # A split that reads fine still gets the command to check every split.
  message = cli._damaged_input(  # pylint: disable=protected-access
      error, ('digits', 'validation', damaged))
  assert 'truncated record at 110452' in message
  assert cli.verify_command('digits', damaged) in message
