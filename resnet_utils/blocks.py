"""Blocks, padding-exact strided convolution and the stacking driver.

A ResNet body is data: a list of `Block`s, each naming a variable scope, the
function that builds one residual unit, and one dict of keyword arguments per
unit.  `stack_blocks_dense` walks that list, opens the `block<k>/unit_<i>`
scopes that published checkpoints use, and decides for every unit whether it
runs with its nominal stride or, to keep the feature map denser, with stride 1
and a larger atrous rate instead.  That decision is pure arithmetic over the
unit strides, so it lives in `plan_strides`, which builds nothing and can be
read (and tested) on its own.
"""

import collections

import tensorflow.compat.v1 as tf
import tf_slim as slim

from resnet_utils import layout


class Block(collections.namedtuple('Block', ['scope', 'unit_fn', 'args'])):
  """One ResNet stage: a scope name, a unit builder and per-unit arguments.

  Attributes:
    scope: variable scope of the block, e.g. 'block1'. Units are created
      inside it as 'unit_1', 'unit_2', ...
    unit_fn: callable building one residual unit. It is called as
      `unit_fn(net, rate=r, **unit_args)` and must accept `stride` and `rate`.
    args: list with one dict of keyword arguments per unit. A 'stride' entry
      (default 1) is the unit's nominal downsampling factor.
  """


def uniform_block(scope, unit_fn, unit_args, num_units, stride):
  """A `Block` of `num_units` equal units of which only the last is strided.

  This is how every published ResNet stage is laid out: the block keeps its
  input resolution throughout and hands a downsampled map to the next block.
  """
  if num_units < 1:
    raise ValueError('%s: num_units must be >= 1; got %r.' % (scope,
                                                               num_units))
  args = [dict(unit_args, stride=1) for _ in range(num_units - 1)]
  args.append(dict(unit_args, stride=stride))
  return Block(scope, unit_fn, args)


def subsample(inputs, factor, scope=None):
  """Keeps every `factor`-th row and column of a (NHWC or NCHW) tensor.

  Implemented as a 1x1 max pool with stride `factor`, which picks exactly the
  pixels at positions 0, factor, 2*factor, ... and adds no variables. Returns
  `inputs` itself when `factor` is 1.
  """
  if factor == 1:
    return inputs
  return slim.max_pool2d(inputs, [1, 1], stride=factor, scope=scope)


def same_padding(kernel_size, rate):
  """Zero padding (before, after) that a stride-1 'SAME' conv would apply."""
  # An atrous kernel of size k and rate r spans k + (k - 1)(r - 1) pixels.
  effective = kernel_size + (kernel_size - 1) * (rate - 1)
  total = effective - 1
  return total // 2, total - total // 2


def conv2d_same(inputs, num_outputs, kernel_size, stride, rate=1, scope=None):
  """Strided 2-D convolution whose samples line up with a stride-1 conv.

  With stride > 1, TensorFlow's 'SAME' padding depends on the input size: for
  an even size it pads only at the bottom/right, which shifts the sampling grid
  by one pixel relative to a stride-1 'SAME' convolution. The ResNet weights
  were trained with symmetric padding, so here the input is padded explicitly
  as a stride-1 'SAME' conv would pad it and then convolved with 'VALID'
  padding. The result equals `conv2d(stride=1, padding='SAME')` followed by
  `subsample(factor=stride)` for every input size, while computing only the
  kept outputs (except with both stride and rate above 1, which TensorFlow's
  kernels do not support and which is computed exactly that literal way).

  Args:
    inputs: rank-4 tensor in the arg scope's data_format (NHWC or NCHW).
    num_outputs: number of output channels.
    kernel_size: int, side of the square kernel.
    stride: int, output stride of the convolution.
    rate: int, atrous (dilation) rate.
    scope: variable scope of the convolution.

  Returns:
    The convolution output; other arguments (normalizer, activation,
    initializers) come from the enclosing `arg_scope`.
  """
  if stride == 1:
    return slim.conv2d(inputs, num_outputs, kernel_size, stride=1, rate=rate,
                       padding='SAME', scope=scope)
  if rate > 1:
    # TensorFlow has no kernel for stride > 1 together with dilation > 1.
    # The ResNets never ask for it (output_stride trades one for the other),
    # but the definition above still holds when done literally.
    net = slim.conv2d(inputs, num_outputs, kernel_size, stride=1, rate=rate,
                      padding='SAME', scope=scope)
    return subsample(net, stride)
  before, after = same_padding(kernel_size, rate)
  padded = tf.pad(inputs, layout.spatial_pad(layout.current_data_format(),
                                             before, after))
  return slim.conv2d(padded, num_outputs, kernel_size, stride=stride,
                     rate=rate, padding='VALID', scope=scope)


# How one unit is run: its actual stride and atrous rate.
UnitPlan = collections.namedtuple('UnitPlan', ['stride', 'rate'])
# How one block is run: its units, then an optional subsampling of its output
# (used when the block's stride is moved out of its last unit).
BlockPlan = collections.namedtuple('BlockPlan', ['units', 'output_subsample'])


