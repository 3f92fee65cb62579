"""Tests of `slim_resnets.training.clones` and of clones in `train_lib`.

The central claim: clones change where a step is computed, not what it
computes. A net without batch-dependent layers trained with two clones on
two (virtual CPU) devices follows the same loss trajectory, and ends at
the same weights, as one clone given the same global batches. Batch norm
is the exception by design (each clone normalizes its own part), so for
the ResNets the tests pin what is promised instead: the same variables,
moving averages updated once per step, clones on their own devices.
"""

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
import tf_slim as slim

from resnet_utils import graph_building
from slim_resnets.training import clones
from slim_resnets.training import train_lib

import digits_run

_STEPS = 5
_BATCH = 8


def _tiny_net(images, num_classes=3):
  """conv -> mean pool -> logits, with weight decay on the weights."""
  with slim.arg_scope([slim.conv2d, slim.fully_connected],
                      weights_regularizer=slim.l2_regularizer(0.01)):
    net = slim.conv2d(images, 4, [3, 3], scope='conv')
    net = tf.reduce_mean(net, [1, 2])
    return slim.fully_connected(net, num_classes, activation_fn=None,
                                scope='logits')


def _train_tiny(num_clones, images_np, labels_np):
  """(losses per step, final variables) of _STEPS momentum steps."""
  graph = tf.Graph()
  with graph.as_default(), graph_building.fast_graph_building():
    tf.set_random_seed(7)
    images = tf.placeholder(tf.float32, images_np.shape[1:])
    labels = tf.placeholder(tf.int32, labels_np.shape[1:])
    devices = clones.clone_devices(num_clones, clone_on_cpu=True)
    optimizer = tf.train.MomentumOptimizer(0.1, 0.9)

    def clone_fn(index, clone_images, clone_labels):
      logits = _tiny_net(clone_images)
      example_loss = tf.losses.sparse_softmax_cross_entropy(
          clone_labels, logits, loss_collection=None)
      loss = clones.clone_loss(index, num_clones, example_loss)
      return loss, optimizer.compute_gradients(loss)

    results = clones.build_clones(clone_fn, [images, labels], devices)
    total = tf.add_n([loss for loss, _ in results])
    grads = clones.sum_gradients([g for _, g in results])
    train_op = optimizer.apply_gradients(grads)
    config = tf.ConfigProto(device_count=clones.session_device_count(
        num_clones, True))
    with tf.Session(config=config) as sess:
      sess.run(tf.global_variables_initializer())
      losses = []
      for step in range(_STEPS):
        feed = {images: images_np[step], labels: labels_np[step]}
        losses.append(sess.run([train_op, total], feed)[1])
      weights = {v.op.name: sess.run(v) for v in tf.trainable_variables()}
    placed = {op.device for op in graph.get_operations()
              if op.type == 'Conv2D'}
  return np.array(losses), weights, placed


def test_two_clones_follow_one_clone_exactly(rng):
  images = rng.randn(_STEPS, _BATCH, 6, 6, 2).astype(np.float32)
  labels = rng.randint(0, 3, size=(_STEPS, _BATCH)).astype(np.int32)
  one_losses, one_weights, _ = _train_tiny(1, images, labels)
  two_losses, two_weights, two_devices = _train_tiny(2, images, labels)
  assert two_devices == {'/device:CPU:0', '/device:CPU:1'}
  # The loss moves, so equal trajectories say something.
  assert abs(one_losses[-1] - one_losses[0]) > 1e-3
  np.testing.assert_allclose(two_losses, one_losses, rtol=1e-5, atol=1e-6)
  assert sorted(two_weights) == sorted(one_weights)
  for name, value in one_weights.items():
    np.testing.assert_allclose(two_weights[name], value, rtol=1e-5,
                               atol=1e-6, err_msg=name)


