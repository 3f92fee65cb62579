"""Tests of `resnet_utils.compat.enable_v1_layers`, the opt-in that makes
`tf.compat.v1.layers` work again for client heads written with it."""

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from nets import resnet_v2
from resnet_utils import compat


@pytest.fixture
def v1_layers():
  layers = compat.enable_v1_layers()
  yield layers
  compat.disable_v1_layers()


def test_v1_layers_stay_off_until_asked(graph):
  """Importing the package never switches them on."""
  with pytest.raises(AttributeError, match='not available with Keras 3'):
    getattr(tf.layers, 'conv2d')  # noqa: B009


def test_head_in_v1_layers_trains_on_our_backbone(graph, v1_layers):
  """A DeepLab-style client head written in tf.compat.v1.layers (conv2d,
  batch_normalization, dropout) on resnet_v2_cifar_20's dense features:
  its variables have TF1 names, its batch norm updates its moving averages
  through UPDATE_OPS, and a few steps of training lower the loss."""
  assert tf.layers is v1_layers and tf.compat.v1.layers is v1_layers
  rng = np.random.RandomState(0)
  images = tf.constant(rng.rand(4, 16, 16, 3), tf.float32)
  labels = tf.constant(rng.randint(0, 3, (4, 4, 4)))
  features, _ = resnet_v2.resnet_v2_cifar_20(images, global_pool=False)
  net = tf.layers.conv2d(features, 8, 3, padding='same', name='head_conv')
  net = tf.layers.batch_normalization(net, training=True, name='head_bn')
  net = tf.layers.dropout(tf.nn.relu(net), rate=0.1, training=True)
  logits = tf.layers.conv2d(net, 3, 1, name='head_logits')
  loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
  with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
    train = tf.train.AdamOptimizer(0.01).minimize(loss)
  names = {v.op.name for v in tf.global_variables()}
  assert {'head_conv/kernel', 'head_conv/bias', 'head_bn/gamma',
          'head_bn/moving_mean', 'head_logits/kernel'} <= names
  moving_mean = [v for v in tf.global_variables()
                 if v.op.name == 'head_bn/moving_mean'][0]
  with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    first = sess.run(loss)
    for _ in range(30):
      sess.run(train)
    assert sess.run(loss) < 0.5 * first
    assert np.abs(sess.run(moving_mean)).sum() > 0
