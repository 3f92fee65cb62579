"""Tests of `nets.keras_nets`: the Keras 3 form of the nets.

The contract is the graph builders': the same variable names and shapes,
and on the same weights the same logits, end points and moving averages.
So every numeric test writes a Keras model's weights as a slim checkpoint,
restores them into the graph builder with a `tf.train.Saver` keyed by the
builder's own names (a wrong name or shape fails the restore), and compares
every end point, in inference and in training mode. Numerics use tiny
blocks of every unit kind, root and output stride; the named nets are
checked for names, shapes and parameter counts, and at small width for
numerics.
"""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
import tf_slim as slim

from nets import checkpoint_fit
from nets import keras_nets
from nets import nets_factory
from nets import resnet_v1
from nets import resnet_v2
from resnet_utils import graph_building
from resnet_utils import network
from slim_resnets.serving import tflite_lib

import subprocesses

tf1 = tf.compat.v1

FAMILIES = {'resnet_v1': resnet_v1, 'resnet_v2': resnet_v2}
# A batch norm decay of 0.5 lets two calibration steps give the moving
# statistics the scale of real activations: with the initial mean 0 and
# variance 1 (or random ones), inference-mode activations grow unit by unit
# and a 1e-4 tolerance would say nothing.
DECAY = 0.5
TOLERANCE = 1e-4


def _tiny_blocks(family, unit):
  """Blocks of one and two units, strides 2-2-2-1 (nominal stride 32)."""
  block_fn = FAMILIES[family].BLOCK_FNS[unit]
  return [block_fn('block1', base_depth=4, num_units=2, stride=2),
          block_fn('block2', base_depth=8, num_units=1, stride=2),
          block_fn('block3', base_depth=8, num_units=2, stride=2),
          block_fn('block4', base_depth=8, num_units=2, stride=1)]


def _cifar_blocks(family):
  block_fn = FAMILIES[family].BLOCK_FNS['basic']
  return [block_fn('block1', base_depth=4, num_units=2, stride=2),
          block_fn('block2', base_depth=8, num_units=1, stride=2),
          block_fn('block3', base_depth=8, num_units=2, stride=1)]


def _perturb(model, rng):
  """Random gamma, beta and biases, so that no mix-up of them can hide.

  Each unit's last convolution is scaled down, as `oracle` does for the
  graph comparisons: at full size every unit would grow the identity path,
  and with it the float32 rounding that a fixed tolerance must allow.
  """
  for name, variable in keras_nets.slim_variables(model).items():
    kind = name.rsplit('/', 1)[-1]
    if name.endswith(('/conv3/weights', '_block_v1/conv2/weights',
                      '_block_v2/conv2/weights')):
      variable.assign(np.asarray(variable) * 0.25)
    elif kind == 'gamma':
      variable.assign(rng.uniform(0.5, 1.5, variable.shape).astype('float32'))
    elif kind in ('beta', 'biases'):
      variable.assign(rng.normal(0, 0.1, variable.shape).astype('float32'))


def _calibrated(model, rng, images):
  """`model` with random parameters and moving statistics of real scale."""
  _perturb(model, rng)
  for _ in range(2):
    model(rng.uniform(0, 1, images.shape).astype('float32'), training=True)
  return model


def _graph_run(build, checkpoint, images, training):
  """Runs a graph builder on `checkpoint`'s weights.

  Args:
    build: callable(images, is_training) -> (net, end_points), called under
      resnet_arg_scope(batch_norm_decay=DECAY).
    checkpoint: slim checkpoint prefix to restore (every variable).
    images: numpy batch.
    training: is_training; the update ops run with the end points.

  Returns:
    (end points, {variable name: value} after the updates).
  """
  with tf.Graph().as_default(), graph_building.fast_graph_building():
    with slim.arg_scope(resnet_v2.resnet_arg_scope(batch_norm_decay=DECAY)):
      _, end_points = build(tf.constant(images), training)
    variables = tf1.global_variables()
    updates = tf1.get_collection(tf1.GraphKeys.UPDATE_OPS)
    with tf1.Session() as sess:
      tf1.train.Saver({v.op.name: v for v in variables}).restore(sess,
                                                                 checkpoint)
      values, _ = sess.run([end_points, updates])
      after = dict(zip([v.op.name for v in variables],
                       sess.run(variables)))
  return values, after


