"""Tests of `nets.resnet_v2`: the compatibility contract with slim's ResNet V2.

The promise of the project is that the published `resnet_v2_*` checkpoints
load as they are and compute what slim's own `resnet_v2` computes. So the
tests check variable names, parameter counts, end point keys and shapes
against the published figures, and numerics against `tf_slim.nets.resnet_v2`
(the "oracle"), which is used here only as a reference to compare with.

Full-depth graphs take seconds to build, so nets needed by several tests are
built once per module in fixtures that hold their own graph.
"""

import arithmetic
import numpy as np
import oracle as oracle_lib
import pytest
import tensorflow.compat.v1 as tf

# The oracle needs the compatibility fix that `import nets` installs.
from tf_slim.nets import resnet_v2 as oracle

from nets import nets_factory
from nets import resnet_v2
from resnet_utils import graph_building

SCOPE = 'resnet_v2_50'
# Units per block of the published ResNet-50.
UNITS_50 = (3, 4, 6, 3)

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


def _tiny_blocks(lib):
  """The TINY_BLOCKS as `Block`s of `lib` (ours or the oracle)."""
  return [lib.resnet_v2_block(scope, base_depth=depth, num_units=units,
                              stride=stride)
          for scope, depth, units, stride in TINY_BLOCKS]


def _build_tiny(lib, inputs, scope=TINY_SCOPE, **kwargs):
  """The tiny net of `lib`, in scope 'tiny' unless told otherwise."""
  return oracle_lib.build(lib, lib.resnet_v2, inputs, _tiny_blocks(lib),
                          scope=scope, **kwargs)


def _halve(size, times):
  """Spatial size after `times` stride-2 layers with 'SAME'-style padding."""
  for _ in range(times):
    size = (size + 1) // 2
  return size


# ---------------------------------------------------------------------------
# Module-scoped nets.


@pytest.fixture(scope='module')
def v2_50_224():
  """Our resnet_v2_50 on [None, 224, 224, 3] with 1000 classes (training)."""
  graph = tf.Graph()
  with graph.as_default(), graph_building.fast_graph_building():
    images = tf.placeholder(tf.float32, [None, 224, 224, 3])
    net, end_points = oracle_lib.build(resnet_v2, resnet_v2.resnet_v2_50,
                                       images, num_classes=1000)
    variables = tf.global_variables()
  return {'graph': graph, 'net': net, 'end_points': end_points,
          'variables': variables}


@pytest.fixture(scope='module')
def oracle_v2_50_224():
  """The oracle's resnet_v2_50, built exactly like `v2_50_224`."""
  graph = tf.Graph()
  with graph.as_default(), graph_building.fast_graph_building():
    images = tf.placeholder(tf.float32, [None, 224, 224, 3])
    net, end_points = oracle_lib.build(oracle, oracle.resnet_v2_50, images,
                                       num_classes=1000)
    variables = tf.global_variables()
  return {'graph': graph, 'net': net, 'end_points': end_points,
          'variables': variables}


def _training_and_inference(build):
  """build(lib, inputs, is_training, reuse) -> both towers, keyed by mode.

  The training tower creates the variables, the inference tower reuses
  them.
  """
  def towers(lib, inputs):
    return {True: build(lib, inputs, is_training=True, reuse=None),
            False: build(lib, inputs, is_training=False, reuse=True)}
  return towers


@pytest.fixture(scope='module')
def tiny_vs_oracle(tmp_path_factory):
  """The tiny net (5 classes) on 2x33x33x3 in both libraries."""
  images = np.random.RandomState(1).normal(size=(2, 33, 33, 3))

  def build(lib, inputs, is_training, reuse):
    return _build_tiny(lib, inputs, num_classes=5, is_training=is_training,
                       reuse=reuse)

  return oracle_lib.run_against_oracle(
      tmp_path_factory.mktemp('tiny'), oracle, resnet_v2,
      _training_and_inference(build), images.astype(np.float32), seed=2)


