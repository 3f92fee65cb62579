"""Tests of `slim_resnets.training.train_lib` and train_image_classifier.py.

Everything trains resnet_v1_cifar_20 on the scikit-learn digits (converted
once per session) upsampled to 12x12, so a run is a few seconds, most of it
building the graph. (At their native 8x8 the recipe's random shifts of up
to 4 pixels leave too little for 60 steps to learn beyond chance.) One
longer run (`shared`) is checked for what training should leave behind: a
falling loss, a checkpoint at exactly max_number_of_steps, summaries, moved
batch norm statistics and weight averages; eval and export tests reuse it.
Short runs of their own check stopping on signals (the script in a
subprocess) and resuming exactly, fine-tuning from a checkpoint with
another head, and that every bad argument fails before anything is
written, leaving an existing train_dir byte for byte as it was.
"""

import dataclasses
import glob
import os
import re
import shutil
import signal
import sys
import time

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from nets import nets_factory
from slim_resnets import console
from slim_resnets.datasets import errors
from slim_resnets.training import checkpoints
from slim_resnets.training import config as config_lib
from slim_resnets.training import train_lib

import digits_run
import subprocesses

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_SCRIPT = os.path.join(_ROOT, 'train_image_classifier.py')
_MODEL = digits_run.MODEL
_LOGITS = _MODEL + '/logits'
_CONV = _MODEL + '/block1/unit_1/basic_block_v1/conv1/weights'
_BN_MEAN = _MODEL + '/conv1/BatchNorm/moving_mean'
_SHARED_STEPS = digits_run.SHARED_STEPS
_tiny_config = digits_run.tiny_config
_shared_rate = digits_run.shared_rate


@pytest.fixture(scope='module')
def shared(shared_run):
  return shared_run


def _tensors(path):
  """{name: value} of every tensor in checkpoint `path`."""
  reader = tf.train.load_checkpoint(path)
  return {name: reader.get_tensor(name)
          for name in reader.get_variable_to_shape_map()}


def _snapshot(directory):
  """{relative path: bytes} of every file under `directory` (None if absent)."""
  if not os.path.exists(directory):
    return None
  files = {}
  for parent, dirs, names in os.walk(directory):
    for name in dirs + names:
      path = os.path.join(parent, name)
      rel = os.path.relpath(path, directory)
      if os.path.isdir(path):
        files[rel + '/'] = None
      else:
        with open(path, 'rb') as f:
          files[rel] = f.read()
  return files


def _prefilled_train_dir(path, shared_config):
  """A train_dir holding notes.txt and a copy of the shared final checkpoint."""
  os.makedirs(path)
  with open(os.path.join(path, 'notes.txt'), 'w') as f:
    f.write('my notes: do not lose these\n')
  prefix = tf.train.latest_checkpoint(shared_config.train_dir)
  for name in glob.glob(prefix + '.*'):
    shutil.copy(name, path)
  with open(os.path.join(path, 'checkpoint'), 'w') as f:
    f.write('model_checkpoint_path: "%s"\n' % os.path.basename(prefix))
  return str(path)


# The shared run.


def test_loss_falls_and_rate_follows_schedule(shared):
  """The logged loss falls clearly over 60 steps of real training.

  The log lines come every 2 steps or more and carry the learning rate of
  the polynomial schedule at their step.
  """
  _, result = shared
  history = result['history']
  steps = [h[0] for h in history]
  assert len(steps) >= 25
  assert all(b - a >= 2 for a, b in zip(steps, steps[1:]))
  assert steps[-1] <= _SHARED_STEPS
  losses = np.array([h[1] for h in history])
  assert np.isfinite(losses).all()
  early, late = losses[:6].mean(), losses[-6:].mean()
  assert late < early - 0.3, losses
  for step, _, rate, _ in history:
    # The logged step may be read just before or after its own increment.
    assert (_shared_rate(step + 1) - 1e-6 <= rate <=
            _shared_rate(step - 1) + 1e-6), (step, rate)
  assert history[-1][2] < history[0][2] / 3
  assert all(h[3] > 0 for h in history)  # images per second
  assert result['stop_signal'] is None


