"""Tests of the variants both families offer beyond slim's ImageNet nets.

Basic-block nets (ResNet-18/34), the CIFAR nets of He et al., DeepLab's
'beta' root, multi-grid atrous rates, width scaling, custom block stacks and
the builders' calling convention; and, since nothing here has a published
checkpoint to compare with, a short training run of a basic-block and of the
CIFAR nets on a tiny synthetic task that must be learned.

Expected values are either published figures (parameter counts), derived
independently in the test (shapes from the strides, parameter counts from a
closed formula) or read from the graph in a way that does not go through the
code under test (atrous rates from the convolution ops).

Graphs take seconds to build, so the named nets come from the session's
shared full-depth builds (conftest's `full_depth_net`), through `named_net`.
"""

import arithmetic
import numpy as np
import oracle as oracle_lib
import pytest
import tensorflow.compat.v1 as tf
from tensorflow.python.framework import tensor_util
import tf_slim as slim

from nets import nets_factory
from nets import resnet_v1
from nets import resnet_v2
from resnet_utils import Block
from resnet_utils import graph_building
from resnet_utils import network

LIBS = {'resnet_v1': resnet_v1, 'resnet_v2': resnet_v2}
BN_VARIABLES = ('beta', 'gamma', 'moving_mean', 'moving_variance')


def _lib(name):
  """The module (resnet_v1 or resnet_v2) a builder name belongs to."""
  return LIBS[name[:len('resnet_vN')]]


@pytest.fixture
def named_net(full_depth_net):
  """`named_net(name)` -> dict, from the session's shared full-depth builds.

  Each net has its own graph, a [1, S, S, 3] input with S the builder's
  `default_image_size`, its reference class count (1000 for ImageNet nets,
  10 for CIFAR nets), inference mode. The dict holds 'graph', 'net',
  'end_points', 'shapes' (variable name -> shape) and 'trainable'
  (parameter count). Tests using it are in the 'full_depth' xdist group.
  """

  def get(name):
    built = full_depth_net(name)
    assert built.image_size == getattr(_lib(name), name).default_image_size
    with built.graph.as_default():
      variables, trainable = tf.global_variables(), tf.trainable_variables()
    return {'graph': built.graph, 'net': built.net,
            'end_points': built.end_points,
            'shapes': oracle_lib.shapes(variables),
            'trainable': oracle_lib.count_parameters(trainable)}

  return get


FULL_DEPTH = pytest.mark.xdist_group('full_depth')


# ---------------------------------------------------------------------------
# Basic-block nets (ResNet-18/34).

# Built at full depth: the 18-layer nets. ResNet-34 runs the same code with
# more units per block (checked against the paper in test_nets_factory), and
# its counts are pinned by the hand count of tests/arithmetic.py.
BASIC_NETS = ['resnet_v1_18', 'resnet_v2_18']
# Units in block 1 and block 2 (the last one of each is strided).
BASIC_UNITS = (2, 2)


