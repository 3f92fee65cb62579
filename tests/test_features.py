"""Tests of `get_feature_info` / `end_point_at_stride` (resnet_utils.features).

A dense-prediction head takes "the deepest features at stride 4, 8, ..." of a
backbone by end point key, and it trusts the stride and channel count that
come with the key to size its own layers. So every claim is checked against
a net actually built with the same arguments: the key must exist, its map
must be ceil(image / stride) wide, have the stated channels, and be the
deepest unit output of its block at that resolution.
"""

import math
import re

import pytest
import tensorflow.compat.v1 as tf
import tf_slim as slim

from nets import nets_factory
from resnet_utils import graph_building

ALL_NAMES = sorted(nets_factory.networks_map)

# Builds are made cheap with narrow blocks; the root convs keep their width.
NARROW = 0.125

# (name, output_stride, store_non_strided_activations) of the nets built.
BUILD_CASES = (
    [('resnet_v1_50', os, store) for store in (False, True)
     for os in (None, 16, 8)] +
    [(name, os, False) for name in ('resnet_v2_50', 'resnet_v1_50_beta',
                                     'resnet_v1_18')
     for os in (None, 16, 8)] +
    [('resnet_v2_50', 16, True),
     ('resnet_v1_cifar_20', None, False), ('resnet_v1_cifar_20', None, True),
     ('resnet_v1_cifar_20', 2, False)])

# Feature channels of the full-width nets, root first (published widths).
FULL_WIDTH_CHANNELS = {
    'resnet_v1_18': [64, 64, 128, 256, 512],
    'resnet_v1_50': [64, 256, 512, 1024, 2048],
    'resnet_v2_50': [64, 256, 512, 1024, 2048],
    'resnet_v1_101': [64, 256, 512, 1024, 2048],
    'resnet_v1_50_beta': [128, 256, 512, 1024, 2048],
    'resnet_v1_cifar_20': [16, 16, 32, 64],
    'resnet_v2_cifar_164': [16, 64, 128, 256],
}


def _is_cifar(name):
  return nets_factory.get_model_info(name).root == 'cifar'


def _case_id(case):
  name, output_stride, store = case
  return '%s-os%s%s' % (name, output_stride, '-store' if store else '')


def _valid_output_strides(name):
  """None and every image-level output_stride the builder accepts."""
  return [None] + ([1, 2, 4] if _is_cifar(name) else [4, 8, 16, 32])


@pytest.fixture(scope='module', params=BUILD_CASES, ids=_case_id)
def built(request):
  """One net built with the case's arguments, and its feature info."""
  name, output_stride, store = request.param
  cifar = _is_cifar(name)
  size = 33 if cifar else 65  # Odd sizes: the maps are ceil(size / stride).
  kwargs = dict(output_stride=output_stride,
                store_non_strided_activations=store,
                depth_multiplier=1 if cifar else NARROW)
  graph = tf.Graph()
  with graph.as_default(), graph_building.fast_graph_building():
    images = tf.placeholder(tf.float32, [1, size, size, 3])
    with slim.arg_scope(nets_factory.arg_scopes_map[name]()):
      _, end_points = nets_factory.networks_map[name](
          images, num_classes=None, global_pool=False, **kwargs)
  return {'name': name, 'size': size, 'kwargs': kwargs,
          'scope': nets_factory.networks_map[name].spec.default_scope,
          'infos': nets_factory.get_feature_info(name, **kwargs),
          'shapes': {k: t.get_shape().as_list()
                     for k, t in end_points.items()}}


def test_end_points_exist_with_stated_size_and_channels(built):
  """Each described end point is there, ceil(size / stride) wide, C deep."""
  shapes, size = built['shapes'], built['size']
  infos = built['infos']
  assert [i.block for i in infos[1:]] == [
      'block%d' % (k + 1) for k in range(len(infos) - 1)]
  assert infos[0].block == 'root'
  for info in infos:
    assert info.end_point in shapes, info
    side = math.ceil(size / info.stride)
    assert shapes[info.end_point] == [1, side, side, info.channels], info


def test_block_features_are_the_deepest_at_the_block_input_resolution(built):
  """The end point is the block's last unit output still at its input size.

  The block's input resolution is read from its first unit's first conv
  (which is never strided); among the block's unit outputs and the block's
  own end point, the described one must be the last at that resolution.
  """
  shapes, scope = built['shapes'], built['scope']
  for info in built['infos'][1:]:
    prefix = '%s/%s' % (scope, info.block)
    first_conv = [k for k in shapes
                  if re.fullmatch(re.escape(prefix) + r'/unit_1/\w+/conv1',
                                  k)]
    assert len(first_conv) == 1, prefix
    input_side = shapes[first_conv[0]][1]
    assert input_side == math.ceil(built['size'] / info.stride), info
    outputs = [k for k in shapes
               if re.fullmatch(re.escape(prefix) + r'(/unit_\d+/\w+)?', k)]
    at_input = [k for k in outputs if shapes[k][1] == input_side]
    assert info.end_point == at_input[-1], (info, at_input)


def test_narrow_info_matches_full_width_but_channels(built):
  """Width scaling changes the block channels only, by the multiplier.

  So the keys and strides checked on the narrow build hold for the
  full-width net too, whose channels are the published ones.
  """
  name, kwargs = built['name'], dict(built['kwargs'])
  multiplier = kwargs.pop('depth_multiplier')
  full = nets_factory.get_feature_info(name, **kwargs)
  narrow = built['infos']
  assert [(i.block, i.end_point, i.stride) for i in narrow] == [
      (i.block, i.end_point, i.stride) for i in full]
  assert narrow[0].channels == full[0].channels
  assert [i.channels for i in narrow[1:]] == [
      int(i.channels * multiplier) for i in full[1:]]
  if name in FULL_WIDTH_CHANNELS:
    assert [i.channels for i in full] == FULL_WIDTH_CHANNELS[name]