def test_checkpoint_at_max_steps(shared):
  config, result = shared
  assert result['global_step'] == _SHARED_STEPS
  latest = tf.train.latest_checkpoint(config.train_dir)
  assert latest == os.path.join(config.train_dir,
                                'model.ckpt-%d' % _SHARED_STEPS)
  assert checkpoints.checkpoint_step(latest) == _SHARED_STEPS


def _summary_tags(train_dir):
  tags = set()
  events = glob.glob(os.path.join(train_dir, 'events.out.tfevents.*'))
  assert events
  for path in events:
    for event in tf.train.summary_iterator(path):
      tags.update(v.tag for v in event.summary.value)
  return tags


def test_summaries_written(shared):
  """Loss, learning rate, accuracy and input images reach TensorBoard."""
  config, _ = shared
  tags = _summary_tags(config.train_dir)
  assert {'losses/cross_entropy', 'losses/total_loss', 'learning_rate',
          'images/image/0', 'images/image/1', 'images/image/2'} <= tags
  assert any('train_accuracy' in t for t in tags), tags


def test_accuracy_summary_tag_is_train_accuracy(shared):
  config, _ = shared
  assert 'train_accuracy' in _summary_tags(config.train_dir)


def test_batch_norm_statistics_move(shared):
  """Moving means start at 0 and are updated by the training steps."""
  config, _ = shared
  start = _tensors(os.path.join(config.train_dir, 'model.ckpt-0'))
  end = _tensors(tf.train.latest_checkpoint(config.train_dir))
  np.testing.assert_array_equal(start[_BN_MEAN], 0.0)
  assert np.abs(end[_BN_MEAN]).max() > 1e-3
  variance = _BN_MEAN.replace('moving_mean', 'moving_variance')
  assert np.abs(end[variance] - start[variance]).max() > 1e-3


def test_moving_average_shadows_in_checkpoint(shared):
  """With moving_average_decay every model variable has a distinct shadow."""
  config, _ = shared
  tensors = _tensors(tf.train.latest_checkpoint(config.train_dir))
  suffix = '/ExponentialMovingAverage'
  model_vars = [n for n in tensors if n.startswith(_MODEL) and
                not n.endswith('/Momentum') and not n.endswith(suffix)]
  assert len(model_vars) > 100
  for name in model_vars:
    assert name + suffix in tensors, name
    assert tensors[name + suffix].shape == tensors[name].shape
  assert not np.allclose(tensors[_CONV + suffix], tensors[_CONV])
  assert not np.allclose(tensors[_BN_MEAN + suffix], tensors[_BN_MEAN])


# Resuming and stopping.


def test_fresh_run_with_zero_steps_does_not_train(tmp_path, digits):
  config = _tiny_config(tmp_path / 'train', digits, max_number_of_steps=0)
  result = train_lib.train(config)
  assert result.global_step == 0


class _ScriptRun(subprocesses.Watched):
  """train_image_classifier.py running in the background."""

  def __init__(self, args):
    super().__init__([sys.executable, _SCRIPT] + args)

  def logged_steps(self):
    return [int(m) for m in re.findall(r'step (\d+): loss', self.output)]

  def reached_step(self, step):
    """Whether a log line reports a step >= `step`; raises if it exited."""
    if any(s >= step for s in self.logged_steps()):
      return True
    if self.process.poll() is not None:
      raise AssertionError('training exited early (%s):\n%s'
                           % (self.process.returncode, self.output))
    return False


