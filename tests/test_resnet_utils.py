"""Tests of the shared ResNet machinery in `resnet_utils`.

Every expectation is computed independently: with numpy, or with an
equivalent TensorFlow construction that shares the same variables. Inputs are
tiny so the whole module runs in seconds on a CPU.
"""

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
import tf_slim as slim

import resnet_utils
from resnet_utils import Block
from resnet_utils import checks


def _run(fetches, feed_dict=None):
  """Initializes the default graph's variables and evaluates `fetches`."""
  with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    return sess.run(fetches, feed_dict)


def _var_names():
  return sorted(v.op.name for v in tf.global_variables())


def _no_norm_no_act():
  """arg_scope for plain linear convolutions with random, nonzero biases."""
  return slim.arg_scope(
      [slim.conv2d], activation_fn=None, normalizer_fn=None,
      biases_initializer=tf.random_normal_initializer(stddev=0.5))


# ---------------------------------------------------------------------------
# Module identity and Block.


def test_nets_resnet_utils_is_the_top_level_package():
  """arg_scope keys are functions, so both import paths must be one module."""
  from nets import resnet_utils as via_nets  # pylint: disable=g-import-not-at-top
  assert via_nets is resnet_utils
  assert via_nets.stack_blocks_dense is resnet_utils.stack_blocks_dense


def test_block_is_a_namedtuple_of_scope_unit_fn_args():
  block = Block('block1', len, [{'stride': 2}])
  assert isinstance(block, tuple)
  assert Block._fields == ('scope', 'unit_fn', 'args')
  scope, unit_fn, args = block
  assert (scope, unit_fn, args) == ('block1', len, [{'stride': 2}])
  assert block.scope == 'block1' and block.args[0]['stride'] == 2


# ---------------------------------------------------------------------------
# subsample.


def test_subsample_by_one_returns_the_input_tensor_itself(graph):
  x = tf.placeholder(tf.float32, [1, 4, 4, 1])
  ops_before = len(graph.get_operations())
  assert resnet_utils.subsample(x, 1) is x
  assert len(graph.get_operations()) == ops_before


@pytest.mark.parametrize('factor', [2, 3])
@pytest.mark.parametrize('size', [5, 6, 7])
def test_subsample_keeps_every_factor_th_pixel(graph, rng, factor, size):
  """Rows/columns 0, f, 2f, ...: exactly numpy's x[:, ::f, ::f, :]."""
  data = rng.randn(2, size, size + 1, 3).astype(np.float32)
  out = resnet_utils.subsample(tf.constant(data), factor)
  expected = data[:, ::factor, ::factor, :]
  assert out.get_shape().as_list() == list(expected.shape)
  np.testing.assert_array_equal(_run(out), expected)


# ---------------------------------------------------------------------------
# conv2d_same.


def _conv2d_same_vs_dense(size, kernel_size, rate, rng):
  """Builds conv2d_same (stride 2) and the stride-1 SAME conv on one weight."""
  data = rng.randn(1, size, size, 1).astype(np.float32)
  x = tf.constant(data)
  with _no_norm_no_act():
    strided = resnet_utils.conv2d_same(x, 1, kernel_size, stride=2,
                                       rate=rate, scope='conv')
    dense = slim.conv2d(x, 1, kernel_size, stride=1, rate=rate,
                        padding='SAME', scope='conv', reuse=True)
  return strided, resnet_utils.subsample(dense, 2)