def _keras_run(model, images, training):
  """(end points, {slim name: value} after the call), as `_graph_run`."""
  features = keras_nets.feature_model(model,
                                      keras_nets.end_point_names(model))
  # With the model's own output too: without logits or pooling, the last
  # batch norm (v2's postnorm) feeds no end point, and only a call of the
  # whole model updates its moving averages, as the graph's update ops do.
  outputs, _ = keras.Model(model.input, [features.output, model.output])(
      images, training=training)
  after = {n: np.asarray(v) for n, v in
           keras_nets.slim_variables(model).items()}
  return {k: np.asarray(v) for k, v in outputs.items()}, after


def _worst(ours, theirs):
  """(largest absolute difference, its end point) over shared keys."""
  return max((float(np.abs(ours[k] - theirs[k]).max()), k) for k in theirs)


def _compare(model, build, images, tmp_path):
  """Asserts the Keras model and the graph builder agree on everything.

  In inference mode, then in training mode (batch statistics, and the
  moving averages updated once); returns the inference end points.
  """
  results = []
  for training in (False, True):
    checkpoint = keras_nets.save_slim_checkpoint(
        model, str(tmp_path / ('model_%s.ckpt' % training)))
    graph_points, graph_after = _graph_run(build, checkpoint, images,
                                           training)
    keras_points, keras_after = _keras_run(model, images, training)
    assert sorted(keras_points) == sorted(graph_points)
    assert sorted(keras_after) == sorted(graph_after)
    worst = _worst(keras_points, graph_points)
    assert worst[0] <= TOLERANCE, (training, worst)
    # The moving averages moved alike (training) or not at all (inference),
    # to float32 rounding. (Keras's own update, with the biased variance,
    # would be off by 1 / (n - 1): 0.2% for the n = 500 values per channel
    # of a block1 convolution.)
    moved = max((float(np.abs(keras_after[n] - v).max() /
                       max(1.0, float(np.abs(v).max()))), n)
                for n, v in graph_after.items())
    assert moved[0] <= 1e-5, (training, moved)
    results.append(keras_points)
  return results[0]


# (family, unit, root, output_stride, options): every unit kind and root, at
# the output strides each can reach; CIFAR nets (nominal stride 4) at 1, 2.
# The quick tier (-m "not slow") runs the first six, one of each unit kind
# and root, every option and both dense strides among them.
QUICK_CASES = [
    ('resnet_v1', 'bottleneck', 'standard', 16, {}),
    ('resnet_v2', 'bottleneck', 'standard', 8, {}),
    ('resnet_v1', 'bottleneck', 'beta', 16, {'global_pool': False,
                                             'spatial_squeeze': False}),
    ('resnet_v2', 'bottleneck', 'beta', 8,
     {'store_non_strided_activations': True}),
    ('resnet_v2', 'basic', 'standard', 16, {}),
    ('resnet_v1', 'basic', 'cifar', 2, {}),
]
SLOW_CASES = [
    ('resnet_v1', 'bottleneck', 'standard', None, {}),
    ('resnet_v1', 'bottleneck', 'standard', 8, {}),
    ('resnet_v2', 'bottleneck', 'standard', None, {}),
    ('resnet_v2', 'bottleneck', 'standard', 16, {}),
    ('resnet_v1', 'bottleneck', 'standard', 4, {'include_root_block': False}),
    ('resnet_v1', 'basic', 'standard', None, {}),
    ('resnet_v1', 'basic', 'standard', 8, {}),
    ('resnet_v2', 'basic', 'standard', None,
     {'store_non_strided_activations': True}),
    ('resnet_v1', 'basic', 'cifar', None, {}),
    ('resnet_v2', 'basic', 'cifar', None, {}),
    ('resnet_v2', 'basic', 'cifar', 1, {}),
]


def _case_id(case):
  family, unit, root, output_stride, options = case
  return '-'.join([family[-2:], unit, root, 'os%s' % output_stride] +
                  sorted(options))


