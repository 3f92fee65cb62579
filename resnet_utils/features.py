"""Which end point holds the features at which stride.

Dense-prediction heads (DeepLab's decoder, FPN-style detectors) want "the
deepest features at stride 4, 8, 16, ..." of a backbone. In the slim layout a
block's stride sits on its last unit, so a block's own-resolution features
are the output of its second-to-last unit, and the block's end point is
already at the next stride. Rather than have every decoder hard-code keys
such as 'resnet_v1_50/block1/unit_2/bottleneck_v1', `describe_features`
derives them from the blocks and the stride plan, for any output_stride.
"""

import collections

from resnet_utils import blocks as blocks_lib
from resnet_utils import checks

FeatureInfo = collections.namedtuple(
    'FeatureInfo', ['block', 'end_point', 'stride', 'channels'])


def unit_scope_name(unit_fn):
  """The default variable scope a unit function opens ('bottleneck_v2'...)."""
  name = getattr(unit_fn, 'default_scope', None)
  if name is None:
    raise ValueError('unit_fn %r has no `default_scope` attribute naming the '
                     'variable scope it opens.' % (unit_fn,))
  return name


def describe_features(blocks, scope, root_end_point, root_channels,
                      root_stride, output_stride=None,
                      store_non_strided_activations=False):
  """One `FeatureInfo` per block (after one for the root).

  Each block entry names the deepest end point inside the block that is
  still at the block's input resolution ("the block's features"), with the
  stride relative to the image and the channel count there.

  Args:
    blocks: list of `Block`; units need a 'depth' argument.
    scope: the network's variable scope, e.g. 'resnet_v1_50'.
    root_end_point: end point key of the root's last conv, or None if there
      is no root block.
    root_channels: channels of that end point.
    root_stride: stride of the root block as a whole (its pooling included);
      the root conv itself is taken to be at half of it when it is > 1.
    output_stride: as given to the network (image-relative) or None.
    store_non_strided_activations: as given to the network.

  Returns:
    A list of `FeatureInfo`.
  """
  stack_stride = checks.root_relative_output_stride(
      output_stride, root_stride, blocks_lib.reachable_output_strides(blocks),
      scope)
  plans = blocks_lib.plan_strides(blocks, stack_stride,
                                  store_non_strided_activations)
  infos = []
  if root_end_point is not None:
    infos.append(FeatureInfo('root', root_end_point,
                             max(1, root_stride // 2), root_channels))
  current = root_stride
  for block, plan in zip(blocks, plans):
    unit = unit_scope_name(block.unit_fn)
    key = '%s/%s' % (scope, block.scope)
    # Walk the units: stop before the first one that actually downsamples.
    for i, unit_plan in enumerate(plan.units):
      if unit_plan.stride != 1:
        if i > 0:
          key = '%s/%s/unit_%d/%s' % (scope, block.scope, i, unit)
        else:
          key = None  # The block downsamples at once: no such features.
        break
    depth = block.args[-1]['depth']
    if key is not None:
      infos.append(FeatureInfo(block.scope, key, current, depth))
    for unit_plan in plan.units:
      current *= unit_plan.stride
    current *= plan.output_subsample
  return infos
