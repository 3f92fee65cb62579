"""Tests of `nets.nets_factory`: the registry every caller builds nets through.

Slim-style training and evaluation scripts only ever name a network, so the
registry has to hold every builder with its family's arg scope, and
`get_network_fn` has to apply that scope and pass the caller's settings
through. The registry also pins each net's parameter and multiply-add counts
(`ModelInfo`). Two independent counts keep those numbers (and, with them,
every builder's architecture) honest: the hand count of tests/arithmetic.py
for every net, and full-depth builds of one net of every kind, which must
agree with both.
"""

import dataclasses
import inspect
import os
import re

import arithmetic
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from nets import nets_factory
from nets import resnet_v1
from nets import resnet_v2
from resnet_utils import graph_building

ALL_NAMES = sorted(nets_factory.networks_map)

# Units per block of the ImageNet ResNets, as published (He et al. 2015,
# table 1, and 2016 for ResNet-200).
PUBLISHED_UNITS = {
    18: (2, 2, 2, 2),
    34: (3, 4, 6, 3),
    50: (3, 4, 6, 3),
    101: (3, 4, 23, 3),
    152: (3, 8, 36, 3),
    200: (3, 24, 36, 3),
}

# 'resnet_v1_50', 'resnet_v2_cifar_110', 'resnet_v1_101_beta', ...
NAME_PATTERN = re.compile(r'^resnet_(v[12])_(cifar_)?(\d+)(_beta)?$')


# ---------------------------------------------------------------------------
# The maps.


def test_networks_map_holds_every_builder_of_both_families():
  """Every builder of both modules is reachable by name, and nothing else.

  A builder added to a family's BUILDERS but not to the registry could not be
  used by name; a stale registry entry would build the wrong net.
  """
  expected = dict(resnet_v1.BUILDERS)
  expected.update(resnet_v2.BUILDERS)
  assert len(expected) == 27
  assert not set(resnet_v1.BUILDERS) & set(resnet_v2.BUILDERS)
  assert set(nets_factory.networks_map) == set(expected)
  for name, builder in expected.items():
    assert nets_factory.networks_map[name] is builder, name
    assert builder.__name__ == name


@pytest.mark.parametrize('name', ALL_NAMES)
def test_arg_scopes_map_gives_the_family_arg_scope(name):
  """Each net is built under the arg scope of the module that defines it."""
  module = resnet_v1 if name in resnet_v1.BUILDERS else resnet_v2
  assert name.startswith(module.__name__.split('.')[-1] + '_')
  assert nets_factory.arg_scopes_map[name] is module.resnet_arg_scope


def test_maps_have_the_same_names():
  assert set(nets_factory.arg_scopes_map) == set(nets_factory.networks_map)


# ---------------------------------------------------------------------------
# get_network_fn.

V2_50_INPUT = 64
V2_50_WEIGHT_DECAY = 4e-5


@pytest.fixture(scope='module')
def v2_50_training():
  """resnet_v2_50 from get_network_fn in training mode, with builder kwargs.

  Built on 64x64 (graph construction, not the image size, is what costs) with
  output_stride=16, global_pool=False, spatial_squeeze=False and scope 'net',
  so that each forwarded keyword leaves a visible trace.
  """
  graph = tf.Graph()
  with graph.as_default(), graph_building.fast_graph_building():
    network_fn = nets_factory.get_network_fn(
        'resnet_v2_50', num_classes=1001, weight_decay=V2_50_WEIGHT_DECAY,
        is_training=True)
    images = tf.placeholder(tf.float32, [1, V2_50_INPUT, V2_50_INPUT, 3])
    logits, end_points = network_fn(images, output_stride=16,
                                    global_pool=False, spatial_squeeze=False,
                                    scope='net')
  return {'graph': graph, 'fn': network_fn, 'logits': logits,
          'end_points': end_points}