@pytest.mark.parametrize('case', QUICK_CASES + [
    pytest.param(c, marks=pytest.mark.slow) for c in SLOW_CASES],
                         ids=[_case_id(c) for c in QUICK_CASES + SLOW_CASES])
def test_equals_graph_builder_on_the_same_weights(case, tmp_path):
  family, unit, root, output_stride, options = case
  blocks = (_cifar_blocks(family) if root == 'cifar'
            else _tiny_blocks(family, unit))
  # Sizes that leave the last block 3x3 or more: training-mode batch norm
  # over a handful of values per channel is ill-conditioned, and would
  # turn float32 rounding into differences of any size.
  size = 16 if root == 'cifar' else 65
  rng = np.random.RandomState(len(tmp_path.name))
  images = rng.uniform(0, 1, (4, size, size, 3)).astype('float32')
  model = keras_nets.build_model(
      blocks, family, root=root, num_classes=5, output_stride=output_stride,
      scope='tiny', batch_norm_decay=DECAY, **options)
  _calibrated(model, rng, images)
  graph_fn = getattr(FAMILIES[family], family)

  def build(inputs, is_training):
    return graph_fn(inputs, blocks, 5, is_training=is_training,
                    output_stride=output_stride, scope='tiny', root=root,
                    **options)

  points = _compare(model, build, images, tmp_path)
  # The comparison saw real features, not a collapsed map.
  assert np.std(points['tiny/block1']) > 0.1


def test_multi_grid_rates_equal_graph_builder(tmp_path):
  rng = np.random.RandomState(3)
  images = rng.uniform(0, 1, (4, 65, 65, 3)).astype('float32')
  blocks = _tiny_blocks('resnet_v2', 'bottleneck')
  blocks[-1] = network.with_multi_grid(blocks[-1], (1, 2))
  options = dict(output_stride=8, global_pool=False, scope='tiny')
  model = keras_nets.build_model(blocks, 'resnet_v2', batch_norm_decay=DECAY,
                                 **options)
  _calibrated(model, rng, images)
  _compare(model, lambda x, t: resnet_v2.resnet_v2(x, blocks, is_training=t,
                                                   **options),
           images, tmp_path)
  # With output stride 8, blocks 2 and 3 give up their strides: block 3
  # runs at rate 2, block 4 at rate 4, doubled by multi-grid in its second
  # unit.
  rates = {layer.name.split('.')[-3]: layer.dilation_rate[0]
           for layer in model.layers
           if layer.name.endswith('conv2') and '.block4.' in layer.name}
  assert rates == {'unit_1': 4, 'unit_2': 8}


@pytest.mark.slow  # full depth: the tiny blocks above cover the numerics
@pytest.mark.parametrize('name', ['resnet_v1_50', 'resnet_v2_50_beta'])
def test_named_nets_at_small_width_equal_graph_builder(name, tmp_path):
  """Full depth, as `get_model` builds it from the registry's blocks."""
  rng = np.random.RandomState(4)
  images = rng.uniform(0, 1, (4, 65, 65, 3)).astype('float32')
  model = keras_nets.get_model(name, num_classes=7, depth_multiplier=0.125,
                               batch_norm_decay=DECAY)
  _calibrated(model, rng, images)
  build = nets_factory.networks_map[name]
  _compare(model,
           lambda x, t: build(x, 7, is_training=t, depth_multiplier=0.125),
           images, tmp_path)


def _graph_variables(name, **kwargs):
  with tf.Graph().as_default(), graph_building.fast_graph_building():
    nets_factory.get_network_fn(name, **kwargs)(
        tf1.placeholder(tf.float32, [1, 64, 64, 3]))
    return {v.op.name: v.shape.as_list() for v in tf1.global_variables()}


@pytest.mark.parametrize('name, num_classes', [
    ('resnet_v1_50', 1000),
    pytest.param('resnet_v2_50_beta', 21, marks=pytest.mark.slow),
    ('resnet_v2_cifar_20', None)])
def test_variable_names_and_shapes_equal_graph_builder(name, num_classes):
  model = keras_nets.get_model(name, num_classes)
  ours = {n: list(v.shape) for n, v in keras_nets.slim_variables(model).items()}
  assert ours == _graph_variables(name, num_classes=num_classes)
  assert len(ours) == len(model.weights)


