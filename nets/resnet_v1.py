"""ResNet V1: the original, post-activation residual networks.

He, Zhang, Ren and Sun, "Deep Residual Learning for Image Recognition"
(2015). Every convolution is followed by batch norm and, except the last of
each unit, a ReLU; the unit adds its shortcut and applies a ReLU after the
sum. So, unlike V2, the body's output is already normalized and rectified and
no final batch norm is needed, and the root convolution is an ordinary
conv + BN + ReLU.

Stride placement follows the slim models (and so the published slim
`resnet_v1_*` checkpoints): blocks 1-3 downsample in their last unit, on the
3x3 convolution ("ResNet v1.5"-style, rather than on the first 1x1 as in the
paper), and block 4 has stride 1. That keeps every unit's only stride on its
last spatial convolution, which is what makes the `output_stride`
stride-to-rate exchange exact. See `nets.resnet_v2` for the arithmetic.

`use_bounded_activations` swaps ReLU for ReLU6 on the unit output and the
projection shortcut and clips the residual to [-6, 6] before the sum, so
that every tensor has a known range: what fixed-point (quantized) inference
needs to pick its scales.
"""

import functools

import tensorflow.compat.v1 as tf
import tf_slim as slim

import resnet_utils
from resnet_utils import network
from resnet_utils import roots

resnet_arg_scope = resnet_utils.resnet_arg_scope


def _shortcut(inputs, depth, depth_in, stride, use_bounded_activations):
  """Identity (subsampled) when the depth is kept, else a 1x1 conv + BN."""
  if depth == depth_in:
    return resnet_utils.subsample(inputs, stride, 'shortcut')
  return slim.conv2d(
      inputs, depth, [1, 1], stride=stride,
      activation_fn=tf.nn.relu6 if use_bounded_activations else None,
      scope='shortcut')


def _merge(shortcut, residual, use_bounded_activations):
  """ReLU of the sum; ReLU6 of the sum with a clipped residual when bounded."""
  if use_bounded_activations:
    residual = tf.clip_by_value(residual, -6.0, 6.0)
    return tf.nn.relu6(shortcut + residual)
  return tf.nn.relu(shortcut + residual)


@slim.add_arg_scope
def bottleneck(inputs, depth, depth_bottleneck, stride, rate=1,
               outputs_collections=None, scope=None,
               use_bounded_activations=False, unit_rate=1):
  """One post-activation bottleneck unit: 1x1, 3x3, 1x1 (each + BN), add, ReLU.

  Args:
    inputs: rank-4 tensor in the arg scope's data_format (NHWC or NCHW).
    depth: output channels of the unit.
    depth_bottleneck: channels of the 1x1 and 3x3 inner convolutions.
    stride: downsampling of this unit, applied by the 3x3 convolution (and the
      shortcut).
    rate: atrous rate of the 3x3 convolution.
    outputs_collections: collection receiving the unit output.
    scope: variable scope; 'bottleneck_v1' by default.
    use_bounded_activations: ReLU6 and clipping, see the module docstring.
    unit_rate: extra rate multiplier of this unit (multi-grid).

  Returns:
    The unit's output tensor.
  """
  with tf.variable_scope(scope, 'bottleneck_v1', [inputs]) as sc:
    depth_in = resnet_utils.layout.num_channels(inputs)
    shortcut = _shortcut(inputs, depth, depth_in, stride,
                         use_bounded_activations)
    residual = slim.conv2d(inputs, depth_bottleneck, [1, 1], stride=1,
                           scope='conv1')
    residual = resnet_utils.conv2d_same(residual, depth_bottleneck, 3, stride,
                                        rate=rate * unit_rate, scope='conv2')
    residual = slim.conv2d(residual, depth, [1, 1], stride=1,
                           activation_fn=None, scope='conv3')
    output = _merge(shortcut, residual, use_bounded_activations)
    return slim.utils.collect_named_outputs(outputs_collections, sc.name,
                                            output)


