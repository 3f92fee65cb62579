"""Tests of `resnet_utils.compat`, the import hook behind slim.batch_norm.

The hook changes process-wide import state (`sys.meta_path`, `sys.modules`),
and the pytest process has already imported `nets` through conftest.py. So
every scenario here runs in a fresh interpreter: one small script per
scenario prints a JSON dict of observations, and the tests assert on those.
All scripts are started together (two cores, ~3-5 s of TensorFlow import
each) and their results are shared by the tests of this module.
"""

import json
import os
import subprocess
import sys
import textwrap

import pytest

# Marks the one stdout line that carries a script's observations, so that
# anything else a library prints cannot break the parsing.
# Every test here starts Python processes that load TensorFlow.
pytestmark = pytest.mark.slow

_RESULT_PREFIX = 'COMPAT_TEST_RESULT='
_TIMEOUT_S = 120

# Shared by the scripts: report a dict and exit.
_PRELUDE = textwrap.dedent('''
    import importlib
    import json
    import sys

    def report(res):
      print(%r + json.dumps(res))

    def import_outcome(name):
      """(exception type name, ModuleNotFoundError.name or message)."""
      try:
        importlib.import_module(name)
      except ModuleNotFoundError as e:
        return ['ModuleNotFoundError', e.name]
      except Exception as e:  # pylint: disable=broad-except
        return [type(e).__name__, str(e)]
      return ['imported', None]
''' % _RESULT_PREFIX)

# slim.batch_norm on stock TensorFlow + tf-keras, without our package.
_BASELINE_SCRIPT = _PRELUDE + textwrap.dedent('''
    import tensorflow.compat.v1 as tf
    import tf_slim as slim

    res = {'error_type': None, 'error_message': None}
    with tf.Graph().as_default():
      try:
        slim.batch_norm(tf.zeros([2, 3, 3, 2]), is_training=True)
      except Exception as e:  # pylint: disable=broad-except
        res['error_type'] = type(e).__name__
        res['error_message'] = str(e)
    res['package_imported'] = 'resnet_utils' in sys.modules
    report(res)
''')

# A user's own slim.batch_norm after importing PACKAGE (nets or
# resnet_utils), plus everything the hook must leave unchanged.
_FIXED_SCRIPT_TEMPLATE = _PRELUDE + textwrap.dedent('''
    import numpy as np
    import tensorflow.compat.v1 as tf
    import tf_slim as slim

    import PACKAGE  # The import under test.
    from resnet_utils import compat

    def hook_count():
      return sum(isinstance(f, compat.LegacyLayersAliasFinder)
                 for f in sys.meta_path)

    res = {}
    res['eager_after_import'] = tf.executing_eagerly()
    res['hook_count'] = hook_count()
    res['hook_is_last'] = isinstance(sys.meta_path[-1],
                                     compat.LegacyLayersAliasFinder)
    res['is_installed'] = compat.is_installed()

    # Channels with very different means and scales, so that a
    # normalization over the wrong axes would show.
    rng = np.random.RandomState(0)
    data = (rng.randn(4, 3, 3, 2) * [2.0, 0.5] + [3.0, -1.0]).astype(
        np.float32)
    epsilon, decay = 1e-3, 0.9
    graph = tf.Graph()
    with graph.as_default():
      x = tf.placeholder(tf.float32, data.shape)
      y = slim.batch_norm(x, decay=decay, epsilon=epsilon, scale=True,
                          is_training=True, scope='user_bn')
      res['variables'] = sorted(v.op.name for v in tf.global_variables())
      moving_mean_var, = [v for v in tf.global_variables()
                          if v.op.name == 'user_bn/moving_mean']
      update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
      res['update_op_names'] = [op.name for op in update_ops]
      with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        out, _ = sess.run([y, update_ops], {x: data})
        moving_mean = sess.run(moving_mean_var)
    mean = data.mean(axis=(0, 1, 2))
    var = data.var(axis=(0, 1, 2))
    expected = (data - mean) / np.sqrt(var + epsilon)
    res['out_channel_mean'] = out.mean(axis=(0, 1, 2)).tolist()
    res['out_channel_var'] = out.var(axis=(0, 1, 2)).tolist()
    res['max_abs_err_vs_numpy'] = float(np.abs(out - expected).max())
    res['moving_mean'] = moving_mean.tolist()
    res['expected_moving_mean'] = ((1 - decay) * mean).tolist()
    res['eager_after_graph'] = tf.executing_eagerly()

    res['missing_sibling'] = import_outcome(
        'tf_keras.legacy_tf_layers_does_not_exist')
    res['missing_child'] = import_outcome('tf_keras.legacy_tf_layers.nope')

    import tf_keras.legacy_tf_layers.normalization as alias_module
    import tf_keras.src.legacy_tf_layers.normalization as real_module
    from tensorflow.python.layers import normalization as tf_layers_norm
    res['alias_is_real_module'] = alias_module is real_module
    res['alias_module_name'] = alias_module.__name__
    res['tf_layer_class_is_real_class'] = (
        tf_layers_norm.BatchNormalization is real_module.BatchNormalization)

    def build_error(build):
      with tf.Graph().as_default():
        try:
          build()
        except Exception as e:  # pylint: disable=broad-except
          return '%s: %s' % (type(e).__name__, e)
      return None

    # Other slim.batch_norm code paths: in-place updates, and [batch, C]
    # inputs (e.g. after a fully connected layer).
    res['in_place_updates_error'] = build_error(lambda: slim.batch_norm(
        tf.zeros([2, 3, 3, 2]), updates_collections=None, is_training=True))
    res['rank2_error'] = build_error(lambda: slim.batch_norm(
        tf.zeros([4, 3]), is_training=True))

    compat.install()
    compat.install()
    res['hook_count_after_reinstall'] = hook_count()
    report(res)
''')