@pytest.mark.slow
@pytest.mark.parametrize('name', sorted(nets_factory.networks_map))
def test_every_net_has_its_measured_parameter_count(name):
  info = nets_factory.get_model_info(name)
  model = keras_nets.get_model(name, info.num_classes)
  assert sum(int(np.prod(v.shape)) for v in model.trainable_weights) == (
      info.params)
  assert model.name == nets_factory.networks_map[name].spec.default_scope


def test_one_function_per_named_net():
  for name in nets_factory.networks_map:
    assert getattr(keras_nets, name).__name__ == name
  model = keras_nets.resnet_v1_cifar_20(10, depth_multiplier=0.5)
  assert model.name == 'resnet_v1_cifar_20'
  assert model.output.shape == (None, 10)


def test_end_points_match_graph_builder_keys_and_shapes():
  model = keras_nets.get_model('resnet_v2_50', 1001,
                               input_shape=(224, 224, 3))
  with tf.Graph().as_default(), graph_building.fast_graph_building():
    _, graph_points = nets_factory.get_network_fn('resnet_v2_50', 1001)(
        tf1.placeholder(tf.float32, [None, 224, 224, 3]))
    graph_shapes = {k: v.shape.as_list()[1:] for k, v in graph_points.items()}
  features = keras_nets.feature_model(model, list(graph_shapes))
  assert {k: list(v.shape[1:]) for k, v in features.output.items()} == (
      graph_shapes)
  assert graph_shapes['resnet_v2_50/block1'] == [28, 28, 256]


def test_feature_model_shares_weights_and_gives_predictions():
  model = keras_nets.resnet_v2_cifar_20(3, depth_multiplier=0.5)
  features = keras_nets.feature_model(
      model, ['resnet_v2_cifar_20/block2', 'predictions'])
  images = np.random.RandomState(0).uniform(0, 1, (2, 32, 32, 3))
  out = features(images.astype('float32'))
  assert out['resnet_v2_cifar_20/block2'].shape == (2, 8, 8, 16)
  np.testing.assert_allclose(np.sum(out['predictions'], axis=1), 1, atol=1e-6)
  np.testing.assert_allclose(
      out['predictions'], keras.ops.softmax(model(images)), atol=1e-6)
  assert len(features.weights) == len(model.weights)


def test_feature_model_refuses_unknown_end_points():
  model = keras_nets.resnet_v1_cifar_20(depth_multiplier=0.5)
  with pytest.raises(ValueError, match=r"no end point 'resnet_v1_cifar_20/"
                     r"block4'.*resnet_v1_cifar_20/block3"):
    keras_nets.feature_model(model, ['resnet_v1_cifar_20/block4'])
  assert 'predictions' not in keras_nets.end_point_names(model)
  with pytest.raises(ValueError, match='carries no slim end points'):
    keras_nets.feature_model(keras.Sequential([keras.Input((4,)),
                                               keras.layers.Dense(2)]),
                             ['x'])


def _randomized_graph_checkpoint(name, path, num_classes, **kwargs):
  """A graph builder's checkpoint of random values; returns its variables."""
  rng = np.random.RandomState(7)
  with tf.Graph().as_default():
    nets_factory.get_network_fn(name, num_classes)(
        tf1.placeholder(tf.float32, [1, 32, 32, 3]), **kwargs)
    variables = tf1.global_variables()
    values = {v.op.name: rng.normal(0, 1, v.shape.as_list()).astype('float32')
              for v in variables}
    with tf1.Session() as sess:
      sess.run([v.initializer for v in variables],
               {v.initial_value: values[v.op.name] for v in variables})
      tf1.train.Saver().save(sess, path)
  return values


def _read_checkpoint(path):
  reader = tf.train.load_checkpoint(path)
  return {n: reader.get_tensor(n)
          for n in reader.get_variable_to_shape_map()}


