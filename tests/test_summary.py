"""Tests of `nets.summary`: the layer table behind the registry's numbers.

The pinned parameter and multiply-add counts of `nets.nets_factory` are only
as good as the summary that measured them, so here its numbers are recomputed
independently: variables counted in a separate build of the same net, and
every convolution's multiply-adds worked out from its weight and output
shapes (H_out * W_out * C_out * kh * kw * C_in). The command line, which is
how the numbers were produced, is run in a subprocess.
"""

import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
import tf_slim as slim

from nets import nets_factory
from nets import resnet_v1
from nets import resnet_v2
from nets import summary
from resnet_utils import graph_building

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CIFAR = 'resnet_v1_cifar_20'
CIFAR_CLASSES = 10


def _size(variable):
  return int(np.prod(variable.get_shape().as_list()))


def _conv_mult_adds(weights_shape, output_shape):
  """H_out * W_out * C_out * kh * kw * C_in of one convolution, batch 1."""
  kh, kw, c_in, c_out = weights_shape
  _, h_out, w_out, c_out_of_output = output_shape
  assert c_out_of_output == c_out
  return h_out * w_out * c_out * kh * kw * c_in


def _rows_by_name(rows):
  return {row.name: row for row in rows}


@pytest.fixture(scope='module')
def cifar_summary():
  """summarize() of resnet_v1_cifar_20 at its default 32x32."""
  return summary.summarize(CIFAR)


@pytest.fixture(scope='module')
def cifar_build():
  """An independent build of resnet_v1_cifar_20: end points and variables."""
  graph = tf.Graph()
  with graph.as_default(), graph_building.fast_graph_building():
    images = tf.placeholder(tf.float32, [1, 32, 32, 3])
    with slim.arg_scope(resnet_v1.resnet_arg_scope()):
      _, end_points = resnet_v1.resnet_v1_cifar_20(images,
                                                   num_classes=CIFAR_CLASSES)
    trainable = tf.trainable_variables()
    variables = tf.global_variables()
  return {'end_points': end_points, 'trainable': trainable,
          'variables': variables,
          'shapes': {v.op.name: v.get_shape().as_list() for v in variables}}


# ---------------------------------------------------------------------------
# summarize() on resnet_v1_cifar_20.


def test_rows_follow_end_point_order(cifar_summary, cifar_build):
  """Every end point has a row, in the order the network created them."""
  end_points = cifar_build['end_points']
  names = [row.name for row in cifar_summary.rows]
  assert len(names) == len(set(names))
  assert set(names) >= set(end_points)
  assert [n for n in names if n in end_points] == list(end_points)
  assert names[0] == CIFAR + '/conv1'
  assert names[-1] == 'predictions'


def test_output_shapes_are_those_of_the_end_points(cifar_summary,
                                                   cifar_build):
  end_points = cifar_build['end_points']
  for row in cifar_summary.rows:
    assert row.shape == end_points[row.name].get_shape().as_list(), row.name
  rows = _rows_by_name(cifar_summary.rows)
  assert rows[CIFAR + '/block3'].shape == [1, 8, 8, 64]


def test_params_sum_to_the_trainable_variables(cifar_summary, cifar_build):
  """The parameter column adds up to what the net really creates.

  The running total is cumulative, its last value is the summary's trainable
  count, and both equal the variables counted in an independent build (and
  the registry's pinned number).
  """
  rows = cifar_summary.rows
  created = sum(_size(v) for v in cifar_build['trainable'])
  assert list(np.cumsum([r.params for r in rows])) == [r.total_params
                                                       for r in rows]
  assert rows[-1].total_params == sum(r.params for r in rows)
  assert rows[-1].total_params == cifar_summary.trainable_params == created
  assert created == nets_factory.get_model_info(CIFAR).params


