"""Argument checks: the project's one place for them, and their messages.

The builders run theirs before creating a single op or variable, so a bad
call leaves the user's graph untouched. The generic checks at the top
(integers, numbers, choices) serve every layer above too: the training
config, the input pipeline, serving, the benchmarks; so the same mistake
gets the same message wherever it is made. Every message names the
argument and what it accepts.
"""

import math
import numbers

import tensorflow.compat.v1 as tf


def check_int(value, argument, minimum=1, allow_none=False, note=''):
  """Raises a ValueError unless `value` is an integer >= `minimum`.

  Booleans are not integers here (True would pass as 1). `note` says what
  the number counts or what a special value means, e.g. '(pixels)' or
  '(0 lets TensorFlow choose)'.
  """
  if value is None and allow_none:
    return
  if (isinstance(value, bool) or not isinstance(value, numbers.Integral) or
      value < minimum):
    kind = {1: 'a positive integer', 0: 'a non-negative integer'}.get(
        minimum, 'an integer >= %d' % minimum)
    raise ValueError('%s must be %s%s%s; got %r.'
                     % (argument, kind, ' or None' if allow_none else '',
                        ' ' + note if note else '', value))


def check_positive_number(value, argument, note=''):
  """Raises a ValueError unless `value` is a finite number > 0."""
  if (isinstance(value, bool) or not isinstance(value, numbers.Real) or
      not math.isfinite(value) or value <= 0):
    raise ValueError('%s must be a finite number > 0%s; got %r.'
                     % (argument, ' ' + note if note else '', value))


def check_choice(value, choices, argument):
  """Raises a ValueError naming `argument` and `choices` if value is not one.

  A value must be one of the choices, not merely equal to one: TensorFlow's
  `tf.float16` compares equal to the string 'float16', but is not it.
  """
  if not any(type(value) is type(c) and value == c for c in choices):
    raise ValueError('%s must be one of %s; got %r.'
                     % (argument, ', '.join(str(c) for c in choices), value))


def check_choices(values, choices, argument):
  """Raises a ValueError naming `argument` unless `values` is a non-empty
  list of `choices` (each checked as `check_choice` does)."""
  if not values:
    raise ValueError('%s must name at least one of %s.'
                     % (argument, ', '.join(str(c) for c in choices)))
  for value in values:
    check_choice(value, choices, argument)


def positive_ints(values, argument):
  """`values` (strings from a list flag, or numbers) as a non-empty list of
  positive ints; a ValueError naming `argument` otherwise."""
  try:
    numbers = [int(v) for v in values]
  except (TypeError, ValueError):
    numbers = []
  if not numbers or min(numbers) < 1:
    raise ValueError('%s must be a list of positive integers; got %s.'
                     % (argument, ','.join(str(v) for v in values)))
  return numbers


def require_graph_mode(builder_name):
  """Raises a RuntimeError when called while TensorFlow executes eagerly."""
  if tf.executing_eagerly():
    raise RuntimeError(
        '%s builds a TF1-style graph and cannot run eagerly (TensorFlow 2 '
        'executes eagerly by default). Build it inside a graph, e.g.\n'
        '    with tf.Graph().as_default():\n'
        '        images = tf.compat.v1.placeholder(tf.float32, '
        '[None, 224, 224, 3])\n'
        '        logits, end_points = %s(images, num_classes=1000)\n'
        'or call tf.compat.v1.disable_eager_execution() at program start.'
        % (builder_name, builder_name))


def check_image_batch(inputs, builder_name, data_format='NHWC'):
  """Checks that `inputs` is a rank-4 batch of images in `data_format`."""
  rank = inputs.get_shape().ndims
  layout_name = ('[batch, height, width, channels]'
                 if data_format == 'NHWC'
                 else '[batch, channels, height, width] (data_format NCHW)')
  if rank is not None and rank != 4:
    raise ValueError(
        '%s: inputs must be a rank-4 tensor %s; got rank %d with shape %s.'
        % (builder_name, layout_name, rank, inputs.get_shape()))


def check_num_classes(num_classes, builder_name):
  """num_classes is None (features only) or a positive integer."""
  if num_classes is None:
    return
  if (isinstance(num_classes, bool) or
      not isinstance(num_classes, numbers.Integral) or num_classes <= 0):
    raise ValueError(
        '%s: num_classes must be None (return features, no logits layer) or a '
        'positive integer; got %r.' % (builder_name, num_classes))


def root_relative_output_stride(output_stride, root_stride, reachable,
                                builder_name):
  """Converts an image-level output_stride into the block stack's own.

  The root block downsamples by `root_stride` before any residual unit runs,
  so the block stack must deliver `output_stride / root_stride`.

  Args:
    output_stride: None or the requested image-to-feature resolution ratio.
    root_stride: downsampling of the root block (1 without a root block).
    reachable: output strides the block stack itself can produce.
    builder_name: used in error messages.

  Returns:
    None or the integer output stride for `stack_blocks_dense`.

  Raises:
    ValueError: naming the accepted values when `output_stride` is not one.
  """
  if output_stride is None:
    return None
  accepted = [root_stride * r for r in reachable]
  valid = (not isinstance(output_stride, bool) and
           isinstance(output_stride, numbers.Number) and
           output_stride == int(output_stride) and
           int(output_stride) in accepted)
  if not valid:
    root_note = (' (a multiple of %d, the root block\'s stride)' % root_stride
                 if root_stride > 1 else '')
    raise ValueError(
        '%s: output_stride must be None (nominal stride) or one of %s%s; '
        'got %r.' % (builder_name, accepted, root_note, output_stride))
  return int(output_stride) // root_stride


def check_spatial_squeeze(spatial_sizes, num_classes, global_pool,
                          spatial_squeeze, total_stride, builder_name):
  """Fails early when squeezed logits are asked for on a dense output.

  Every downsampling step in these nets (padded strided convolutions, 'SAME'
  pooling, subsampling) maps a size n to ceil(n / stride), so the final map
  has ceil(n / total_stride) pixels per side: with a static input size that
  is known before anything is built. `spatial_sizes` are the input's height
  and width as far as they are known (None or [] when they are not).
  """
  if not (num_classes and spatial_squeeze) or global_pool:
    return
  sizes = [d for d in spatial_sizes or [] if d is not None]
  out = [-(-d // total_stride) for d in sizes]
  if any(o != 1 for o in out):
    raise ValueError(
        '%s: spatial_squeeze=True needs 1x1 logits, but with global_pool=False '
        'the logits will be %s; pass spatial_squeeze=False (or '
        'global_pool=True) to keep dense logits.'
        % (builder_name, 'x'.join(str(o) for o in out)))