def test_checkpoint_round_trip_graph_keras_graph(tmp_path):
  source = str(tmp_path / 'graph' / 'model.ckpt')
  values = _randomized_graph_checkpoint('resnet_v2_50_beta', source, 11,
                                        depth_multiplier=0.125)
  model = keras_nets.resnet_v2_50_beta(11, depth_multiplier=0.125,
                                       weights=str(tmp_path / 'graph'))
  written = keras_nets.save_slim_checkpoint(model,
                                            str(tmp_path / 'k' / 'model.ckpt'))
  saved = _read_checkpoint(written)
  assert sorted(saved) == sorted(values)
  for name, value in values.items():
    np.testing.assert_array_equal(saved[name], value, err_msg=name)
  # The directory's checkpoint file points at it, as a train dir's does.
  assert tf.train.latest_checkpoint(str(tmp_path / 'k')) == written


def test_saving_refuses_to_replace_a_checkpoint(tmp_path):
  model = keras_nets.resnet_v1_cifar_20(depth_multiplier=0.5)
  path = str(tmp_path / 'model.ckpt')
  keras_nets.save_slim_checkpoint(model, path)
  before = {f: (tmp_path / f).read_bytes() for f in os.listdir(tmp_path)}
  model.weights[0].assign(np.zeros(model.weights[0].shape, 'float32'))
  with pytest.raises(FileExistsError, match='overwrite=True'):
    keras_nets.save_slim_checkpoint(model, path)
  assert {f: (tmp_path / f).read_bytes()
          for f in os.listdir(tmp_path)} == before
  keras_nets.save_slim_checkpoint(model, path, overwrite=True)
  assert not _read_checkpoint(path)['resnet_v1_cifar_20/conv1/weights'].any()


def test_saving_into_a_train_dir_keeps_its_checkpoint_history(tmp_path):
  with tf.Graph().as_default():
    step = tf1.train.get_or_create_global_step()
    with tf1.Session() as sess:
      sess.run(step.initializer)
      tf1.train.Saver().save(sess, str(tmp_path / 'model.ckpt'), 100)
  model = keras_nets.resnet_v1_cifar_20(depth_multiplier=0.5)
  path = keras_nets.save_slim_checkpoint(model, str(tmp_path / 'keras.ckpt'))
  state = tf.train.get_checkpoint_state(str(tmp_path))
  assert state.model_checkpoint_path.endswith('keras.ckpt')
  assert [os.path.basename(p) for p in state.all_model_checkpoint_paths] == [
      'model.ckpt-100', 'keras.ckpt']
  assert tf.train.latest_checkpoint(str(tmp_path)) == path


def test_checkpoint_of_another_net_gets_the_mismatch_report(tmp_path):
  path = str(tmp_path / 'model.ckpt')
  _randomized_graph_checkpoint('resnet_v1_cifar_20', path, 10)
  with pytest.raises(checkpoint_fit.CheckpointMismatchError) as error:
    keras_nets.resnet_v2_cifar_20(10, weights=path)
  message = str(error.value)
  assert 'missing from the checkpoint' in message
  assert 'in the checkpoint but not in the model' in message
  assert ("looks like resnet_v1_cifar_20 (its variables are under "
          "resnet_v1_cifar_20/): build keras_nets.get_model("
          "'resnet_v1_cifar_20', ...).") in message


def test_other_class_count_fails_unless_the_head_is_excluded(tmp_path):
  path = str(tmp_path / 'model.ckpt')
  values = _randomized_graph_checkpoint('resnet_v1_cifar_20', path, 10,
                                        depth_multiplier=0.5)
  model = keras_nets.resnet_v1_cifar_20(4, depth_multiplier=0.5)
  head = model.get_layer('resnet_v1_cifar_20.logits')
  conv1 = model.get_layer('resnet_v1_cifar_20.conv1')
  initial_head, initial_conv1 = np.asarray(head.kernel), np.asarray(
      conv1.kernel)
  with pytest.raises(checkpoint_fit.CheckpointMismatchError,
                     match=r'resnet_v1_cifar_20/logits/weights: model '
                     r'\[1, 1, 32, 4\], checkpoint \[1, 1, 32, 10\]'):
    keras_nets.load_slim_checkpoint(model, path)
  # The failed attempt loaded nothing.
  np.testing.assert_array_equal(conv1.kernel, initial_conv1)
  keras_nets.load_slim_checkpoint(model, path,
                                  exclude_scopes=['resnet_v1_cifar_20/logits'])
  np.testing.assert_array_equal(head.kernel, initial_head)
  np.testing.assert_array_equal(conv1.kernel,
                                values['resnet_v1_cifar_20/conv1/weights'])