def unit_strides(blocks):
  """Nominal stride of every unit, as a list (one list per block)."""
  return [[unit.get('stride', 1) for unit in block.args] for block in blocks]


def reachable_output_strides(blocks):
  """Every output_stride that `stack_blocks_dense` can produce for `blocks`.

  The stack can stop downsampling after any prefix of its strides, so the
  reachable values are the running products of the unit strides (always
  including 1). Moving block strides out of the units does not change the
  running products, only where they occur, so the set is the same with
  or without `store_non_strided_activations`.
  """
  reachable = [1]
  for strides in unit_strides(blocks):
    for s in strides:
      if s != 1:
        reachable.append(reachable[-1] * s)
  return sorted(set(reachable))


def plan_strides(blocks, output_stride=None,
                 store_non_strided_activations=False):
  """Decides the stride and atrous rate of every unit of a block stack.

  Walking the units in order, the stack keeps track of its current stride
  (product of the strides applied so far). As long as that is below the
  requested `output_stride`, a unit runs with its nominal stride. Once the
  target is reached, every later unit runs with stride 1 instead, and the
  stride it would have applied is folded into an atrous rate for all units
  after it. Each kernel then still sees the same neighbourhood, measured in
  input pixels, as in the nominal network, so the weights keep their meaning
  while the features stay at `output_stride`.

  With `store_non_strided_activations`, the stride of each block's last unit
  is applied after the block instead (as a plain subsampling of its output),
  so the block's end point keeps the resolution of its input. With fixed
  batch norm statistics (inference) the values that flow on are unchanged;
  in training mode the last unit's batch norms see the denser map, so their
  batch statistics, and hence the outputs, differ slightly.

  Args:
    blocks: list of `Block`.
    output_stride: None for the nominal stride, else the wanted ratio of input
      to output resolution of the stack.
    store_non_strided_activations: see above.

  Returns:
    A list with one `BlockPlan` per block.

  Raises:
    ValueError: if `output_stride` is not one of the reachable values.
  """
  if output_stride is not None:
    reachable = reachable_output_strides(blocks)
    if output_stride not in reachable:
      raise ValueError(
          'output_stride=%r cannot be reached by these blocks; accepted '
          'values are None or one of %s.' % (output_stride, reachable))
  current_stride = 1
  rate = 1
  plans = []

  def apply(stride):
    """Returns (stride, rate) to run a nominal `stride` with, and updates."""
    nonlocal current_stride, rate
    if output_stride is not None and current_stride == output_stride:
      used = UnitPlan(stride=1, rate=rate)
      rate *= stride
      return used
    current_stride *= stride
    return UnitPlan(stride=stride, rate=1)

  for strides in unit_strides(blocks):
    deferred = 1
    if store_non_strided_activations and strides:
      deferred, strides = strides[-1], strides[:-1] + [1]
    units = [apply(s) for s in strides]
    # A deferred stride becomes a subsampling when it still downsamples, or
    # one more factor of the atrous rate once the target is reached.
    plans.append(BlockPlan(units=units,
                           output_subsample=apply(deferred).stride))
  return plans


@slim.add_arg_scope
def stack_blocks_dense(net, blocks, output_stride=None,
                       store_non_strided_activations=False,
                       outputs_collections=None):
  """Builds the units of `blocks` on `net`, controlling feature density.

  Scopes are named `<block.scope>/unit_<i>` (1-based), exactly as in the
  published slim checkpoints. Each block's output is added to
  `outputs_collections` under the block's scope name, which makes it an end
  point such as 'resnet_v2_50/block1'.

  `output_stride` is measured relative to `net`, not to the image: a network
  whose root block already downsamples by 4 passes `output_stride / 4` here.
  See `plan_strides` for how the units are scheduled and for
  `store_non_strided_activations`.

  Args:
    net: 4-D input tensor.
    blocks: list of `Block`.
    output_stride: None, or the wanted ratio of `net`'s resolution to the
      output's; must be one of `reachable_output_strides(blocks)`.
    store_non_strided_activations: apply each block's last stride after its
      end point is recorded, so that end points keep full resolution.
    outputs_collections: collection receiving the block outputs.

  Returns:
    The output tensor of the last block.

  Raises:
    ValueError: if `output_stride` cannot be reached. The check happens before
      any op is created.
  """
  plans = plan_strides(blocks, output_stride, store_non_strided_activations)
  for block, plan in zip(blocks, plans):
    with tf.variable_scope(block.scope, 'block', [net]) as sc:
      for i, (unit_args, unit_plan) in enumerate(zip(block.args, plan.units)):
        with tf.variable_scope('unit_%d' % (i + 1), values=[net]):
          net = block.unit_fn(net, rate=unit_plan.rate,
                              **dict(unit_args, stride=unit_plan.stride))
      net = slim.utils.collect_named_outputs(outputs_collections, sc.name, net)
      net = subsample(net, plan.output_subsample)
  return net
