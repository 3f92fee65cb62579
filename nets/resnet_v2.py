"""ResNet V2: the pre-activation residual networks.

He, Zhang, Ren and Sun, "Identity Mappings in Deep Residual Networks" (2016)
moved batch norm and ReLU in front of each convolution ("pre-activation").
The identity shortcut then carries the raw sum of all earlier units, which is
what makes very deep nets (ResNet-200) train well. Two consequences shape the
graph built here:

* The root convolution has biases and no batch norm or ReLU: the first unit's
  `preact` normalizes its output.
* Since every unit ends with a bare addition, the body's output is not yet
  normalized; a final `postnorm` batch norm + ReLU does that before pooling.

Stride placement. The published models downsample in the *last* unit of
blocks 1 to 3 (block 4 has stride 1), at the unit's last spatial (3x3)
convolution. Together with the root (7x7/2 conv, 3x3/2 max pool) that gives
a nominal output stride of 4 * 2 * 2 * 2 = 32: a 224x224 image becomes a 7x7
map. With the stride at the end of a block, each block's end point is
already at the next block's resolution; and with the stride on the unit's
last spatial convolution, nothing after it inside the unit looks at
neighbouring pixels, which is what lets `output_stride` swap the stride for an
atrous rate without changing the result (see `resnet_utils.plan_strides`).

Dense prediction. With `global_pool=False` and `output_stride=16` (or 8) the
units past that stride run with stride 1 and atrous convolution instead,
computing the same features more densely. For aligned corners feed sizes of
the form k * output_stride + 1, e.g. 321x321, which give
((321 - 1) / 16 + 1) = 21x21 maps.

Variable names, end point keys and numerics match the slim `resnet_v2`
module, so the published `resnet_v2_{50,101,152,200}` checkpoints restore
with `tf.compat.v1.train.Saver` as they are.
"""

import functools

import tensorflow.compat.v1 as tf
import tf_slim as slim

import resnet_utils
from resnet_utils import network
from resnet_utils import roots

resnet_arg_scope = resnet_utils.resnet_arg_scope


@slim.add_arg_scope
def bottleneck(inputs, depth, depth_bottleneck, stride, rate=1,
               outputs_collections=None, scope=None, unit_rate=1):
  """One pre-activation bottleneck unit: BN-ReLU, 1x1, 3x3, 1x1, add.

  The unit's input is normalized once (`preact`) and that normalized tensor
  feeds both the residual branch and, when the channel count changes, the
  1x1 projection shortcut. When the count is unchanged the shortcut is the
  raw input (subsampled if the unit is strided), so the identity path stays
  free of normalization. The stride sits on the 3x3 convolution, padded as in
  `conv2d_same`; `conv3` has biases and no norm or activation because the
  next unit's `preact` provides them.

  Args:
    inputs: rank-4 tensor in the arg scope's data_format (NHWC or NCHW).
    depth: output channels of the unit.
    depth_bottleneck: channels of the 1x1 and 3x3 inner convolutions.
    stride: downsampling of this unit.
    rate: atrous rate of the 3x3 convolution.
    outputs_collections: collection receiving the unit output (its end point).
    scope: variable scope; 'bottleneck_v2' by default.
    unit_rate: extra rate multiplier of this unit (multi-grid).

  Returns:
    The unit's output tensor.
  """
  with tf.variable_scope(scope, 'bottleneck_v2', [inputs]) as sc:
    depth_in = resnet_utils.layout.num_channels(inputs)
    preact = slim.batch_norm(inputs, activation_fn=tf.nn.relu, scope='preact')
    shortcut = _shortcut(inputs, preact, depth, depth_in, stride)
    residual = slim.conv2d(preact, depth_bottleneck, [1, 1], stride=1,
                           scope='conv1')
    residual = resnet_utils.conv2d_same(residual, depth_bottleneck, 3, stride,
                                        rate=rate * unit_rate, scope='conv2')
    residual = slim.conv2d(residual, depth, [1, 1], stride=1,
                           normalizer_fn=None, activation_fn=None,
                           scope='conv3')
    return slim.utils.collect_named_outputs(outputs_collections, sc.name,
                                            shortcut + residual)