@FULL_DEPTH
@pytest.mark.parametrize('name', BASIC_NETS)
def test_basic_unit_variable_scopes(named_net, name):
  """'basic_block_vN' units with two 3x3 convs, and a projection shortcut
  only where the depth changes (block 2, unit 1: 64 -> 128).

  V1 normalizes every conv and the projection; V2 normalizes the unit input
  once ('preact') and leaves conv2 and the projection bare, with biases,
  since the next unit's preact (or the final postnorm) normalizes the sum.
  """
  shapes = named_net(name)['shapes']
  family = name[:len('resnet_vN')]
  version = family[-2:]
  unit = '%s/block1/unit_1/basic_block_%s/' % (name, version)
  projection = '%s/block2/unit_1/basic_block_%s/' % (name, version)
  assert shapes[unit + 'conv1/weights'] == [3, 3, 64, 64]
  assert shapes[unit + 'conv2/weights'] == [3, 3, 64, 64]
  assert shapes[projection + 'conv1/weights'] == [3, 3, 64, 128]
  assert shapes[projection + 'conv2/weights'] == [3, 3, 128, 128]
  assert shapes[projection + 'shortcut/weights'] == [1, 1, 64, 128]
  assert not any(n.startswith(unit + 'shortcut/') for n in shapes)
  assert not any('bottleneck' in n or '/conv3/' in n for n in shapes)
  for bn in BN_VARIABLES:
    assert shapes[unit + 'conv1/BatchNorm/' + bn] == [64]
  if version == 'v1':
    for bn in BN_VARIABLES:
      assert shapes[unit + 'conv2/BatchNorm/' + bn] == [64]
      assert shapes[projection + 'shortcut/BatchNorm/' + bn] == [128]
    assert [n for n in shapes if n.endswith('/biases')] == [
        name + '/logits/biases']
    assert not any('/preact/' in n for n in shapes)
  else:
    assert shapes[unit + 'conv2/biases'] == [64]
    assert shapes[projection + 'shortcut/biases'] == [128]
    for bn in BN_VARIABLES:
      assert shapes[unit + 'preact/' + bn] == [64]
      assert shapes[name + '/postnorm/' + bn] == [512]
    for absent in ('conv2/BatchNorm/gamma', 'conv1/biases'):
      assert unit + absent not in shapes
    assert projection + 'shortcut/BatchNorm/gamma' not in shapes


@FULL_DEPTH
@pytest.mark.parametrize('name', BASIC_NETS)
def test_basic_net_shapes_at_224(named_net, name):
  """Nominal stride 32 with 64-128-256-512 channels: block4 is 7x7x512."""
  built = named_net(name)
  end_points = built['end_points']
  sizes = [end_points['%s/block%d' % (name, b)].shape.as_list()
           for b in (1, 2, 3, 4)]
  assert sizes == [[1, 28, 28, 64], [1, 14, 14, 128], [1, 7, 7, 256],
                   [1, 7, 7, 512]]
  assert end_points[name + '/conv1'].shape.as_list() == [1, 112, 112, 64]
  assert end_points['global_pool'].shape.as_list() == [1, 1, 1, 512]
  assert built['net'].shape.as_list() == [1, 1000]


