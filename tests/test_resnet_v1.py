"""Tests of `nets.resnet_v1`: the compatibility contract with slim's ResNet V1.

The published slim `resnet_v1_*` checkpoints must load as they are and
compute what slim's own `resnet_v1` computes. So variable names and shapes,
end point keys and parameter counts are checked against the published
figures, and numerics against `tf_slim.nets.resnet_v1` (the "oracle"), which
is used here only as a reference to compare with. The oracle predates three
features of ours (bounded activations, `store_non_strided_activations`,
basic-block nets), which are checked against equivalent constructions of our
own instead.

Full-depth graphs take seconds to build, so nets needed by several tests are
built once per module in fixtures that hold their own graph.
"""

import arithmetic
import numpy as np
import oracle as oracle_lib
import pytest
import tensorflow.compat.v1 as tf
import tf_slim as slim

# The oracle needs the compatibility fix that `import nets` installs.
from tf_slim.nets import resnet_v1 as oracle

from nets import nets_factory
from nets import resnet_v1
from resnet_utils import graph_building

SCOPE = 'resnet_v1_50'
BN_VARIABLES = ('beta', 'gamma', 'moving_mean', 'moving_variance')

# A small net of nominal stride 32 (root 4, then 2 * 2 * 2 * 1), with blocks
# of one and two units so that both the first and later units are exercised.
# Rows: (scope, base_depth, num_units, stride of the last unit).
TINY_BLOCKS = (
    ('block1', 4, 2, 2),
    ('block2', 8, 1, 2),
    ('block3', 8, 2, 2),
    ('block4', 16, 1, 1),
)
TINY_SCOPE = 'tiny'


def _tiny_blocks(block_fn):
  """The TINY_BLOCKS built with `block_fn` (ours or the oracle's)."""
  return [block_fn(scope, base_depth=depth, num_units=units, stride=stride)
          for scope, depth, units, stride in TINY_BLOCKS]


def _build_tiny(inputs, block_fn=resnet_v1.resnet_v1_block, lib=resnet_v1,
                **kwargs):
  """The tiny net of `lib` with units from `block_fn`, in scope 'tiny'."""
  return oracle_lib.build(lib, lib.resnet_v1, inputs, _tiny_blocks(block_fn),
                          scope=TINY_SCOPE, **kwargs)


# ---------------------------------------------------------------------------
# Module-scoped nets.


@pytest.fixture(scope='module')
def v1_50_224():
  """Our resnet_v1_50 on [1, 224, 224, 3], 1000 classes, inference mode.

  A second tower with `store_non_strided_activations=True` shares the first
  tower's variables (`reuse=True`), so the two modes can be compared on the
  same weights. `variables` are those of the first tower alone.
  """
  graph = tf.Graph()
  with graph.as_default(), graph_building.fast_graph_building():
    images = tf.placeholder(tf.float32, [1, 224, 224, 3])
    net, end_points = oracle_lib.build(resnet_v1, resnet_v1.resnet_v1_50,
                                       images, num_classes=1000,
                                       is_training=False)
    variables = tf.global_variables()
    non_strided = oracle_lib.build(resnet_v1, resnet_v1.resnet_v1_50, images,
                                   num_classes=1000, is_training=False,
                                   reuse=True,
                                   store_non_strided_activations=True)
    all_variables = tf.global_variables()
  return {'graph': graph, 'images': images, 'net': net,
          'end_points': end_points, 'variables': variables,
          'all_variables': all_variables, 'non_strided': non_strided}


@pytest.fixture(scope='module')
def oracle_v1_50_224():
  """The oracle's resnet_v1_50, built like the first tower of `v1_50_224`."""
  graph = tf.Graph()
  with graph.as_default(), graph_building.fast_graph_building():
    images = tf.placeholder(tf.float32, [1, 224, 224, 3])
    net, end_points = oracle_lib.build(oracle, oracle.resnet_v1_50, images,
                                       num_classes=1000, is_training=False)
    variables = tf.global_variables()
  return {'graph': graph, 'net': net, 'end_points': end_points,
          'variables': variables}