@slim.add_arg_scope
def basic_block(inputs, depth, stride, rate=1, outputs_collections=None,
                scope=None, unit_rate=1):
  """One pre-activation basic unit: BN-ReLU, 3x3, BN-ReLU, 3x3, add.

  The two-convolution unit of ResNet-18/34 and the CIFAR nets, arranged as
  `bottleneck` is: one `preact` shared by the branch and a projection
  shortcut, and a bare last convolution with biases. The stride sits on the
  *second* 3x3 convolution, the unit's last spatial one, so that replacing it
  by an atrous rate (for `output_stride`) leaves the output unchanged; the
  parameter count is the same as with the stride on the first.

  Args:
    inputs: rank-4 tensor in the arg scope's data_format (NHWC or NCHW).
    depth: output channels (also of the inner convolution).
    stride: downsampling of this unit.
    rate: atrous rate of both 3x3 convolutions.
    outputs_collections: collection receiving the unit output.
    scope: variable scope; 'basic_block_v2' by default.
    unit_rate: extra rate multiplier of this unit (multi-grid).

  Returns:
    The unit's output tensor.
  """
  with tf.variable_scope(scope, 'basic_block_v2', [inputs]) as sc:
    depth_in = resnet_utils.layout.num_channels(inputs)
    preact = slim.batch_norm(inputs, activation_fn=tf.nn.relu, scope='preact')
    shortcut = _shortcut(inputs, preact, depth, depth_in, stride)
    residual = resnet_utils.conv2d_same(preact, depth, 3, 1,
                                        rate=rate * unit_rate, scope='conv1')
    with slim.arg_scope([slim.conv2d], normalizer_fn=None, activation_fn=None):
      residual = resnet_utils.conv2d_same(residual, depth, 3, stride,
                                          rate=rate * unit_rate,
                                          scope='conv2')
    return slim.utils.collect_named_outputs(outputs_collections, sc.name,
                                            shortcut + residual)


def _shortcut(inputs, preact, depth, depth_in, stride):
  """Identity (subsampled) when the depth is kept, else a 1x1 projection.

  The projection reads the pre-activated tensor and has biases but no norm:
  its output is summed with the branch and normalized by the next unit.
  """
  if depth == depth_in:
    return resnet_utils.subsample(inputs, stride, 'shortcut')
  return slim.conv2d(preact, depth, [1, 1], stride=stride, normalizer_fn=None,
                     activation_fn=None, scope='shortcut')


def _postnorm(net):
  return slim.batch_norm(net, activation_fn=tf.nn.relu, scope='postnorm')


# Scope names the units open, for describing end points without a graph.
bottleneck.default_scope = 'bottleneck_v2'
basic_block.default_scope = 'basic_block_v2'


def resnet_v2(inputs,
              blocks,
              num_classes=None,
              is_training=True,
              global_pool=True,
              output_stride=None,
              include_root_block=True,
              spatial_squeeze=True,
              reuse=None,
              scope=None,
              *,
              store_non_strided_activations=False,
              root='standard'):
  """Builds a pre-activation ResNet from a list of blocks.

  Args:
    inputs: float tensor [batch, height, width, 3]; batch, height and width may
      be unknown.
    blocks: list of `resnet_utils.Block`, e.g. from `resnet_v2_block`.
    num_classes: None to return features (no logits layer), else the number
      of classes (1001 for the published ImageNet checkpoints, whose class 0
      is "background").
    is_training: batch norm uses batch statistics and queues its moving
      average updates in UPDATE_OPS when True; uses the moving averages when
      False.
    global_pool: average the final features over space. Use True for
      classification, False for dense prediction.
    output_stride: None for the nominal stride (32 for the standard blocks),
      or the wanted image-to-feature resolution ratio, a multiple of 4 when
      the root block is used (e.g. 8 or 16 for dense prediction).
    include_root_block: build the root block. Without it `inputs` must already
      be the output of a convolution with no activation.
    spatial_squeeze: return logits as [batch, num_classes] rather than
      [batch, 1, 1, num_classes].
    reuse: reuse the variables of an earlier call with the same `scope`.
    scope: variable scope, 'resnet_v2' by default.
    store_non_strided_activations: record each block's end point before its
      last stride (see `resnet_utils.stack_blocks_dense`).
    root: root block kind, 'standard', 'beta' or 'cifar' (`resnet_utils.roots`).

  Returns:
    net: logits when `num_classes` is given; otherwise the features after
      `postnorm` (and pooling if `global_pool`).
    end_points: dict from end point name to tensor: the root convs, every unit
      and its convolutions, every block, and 'global_pool',
      '<scope>/logits', '<scope>/spatial_squeeze', 'predictions' as they apply.

  Raises:
    RuntimeError: when called in eager mode.
    ValueError: for inputs not of rank 4, a num_classes that is not a positive
      integer, or an output_stride the network cannot produce.
  """
  return network.build_resnet(
      inputs, blocks, 'resnet_v2',
      root_fn=functools.partial(roots.root_block, kind=root,
                                preactivation=True),
      root_stride=roots.root_stride(root), final_fn=_postnorm,
      num_classes=num_classes, is_training=is_training,
      global_pool=global_pool, output_stride=output_stride,
      include_root_block=include_root_block, spatial_squeeze=spatial_squeeze,
      store_non_strided_activations=store_non_strided_activations,
      reuse=reuse, scope=scope)