# tf-keras not installed: a finder in front of everything refuses it.
_NO_TF_KERAS_SCRIPT = _PRELUDE + textwrap.dedent('''
    import importlib.abc

    class HideTfKeras(importlib.abc.MetaPathFinder):
      """Behaves as if the tf_keras distribution were not installed."""

      def find_spec(self, fullname, path=None, target=None):
        if fullname == 'tf_keras' or fullname.startswith('tf_keras.'):
          raise ModuleNotFoundError(
              'No module named %r (hidden by test)' % fullname, name=fullname)
        return None

    sys.meta_path.insert(0, HideTfKeras())
    res = {'tf_keras_preloaded': any(
        m == 'tf_keras' or m.startswith('tf_keras.') for m in sys.modules)}
    try:
      import nets  # noqa: F401
    except BaseException as e:  # pylint: disable=broad-except
      cls = type(e)
      res['error_type'] = cls.__name__
      res['error_module'] = cls.__module__
      res['is_import_error'] = issubclass(cls, ImportError)
      compat = sys.modules.get('resnet_utils.compat')
      res['is_missing_tf_keras_error'] = bool(
          compat is not None and cls is compat.MissingTfKerasError)
      res['error_message'] = str(e)
    else:
      res['error_type'] = None
    report(res)
''')

_SCRIPTS = {
    'baseline': _BASELINE_SCRIPT,
    'after_nets': _FIXED_SCRIPT_TEMPLATE.replace('PACKAGE', 'nets'),
    'after_resnet_utils': _FIXED_SCRIPT_TEMPLATE.replace(
        'PACKAGE', 'resnet_utils'),
    'no_tf_keras': _NO_TF_KERAS_SCRIPT,
}


@pytest.fixture(scope='module')
def results():
  """Runs every scenario script concurrently; maps name -> observations."""
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2')
  cwd = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  procs = {
      name: subprocess.Popen(
          [sys.executable, '-c', code], stdout=subprocess.PIPE,
          stderr=subprocess.PIPE, text=True, env=env, cwd=cwd)
      for name, code in _SCRIPTS.items()
  }
  parsed = {}
  try:
    for name, proc in procs.items():
      stdout, stderr = proc.communicate(timeout=_TIMEOUT_S)
      lines = [line for line in stdout.splitlines()
               if line.startswith(_RESULT_PREFIX)]
      assert proc.returncode == 0 and lines, (
          'scenario %r failed (rc=%s):\n%s' % (name, proc.returncode,
                                              stderr[-3000:]))
      parsed[name] = json.loads(lines[-1][len(_RESULT_PREFIX):])
  finally:
    for proc in procs.values():
      if proc.poll() is None:
        proc.kill()
        proc.communicate()
  return parsed


FIXED_SCENARIOS = pytest.mark.parametrize(
    'scenario', ['after_nets', 'after_resnet_utils'])