@pytest.mark.parametrize('name', sorted(FULL_WIDTH_CHANNELS))
def test_full_width_channels(name):
  """Without building: the published widths of root and blocks."""
  infos = nets_factory.get_feature_info(name)
  assert [i.channels for i in infos] == FULL_WIDTH_CHANNELS[name]
  narrow = nets_factory.get_feature_info(name, depth_multiplier=0.5)
  assert [i.end_point for i in narrow] == [i.end_point for i in infos]
  assert narrow[0].channels == infos[0].channels
  assert [i.channels for i in narrow[1:]] == [c // 2 for c in
                                              FULL_WIDTH_CHANNELS[name][1:]]


@pytest.mark.parametrize('store', [False, True], ids=['', 'store'])
@pytest.mark.parametrize('name', ALL_NAMES)
def test_strides_increase_up_to_output_stride_then_stay(name, store):
  """Block strides double until the output stride is reached, then hold.

  The root conv is at half the root's stride, below block1 where the root
  downsamples; CIFAR's root keeps the image size, so it shares stride 1 with
  block1 there.
  """
  for output_stride in _valid_output_strides(name):
    infos = nets_factory.get_feature_info(
        name, output_stride=output_stride,
        store_non_strided_activations=store)
    root, blocks = infos[0], [i.stride for i in infos[1:]]
    assert blocks, name
    if _is_cifar(name):
      assert root.stride == 1 == blocks[0]
    else:
      assert (root.stride, blocks[0]) == (2, 4)
    target = output_stride or (4 if _is_cifar(name) else 32)
    reached = blocks.index(target)
    assert all(b < a for b, a in zip(blocks[:reached], blocks[1:reached + 1]))
    assert blocks[reached:] == [target] * (len(blocks) - reached)
    assert max(blocks) == target


# ---------------------------------------------------------------------------
# end_point_at_stride.


def test_end_point_at_stride_4():
  """The decoder's stride-4 features of ResNet-50: block1's second unit."""
  assert (nets_factory.end_point_at_stride('resnet_v1_50', 4) ==
          'resnet_v1_50/block1/unit_2/bottleneck_v1')
  assert (nets_factory.end_point_at_stride('resnet_v2_50', 4) ==
          'resnet_v2_50/block1/unit_2/bottleneck_v2')


def test_end_point_at_stride_with_non_strided_activations():
  """With the block stride moved after the end point, the block is at 4."""
  assert nets_factory.end_point_at_stride(
      'resnet_v1_50', 4, store_non_strided_activations=True) == (
          'resnet_v1_50/block1')


def test_end_point_at_stride_takes_the_deepest():
  """At the output stride several blocks qualify; the last one is wanted."""
  assert nets_factory.end_point_at_stride(
      'resnet_v1_50', 8, output_stride=8) == 'resnet_v1_50/block4'
  assert nets_factory.end_point_at_stride(
      'resnet_v1_50', 32) == 'resnet_v1_50/block4'
  assert nets_factory.end_point_at_stride('resnet_v1_cifar_20', 1) == (
      'resnet_v1_cifar_20/block1/unit_2/basic_block_v1')


def test_end_point_at_stride_follows_the_scope():
  assert nets_factory.end_point_at_stride(
      'resnet_v1_50_beta', 2) == 'resnet_v1_50/conv1_3'
  assert nets_factory.end_point_at_stride(
      'resnet_v1_50', 16, scope='backbone') == (
          'backbone/block3/unit_5/bottleneck_v1')


@pytest.mark.parametrize('stride,output_stride,available', [
    (64, None, [2, 4, 8, 16, 32]),
    (16, 8, [2, 4, 8]),
    (3, None, [2, 4, 8, 16, 32]),
])
def test_unavailable_stride_lists_available_strides(stride, output_stride,
                                                    available):
  with pytest.raises(ValueError) as error:
    nets_factory.end_point_at_stride('resnet_v1_50', stride,
                                     output_stride=output_stride)
  message = str(error.value)
  assert 'resnet_v1_50' in message
  assert str(available) in message


# ---------------------------------------------------------------------------
# Arguments the builder rejects.


def _builder_rejects(name, output_stride):
  """Whether the builder raises ValueError for `output_stride` (no ops made)."""
  with tf.Graph().as_default(), graph_building.fast_graph_building():
    images = tf.placeholder(tf.float32, [1, 64, 64, 3])
    try:
      nets_factory.networks_map[name](images, output_stride=output_stride)
    except ValueError:
      return True
  return False


@pytest.mark.parametrize('output_stride', [5, 6, 9, 33])
def test_feature_info_rejects_what_the_builder_rejects(output_stride):
  """Features "for" an output stride the net cannot run at are wrong."""
  assert _builder_rejects('resnet_v1_50', output_stride)
  with pytest.raises(ValueError):
    nets_factory.get_feature_info('resnet_v1_50', output_stride=output_stride)


@pytest.mark.parametrize('output_stride', [12, 20, 64])
def test_feature_info_raises_for_unreachable_output_stride(output_stride):
  """Values whose stack-relative floor is unreachable too are rejected."""
  assert _builder_rejects('resnet_v1_50', output_stride)
  with pytest.raises(ValueError):
    nets_factory.get_feature_info('resnet_v1_50', output_stride=output_stride)


def test_feature_info_error_names_the_output_stride_given():
  with pytest.raises(ValueError) as error:
    nets_factory.get_feature_info('resnet_v1_50', output_stride=12)
  message = str(error.value)
  assert re.search(r'\b12\b', message), message
  assert '[4, 8, 16, 32]' in message, message