_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@pytest.fixture(scope='module')
def interrupted(tmp_path_factory, digits):
  """{signal: (config, exit code, output, logged steps)} of stopped runs.

  One run per signal, started together to share the start-up time; each is
  signalled once it has logged a few steps.
  """
  runs = {}
  try:
    for signum in _SIGNALS:
      config = _tiny_config(
          tmp_path_factory.mktemp('stopped') / 'train', digits,
          max_number_of_steps=100000)
      runs[signum] = (config, _ScriptRun(config_lib.to_flags(config)))
    # Watched together: each is signalled as soon as it has logged step 3,
    # however far apart the two start (a run waiting its turn would train
    # on meanwhile).
    waiting = dict(runs)
    deadline = time.time() + 240
    while waiting:
      for signum, (_, run) in list(waiting.items()):
        if run.reached_step(3):
          run.process.send_signal(signum)
          del waiting[signum]
      assert time.time() < deadline, 'no step 3 logged in 240 s: %s' % {
          s: r.output for s, (_, r) in waiting.items()}
      time.sleep(0.05)
    results = {}
    for signum, (config, run) in runs.items():
      code = run.wait(timeout=120)
      results[signum] = (config, code, run.output, run.logged_steps())
    return results
  finally:
    for _, run in runs.values():
      run.kill()


@pytest.mark.slow
@pytest.mark.parametrize('signum', _SIGNALS, ids=['SIGINT', 'SIGTERM'])
def test_signal_stops_with_checkpoint_at_current_step(signum, interrupted):
  """SIGINT / SIGTERM end the run cleanly, saving the step it stopped at.

  The exit status says it was stopped (128 + the signal, as shells report
  it), so `train && export` does not go on with a half-trained model; the
  last line says how to go on and never claims the run finished.
  """
  config, code, output, logged = interrupted[signum]
  assert code == 128 + signum, output
  assert 'Received signal %d' % signum in output
  assert 'Traceback' not in output
  latest = tf.train.latest_checkpoint(config.train_dir)
  step = checkpoints.checkpoint_step(latest)
  assert latest == os.path.join(config.train_dir, 'model.ckpt-%d' % step)
  assert 3 <= max(logged) <= step < 1000
  assert 'Finished' not in output
  assert output.rstrip().splitlines()[-1] == (
      'Stopped at step %d by signal %d; run the same command again to '
      'resume from %s.' % (step, signum, config.train_dir))


@pytest.mark.slow
def test_resume_after_signal_continues_exactly(interrupted):
  """Running again continues from the saved step with the saved state.

  The checkpoint saver writes the state a session starts from: that the
  resumed run's checkpoint at the stop step equals the stopped run's,
  optimizer slots included, shows it began from exactly that state. A
  further run whose max_number_of_steps is already reached changes nothing.
  """
  config, _, _, _ = interrupted[signal.SIGINT]
  latest = tf.train.latest_checkpoint(config.train_dir)
  step = checkpoints.checkpoint_step(latest)
  saved = _tensors(latest)
  assert any(n.endswith('/Momentum') for n in saved)
  written = os.stat(latest + '.index').st_mtime_ns

  resumed = dataclasses.replace(config, max_number_of_steps=step + 3)
  result = train_lib.train(resumed)
  assert result.global_step == step + 3
  assert result.stop_signal is None
  logged = [h[0] for h in result.history]
  assert logged and step < logged[0] <= step + 2 and logged[-1] <= step + 3
  assert tf.train.latest_checkpoint(config.train_dir).endswith(
      'model.ckpt-%d' % (step + 3))
  assert os.stat(latest + '.index').st_mtime_ns != written  # saved anew
  restarted = _tensors(latest)
  assert restarted.keys() == saved.keys()
  for name, value in saved.items():
    np.testing.assert_array_equal(restarted[name], value, err_msg=name)
  final = _tensors(tf.train.latest_checkpoint(config.train_dir))
  assert not np.array_equal(final[_CONV], saved[_CONV])

  before = _snapshot(config.train_dir)
  again = train_lib.train(resumed)
  assert again.global_step == step + 3 and again.history == []
  assert _snapshot(config.train_dir) == before