def test_network_fn_has_default_image_size_and_name(v2_50_training):
  """Input pipelines size images with `network_fn.default_image_size`."""
  network_fn = v2_50_training['fn']
  assert network_fn.default_image_size == 224
  assert network_fn.__name__ == 'resnet_v2_50'


def test_network_fn_applies_weight_decay_to_every_conv_weight(v2_50_training):
  """One L2 loss per convolution weight, worth weight_decay * sum(w^2) / 2.

  That is what `resnet_arg_scope(weight_decay)` adds, so it shows that the
  scope was entered and with the caller's weight decay (not its default).
  Each loss, found under its layer's 'kernel/Regularizer' name scope, is
  compared with the value computed here from that layer's weights.
  """
  graph = v2_50_training['graph']
  with graph.as_default(), graph_building.fast_graph_building():
    weights = [v for v in tf.trainable_variables()
               if v.op.name.endswith('/weights')]
    losses = tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES)
    assert len(weights) == 54  # 53 convolutions and the logits.
    assert len(losses) == len(weights)
    paired = {}
    for v in weights:
      layer = v.op.name[:-len('/weights')]
      mine = [loss for loss in losses
              if loss.op.name.startswith(layer + '/kernel/Regularizer/')]
      assert len(mine) == 1, v.op.name
      paired[v.op.name] = (v, mine[0])
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      values = sess.run(paired)
  assert 'net/conv1/weights' in values  # The root conv, 7x7x3x64.
  assert 'net/logits/weights' in values
  for name, (w, loss) in values.items():
    assert np.any(w != 0), name
    np.testing.assert_allclose(loss, V2_50_WEIGHT_DECAY * np.sum(w ** 2) / 2,
                               rtol=1e-5, err_msg=name)


def test_network_fn_passes_is_training_true(v2_50_training):
  """In training mode every batch norm queues moving average updates."""
  with v2_50_training['graph'].as_default():
    updates = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
    moving = [v for v in tf.global_variables()
              if v.op.name.endswith(('/moving_mean', '/moving_variance'))]
  assert moving
  assert len(updates) == len(moving)