@pytest.fixture(scope='module')
def v2_50_vs_oracle(tmp_path_factory):
  """Full resnet_v2_50 (10 classes) on 2x64x64x3 in both libraries."""
  images = np.random.RandomState(3).normal(size=(2, 64, 64, 3))

  def build(lib, inputs, is_training, reuse):
    return oracle_lib.build(lib, lib.resnet_v2_50, inputs, num_classes=10,
                            is_training=is_training, reuse=reuse)

  return oracle_lib.run_against_oracle(
      tmp_path_factory.mktemp('v2_50'), oracle, resnet_v2,
      _training_and_inference(build), images.astype(np.float32), seed=4)


@pytest.fixture(scope='module')
def v2_50_dynamic():
  """resnet_v2_50 features on [None, None, None, 3], pooled and dense.

  The dense tower (global_pool=False) reuses the pooled tower's variables.
  Inference mode, so outputs do not depend on the rest of the batch.
  """
  graph = tf.Graph()
  with graph.as_default(), graph_building.fast_graph_building():
    images = tf.placeholder(tf.float32, [None, None, None, 3])
    pooled, pooled_end_points = oracle_lib.build(
        resnet_v2, resnet_v2.resnet_v2_50, images, num_classes=None,
        is_training=False)
    num_variables = len(tf.global_variables())
    dense, dense_end_points = oracle_lib.build(
        resnet_v2, resnet_v2.resnet_v2_50, images, num_classes=None,
        is_training=False, global_pool=False, reuse=True)
    sess = tf.Session()
    oracle_lib.initialize_randomly(sess, tf.global_variables(),
                                   np.random.RandomState(6))
  yield {'graph': graph, 'images': images, 'sess': sess,
         'pooled': pooled, 'pooled_end_points': pooled_end_points,
         'dense': dense, 'dense_end_points': dense_end_points,
         'num_variables_one_tower': num_variables}
  sess.close()


# ---------------------------------------------------------------------------
# Variable names and counts.


def test_variable_names_and_shapes_match_published_checkpoint(v2_50_224):
  """Spot-checks names (and shapes) that the published checkpoints contain.

  A renamed scope (e.g. 'BatchNorm', 'preact', 'postnorm') would make every
  published checkpoint fail to restore.
  """
  shapes = {v.op.name: v.shape.as_list() for v in v2_50_224['variables']}
  unit = SCOPE + '/block1/unit_1/bottleneck_v2'
  bn = ('gamma', 'beta', 'moving_mean', 'moving_variance')
  expected = {
      SCOPE + '/conv1/weights': [7, 7, 3, 64],
      SCOPE + '/conv1/biases': [64],
      unit + '/shortcut/weights': [1, 1, 64, 256],
      unit + '/shortcut/biases': [256],
      unit + '/conv1/weights': [1, 1, 64, 64],
      unit + '/conv2/weights': [3, 3, 64, 64],
      unit + '/conv3/weights': [1, 1, 64, 256],
      unit + '/conv3/biases': [256],
      SCOPE + '/logits/weights': [1, 1, 2048, 1000],
      SCOPE + '/logits/biases': [1000],
  }
  for name in bn:
    expected[unit + '/preact/' + name] = [64]
    expected[unit + '/conv1/BatchNorm/' + name] = [64]
    expected[unit + '/conv2/BatchNorm/' + name] = [64]
    expected[SCOPE + '/postnorm/' + name] = [2048]
  for name, shape in expected.items():
    assert name in shapes, name
    assert shapes[name] == shape, name
  # The root conv and the residual convs that end a unit have no batch norm.
  for absent in (SCOPE + '/conv1/BatchNorm/gamma', unit + '/conv1/biases',
                 unit + '/conv3/BatchNorm/gamma'):
    assert absent not in shapes


def test_all_variable_names_and_shapes_equal_oracle(v2_50_224,
                                                    oracle_v2_50_224):
  """The full resnet_v2_50 variable set (names and shapes) is the oracle's."""
  ours = {v.op.name: v.shape.as_list() for v in v2_50_224['variables']}
  theirs = {v.op.name: v.shape.as_list()
            for v in oracle_v2_50_224['variables']}
  assert sorted(ours) == sorted(theirs)
  assert ours == theirs


PUBLISHED_COUNTS = {  # depth: (variables, parameters) with 1000 classes
    50: (272, 25568360),
    101: (544, 44577896),
    152: (816, 60236904),
    200: (1072, 64726120),
}