# Fine-tuning.


@pytest.fixture(scope='module')
def imagenet_like(tmp_path_factory):
  """(directory, {name: value}) of a 1001-class resnet_v1_cifar_20 checkpoint.

  Every value is moved away from its initializer's distribution (x * 3 +
  0.25), so that a restored value cannot be mistaken for a fresh one.
  """
  directory = str(tmp_path_factory.mktemp('imagenet_like'))
  with tf.Graph().as_default():
    network_fn = nets_factory.get_network_fn(_MODEL, num_classes=1001,
                                             is_training=True)
    network_fn(tf.zeros([2, 8, 8, 3]))
    tf.train.get_or_create_global_step()
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      sess.run([v.assign(v * 3 + 0.25) for v in tf.model_variables()])
      tf.train.Saver().save(sess, os.path.join(directory, 'model.ckpt'),
                            global_step=12345)
  values = _tensors(tf.train.latest_checkpoint(directory))
  assert values[_LOGITS + '/weights'].shape == (1, 1, 64, 1001)
  return directory, values


def test_fine_tune_replaces_head_and_trains_only_it(tmp_path, digits,
                                                    imagenet_like):
  """Body restored from a 1001-class checkpoint; only the new head trains.

  The step-0 checkpoint is the state right after initialization: everything
  but the excluded logits equals the source. After three steps restricted
  to the logits scope the body's weights are still the source's, the new
  10-class head has moved, and batch norm statistics kept updating.
  """
  directory, source = imagenet_like
  config = _tiny_config(tmp_path / 'train', digits, max_number_of_steps=3,
                        checkpoint_path=directory,
                        checkpoint_exclude_scopes=_LOGITS,
                        trainable_scopes=_LOGITS)
  result = train_lib.train(config)
  assert result.global_step == 3  # not the source's 12345
  start = _tensors(os.path.join(config.train_dir, 'model.ckpt-0'))
  end = _tensors(os.path.join(config.train_dir, 'model.ckpt-3'))
  body = [n for n in source if n.startswith(_MODEL) and
          not n.startswith(_LOGITS)]
  assert len(body) > 100
  for name in body:
    np.testing.assert_array_equal(start[name], source[name], err_msg=name)
  for name in body:
    if 'moving_' not in name:
      np.testing.assert_array_equal(end[name], source[name], err_msg=name)
  assert not np.array_equal(end[_BN_MEAN], source[_BN_MEAN])
  assert start[_LOGITS + '/weights'].shape == (1, 1, 64, 10)
  assert end[_LOGITS + '/biases'].shape == (10,)
  assert not np.array_equal(end[_LOGITS + '/weights'],
                            start[_LOGITS + '/weights'])
  assert not any(n.startswith(_MODEL + '/conv1/weights/') for n in end)


def test_fine_tune_restores_the_model_not_the_optimizer(tmp_path, digits,
                                                       trained):
  """Another optimizer than the source run's: its slots start afresh.

  The shared run trained with momentum; restoring it into an Adam run takes
  the model's variables (batch norm statistics included) and neither the
  momentum slots (this run has none) nor the global step.
  """
  source_dir, source_path = trained
  source = _tensors(source_path)
  assert any(n.endswith('/Momentum') for n in source)
  config = _tiny_config(tmp_path / 'train', digits, max_number_of_steps=1,
                        optimizer='adam', checkpoint_path=source_dir)
  assert train_lib.train(config).global_step == 1
  start = _tensors(os.path.join(config.train_dir, 'model.ckpt-0'))
  slots = [n for n in start if n.endswith(('/Adam', '/Adam_1'))]
  assert slots and not any(np.any(start[n]) for n in slots)
  model = [n for n in start if n.startswith(_MODEL) and n not in slots]
  assert _BN_MEAN in model and _CONV in model
  for name in model:
    np.testing.assert_array_equal(start[name], source[name], err_msg=name)
  assert not any(n.endswith('/Momentum') for n in start)