def test_network_fn_forwards_builder_kwargs(v2_50_training):
  """output_stride, global_pool, spatial_squeeze and scope reach the builder."""
  end_points = v2_50_training['end_points']
  assert all(key.startswith('net/') for key in end_points
             if key not in ('global_pool', 'predictions'))
  assert 'global_pool' not in end_points
  dense = -(-V2_50_INPUT // 16)
  assert end_points['net/block4'].get_shape().as_list() == [1, dense, dense,
                                                            2048]
  assert v2_50_training['logits'].get_shape().as_list() == [1, dense, dense,
                                                            1001]


def test_network_fn_defaults(graph):
  """is_training=False, no weight decay and the builder's own defaults.

  Compared with the training fixture this shows that is_training and
  weight_decay really are the caller's: no update ops, no L2 losses (a zero
  weight decay disables the regularizer), and the nominal stride, global
  pooling and the default scope when no keyword is given.
  """
  network_fn = nets_factory.get_network_fn('resnet_v2_50', num_classes=1001,
                                           is_training=False)
  images = tf.placeholder(tf.float32, [1, V2_50_INPUT, V2_50_INPUT, 3])
  logits, end_points = network_fn(images)
  assert tf.get_collection(tf.GraphKeys.UPDATE_OPS) == []
  assert tf.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES) == []
  assert logits.get_shape().as_list() == [1, 1001]
  assert 'global_pool' in end_points
  nominal = -(-V2_50_INPUT // 32)
  assert end_points['resnet_v2_50/block4'].get_shape().as_list() == [
      1, nominal, nominal, 2048]


@pytest.mark.parametrize('lookup', [
    lambda name: nets_factory.get_network_fn(name, num_classes=10),
    nets_factory.get_model_info,
    nets_factory.get_feature_info,
    lambda name: nets_factory.end_point_at_stride(name, 4),
], ids=['get_network_fn', 'get_model_info', 'get_feature_info',
        'end_point_at_stride'])
def test_unknown_name_raises_listing_known_names(lookup):
  """A typo gets a ValueError that says what would have been accepted."""
  with pytest.raises(ValueError) as error:
    lookup('resnet_v3_50')
  message = str(error.value)
  assert 'resnet_v3_50' in message
  for name in ALL_NAMES:
    assert name in message


# ---------------------------------------------------------------------------
# The metadata contract.


@pytest.mark.parametrize('name', ALL_NAMES)
def test_model_info_matches_name(name):
  """family, unit, depth, root and image size agree with the published name.

  The name is all a user sees, so 'resnet_v1_cifar_56' must be the 56-layer
  CIFAR net of basic units at 32x32, 'resnet_v2_152' the 152-layer
  bottleneck net with the published units per block, and so on.
  """
  info = nets_factory.get_model_info(name)
  version, cifar, depth, beta = NAME_PATTERN.match(name).groups()
  depth = int(depth)
  assert info.name == name
  assert info.family == 'resnet_' + version
  assert info.depth == depth
  builder = nets_factory.networks_map[name]
  assert builder.spec.depth == depth
  if cifar:
    assert info.root == 'cifar'
    assert (info.default_image_size, info.num_classes) == (32, 10)
    # He et al.: 6n + 2 layers with basic units, 9n + 2 with bottlenecks.
    per_unit = 2 if info.unit == 'basic' else 3
    n = (depth - 2) // (3 * per_unit)
    assert info.units_per_block == (n, n, n)
    assert (info.unit == 'bottleneck') == (name == 'resnet_v2_cifar_164')
  else:
    assert info.root == ('beta' if beta else 'standard')
    assert (info.default_image_size, info.num_classes) == (224, 1000)
    assert info.units_per_block == PUBLISHED_UNITS[depth]
    assert info.unit == ('basic' if depth < 50 else 'bottleneck')
  if beta:
    assert depth in (50, 101)
  assert builder.default_image_size == info.default_image_size
  fn = nets_factory.get_network_fn(name, num_classes=info.num_classes)
  assert fn.default_image_size == info.default_image_size


# One net of every kind (family, unit and root). Deeper nets of a kind run
# the same code with more units (their units per block are checked against
# the papers above), so building them too would add time, not information.
BUILT_KINDS = {
    ('resnet_v1', 'bottleneck', 'standard'): 'resnet_v1_50',
    ('resnet_v2', 'bottleneck', 'standard'): 'resnet_v2_50',
    ('resnet_v1', 'bottleneck', 'beta'): 'resnet_v1_50_beta',
    ('resnet_v2', 'bottleneck', 'beta'): 'resnet_v2_50_beta',
    ('resnet_v1', 'basic', 'standard'): 'resnet_v1_18',
    ('resnet_v2', 'basic', 'standard'): 'resnet_v2_18',
    ('resnet_v1', 'basic', 'cifar'): 'resnet_v1_cifar_20',
    ('resnet_v2', 'basic', 'cifar'): 'resnet_v2_cifar_20',
    ('resnet_v2', 'bottleneck', 'cifar'): 'resnet_v2_cifar_164',
}


def test_built_kinds_cover_every_net():
  kinds = {(info.family, info.unit, info.root)
           for info in map(nets_factory.get_model_info, ALL_NAMES)}
  assert kinds == set(BUILT_KINDS)
  for kind, name in BUILT_KINDS.items():
    info = nets_factory.get_model_info(name)
    assert (info.family, info.unit, info.root) == kind


@pytest.mark.parametrize('name', ALL_NAMES)
def test_pinned_counts_are_the_hand_counts(name):
  """Every net's pinned figures are what its architecture adds up to."""
  info = nets_factory.get_model_info(name)
  assert info.params is not None and info.mult_adds is not None
  counted = arithmetic.counts_of(info)
  assert (counted.params, counted.mult_adds) == (info.params, info.mult_adds)


@pytest.mark.xdist_group('full_depth')
@pytest.mark.parametrize('name', sorted(BUILT_KINDS.values()))
def test_measured_params_and_mult_adds(name, full_depth):
  """A full-depth build at the default size gives exactly the pinned numbers.

  This is the construction test of every kind of net at full depth: a
  changed unit, width, stride or root shows up in the parameter count, the
  multiply-adds (which depend on every spatial size) or both. The counts are
  what `nets.summary` measures on a batch of one image with the net's
  reference class count, and they equal the hand count, which is how that
  count earns its use for the nets not built here.
  """
  info = nets_factory.get_model_info(name)
  result = full_depth(name)
  assert result.image_size == info.default_image_size
  rows = {row.name: row for row in result.rows}
  assert rows['predictions'].shape == [1, info.num_classes]
  assert result.trainable_params == info.params
  assert result.mult_adds == info.mult_adds
  assert sum(row.params for row in result.rows) == info.params
  assert sum(row.mult_adds for row in result.rows) == info.mult_adds
  assert arithmetic.counts_of(info) == (
      info.params, len(result.variables), info.mult_adds)


def test_each_named_net_is_a_def_with_the_full_signature():
  """One explicit `def` per net (slim's style), its signature the same for
  all, its default scope the spec's and its docstring its own."""
  expected = None
  for name in ALL_NAMES:
    builder = nets_factory.networks_map[name]
    module = resnet_v1 if name in resnet_v1.BUILDERS else resnet_v2
    assert builder.__module__ == module.__name__
    assert builder.__code__.co_name == name  # a def, not a renamed closure
    params = inspect.signature(builder).parameters
    assert params['scope'].default == builder.spec.default_scope
    shape = [(p.name, p.kind, p.default) for p in params.values()
             if p.name != 'scope']
    expected = expected or shape
    assert shape == expected, name
    assert builder.__doc__ and name.split('_')[-1] in builder.__doc__


def test_specs_are_frozen():
  spec = resnet_v2.SPECS['resnet_v2_50']
  with pytest.raises(dataclasses.FrozenInstanceError):
    spec.units_per_block = (1, 1, 1, 1)


def test_readme_table_of_published_checkpoints_is_the_registry():
  """README's table shows PUBLISHED_CHECKPOINTS, field for field."""
  readme = os.path.join(os.path.dirname(os.path.dirname(
      os.path.abspath(__file__))), 'README.md')
  with open(readme, encoding='utf-8') as f:
    rows = [line.strip('| \n').split(' | ') for line in f
            if re.match(r'^\| resnet_v[12]_\d+ \| \S+\.tar\.gz', line)]
  table = {row[0]: nets_factory.PublishedCheckpoint(
      row[1], int(row[2]), row[3], int(row[4]), float(row[5]),
      float(row[6])) for row in rows}
  assert table == nets_factory.PUBLISHED_CHECKPOINTS



def test_resolve_model_settings_defaults_and_refusals():
  """Published defaults without num_classes; sizes below the stride refused."""
  assert nets_factory.resolve_model_settings('resnet_v2_50') == (1001, 299)
  assert nets_factory.resolve_model_settings('resnet_v1_50') == (1000, 224)
  assert nets_factory.resolve_model_settings(
      'resnet_v1_cifar_20', 10) == (10, 32)
  assert nets_factory.resolve_model_settings(
      'resnet_v1_cifar_20', 10, 4) == (10, 4)
  with pytest.raises(ValueError, match='image_size must be an integer >= 32 '
                     r'or None \(pixels; resnet_v2_50 has a total stride of '
                     r'32\); got 16'):
    nets_factory.resolve_model_settings('resnet_v2_50', image_size=16)
  with pytest.raises(ValueError, match='num_classes is required'):
    nets_factory.resolve_model_settings('resnet_v1_cifar_20')