@pytest.fixture(scope='module')
def tiny_vs_oracle(tmp_path_factory):
  """Tiny nets of `resnet_v1_block`s (5 classes) on 2x33x33x3 in both libs.

  Besides training and inference, a dense tower (output_stride 8, no
  pooling, no logits) compares the atrous schedules of the two libraries.
  """
  images = np.random.RandomState(1).normal(size=(2, 33, 33, 3))

  def build_towers(lib, inputs):
    def tiny(**kwargs):
      return _build_tiny(inputs, block_fn=lib.resnet_v1_block, lib=lib,
                         **kwargs)
    return {
        'training': tiny(num_classes=5, is_training=True),
        'inference': tiny(num_classes=5, is_training=False, reuse=True),
        'dense': tiny(is_training=False, global_pool=False, output_stride=8,
                      reuse=True),
    }

  return oracle_lib.run_against_oracle(
      tmp_path_factory.mktemp('tiny'), oracle, resnet_v1, build_towers,
                             images.astype(np.float32), seed=2)


@pytest.fixture(scope='module')
def v1_50_vs_oracle(tmp_path_factory):
  """Full resnet_v1_50 (10 classes) on 1x64x64x3 in both libraries."""
  images = np.random.RandomState(3).normal(size=(1, 64, 64, 3))

  def build_towers(lib, inputs):
    def net(**kwargs):
      return oracle_lib.build(lib, lib.resnet_v1_50, inputs, num_classes=10,
                              **kwargs)
    return {'training': net(is_training=True),
            'inference': net(is_training=False, reuse=True)}

  return oracle_lib.run_against_oracle(
      tmp_path_factory.mktemp('v1_50'), oracle, resnet_v1, build_towers,
                             images.astype(np.float32), seed=4)


# ---------------------------------------------------------------------------
# Variable names, end points and counts.


def test_variable_names_and_shapes_match_published_checkpoint(v1_50_224):
  """Spot-checks names (and shapes) that the published checkpoints contain.

  In V1 every convolution, the root and the projection shortcut included, is
  followed by a 'BatchNorm' and has no biases; only the logits have biases.
  """
  shapes = oracle_lib.shapes(v1_50_224['variables'])
  unit = SCOPE + '/block1/unit_1/bottleneck_v1'
  expected = {
      SCOPE + '/conv1/weights': [7, 7, 3, 64],
      unit + '/shortcut/weights': [1, 1, 64, 256],
      unit + '/conv1/weights': [1, 1, 64, 64],
      unit + '/conv2/weights': [3, 3, 64, 64],
      unit + '/conv3/weights': [1, 1, 64, 256],
      SCOPE + '/block4/unit_3/bottleneck_v1/conv3/weights': [1, 1, 512, 2048],
      SCOPE + '/logits/weights': [1, 1, 2048, 1000],
      SCOPE + '/logits/biases': [1000],
  }
  for name in BN_VARIABLES:
    expected[SCOPE + '/conv1/BatchNorm/' + name] = [64]
    expected[unit + '/shortcut/BatchNorm/' + name] = [256]
    expected[unit + '/conv1/BatchNorm/' + name] = [64]
    expected[unit + '/conv2/BatchNorm/' + name] = [64]
    expected[unit + '/conv3/BatchNorm/' + name] = [256]
  for name, shape in expected.items():
    assert shapes.get(name) == shape, name
  biases = sorted(n for n in shapes if n.endswith('/biases'))
  assert biases == [SCOPE + '/logits/biases']
  # No pre-activation norms: those belong to V2.
  assert not any('/preact/' in n or '/postnorm/' in n for n in shapes)


def test_all_variable_names_and_shapes_equal_oracle(v1_50_224,
                                                    oracle_v1_50_224):
  """The full resnet_v1_50 variable set (names and shapes) is the oracle's."""
  ours = oracle_lib.shapes(v1_50_224['variables'])
  theirs = oracle_lib.shapes(oracle_v1_50_224['variables'])
  assert sorted(ours) == sorted(theirs)
  assert ours == theirs


def test_end_point_keys_are_oracle_keys_plus_pool_and_squeeze(
    v1_50_224, oracle_v1_50_224):
  """Exactly the oracle's keys, plus the two the newer slim API added."""
  ours = set(v1_50_224['end_points'])
  theirs = set(oracle_v1_50_224['end_points'])
  assert ours == theirs | {'global_pool', SCOPE + '/spatial_squeeze'}
  assert not theirs & {'global_pool', SCOPE + '/spatial_squeeze'}
  assert SCOPE + '/block1/unit_1/bottleneck_v1/shortcut' in ours