@slim.add_arg_scope
def basic_block(inputs, depth, stride, rate=1, outputs_collections=None,
                scope=None, use_bounded_activations=False, unit_rate=1):
  """One post-activation basic unit: 3x3 + BN + ReLU, 3x3 + BN, add, ReLU.

  The unit of ResNet-18/34 and the CIFAR nets. The stride sits on the second
  3x3 convolution (the unit's last spatial one) so that `output_stride` can
  trade it for an atrous rate exactly; the parameter count equals that of the
  usual layout with the stride on the first.

  Args:
    inputs: rank-4 tensor in the arg scope's data_format (NHWC or NCHW).
    depth: output channels (also of the inner convolution).
    stride: downsampling of this unit.
    rate: atrous rate of both 3x3 convolutions.
    outputs_collections: collection receiving the unit output.
    scope: variable scope; 'basic_block_v1' by default.
    use_bounded_activations: ReLU6 and clipping, see the module docstring.
    unit_rate: extra rate multiplier of this unit (multi-grid).

  Returns:
    The unit's output tensor.
  """
  with tf.variable_scope(scope, 'basic_block_v1', [inputs]) as sc:
    depth_in = resnet_utils.layout.num_channels(inputs)
    shortcut = _shortcut(inputs, depth, depth_in, stride,
                         use_bounded_activations)
    residual = resnet_utils.conv2d_same(inputs, depth, 3, 1,
                                        rate=rate * unit_rate, scope='conv1')
    with slim.arg_scope([slim.conv2d], activation_fn=None):
      residual = resnet_utils.conv2d_same(residual, depth, 3, stride,
                                          rate=rate * unit_rate,
                                          scope='conv2')
    output = _merge(shortcut, residual, use_bounded_activations)
    return slim.utils.collect_named_outputs(outputs_collections, sc.name,
                                            output)


# Scope names the units open, for describing end points without a graph.
bottleneck.default_scope = 'bottleneck_v1'
basic_block.default_scope = 'basic_block_v1'


def resnet_v1(inputs,
              blocks,
              num_classes=None,
              is_training=True,
              global_pool=True,
              output_stride=None,
              include_root_block=True,
              spatial_squeeze=True,
              store_non_strided_activations=False,
              reuse=None,
              scope=None,
              *,
              root='standard'):
  """Builds a post-activation ResNet from a list of blocks.

  Arguments, return values and errors are those of `nets.resnet_v2.resnet_v2`
  (in the positional order of the slim `resnet_v1`), except that `net` with
  `num_classes=None` is the last block's output (pooled if `global_pool`):
  V1 has no final batch norm. Without the root block, `inputs` should already
  be normalized and rectified.
  """
  return network.build_resnet(
      inputs, blocks, 'resnet_v1',
      root_fn=functools.partial(roots.root_block, kind=root,
                                preactivation=False),
      root_stride=roots.root_stride(root), final_fn=None,
      num_classes=num_classes, is_training=is_training,
      global_pool=global_pool, output_stride=output_stride,
      include_root_block=include_root_block, spatial_squeeze=spatial_squeeze,
      store_non_strided_activations=store_non_strided_activations,
      reuse=reuse, scope=scope)


resnet_v1.default_image_size = 224


def resnet_v1_block(scope, base_depth, num_units, stride):
  """A block of `num_units` bottlenecks (4 * base_depth channels out)."""
  return resnet_utils.uniform_block(
      scope, bottleneck, {'depth': base_depth * 4,
                          'depth_bottleneck': base_depth}, num_units, stride)


def resnet_v1_basic_block(scope, base_depth, num_units, stride):
  """A block of `num_units` basic units of `base_depth` channels."""
  return resnet_utils.uniform_block(scope, basic_block, {'depth': base_depth},
                                    num_units, stride)


BLOCK_FNS = {'bottleneck': resnet_v1_block, 'basic': resnet_v1_basic_block}

def _spec(name, unit, units_per_block, layout=network.IMAGENET_LAYOUT,
          **options):
  return network.ModelSpec(name, 'resnet_v1', unit, units_per_block, **layout,
                           **options)


# Every named v1 network, as data. CIFAR depths are 6n + 2 with n units per
# block (He et al. 2015, section 4.2).
SPECS = {spec.name: spec for spec in [
    _spec('resnet_v1_18', 'basic', (2, 2, 2, 2)),
    _spec('resnet_v1_34', 'basic', (3, 4, 6, 3)),
    _spec('resnet_v1_50', 'bottleneck', (3, 4, 6, 3)),
    _spec('resnet_v1_101', 'bottleneck', (3, 4, 23, 3)),
    _spec('resnet_v1_152', 'bottleneck', (3, 8, 36, 3)),
    _spec('resnet_v1_200', 'bottleneck', (3, 24, 36, 3)),
    _spec('resnet_v1_50_beta', 'bottleneck', (3, 4, 6, 3), root='beta',
          default_scope='resnet_v1_50'),
    _spec('resnet_v1_101_beta', 'bottleneck', (3, 4, 23, 3), root='beta',
          default_scope='resnet_v1_101'),
] + [
    _spec('resnet_v1_cifar_%d' % (6 * n + 2), 'basic', (n, n, n),
          layout=network.CIFAR_LAYOUT)
    for n in (3, 5, 7, 9, 18)
]}


def _build(name, *args):
  return network.build_named(SPECS[name], resnet_v1, BLOCK_FNS, *args)