resnet_v2.default_image_size = 224


def resnet_v2_block(scope, base_depth, num_units, stride):
  """A block of `num_units` bottlenecks whose last unit has `stride`.

  Every unit outputs `4 * base_depth` channels through a `base_depth`-channel
  bottleneck. Only the last unit is strided (see the module docstring).
  """
  return resnet_utils.uniform_block(scope, bottleneck, {'depth': base_depth * 4,
                                            'depth_bottleneck': base_depth},
                        num_units, stride)


def resnet_v2_basic_block(scope, base_depth, num_units, stride):
  """A block of `num_units` basic units of `base_depth` channels."""
  return resnet_utils.uniform_block(scope, basic_block, {'depth': base_depth},
                                    num_units,
                        stride)


BLOCK_FNS = {'bottleneck': resnet_v2_block, 'basic': resnet_v2_basic_block}

def _spec(name, unit, units_per_block, layout=network.IMAGENET_LAYOUT,
          **options):
  return network.ModelSpec(name, 'resnet_v2', unit, units_per_block, **layout,
                           **options)


# Every named v2 network, as data. CIFAR depths are 6n + 2 with n basic units
# per stage, 9n + 2 with bottlenecks (He et al. 2016).
SPECS = {spec.name: spec for spec in [
    _spec('resnet_v2_18', 'basic', (2, 2, 2, 2)),
    _spec('resnet_v2_34', 'basic', (3, 4, 6, 3)),
    _spec('resnet_v2_50', 'bottleneck', (3, 4, 6, 3)),
    _spec('resnet_v2_101', 'bottleneck', (3, 4, 23, 3)),
    _spec('resnet_v2_152', 'bottleneck', (3, 8, 36, 3)),
    _spec('resnet_v2_200', 'bottleneck', (3, 24, 36, 3)),
    _spec('resnet_v2_50_beta', 'bottleneck', (3, 4, 6, 3), root='beta',
          default_scope='resnet_v2_50'),
    _spec('resnet_v2_101_beta', 'bottleneck', (3, 4, 23, 3), root='beta',
          default_scope='resnet_v2_101'),
    _spec('resnet_v2_cifar_164', 'bottleneck', (18, 18, 18),
          layout=network.CIFAR_LAYOUT),
] + [
    _spec('resnet_v2_cifar_%d' % (6 * n + 2), 'basic', (n, n, n),
          layout=network.CIFAR_LAYOUT)
    for n in (3, 5, 7, 9, 18)
]}


def _build(name, *args):
  return network.build_named(SPECS[name], resnet_v2, BLOCK_FNS, *args)


def resnet_v2_18(inputs, num_classes=None, is_training=True, global_pool=True,
                 output_stride=None, spatial_squeeze=True, *,
                 store_non_strided_activations=False, min_base_depth=8,
                 depth_multiplier=1, multi_grid=None, reuse=None,
                 scope='resnet_v2_18'):
  """ResNet-18 V2: basic units 2-2-2-2, standard root, 224x224."""
  return _build('resnet_v2_18', inputs, num_classes, is_training, global_pool,
                output_stride, spatial_squeeze, store_non_strided_activations,
                min_base_depth, depth_multiplier, multi_grid, reuse, scope)


def resnet_v2_34(inputs, num_classes=None, is_training=True, global_pool=True,
                 output_stride=None, spatial_squeeze=True, *,
                 store_non_strided_activations=False, min_base_depth=8,
                 depth_multiplier=1, multi_grid=None, reuse=None,
                 scope='resnet_v2_34'):
  """ResNet-34 V2: basic units 3-4-6-3, standard root, 224x224."""
  return _build('resnet_v2_34', inputs, num_classes, is_training, global_pool,
                output_stride, spatial_squeeze, store_non_strided_activations,
                min_base_depth, depth_multiplier, multi_grid, reuse, scope)