@pytest.mark.parametrize('depth', sorted(PUBLISHED_COUNTS))
def test_variable_and_parameter_counts(depth):
  """Published counts with 1000 classes; a missing or extra unit shows here.

  The net's pinned count and the hand count of tests/arithmetic.py must
  both be the published one; test_nets_factory checks both against full
  builds, and the build below against the variables too.
  """
  info = nets_factory.get_model_info('resnet_v2_%d' % depth)
  counted = arithmetic.counts_of(info)
  assert info.params == PUBLISHED_COUNTS[depth][1]
  assert (counted.variables, counted.params) == PUBLISHED_COUNTS[depth]


@pytest.mark.xdist_group('full_depth')
def test_built_variables_lie_in_the_default_scope(full_depth):
  built = full_depth('resnet_v2_50')
  assert built.image_size == 224
  assert (len(built.variables), built.trainable_params) == (
      PUBLISHED_COUNTS[50])
  assert sum(int(np.prod(shape)) for _, shape, trainable in built.variables
             if trainable) == PUBLISHED_COUNTS[50][1]
  for name, _, _ in built.variables:
    assert name.startswith('resnet_v2_50/')


def test_default_image_size():
  """Slim's preprocessing reads `default_image_size` from the builder."""
  builders = [resnet_v2.resnet_v2] + [
      getattr(resnet_v2, 'resnet_v2_%d' % d) for d in (50, 101, 152, 200)]
  for builder in builders:
    assert builder.default_image_size == 224, builder.__name__


# ---------------------------------------------------------------------------
# End points.


def _expected_end_point_keys(units_per_block, scope):
  """Every conv, projection shortcut, unit and block of the net, by name."""
  keys = {scope + '/conv1'}
  for b, units in enumerate(units_per_block):
    block = '%s/block%d' % (scope, b + 1)
    keys.add(block)
    for u in range(units):
      unit = '%s/unit_%d/bottleneck_v2' % (block, u + 1)
      keys.update([unit, unit + '/conv1', unit + '/conv2', unit + '/conv3'])
      if u == 0:  # Only the first unit of a block changes the depth.
        keys.add(unit + '/shortcut')
  return keys


def test_end_point_keys(v2_50_224):
  """All units, convs, shortcuts and blocks, plus the head's end points."""
  expected = _expected_end_point_keys(UNITS_50, SCOPE) | {
      'global_pool', SCOPE + '/logits', SCOPE + '/spatial_squeeze',
      'predictions'}
  assert set(v2_50_224['end_points']) == expected


def test_end_point_keys_equal_oracle(v2_50_224, oracle_v2_50_224):
  """Apart from our two additions, the keys are exactly the oracle's."""
  ours = set(v2_50_224['end_points']) - {'global_pool',
                                         SCOPE + '/spatial_squeeze'}
  assert ours == set(oracle_v2_50_224['end_points'])


def test_end_point_shapes_at_224(v2_50_224):
  """Shapes follow the stride placement: last unit of blocks 1-3 strided."""
  end_points = v2_50_224['end_points']

  def shape(key):
    return end_points[key].shape.as_list()

  unit = SCOPE + '/block1/unit_%d/bottleneck_v2'
  assert shape(SCOPE + '/conv1') == [None, 112, 112, 64]
  assert shape(unit % 1) == [None, 56, 56, 256]
  assert shape(unit % 2) == [None, 56, 56, 256]
  assert shape(unit % 3) == [None, 28, 28, 256]
  assert shape(SCOPE + '/block1') == [None, 28, 28, 256]
  assert shape(SCOPE + '/block2') == [None, 14, 14, 512]
  assert shape(SCOPE + '/block3') == [None, 7, 7, 1024]
  assert shape(SCOPE + '/block4') == [None, 7, 7, 2048]
  assert shape('global_pool') == [None, 1, 1, 2048]
  assert shape(SCOPE + '/logits') == [None, 1, 1, 1000]
  assert shape(SCOPE + '/spatial_squeeze') == [None, 1000]
  assert shape('predictions') == [None, 1000]
  assert v2_50_224['net'].shape.as_list() == [None, 1000]


# ---------------------------------------------------------------------------
# Numerics against the oracle.

NETS_VS_ORACLE = ['tiny_vs_oracle', 'v2_50_vs_oracle']


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


