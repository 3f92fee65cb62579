"""The generator shared by every ResNet family: root, blocks, head.

A family (v1, v2) differs in its residual units, in what its root block
normalizes and in whether the body ends with a batch norm; everything else,
argument checks, scoping, end point collection, output_stride handling and
the classification head, is the same and lives here once.
"""

import tensorflow.compat.v1 as tf
import tf_slim as slim
from tf_slim.ops import arg_scope as arg_scope_lib

from resnet_utils import blocks as blocks_lib
from resnet_utils import checks
from resnet_utils import heads


def scaled_depth(depth, depth_multiplier=1.0, min_base_depth=8):
  """Channel count `depth` scaled by `depth_multiplier`, at least the minimum."""
  if depth_multiplier <= 0:
    raise ValueError('depth_multiplier must be > 0; got %r.'
                     % (depth_multiplier,))
  return max(int(depth * depth_multiplier), min_base_depth)


def _unit_fns(blocks):
  """Unit functions of `blocks` that can take `outputs_collections` by scope."""
  seen = []
  for block in blocks:
    fn = block.unit_fn
    if fn not in seen and arg_scope_lib.has_arg_scope(fn):
      seen.append(fn)
  return seen


def build_resnet(inputs,
                 blocks,
                 family,
                 root_fn,
                 root_stride,
                 final_fn=None,
                 num_classes=None,
                 is_training=True,
                 global_pool=True,
                 output_stride=None,
                 include_root_block=True,
                 spatial_squeeze=True,
                 store_non_strided_activations=False,
                 reuse=None,
                 scope=None):
  """Builds root, blocks, optional final layer and head; returns (net, end_points).

  Args:
    inputs: rank-4 image tensor.
    blocks: list of `Block`.
    family: default variable scope and name used in error messages,
      e.g. 'resnet_v2'.
    root_fn: function(net) -> net building the root block.
    root_stride: total downsampling of `root_fn`.
    final_fn: optional function(net) -> net applied after the blocks (the
      `postnorm` of pre-activation nets).
    Remaining arguments: see `nets.resnet_v2.resnet_v2`.

  Returns:
    (net, end_points); see `nets.resnet_v2.resnet_v2`.
  """
  checks.require_graph_mode(family)
  checks.check_image_batch(inputs, family)
  checks.check_num_classes(num_classes, family)
  stack_output_stride = checks.root_relative_output_stride(
      output_stride, root_stride if include_root_block else 1,
      blocks_lib.reachable_output_strides(blocks), family)
  root_total = root_stride if include_root_block else 1
  nominal = root_total * max(blocks_lib.reachable_output_strides(blocks))
  checks.check_spatial_squeeze(inputs, num_classes, global_pool,
                               spatial_squeeze, output_stride or nominal,
                               family)

  with tf.variable_scope(scope, family, [inputs], reuse=reuse) as sc:
    end_points_collection = sc.original_name_scope + '_end_points'
    collected = ([slim.conv2d] + _unit_fns(blocks) +
                 [blocks_lib.stack_blocks_dense])
    with slim.arg_scope(collected, outputs_collections=end_points_collection):
      with slim.arg_scope([slim.batch_norm], is_training=is_training):
        net = inputs
        if include_root_block:
          net = root_fn(net)
        net = blocks_lib.stack_blocks_dense(
            net, blocks, stack_output_stride,
            store_non_strided_activations=store_non_strided_activations)
        if final_fn is not None:
          net = final_fn(net)
        end_points = slim.utils.convert_collection_to_dict(
            end_points_collection)
        net = heads.classification_head(net, end_points, num_classes,
                                        global_pool, spatial_squeeze, sc.name)
        return net, end_points


def with_multi_grid(block, multi_grid):
  """Returns `block` with per-unit atrous rate multipliers (DeepLab's multi-grid).

  Unit i of the block then runs its 3x3 convolution at `rate * multi_grid[i]`,
  where `rate` is what `output_stride` asks for. With output_stride 16 and
  multi_grid (1, 2, 4), block 4 of a ResNet-50 uses rates 2, 4 and 8: a
  growing field of view inside the last block without further downsampling.
  The unit function must accept a `unit_rate` argument.
  """
  multi_grid = tuple(multi_grid)
  if len(multi_grid) != len(block.args):
    raise ValueError(
        'multi_grid must have one rate per unit of %s (%d units); got %r.'
        % (block.scope, len(block.args), multi_grid))
  if any(not isinstance(m, int) or m < 1 for m in multi_grid):
    raise ValueError('multi_grid rates must be positive integers; got %r.'
                     % (multi_grid,))
  return block._replace(args=[dict(args, unit_rate=m)
                              for args, m in zip(block.args, multi_grid)])


