"""The slim ResNets as Keras 3 models, on the slim checkpoints.

    from nets import keras_nets
    model = keras_nets.resnet_v2_50(num_classes=1001,
                                    weights='resnet_v2_50.ckpt')
    logits = model(images, training=False)
    model.fit(dataset, ...)
    keras_nets.save_slim_checkpoint(model, 'fine_tuned/model.ckpt')

Every net of `nets_factory` exists here as a functional `keras.Model` that
computes what its graph builder computes, from the same weights, for code
written the TensorFlow 2 way: eager calls, `tf.function`, `GradientTape`,
`compile` and `fit`, `model.export`.

One description of the architectures
------------------------------------
A Keras model is made from the very `Block`s its graph builder stacks
(`nets_factory.make_blocks`), scheduled by the same `plan_strides`, with the
root convolutions of `resnet_utils.roots.ROOT_CONVS`. Only the four residual
units, the root and the head have a Keras form here, each a function that
adds the unit's layers to the model in the order the graph builder creates
its ops. So depths, widths, strides, atrous rates, multi-grid and
`output_stride` cannot drift apart between the two forms.

Names
-----
Keras 3 does not allow '/' in layer names, so each layer is named after its
slim variable scope with '.' for '/': the layer holding
'resnet_v2_50/block1/unit_1/bottleneck_v2/conv1/weights' is the Conv2D
'resnet_v2_50.block1.unit_1.bottleneck_v2.conv1', its batch norm
'....conv1.BatchNorm'. A weight's slim name is therefore a function of its
layer's name and its own (`slim_variables`), with nothing to store: loading
and saving slim checkpoints is a matter of names and shapes, and works for
a model reloaded from a `.keras` file too. The slim end points (the output
of each convolution after its activation, of each unit and block, and the
head's) are recorded on the model as `model.slim_end_points`, {end point:
layer}, and read by `feature_model`.

Numerics
--------
Padding follows `conv2d_same`, pooling 'SAME' padding, initializers He's
truncated normal, weight decay slim's `l2_regularizer` (half the squared
norm, which is `keras.regularizers.L2(weight_decay / 2)`). Batch norm
(`SlimBatchNormalization`) runs TensorFlow's fused kernel as slim does, so
it also feeds the moving variance slim's unbiased batch variance. Logits
and end points then equal the graph builder's to float32 rounding in
inference and in training mode, and the moving averages move alike
(tests/test_keras_nets.py).

Backends
--------
Apart from that fused kernel, for which other backends get the same
formula from `keras.ops`, the layers are Keras's own, so the models also
run on Keras's JAX backend; the slim checkpoint itself is read and written
with TensorFlow, which this package installs anyway. NHWC (channels last)
is the only layout: Keras's channels_first would change no variable, but
neither do CPUs need it nor does XLA, which picks its own layout on GPUs.
"""

import contextlib
import json
import os

import keras
import numpy as np
import tensorflow as tf

from nets import checkpoint_fit
from nets import nets_factory
from resnet_utils import blocks as blocks_lib
from resnet_utils import checks
from resnet_utils import features
from resnet_utils import roots
from resnet_utils import scopes

ops = keras.ops

# Slim's names for Keras's convolution weights; batch norm weights are named
# alike in both (gamma, beta, moving_mean, moving_variance).
_SLIM_WEIGHT_NAMES = {'kernel': 'weights', 'bias': 'biases'}
PREDICTIONS = 'predictions'

_HINT = ('Check the net name, num_classes and options given to keras_nets '
         'against the run that wrote the checkpoint; leave a replaced head '
         "out with exclude_scopes=['<scope>/logits'].")
_SUGGEST = "build keras_nets.get_model('%s', ...)"