@pytest.mark.parametrize('kernel_size', [3, 7])
@pytest.mark.parametrize('size', [4, 5])
def test_conv2d_same_equals_stride_one_conv_then_subsample(
    graph, rng, size, kernel_size):
  """The sampling grid of a strided conv lines up with the stride-1 conv's."""
  strided, expected = _conv2d_same_vs_dense(size, kernel_size, 1, rng)
  # One set of weights (plus biases) serves both convolutions.
  assert _var_names() == ['conv/biases', 'conv/weights']
  out_size = (size + 1) // 2
  assert strided.get_shape().as_list() == [1, out_size, out_size, 1]
  assert expected.get_shape().as_list() == [1, out_size, out_size, 1]
  strided_v, expected_v = _run([strided, expected])
  np.testing.assert_allclose(strided_v, expected_v, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('kernel_size', [3, 7])
@pytest.mark.parametrize('size', [4, 5])
def test_conv2d_same_atrous_equals_stride_one_atrous_conv_then_subsample(
    graph, rng, size, kernel_size):
  strided, expected = _conv2d_same_vs_dense(size, kernel_size, 2, rng)
  out_size = (size + 1) // 2
  assert strided.get_shape().as_list() == [1, out_size, out_size, 1]
  strided_v, expected_v = _run([strided, expected])
  np.testing.assert_allclose(strided_v, expected_v, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('size, grids_agree', [(4, False), (5, True)])
def test_plain_strided_same_conv_shifts_its_grid_on_even_sizes(
    graph, rng, size, grids_agree):
  """Why conv2d_same exists: TF's SAME pads asymmetrically on even sizes.

  On a 4x4 input a 3x3/2 'SAME' conv pads only bottom/right and samples
  centres 1, 3 instead of 0, 2; on a 5x5 input both paddings agree.
  """
  data = rng.randn(1, size, size, 1).astype(np.float32)
  x = tf.constant(data)
  with _no_norm_no_act():
    same = resnet_utils.conv2d_same(x, 1, 3, stride=2, scope='conv')
    plain = slim.conv2d(x, 1, 3, stride=2, padding='SAME', scope='conv',
                        reuse=True)
  assert same.get_shape().as_list() == plain.get_shape().as_list()
  same_v, plain_v = _run([same, plain])
  assert np.allclose(same_v, plain_v, atol=1e-5) == grids_agree


# ---------------------------------------------------------------------------
# plan_strides and reachable_output_strides: pure arithmetic.


def _blocks_from_strides(*unit_strides):
  """Blocks whose units have the given nominal strides (no unit_fn needed)."""
  return [
      Block('block%d' % (i + 1), None, [{'stride': s} for s in strides])
      for i, strides in enumerate(unit_strides)
  ]


# The shape of a standard ResNet body: stride in the last unit of blocks 1-3.
_RESNET_LIKE = ([1, 2], [1, 2], [1, 2], [1, 1])


def _check_plan_invariants(blocks, plans, output_stride):
  """What any correct plan satisfies, computed from the nominal strides.

  Before every unit, (atrous rate) x (actual accumulated stride) must equal
  the nominal accumulated stride: the kernel then spans the same input
  pixels as in the nominal net. The stack's total stride must be
  output_stride, and a unit may not both stride and dilate.
  """
  nominal, actual = 1, 1
  for strides, plan in zip(resnet_utils.unit_strides(blocks), plans):
    assert len(plan.units) == len(strides)
    for stride, unit in zip(strides, plan.units):
      assert unit.rate * actual == nominal
      assert unit.stride == 1 or unit.rate == 1
      nominal *= stride
      actual *= unit.stride
    actual *= plan.output_subsample
  assert actual == (nominal if output_stride is None else output_stride)


def test_unit_strides_default_to_one():
  blocks = [Block('b', None, [{}, {'stride': 3}, {'depth': 4}])]
  assert resnet_utils.unit_strides(blocks) == [[1, 3, 1]]


@pytest.mark.parametrize('unit_strides, reachable', [
    (_RESNET_LIKE, [1, 2, 4, 8]),
    (([1, 3], [2]), [1, 3, 6]),
    (([2, 2],), [1, 2, 4]),
    (([1], [1, 1]), [1]),
])
def test_reachable_output_strides_are_running_products(unit_strides,
                                                       reachable):
  blocks = _blocks_from_strides(*unit_strides)
  assert resnet_utils.reachable_output_strides(blocks) == reachable


def test_plan_without_output_stride_is_the_nominal_schedule():
  blocks = _blocks_from_strides(*_RESNET_LIKE)
  plans = resnet_utils.plan_strides(blocks)
  assert [[tuple(u) for u in p.units] for p in plans] == [
      [(s, 1) for s in strides] for strides in _RESNET_LIKE]
  assert [p.output_subsample for p in plans] == [1, 1, 1, 1]
  # Asking for the nominal stride explicitly changes nothing.
  assert resnet_utils.plan_strides(blocks, output_stride=8) == plans


def test_plan_output_stride_two_turns_later_strides_into_rates():
  blocks = _blocks_from_strides(*_RESNET_LIKE)
  plans = resnet_utils.plan_strides(blocks, output_stride=2)
  assert [[tuple(u) for u in p.units] for p in plans] == [
      [(1, 1), (2, 1)],   # Still below the target: nominal.
      [(1, 1), (1, 1)],   # Target reached; this block's stride is skipped...
      [(1, 2), (1, 2)],   # ... so later kernels dilate by 2,
      [(1, 4), (1, 4)],   # ... and by 4 after the next skipped stride.
  ]
  assert [p.output_subsample for p in plans] == [1, 1, 1, 1]


@pytest.mark.parametrize('store', [False, True])
@pytest.mark.parametrize('output_stride', [None, 1, 2, 4, 8])
def test_plan_keeps_every_kernel_footprint_and_reaches_output_stride(
    output_stride, store):
  for unit_strides in (_RESNET_LIKE, ([2, 1, 2], [3]), ([1], [2, 2], [1])):
    blocks = _blocks_from_strides(*unit_strides)
    if (output_stride is not None and output_stride
        not in resnet_utils.reachable_output_strides(blocks)):
      continue
    plans = resnet_utils.plan_strides(blocks, output_stride, store)
    _check_plan_invariants(blocks, plans, output_stride)


def test_store_non_strided_activations_moves_last_stride_to_subsample():
  blocks = _blocks_from_strides(*_RESNET_LIKE)
  plans = resnet_utils.plan_strides(blocks,
                                    store_non_strided_activations=True)
  assert [[tuple(u) for u in p.units] for p in plans] == [
      [(1, 1), (1, 1)]] * 4
  assert [p.output_subsample for p in plans] == [2, 2, 2, 1]


def test_store_non_strided_activations_with_output_stride_dilates_instead():
  """Past the target, a deferred stride becomes a rate, not a subsampling."""
  blocks = _blocks_from_strides(*_RESNET_LIKE)
  plans = resnet_utils.plan_strides(blocks, output_stride=2,
                                    store_non_strided_activations=True)
  assert [[tuple(u) for u in p.units] for p in plans] == [
      [(1, 1), (1, 1)], [(1, 1), (1, 1)], [(1, 2), (1, 2)],
      [(1, 4), (1, 4)]]
  assert [p.output_subsample for p in plans] == [2, 1, 1, 1]


@pytest.mark.parametrize('output_stride', [3, 16, 0, -2])
def test_unreachable_output_stride_raises_listing_accepted_values(
    output_stride):
  blocks = _blocks_from_strides(*_RESNET_LIKE)
  with pytest.raises(ValueError) as info:
    resnet_utils.plan_strides(blocks, output_stride=output_stride)
  message = str(info.value)
  assert 'output_stride=%r' % output_stride in message
  assert str(resnet_utils.reachable_output_strides(blocks)) in message


# ---------------------------------------------------------------------------
# stack_blocks_dense.


@slim.add_arg_scope
def _tiny_unit(inputs, depth, stride, rate=1, outputs_collections=None,
               scope=None):
  """A residual-free unit: 1x1 conv + ReLU, then a strided 3x3 conv2d_same."""
  with tf.variable_scope(scope, 'tiny_unit', [inputs]) as sc:
    net = slim.conv2d(inputs, depth, [1, 1], activation_fn=tf.nn.relu,
                      scope='conv1')
    net = resnet_utils.conv2d_same(net, depth, 3, stride, rate=rate,
                                   scope='conv2')
    return slim.utils.collect_named_outputs(outputs_collections, sc.name, net)


def _tiny_blocks():
  """Three blocks with stride 2 in their last unit: nominal stride 8."""
  return [
      Block('block1', _tiny_unit, [{'depth': 2, 'stride': 1},
                                   {'depth': 2, 'stride': 2}]),
      Block('block2', _tiny_unit, [{'depth': 3, 'stride': 2}]),
      Block('block3', _tiny_unit, [{'depth': 2, 'stride': 1},
                                   {'depth': 2, 'stride': 2}]),
  ]


def _stack(x, reuse=False, **kwargs):
  with _no_norm_no_act():
    with tf.variable_scope('net', values=[x], reuse=reuse):
      return resnet_utils.stack_blocks_dense(x, _tiny_blocks(), **kwargs)


@pytest.mark.parametrize('output_stride', [1, 2, 4, 8, None])
def test_dense_stack_subsampled_equals_nominal_stack(graph, rng,
                                                     output_stride):
  """The classic atrous equivalence, on odd and even input sizes.

  Running the later units with stride 1 and dilated kernels computes the
  nominal network's features at more positions; subsampling the dense output
  by nominal_stride / output_stride recovers the nominal output exactly.
  """
  x = tf.placeholder(tf.float32, [None, None, None, 2])
  nominal = _stack(x)
  num_variables = len(tf.global_variables())
  dense = _stack(x, reuse=True, output_stride=output_stride)
  assert len(tf.global_variables()) == num_variables  # Shared weights.
  factor = 8 // (output_stride or 8)
  dense_subsampled = resnet_utils.subsample(dense, factor)
  for size in (9, 10):
    data = rng.randn(2, size, size, 2).astype(np.float32)
    nominal_v, dense_v, subsampled_v = _run(
        [nominal, dense, dense_subsampled], {x: data})
    dense_size = -(-size // (output_stride or 8))  # ceil
    assert dense_v.shape == (2, dense_size, dense_size, 2)
    assert nominal_v.shape == (2, -(-size // 8), -(-size // 8), 2)
    np.testing.assert_allclose(subsampled_v, nominal_v, rtol=1e-4, atol=1e-4)


def test_stack_scopes_units_as_block_unit_and_records_block_end_points(
    graph):
  x = tf.placeholder(tf.float32, [1, 9, 9, 2])
  out = _stack(x, outputs_collections='end_points')
  end_points = slim.utils.convert_collection_to_dict('end_points')
  assert sorted(end_points) == ['net/block1', 'net/block2', 'net/block3']
  assert end_points['net/block3'] is out
  assert [end_points['net/block%d' % i].get_shape().as_list()[1]
          for i in (1, 2, 3)] == [5, 3, 2]
  # Variables follow the published checkpoints' `blockN/unit_M` layout.
  weights = sorted(v.op.name for v in tf.global_variables()
                   if v.op.name.endswith('/weights'))
  expected = []
  for block in _tiny_blocks():
    for i in range(len(block.args)):
      for conv in ('conv1', 'conv2'):
        expected.append('net/%s/unit_%d/tiny_unit/%s/weights' %
                        (block.scope, i + 1, conv))
  assert weights == sorted(expected)


def test_stack_takes_outputs_collections_from_arg_scope(graph):
  """As in the slim nets: one arg_scope collects block and unit end points."""
  x = tf.placeholder(tf.float32, [1, 9, 9, 2])
  with slim.arg_scope([resnet_utils.stack_blocks_dense, _tiny_unit],
                      outputs_collections='from_scope'):
    _stack(x)
  end_points = slim.utils.convert_collection_to_dict('from_scope')
  assert sorted(end_points) == sorted([
      'net/block1', 'net/block1/unit_1/tiny_unit',
      'net/block1/unit_2/tiny_unit', 'net/block2',
      'net/block2/unit_1/tiny_unit', 'net/block3',
      'net/block3/unit_1/tiny_unit', 'net/block3/unit_2/tiny_unit'])
  assert end_points['net/block1'] is end_points['net/block1/unit_2/tiny_unit']


@pytest.mark.parametrize('output_stride', [None, 2])
def test_store_non_strided_activations_keeps_block_inputs_resolution(
    graph, rng, output_stride):
  """Block end points skip the block's last stride; the output does not."""
  x = tf.placeholder(tf.float32, [1, 9, 9, 2])
  default = _stack(x, output_stride=output_stride)
  stored = _stack(x, reuse=True, output_stride=output_stride,
                  store_non_strided_activations=True,
                  outputs_collections='stored')
  end_points = slim.utils.convert_collection_to_dict('stored')
  # Each end point has the resolution of its block's input: block k's input
  # is at nominal stride 2**(k-1), capped at output_stride.
  cap = output_stride or 8
  expected_sizes = [-(-9 // min(2**k, cap)) for k in range(3)]
  assert [end_points['net/block%d' % i].get_shape().as_list()[1]
          for i in (1, 2, 3)] == expected_sizes
  assert stored.get_shape().as_list() == default.get_shape().as_list()
  data = rng.randn(1, 9, 9, 2).astype(np.float32)
  default_v, stored_v = _run([default, stored], {x: data})
  np.testing.assert_allclose(stored_v, default_v, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize('output_stride', [3, 16])
def test_stack_rejects_unreachable_output_stride_before_building(
    graph, output_stride):
  x = tf.placeholder(tf.float32, [1, 9, 9, 2])
  ops_before = len(graph.get_operations())
  with pytest.raises(ValueError, match=r'\[1, 2, 4, 8\]'):
    _stack(x, output_stride=output_stride)
  assert tf.global_variables() == []
  assert len(graph.get_operations()) == ops_before


# ---------------------------------------------------------------------------
# resnet_arg_scope.


def _variable(name):
  matches = [v for v in tf.global_variables() if v.op.name == name]
  assert len(matches) == 1, (name, _var_names())
  return matches[0]


def test_arg_scope_regularizes_conv_weights_with_l2_weight_decay(graph, rng):
  x = tf.constant(rng.randn(1, 5, 5, 2).astype(np.float32))
  with slim.arg_scope(resnet_utils.resnet_arg_scope()):
    slim.conv2d(x, 3, [3, 3], scope='conv')
  losses = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
  assert len(losses) == 1
  loss_v, w = _run([losses[0], _variable('conv/weights')])
  np.testing.assert_allclose(loss_v, 0.0001 * np.sum(w**2) / 2, rtol=1e-5)


def test_arg_scope_weight_decay_is_configurable(graph, rng):
  x = tf.constant(rng.randn(1, 5, 5, 2).astype(np.float32))
  with slim.arg_scope(resnet_utils.resnet_arg_scope(weight_decay=0.5)):
    slim.conv2d(x, 3, [3, 3], scope='conv')
  loss, = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
  loss_v, w = _run([loss, _variable('conv/weights')])
  np.testing.assert_allclose(loss_v, 0.5 * np.sum(w**2) / 2, rtol=1e-5)


def test_arg_scope_conv_is_batch_norm_then_relu_with_resnet_constants(
    graph, rng):
  """conv -> batch norm (epsilon 1e-5, learned gamma) -> ReLU, no biases.

  The input is scaled down so that the conv output's variance (~1e-4) is
  comparable to epsilon: 1e-5 vs slim's default 1e-3 changes the result.
  Running the update op once pins the decay: moving_mean becomes
  (1 - 0.997) * batch_mean.
  """
  data = (0.01 * rng.randn(2, 5, 5, 2)).astype(np.float32)
  with slim.arg_scope(resnet_utils.resnet_arg_scope()):
    out = slim.conv2d(tf.constant(data), 3, [3, 3], scope='conv')
  assert _var_names() == [
      'conv/BatchNorm/beta', 'conv/BatchNorm/gamma',
      'conv/BatchNorm/moving_mean', 'conv/BatchNorm/moving_variance',
      'conv/weights']
  pre_norm = graph.get_tensor_by_name('conv/Conv2D:0')
  update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
  assert update_ops
  moving_mean = _variable('conv/BatchNorm/moving_mean')
  with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    out_v, pre_v, _ = sess.run([out, pre_norm, update_ops])
    moving_mean_v = sess.run(moving_mean)
  mean = pre_v.mean(axis=(0, 1, 2))
  var = pre_v.var(axis=(0, 1, 2))
  expected = np.maximum((pre_v - mean) / np.sqrt(var + 1e-5), 0)
  np.testing.assert_allclose(out_v, expected, rtol=1e-3, atol=1e-3)
  np.testing.assert_allclose(moving_mean_v, (1 - 0.997) * mean, rtol=1e-4,
                             atol=1e-9)


def test_arg_scope_without_batch_norm_scale_has_no_gamma(graph):
  x = tf.zeros([1, 5, 5, 2])
  with slim.arg_scope(resnet_utils.resnet_arg_scope(batch_norm_scale=False)):
    slim.conv2d(x, 3, [3, 3], scope='conv')
  assert 'conv/BatchNorm/beta' in _var_names()
  assert not [n for n in _var_names() if 'gamma' in n]


def test_arg_scope_without_batch_norm_gives_biased_convs(graph, rng):
  """use_batch_norm=False: conv + biases + activation, nothing normalized."""
  data = rng.randn(1, 5, 5, 2).astype(np.float32)
  with slim.arg_scope(resnet_utils.resnet_arg_scope(
      use_batch_norm=False, activation_fn=tf.nn.elu)):
    out = slim.conv2d(tf.constant(data), 3, [3, 3], scope='conv')
  assert _var_names() == ['conv/biases', 'conv/weights']
  assert not [op for op in graph.get_operations()
              if 'BatchNorm' in op.name or 'FusedBatchNorm' in op.type]
  assert tf.get_collection(tf.GraphKeys.UPDATE_OPS) == []
  pre_activation = graph.get_tensor_by_name('conv/BiasAdd:0')
  out_v, pre_v = _run([out, pre_activation])
  assert (pre_v < 0).any()  # The activation has something to do.
  np.testing.assert_allclose(
      out_v, np.where(pre_v > 0, pre_v, np.expm1(pre_v)), rtol=1e-5,
      atol=1e-6)


def test_arg_scope_updates_collections_none_updates_in_place(graph, rng):
  """No UPDATE_OPS; the forward pass itself moves the statistics."""
  data = rng.randn(2, 5, 5, 2).astype(np.float32)
  with slim.arg_scope(resnet_utils.resnet_arg_scope(
      batch_norm_updates_collections=None)):
    out = slim.conv2d(tf.constant(data), 3, [3, 3], scope='conv')
  assert tf.get_collection(tf.GraphKeys.UPDATE_OPS) == []
  pre_norm = graph.get_tensor_by_name('conv/Conv2D:0')
  moving_mean = _variable('conv/BatchNorm/moving_mean')
  with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    _, pre_v = sess.run([out, pre_norm])
    moving_mean_v = sess.run(moving_mean)
  np.testing.assert_allclose(moving_mean_v,
                             (1 - 0.997) * pre_v.mean(axis=(0, 1, 2)),
                             rtol=1e-4, atol=1e-9)


@pytest.mark.parametrize('size, out_size', [(5, 3), (4, 2)])
def test_arg_scope_max_pool_uses_same_padding(graph, rng, size, out_size):
  """A 3x3/2 pool keeps the border pixels: ceil(size / 2) outputs."""
  data = rng.randn(1, size, size, 2).astype(np.float32)
  x = tf.constant(data)
  with slim.arg_scope(resnet_utils.resnet_arg_scope()):
    pooled = slim.max_pool2d(x, [3, 3], stride=2)
  assert pooled.get_shape().as_list() == [1, out_size, out_size, 2]
  reference = tf.nn.max_pool2d(x, 3, 2, padding='SAME')
  pooled_v, reference_v = _run([pooled, reference])
  np.testing.assert_array_equal(pooled_v, reference_v)
  # Outside the scope slim pools with VALID padding and loses the border.
  assert slim.max_pool2d(x, [3, 3], stride=2).get_shape().as_list()[1] == (
      (size - 3) // 2 + 1)


# ---------------------------------------------------------------------------
# classification_head.


def test_head_without_classes_returns_globally_pooled_features(graph, rng):
  data = rng.randn(2, 3, 4, 5).astype(np.float32)
  end_points = {}
  out = resnet_utils.classification_head(
      tf.constant(data), end_points, num_classes=None, global_pool=True,
      spatial_squeeze=True, scope_name='net')
  assert out.get_shape().as_list() == [2, 1, 1, 5]
  assert sorted(end_points) == ['global_pool']
  assert end_points['global_pool'] is out
  assert tf.global_variables() == []  # No logits layer.
  np.testing.assert_allclose(_run(out),
                             data.mean(axis=(1, 2), keepdims=True),
                             rtol=1e-5, atol=1e-6)


def test_head_logits_are_a_1x1_conv_on_pooled_features(graph, rng):
  data = rng.randn(2, 3, 4, 5).astype(np.float32)
  end_points = {}
  with _no_norm_no_act():
    logits = resnet_utils.classification_head(
        tf.constant(data), end_points, num_classes=7, global_pool=True,
        spatial_squeeze=True, scope_name='net')
  assert logits.get_shape().as_list() == [2, 7]
  assert sorted(end_points) == ['global_pool', 'net/logits',
                                'net/spatial_squeeze', 'predictions']
  logits_v, probs_v, w, b = _run([
      logits, end_points['predictions'], _variable('logits/weights'),
      _variable('logits/biases')])
  assert w.shape == (1, 1, 5, 7)
  expected = data.mean(axis=(1, 2)) @ w[0, 0] + b
  np.testing.assert_allclose(logits_v, expected, rtol=1e-4, atol=1e-5)
  expected_probs = np.exp(expected - expected.max(axis=1, keepdims=True))
  expected_probs /= expected_probs.sum(axis=1, keepdims=True)
  np.testing.assert_allclose(probs_v, expected_probs, rtol=1e-4, atol=1e-6)


def test_head_squeeze_of_dense_logits_raises_naming_spatial_squeeze(graph):
  end_points = {}
  with pytest.raises(ValueError, match='spatial_squeeze'):
    resnet_utils.classification_head(
        tf.zeros([1, 2, 3, 4]), end_points, num_classes=5, global_pool=False,
        spatial_squeeze=True, scope_name='net')


def test_head_keeps_dense_logits_without_squeeze(graph):
  end_points = {}
  logits = resnet_utils.classification_head(
      tf.zeros([1, 2, 3, 4]), end_points, num_classes=5, global_pool=False,
      spatial_squeeze=False, scope_name='net')
  assert logits.get_shape().as_list() == [1, 2, 3, 5]
  assert 'global_pool' not in end_points
  assert 'net/spatial_squeeze' not in end_points


# ---------------------------------------------------------------------------
# checks.


def test_require_graph_mode_raises_when_eager():
  """Outside the graph fixture TensorFlow 2 executes eagerly."""
  assert tf.executing_eagerly()
  with pytest.raises(RuntimeError) as info:
    checks.require_graph_mode('my_builder')
  assert 'tf.Graph' in str(info.value)
  assert 'my_builder' in str(info.value)


def test_require_graph_mode_accepts_a_graph(graph):
  checks.require_graph_mode('my_builder')  # Must not raise.
  assert not tf.executing_eagerly()


@pytest.mark.parametrize('num_classes', [0, -1, 2.5, True, '10'])
def test_check_num_classes_rejects_non_positive_integers(num_classes):
  with pytest.raises(ValueError, match='num_classes'):
    checks.check_num_classes(num_classes, 'my_builder')


@pytest.mark.parametrize('num_classes', [None, 1, 1001, np.int64(10)])
def test_check_num_classes_accepts_none_and_positive_integers(num_classes):
  assert checks.check_num_classes(num_classes, 'my_builder') is None


@pytest.mark.parametrize('shape', [[2, 3, 3], [1, 2, 3, 3, 1]])
def test_check_image_batch_rejects_other_ranks(graph, shape):
  with pytest.raises(ValueError, match='rank-4') as info:
    checks.check_image_batch(tf.placeholder(tf.float32, shape), 'my_builder')
  assert 'rank %d' % len(shape) in str(info.value)


@pytest.mark.parametrize('shape', [[1, 2, 3, 3], [None, None, None, 3], None])
def test_check_image_batch_accepts_rank_four_and_unknown_rank(graph, shape):
  assert checks.check_image_batch(tf.placeholder(tf.float32, shape),
                                  'my_builder') is None


@pytest.mark.parametrize('output_stride, expected', [
    (None, None), (4, 1), (8, 2), (32, 8), (16.0, 4)])
def test_root_relative_output_stride_divides_by_root_stride(output_stride,
                                                            expected):
  assert checks.root_relative_output_stride(
      output_stride, 4, [1, 2, 4, 8], 'my_builder') == expected


@pytest.mark.parametrize('output_stride', [2, 6, 64, True, 8.5, '8'])
def test_root_relative_output_stride_rejects_listing_accepted(output_stride):
  with pytest.raises(ValueError) as info:
    checks.root_relative_output_stride(output_stride, 4, [1, 2, 4, 8],
                                       'my_builder')
  assert '[4, 8, 16, 32]' in str(info.value)
  assert 'my_builder' in str(info.value)


@pytest.mark.parametrize('value,kwargs,message', [
    (0, {}, 'n must be a positive integer; got 0.'),
    (True, {}, 'n must be a positive integer; got True.'),
    (2.0, {}, 'n must be a positive integer; got 2.0.'),
    (-1, dict(minimum=0), 'n must be a non-negative integer; got -1.'),
    (2, dict(minimum=3), 'n must be an integer >= 3; got 2.'),
    (None, {}, 'n must be a positive integer; got None.'),
    (0, dict(allow_none=True, note='(pixels)'),
     'n must be a positive integer or None (pixels); got 0.'),
])
def test_check_int_names_the_argument_and_what_it_accepts(value, kwargs,
                                                          message):
  with pytest.raises(ValueError) as raised:
    checks.check_int(value, 'n', **kwargs)
  assert str(raised.value) == message


def test_check_int_accepts():
  checks.check_int(1, 'n')
  checks.check_int(np.int64(7), 'n')
  checks.check_int(0, 'n', minimum=0)
  checks.check_int(None, 'n', allow_none=True)


@pytest.mark.parametrize('value', [0, -1.5, float('nan'), float('inf'), '1',
                                   False])
def test_check_positive_number_refuses(value):
  with pytest.raises(ValueError, match=r'^x must be a finite number > 0; '):
    checks.check_positive_number(value, 'x')


def test_check_choice():
  checks.check_choice('b', ('a', 'b'), 'letter')
  with pytest.raises(ValueError) as raised:
    checks.check_choice('c', ('a', 'b'), 'letter')
  assert str(raised.value) == "letter must be one of a, b; got 'c'."


def test_check_choices():
  checks.check_choices(['b', 'a'], ('a', 'b'), 'letters')
  with pytest.raises(ValueError) as raised:
    checks.check_choices([], ('a', 'b'), 'letters')
  assert str(raised.value) == 'letters must name at least one of a, b.'
  with pytest.raises(ValueError, match="letters must be one of a, b; got 'c'"):
    checks.check_choices(['a', 'c'], ('a', 'b'), 'letters')


def test_positive_ints():
  assert checks.positive_ints(['1', '32'], 'batch') == [1, 32]
  assert checks.positive_ints((2, 1), 'batch') == [2, 1]
  for values, shown in ((['0'], '0'), (['x', '2'], 'x,2'), ([], '')):
    with pytest.raises(ValueError) as raised:
      checks.positive_ints(values, 'batch')
    assert str(raised.value) == (
        'batch must be a list of positive integers; got %s.' % shown)


def test_check_choice_wants_the_choice_itself_not_an_equal_object():
  with pytest.raises(ValueError, match='precision must be one of'):
    checks.check_choice(tf.float16, ('float32', 'float16'), 'precision')