def test_stock_slim_batch_norm_fails_without_the_fix(results):
  """Pins the problem the hook exists for: without it batch_norm can't build."""
  res = results['baseline']
  assert not res['package_imported']
  if res['error_type'] is None:
    pytest.skip('slim.batch_norm works natively with this TensorFlow/tf-keras '
                'pair; the compat hook is not needed here.')
  assert res['error_type'] == 'ModuleNotFoundError'
  assert 'tf_keras.legacy_tf_layers' in res['error_message']


@FIXED_SCENARIOS
def test_user_batch_norm_creates_its_variables_under_its_scope(
    results, scenario):
  """The fix is for the user's own slim code too, not only for our nets."""
  res = results[scenario]
  assert res['variables'] == sorted([
      'user_bn/beta', 'user_bn/gamma', 'user_bn/moving_mean',
      'user_bn/moving_variance'])


@FIXED_SCENARIOS
def test_user_batch_norm_normalizes_each_channel_in_training_mode(
    results, scenario):
  """Real numerics, not just graph construction: compare with numpy."""
  res = results[scenario]
  assert res['max_abs_err_vs_numpy'] < 1e-4
  for mean, var in zip(res['out_channel_mean'], res['out_channel_var']):
    assert abs(mean) < 1e-4
    assert abs(var - 1.0) < 1e-2  # var / (var + epsilon), epsilon = 1e-3.


@FIXED_SCENARIOS
def test_user_batch_norm_update_ops_land_in_update_ops_and_apply_decay(
    results, scenario):
  """The moving statistics are updated via UPDATE_OPS, with the given decay."""
  res = results[scenario]
  assert res['update_op_names']
  assert all(n.startswith('user_bn/') for n in res['update_op_names'])
  assert res['moving_mean'] == pytest.approx(res['expected_moving_mean'],
                                             abs=1e-5)


@FIXED_SCENARIOS
def test_import_leaves_eager_execution_on(results, scenario):
  """The fix must not switch TensorFlow into graph mode globally."""
  res = results[scenario]
  assert res['eager_after_import'] is True
  assert res['eager_after_graph'] is True


@FIXED_SCENARIOS
def test_hook_is_appended_last_to_meta_path(results, scenario):
  """Python's normal import machinery keeps the first try for every name."""
  res = results[scenario]
  assert res['is_installed'] is True
  assert res['hook_count'] == 1
  assert res['hook_is_last'] is True


@FIXED_SCENARIOS
def test_unrelated_missing_modules_still_raise_module_not_found(
    results, scenario):
  """The hook answers only for names that really exist under tf_keras.src."""
  res = results[scenario]
  assert res['missing_sibling'] == [
      'ModuleNotFoundError', 'tf_keras.legacy_tf_layers_does_not_exist']
  assert res['missing_child'] == [
      'ModuleNotFoundError', 'tf_keras.legacy_tf_layers.nope']


@FIXED_SCENARIOS
def test_aliased_submodule_is_the_shipped_module_object(results, scenario):
  """One module, one set of classes: isinstance checks must see no difference.

  compat.py promises that both names refer to one module object. The module
  TensorFlow's lazy loader asks for (and hence the BatchNormalization class
  behind slim.batch_norm) must be tf-keras' own.
  """
  res = results[scenario]
  assert res['alias_is_real_module'] is True, res['alias_module_name']
  assert res['tf_layer_class_is_real_class'] is True


@FIXED_SCENARIOS
def test_user_batch_norm_builds_with_in_place_updates_and_rank_2_inputs(
    results, scenario):
  """compat.py says nothing else in tf-slim's layer stack is affected."""
  res = results[scenario]
  assert res['in_place_updates_error'] is None, res['in_place_updates_error']
  assert res['rank2_error'] is None, res['rank2_error']


@FIXED_SCENARIOS
def test_install_is_idempotent(results, scenario):
  """Calling install() again (e.g. from both packages) keeps a single hook."""
  assert results[scenario]['hook_count_after_reinstall'] == 1


def test_missing_tf_keras_raises_import_error_with_install_hint(results):
  """Without tf-keras, importing nets fails early with an actionable message."""
  res = results['no_tf_keras']
  assert not res['tf_keras_preloaded']  # Otherwise the simulation is void.
  assert res['error_type'] == 'MissingTfKerasError'
  assert res['error_module'] == 'resnet_utils.compat'
  assert res['is_missing_tf_keras_error'] is True
  assert res['is_import_error'] is True
  assert 'tf-keras' in res['error_message']
  assert 'pip install tf-keras' in res['error_message']