@keras.saving.register_keras_serializable(package='slim_resnets')
class SlimBatchNormalization(keras.layers.BatchNormalization):
  """Keras batch norm computed as slim's batch norm computes it.

  Keras's own layer normalizes with a chain of elementwise ops and feeds its
  moving variance the biased batch variance. Slim, inside every graph
  builder here, runs TensorFlow's fused batch norm kernel, which also
  feeds the moving variance the unbiased estimate: n / (n - 1) times the
  biased variance that normalizes (n values per channel). On the
  TensorFlow backend this layer runs that same fused kernel, so outputs and
  moving statistics match the graph builders' to the last bits the kernel
  leaves to chance, and it runs as one op (faster than the chain). Other
  backends get the same formula, centred first as the kernel computes it,
  from `keras.ops`.

  The moving averages are updated as slim updates them,
  `moving -= (moving - batch) * (1 - decay)`.
  """

  def call(self, inputs, training=None, mask=None):
    if mask is not None:
      return super().call(inputs, training=training, mask=mask)
    training = bool(training and self.trainable)
    if (keras.backend.backend() == 'tensorflow' and len(inputs.shape) == 4
        and self.axis in (-1, 3)):
      outputs, mean, variance = self._fused(inputs, training)
    else:
      outputs, mean, variance = self._portable(inputs, training)
    if training:
      rate = 1.0 - self.momentum
      self.moving_mean.assign(self.moving_mean -
                              (self.moving_mean - mean) * rate)
      self.moving_variance.assign(self.moving_variance -
                                  (self.moving_variance - variance) * rate)
    return outputs

  def _scale_and_offset(self):
    channels = self.moving_mean.shape
    scale = self.gamma if self.scale else ops.ones(channels, 'float32')
    offset = self.beta if self.center else ops.zeros(channels, 'float32')
    return ops.convert_to_tensor(scale), ops.convert_to_tensor(offset)

  def _fused(self, inputs, training):
    scale, offset = self._scale_and_offset()
    if training:
      return tf.compat.v1.nn.fused_batch_norm(
          inputs, scale, offset, epsilon=self.epsilon, is_training=True)
    outputs, _, _ = tf.compat.v1.nn.fused_batch_norm(
        inputs, scale, offset, mean=ops.convert_to_tensor(self.moving_mean),
        variance=ops.convert_to_tensor(self.moving_variance),
        epsilon=self.epsilon, is_training=False)
    return outputs, None, None

  def _portable(self, inputs, training):
    # Statistics in float32 whatever the compute dtype, as Keras does.
    x = ops.cast(inputs, 'float32')
    unbiased = None
    if training:
      mean, variance = ops.moments(x, axes=self._reduction_axes)
      count = ops.cast(ops.size(x), 'float32') / ops.cast(
          ops.shape(x)[self.axis], 'float32')
      unbiased = variance * count / ops.maximum(count - 1.0, 1.0)
    else:
      mean, variance = self.moving_mean, self.moving_variance
    scale, offset = self._scale_and_offset()
    outputs = (x - mean) * (scale * ops.rsqrt(variance + self.epsilon))
    return ops.cast(outputs + offset, self.compute_dtype), mean, unbiased


@keras.saving.register_keras_serializable(package='slim_resnets')
class SpatialSqueeze(keras.layers.Layer):
  """[batch, 1, 1, classes] -> [batch, classes], as slim's `spatial_squeeze`.

  A layer rather than a Reshape so that, like `tf.squeeze` in the graph,
  it also works on inputs of unknown size (and fails on a map that is not
  1x1 instead of reshaping it).
  """

  def call(self, inputs):
    return ops.squeeze(inputs, axis=(1, 2))

  def compute_output_shape(self, input_shape):
    return (input_shape[0], input_shape[3])


def layer_name(slim_scope):
  """The Keras layer name of slim variable scope `slim_scope`."""
  return slim_scope.replace('/', '.')


def slim_name(layer, weight):
  """The slim variable name of `weight` of `layer` (see the module doc)."""
  short = weight.name.split('/')[-1]
  return '%s/%s' % (layer.name.replace('.', '/'),
                    _SLIM_WEIGHT_NAMES.get(short, short))


