"""NCHW support: same variables, same numbers as NHWC, axes in the right place.

`resnet_arg_scope(data_format='NCHW')` must give a net whose variables are
identical to the NHWC net's (so checkpoints load in either layout) and whose
outputs, for the same weights, equal the NHWC outputs transposed. TensorFlow
2.21's CPU kernels (oneDNN) run NCHW convolutions, pooling and fused batch
norm, so this is checked numerically here, not only on GPUs.
"""

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
import tf_slim as slim

from nets import resnet_v1
from nets import resnet_v2
import resnet_utils
from resnet_utils import graph_building
from resnet_utils import layout

import deterministic


def _tiny_blocks(module):
  """One bottleneck block and one basic block: both unit kinds, two strides."""
  return [module.BLOCK_FNS['bottleneck']('block1', base_depth=4, num_units=2,
                                         stride=2),
          module.BLOCK_FNS['basic']('block2', base_depth=8, num_units=2,
                                    stride=2),
          module.BLOCK_FNS['basic']('block3', base_depth=8, num_units=1,
                                    stride=1)]


def _run(module, root, images_nhwc, data_format, is_training):
  """Builds a tiny net in `data_format`; returns (logits, block2, names)."""
  generator = getattr(module, module.__name__.split('.')[-1])
  with tf.Graph().as_default(), graph_building.fast_graph_building():
    images = images_nhwc if data_format == 'NHWC' else (
        images_nhwc.transpose(0, 3, 1, 2))
    with slim.arg_scope(module.resnet_arg_scope(data_format=data_format)):
      logits, end_points = generator(
          tf.constant(images), _tiny_blocks(module), num_classes=7,
          is_training=is_training, root=root, scope='net')
    names = sorted((v.op.name, tuple(v.shape.as_list()))
                   for v in tf.global_variables())
    with tf.Session() as sess:
      deterministic.assign_deterministic(sess)
      out, feature = sess.run([logits, end_points['net/block2']])
  if data_format == 'NCHW':
    feature = feature.transpose(0, 2, 3, 1)
  return out, feature, names


@pytest.mark.parametrize('module', [resnet_v1, resnet_v2],
                         ids=['v1', 'v2'])
@pytest.mark.parametrize('root', ['standard', 'beta', 'cifar'])
@pytest.mark.parametrize('is_training', [False, True],
                         ids=['inference', 'training'])
def test_nchw_equals_nhwc_on_the_same_weights(module, root, is_training):
  images = np.random.RandomState(0).rand(2, 33, 33, 3).astype(np.float32)
  nhwc = _run(module, root, images, 'NHWC', is_training)
  nchw = _run(module, root, images, 'NCHW', is_training)
  assert nhwc[2] == nchw[2]  # Same variable names and shapes.
  np.testing.assert_allclose(nchw[0], nhwc[0], atol=5e-5)
  np.testing.assert_allclose(nchw[1], nhwc[1], atol=5e-5)


def test_nchw_end_points_are_channels_first(graph):
  images = tf.placeholder(tf.float32, [1, 3, 224, 224])
  with slim.arg_scope(resnet_v2.resnet_arg_scope(data_format='NCHW')):
    _, end_points = resnet_v2.resnet_v2_50(images, num_classes=10,
                                           spatial_squeeze=False)
  assert end_points['resnet_v2_50/conv1'].shape.as_list() == [1, 64, 112, 112]
  assert end_points['resnet_v2_50/block1'].shape.as_list() == [1, 256, 28, 28]
  assert end_points['resnet_v2_50/block4'].shape.as_list() == [1, 2048, 7, 7]
  assert end_points['global_pool'].shape.as_list() == [1, 2048, 1, 1]
  assert end_points['predictions'].shape.as_list() == [1, 10, 1, 1]


def test_nchw_dense_predictions_normalize_over_classes(graph):
  """Unsqueezed NCHW logits keep classes on axis 1; softmax must use it."""
  images = tf.constant(np.random.RandomState(1).rand(1, 3, 33, 33),
                       tf.float32)
  with slim.arg_scope(resnet_v1.resnet_arg_scope(data_format='NCHW')):
    _, end_points = resnet_v1.resnet_v1_cifar_20(
        images, num_classes=5, global_pool=False, spatial_squeeze=False)
  with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    probs = sess.run(end_points['predictions'])
  assert probs.shape == (1, 5, 9, 9)
  np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize('size', [6, 7])
def test_conv2d_same_nchw_equals_nhwc(graph, size):
  values = np.random.RandomState(2).rand(1, size, size, 2).astype(np.float32)
  outputs = {}
  for data_format in layout.DATA_FORMATS:
    feed = values if data_format == 'NHWC' else values.transpose(0, 3, 1, 2)
    with slim.arg_scope([slim.conv2d], data_format=data_format,
                        activation_fn=None, normalizer_fn=None,
                        weights_initializer=tf.constant_initializer(
                            np.arange(3 * 3 * 2 * 4).reshape(3, 3, 2, 4) /
                            72.0)):
      out = resnet_utils.conv2d_same(tf.constant(feed), 4, 3, stride=2,
                                     scope='conv_' + data_format)
    outputs[data_format] = out
  with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    nhwc, nchw = sess.run([outputs['NHWC'], outputs['NCHW']])
  np.testing.assert_allclose(nchw.transpose(0, 2, 3, 1), nhwc, atol=1e-5)


def test_unknown_data_format_is_rejected():
  with pytest.raises(ValueError, match=r"data_format must be one of NHWC, "
                     r"NCHW; got 'NWHC'"):
    resnet_utils.resnet_arg_scope(data_format='NWHC')


def test_layout_is_read_from_the_arg_scope():
  assert layout.current_data_format() == 'NHWC'
  with slim.arg_scope(resnet_utils.resnet_arg_scope(data_format='NCHW')):
    assert layout.current_data_format() == 'NCHW'
    assert layout.spatial_axes() == [2, 3]
    assert layout.channel_axis() == 1
  assert layout.spatial_axes() == [1, 2]
