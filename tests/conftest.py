"""Shared fixtures: every test builds its nets in a fresh graph."""

import os

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
# TensorFlow switches its oneDNN CPU kernels on by itself only on processors
# with AVX512-VNNI, AVX512-BF16 or AMX; elsewhere its own kernels run, and
# they refuse NCHW pooling and convolution on the CPU. Asked for explicitly,
# the same kernels run on every x86-64 machine, so the suite (and the
# scripts it starts, which inherit this) tests one configuration whatever
# the CI machine's processor generation.
os.environ.setdefault('TF_ENABLE_ONEDNN_OPTS', '1')

# pylint: disable=g-import-not-at-top,wrong-import-position
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

import nets  # noqa: F401  (installs the tf-slim compatibility fix)
from nets import summary
from resnet_utils import graph_building

import digits_run
import segmentation_run


@pytest.fixture
def graph():
  """A fresh default graph for the duration of one test.

  Built with `graph_building.fast_graph_building` (identity hashing, the
  same graph; test_graph_building checks that), since building nets is most
  of what the suite does.
  """
  g = tf.Graph()
  with g.as_default(), graph_building.fast_graph_building():
    tf.set_random_seed(1234)
    yield g


@pytest.fixture
def rng():
  return np.random.RandomState(0)


@pytest.fixture(scope='session')
def full_depth_net():
  """`full_depth_net(name)` -> nets.summary.Built, each net built once.

  The default-size, reference-class, inference-mode build of a named net
  on a batch of one image. Building the deep nets dominates the suite's
  time, and several test modules look at the same nets (counts in
  test_resnet_v1/v2, parameters and multiply-adds in test_nets_factory,
  shapes and scopes of the variants in test_variants), so each is built
  once per session and shared.
  """
  cache = {}

  def get(name):
    if name not in cache:
      cache[name] = summary.build(name)
    return cache[name]

  return get


@pytest.fixture(scope='session')
def full_depth(full_depth_net):
  """`full_depth(name)` -> nets.summary.Summary of `full_depth_net(name)`."""
  cache = {}

  def get(name):
    if name not in cache:
      cache[name] = summary.summary_of(full_depth_net(name))
    return cache[name]

  return get


# Tests using `full_depth` or `full_depth_net` carry
# @pytest.mark.xdist_group('full_depth'): with `pytest -n 2 --dist loadgroup`
# they all run in one worker, so each deep net is built once per run.


@pytest.fixture(scope='session')
def digits(tmp_path_factory):
  """The digits dataset, converted once per session."""
  from slim_resnets.datasets import convert_digits  # pylint: disable=g-import-not-at-top
  path = tmp_path_factory.mktemp('digits')
  convert_digits.convert(str(path))
  return str(path)


@pytest.fixture(scope='session')
def shared_run(tmp_path_factory, digits):
  """(config, result dict) of `digits_run.shared_config`, trained once."""
  from slim_resnets.training import train_lib  # pylint: disable=g-import-not-at-top
  config = digits_run.shared_config(
      str(tmp_path_factory.mktemp('shared_run') / 'train'), digits)
  return config, train_lib.train(config)._asdict()


@pytest.fixture(scope='session')
def digit_scenes(tmp_path_factory):
  """A few digit scenes (segmentation_run.NUM_TRAIN / NUM_VALIDATION)."""
  from slim_resnets.datasets import convert_digit_scenes  # pylint: disable=g-import-not-at-top
  path = str(tmp_path_factory.mktemp('digit_scenes'))
  convert_digit_scenes.convert(
      path, num_train=segmentation_run.NUM_TRAIN,
      num_validation=segmentation_run.NUM_VALIDATION, seed=1)
  return path


@pytest.fixture(scope='session')
def segmenter(tmp_path_factory, digit_scenes):
  """(config, TrainResult) of `segmentation_run.train_config`, trained once."""
  from slim_resnets.segmentation import train_lib  # pylint: disable=g-import-not-at-top
  config = segmentation_run.train_config(
      tmp_path_factory.mktemp('segmenter') / 'train', digit_scenes)
  return config, train_lib.train(config)


@pytest.fixture(scope='session')
def trained(shared_run):
  """(train_dir, latest checkpoint) of the shared run."""
  config, _ = shared_run
  return config.train_dir, tf.train.latest_checkpoint(config.train_dir)


# The `slow` tier, which `pytest -m "not slow"` (the contributors' quick run)
# leaves out and the README's command runs with everything else: the two
# costly groups below, and every test that starts a Python process loading
# TensorFlow (a script end to end, a clean interpreter), since each such
# process pays several seconds of TensorFlow's start-up, and the one test
# that has XLA compile a whole training step; those tests carry
# @pytest.mark.slow themselves. The two groups are the longest units of
# work, so they are handed out first, in this order (see
# pytest_configure), and run while the other worker goes through the
# modules, instead of starting last with nothing left to run beside them.
SLOW_GROUPS = ('local_cluster', 'full_depth')


def pytest_configure(config):
  # pytest-xdist hands out groups by their number of tests, most first; the
  # cluster group, with few but long tests, would start last. Collection
  # order instead (pytest_collection_modifyitems puts the slow groups first).
  if hasattr(config.option, 'loadscopereorder'):
    config.option.loadscopereorder = False


def _groups(item):
  return {mark.args[0] if mark.args else mark.kwargs.get('name', 'default')
          for mark in item.iter_markers('xdist_group')}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
  """Keeps each test module on one xdist worker; marks the slow tier.

  A test outside the named groups joins its module's group, so a module's
  `scope='module'` fixtures (nets, oracle runs, benchmark reports, scripts
  run once and inspected by several tests) are built once per run, not
  once per worker that happens to receive one of its tests.

  First (tryfirst), so that pytest-xdist's grouping and pytest's own
  `-m "not slow"` see the marks added here; the slow groups go first.
  """
  for item in items:
    groups = _groups(item)
    if not groups:
      item.add_marker(pytest.mark.xdist_group(item.module.__name__))
    elif groups & set(SLOW_GROUPS):
      item.add_marker(pytest.mark.slow)

  def rank(item):
    slow = [SLOW_GROUPS.index(g) for g in _groups(item) if g in SLOW_GROUPS]
    return min(slow, default=len(SLOW_GROUPS))

  items.sort(key=rank)  # Stable: modules keep their order otherwise.


def pytest_collection_finish(session):
  """Refuses to run when pytest-xdist cannot keep a group on one worker.

  `--dist loadgroup` keeps a group together by tagging its node ids
  ('...::test@group') during collection; where it cannot (pytest 9.2 with
  pytest-xdist 3.8), the groups would spread over the workers without a
  word: two clusters of processes at once, or every deep net built twice.
  """
  if not getattr(session.config.option, 'loadgroup', False):
    return
  for item in session.items:
    groups = _groups(item)
    if groups and not item.nodeid.endswith('@' + '_'.join(sorted(groups))):
      raise pytest.UsageError(
          'pytest-xdist cannot keep %s in its group with pytest %s; install '
          'the test extra\'s pins: pip install \'.[test]\'.'
          % (item.nodeid, pytest.__version__))