class _Maker:
  """Adds one net's layers to a functional model, named by slim scope.

  Holds the current scope (as `tf.variable_scope` does for the graph
  builders), the settings every convolution and batch norm shares (what
  `resnet_arg_scope` holds for them), and the end points made so far.
  """

  def __init__(self, scope, weight_decay, batch_norm_decay,
               batch_norm_epsilon, batch_norm_scale, dtype):
    self._scopes = [scope]
    self.end_points = {}
    self._last = None
    # Every layer's keyword arguments: its dtype policy, when one is given.
    common = {} if dtype is None else {'dtype': dtype}
    regularizer = (keras.regularizers.L2(weight_decay / 2.0)
                   if weight_decay else None)
    # He et al.'s fan-in scaling, drawn from a truncated normal, as
    # slim.variance_scaling_initializer() draws it.
    self._conv_args = dict(common, kernel_initializer='he_normal',
                           kernel_regularizer=regularizer)
    self._norm_args = dict(common, momentum=batch_norm_decay,
                           epsilon=batch_norm_epsilon, scale=batch_norm_scale)
    self.common = common

  @contextlib.contextmanager
  def scope(self, name):
    self._scopes.append(name)
    try:
      yield
    finally:
      self._scopes.pop()

  @property
  def scope_name(self):
    return '/'.join(self._scopes)

  def name(self, *parts):
    return layer_name('/'.join(self._scopes + list(parts)))

  def apply(self, layer, *inputs):
    """Calls `layer`; the last layer applied is what `end_point` records."""
    outputs = layer(inputs[0] if len(inputs) == 1 else list(inputs))
    self._last = layer.name
    return outputs

  def end_point(self, name=None):
    """Records the last layer's output as end point `name` (the scope's)."""
    self.end_points[name or self.scope_name] = self._last

  def conv(self, net, depth, kernel_size, stride=1, rate=1, *, scope,
           normalize=True, activation=True):
    """Keras form of `slim.conv2d` padded as `conv2d_same`, with its end point.

    A normalized convolution has no biases, one without batch norm has them,
    as in the slim nets.
    """
    with self.scope(scope):
      name = self.name()
      conv_stride, padding, after = stride, 'same', 1
      if stride > 1 and rate > 1:
        # No kernel strides and dilates at once: convolve densely, then
        # subsample (after the normalization, as conv2d_same does).
        conv_stride, after = 1, stride
      elif stride > 1:
        padding = 'valid'
        before, behind = blocks_lib.same_padding(kernel_size, rate)
        if before or behind:
          net = self.apply(keras.layers.ZeroPadding2D(
              ((before, behind), (before, behind)), name=name + '.pad',
              **self.common), net)
      net = self.apply(keras.layers.Conv2D(
          depth, kernel_size, strides=conv_stride, padding=padding,
          dilation_rate=rate, use_bias=not normalize, name=name,
          **self._conv_args), net)
      if normalize:
        net = self.apply(SlimBatchNormalization(
            name=name + '.BatchNorm', **self._norm_args), net)
      if activation:
        net = self.apply(keras.layers.ReLU(name=name + '.Relu',
                                           **self.common), net)
      self.end_point()
      return self.subsample(net, after, name + '.subsample')

  def batch_norm_relu(self, net, scope):
    """Batch norm and ReLU under `scope` (v2's preact and postnorm)."""
    name = self.name(scope)
    net = self.apply(SlimBatchNormalization(name=name, **self._norm_args), net)
    return self.apply(keras.layers.ReLU(name=name + '.Relu', **self.common),
                      net)

  def subsample(self, net, factor, name):
    """Keras form of `resnet_utils.subsample`: every factor-th pixel."""
    if factor == 1:
      return net
    return self.apply(keras.layers.MaxPooling2D(
        pool_size=1, strides=factor, padding='same', name=name,
        **self.common), net)

  def add(self, shortcut, residual, relu):
    """The unit's sum (rectified for post-activation units), its end point."""
    net = self.apply(keras.layers.Add(name=self.name('add'), **self.common),
                     shortcut, residual)
    if relu:
      net = self.apply(keras.layers.ReLU(name=self.name('Relu'),
                                         **self.common), net)
    self.end_point()
    return net


# The Keras forms of the residual units of nets.resnet_v1 / nets.resnet_v2.
# Each takes the unit's Block arguments and adds its layers in the order the
# graph unit creates its ops (see those modules for the why of each layer).

def _shortcut(m, net, source, depth, stride, normalize):
  """The unit input, subsampled, when the depth is kept; else a projection.

  The 1x1 projection reads `source` (v1: the input; v2: the pre-activated
  input) and has batch norm (v1) or biases (v2), never an activation.
  """
  if depth == net.shape[-1]:
    return m.subsample(net, stride, m.name('shortcut'))
  return m.conv(source, depth, 1, stride, scope='shortcut',
                normalize=normalize, activation=False)


def _bottleneck_v1(m, net, depth, depth_bottleneck, stride, rate=1,
                   unit_rate=1):
  with m.scope('bottleneck_v1'):
    shortcut = _shortcut(m, net, net, depth, stride, normalize=True)
    residual = m.conv(net, depth_bottleneck, 1, scope='conv1')
    residual = m.conv(residual, depth_bottleneck, 3, stride, rate * unit_rate,
                      scope='conv2')
    residual = m.conv(residual, depth, 1, scope='conv3', activation=False)
    return m.add(shortcut, residual, relu=True)