@pytest.mark.parametrize('is_training', [True, False],
                         ids=['training', 'inference'])
@pytest.mark.parametrize('fixture', NETS_VS_ORACLE)
def test_outputs_match_oracle(fixture, is_training, request):
  """Logits and every common end point equal the oracle's to 1e-5."""
  results = request.getfixturevalue(fixture)
  net, end_points = results['ours']['outputs'][is_training]
  oracle_net, oracle_end_points = results['oracle']['outputs'][is_training]
  # The oracle keeps [N, 1, 1, C] logits and predictions; ours are squeezed.
  np.testing.assert_allclose(net, np.squeeze(oracle_net, (1, 2)),
                             rtol=0, atol=1e-5)
  assert set(oracle_end_points) <= set(end_points)
  assert len(oracle_end_points) > 10
  for key, expected in oracle_end_points.items():
    actual = end_points[key]
    if key == 'predictions':
      expected = np.squeeze(expected, (1, 2))
    assert actual.shape == expected.shape, key
    np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-5,
                               err_msg=key)


@pytest.mark.parametrize('fixture', NETS_VS_ORACLE)
def test_inference_uses_restored_moving_statistics(fixture, request):
  """Training and inference outputs differ, so the comparison is not vacuous.

  With random moving statistics, inference mode must not reproduce the
  batch-statistics result; if it did, the moving averages would be unused.
  """
  results = request.getfixturevalue(fixture)
  training = results['ours']['outputs'][True][0]
  inference = results['ours']['outputs'][False][0]
  assert np.max(np.abs(training - inference)) > 1e-2
  assert np.all(np.isfinite(inference))


# ---------------------------------------------------------------------------
# Output stride and atrous convolution.


OUTPUT_STRIDES = (4, 8, 16)


@pytest.fixture(scope='module')
def tiny_output_strides():
  """The tiny net's features on 1x65x65x3, nominal and at each stride.

  All towers share the variables of the nominal one (reuse=True), which get
  random values; inference mode so the moving statistics are used.
  """
  graph = tf.Graph()
  with graph.as_default(), graph_building.fast_graph_building():
    rng = np.random.RandomState(8)
    images = tf.constant(rng.normal(size=(1, 65, 65, 3)).astype(np.float32))
    towers = {None: _build_tiny(resnet_v2, images, global_pool=False,
                                is_training=False)}
    for output_stride in OUTPUT_STRIDES:
      towers[output_stride] = _build_tiny(
          resnet_v2, images, global_pool=False, is_training=False,
          output_stride=output_stride, reuse=True)
    static_shapes = {s: (net.shape.as_list(),
                         end_points[TINY_SCOPE + '/conv1'].shape.as_list())
                     for s, (net, end_points) in towers.items()}
    with tf.Session() as sess:
      oracle_lib.initialize_randomly(sess, tf.global_variables(), rng)
      values = sess.run({s: net for s, (net, _) in towers.items()})
  return {'static_shapes': static_shapes, 'values': values}


def test_nominal_stride_is_32_with_root_block(tiny_output_strides):
  """Root (conv1 /2, pool1 /2) and three strided blocks: 65 -> 33 -> 3."""
  net_shape, conv1_shape = tiny_output_strides['static_shapes'][None]
  assert conv1_shape == [1, 33, 33, 64]
  assert net_shape == [1, 3, 3, 64]


@pytest.mark.parametrize('output_stride', OUTPUT_STRIDES)
def test_output_stride_matches_subsampled_nominal_features(
    tiny_output_strides, output_stride):
  """Atrous units compute the nominal features, only more densely.

  At a size of the form k * 32 + 1, the nominal (stride 32) features are the
  dense ones sampled every 32 / output_stride positions from index 0.
  """
  size = 64 // output_stride + 1
  net_shape, _ = tiny_output_strides['static_shapes'][output_stride]
  assert net_shape == [1, size, size, 64]
  nominal = tiny_output_strides['values'][None]
  dense = tiny_output_strides['values'][output_stride]
  assert dense.shape == (1, size, size, 64)
  assert np.max(np.abs(nominal)) > 1e-2
  factor = 32 // output_stride
  np.testing.assert_allclose(dense[:, ::factor, ::factor, :], nominal,
                             rtol=0, atol=1e-4)


