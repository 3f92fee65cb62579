"""The generator shared by every ResNet family: root, blocks, head.

A family (v1, v2) differs in its residual units, in what its root block
normalizes and in whether the body ends with a batch norm; everything else,
argument checks, scoping, end point collection, output_stride handling and
the classification head, is the same and lives here once.
"""

import dataclasses
import inspect

import tensorflow.compat.v1 as tf
import tf_slim as slim
from tf_slim.ops import arg_scope as arg_scope_lib

from resnet_utils import blocks as blocks_lib
from resnet_utils import checks
from resnet_utils import heads
from resnet_utils import layout


def scaled_depth(depth, depth_multiplier=1.0, min_base_depth=8):
  """Channel count `depth` scaled by `depth_multiplier`, at least the floor."""
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
  """Builds root, blocks, final layer and head; returns (net, end_points).

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
  data_format = layout.current_data_format()
  checks.check_image_batch(inputs, family, data_format)
  checks.check_num_classes(num_classes, family)
  stack_output_stride = checks.root_relative_output_stride(
      output_stride, root_stride if include_root_block else 1,
      blocks_lib.reachable_output_strides(blocks), family)
  root_total = root_stride if include_root_block else 1
  nominal = root_total * max(blocks_lib.reachable_output_strides(blocks))
  shape = inputs.get_shape()
  spatial_sizes = ([shape.as_list()[a]
                    for a in layout.spatial_axes(data_format)]
                   if shape.ndims == 4 else None)
  checks.check_spatial_squeeze(spatial_sizes, num_classes, global_pool,
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
  """`block` with per-unit atrous rate multipliers (DeepLab's multi-grid).

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


@dataclasses.dataclass(frozen=True)
class ModelSpec:
  """What defines one named network: units, depths, strides and root.

  Frozen: a spec is a fact about a published architecture, shared by the
  builder, the registry and the summary tool; nothing may edit it.

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

  name: str
  family: str
  unit: str
  units_per_block: tuple
  base_depths: tuple
  block_strides: tuple
  root: str = 'standard'
  default_image_size: int = 224
  default_scope: str = None

  def __post_init__(self):
    for field in ('units_per_block', 'base_depths', 'block_strides'):
      object.__setattr__(self, field, tuple(getattr(self, field)))
    if not (len(self.units_per_block) == len(self.base_depths) ==
            len(self.block_strides)):
      raise ValueError('%s: units_per_block, base_depths and block_strides '
                       'must have the same length.' % self.name)
    if self.default_scope is None:
      object.__setattr__(self, 'default_scope', self.name)

  @property
  def depth(self):
    """Layer count as in the paper: weighted layers along the deepest path."""
    # The beta root's three convs count as one layer, as in DeepLab's naming.
    convs_per_unit = 3 if self.unit == 'bottleneck' else 2
    return 1 + convs_per_unit * sum(self.units_per_block) + 1


# The two stage layouts every family shares: four ImageNet stages behind the
# 7x7 (or beta) root, with block 4 at stride 1 so that the nominal output
# stride is 32; three CIFAR stages of 16, 32 and 64 base channels behind a
# single 3x3 convolution, nominal output stride 4.
IMAGENET_LAYOUT = dict(base_depths=(64, 128, 256, 512),
                       block_strides=(2, 2, 2, 1))
CIFAR_LAYOUT = dict(base_depths=(16, 32, 64), block_strides=(2, 2, 1),
                    root='cifar', default_image_size=32)


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


def build_named(spec, generator, block_fns, inputs, num_classes, is_training,
                global_pool, output_stride, spatial_squeeze,
                store_non_strided_activations, min_base_depth,
                depth_multiplier, multi_grid, reuse, scope):
  """What every named builder (`nets.resnet_v2.resnet_v2_50`, ...) does.

  The named builders only differ in their `spec`; each is a short `def`
  with the full signature in its family's module, and hands over here: the
  blocks come from the spec (scaled by `depth_multiplier` and
  `min_base_depth`, with `multi_grid` on the last block) and go to the
  family's generator with the root the spec names.
  """
  blocks = make_blocks(spec, block_fns, depth_multiplier, min_base_depth,
                       multi_grid)
  return generator(inputs, blocks, num_classes, is_training=is_training,
                   global_pool=global_pool, output_stride=output_stride,
                   include_root_block=True, spatial_squeeze=spatial_squeeze,
                   store_non_strided_activations=store_non_strided_activations,
                   reuse=reuse, scope=scope, root=spec.root)


def register(builders, specs):
  """Attaches each spec (and its default image size) to its named builder.

  Checks the pairing, so that a `def` cannot drift from its spec: the same
  names on both sides, and each builder's default scope the spec's.
  """
  if set(builders) != set(specs):
    raise ValueError('builders and specs differ: %s'
                     % sorted(set(builders) ^ set(specs)))
  for name, builder in builders.items():
    spec = specs[name]
    scope = inspect.signature(builder).parameters['scope'].default
    if scope != spec.default_scope:
      raise ValueError('%s: default scope %r, spec says %r.'
                       % (name, scope, spec.default_scope))
    builder.spec = spec
    builder.default_image_size = spec.default_image_size
