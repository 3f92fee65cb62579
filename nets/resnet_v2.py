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
blocks 1 to 3 (block 4 has stride 1), at the 3x3 convolution of the
bottleneck. Together with the root (7x7/2 conv, 3x3/2 max pool) that gives a
nominal output stride of 4 * 2 * 2 * 2 = 32: a 224x224 image becomes a 7x7
map. Putting the stride at the end of a block rather than its start means
each block's end point is already at the next block's resolution, and it is
what the published checkpoints were trained with.

Dense prediction. With `global_pool=False` and `output_stride=16` (or 8) the
units past that stride run with stride 1 and atrous convolution instead (see
`resnet_utils.plan_strides`), computing the same features more densely. For
aligned corners feed sizes of the form k * output_stride + 1, e.g. 321x321,
which give ((321 - 1) / 16 + 1) = 21x21 maps.

Variable names, end point keys and numerics match the slim `resnet_v2`
module, so the published `resnet_v2_{50,101,152,200}` checkpoints restore
with `tf.compat.v1.train.Saver` as they are.
"""

import tensorflow.compat.v1 as tf
import tf_slim as slim

import resnet_utils
from resnet_utils import checks

resnet_arg_scope = resnet_utils.resnet_arg_scope

# Downsampling applied by the root block: 7x7/2 convolution, 3x3/2 pool.
ROOT_STRIDE = 4

# Units per block for each published depth.
UNITS_PER_BLOCK = {
    50: (3, 4, 6, 3),
    101: (3, 4, 23, 3),
    152: (3, 8, 36, 3),
    200: (3, 24, 36, 3),
}

# Bottleneck depths of blocks 1-4; a unit's output has 4x as many channels.
BASE_DEPTHS = (64, 128, 256, 512)
BLOCK_STRIDES = (2, 2, 2, 1)


@slim.add_arg_scope
def bottleneck(inputs, depth, depth_bottleneck, stride, rate=1,
               outputs_collections=None, scope=None):
  """One pre-activation bottleneck unit: BN-ReLU, 1x1, 3x3, 1x1, add.

  The unit's input is normalized once (`preact`) and that normalized tensor
  feeds both the residual branch and, when the channel count changes, the
  1x1 projection shortcut. When the count is unchanged the shortcut is the
  raw input (subsampled if the unit is strided), so the identity path stays
  free of normalization. The stride sits on the 3x3 convolution, padded as in
  `conv2d_same`; `conv3` has biases and no norm or activation because the
  next unit's `preact` provides them.

  Args:
    inputs: 4-D NHWC tensor.
    depth: output channels of the unit.
    depth_bottleneck: channels of the 1x1 and 3x3 inner convolutions.
    stride: downsampling of this unit.
    rate: atrous rate of the 3x3 convolution.
    outputs_collections: collection receiving the unit output (its end point).
    scope: variable scope; 'bottleneck_v2' by default.

  Returns:
    The unit's output tensor.
  """
  with tf.variable_scope(scope, 'bottleneck_v2', [inputs]) as sc:
    depth_in = slim.utils.last_dimension(inputs.get_shape(), min_rank=4)
    preact = slim.batch_norm(inputs, activation_fn=tf.nn.relu, scope='preact')
    if depth == depth_in:
      shortcut = resnet_utils.subsample(inputs, stride, 'shortcut')
    else:
      shortcut = slim.conv2d(preact, depth, [1, 1], stride=stride,
                             normalizer_fn=None, activation_fn=None,
                             scope='shortcut')
    residual = slim.conv2d(preact, depth_bottleneck, [1, 1], stride=1,
                           scope='conv1')
    residual = resnet_utils.conv2d_same(residual, depth_bottleneck, 3, stride,
                                        rate=rate, scope='conv2')
    residual = slim.conv2d(residual, depth, [1, 1], stride=1,
                           normalizer_fn=None, activation_fn=None,
                           scope='conv3')
    output = shortcut + residual
    return slim.utils.collect_named_outputs(outputs_collections, sc.name,
                                            output)


def _root_block(net):
  """7x7/2 convolution with biases (no norm, no ReLU), then 3x3/2 max pool."""
  with slim.arg_scope([slim.conv2d], activation_fn=None, normalizer_fn=None):
    net = resnet_utils.conv2d_same(net, 64, 7, stride=2, scope='conv1')
  return slim.max_pool2d(net, [3, 3], stride=2, scope='pool1')


def resnet_v2(inputs,
              blocks,
              num_classes=None,
              is_training=True,
              global_pool=True,
              output_stride=None,
              include_root_block=True,
              spatial_squeeze=True,
              reuse=None,
              scope=None):
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
    include_root_block: build the 7x7 conv and max pool. Without it `inputs`
      must already be the output of a convolution with no activation.
    spatial_squeeze: return logits as [batch, num_classes] rather than
      [batch, 1, 1, num_classes].
    reuse: reuse the variables of an earlier call with the same `scope`.
    scope: variable scope, 'resnet_v2' by default.

  Returns:
    net: logits when `num_classes` is given; otherwise the features after
      `postnorm` (and pooling if `global_pool`).
    end_points: dict from end point name to tensor: the root conv, every unit
      and its convolutions, every block, and 'global_pool',
      '<scope>/logits', '<scope>/spatial_squeeze', 'predictions' as they apply.

  Raises:
    RuntimeError: when called in eager mode.
    ValueError: for inputs not of rank 4, a num_classes that is not a positive
      integer, or an output_stride the network cannot produce.
  """
  name = 'resnet_v2'
  checks.require_graph_mode(name)
  checks.check_image_batch(inputs, name)
  checks.check_num_classes(num_classes, name)
  root_stride = ROOT_STRIDE if include_root_block else 1
  stack_output_stride = checks.root_relative_output_stride(
      output_stride, root_stride,
      resnet_utils.reachable_output_strides(blocks), name)

  with tf.variable_scope(scope, 'resnet_v2', [inputs], reuse=reuse) as sc:
    end_points_collection = sc.original_name_scope + '_end_points'
    with slim.arg_scope(
        [slim.conv2d, bottleneck, resnet_utils.stack_blocks_dense],
        outputs_collections=end_points_collection):
      with slim.arg_scope([slim.batch_norm], is_training=is_training):
        net = inputs
        if include_root_block:
          net = _root_block(net)
        net = resnet_utils.stack_blocks_dense(net, blocks,
                                              stack_output_stride)
        net = slim.batch_norm(net, activation_fn=tf.nn.relu,
                              scope='postnorm')
        end_points = slim.utils.convert_collection_to_dict(
            end_points_collection)
        net = resnet_utils.classification_head(
            net, end_points, num_classes, global_pool, spatial_squeeze,
            sc.name)
        return net, end_points