def test_output_stride_16_shapes_at_321(graph):
  """Aligned dense prediction: 321x321 becomes (321 - 1) / 16 + 1 = 21."""
  images = tf.placeholder(tf.float32, [1, 321, 321, 3])
  net, end_points = oracle_lib.build(resnet_v2, resnet_v2.resnet_v2_50, images,
                                     num_classes=None, global_pool=False,
                                     output_stride=16, is_training=False)
  assert end_points[SCOPE + '/block1'].shape.as_list() == [1, 41, 41, 256]
  assert end_points[SCOPE + '/block2'].shape.as_list() == [1, 21, 21, 512]
  assert end_points[SCOPE + '/block3'].shape.as_list() == [1, 21, 21, 1024]
  assert end_points[SCOPE + '/block4'].shape.as_list() == [1, 21, 21, 2048]
  assert net.shape.as_list() == [1, 21, 21, 2048]


# ---------------------------------------------------------------------------
# Unknown sizes, pooling and the features-only net.


def test_unknown_batch_height_width_static_shapes(v2_50_dynamic):
  """Batch and spatial sizes stay unknown; channels and pooled dims known."""
  end_points = v2_50_dynamic['pooled_end_points']
  assert end_points[SCOPE + '/conv1'].shape.as_list() == [
      None, None, None, 64]
  for block, depth in zip(range(1, 5), (256, 512, 1024, 2048)):
    key = '%s/block%d' % (SCOPE, block)
    assert end_points[key].shape.as_list() == [None, None, None, depth]
  assert end_points['global_pool'].shape.as_list() == [None, 1, 1, 2048]
  assert v2_50_dynamic['pooled'].shape.as_list() == [None, 1, 1, 2048]
  assert v2_50_dynamic['dense'].shape.as_list() == [None, None, None, 2048]


@pytest.mark.parametrize('batch, height, width', [(1, 64, 64),
                                                  (2, 97, 81)])
def test_unknown_size_runs_with_arithmetic_shapes(v2_50_dynamic, batch,
                                                  height, width):
  """One graph serves any image size; each stride-2 layer rounds up."""
  rng = np.random.RandomState(height)
  images = rng.normal(size=(batch, height, width, 3)).astype(np.float32)
  end_points = v2_50_dynamic['pooled_end_points']
  fetches = {key: end_points['%s/block%d' % (SCOPE, b)]
             for key, b in (('block1', 1), ('block3', 3), ('block4', 4))}
  fetches['conv1'] = end_points[SCOPE + '/conv1']
  fetches['pooled'] = v2_50_dynamic['pooled']
  out = v2_50_dynamic['sess'].run(
      fetches, {v2_50_dynamic['images']: images})
  assert out['conv1'].shape == (batch, _halve(height, 1), _halve(width, 1),
                                64)
  assert out['block1'].shape == (batch, _halve(height, 3), _halve(width, 3),
                                 256)
  assert out['block3'].shape == (batch, _halve(height, 5), _halve(width, 5),
                                 1024)
  assert out['block4'].shape == out['block3'].shape[:3] + (2048,)
  assert out['pooled'].shape == (batch, 1, 1, 2048)


def test_features_only_without_num_classes(v2_50_dynamic):
  """num_classes=None: pooled features out, no logits or predictions."""
  end_points = v2_50_dynamic['pooled_end_points']
  for key in (SCOPE + '/logits', SCOPE + '/spatial_squeeze', 'predictions'):
    assert key not in end_points
  assert v2_50_dynamic['pooled'] is end_points['global_pool']
  with v2_50_dynamic['graph'].as_default():
    names = [v.op.name for v in tf.global_variables()]
  assert not any('/logits/' in name for name in names)