def test_end_point_shapes_at_224(v1_50_224):
  """Blocks 1-3 downsample in their last unit; logits are squeezed."""
  end_points = v1_50_224['end_points']

  def shape(key):
    return end_points[SCOPE + '/' + key].shape.as_list()

  assert shape('conv1') == [1, 112, 112, 64]
  assert shape('block1/unit_2/bottleneck_v1') == [1, 56, 56, 256]
  assert shape('block1/unit_3/bottleneck_v1') == [1, 28, 28, 256]
  assert shape('block1') == [1, 28, 28, 256]
  assert shape('block2') == [1, 14, 14, 512]
  assert shape('block3') == [1, 7, 7, 1024]
  assert shape('block4') == [1, 7, 7, 2048]
  assert shape('logits') == [1, 1, 1, 1000]
  assert shape('spatial_squeeze') == [1, 1000]
  assert v1_50_224['net'].shape.as_list() == [1, 1000]


PUBLISHED_PARAMETERS = {  # with 1000 classes
    50: 25557032, 101: 44549160, 152: 60192808, 200: 64673832,
    18: 11689512, 34: 21797672,
}


@pytest.mark.parametrize('depth', sorted(PUBLISHED_PARAMETERS))
def test_trainable_parameter_counts(depth):
  """Published counts with 1000 classes; a missing or extra unit shows here.

  ResNet-18/34 have the well-known 11.69M and 21.80M parameters of the paper's
  basic-block nets (projection shortcuts where the depth changes). The net's
  pinned count and the hand count of tests/arithmetic.py must both be the
  published one; test_nets_factory checks both against full builds.
  """
  info = nets_factory.get_model_info('resnet_v1_%d' % depth)
  assert info.params == PUBLISHED_PARAMETERS[depth]
  assert arithmetic.counts_of(info).params == PUBLISHED_PARAMETERS[depth]


@pytest.mark.xdist_group('full_depth')
@pytest.mark.parametrize('depth', [50, 18])
def test_built_variables_lie_in_the_default_scope(depth, full_depth):
  built = full_depth('resnet_v1_%d' % depth)
  assert built.image_size == 224
  assert built.trainable_params == PUBLISHED_PARAMETERS[depth]
  assert sum(int(np.prod(shape)) for _, shape, trainable in built.variables
             if trainable) == PUBLISHED_PARAMETERS[depth]
  for name, _, _ in built.variables:
    assert name.startswith('resnet_v1_%d/' % depth)


# ---------------------------------------------------------------------------
# Numerics against the oracle.

NETS_VS_ORACLE = ['tiny_vs_oracle', 'v1_50_vs_oracle']


@pytest.mark.parametrize('fixture', NETS_VS_ORACLE)
def test_oracle_checkpoint_restores_without_missing_or_extra(fixture,
                                                             request):
  """Our variables and the oracle's checkpoint hold exactly the same names.

  The restore itself (with a Saver keyed by our names) already failed the
  fixture if one of ours were missing; this also rules out extra ones.
  """
  results = request.getfixturevalue(fixture)
  assert results['ours']['names'] == results['oracle']['names']
  assert results['ours']['names'] == results['ckpt_names']


def _assert_outputs_match(ours, theirs):
  """Our (net, end_points) equal the oracle's, on every common end point.

  The oracle keeps [N, 1, 1, C] logits and predictions where we squeeze them.
  """
  net, end_points = ours
  oracle_net, oracle_end_points = theirs
  if net.ndim == 2:
    oracle_net = np.squeeze(oracle_net, (1, 2))
  assert np.std(net) > 0.1  # Outputs of a size that 1e-5 is a test for.
  np.testing.assert_allclose(net, oracle_net, rtol=0, atol=1e-5)
  assert set(oracle_end_points) <= set(end_points)
  assert len(oracle_end_points) > 10
  for key, expected in oracle_end_points.items():
    actual = end_points[key]
    if actual.ndim == 2:
      expected = np.squeeze(expected, (1, 2))
    assert actual.shape == expected.shape, key
    np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-5,
                               err_msg=key)


@pytest.mark.parametrize('tower', ['training', 'inference', 'dense'])
def test_tiny_net_outputs_match_oracle(tiny_vs_oracle, tower):
  """Logits (or dense features) and every end point equal the oracle's."""
  outputs = {name: tiny_vs_oracle[name]['outputs'][tower]
             for name in ('ours', 'oracle')}
  _assert_outputs_match(outputs['ours'], outputs['oracle'])
  if tower == 'dense':  # 33x33 at output_stride 8: 5x5.
    assert outputs['ours'][0].shape == (2, 5, 5, 64)