def _basic_block_v1(m, net, depth, stride, rate=1, unit_rate=1):
  with m.scope('basic_block_v1'):
    shortcut = _shortcut(m, net, net, depth, stride, normalize=True)
    residual = m.conv(net, depth, 3, 1, rate * unit_rate, scope='conv1')
    residual = m.conv(residual, depth, 3, stride, rate * unit_rate,
                      scope='conv2', activation=False)
    return m.add(shortcut, residual, relu=True)


def _bottleneck_v2(m, net, depth, depth_bottleneck, stride, rate=1,
                   unit_rate=1):
  with m.scope('bottleneck_v2'):
    preact = m.batch_norm_relu(net, 'preact')
    shortcut = _shortcut(m, net, preact, depth, stride, normalize=False)
    residual = m.conv(preact, depth_bottleneck, 1, scope='conv1')
    residual = m.conv(residual, depth_bottleneck, 3, stride, rate * unit_rate,
                      scope='conv2')
    residual = m.conv(residual, depth, 1, scope='conv3', normalize=False,
                      activation=False)
    return m.add(shortcut, residual, relu=False)


def _basic_block_v2(m, net, depth, stride, rate=1, unit_rate=1):
  with m.scope('basic_block_v2'):
    preact = m.batch_norm_relu(net, 'preact')
    shortcut = _shortcut(m, net, preact, depth, stride, normalize=False)
    residual = m.conv(preact, depth, 3, 1, rate * unit_rate, scope='conv1')
    residual = m.conv(residual, depth, 3, stride, rate * unit_rate,
                      scope='conv2', normalize=False, activation=False)
    return m.add(shortcut, residual, relu=False)


# Keyed by the scope each graph unit opens (its `default_scope`).
_UNITS = {'bottleneck_v1': _bottleneck_v1, 'basic_block_v1': _basic_block_v1,
          'bottleneck_v2': _bottleneck_v2, 'basic_block_v2': _basic_block_v2}


def _root(m, net, kind, preactivation):
  """Keras form of `roots.root_block`, from the same `ROOT_CONVS`."""
  convs = roots.ROOT_CONVS[kind]
  for i, conv in enumerate(convs):
    bare = preactivation and i == len(convs) - 1
    net = m.conv(net, conv.depth, conv.kernel_size, conv.stride,
                 scope=conv.scope, normalize=not bare, activation=not bare)
  if roots.POOLED[kind]:
    net = m.apply(keras.layers.MaxPooling2D(
        roots.POOL_SIZE, roots.POOL_STRIDE, padding='same',
        name=m.name('pool1'), **m.common), net)
  return net


def _stack_blocks(m, net, blocks, output_stride, store_non_strided_activations):
  """Keras form of `stack_blocks_dense`: the same `plan_strides` schedule."""
  plans = blocks_lib.plan_strides(blocks, output_stride,
                                  store_non_strided_activations)
  for block, plan in zip(blocks, plans):
    unit_scope = features.unit_scope_name(block.unit_fn)
    if unit_scope not in _UNITS:
      raise ValueError('%s: no Keras form of unit %r; units with one are %s.'
                       % (block.scope, unit_scope, sorted(_UNITS)))
    with m.scope(block.scope):
      for i, (unit_args, unit_plan) in enumerate(zip(block.args, plan.units)):
        with m.scope('unit_%d' % (i + 1)):
          net = _UNITS[unit_scope](m, net, rate=unit_plan.rate,
                                   **dict(unit_args, stride=unit_plan.stride))
      m.end_point()
      net = m.subsample(net, plan.output_subsample, m.name('subsample'))
  return net


def _head(m, net, num_classes, global_pool, spatial_squeeze):
  """Keras form of `resnet_utils.classification_head` (end points alike)."""
  if global_pool:
    net = m.apply(keras.layers.GlobalAveragePooling2D(
        keepdims=True, name=m.name('pool5'), **m.common), net)
    m.end_point('global_pool')
  if num_classes is None:
    return net
  net = m.conv(net, num_classes, 1, scope='logits', normalize=False,
               activation=False)
  if spatial_squeeze:
    net = m.apply(SpatialSqueeze(name=m.name('SpatialSqueeze'),
                                 **m.common), net)
    m.end_point(m.scope_name + '/spatial_squeeze')
  return net