def test_global_pool_false_gives_dense_map(v2_50_dynamic):
  """Without pooling the net returns the map whose mean the pooled net is."""
  images = np.random.RandomState(7).normal(size=(2, 97, 65, 3))
  pooled, dense = v2_50_dynamic['sess'].run(
      [v2_50_dynamic['pooled'], v2_50_dynamic['dense']],
      {v2_50_dynamic['images']: images.astype(np.float32)})
  assert dense.shape == (2, 4, 3, 2048)
  assert 'global_pool' not in v2_50_dynamic['dense_end_points']
  with v2_50_dynamic['graph'].as_default():  # The dense tower reused them all.
    assert (len(tf.global_variables()) ==
            v2_50_dynamic['num_variables_one_tower'])
  assert np.std(dense, axis=(1, 2)).max() > 1e-3  # Not a constant map.
  np.testing.assert_allclose(dense.mean(axis=(1, 2), keepdims=True), pooled,
                             rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------------------
# Variable sharing and the root block.


def test_reuse_shares_variables(graph, rng):
  """A second tower with reuse=True adds no variable and computes the same."""
  images = tf.constant(rng.normal(size=(2, 33, 33, 3)).astype(np.float32))
  first, _ = _build_tiny(resnet_v2, images, num_classes=5, is_training=False)
  num_variables = len(tf.global_variables())
  second, _ = _build_tiny(resnet_v2, images, num_classes=5,
                          is_training=False, reuse=True)
  assert len(tf.global_variables()) == num_variables
  with tf.Session() as sess:
    oracle_lib.initialize_randomly(sess, tf.global_variables(), rng)
    first_value, second_value = sess.run([first, second])
  assert np.max(np.abs(first_value)) > 1e-3
  np.testing.assert_allclose(first_value, second_value, rtol=0, atol=1e-6)


def test_without_root_block(graph, tiny_output_strides):
  """include_root_block=False: no conv1/pool1, and 4x less downsampling.

  Without the root the stack's own strides (8 here) are all there is: at
  65x65 the output is 9x9 where the net with root gives 3x3. output_stride is
  then measured from the stack alone: 16 is no longer reachable, 2 is.
  """
  features = tf.placeholder(tf.float32, [1, 65, 65, 8])
  net, end_points = _build_tiny(resnet_v2, features, global_pool=False,
                                include_root_block=False)
  names = [v.op.name for v in tf.global_variables()]
  assert names
  assert not any(n.startswith(TINY_SCOPE + '/conv1/') for n in names)
  assert not any(op.name.startswith(TINY_SCOPE + '/pool1')
                 for op in graph.get_operations())
  assert TINY_SCOPE + '/conv1' not in end_points
  assert net.shape.as_list() == [1, 9, 9, 64]
  with_root_shape, _ = tiny_output_strides['static_shapes'][None]
  assert with_root_shape == [1, 3, 3, 64]
  dense, _ = _build_tiny(resnet_v2, features, global_pool=False,
                         include_root_block=False, output_stride=2,
                         reuse=True)
  assert dense.shape.as_list() == [1, 33, 33, 64]
  with pytest.raises(ValueError, match=r'output_stride.*\[1, 2, 4, 8\]'):
    _build_tiny(resnet_v2, features, include_root_block=False,
                output_stride=16, reuse=True)


# ---------------------------------------------------------------------------
# Bad arguments.

BAD_ARGUMENTS = [
    ('rank3', [224, 224, 3], {},
     r'inputs must be a rank-4 tensor .*got rank 3'),
    ('rank5', [1, 2, 224, 224, 3], {},
     r'inputs must be a rank-4 tensor .*got rank 5'),
    ('output_stride6', [1, 224, 224, 3], {'output_stride': 6},
     r'output_stride must be None .*\[4, 8, 16, 32\].*multiple of 4.*got 6'),
    ('output_stride64', [1, 224, 224, 3], {'output_stride': 64},
     r'output_stride must be None .*\[4, 8, 16, 32\].*got 64'),
    ('output_stride0', [1, 224, 224, 3], {'output_stride': 0},
     r'output_stride must be None .*\[4, 8, 16, 32\].*got 0'),
    ('num_classes0', [1, 224, 224, 3], {'num_classes': 0},
     r'num_classes must be None .*positive integer; got 0'),
    ('num_classes-3', [1, 224, 224, 3], {'num_classes': -3},
     r'num_classes must be None .*positive integer; got -3'),
    ('num_classes2.5', [1, 224, 224, 3], {'num_classes': 2.5},
     r'num_classes must be None .*positive integer; got 2\.5'),
]


@pytest.mark.parametrize('shape, kwargs, message',
                         [case[1:] for case in BAD_ARGUMENTS],
                         ids=[case[0] for case in BAD_ARGUMENTS])
def test_bad_arguments_raise_before_building(graph, shape, kwargs, message):
  """A clear ValueError, and the user's graph is left exactly as it was."""
  images = tf.placeholder(tf.float32, shape)
  before = oracle_lib.graph_size(graph)
  with pytest.raises(ValueError, match=message):
    oracle_lib.build(resnet_v2, resnet_v2.resnet_v2_50, images, **kwargs)
  assert oracle_lib.graph_size(graph) == before
  assert tf.global_variables() == []


def test_eager_mode_raises_runtime_error():
  """TF2 runs eagerly by default; the builder says how to build a graph."""
  assert tf.executing_eagerly()
  with pytest.raises(RuntimeError, match=r'(?s)resnet_v2.*tf\.Graph'):
    resnet_v2.resnet_v2_50(tf.zeros([1, 224, 224, 3]), num_classes=10)


def _squeeze_dense_logits(images):
  """Asks for squeezed logits from a 3x3 logits map (65x65, stride 32)."""
  _build_tiny(resnet_v2, images, num_classes=5, global_pool=False,
              spatial_squeeze=True)


def test_spatial_squeeze_of_dense_logits_raises(graph):
  """Squeezing a known 3x3 logits map is an error naming spatial_squeeze."""
  images = tf.placeholder(tf.float32, [1, 65, 65, 3])
  with pytest.raises(ValueError,
                     match=r'spatial_squeeze=True needs 1x1 logits.*'
                     r'spatial_squeeze=False'):
    _squeeze_dense_logits(images)


def test_spatial_squeeze_of_dense_logits_leaves_graph_untouched(graph):
  """Like every other argument error, this one must not build anything.

  `resnet_utils.checks` promises that a bad call leaves the graph untouched;
  for a static spatial size the logits' size is known from the input shape
  and the output stride before any variable is created.
  """
  images = tf.placeholder(tf.float32, [1, 65, 65, 3])
  before = oracle_lib.graph_size(graph)
  with pytest.raises(ValueError, match='spatial_squeeze'):
    _squeeze_dense_logits(images)
  assert oracle_lib.graph_size(graph) == before
  assert tf.global_variables() == []


# ---------------------------------------------------------------------------
# Batch norm updates.


def test_training_mode_queues_moving_average_updates(graph, rng):
  """is_training=True: two update ops per batch norm, and they do update."""
  images = tf.constant(rng.normal(size=(2, 33, 33, 3)).astype(np.float32))
  _build_tiny(resnet_v2, images, num_classes=5, is_training=True)
  update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
  moving_means = [v for v in tf.global_variables()
                  if v.op.name.endswith('/moving_mean')]
  # preact, conv1 and conv2 norms per unit, plus postnorm.
  num_units = sum(units for _, _, units, _ in TINY_BLOCKS)
  assert len(moving_means) == 3 * num_units + 1
  assert len(update_ops) == 2 * len(moving_means)
  with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    before = sess.run(moving_means)
    sess.run(update_ops)
    after = sess.run(moving_means)
  for name_var, old, new in zip(moving_means, before, after):
    assert np.max(np.abs(new - old)) > 0, name_var.op.name


def test_training_mode_update_ops_of_full_net(v2_50_224):
  """The full resnet_v2_50 (is_training defaults to True) queues all of them."""
  with v2_50_224['graph'].as_default():
    update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
  assert len(update_ops) == 2 * (3 * sum(UNITS_50) + 1)


def test_inference_mode_queues_no_updates_and_ignores_batch(graph, rng):
  """is_training=False: no update ops, and each image's output is its own."""
  images = tf.placeholder(tf.float32, [None, 33, 33, 3])
  logits, _ = _build_tiny(resnet_v2, images, num_classes=5,
                          is_training=False)
  assert tf.get_collection(tf.GraphKeys.UPDATE_OPS) == []
  batch = rng.normal(size=(3, 33, 33, 3)).astype(np.float32)
  with tf.Session() as sess:
    oracle_lib.initialize_randomly(sess, tf.global_variables(), rng)
    together = sess.run(logits, {images: batch})
    alone = sess.run(logits, {images: batch[:1]})
  np.testing.assert_allclose(alone, together[:1], rtol=0, atol=1e-5)