def test_missing_checkpoint_is_a_file_not_found_error(tmp_path):
  with pytest.raises(FileNotFoundError, match='does not exist'):
    keras_nets.resnet_v2_cifar_20(weights=str(tmp_path / 'nothing'))
  with pytest.raises(FileNotFoundError, match='without any checkpoint'):
    keras_nets.resnet_v2_cifar_20(weights=str(tmp_path))


@pytest.mark.parametrize('kwargs, message', [
    (dict(name='resnet_v2_51'), 'resnet_v2_50'),
    (dict(name='resnet_v2_50', output_stride=12), 'output_stride'),
    (dict(name='resnet_v2_cifar_20', output_stride=8), r'\[1, 2, 4\]'),
    (dict(name='resnet_v2_50', num_classes=0), 'num_classes'),
    (dict(name='resnet_v2_50', multi_grid=(1, 2)), 'multi_grid'),
    (dict(name='resnet_v2_50', input_shape=(224, 224)), 'input_shape'),
    (dict(name='resnet_v2_50', num_classes=10, global_pool=False,
          input_shape=(224, 224, 3)), 'spatial_squeeze'),
])
def test_bad_arguments_name_the_argument(kwargs, message):
  with pytest.raises(ValueError, match=message):
    keras_nets.get_model(**kwargs)


def _separable(rng, n=96, classes=3, size=16):
  """Images whose class is a bright quadrant: learnable in a few steps."""
  labels = rng.randint(0, classes, n)
  images = rng.uniform(0, 0.2, (n, size, size, 3)).astype('float32')
  half = size // 2
  for i, label in enumerate(labels):
    r, c = divmod(int(label), 2)
    images[i, r * half:(r + 1) * half, c * half:(c + 1) * half] += 0.8
  return images, labels


def test_fit_lowers_the_loss():
  keras.utils.set_random_seed(1)
  images, labels = _separable(np.random.RandomState(1))
  model = keras_nets.resnet_v2_cifar_20(3, depth_multiplier=0.5,
                                        input_shape=(16, 16, 3))
  model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9),
                loss=keras.losses.SparseCategoricalCrossentropy(
                    from_logits=True), metrics=['accuracy'])
  data = tf.data.Dataset.from_tensor_slices((images, labels)).batch(16)
  history = model.fit(data, epochs=4, verbose=0, shuffle=False).history
  assert history['loss'][-1] < 0.5 * history['loss'][0], history['loss']
  moving = model.get_layer('resnet_v2_cifar_20.postnorm').moving_variance
  assert not np.allclose(moving, 1.0)  # fit trained the moving averages


def test_gradient_tape_loop_with_weight_decay_lowers_the_loss():
  keras.utils.set_random_seed(2)
  images, labels = _separable(np.random.RandomState(2))
  model = keras_nets.resnet_v1_cifar_20(3, depth_multiplier=0.5,
                                        weight_decay=1e-3)
  optimizer = keras.optimizers.SGD(0.05, momentum=0.9)

  @tf.function
  def step(x, y):
    with tf.GradientTape() as tape:
      logits = model(x, training=True)
      loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(
          y, logits, from_logits=True)) + tf.add_n(model.losses)
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return loss

  losses = [float(step(images[i:i + 16], labels[i:i + 16]))
            for _ in range(4) for i in range(0, len(images), 16)]
  assert np.mean(losses[-6:]) < 0.5 * np.mean(losses[:6]), losses


