"""Tests of `resnet_utils.graph_building`: faster builds, the same graphs."""

import contextlib

import pytest
import tensorflow.compat.v1 as tf
from tensorflow.python.framework import tensor as tensor_lib
import tf_slim as slim

from nets import resnet_v2
from resnet_utils import Block
from resnet_utils import graph_building

_BLOCKS = [Block('block1', resnet_v2.bottleneck,
                 [{'depth': 8, 'depth_bottleneck': 2, 'stride': 1}] * 2
                 + [{'depth': 8, 'depth_bottleneck': 2, 'stride': 2}]),
           Block('block2', resnet_v2.bottleneck,
                 [{'depth': 16, 'depth_bottleneck': 4, 'stride': 1}] * 2)]


def _equality_on():
  return tensor_lib.Tensor._USE_EQUALITY  # pylint: disable=protected-access


def _build(fast):
  """A small training net with weight decay, in a graph of its own."""
  graph = tf.Graph()
  with graph.as_default():
    tf.set_random_seed(1)
    images = tf.placeholder(tf.float32, [2, 32, 32, 3])
    context = (graph_building.fast_graph_building() if fast else
               contextlib.nullcontext(False))
    with context as active:
      assert active == fast and _equality_on() != fast
      with slim.arg_scope(resnet_v2.resnet_arg_scope(weight_decay=1e-4)):
        resnet_v2.resnet_v2(images, _BLOCKS, num_classes=5, is_training=True,
                            scope='net')
  return graph


def _node_defs(graph):
  return [node.SerializeToString(deterministic=True)
          for node in graph.as_graph_def().node]


def _collections(graph):
  return {key: [getattr(item, 'name', repr(item))
                for item in graph.get_collection(key)]
          for key in graph.get_all_collection_keys()}


def test_same_graph_with_and_without():
  """Every node (name, op, inputs, attributes) and every collection."""
  assert _equality_on()
  slow, fast = _build(fast=False), _build(fast=True)
  assert _node_defs(fast) == _node_defs(slow)
  assert _collections(fast) == _collections(slow)
  collections = _collections(fast)
  # The regularizers the hashed set decides about are all there.
  assert len(collections[tf.GraphKeys.REGULARIZATION_LOSSES]) == len(
      [v for v in collections[tf.GraphKeys.TRAINABLE_VARIABLES]
       if v.endswith('/weights:0')])
  assert collections[tf.GraphKeys.UPDATE_OPS]


def test_active_only_inside_and_restored():
  assert _equality_on()
  with tf.Graph().as_default():
    with graph_building.fast_graph_building() as active:
      assert active and not _equality_on()
      variable = tf.Variable(1.0)
      assert hash(variable) == id(variable)
    assert _equality_on()


def test_restored_when_the_block_raises():
  with tf.Graph().as_default():
    with pytest.raises(ValueError, match='inside'):
      with graph_building.fast_graph_building():
        raise ValueError('inside')
  assert _equality_on()


def test_nothing_changes_where_tensorflow_executes_eagerly():
  """Equality matters in eager code: `==` there is elementwise."""
  assert tf.executing_eagerly()
  with graph_building.fast_graph_building() as active:
    assert not active and _equality_on()
    assert tf.reduce_all(tf.constant([1, 2]) == tf.constant([1, 2])).numpy()


def test_nested_blocks_leave_the_outer_one_in_charge():
  with tf.Graph().as_default():
    with graph_building.fast_graph_building() as outer:
      with graph_building.fast_graph_building() as inner:
        assert outer and not inner
      assert not _equality_on()
    assert _equality_on()


def test_a_user_setting_is_kept():
  """Equality switched off by the user stays off after the block."""
  tf.disable_tensor_equality()
  try:
    with tf.Graph().as_default():
      with graph_building.fast_graph_building() as active:
        assert not active
    assert not _equality_on()
  finally:
    tf.enable_tensor_equality()
