"""Tensor layout (NHWC or NCHW) as the enclosing arg scope sets it.

Channels-last (NHWC) is what CPUs and the published checkpoints' graphs use;
channels-first (NCHW) is the faster layout for cuDNN on NVIDIA GPUs. The
weights are the same either way (a conv kernel is [kh, kw, in, out] in both),
so a checkpoint trained in one layout loads in the other.

The layout is chosen once, by `resnet_arg_scope(data_format=...)`, which
passes it to slim's conv2d, batch_norm and max_pool2d. The few places that
handle axes themselves (explicit padding, global pooling, channel counts,
the softmax) read it back from the current arg scope through this module,
so no builder needs a data_format argument of its own.
"""

import tf_slim as slim
from tf_slim.ops import arg_scope as arg_scope_lib

from resnet_utils import checks

DATA_FORMATS = ('NHWC', 'NCHW')


def check_data_format(data_format):
  """Raises a ValueError naming the accepted layouts for anything else."""
  checks.check_choice(data_format, DATA_FORMATS, 'data_format')
  return data_format


def current_data_format():
  """The data_format slim.conv2d gets from the enclosing arg scope."""
  scope = arg_scope_lib.current_arg_scope()
  key = arg_scope_lib.arg_scope_func_key(slim.conv2d)
  data_format = scope.get(key, {}).get('data_format') or 'NHWC'
  return check_data_format(data_format)


def spatial_axes(data_format=None):
  """Axes of height and width: [1, 2] (NHWC) or [2, 3] (NCHW)."""
  data_format = data_format or current_data_format()
  return [1, 2] if data_format == 'NHWC' else [2, 3]


def channel_axis(data_format=None):
  """Axis of the channels: 3 (NHWC) or 1 (NCHW)."""
  data_format = data_format or current_data_format()
  return 3 if data_format == 'NHWC' else 1


def num_channels(inputs, data_format=None):
  """Static channel count of a rank-4 tensor; a ValueError if unknown."""
  shape = inputs.get_shape().with_rank(4)
  channels = shape.as_list()[channel_axis(data_format)]
  if channels is None:
    raise ValueError('the channel dimension of %s must be known; got shape %s.'
                     % (inputs.name, shape))
  return channels


def spatial_pad(data_format, before, after):
  """tf.pad paddings for [before, after] pixels on height and width."""
  spatial = [before, after]
  if data_format == 'NHWC':
    return [[0, 0], spatial, spatial, [0, 0]]
  return [[0, 0], [0, 0], spatial, spatial]