def build_model(blocks, family, *, root='standard', num_classes=None,
                global_pool=True, output_stride=None, include_root_block=True,
                spatial_squeeze=True, store_non_strided_activations=False,
                scope=None, input_shape=None,
                weight_decay=scopes.WEIGHT_DECAY,
                batch_norm_decay=scopes.BATCH_NORM_DECAY,
                batch_norm_epsilon=scopes.BATCH_NORM_EPSILON,
                batch_norm_scale=True, dtype=None):
  """A `keras.Model` of `blocks`, as `nets.resnet_v1.resnet_v1` / `resnet_v2`.

  The Keras form of the families' generic builders, for networks of your
  own blocks; `get_model` builds the named nets with it. Arguments are those
  of `get_model`, plus:

  Args:
    blocks: list of `resnet_utils.Block` of the family's unit functions
      (e.g. from `nets.resnet_v2.resnet_v2_block`).
    family: 'resnet_v1' or 'resnet_v2'.
    root: root block kind, 'standard', 'beta' or 'cifar'.
    include_root_block: build the root; without it the input must already
      be a root's output, as for the graph builders.
    scope: variable scope (and model name); default `family`.
  """
  checks.check_choice(family, ('resnet_v1', 'resnet_v2'), 'family')
  scope = scope or family
  checks.check_num_classes(num_classes, scope)
  root_stride = roots.root_stride(root) if include_root_block else 1
  reachable = blocks_lib.reachable_output_strides(blocks)
  stack_output_stride = checks.root_relative_output_stride(
      output_stride, root_stride, reachable, scope)
  input_shape = _check_input_shape(input_shape)
  checks.check_spatial_squeeze(
      input_shape[:2], num_classes, global_pool, spatial_squeeze,
      output_stride or root_stride * max(reachable), scope)

  m = _Maker(scope, weight_decay, batch_norm_decay, batch_norm_epsilon,
             batch_norm_scale, dtype)
  images = keras.Input(shape=input_shape, name='images')
  preactivation = family == 'resnet_v2'
  net = images
  if include_root_block:
    net = _root(m, net, root, preactivation)
  net = _stack_blocks(m, net, blocks, stack_output_stride,
                      store_non_strided_activations)
  if preactivation:
    net = m.batch_norm_relu(net, 'postnorm')
  net = _head(m, net, num_classes, global_pool, spatial_squeeze)
  if net.dtype != 'float32':
    # Losses and metrics in float32, as the mixed precision guide advises
    # (and as nets_factory.get_network_fn casts the graph's logits).
    net = keras.layers.Activation('linear', dtype='float32',
                                  name=layer_name(scope + '/to_float32'))(net)
  model = keras.Model(images, net, name=scope)
  model.slim_end_points = dict(m.end_points)
  if num_classes is not None:
    model.slim_end_points[PREDICTIONS] = None
  return model


def get_model(name, num_classes=None, *, weights=None, global_pool=True,
              output_stride=None, spatial_squeeze=True,
              store_non_strided_activations=False, depth_multiplier=1,
              min_base_depth=8, multi_grid=None, scope=None, **options):
  """Network `name` of `nets_factory` as a functional `keras.Model`.

  The model maps float images [batch, height, width, channels] (NHWC) to
  what the graph builder returns as `net`: logits ([batch, num_classes]
  with the spatial squeeze), or without `num_classes` the features (pooled
  unless `global_pool=False`). `model(images, training=True)` uses batch
  statistics and updates the moving averages, as the builder's
  `is_training=True` with its update ops run.

  Args:
    name: a name of `nets_factory.networks_map`, e.g. 'resnet_v2_50'.
    num_classes, global_pool, output_stride, spatial_squeeze,
    store_non_strided_activations, depth_multiplier, min_base_depth,
    multi_grid, scope: as for the graph builder of `name`. `scope` names
      the variables (default: the net's default scope) and the model.
    weights: None (He initialization), or a slim checkpoint (file prefix or
      directory) to load with `load_slim_checkpoint`.
    **options: for every net:
      input_shape: (height, width, channels); default (None, None, 3), any
        size. A known size lets a squeeze of dense logits fail at once.
      weight_decay, batch_norm_decay, batch_norm_epsilon, batch_norm_scale:
        as for `resnet_arg_scope`, with its defaults. The weight decay is
        in `model.losses`.
      dtype: a Keras dtype policy for every layer, e.g. 'mixed_float16';
        None follows `keras.mixed_precision`'s global policy. Variables stay
        float32 and the model's output is float32.

  Returns:
    A `keras.Model` named `scope`, with `model.slim_end_points`.

  Raises:
    ValueError: naming the argument, for an unknown `name`, a bad
      num_classes, an output_stride the net cannot reach, bad multi_grid,
      or squeezed logits of a known input size that cannot be 1x1.
    FileNotFoundError, CheckpointMismatchError: when `weights` is not a
      checkpoint or does not fit (see `load_slim_checkpoint`).
  """
  blocks = nets_factory.make_blocks(name, depth_multiplier, min_base_depth,
                                    multi_grid)
  spec = nets_factory.networks_map[name].spec
  model = build_model(
      blocks, spec.family, root=spec.root, num_classes=num_classes,
      global_pool=global_pool, output_stride=output_stride,
      spatial_squeeze=spatial_squeeze,
      store_non_strided_activations=store_non_strided_activations,
      scope=scope or spec.default_scope, **options)
  if weights is not None:
    load_slim_checkpoint(model, weights)
  return model