def resnet_v2_50(inputs, num_classes=None, is_training=True, global_pool=True,
                 output_stride=None, spatial_squeeze=True, *,
                 store_non_strided_activations=False, min_base_depth=8,
                 depth_multiplier=1, multi_grid=None, reuse=None,
                 scope='resnet_v2_50'):
  """ResNet-50 V2: bottleneck units 3-4-6-3, standard root, 224x224.

  Its variables are those of the published slim `resnet_v2_50` checkpoint.
  """
  return _build('resnet_v2_50', inputs, num_classes, is_training, global_pool,
                output_stride, spatial_squeeze, store_non_strided_activations,
                min_base_depth, depth_multiplier, multi_grid, reuse, scope)


def resnet_v2_101(inputs, num_classes=None, is_training=True, global_pool=True,
                  output_stride=None, spatial_squeeze=True, *,
                  store_non_strided_activations=False, min_base_depth=8,
                  depth_multiplier=1, multi_grid=None, reuse=None,
                  scope='resnet_v2_101'):
  """ResNet-101 V2: bottleneck units 3-4-23-3, standard root, 224x224.

  Its variables are those of the published slim `resnet_v2_101` checkpoint.
  """
  return _build('resnet_v2_101', inputs, num_classes, is_training, global_pool,
                output_stride, spatial_squeeze, store_non_strided_activations,
                min_base_depth, depth_multiplier, multi_grid, reuse, scope)


def resnet_v2_152(inputs, num_classes=None, is_training=True, global_pool=True,
                  output_stride=None, spatial_squeeze=True, *,
                  store_non_strided_activations=False, min_base_depth=8,
                  depth_multiplier=1, multi_grid=None, reuse=None,
                  scope='resnet_v2_152'):
  """ResNet-152 V2: bottleneck units 3-8-36-3, standard root, 224x224.

  Its variables are those of the published slim `resnet_v2_152` checkpoint.
  """
  return _build('resnet_v2_152', inputs, num_classes, is_training, global_pool,
                output_stride, spatial_squeeze, store_non_strided_activations,
                min_base_depth, depth_multiplier, multi_grid, reuse, scope)


def resnet_v2_200(inputs, num_classes=None, is_training=True, global_pool=True,
                  output_stride=None, spatial_squeeze=True, *,
                  store_non_strided_activations=False, min_base_depth=8,
                  depth_multiplier=1, multi_grid=None, reuse=None,
                  scope='resnet_v2_200'):
  """ResNet-200 V2: bottleneck units 3-24-36-3, standard root, 224x224."""
  return _build('resnet_v2_200', inputs, num_classes, is_training, global_pool,
                output_stride, spatial_squeeze, store_non_strided_activations,
                min_base_depth, depth_multiplier, multi_grid, reuse, scope)


def resnet_v2_50_beta(inputs, num_classes=None, is_training=True,
                      global_pool=True, output_stride=None,
                      spatial_squeeze=True, *,
                      store_non_strided_activations=False, min_base_depth=8,
                      depth_multiplier=1, multi_grid=None, reuse=None,
                      scope='resnet_v2_50'):
  """ResNet-50 V2 with DeepLab's beta root (three 3x3 convolutions).

  Its default scope is the plain net's, `resnet_v2_50`, as in DeepLab, so
  DeepLab's checkpoints restore as they are.
  """
  return _build('resnet_v2_50_beta', inputs, num_classes, is_training,
                global_pool, output_stride, spatial_squeeze,
                store_non_strided_activations, min_base_depth,
                depth_multiplier, multi_grid, reuse, scope)


def resnet_v2_101_beta(inputs, num_classes=None, is_training=True,
                       global_pool=True, output_stride=None,
                       spatial_squeeze=True, *,
                       store_non_strided_activations=False, min_base_depth=8,
                       depth_multiplier=1, multi_grid=None, reuse=None,
                       scope='resnet_v2_101'):
  """ResNet-101 V2 with DeepLab's beta root (three 3x3 convolutions).

  Its default scope is the plain net's, `resnet_v2_101`, as in DeepLab, so
  DeepLab's checkpoints restore as they are.
  """
  return _build('resnet_v2_101_beta', inputs, num_classes, is_training,
                global_pool, output_stride, spatial_squeeze,
                store_non_strided_activations, min_base_depth,
                depth_multiplier, multi_grid, reuse, scope)