@pytest.mark.parametrize('tower', ['training', 'inference'])
def test_resnet_v1_50_outputs_match_oracle(v1_50_vs_oracle, tower):
  """The full net: logits and all of its end points equal the oracle's."""
  outputs = {name: v1_50_vs_oracle[name]['outputs'][tower]
             for name in ('ours', 'oracle')}
  _assert_outputs_match(outputs['ours'], outputs['oracle'])
  assert outputs['ours'][0].shape == (1, 10)


@pytest.mark.parametrize('fixture', NETS_VS_ORACLE)
def test_inference_uses_restored_moving_statistics(fixture, request):
  """Training and inference outputs differ, so the comparison is not vacuous.

  With random moving statistics, inference mode must not reproduce the
  batch-statistics result; if it did, the moving averages would be unused.
  """
  outputs = request.getfixturevalue(fixture)['ours']['outputs']
  training, inference = outputs['training'][0], outputs['inference'][0]
  assert np.max(np.abs(training - inference)) > 1e-2
  assert np.all(np.isfinite(inference))


# ---------------------------------------------------------------------------
# Bounded activations.

UNIT_FNS = {
    'bottleneck': (resnet_v1.bottleneck, {'depth_bottleneck': 4}),
    'basic_block': (resnet_v1.basic_block, {}),
}


def _units(unit_fn, inputs, depth, **unit_args):
  """A bounded and an unbounded unit on `inputs`, sharing their variables.

  Inference mode with moving statistics near their initial values (mean 0,
  variance 1) keeps the scale of the input, so that large inputs give large
  residuals.

  Returns:
    (bounded, unbounded) dicts with the unit 'output', its projection
    'shortcut' (the input itself when there is none) and its 'residual' (the
    last convolution's output, before any clipping).
  """
  last_conv = 'conv3' if unit_fn is resnet_v1.bottleneck else 'conv2'
  units = []
  for bounded in (True, False):
    collection = 'unit_end_points_%s' % bounded
    with slim.arg_scope(resnet_v1.resnet_arg_scope()), \
        slim.arg_scope([slim.batch_norm], is_training=False), \
        slim.arg_scope([slim.conv2d], outputs_collections=collection), \
        tf.variable_scope(tf.get_variable_scope(), reuse=not bounded):
      output = unit_fn(inputs, depth=depth, stride=1,
                       use_bounded_activations=bounded, scope='unit',
                       **unit_args)
    end_points = slim.utils.convert_collection_to_dict(collection)
    units.append({'output': output,
                  'shortcut': end_points.get('unit/shortcut', inputs),
                  'residual': end_points['unit/' + last_conv]})
  return units


@pytest.mark.parametrize('unit_name', sorted(UNIT_FNS))
def test_bounded_unit_with_projection_stays_in_relu6_range(graph, rng,
                                                           unit_name):
  """Large inputs: the unit output and its projection shortcut lie in [0, 6].

  What fixed-point inference relies on. The projection is a ReLU6 (not a
  linear conv + BN), and the unit's output is relu6 of the sum. The unbounded
  twin (same weights) on the same input goes far outside that range, so the
  bound is not vacuous.
  """
  unit_fn, unit_args = UNIT_FNS[unit_name]
  inputs = tf.constant(rng.uniform(-50, 50, (2, 9, 9, 8)).astype(np.float32))
  bounded, unbounded = _units(unit_fn, inputs, depth=16, **unit_args)
  assert bounded['shortcut'].op.type == 'Relu6'
  assert unbounded['shortcut'].op.type != 'Relu6'
  with tf.Session() as sess:
    oracle_lib.initialize_randomly(sess, tf.global_variables(), rng)
    bounded, unbounded = sess.run([bounded, unbounded])
  for name in ('output', 'shortcut'):
    values = bounded[name]
    assert values.min() == 0 and values.max() == 6, name
    assert np.mean(values == 6) > 0.05 and np.mean(values == 0) > 0.05, name
  assert unbounded['output'].max() > 20
  assert unbounded['shortcut'].min() < -20
  # The projection is the unbounded one, rectified and capped at 6. With a
  # shortcut in [0, 6], clipping the residual to [-6, 6] cannot change the
  # relu6 of the sum, so the output is relu6(shortcut + residual).
  np.testing.assert_allclose(bounded['shortcut'],
                             np.clip(unbounded['shortcut'], 0, 6),
                             rtol=0, atol=1e-4)
  np.testing.assert_allclose(
      bounded['output'],
      np.clip(bounded['shortcut'] + bounded['residual'], 0, 6),
      rtol=0, atol=1e-4)