def _check_input_shape(input_shape):
  if input_shape is None:
    return (None, None, 3)
  shape = tuple(input_shape)
  if len(shape) != 3 or any(d is not None and (not isinstance(d, int) or d < 1)
                            for d in shape) or shape[2] is None:
    raise ValueError('input_shape must be (height, width, channels) with '
                     'positive sizes (height and width may be None) and a '
                     'known channel count; got %r.' % (input_shape,))
  return shape


def end_point_names(model):
  """The slim end point names `feature_model` accepts for `model`."""
  return sorted(_end_points_of(model))


def _end_points_of(model):
  known = getattr(model, 'slim_end_points', None)
  if known is None:
    raise ValueError(
        'model %r carries no slim end points: build it with '
        'keras_nets.get_model (a model reloaded from a file has lost them; '
        'build it again and load its weights).' % model.name)
  return known


def feature_model(model, end_points):
  """A `keras.Model` from `model`'s input to the named slim end points.

  It shares `model`'s layers and weights, and returns {end point: tensor}.

  Args:
    model: a model of `get_model`.
    end_points: an end point name or a list of them, as the graph builder
      keys them: 'resnet_v2_50/block1', 'resnet_v2_50/block4/unit_3/
      bottleneck_v2/conv2', 'global_pool', 'predictions', ...

  Raises:
    ValueError: for a name `model` does not have; the message lists its
      block end points (`end_point_names` lists them all).
  """
  known = _end_points_of(model)
  names = [end_points] if isinstance(end_points, str) else list(end_points)
  unknown = [n for n in names if n not in known]
  if unknown or not names:
    blocks = [n for n in sorted(known) if n.count('/') <= 1]
    raise ValueError(
        'end_points: %s has no end point %s; it has %d, among them %s '
        '(keras_nets.end_point_names lists them all).'
        % (model.name, ', '.join(map(repr, unknown)) or '(none asked for)',
           len(known), ', '.join(blocks)))
  outputs = {}
  for name in names:
    if name == PREDICTIONS:
      outputs[name] = keras.layers.Softmax(name=PREDICTIONS, dtype='float32')(
          model.output)
    else:
      outputs[name] = model.get_layer(known[name]).output
  return keras.Model(model.input, outputs, name=model.name + '_features')


def _layers(model):
  """Every layer of `model`, nested models' layers included."""
  for layer in model.layers:
    if isinstance(layer, keras.Model):
      yield from _layers(layer)
    else:
      yield layer


def slim_variables(model):
  """{slim variable name: Keras variable} of the slim layers of `model`.

  The slim layers are those named after a slim scope (their names hold a
  '.'; Keras never gives a layer such a name itself). Layers a user adds
  around the net keep their own names and are left out.
  """
  found = {}
  for layer in _layers(model):
    if '.' not in layer.name:
      continue
    for weight in layer.weights:
      found[slim_name(layer, weight)] = weight
  return found