def test_fine_tune_without_exclusion_lists_head(tmp_path, digits,
                                                imagenet_like):
  """The 1001-way head does not fit: both shapes named, train_dir untouched."""
  directory, _ = imagenet_like
  train_dir = tmp_path / 'train'
  train_dir.mkdir()
  (train_dir / 'notes.txt').write_text('keep me')
  before = _snapshot(str(train_dir))
  config = _tiny_config(train_dir, digits, checkpoint_path=directory)
  with pytest.raises(checkpoints.CheckpointMismatchError) as info:
    train_lib.train(config)
  message = str(info.value)
  assert ('%s/weights: model [1, 1, 64, 10], checkpoint [1, 1, 64, 1001]'
          % _LOGITS) in message
  assert '%s/biases: model [10], checkpoint [1001]' % _LOGITS in message
  assert 'checkpoint_exclude_scopes' in message
  assert _snapshot(str(train_dir)) == before


# Bad input: fails before anything is written.

_MISSING = '/nonexistent/digits'

_BAD = {
    'model': (dict(model_name='resnet_v9_20'), ValueError,
              r"model_name='resnet_v9_20' is unknown; known networks: "
              r'resnet_v1_101'),
    'dataset': (dict(dataset_name='mnist'), errors.UnknownDatasetError,
                r"'mnist' is unknown; known datasets are: digits"),
    'optimizer': (dict(optimizer='sgdm'), ValueError,
                  r"optimizer must be one of adadelta, .*sgd; got 'sgdm'"),
    'decay': (dict(learning_rate_decay_type='cosine'), ValueError,
              r'learning_rate_decay_type must be one of exponential, fixed, '
              r"polynomial; got 'cosine'"),
    'dataset_dir': (dict(dataset_dir=_MISSING), errors.DatasetNotFoundError,
                    r"dataset directory '%s' does not exist" % _MISSING),
    'size0': (dict(train_image_size=0), ValueError,
              r'train_image_size must be an integer >= 4 or None \(pixels; '
              r'resnet_v1_cifar_20 has a total stride of 4\); got 0'),
    'size-3': (dict(train_image_size=-3), ValueError,
               r'train_image_size must be an integer >= 4 .*got -3'),
    'batch0': (dict(batch_size=0), ValueError,
               r'batch_size must be a positive integer; got 0'),
    'steps-1': (dict(max_number_of_steps=-1), ValueError,
                r'max_number_of_steps must be a non-negative integer or None; '
                r'got -1'),
    'precision': (dict(precision='half'), ValueError,
                  r"precision must be one of float32, float16, bfloat16; "
                  r"got 'half'"),
    'loss_scale_f32': (dict(loss_scale=128.0), ValueError,
                       r'loss_scale.*float16'),
    'loss_scale0': (dict(precision='float16', loss_scale=0.0), ValueError,
                    r'loss_scale must be'),
    'threads': (dict(intra_op_threads=-1), ValueError,
                r'intra_op_threads must be a non-negative integer '
                r'\(0 lets TensorFlow '
                r'choose\); got -1'),
}


@pytest.mark.parametrize('case', sorted(_BAD))
def test_bad_argument_leaves_train_dir_untouched(case, tmp_path, digits,
                                                 shared):
  """Each mistake raises with a message naming it; train_dir is unchanged."""
  overrides, error, pattern = _BAD[case]
  train_dir = _prefilled_train_dir(tmp_path / 'train', shared[0])
  before = _snapshot(train_dir)
  config = dataclasses.replace(_tiny_config(train_dir, digits), **overrides)
  with pytest.raises(error, match=pattern):
    train_lib.train(config)
  assert _snapshot(train_dir) == before


def test_bad_argument_creates_no_train_dir(tmp_path, digits):
  train_dir = tmp_path / 'new' / 'train'
  with pytest.raises(ValueError, match='model_name'):
    train_lib.train(_tiny_config(train_dir, digits, model_name='nope'))
  assert not (tmp_path / 'new').exists()