def test_non_trainable_params_are_the_moving_statistics(cifar_summary,
                                                        cifar_build):
  """Batch norm's moving mean and variance, and nothing else, are counted."""
  moving = [v for v in cifar_build['variables']
            if v.op.name.endswith(('/moving_mean', '/moving_variance'))]
  known = {v.op.name for v in cifar_build['trainable'] + moving}
  others = [v for v in cifar_build['variables'] if v.op.name not in known]
  assert moving and not others
  assert cifar_summary.non_trainable_params == sum(_size(v) for v in moving)
  # Every convolution but the logits has a batch norm (21: conv1, two per
  # unit for 9 units, 2 projection shortcuts), each with a mean and a
  # variance per output channel.
  channels = sum(shape[-1] for name, shape in cifar_build['shapes'].items()
                 if name.endswith('/weights') and 'logits' not in name)
  assert cifar_summary.non_trainable_params == 2 * channels


def test_conv_rows_params_and_mult_adds(cifar_summary, cifar_build):
  """Each convolution's row holds its weights, norm or biases, and its cost.

  Multiply-adds are recomputed from the weight shape and the output shape of
  the built end point; rows that are not convolutions cost nothing, and the
  recomputed costs add up to the summary's total.
  """
  shapes = cifar_build['shapes']
  end_points = cifar_build['end_points']
  checked = []
  for row in cifar_summary.rows:
    weights = shapes.get(row.name + '/weights')
    if weights is None:
      assert row.mult_adds == 0, row.name
      assert row.params == 0, row.name
      continue
    output = end_points[row.name].get_shape().as_list()
    assert row.mult_adds == _conv_mult_adds(weights, output), row.name
    own = sum(int(np.prod(s)) for n, s in shapes.items()
              if n.startswith(row.name + '/') and 'moving_' not in n)
    assert row.params == own, row.name
    checked.append(row)
  assert len(checked) == 19 + 2 + 1  # Convs with norm, shortcuts, logits.
  assert sum(r.mult_adds for r in checked) == cifar_summary.mult_adds
  rows = _rows_by_name(cifar_summary.rows)
  # A stride-2 conv: its cost is counted at its 16x16 output.
  strided = rows[CIFAR + '/block1/unit_3/basic_block_v1/conv2']
  assert strided.shape == [1, 16, 16, 16]
  assert strided.mult_adds == 16 * 16 * 16 * 3 * 3 * 16
  assert strided.params == 3 * 3 * 16 * 16 + 2 * 16  # gamma and beta.
  # The logits: a 1x1 conv on the pooled 64 channels, with biases.
  logits = rows[CIFAR + '/logits']
  assert logits.mult_adds == 64 * CIFAR_CLASSES
  assert logits.params == 64 * CIFAR_CLASSES + CIFAR_CLASSES


def test_summary_fields(cifar_summary):
  info = nets_factory.get_model_info(CIFAR)
  assert cifar_summary.model_name == CIFAR
  assert cifar_summary.image_size == info.default_image_size == 32
  assert cifar_summary.mult_adds == info.mult_adds


# ---------------------------------------------------------------------------
# Variables that belong to no end point.

# A small pre-activation net: root 4, then 2 * 2 * 2 * 1. Rows: (scope,
# base_depth, num_units, stride of the last unit).
TINY_BLOCKS = (
    ('block1', 4, 2, 2),
    ('block2', 8, 1, 2),
    ('block3', 8, 1, 2),
    ('block4', 16, 1, 1),
)


@pytest.fixture(scope='module')
def tiny_v2():
  """A tiny v2 net with 5 classes and its table from `table_from_graph`."""
  graph = tf.Graph()
  with graph.as_default(), graph_building.fast_graph_building():
    images = tf.placeholder(tf.float32, [1, 64, 64, 3])
    blocks = [resnet_v2.resnet_v2_block(scope, base_depth=depth,
                                        num_units=units, stride=stride)
              for scope, depth, units, stride in TINY_BLOCKS]
    with slim.arg_scope(resnet_v2.resnet_arg_scope()):
      _, end_points = resnet_v2.resnet_v2(images, blocks, num_classes=5,
                                          scope='tiny')
    trainable = tf.trainable_variables()
  rows, params, non_trainable, mult_adds = summary.table_from_graph(
      graph, end_points)
  return {'end_points': end_points, 'trainable': trainable, 'rows': rows,
          'params': params, 'non_trainable': non_trainable,
          'mult_adds': mult_adds}