def resnet_v2_cifar_20(inputs, num_classes=None, is_training=True,
                       global_pool=True, output_stride=None,
                       spatial_squeeze=True, *,
                       store_non_strided_activations=False, min_base_depth=8,
                       depth_multiplier=1, multi_grid=None, reuse=None,
                       scope='resnet_v2_cifar_20'):
  """CIFAR ResNet-20 V2: 3 basic units per stage (6n + 2 layers), 32x32."""
  return _build('resnet_v2_cifar_20', inputs, num_classes, is_training,
                global_pool, output_stride, spatial_squeeze,
                store_non_strided_activations, min_base_depth,
                depth_multiplier, multi_grid, reuse, scope)


def resnet_v2_cifar_32(inputs, num_classes=None, is_training=True,
                       global_pool=True, output_stride=None,
                       spatial_squeeze=True, *,
                       store_non_strided_activations=False, min_base_depth=8,
                       depth_multiplier=1, multi_grid=None, reuse=None,
                       scope='resnet_v2_cifar_32'):
  """CIFAR ResNet-32 V2: 5 basic units per stage (6n + 2 layers), 32x32."""
  return _build('resnet_v2_cifar_32', inputs, num_classes, is_training,
                global_pool, output_stride, spatial_squeeze,
                store_non_strided_activations, min_base_depth,
                depth_multiplier, multi_grid, reuse, scope)


def resnet_v2_cifar_44(inputs, num_classes=None, is_training=True,
                       global_pool=True, output_stride=None,
                       spatial_squeeze=True, *,
                       store_non_strided_activations=False, min_base_depth=8,
                       depth_multiplier=1, multi_grid=None, reuse=None,
                       scope='resnet_v2_cifar_44'):
  """CIFAR ResNet-44 V2: 7 basic units per stage (6n + 2 layers), 32x32."""
  return _build('resnet_v2_cifar_44', inputs, num_classes, is_training,
                global_pool, output_stride, spatial_squeeze,
                store_non_strided_activations, min_base_depth,
                depth_multiplier, multi_grid, reuse, scope)


def resnet_v2_cifar_56(inputs, num_classes=None, is_training=True,
                       global_pool=True, output_stride=None,
                       spatial_squeeze=True, *,
                       store_non_strided_activations=False, min_base_depth=8,
                       depth_multiplier=1, multi_grid=None, reuse=None,
                       scope='resnet_v2_cifar_56'):
  """CIFAR ResNet-56 V2: 9 basic units per stage (6n + 2 layers), 32x32."""
  return _build('resnet_v2_cifar_56', inputs, num_classes, is_training,
                global_pool, output_stride, spatial_squeeze,
                store_non_strided_activations, min_base_depth,
                depth_multiplier, multi_grid, reuse, scope)


def resnet_v2_cifar_110(inputs, num_classes=None, is_training=True,
                        global_pool=True, output_stride=None,
                        spatial_squeeze=True, *,
                        store_non_strided_activations=False, min_base_depth=8,
                        depth_multiplier=1, multi_grid=None, reuse=None,
                        scope='resnet_v2_cifar_110'):
  """CIFAR ResNet-110 V2: 18 basic units per stage (6n + 2 layers), 32x32."""
  return _build('resnet_v2_cifar_110', inputs, num_classes, is_training,
                global_pool, output_stride, spatial_squeeze,
                store_non_strided_activations, min_base_depth,
                depth_multiplier, multi_grid, reuse, scope)


def resnet_v2_cifar_164(inputs, num_classes=None, is_training=True,
                        global_pool=True, output_stride=None,
                        spatial_squeeze=True, *,
                        store_non_strided_activations=False, min_base_depth=8,
                        depth_multiplier=1, multi_grid=None, reuse=None,
                        scope='resnet_v2_cifar_164'):
  """CIFAR ResNet-164 V2: 18 bottleneck units per stage (9n + 2), 32x32."""
  return _build('resnet_v2_cifar_164', inputs, num_classes, is_training,
                global_pool, output_stride, spatial_squeeze,
                store_non_strided_activations, min_base_depth,
                depth_multiplier, multi_grid, reuse, scope)


BUILDERS = {builder.__name__: builder for builder in (
    resnet_v2_18, resnet_v2_34, resnet_v2_50, resnet_v2_101, resnet_v2_152,
    resnet_v2_200, resnet_v2_50_beta, resnet_v2_101_beta, resnet_v2_cifar_20,
    resnet_v2_cifar_32, resnet_v2_cifar_44, resnet_v2_cifar_56,
    resnet_v2_cifar_110, resnet_v2_cifar_164,
)}

network.register(BUILDERS, SPECS)