class ModelSpec(object):
  """What defines one named network: units, depths, strides and root.

  Attributes:
    name: builder name, e.g. 'resnet_v2_50'.
    family: 'resnet_v1' or 'resnet_v2'.
    unit: 'bottleneck' or 'basic'.
    units_per_block: number of units in each block.
    base_depths: per-block base depth (bottleneck depth, or the output depth
      of basic units).
    block_strides: stride of the last unit of each block.
    root: root block kind, see `resnet_utils.roots`.
    default_image_size: the input size the net was designed for.
    default_scope: default variable scope (equal to `name` except where a
      published checkpoint uses another, as DeepLab's beta nets do).
  """

  def __init__(self, name, family, unit, units_per_block, base_depths,
               block_strides, root='standard', default_image_size=224,
               default_scope=None):
    if not (len(units_per_block) == len(base_depths) == len(block_strides)):
      raise ValueError('%s: units_per_block, base_depths and block_strides '
                       'must have the same length.' % name)
    self.name = name
    self.family = family
    self.unit = unit
    self.units_per_block = tuple(units_per_block)
    self.base_depths = tuple(base_depths)
    self.block_strides = tuple(block_strides)
    self.root = root
    self.default_image_size = default_image_size
    self.default_scope = default_scope or name

  @property
  def depth(self):
    """Layer count as in the paper: weighted layers along the deepest path."""
    # The beta root's three convs count as one layer, as in DeepLab's naming.
    convs_per_unit = 3 if self.unit == 'bottleneck' else 2
    return 1 + convs_per_unit * sum(self.units_per_block) + 1

  def __repr__(self):
    return 'ModelSpec(%r)' % self.name


def make_blocks(spec, block_fns, depth_multiplier=1.0, min_base_depth=8,
                multi_grid=None):
  """The list of `Block`s of `spec`, with width scaling and multi-grid."""
  block_fn = block_fns[spec.unit]
  blocks = [
      block_fn('block%d' % (i + 1),
               base_depth=scaled_depth(depth, depth_multiplier,
                                       min_base_depth),
               num_units=units, stride=stride)
      for i, (depth, units, stride) in enumerate(
          zip(spec.base_depths, spec.units_per_block, spec.block_strides))
  ]
  if multi_grid is not None:
    blocks[-1] = with_multi_grid(blocks[-1], multi_grid)
  return blocks


def make_builder(spec, generator, block_fns):
  """Creates the named builder function described by `spec`.

  The builder takes the slim arguments positionally up to `spatial_squeeze`
  and everything else by keyword, so that calls written for either slim
  family (whose later positional orders differ) bind correctly or fail
  loudly.
  """

  def builder(inputs,
              num_classes=None,
              is_training=True,
              global_pool=True,
              output_stride=None,
              spatial_squeeze=True,
              *,
              store_non_strided_activations=False,
              min_base_depth=8,
              depth_multiplier=1,
              multi_grid=None,
              reuse=None,
              scope=spec.default_scope):
    blocks = make_blocks(spec, block_fns, depth_multiplier, min_base_depth,
                         multi_grid)
    return generator(inputs, blocks, num_classes, is_training=is_training,
                     global_pool=global_pool, output_stride=output_stride,
                     include_root_block=True, spatial_squeeze=spatial_squeeze,
                     store_non_strided_activations=store_non_strided_activations,
                     reuse=reuse, scope=scope, root=spec.root)

  builder.__name__ = builder.__qualname__ = spec.name
  builder.__doc__ = (
      '%s: %d-layer %s with %s units (%s per block), %s root.\n\n'
      'Default scope %r, default image size %d. Arguments and return values '
      'are those of `%s`; `depth_multiplier` and `min_base_depth` scale the '
      'block widths, `multi_grid` sets per-unit rate multipliers for the last '
      'block.' % (spec.name, spec.depth, spec.family, spec.unit,
                  '-'.join(str(u) for u in spec.units_per_block), spec.root,
                  spec.default_scope, spec.default_image_size,
                  generator.__name__))
  builder.default_image_size = spec.default_image_size
  builder.spec = spec
  return builder