def test_postnorm_gets_its_own_row(tiny_v2):
  """V2's final batch norm is no end point but still shows up, in place.

  Its gamma and beta get a row named after their scope, between the last
  block and the pooling, so that the parameter column stays complete.
  """
  names = [row.name for row in tiny_v2['rows']]
  assert 'tiny/postnorm' not in tiny_v2['end_points']
  assert 'tiny/postnorm' in names
  assert names.index('tiny/postnorm') == names.index('tiny/block4') + 1
  assert names.index('tiny/postnorm') == names.index('global_pool') - 1
  postnorm = tiny_v2['rows'][names.index('tiny/postnorm')]
  channels = 4 * TINY_BLOCKS[-1][1]
  assert postnorm.params == 2 * channels
  assert postnorm.shape is None
  assert postnorm.mult_adds == 0


def test_v2_rows_cover_every_variable(tiny_v2):
  """Unit rows hold their `preact` norm; the root conv has biases, no norm."""
  rows = _rows_by_name(tiny_v2['rows'])
  created = sum(_size(v) for v in tiny_v2['trainable'])
  assert tiny_v2['params'] == created == sum(r.params for r in rows.values())
  assert rows['tiny/conv1'].params == 7 * 7 * 3 * 64 + 64
  # block1/unit_1 normalizes the root's 64 channels; unit_2 the 16 of unit_1.
  assert rows['tiny/block1/unit_1/bottleneck_v2'].params == 2 * 64
  assert rows['tiny/block1/unit_2/bottleneck_v2'].params == 2 * 16
  assert tiny_v2['mult_adds'] == sum(r.mult_adds for r in rows.values())


# ---------------------------------------------------------------------------
# Options.


def test_output_stride_keeps_block4_dense():
  """output_stride=8 at 64x64 puts blocks 2-4 and the logits at 8x8.

  The parameters do not change, and an atrous conv costs what the nominal
  one costs per output, so block4's convs cost (8 * 8) / (2 * 2) = 16 times
  the nominal net's at 64x64.
  """
  dense = summary.summarize('resnet_v1_18', image_size=64, output_stride=8,
                            global_pool=False)
  nominal = summary.summarize('resnet_v1_18', image_size=64)
  dense_rows = _rows_by_name(dense.rows)
  nominal_rows = _rows_by_name(nominal.rows)
  assert dense.image_size == 64
  assert dense.trainable_params == nominal.trainable_params
  assert 'global_pool' not in dense_rows and 'global_pool' in nominal_rows
  block4 = [n for n in dense_rows if n.startswith('resnet_v1_18/block4')]
  # 2 units of conv1, conv2 and the unit, the projection shortcut, the block.
  assert len(block4) == 2 * 3 + 1 + 1
  for name in block4:
    assert dense_rows[name].shape[1:3] == [8, 8], name
    assert nominal_rows[name].shape[1:3] == [2, 2], name
    assert dense_rows[name].mult_adds == 16 * nominal_rows[name].mult_adds
  conv = dense_rows['resnet_v1_18/block4/unit_2/basic_block_v1/conv2']
  assert conv.mult_adds == 8 * 8 * 512 * 3 * 3 * 512
  assert dense_rows['resnet_v1_18/block2'].shape == [1, 8, 8, 128]
  assert dense_rows['resnet_v1_18/logits'].shape == [1, 8, 8, 1000]
  assert dense_rows['resnet_v1_18/logits'].mult_adds == 8 * 8 * 512 * 1000