@FULL_DEPTH
@pytest.mark.parametrize('name', BASIC_NETS)
def test_basic_unit_strides_on_its_second_conv(named_net, name):
  """In a block's last unit conv1 keeps the resolution and conv2 halves it.

  The stride on the unit's last spatial convolution is what lets
  output_stride trade it for an atrous rate exactly. conv1 ends in a ReLU,
  conv2 does not: the unit rectifies (V1) or leaves (V2) the sum instead.
  """
  end_points = named_net(name)['end_points']
  version = name[len('resnet_'):len('resnet_vN')]
  for block, (units, size, depth) in enumerate(
      zip(BASIC_UNITS, (56, 28), (64, 128))):
    unit = '%s/block%d/unit_%d/basic_block_%s/' % (name, block + 1, units,
                                                   version)
    conv1, conv2 = end_points[unit + 'conv1'], end_points[unit + 'conv2']
    assert conv1.shape.as_list() == [1, size, size, depth]
    assert conv2.shape.as_list() == [1, size // 2, size // 2, depth]
    assert conv1.op.type == 'Relu'
    assert conv2.op.type != 'Relu'


# ---------------------------------------------------------------------------
# CIFAR nets.

# name: (trainable parameters with 10 classes, unit kind). The paper's
# "0.27M" for ResNet-20 was counted with parameter-free shortcuts; the two
# projections where the depth changes add 2,752 to it here.
CIFAR_NETS = {
    'resnet_v1_cifar_20': (272474, 'basic'),
    'resnet_v1_cifar_32': (466906, 'basic'),
    'resnet_v1_cifar_44': (661338, 'basic'),
    'resnet_v1_cifar_56': (855770, 'basic'),
    'resnet_v1_cifar_110': (1730714, 'basic'),
    'resnet_v2_cifar_20': (272730, 'basic'),
    'resnet_v2_cifar_32': (467386, 'basic'),
    'resnet_v2_cifar_44': (662042, 'basic'),
    'resnet_v2_cifar_56': (856698, 'basic'),
    'resnet_v2_cifar_110': (1732650, 'basic'),
    'resnet_v2_cifar_164': (1711786, 'bottleneck'),
}


def test_cifar_default_image_size():
  """Slim's preprocessing reads the input size from the builder: 32."""
  for name in CIFAR_NETS:
    assert getattr(_lib(name), name).default_image_size == 32, name
  assert resnet_v1.resnet_v1_18.default_image_size == 224
  assert resnet_v2.resnet_v2_50_beta.default_image_size == 224


@pytest.mark.parametrize('name', sorted(CIFAR_NETS))
def test_cifar_net_parameter_count(name):
  """Pinned counts with 10 classes; one unit more or less would show.

  Counted by hand (tests/arithmetic.py), which test_nets_factory checks
  against full builds of the 20-layer nets and of resnet_v2_cifar_164.
  """
  info = nets_factory.get_model_info(name)
  assert info.unit == CIFAR_NETS[name][1]
  assert arithmetic.counts_of(info).params == CIFAR_NETS[name][0]


# Built at full depth: one net of each unit kind; the other depths differ
# only in the number of units per block.
BUILT_CIFAR_NETS = ['resnet_v1_cifar_20', 'resnet_v2_cifar_20',
                    'resnet_v2_cifar_164']


@FULL_DEPTH
@pytest.mark.parametrize('name', BUILT_CIFAR_NETS)
def test_cifar_net_shapes_at_32(named_net, name):
  """A 3x3 stride-1 root without pooling, then blocks of stride 2, 2, 1.

  So at 32x32 the root keeps 32x32, and, with each block's stride on its
  last unit, the block end points are 16x16, 8x8 and 8x8: the final map is
  8x8 with 64 channels (basic units) or 4 * 64 = 256 (bottlenecks).
  """
  built = named_net(name)
  end_points, shapes = built['end_points'], built['shapes']
  expansion = 4 if CIFAR_NETS[name][1] == 'bottleneck' else 1
  depths = [expansion * d for d in arithmetic.CIFAR_DEPTHS]
  assert shapes[name + '/conv1/weights'] == [3, 3, 3, 16]
  assert end_points[name + '/conv1'].shape.as_list() == [1, 32, 32, 16]
  sizes = [end_points['%s/block%d' % (name, b)].shape.as_list()
           for b in (1, 2, 3)]
  assert sizes == [[1, 16, 16, depths[0]], [1, 8, 8, depths[1]],
                   [1, 8, 8, depths[2]]]
  assert name + '/block4' not in end_points
  assert not any('pool1' in op.name for op in built['graph'].get_operations())
  assert end_points['global_pool'].shape.as_list() == [1, 1, 1, depths[2]]
  assert built['net'].shape.as_list() == [1, 10]


# ---------------------------------------------------------------------------
# DeepLab's beta root.


@FULL_DEPTH
@pytest.mark.parametrize('name', ['resnet_v1_50_beta', 'resnet_v2_50_beta'])
def test_beta_root_variables_and_counts(named_net, name):
  """Three 3x3 convs (64, 64, 128; the first strided) replace the 7x7 conv.

  The default scope is the plain net's ('resnet_v1_50'), as in DeepLab's
  checkpoints. V1 normalizes all three; V2 leaves the last one bare with
  biases for the first unit's preact to normalize. The first unit's
  projection and conv1 read 128 channels.
  """
  built = named_net(name)
  shapes = built['shapes']
  scope = name[:-len('_beta')]
  version = scope[len('resnet_'):len('resnet_vN')]
  assert all(n.startswith(scope + '/') for n in shapes)
  assert shapes[scope + '/conv1_1/weights'] == [3, 3, 3, 64]
  assert shapes[scope + '/conv1_2/weights'] == [3, 3, 64, 64]
  assert shapes[scope + '/conv1_3/weights'] == [3, 3, 64, 128]
  assert not any(n.startswith(scope + '/conv1/') for n in shapes)
  unit = '%s/block1/unit_1/bottleneck_%s/' % (scope, version)
  assert shapes[unit + 'shortcut/weights'] == [1, 1, 128, 256]
  assert shapes[unit + 'conv1/weights'] == [1, 1, 128, 64]
  for conv in ('conv1_1', 'conv1_2'):
    assert shapes['%s/%s/BatchNorm/gamma' % (scope, conv)] == [64]
    assert '%s/%s/biases' % (scope, conv) not in shapes
  if version == 'v1':
    assert shapes[scope + '/conv1_3/BatchNorm/gamma'] == [128]
    assert scope + '/conv1_3/biases' not in shapes
  else:
    assert shapes[scope + '/conv1_3/biases'] == [128]
    assert scope + '/conv1_3/BatchNorm/gamma' not in shapes
  published = {'resnet_v1_50_beta': 25680808, 'resnet_v2_50_beta': 25692200}
  assert built['trainable'] == published[name]


@FULL_DEPTH
@pytest.mark.parametrize('name', ['resnet_v1_50_beta', 'resnet_v2_50_beta'])
def test_beta_root_end_points(named_net, name):
  """The root still has stride 4, and DeepLab's decoder keys exist.

  DeepLab reads the stride-4 features of a beta net from the last
  convolution of block 1's second unit.
  """
  end_points = named_net(name)['end_points']
  scope = name[:-len('_beta')]
  version = scope[len('resnet_'):len('resnet_vN')]

  def shape(key):
    return end_points[scope + '/' + key].shape.as_list()

  assert shape('conv1_1') == [1, 112, 112, 64]
  assert shape('conv1_2') == [1, 112, 112, 64]
  assert shape('conv1_3') == [1, 112, 112, 128]
  decoder = 'block1/unit_2/bottleneck_%s/conv3' % version
  assert shape(decoder) == [1, 56, 56, 256]
  assert shape('block1') == [1, 28, 28, 256]
  assert shape('block4') == [1, 7, 7, 2048]
  if version == 'v1':  # The key DeepLab's v1 decoder hard-codes.
    assert 'resnet_v1_50/block1/unit_2/bottleneck_v1/conv3' in end_points


# ---------------------------------------------------------------------------
# Multi-grid and width scaling.


def _atrous_rate(graph, conv_scope):
  """The dilation of the one convolution under `conv_scope`.

  Read from the ops, however TensorFlow lowered the dilated convolution:
  SpaceToBatchND / Conv2D / BatchToSpaceND with block_shape = rate, or one
  Conv2D with a `dilations` attribute.
  """
  ops = [op for op in graph.get_operations()
         if op.name.startswith(conv_scope + '/')]
  space_to_batch = [op for op in ops if op.type == 'SpaceToBatchND']
  if space_to_batch:
    assert len(space_to_batch) == 1, conv_scope
    return [int(r) for r in
            tensor_util.constant_value(space_to_batch[0].inputs[1])]
  convs = [op for op in ops if op.type == 'Conv2D']
  assert len(convs) == 1, conv_scope
  return [int(r) for r in convs[0].get_attr('dilations')[1:3]]


def _v1_50_at_stride_16(**kwargs):
  """resnet_v1_50 features at output_stride 16, inference, 224x224."""
  graph = tf.Graph()
  with graph.as_default(), graph_building.fast_graph_building():
    images = tf.placeholder(tf.float32, [1, 224, 224, 3])
    net, end_points = oracle_lib.build(resnet_v1, resnet_v1.resnet_v1_50,
                                       images, is_training=False,
                                       global_pool=False, output_stride=16,
                                       **kwargs)
    shapes = oracle_lib.shapes(tf.global_variables())
  return {'graph': graph, 'net': net, 'end_points': end_points,
          'shapes': shapes}


@pytest.fixture(scope='module')
def v1_50_multi_grid():
  """resnet_v1_50 at output_stride 16, multi_grid (1, 2, 4), a quarter wide."""
  return _v1_50_at_stride_16(multi_grid=(1, 2, 4), depth_multiplier=0.25)


@pytest.fixture(scope='module')
def v1_50_min_base_depth():
  """The same without multi-grid, and with base depths floored at 32."""
  return _v1_50_at_stride_16(depth_multiplier=0.25, min_base_depth=32)


def test_multi_grid_multiplies_the_last_block_rates(v1_50_multi_grid,
                                                    v1_50_min_base_depth):
  """output_stride 16 runs block 4 at rate 2; multi-grid makes that 2, 4, 8.

  Block 3's last unit is the one whose stride turns into that rate: it runs
  at stride 1 and, like the rest of block 3, undilated. Without multi-grid
  every unit of block 4 runs at rate 2.
  """
  unit = 'resnet_v1_50/block%d/unit_%d/bottleneck_v1/conv2'
  graph = v1_50_multi_grid['graph']
  assert [_atrous_rate(graph, unit % (4, u)) for u in (1, 2, 3)] == [
      [2, 2], [4, 4], [8, 8]]
  assert [_atrous_rate(graph, unit % (3, u)) for u in range(1, 7)] == [
      [1, 1]] * 6
  plain = v1_50_min_base_depth['graph']
  assert [_atrous_rate(plain, unit % (4, u)) for u in (1, 2, 3)] == [
      [2, 2]] * 3
  assert v1_50_multi_grid['net'].shape.as_list() == [1, 14, 14, 512]


def test_multi_grid_on_a_custom_v2_stack(graph):
  """`network.with_multi_grid` works on any block of units taking unit_rate.

  Root (4) and block 1 (2) reach output_stride 8, so block 2's stride turns
  into rate 2 for block 3, whose units then run at 2 * 1 and 2 * 3.
  """
  def blocks(multi_grid):
    last = resnet_v2.resnet_v2_block('block3', 8, 2, 1)
    if multi_grid:
      last = network.with_multi_grid(last, (1, 3))
    return [resnet_v2.resnet_v2_block('block1', 4, 1, 2),
            resnet_v2.resnet_v2_block('block2', 4, 1, 2), last]

  images = tf.placeholder(tf.float32, [1, 65, 65, 3])
  for scope in ('plain', 'grid'):
    net, _ = oracle_lib.build(resnet_v2, resnet_v2.resnet_v2, images,
                              blocks(scope == 'grid'), output_stride=8,
                              global_pool=False, scope=scope)
    assert net.shape.as_list() == [1, 9, 9, 32]
  unit = '%s/block%d/unit_%d/bottleneck_v2/conv2'
  assert _atrous_rate(graph, unit % ('grid', 2, 1)) == [1, 1]
  assert [_atrous_rate(graph, unit % ('grid', 3, u)) for u in (1, 2)] == [
      [2, 2], [6, 6]]
  assert [_atrous_rate(graph, unit % ('plain', 3, u)) for u in (1, 2)] == [
      [2, 2], [2, 2]]


@pytest.mark.parametrize('multi_grid, message', [
    ((1, 2), r'one rate per unit of block4 \(3 units\); got \(1, 2\)'),
    ((1, 2, 4, 8), r'one rate per unit of block4 \(3 units\)'),
    ((1, 0, 2), r'positive integers; got \(1, 0, 2\)'),
    ((1, 2, -4), r'positive integers'),
    ((1, 1.5, 2), r'positive integers'),
])
@pytest.mark.parametrize('builder', [resnet_v1.resnet_v1_50,
                                     resnet_v2.resnet_v2_101],
                         ids=['v1_50', 'v2_101'])
def test_bad_multi_grid_raises_before_building(graph, builder, multi_grid,
                                               message):
  """One positive integer rate per unit of the last block, or a ValueError."""
  images = tf.placeholder(tf.float32, [1, 224, 224, 3])
  before = oracle_lib.graph_size(graph)
  with pytest.raises(ValueError, match='multi_grid.*' + message):
    builder(images, output_stride=16, multi_grid=multi_grid)
  assert oracle_lib.graph_size(graph) == before


def test_depth_multiplier_scales_block_widths(v1_50_multi_grid):
  """A quarter of the base depths 64, 128, 256, 512 (above the floor of 8).

  The root convolution is not scaled: it stays 64 channels wide, which is
  now also block 1's output depth (16 * 4), so block 1's first unit needs no
  projection shortcut.
  """
  shapes = v1_50_multi_grid['shapes']
  end_points = v1_50_multi_grid['end_points']
  unit = 'resnet_v1_50/block1/unit_1/bottleneck_v1/'
  assert shapes['resnet_v1_50/conv1/weights'] == [7, 7, 3, 64]
  assert shapes[unit + 'conv1/weights'] == [1, 1, 64, 16]
  assert shapes[unit + 'conv3/weights'] == [1, 1, 16, 64]
  assert unit + 'shortcut/weights' not in shapes
  block2 = 'resnet_v1_50/block2/unit_1/bottleneck_v1/'
  assert shapes[block2 + 'shortcut/weights'] == [1, 1, 64, 128]
  depths = [end_points['resnet_v1_50/block%d' % b].shape.as_list()[-1]
            for b in (1, 2, 3, 4)]
  assert depths == [64, 128, 256, 512]


def test_min_base_depth_floors_the_scaled_depths(v1_50_min_base_depth):
  """Quarter depths 16, 32, 64, 128 floored at 32: block 1 gets 32 * 4."""
  shapes = v1_50_min_base_depth['shapes']
  end_points = v1_50_min_base_depth['end_points']
  unit = 'resnet_v1_50/block1/unit_1/bottleneck_v1/'
  assert shapes['resnet_v1_50/conv1/weights'] == [7, 7, 3, 64]
  assert shapes[unit + 'conv1/weights'] == [1, 1, 64, 32]
  assert shapes[unit + 'shortcut/weights'] == [1, 1, 64, 128]
  depths = [end_points['resnet_v1_50/block%d' % b].shape.as_list()[-1]
            for b in (1, 2, 3, 4)]
  assert depths == [128, 128, 256, 512]


@pytest.mark.parametrize('depth_multiplier', [0, -0.5])
@pytest.mark.parametrize('builder', [resnet_v1.resnet_v1_50,
                                     resnet_v2.resnet_v2_cifar_110],
                         ids=['v1_50', 'v2_cifar_110'])
def test_non_positive_depth_multiplier_raises(graph, builder,
                                              depth_multiplier):
  """A ValueError naming the argument, before anything is built."""
  images = tf.placeholder(tf.float32, [1, 32, 32, 3])
  before = oracle_lib.graph_size(graph)
  with pytest.raises(ValueError, match=r'depth_multiplier must be > 0'):
    builder(images, depth_multiplier=depth_multiplier)
  assert oracle_lib.graph_size(graph) == before


# ---------------------------------------------------------------------------
# Custom stacks and roots.


def _custom_blocks(lib):
  """A uniform basic block, then a hand-written block of unequal units."""
  basic = lib.resnet_v1_basic_block if lib is resnet_v1 else (
      lib.resnet_v2_basic_block)
  return [
      basic('block1', base_depth=8, num_units=2, stride=2),
      Block('stage', lib.basic_block, [{'depth': 8, 'stride': 1},
                                       {'depth': 12, 'stride': 2}]),
  ]


@pytest.mark.parametrize('family', sorted(LIBS))
def test_custom_stack_with_cifar_root(graph, family):
  """Any list of Blocks builds, under `scope`, with the scopes it names.

  The CIFAR root (3x3 conv to 16 channels, stride 1, no pool) feeds a block
  that changes the depth (16 -> 8), so its first unit has a projection; the
  hand-written block's second unit changes depth and stride at once.
  """
  lib = LIBS[family]
  version = family[-2:]
  images = tf.placeholder(tf.float32, [2, 32, 32, 3])
  net, end_points = oracle_lib.build(lib, getattr(lib, family), images,
                                     _custom_blocks(lib), num_classes=3,
                                     root='cifar', scope='custom')
  shapes = oracle_lib.shapes(tf.global_variables())
  unit = 'custom/%s/unit_%d/basic_block_' + version + '/%s'
  assert shapes['custom/conv1/weights'] == [3, 3, 3, 16]
  assert shapes[unit % ('block1', 1, 'shortcut/weights')] == [1, 1, 16, 8]
  assert unit % ('block1', 2, 'shortcut/weights') not in shapes
  assert shapes[unit % ('stage', 2, 'conv1/weights')] == [3, 3, 8, 12]
  assert shapes[unit % ('stage', 2, 'shortcut/weights')] == [1, 1, 8, 12]
  assert all(n.startswith('custom/') for n in shapes)
  if version == 'v1':
    assert 'custom/conv1/BatchNorm/gamma' in shapes
  else:
    assert shapes['custom/conv1/biases'] == [16]
    assert 'custom/conv1/BatchNorm/gamma' not in shapes
    assert shapes['custom/postnorm/gamma'] == [12]
  assert end_points['custom/conv1'].shape.as_list() == [2, 32, 32, 16]
  assert end_points['custom/block1'].shape.as_list() == [2, 16, 16, 8]
  assert end_points['custom/stage'].shape.as_list() == [2, 8, 8, 12]
  assert net.shape.as_list() == [2, 3]
  assert not any('pool1' in op.name for op in graph.get_operations())


@pytest.mark.parametrize('family', sorted(LIBS))
def test_generator_default_scope_is_the_family(graph, family):
  """Without `scope`, the generator names its variables after the family."""
  lib = LIBS[family]
  images = tf.placeholder(tf.float32, [1, 32, 32, 3])
  oracle_lib.build(lib, getattr(lib, family), images, _custom_blocks(lib),
                   root='cifar')
  names = [v.op.name for v in tf.global_variables()]
  assert names and all(n.startswith(family + '/') for n in names)


@pytest.mark.parametrize('root', ['resnet', 'Standard', 'imagenet'])
@pytest.mark.parametrize('family', sorted(LIBS))
def test_unknown_root_raises_listing_accepted_roots(graph, family, root):
  """A ValueError naming the three roots, before anything is built."""
  lib = LIBS[family]
  images = tf.placeholder(tf.float32, [1, 32, 32, 3])
  before = oracle_lib.graph_size(graph)
  with pytest.raises(ValueError,
                     match=r"root must be one of beta, cifar, standard; got "
                     r"'%s'" % root):
    getattr(lib, family)(images, _custom_blocks(lib), root=root)
  assert oracle_lib.graph_size(graph) == before


# ---------------------------------------------------------------------------
# Calling convention.


@pytest.mark.parametrize('builder', [resnet_v1.resnet_v1_50,
                                     resnet_v2.resnet_v2_50,
                                     resnet_v1.resnet_v1_cifar_20,
                                     resnet_v2.resnet_v2_18],
                         ids=lambda b: b.__name__)
def test_arguments_after_spatial_squeeze_are_keyword_only(graph, builder):
  """A seventh positional argument is a TypeError, not a silent misbinding.

  Slim's v1 and v2 builders disagree on what follows spatial_squeeze
  (store_non_strided_activations or reuse), so a positional call written for
  either must not bind to something else here.
  """
  images = tf.placeholder(tf.float32, [1, 32, 32, 3])
  before = oracle_lib.graph_size(graph)
  for extra in ([True], [None, 'scope'], [False, 8, 1]):
    with pytest.raises(TypeError, match='positional'):
      builder(images, 10, True, True, None, True, *extra)
  assert oracle_lib.graph_size(graph) == before


def test_resnet_v2_50_positional_arguments_bind_in_slim_order(graph):
  """(inputs, num_classes, is_training, global_pool, output_stride,
  spatial_squeeze) positionally: each value must reach its own argument.

  10 classes, inference (no update ops), no pooling, stride 16 (65 -> 5) and
  no squeeze give [1, 5, 5, 10] logits; a shifted binding would not.
  """
  images = tf.placeholder(tf.float32, [1, 65, 65, 3])
  logits, end_points = oracle_lib.build(resnet_v2, resnet_v2.resnet_v2_50,
                                        images, 10, False, False, 16, False)
  assert logits.shape.as_list() == [1, 5, 5, 10]
  assert 'global_pool' not in end_points
  assert 'resnet_v2_50/spatial_squeeze' not in end_points
  assert end_points['resnet_v2_50/block4'].shape.as_list() == [1, 5, 5, 2048]
  assert tf.get_collection(tf.GraphKeys.UPDATE_OPS) == []


# ---------------------------------------------------------------------------
# Training smoke tests.

NUM_CLASSES = 4


def _quadrant_dataset(num_images=32, size=32, seed=0):
  """Noisy images whose class is the quadrant that is brighter.

  Class k in 0..3 brightens quadrant (k // 2, k % 2) by one noise standard
  deviation; every class appears equally often.
  """
  rng = np.random.RandomState(seed)
  labels = (np.arange(num_images) % NUM_CLASSES).astype(np.int32)
  images = rng.normal(0.0, 1.0, (num_images, size, size, 3))
  half = size // 2
  for image, label in zip(images, labels):
    row, col = divmod(label, 2)
    image[row * half:(row + 1) * half, col * half:(col + 1) * half] += 1.0
  return images.astype(np.float32), labels


def _tiny_v2_cifar(images, **kwargs):
  """A three-block pre-activation CIFAR stack of one basic unit per block."""
  blocks = [resnet_v2.resnet_v2_basic_block('block1', 8, 1, 2),
            resnet_v2.resnet_v2_basic_block('block2', 16, 1, 2),
            resnet_v2.resnet_v2_basic_block('block3', 32, 1, 1)]
  return resnet_v2.resnet_v2(images, blocks, root='cifar', **kwargs)


TRAINING_CASES = {
    'resnet_v1_cifar_20': (
        resnet_v1, lambda x, **kw: resnet_v1.resnet_v1_cifar_20(x, **kw),
        lambda: tf.train.MomentumOptimizer(0.05, 0.9)),
    'resnet_v2_18_narrow': (
        resnet_v2, lambda x, **kw: resnet_v2.resnet_v2_18(
            x, depth_multiplier=0.125, min_base_depth=4, **kw),
        lambda: tf.train.AdamOptimizer(1e-3)),
    'tiny_v2_cifar': (
        resnet_v2, _tiny_v2_cifar,
        lambda: tf.train.MomentumOptimizer(0.05, 0.9)),
}


@pytest.mark.parametrize('case', sorted(TRAINING_CASES))
def test_training_learns_a_tiny_synthetic_task(graph, case):
  """30 steps on 32 fixed images: the loss falls and the classes are learned.

  The moving averages of batch norm are updated each step (UPDATE_OPS run
  with the train op; decay 0.9 so that 30 steps suffice), so the trained
  net also classifies the training images in inference mode, where a net
  whose statistics were never updated would not.
  """
  lib, build, optimizer = TRAINING_CASES[case]
  images, labels = _quadrant_dataset()
  inputs = tf.constant(images)
  with slim.arg_scope(lib.resnet_arg_scope(batch_norm_decay=0.9)):
    logits, _ = build(inputs, num_classes=NUM_CLASSES, is_training=True,
                      scope='net')
    eval_logits, _ = build(inputs, num_classes=NUM_CLASSES,
                           is_training=False, reuse=True, scope='net')
  cross_entropy = tf.losses.sparse_softmax_cross_entropy(labels, logits)
  loss = cross_entropy + tf.losses.get_regularization_loss()
  update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
  assert update_ops
  with tf.control_dependencies(update_ops):
    train_op = optimizer().minimize(loss)

  def accuracy(net_logits):
    return tf.reduce_mean(tf.cast(
        tf.equal(tf.argmax(net_logits, 1, output_type=tf.int32), labels),
        tf.float32))

  moving_means = [v for v in tf.global_variables()
                  if v.op.name.endswith('/moving_mean')]
  with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    losses = [sess.run([train_op, cross_entropy])[1] for _ in range(30)]
    train_accuracy, eval_accuracy, means = sess.run(
        [accuracy(logits), accuracy(eval_logits), moving_means])
  assert np.all(np.isfinite(losses))
  assert np.mean(losses[-5:]) < 0.7 * np.mean(losses[:5])
  chance = 1.0 / NUM_CLASSES
  assert train_accuracy > chance + 0.25
  assert eval_accuracy > chance + 0.25
  assert all(np.any(m != 0) for m in means)