def test_weight_decay_losses_equal_slim_regularization(tmp_path):
  model = keras_nets.resnet_v2_cifar_20(10, depth_multiplier=0.5,
                                        weight_decay=4e-4)
  path = keras_nets.save_slim_checkpoint(model, str(tmp_path / 'm'))
  with tf.Graph().as_default():
    with slim.arg_scope(resnet_v2.resnet_arg_scope(weight_decay=4e-4)):
      resnet_v2.resnet_v2_cifar_20(tf1.placeholder(tf.float32,
                                                   [1, 32, 32, 3]), 10,
                                   depth_multiplier=0.5)
    losses = tf1.losses.get_regularization_losses()
    with tf1.Session() as sess:
      tf1.train.Saver().restore(sess, path)
      expected = sess.run(tf.add_n(losses))
  assert len(model.losses) == len(losses)
  # Every convolution's kernel, logits and projections included; no batch
  # norm parameter and no bias.
  kernels = [w for w in model.trainable_weights if w.name == 'kernel']
  assert len(model.losses) == len(kernels)
  np.testing.assert_allclose(float(sum(model.losses)), expected, rtol=1e-5)
  assert not keras_nets.resnet_v2_cifar_20(
      10, depth_multiplier=0.5, weight_decay=0.0).losses


@pytest.fixture
def mixed_float16():
  previous = keras.config.dtype_policy()
  keras.mixed_precision.set_global_policy('mixed_float16')
  yield
  keras.mixed_precision.set_global_policy(previous)


def test_mixed_precision_keeps_float32_variables(mixed_float16):
  rng = np.random.RandomState(5)
  model = keras_nets.resnet_v2_cifar_20(3, depth_multiplier=0.5)
  conv = model.get_layer('resnet_v2_cifar_20.block1.unit_1.basic_block_v2.'
                         'conv1')
  assert conv.compute_dtype == 'float16'
  assert {w.dtype for w in model.weights} == {'float32'}
  images = rng.uniform(0, 1, (4, 32, 32, 3)).astype('float32')
  logits = model(images)
  assert logits.dtype == 'float32'
  keras.mixed_precision.set_global_policy('float32')
  reference = keras_nets.resnet_v2_cifar_20(3, depth_multiplier=0.5)
  reference.set_weights(model.get_weights())
  np.testing.assert_allclose(logits, reference(images), atol=0.05)
  keras.mixed_precision.set_global_policy('mixed_float16')
  # compile wraps the optimizer in loss scaling under the float16 policy.
  model.compile(optimizer='sgd',
                loss=keras.losses.SparseCategoricalCrossentropy(
                    from_logits=True))
  assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
  loss = model.fit(images, np.array([0, 1, 2, 0]), verbose=0).history['loss']
  assert np.isfinite(loss).all()


def test_export_serves_and_converts_to_tflite(tmp_path):
  rng = np.random.RandomState(6)
  images = rng.uniform(0, 1, (3, 32, 32, 3)).astype('float32')
  model = _calibrated(keras_nets.resnet_v1_cifar_20(
      4, depth_multiplier=0.5, batch_norm_decay=DECAY,
      input_shape=(32, 32, 3)), rng, images)
  expected = np.asarray(model(images))
  model.export(str(tmp_path / 'saved'), verbose=False)
  loaded = tf.saved_model.load(str(tmp_path / 'saved'))
  np.testing.assert_allclose(loaded.serve(images), expected, atol=1e-5)
  converter = tf.lite.TFLiteConverter.from_saved_model(str(tmp_path / 'saved'))
  (tmp_path / 'model.tflite').write_bytes(converter.convert())
  # The project's TFLite runner, as eval_image_classifier.py --tflite_model
  # uses it (its batch dimension follows the input).
  lite = tflite_lib.TFLiteClassifier(str(tmp_path / 'model.tflite')).predict(
      images)
  np.testing.assert_allclose(lite, expected, atol=1e-5)


def test_nested_model_saves_only_the_slim_variables(tmp_path):
  base = keras_nets.resnet_v2_cifar_20(depth_multiplier=0.5)
  wrapped = keras.Sequential([keras.Input((32, 32, 3)), base,
                              keras.layers.Flatten(),
                              keras.layers.Dense(2, name='my_head')])
  path = keras_nets.save_slim_checkpoint(wrapped, str(tmp_path / 'm'))
  assert sorted(_read_checkpoint(path)) == sorted(
      keras_nets.slim_variables(base))