def test_image_size_scales_shapes_and_mult_adds(cifar_summary):
  """At 64x64 every map is twice as wide and every conv costs 4 times more.

  Except the logits, which see the globally pooled features either way.
  """
  large = summary.summarize(CIFAR, image_size=64)
  assert large.image_size == 64
  assert large.trainable_params == cifar_summary.trainable_params
  small_rows = _rows_by_name(cifar_summary.rows)
  logits = CIFAR + '/logits'
  for row in large.rows:
    small = small_rows[row.name]
    if row.name == logits:
      assert row.mult_adds == small.mult_adds
    else:
      assert row.mult_adds == 4 * small.mult_adds, row.name
    if len(row.shape) == 4 and row.shape[1] != 1:
      assert row.shape[1:3] == [2 * small.shape[1], 2 * small.shape[2]]
  logit_cost = small_rows[logits].mult_adds
  assert (large.mult_adds - logit_cost ==
          4 * (cifar_summary.mult_adds - logit_cost))


# ---------------------------------------------------------------------------
# The command line.


def _run_cli(*args):
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2')
  return subprocess.run([sys.executable, '-m', 'nets.summary'] + list(args),
                        cwd=REPO_ROOT, env=env, capture_output=True,
                        text=True, timeout=600, check=False)


def _table(stdout):
  """(name, shape) of each table row between the two rule lines."""
  lines = stdout.splitlines()
  rules = [i for i, line in enumerate(lines) if line and set(line) == {'-'}]
  assert len(rules) == 2, stdout
  return [tuple(line.split()[:2]) for line in lines[rules[0] + 1:rules[1]]]


@pytest.mark.slow
def test_cli_prints_the_table(cifar_summary):
  """`python -m nets.summary NAME` prints the table with comma'd totals."""
  result = _run_cli(CIFAR)
  assert result.returncode == 0, result.stderr
  info = nets_factory.get_model_info(CIFAR)
  params = '{:,}'.format(info.params)
  assert params == '272,474'
  lines = result.stdout.splitlines()
  assert lines[0] == '%s at 32x32' % CIFAR
  header = lines[1].split()
  assert header[:2] == ['end', 'point']
  assert 'mult-adds' in header and 'params' in header
  last_row = [line for line in lines if line.startswith('predictions')]
  assert len(last_row) == 1 and last_row[0].split()[-2] == params
  totals = {line.split(':')[0]: line.split(':')[1].split()[0]
            for line in lines if ':' in line}
  assert totals['trainable params'] == params
  assert totals['non-trainable params'] == '{:,}'.format(
      cifar_summary.non_trainable_params)
  assert totals['total params'] == '{:,}'.format(
      info.params + cifar_summary.non_trainable_params)
  assert totals['mult-adds per image'] == '{:,}'.format(info.mult_adds)
  assert [name for name, _ in _table(result.stdout)] == [
      row.name for row in cifar_summary.rows]
  assert result.stdout.strip() == summary.format_summary(
      cifar_summary).strip()


@pytest.mark.slow
def test_cli_honors_image_size_and_output_stride():
  result = _run_cli('resnet_v1_18', '--image_size', '64', '--output_stride',
                    '8')
  assert result.returncode == 0, result.stderr
  assert result.stdout.splitlines()[0] == 'resnet_v1_18 at 64x64'
  shapes = dict(_table(result.stdout))
  assert shapes['resnet_v1_18/conv1'] == '32x32x64'
  assert shapes['resnet_v1_18/block4'] == '8x8x512'
  assert shapes['global_pool'] == '1x1x512'


@pytest.mark.slow
def test_cli_unknown_model_lists_names():
  result = _run_cli('resnet_v3_50')
  assert result.returncode != 0
  assert 'trainable params' not in result.stdout
  assert 'resnet_v3_50' in result.stderr
  for name in nets_factory.networks_map:
    assert name in result.stderr


@pytest.mark.slow
def test_cli_without_model_is_a_usage_error():
  result = _run_cli()
  assert result.returncode != 0
  assert 'trainable params' not in result.stdout
  assert 'MODEL_NAME' in result.stderr
  for name in nets_factory.networks_map:
    assert name in result.stderr