resnet_v2.default_image_size = 224


def resnet_v2_block(scope, base_depth, num_units, stride):
  """A block of `num_units` bottlenecks whose last unit has `stride`.

  Every unit outputs `4 * base_depth` channels through a `base_depth`-channel
  bottleneck. Only the last unit is strided (see the module docstring).

  Args:
    scope: block scope, e.g. 'block1'.
    base_depth: bottleneck depth.
    num_units: number of units, at least 1.
    stride: stride of the last unit.

  Returns:
    A `resnet_utils.Block`.
  """
  if num_units < 1:
    raise ValueError('resnet_v2_block: num_units must be >= 1; got %r.'
                     % (num_units,))
  unit = {'depth': base_depth * 4, 'depth_bottleneck': base_depth}
  args = [dict(unit, stride=1) for _ in range(num_units - 1)]
  args.append(dict(unit, stride=stride))
  return resnet_utils.Block(scope, bottleneck, args)


def resnet_v2_blocks(units_per_block):
  """The four standard blocks for the given units per block."""
  return [
      resnet_v2_block('block%d' % (i + 1), base_depth=depth, num_units=units,
                      stride=stride)
      for i, (depth, units, stride) in enumerate(
          zip(BASE_DEPTHS, units_per_block, BLOCK_STRIDES))
  ]


def _make_builder(depth):
  """Creates `resnet_v2_<depth>` as a thin function over `resnet_v2`."""
  units = UNITS_PER_BLOCK[depth]

  def builder(inputs,
              num_classes=None,
              is_training=True,
              global_pool=True,
              output_stride=None,
              spatial_squeeze=True,
              reuse=None,
              scope='resnet_v2_%d' % depth):
    return resnet_v2(inputs, resnet_v2_blocks(units), num_classes,
                     is_training=is_training, global_pool=global_pool,
                     output_stride=output_stride, include_root_block=True,
                     spatial_squeeze=spatial_squeeze, reuse=reuse, scope=scope)

  builder.__name__ = builder.__qualname__ = 'resnet_v2_%d' % depth
  builder.__doc__ = (
      'ResNet-%d V2 (units per block %s), default scope "resnet_v2_%d".\n\n'
      'Arguments and return values are those of `resnet_v2`; the blocks are '
      'fixed.' % (depth, '-'.join(str(u) for u in units), depth))
  builder.default_image_size = 224
  return builder


resnet_v2_50 = _make_builder(50)
resnet_v2_101 = _make_builder(101)
resnet_v2_152 = _make_builder(152)
resnet_v2_200 = _make_builder(200)