def load_slim_checkpoint(model, checkpoint_path, exclude_scopes=()):
  """Loads a slim checkpoint into `model` by variable name; returns its path.

  Every slim variable of the model (outside `exclude_scopes`) must be in
  the checkpoint with the same shape; otherwise nothing is loaded and the
  report lists what is missing, what differs and what the checkpoint holds
  instead, naming the net it looks like. The checkpoint's other tensors (a
  replaced head, optimizer slots, the global step) are ignored.

  Args:
    model: a model of `get_model` (or one holding it).
    checkpoint_path: a checkpoint file prefix, or a directory whose latest
      checkpoint is taken (a train dir of train_image_classifier.py).
    exclude_scopes: slim scopes to leave as they are, e.g.
      ['resnet_v2_50/logits'] when fine-tuning on other classes.

  Raises:
    FileNotFoundError: when there is no such checkpoint.
    CheckpointMismatchError: when the checkpoint does not fit.
  """
  path = checkpoint_fit.resolve_checkpoint(os.fspath(checkpoint_path))
  if isinstance(exclude_scopes, str):
    exclude_scopes = [exclude_scopes]
  variables = {n: v for n, v in slim_variables(model).items()
               if not checkpoint_fit.in_scopes(n, exclude_scopes)}
  if not variables:
    raise ValueError('model %r has no slim variables to load (outside '
                     'exclude_scopes=%r).' % (model.name, exclude_scopes))
  reader = tf.train.load_checkpoint(path)
  checkpoint_fit.check_fit(
      path, {n: list(v.shape) for n, v in variables.items()}, _HINT,
      saved=reader.get_variable_to_shape_map(), suggest=_SUGGEST)
  for name, variable in variables.items():
    variable.assign(reader.get_tensor(name))
  return path


def save_slim_checkpoint(model, checkpoint_path, overwrite=False):
  """Writes `model`'s slim variables as a slim checkpoint; returns its path.

  The checkpoint holds exactly the variables the graph builder makes, under
  their names and shapes (no optimizer state, no Keras bookkeeping), so that
  the builder's `tf.train.Saver` restores it, and the scripts
  (eval_image_classifier.py, export_inference_graph.py, ...) read it. The
  directory's `checkpoint` file is updated to point at it, so the directory
  can be passed as a checkpoint too.

  Args:
    model: a model of `get_model` (or one holding it).
    checkpoint_path: the file prefix, e.g. 'runs/fine_tuned/model.ckpt'.
    overwrite: replace an existing checkpoint of that prefix; without it an
      existing one is refused, so that no checkpoint is lost by accident.

  Raises:
    FileExistsError: when the checkpoint exists and `overwrite` is False.
  """
  path = os.fspath(checkpoint_path)
  variables = slim_variables(model)
  if not variables:
    raise ValueError('model %r has no slim variables to save.' % model.name)
  if tf.io.gfile.exists(path + '.index') and not overwrite:
    raise FileExistsError('checkpoint %s exists; pass overwrite=True to '
                          'replace it.' % path)
  directory = os.path.dirname(os.path.abspath(path))
  tf.io.gfile.makedirs(directory)
  names = sorted(variables)
  tf.raw_ops.SaveV2(
      prefix=path, tensor_names=names, shape_and_slices=[''] * len(names),
      tensors=[np.asarray(ops.convert_to_numpy(variables[n]), np.float32)
               for n in names])
  _point_checkpoint_file_at(directory, os.path.basename(path))
  return path


def _point_checkpoint_file_at(directory, name):
  """Makes `name` the latest checkpoint of `directory`, keeping the rest.

  The `checkpoint` file is a CheckpointState text proto; the ones listed
  before stay listed, so that a train dir's history is not forgotten.
  """
  state = tf.train.get_checkpoint_state(directory)
  listed = [p for p in (state.all_model_checkpoint_paths if state else [])
            if os.path.basename(p) != name] + [name]
  lines = ['model_checkpoint_path: %s' % json.dumps(name)]
  lines += ['all_model_checkpoint_paths: %s' % json.dumps(p) for p in listed]
  with tf.io.gfile.GFile(os.path.join(directory, 'checkpoint'), 'w') as f:
    f.write('\n'.join(lines) + '\n')


# One function per named net, each `get_model` with the net's name.

def resnet_v1_18(num_classes=None, **options):
  """ResNet-18 V1: basic units 2-2-2-2."""
  return get_model('resnet_v1_18', num_classes, **options)


def resnet_v1_34(num_classes=None, **options):
  """ResNet-34 V1: basic units 3-4-6-3."""
  return get_model('resnet_v1_34', num_classes, **options)


def resnet_v1_50(num_classes=None, **options):
  """ResNet-50 V1: bottleneck units 3-4-6-3."""
  return get_model('resnet_v1_50', num_classes, **options)


def resnet_v1_101(num_classes=None, **options):
  """ResNet-101 V1: bottleneck units 3-4-23-3."""
  return get_model('resnet_v1_101', num_classes, **options)


def resnet_v1_152(num_classes=None, **options):
  """ResNet-152 V1: bottleneck units 3-8-36-3."""
  return get_model('resnet_v1_152', num_classes, **options)