@pytest.mark.parametrize('unit_name', sorted(UNIT_FNS))
def test_bounded_identity_unit_clips_the_residual(graph, rng, unit_name):
  """Small inputs: nothing saturates and the unit equals its unbounded twin.

  With an identity shortcut (depth kept) the two units differ only by the
  clipping of the residual to [-6, 6] and the upper bound 6, which small
  activations never reach. On large inputs (second image) the output is
  exactly relu6(inputs + clip(residual, -6, 6)), and the clipping matters:
  without it some outputs would differ.
  """
  unit_fn, unit_args = UNIT_FNS[unit_name]
  small = rng.uniform(-0.5, 0.5, (1, 9, 9, 8))
  images = np.concatenate([small, 30 * small]).astype(np.float32)
  bounded, unbounded = _units(unit_fn, tf.constant(images), depth=8,
                              **unit_args)
  assert not any('shortcut' in v.op.name for v in tf.global_variables())
  with tf.Session() as sess:
    oracle_lib.initialize_randomly(sess, tf.global_variables(), rng)
    bounded, unbounded = sess.run([bounded, unbounded])
  assert 0.1 < unbounded['output'][0].max() < 6
  np.testing.assert_allclose(bounded['output'][0], unbounded['output'][0],
                             rtol=0, atol=1e-6)
  output, residual = bounded['output'][1], bounded['residual'][1]
  assert unbounded['output'][1].max() > 6 and output.max() == 6
  np.testing.assert_allclose(
      output, np.clip(images[1] + np.clip(residual, -6, 6), 0, 6),
      rtol=0, atol=1e-4)
  unclipped = np.clip(images[1] + residual, 0, 6)
  assert np.max(np.abs(unclipped - output)) > 0.5


def test_bounded_activations_through_arg_scope_bound_every_unit(graph, rng):
  """How slim users switch it on: an arg_scope on the unit function.

  Every unit of the tiny net then outputs values in [0, 6], and on large
  inputs the bound is reached; the unbounded net (same weights) exceeds it.
  """
  images = tf.constant(
      rng.normal(0, 50, size=(2, 33, 33, 3)).astype(np.float32))
  with slim.arg_scope([resnet_v1.bottleneck], use_bounded_activations=True):
    _, bounded = _build_tiny(images, is_training=False)
  _, unbounded = _build_tiny(images, is_training=False, reuse=True)
  units = sorted(k for k in bounded if k.endswith('/bottleneck_v1'))
  assert len(units) == sum(units for _, _, units, _ in TINY_BLOCKS)
  with tf.Session() as sess:
    oracle_lib.initialize_randomly(sess, tf.global_variables(), rng)
    bounded, unbounded = sess.run(([bounded[k] for k in units],
                                   [unbounded[k] for k in units]))
  for key, value in zip(units, bounded):
    assert value.min() >= 0 and value.max() <= 6, key
  assert max(value.max() for value in bounded) == 6
  assert max(value.max() for value in unbounded) > 6


# ---------------------------------------------------------------------------
# store_non_strided_activations.


def test_store_non_strided_activations_keeps_block_input_resolution(
    v1_50_224):
  """Blocks 1-3 report their input's resolution; block 4 has no stride."""
  end_points = v1_50_224['non_strided'][1]
  sizes = [end_points['%s/block%d' % (SCOPE, b)].shape.as_list()
           for b in (1, 2, 3, 4)]
  assert sizes == [[1, 56, 56, 256], [1, 28, 28, 512], [1, 14, 14, 1024],
                   [1, 7, 7, 2048]]
  # The same tower's units still report their own resolution: the last unit
  # of block 1 now runs unstrided.
  unit = end_points[SCOPE + '/block1/unit_3/bottleneck_v1']
  assert unit.shape.as_list() == [1, 56, 56, 256]
  assert len(v1_50_224['all_variables']) == len(v1_50_224['variables'])