def test_train_dir_that_is_a_file(tmp_path, digits):
  path = tmp_path / 'train'
  path.write_text('not a directory')
  with pytest.raises(ValueError, match='exists and is not a directory'):
    train_lib.train(_tiny_config(path, digits))
  assert path.read_text() == 'not a directory'


def test_train_dir_of_another_model_is_refused(tmp_path, digits, shared):
  """Resuming a train_dir of resnet_v1_cifar_20 as a 32-layer net fails.

  The message names train_dir and the variables the checkpoint lacks, and
  nothing in train_dir changes.
  """
  train_dir = _prefilled_train_dir(tmp_path / 'train', shared[0])
  before = _snapshot(train_dir)
  config = _tiny_config(train_dir, digits, model_name='resnet_v1_cifar_32',
                        moving_average_decay=0.9, max_number_of_steps=100)
  with pytest.raises(checkpoints.CheckpointMismatchError) as info:
    train_lib.train(config)
  message = str(info.value)
  assert 'train_dir %s already holds checkpoints' % train_dir in message
  assert 'missing from the checkpoint' in message
  assert 'resnet_v1_cifar_32/block1/unit_1/basic_block_v1/conv1/' in message
  assert 'in the checkpoint but not in the model' in message
  assert _CONV in message
  assert 'left untouched' in message
  assert _snapshot(train_dir) == before


# On the command line: "error: ..." and exit status 2, no traceback. One
# case per kind of error the script turns into a message (a bad name, a
# missing directory, a checkpoint that does not fit); each subprocess costs
# seconds of TensorFlow start-up, so the others are only checked above.

# case -> (flags, text of the error, exit code: a refused setting or
# unusable data).
_SCRIPT_BAD = {
    'model': (['--model_name=resnet_v9_20'], 'resnet_v9_20',
              console.USAGE_ERROR),
    'dataset_dir': (['--dataset_dir=' + _MISSING], _MISSING,
                    console.DATA_ERROR),
    'checkpoint': (None, _LOGITS + '/weights: model [1, 1, 64, 10], '
                   'checkpoint [1, 1, 64, 1001]', console.DATA_ERROR),
}


@pytest.fixture(scope='module')
def script_failures(tmp_path_factory, digits, shared, imagenet_like):
  """{case: (exit code, output, train_dir, snapshot before)}, run together."""
  runs = {}
  try:
    for case, (args, _, _) in _SCRIPT_BAD.items():
      root = tmp_path_factory.mktemp('script_' + case)
      if args is None:  # a train_dir without a checkpoint, to fine-tune
        train_dir = root / 'train'
        train_dir.mkdir()
        (train_dir / 'notes.txt').write_text('keep me')
        train_dir = str(train_dir)
        args = ['--checkpoint_path=' + imagenet_like[0]]
      else:
        train_dir = _prefilled_train_dir(root / 'train', shared[0])
      config = _tiny_config(train_dir, digits)
      runs[case] = (train_dir, _snapshot(train_dir),
                    _ScriptRun(config_lib.to_flags(config) + args))
    results = {}
    for case, (train_dir, before, run) in runs.items():
      code = run.wait(timeout=240)
      results[case] = (code, run.output, train_dir, before)
    return results
  finally:
    for _, _, run in runs.values():
      run.kill()


@pytest.mark.slow
@pytest.mark.parametrize('case', sorted(_SCRIPT_BAD))
def test_script_reports_error_with_its_exit_code(case, script_failures):
  code, output, train_dir, before = script_failures[case]
  assert code == _SCRIPT_BAD[case][2], output
  errors_printed = [line for line in output.splitlines()
                    if line.startswith('error: ')]
  assert len(errors_printed) == 1, output
  assert _SCRIPT_BAD[case][1] in output
  assert 'Traceback' not in output
  assert _snapshot(train_dir) == before