def resnet_v1_200(num_classes=None, **options):
  """ResNet-200 V1: bottleneck units 3-24-36-3."""
  return get_model('resnet_v1_200', num_classes, **options)


def resnet_v1_50_beta(num_classes=None, **options):
  """ResNet-50 V1: bottleneck units 3-4-6-3, beta root."""
  return get_model('resnet_v1_50_beta', num_classes, **options)


def resnet_v1_101_beta(num_classes=None, **options):
  """ResNet-101 V1: bottleneck units 3-4-23-3, beta root."""
  return get_model('resnet_v1_101_beta', num_classes, **options)


def resnet_v1_cifar_20(num_classes=None, **options):
  """CIFAR ResNet-20 V1: basic units 3-3-3."""
  return get_model('resnet_v1_cifar_20', num_classes, **options)


def resnet_v1_cifar_32(num_classes=None, **options):
  """CIFAR ResNet-32 V1: basic units 5-5-5."""
  return get_model('resnet_v1_cifar_32', num_classes, **options)


def resnet_v1_cifar_44(num_classes=None, **options):
  """CIFAR ResNet-44 V1: basic units 7-7-7."""
  return get_model('resnet_v1_cifar_44', num_classes, **options)


def resnet_v1_cifar_56(num_classes=None, **options):
  """CIFAR ResNet-56 V1: basic units 9-9-9."""
  return get_model('resnet_v1_cifar_56', num_classes, **options)


def resnet_v1_cifar_110(num_classes=None, **options):
  """CIFAR ResNet-110 V1: basic units 18-18-18."""
  return get_model('resnet_v1_cifar_110', num_classes, **options)


def resnet_v2_18(num_classes=None, **options):
  """ResNet-18 V2: basic units 2-2-2-2."""
  return get_model('resnet_v2_18', num_classes, **options)


def resnet_v2_34(num_classes=None, **options):
  """ResNet-34 V2: basic units 3-4-6-3."""
  return get_model('resnet_v2_34', num_classes, **options)


def resnet_v2_50(num_classes=None, **options):
  """ResNet-50 V2: bottleneck units 3-4-6-3."""
  return get_model('resnet_v2_50', num_classes, **options)


def resnet_v2_101(num_classes=None, **options):
  """ResNet-101 V2: bottleneck units 3-4-23-3."""
  return get_model('resnet_v2_101', num_classes, **options)


def resnet_v2_152(num_classes=None, **options):
  """ResNet-152 V2: bottleneck units 3-8-36-3."""
  return get_model('resnet_v2_152', num_classes, **options)


def resnet_v2_200(num_classes=None, **options):
  """ResNet-200 V2: bottleneck units 3-24-36-3."""
  return get_model('resnet_v2_200', num_classes, **options)


def resnet_v2_50_beta(num_classes=None, **options):
  """ResNet-50 V2: bottleneck units 3-4-6-3, beta root."""
  return get_model('resnet_v2_50_beta', num_classes, **options)


def resnet_v2_101_beta(num_classes=None, **options):
  """ResNet-101 V2: bottleneck units 3-4-23-3, beta root."""
  return get_model('resnet_v2_101_beta', num_classes, **options)


def resnet_v2_cifar_20(num_classes=None, **options):
  """CIFAR ResNet-20 V2: basic units 3-3-3."""
  return get_model('resnet_v2_cifar_20', num_classes, **options)


def resnet_v2_cifar_32(num_classes=None, **options):
  """CIFAR ResNet-32 V2: basic units 5-5-5."""
  return get_model('resnet_v2_cifar_32', num_classes, **options)


def resnet_v2_cifar_44(num_classes=None, **options):
  """CIFAR ResNet-44 V2: basic units 7-7-7."""
  return get_model('resnet_v2_cifar_44', num_classes, **options)


def resnet_v2_cifar_56(num_classes=None, **options):
  """CIFAR ResNet-56 V2: basic units 9-9-9."""
  return get_model('resnet_v2_cifar_56', num_classes, **options)


def resnet_v2_cifar_110(num_classes=None, **options):
  """CIFAR ResNet-110 V2: basic units 18-18-18."""
  return get_model('resnet_v2_cifar_110', num_classes, **options)


def resnet_v2_cifar_164(num_classes=None, **options):
  """CIFAR ResNet-164 V2: bottleneck units 18-18-18."""
  return get_model('resnet_v2_cifar_164', num_classes, **options)