def test_store_non_strided_activations_leaves_the_output_unchanged(
    v1_50_224):
  """Same weights, inference mode: same logits, and subsampling each dense
  block end point by 2 gives the default block end point.

  The stride moved out of the last unit is applied right after the block,
  and in V1 nothing after the unit's 3x3 conv looks at neighbouring pixels.
  """
  rng = np.random.RandomState(5)
  images = rng.normal(size=(1, 224, 224, 3)).astype(np.float32)
  default_net, default_end_points = (v1_50_224['net'],
                                     v1_50_224['end_points'])
  dense_net, dense_end_points = v1_50_224['non_strided']
  blocks = ['%s/block%d' % (SCOPE, b) for b in (1, 2, 3, 4)]
  with v1_50_224['graph'].as_default(), tf.Session() as sess:
    oracle_lib.initialize_randomly(sess, v1_50_224['variables'], rng)
    default, dense = sess.run(
        [(default_net, [default_end_points[b] for b in blocks]),
         (dense_net, [dense_end_points[b] for b in blocks])],
        {v1_50_224['images']: images})
  assert np.std(default[0]) > 1e-2
  np.testing.assert_allclose(dense[0], default[0], rtol=1e-4, atol=1e-4)
  for key, default_block, dense_block in zip(blocks, default[1], dense[1]):
    factor = dense_block.shape[1] // default_block.shape[1]
    assert factor == (1 if key.endswith('block4') else 2)
    np.testing.assert_allclose(dense_block[:, ::factor, ::factor],
                               default_block, rtol=1e-4, atol=1e-4,
                               err_msg=key)


def test_store_non_strided_activations_changes_training_statistics(graph,
                                                                    rng):
  """In training mode the moved stride changes the batch statistics.

  As `plan_strides` documents: the last unit of each block then normalizes a
  map 4x denser, so its batch statistics and the outputs differ, unlike in
  inference mode (the test above).
  """
  images = tf.constant(rng.normal(size=(2, 33, 33, 3)).astype(np.float32))
  default, _ = _build_tiny(images, num_classes=5, is_training=True)
  dense, _ = _build_tiny(images, num_classes=5, is_training=True,
                         reuse=True, store_non_strided_activations=True)
  with tf.Session() as sess:
    oracle_lib.initialize_randomly(sess, tf.global_variables(), rng)
    default, dense = sess.run([default, dense])
  assert np.std(default) > 0.1
  assert np.abs(dense - default).max() > 1e-3


# ---------------------------------------------------------------------------
# Output stride and atrous convolution.


@pytest.mark.parametrize('output_stride', [8, 16])
@pytest.mark.parametrize('block_fn', [resnet_v1.resnet_v1_block,
                                      resnet_v1.resnet_v1_basic_block],
                         ids=['bottleneck', 'basic'])
def test_output_stride_matches_subsampled_nominal_features(
    graph, rng, block_fn, output_stride):
  """Atrous units compute the nominal features, only more densely.

  At a size of the form k * 32 + 1, the nominal (stride 32) features are the
  dense ones sampled every 32 / output_stride positions from index 0. Both
  unit kinds keep their stride on their last 3x3 convolution, which is what
  makes the exchange exact.
  """
  images = tf.constant(rng.normal(size=(1, 65, 65, 3)).astype(np.float32))
  nominal, _ = _build_tiny(images, block_fn=block_fn, global_pool=False,
                           is_training=False)
  num_variables = len(tf.global_variables())
  dense, _ = _build_tiny(images, block_fn=block_fn, global_pool=False,
                         is_training=False, output_stride=output_stride,
                         reuse=True)
  assert len(tf.global_variables()) == num_variables
  depth = 64 if block_fn is resnet_v1.resnet_v1_block else 16
  assert nominal.shape.as_list() == [1, 3, 3, depth]
  size = 64 // output_stride + 1
  assert dense.shape.as_list() == [1, size, size, depth]
  with tf.Session() as sess:
    oracle_lib.initialize_randomly(sess, tf.global_variables(), rng)
    nominal_value, dense_value = sess.run([nominal, dense])
  factor = 32 // output_stride
  assert np.max(np.abs(nominal_value)) > 1e-2
  np.testing.assert_allclose(dense_value[:, ::factor, ::factor, :],
                             nominal_value, rtol=0, atol=1e-4)