def resnet_v1_18(inputs, num_classes=None, is_training=True, global_pool=True,
                 output_stride=None, spatial_squeeze=True, *,
                 store_non_strided_activations=False, min_base_depth=8,
                 depth_multiplier=1, multi_grid=None, reuse=None,
                 scope='resnet_v1_18'):
  """ResNet-18 V1: basic units 2-2-2-2, standard root, 224x224."""
  return _build('resnet_v1_18', inputs, num_classes, is_training, global_pool,
                output_stride, spatial_squeeze, store_non_strided_activations,
                min_base_depth, depth_multiplier, multi_grid, reuse, scope)


def resnet_v1_34(inputs, num_classes=None, is_training=True, global_pool=True,
                 output_stride=None, spatial_squeeze=True, *,
                 store_non_strided_activations=False, min_base_depth=8,
                 depth_multiplier=1, multi_grid=None, reuse=None,
                 scope='resnet_v1_34'):
  """ResNet-34 V1: basic units 3-4-6-3, standard root, 224x224."""
  return _build('resnet_v1_34', inputs, num_classes, is_training, global_pool,
                output_stride, spatial_squeeze, store_non_strided_activations,
                min_base_depth, depth_multiplier, multi_grid, reuse, scope)


def resnet_v1_50(inputs, num_classes=None, is_training=True, global_pool=True,
                 output_stride=None, spatial_squeeze=True, *,
                 store_non_strided_activations=False, min_base_depth=8,
                 depth_multiplier=1, multi_grid=None, reuse=None,
                 scope='resnet_v1_50'):
  """ResNet-50 V1: bottleneck units 3-4-6-3, standard root, 224x224.

  Its variables are those of the published slim `resnet_v1_50` checkpoint.
  """
  return _build('resnet_v1_50', inputs, num_classes, is_training, global_pool,
                output_stride, spatial_squeeze, store_non_strided_activations,
                min_base_depth, depth_multiplier, multi_grid, reuse, scope)


def resnet_v1_101(inputs, num_classes=None, is_training=True, global_pool=True,
                  output_stride=None, spatial_squeeze=True, *,
                  store_non_strided_activations=False, min_base_depth=8,
                  depth_multiplier=1, multi_grid=None, reuse=None,
                  scope='resnet_v1_101'):
  """ResNet-101 V1: bottleneck units 3-4-23-3, standard root, 224x224.

  Its variables are those of the published slim `resnet_v1_101` checkpoint.
  """
  return _build('resnet_v1_101', inputs, num_classes, is_training, global_pool,
                output_stride, spatial_squeeze, store_non_strided_activations,
                min_base_depth, depth_multiplier, multi_grid, reuse, scope)


def resnet_v1_152(inputs, num_classes=None, is_training=True, global_pool=True,
                  output_stride=None, spatial_squeeze=True, *,
                  store_non_strided_activations=False, min_base_depth=8,
                  depth_multiplier=1, multi_grid=None, reuse=None,
                  scope='resnet_v1_152'):
  """ResNet-152 V1: bottleneck units 3-8-36-3, standard root, 224x224.

  Its variables are those of the published slim `resnet_v1_152` checkpoint.
  """
  return _build('resnet_v1_152', inputs, num_classes, is_training, global_pool,
                output_stride, spatial_squeeze, store_non_strided_activations,
                min_base_depth, depth_multiplier, multi_grid, reuse, scope)


def resnet_v1_200(inputs, num_classes=None, is_training=True, global_pool=True,
                  output_stride=None, spatial_squeeze=True, *,
                  store_non_strided_activations=False, min_base_depth=8,
                  depth_multiplier=1, multi_grid=None, reuse=None,
                  scope='resnet_v1_200'):
  """ResNet-200 V1: bottleneck units 3-24-36-3, standard root, 224x224."""
  return _build('resnet_v1_200', inputs, num_classes, is_training, global_pool,
                output_stride, spatial_squeeze, store_non_strided_activations,
                min_base_depth, depth_multiplier, multi_grid, reuse, scope)


def resnet_v1_50_beta(inputs, num_classes=None, is_training=True,
                      global_pool=True, output_stride=None,
                      spatial_squeeze=True, *,
                      store_non_strided_activations=False, min_base_depth=8,
                      depth_multiplier=1, multi_grid=None, reuse=None,
                      scope='resnet_v1_50'):
  """ResNet-50 V1 with DeepLab's beta root (three 3x3 convolutions).

  Its default scope is the plain net's, `resnet_v1_50`, as in DeepLab, so
  DeepLab's checkpoints restore as they are.
  """
  return _build('resnet_v1_50_beta', inputs, num_classes, is_training,
                global_pool, output_stride, spatial_squeeze,
                store_non_strided_activations, min_base_depth,
                depth_multiplier, multi_grid, reuse, scope)