_JAX_SCRIPT = '''
import sys
import numpy as np
import keras
from nets import keras_nets
assert keras.backend.backend() == 'jax', keras.backend.backend()
model = keras_nets.resnet_v2_cifar_20(3, depth_multiplier=0.5,
                                      weights=sys.argv[1])
images = np.load(sys.argv[2])
np.save(sys.argv[3], np.asarray(model(images, training=False)))
model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9),
              loss=keras.losses.SparseCategoricalCrossentropy(
                  from_logits=True))
labels = np.arange(len(images)) % 3
history = model.fit(images, labels, epochs=5, batch_size=4, verbose=0)
np.save(sys.argv[4], np.array(history.history['loss']))
'''


@pytest.mark.slow
def test_jax_backend_runs_slim_checkpoints(tmp_path):
  """The models on Keras's JAX backend, weights from a slim checkpoint."""
  pytest.importorskip('jax')  # the test extra installs it
  rng = np.random.RandomState(8)
  images = rng.uniform(0, 1, (8, 32, 32, 3)).astype('float32')
  model = _calibrated(keras_nets.resnet_v2_cifar_20(
      3, depth_multiplier=0.5, batch_norm_decay=DECAY), rng, images)
  path = keras_nets.save_slim_checkpoint(model, str(tmp_path / 'm'))
  np.save(tmp_path / 'images.npy', images)
  env = dict(os.environ, KERAS_BACKEND='jax', TF_CPP_MIN_LOG_LEVEL='3',
             JAX_PLATFORMS='cpu')
  result = subprocess.run(
      [sys.executable, '-c', _JAX_SCRIPT, path, str(tmp_path / 'images.npy'),
       str(tmp_path / 'logits.npy'), str(tmp_path / 'loss.npy')],
      cwd=subprocesses.ROOT, env=env, capture_output=True, text=True,
      timeout=300, check=False)
  assert result.returncode == 0, result.stderr[-3000:]
  np.testing.assert_allclose(np.load(tmp_path / 'logits.npy'),
                             model(images), atol=1e-4)
  loss = np.load(tmp_path / 'loss.npy')
  assert loss[-1] < loss[0], loss


def test_unknown_unit_function_is_refused():
  block = resnet_v2.resnet_v2_block('block1', 4, 1, 1)

  def my_unit(inputs, depth, depth_bottleneck, stride, rate=1):
    del depth, depth_bottleneck, stride, rate
    return inputs

  my_unit.default_scope = 'my_unit'
  with pytest.raises(ValueError, match='no Keras form of unit .my_unit.'):
    keras_nets.build_model([block._replace(unit_fn=my_unit)], 'resnet_v2')
  with pytest.raises(ValueError, match='family'):
    keras_nets.build_model([block], 'resnet_v3')


def test_loading_is_plain_assignment_and_takes_a_directory(tmp_path):
  path = str(tmp_path / 'model.ckpt')
  values = _randomized_graph_checkpoint('resnet_v2_cifar_20', path, None,
                                        depth_multiplier=0.5)
  model = keras_nets.resnet_v2_cifar_20(depth_multiplier=0.5)
  assert keras_nets.load_slim_checkpoint(model, tmp_path) == path
  for name, variable in keras_nets.slim_variables(model).items():
    np.testing.assert_array_equal(variable, values[name], err_msg=name)



def test_keras_file_round_trip_keeps_slim_names(tmp_path):
  rng = np.random.RandomState(9)
  images = rng.uniform(0, 1, (2, 32, 32, 3)).astype('float32')
  model = _calibrated(keras_nets.resnet_v2_cifar_20(
      3, depth_multiplier=0.5, batch_norm_decay=DECAY), rng, images)
  model.save(tmp_path / 'model.keras')
  loaded = keras.saving.load_model(tmp_path / 'model.keras')
  np.testing.assert_allclose(loaded(images), model(images), atol=1e-6)
  assert isinstance(loaded.get_layer('resnet_v2_cifar_20.postnorm'),
                    keras_nets.SlimBatchNormalization)
  path = keras_nets.save_slim_checkpoint(loaded, str(tmp_path / 'slim'))
  assert sorted(_read_checkpoint(path)) == sorted(
      keras_nets.slim_variables(model))
  with pytest.raises(ValueError, match='reloaded from a file'):
    keras_nets.feature_model(loaded, ['resnet_v2_cifar_20/block1'])
