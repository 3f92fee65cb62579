"""Helpers shared by the tests that compare our nets with `tf_slim.nets`.

The oracle (slim's own resnet_v1/resnet_v2, used only as a reference) and
our families are built the same way, given the same random weights through
a checkpoint, and run on the same inputs; test_resnet_v1.py,
test_resnet_v2.py and test_variants.py use these helpers for it, and for
counting what a graph holds.
"""

import numpy as np
import tensorflow.compat.v1 as tf
import tf_slim as slim

from resnet_utils import graph_building


def build(lib, fn, *args, **kwargs):
  """Calls a builder of `lib` under `lib`'s own default arg_scope.

  The published models are built under `resnet_arg_scope` (batch norm after
  convolutions, no biases there); without it the names would not match.
  """
  with slim.arg_scope(lib.resnet_arg_scope()):
    return fn(*args, **kwargs)


def shapes(variables):
  """Variable name -> shape."""
  return {v.op.name: v.shape.as_list() for v in variables}


def count_parameters(variables):
  return sum(int(np.prod(v.shape.as_list())) for v in variables)


def graph_size(graph):
  """(number of ops, number of global variables) of `graph`."""
  with graph.as_default():
    return len(graph.get_operations()), len(tf.global_variables())


def initialize_randomly(sess, variables, rng):
  """Initializes every variable with random, non-trivial values.

  Initializers leave biases and beta at 0, gamma and moving_variance at 1
  and moving_mean at 0, which would hide a mix-up of any of them (gamma for
  moving_variance, say). Weights have He scale, except that each
  bottleneck's last convolution is scaled down: with moving statistics that
  do not match the data (inference mode), full size residuals would grow
  the identity path at every unit, and logits in the thousands would make a
  1e-5 tolerance meaningless. The values are fed in place of the
  initializers' outputs, so one run sets all variables and no op is added
  to the graph.
  """
  feed = {}
  for v in variables:
    shape = v.shape.as_list()
    kind = v.op.name.rsplit('/', 1)[-1]
    if kind == 'weights':
      value = rng.normal(0.0, np.sqrt(2.0 / np.prod(shape[:-1])), shape)
      if v.op.name.endswith('/conv3/weights'):
        value *= 0.25
    elif kind in ('gamma', 'moving_variance'):
      value = rng.uniform(0.5, 1.5, shape)
    elif kind in ('biases', 'beta', 'moving_mean'):
      value = rng.normal(0.0, 0.1, shape)
    else:
      raise AssertionError('unexpected variable %s' % v.op.name)
    feed[v.initial_value] = value.astype(np.float32)
  sess.run([v.initializer for v in variables], feed)


def run_against_oracle(ckpt_dir, oracle_lib, our_lib, build_towers, images,
                       seed):
  """Runs the towers of `build_towers` in both libraries on oracle weights.

  The oracle graph gets random weights and moving statistics and saves them;
  our graph restores that checkpoint with a Saver keyed by our own variable
  names, so a missing or renamed variable fails the restore.

  Args:
    ckpt_dir: directory (a pathlib.Path) for the checkpoint.
    oracle_lib: the `tf_slim.nets` module.
    our_lib: our module of the same family.
    build_towers: callable(lib, inputs) -> dict from tower key to
      (net, end_points); towers after the first reuse its variables.
    images: numpy input batch.
    seed: seed of the random weights.

  Returns:
    dict with 'ckpt_names' (names in the checkpoint) and, for 'oracle' and
    'ours', the sorted variable 'names' and the evaluated towers 'outputs'.
  """
  ckpt = str(ckpt_dir / 'oracle.ckpt')
  results = {}
  for name, lib in (('oracle', oracle_lib), ('ours', our_lib)):
    graph = tf.Graph()
    with graph.as_default(), graph_building.fast_graph_building():
      towers = build_towers(lib, tf.constant(images))
      variables = tf.global_variables()
      with tf.Session() as sess:
        if lib is oracle_lib:
          initialize_randomly(sess, variables, np.random.RandomState(seed))
          tf.train.Saver().save(sess, ckpt)
        else:
          saver = tf.train.Saver(var_list={v.op.name: v for v in variables})
          saver.restore(sess, ckpt)
        outputs = sess.run(towers)
    results[name] = {'names': sorted(v.op.name for v in variables),
                     'outputs': outputs}
  results['ckpt_names'] = sorted(n for n, _ in tf.train.list_variables(ckpt))
  return results