def resnet_v1_101_beta(inputs, num_classes=None, is_training=True,
                       global_pool=True, output_stride=None,
                       spatial_squeeze=True, *,
                       store_non_strided_activations=False, min_base_depth=8,
                       depth_multiplier=1, multi_grid=None, reuse=None,
                       scope='resnet_v1_101'):
  """ResNet-101 V1 with DeepLab's beta root (three 3x3 convolutions).

  Its default scope is the plain net's, `resnet_v1_101`, as in DeepLab, so
  DeepLab's checkpoints restore as they are.
  """
  return _build('resnet_v1_101_beta', inputs, num_classes, is_training,
                global_pool, output_stride, spatial_squeeze,
                store_non_strided_activations, min_base_depth,
                depth_multiplier, multi_grid, reuse, scope)


def resnet_v1_cifar_20(inputs, num_classes=None, is_training=True,
                       global_pool=True, output_stride=None,
                       spatial_squeeze=True, *,
                       store_non_strided_activations=False, min_base_depth=8,
                       depth_multiplier=1, multi_grid=None, reuse=None,
                       scope='resnet_v1_cifar_20'):
  """CIFAR ResNet-20 V1: 3 basic units per stage (6n + 2 layers), 32x32."""
  return _build('resnet_v1_cifar_20', inputs, num_classes, is_training,
                global_pool, output_stride, spatial_squeeze,
                store_non_strided_activations, min_base_depth,
                depth_multiplier, multi_grid, reuse, scope)


def resnet_v1_cifar_32(inputs, num_classes=None, is_training=True,
                       global_pool=True, output_stride=None,
                       spatial_squeeze=True, *,
                       store_non_strided_activations=False, min_base_depth=8,
                       depth_multiplier=1, multi_grid=None, reuse=None,
                       scope='resnet_v1_cifar_32'):
  """CIFAR ResNet-32 V1: 5 basic units per stage (6n + 2 layers), 32x32."""
  return _build('resnet_v1_cifar_32', inputs, num_classes, is_training,
                global_pool, output_stride, spatial_squeeze,
                store_non_strided_activations, min_base_depth,
                depth_multiplier, multi_grid, reuse, scope)


def resnet_v1_cifar_44(inputs, num_classes=None, is_training=True,
                       global_pool=True, output_stride=None,
                       spatial_squeeze=True, *,
                       store_non_strided_activations=False, min_base_depth=8,
                       depth_multiplier=1, multi_grid=None, reuse=None,
                       scope='resnet_v1_cifar_44'):
  """CIFAR ResNet-44 V1: 7 basic units per stage (6n + 2 layers), 32x32."""
  return _build('resnet_v1_cifar_44', inputs, num_classes, is_training,
                global_pool, output_stride, spatial_squeeze,
                store_non_strided_activations, min_base_depth,
                depth_multiplier, multi_grid, reuse, scope)


def resnet_v1_cifar_56(inputs, num_classes=None, is_training=True,
                       global_pool=True, output_stride=None,
                       spatial_squeeze=True, *,
                       store_non_strided_activations=False, min_base_depth=8,
                       depth_multiplier=1, multi_grid=None, reuse=None,
                       scope='resnet_v1_cifar_56'):
  """CIFAR ResNet-56 V1: 9 basic units per stage (6n + 2 layers), 32x32."""
  return _build('resnet_v1_cifar_56', inputs, num_classes, is_training,
                global_pool, output_stride, spatial_squeeze,
                store_non_strided_activations, min_base_depth,
                depth_multiplier, multi_grid, reuse, scope)


def resnet_v1_cifar_110(inputs, num_classes=None, is_training=True,
                        global_pool=True, output_stride=None,
                        spatial_squeeze=True, *,
                        store_non_strided_activations=False, min_base_depth=8,
                        depth_multiplier=1, multi_grid=None, reuse=None,
                        scope='resnet_v1_cifar_110'):
  """CIFAR ResNet-110 V1: 18 basic units per stage (6n + 2 layers), 32x32."""
  return _build('resnet_v1_cifar_110', inputs, num_classes, is_training,
                global_pool, output_stride, spatial_squeeze,
                store_non_strided_activations, min_base_depth,
                depth_multiplier, multi_grid, reuse, scope)


BUILDERS = {builder.__name__: builder for builder in (
    resnet_v1_18, resnet_v1_34, resnet_v1_50, resnet_v1_101, resnet_v1_152,
    resnet_v1_200, resnet_v1_50_beta, resnet_v1_101_beta, resnet_v1_cifar_20,
    resnet_v1_cifar_32, resnet_v1_cifar_44, resnet_v1_cifar_56,
    resnet_v1_cifar_110,
)}

network.register(BUILDERS, SPECS)