def test_regularization_is_counted_once(graph):
  images = tf.zeros([4, 6, 6, 2])
  devices = clones.clone_devices(2, clone_on_cpu=True)

  def clone_fn(index, clone_images):
    _tiny_net(clone_images)
    return clones.clone_loss(index, 2, tf.constant(1.0))

  losses = clones.build_clones(clone_fn, [images], devices)
  regularization = tf.losses.get_regularization_losses()
  assert len(regularization) == 2  # conv and logits weights, once each
  config = tf.ConfigProto(device_count=clones.session_device_count(2, True))
  with tf.Session(config=config) as sess:
    sess.run(tf.global_variables_initializer())
    clone0, clone1, reg = sess.run([losses[0], losses[1],
                                    tf.add_n(regularization)])
  assert clone1 == pytest.approx(0.5)
  assert clone0 == pytest.approx(0.5 + reg)
  assert reg > 0


@pytest.mark.parametrize('num_clones, batch_size, message', [
    (0, 8, 'num_clones must be a positive integer'),
    (2.0, 8, 'num_clones must be a positive integer'),
    (3, 8, 'num_clones=3 must divide batch_size=8'),
])
def test_check_num_clones_refuses(num_clones, batch_size, message):
  with pytest.raises(ValueError, match=message):
    clones.check_num_clones(num_clones, batch_size)


def test_clone_devices():
  assert clones.clone_devices(1) == ['']
  assert clones.clone_devices(2, clone_on_cpu=True) == ['/device:CPU:0',
                                                        '/device:CPU:1']
  assert clones.clone_devices(2, num_gpus=4) == ['/device:GPU:0',
                                                 '/device:GPU:1']
  with pytest.raises(ValueError, match='needs 2 GPUs and this machine has 1; '
                     'pass --clone_on_cpu'):
    clones.clone_devices(2, num_gpus=1)


def test_session_device_count():
  assert clones.session_device_count(1, True) == {}
  assert clones.session_device_count(2, False) == {}
  assert clones.session_device_count(3, True) == {'CPU': 3}


def _resnet_graph(digits, tmp_path, num_clones):
  config = digits_run.tiny_config(tmp_path / 'unused', digits,
                                  num_clones=num_clones,
                                  clone_on_cpu=num_clones > 1)
  from slim_resnets.datasets import dataset_factory  # pylint: disable=g-import-not-at-top
  split = dataset_factory.get_split('digits', 'train', digits)
  graph = tf.Graph()
  with graph.as_default(), graph_building.fast_graph_building():
    ops = train_lib.build_training_graph(config, split)
    variables = {v.op.name: v.shape.as_list() for v in tf.global_variables()}
    update_ops = clones.first_clone_update_ops(num_clones)
  return graph, ops, variables, update_ops


def test_resnet_clones_share_variables_and_update_statistics_once(
    digits, tmp_path):
  _, _, one_vars, one_updates = _resnet_graph(digits, tmp_path, 1)
  graph, _, two_vars, two_updates = _resnet_graph(digits, tmp_path, 2)
  assert two_vars == one_vars
  assert len(two_updates) == len(one_updates) > 0
  all_updates = graph.get_collection(tf.GraphKeys.UPDATE_OPS)
  assert len(all_updates) == 2 * len(one_updates)
  assert not any(op.name.startswith('clone_1/') for op in two_updates)
  convs = [op for op in graph.get_operations() if op.type == 'Conv2D']
  assert {op.device for op in convs if op.name.startswith('clone_1/')} == {
      '/device:CPU:1'}
  assert {op.device for op in convs if not op.name.startswith('clone_')} == {
      '/device:CPU:0'}


def test_train_with_two_clones(digits, tmp_path):
  config = digits_run.tiny_config(tmp_path / 'train', digits, num_clones=2,
                                  clone_on_cpu=True, max_number_of_steps=6)
  result = train_lib.train(config)
  assert result.global_step == 6
  assert np.isfinite(result.loss)
  reader = tf.train.load_checkpoint(str(tmp_path / 'train'))
  mean = reader.get_tensor(digits_run.MODEL + '/conv1/BatchNorm/moving_mean')
  assert np.any(mean != 0)


def test_clones_must_divide_batch(digits, tmp_path):
  config = digits_run.tiny_config(tmp_path / 'train', digits, num_clones=3,
                                  clone_on_cpu=True)
  with pytest.raises(ValueError, match='num_clones=3 must divide '
                     'batch_size=16'):
    train_lib.train(config)
  assert not (tmp_path / 'train').exists()
