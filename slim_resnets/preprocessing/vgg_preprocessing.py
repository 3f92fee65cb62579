"""VGG preprocessing: rescale the shorter side, crop, subtract the mean colour.

The recipe of Simonyan and Zisserman (VGG) and of the original ResNet paper,
which the published ResNet V1 slim checkpoints were trained and evaluated
with (224x224 inputs, 1000 classes).

Training (`preprocess_for_train`): rescale the image, keeping its aspect
ratio, so that its shorter side is a random integer in [256, 512]; crop a
random output-sized window; flip left-right with probability 1/2. Drawing
the scale per image ("scale jittering") shows the net each object at many
sizes, while the aspect ratio, unlike in Inception preprocessing, is never
distorted.

Evaluation (`preprocess_for_eval`): rescale the shorter side to 256 (the low
end of the training scales, by default) and crop the central window.

Both modes keep pixels on the 0-255 scale and subtract the ImageNet mean of
each RGB channel, which is all the normalization these nets were trained
with (no division by a standard deviation). Resizes are bilinear on
TensorFlow 1's sampling grid, as slim's were (see
`image_ops.legacy_resize`).
"""

import tensorflow.compat.v1 as tf

from slim_resnets.preprocessing import image_ops

# Mean R, G and B of the ImageNet training images, on the 0-255 scale.
CHANNEL_MEANS = (123.68, 116.78, 103.94)

RESIZE_SIDE_MIN = 256
RESIZE_SIDE_MAX = 512


def aspect_preserving_size(height, width, smallest_side):
  """The (new_height, new_width) int32 tensors of an aspect-preserving rescale.

  The shorter side becomes `smallest_side` and the longer one keeps the aspect
  ratio, rounded to the nearest integer.
  """
  height = tf.cast(height, tf.float32)
  width = tf.cast(width, tf.float32)
  scale = tf.cast(smallest_side, tf.float32) / tf.minimum(height, width)
  return (tf.cast(tf.math.rint(height * scale), tf.int32),
          tf.cast(tf.math.rint(width * scale), tf.int32))


def aspect_preserving_resize(image, smallest_side):
  """Bilinearly resizes float `image` so its shorter side is `smallest_side`.

  `smallest_side` may be a Python int or a scalar int32 tensor (a random
  draw, in training).
  """
  shape = tf.shape(image)
  new_height, new_width = aspect_preserving_size(shape[0], shape[1],
                                                 smallest_side)
  return image_ops.legacy_resize(image, tf.stack([new_height, new_width]))


def central_crop(image, height, width):
  """The central `height` x `width` window of `image`.

  When the surplus is odd the window sits one pixel nearer the top (left).
  """
  shape = tf.shape(image)
  return tf.image.crop_to_bounding_box(image, (shape[0] - height) // 2,
                                       (shape[1] - width) // 2, height, width)


def subtract_channel_means(image, means=CHANNEL_MEANS):
  """`image` with `means[c]` subtracted from channel c."""
  return image - tf.constant(means, tf.float32)


def _check_fits(side, output_height, output_width, what):
  """Refuses a shorter side that is too short for every image to fit a crop.

  After the rescale both sides are at least `side` long, so a crop of
  max(output_height, output_width) or less always fits. Checked here
  because at run time the crop would fail only on some images.
  """
  crop_side = max(output_height, output_width)
  if side < crop_side:
    raise ValueError('%s=%d is shorter than the %dx%d output: the crop would '
                     'not fit every image; use %s >= %d.'
                     % (what, side, output_height, output_width, what,
                        crop_side))


def preprocess_for_train(image, output_height, output_width,
                         resize_side_min=RESIZE_SIDE_MIN,
                         resize_side_max=RESIZE_SIDE_MAX, seed=None,
                         scope=None, random_flip=True):
  """Scale jitter, random crop and flip, mean subtraction.

  Args:
    image: uint8 [height, width, 3] image, or float in [0, 1].
    output_height: height of the result (Python int).
    output_width: width of the result (Python int).
    resize_side_min: smallest shorter side drawn (inclusive).
    resize_side_max: largest shorter side drawn (inclusive).
    seed: makes the random draws repeatable: the ops get the op-level seeds
      seed, seed + 1, ... (the graph-level seed applies as usual).
    scope: name scope of the ops.
    random_flip: flip left-right with probability 1/2.

  Returns:
    float32 [output_height, output_width, 3] image on the 0-255 scale minus
    `CHANNEL_MEANS`.

  Raises:
    ValueError: if resize_side_min > resize_side_max, or resize_side_min is
      shorter than the output's longer side.
  """
  if resize_side_min > resize_side_max:
    raise ValueError('resize_side_min=%d exceeds resize_side_max=%d.'
                     % (resize_side_min, resize_side_max))
  _check_fits(resize_side_min, output_height, output_width, 'resize_side_min')
  with tf.name_scope(scope, 'vgg_preprocess_train', [image]):
    image = image_ops.to_float(image_ops.check_image(image), 255.0)
    side = tf.random_uniform([], minval=resize_side_min,
                             maxval=resize_side_max + 1, dtype=tf.int32,
                             seed=image_ops.op_seed(seed, 0))
    image = aspect_preserving_resize(image, side)
    image = tf.image.random_crop(image, [output_height, output_width, 3],
                                 seed=image_ops.op_seed(seed, 1))
    if random_flip:
      image = tf.image.random_flip_left_right(
          image, seed=image_ops.op_seed(seed, 2))
    return image_ops.finish(subtract_channel_means(image), output_height,
                            output_width)


def preprocess_for_eval(image, output_height, output_width,
                        resize_side=RESIZE_SIDE_MIN, scope=None):
  """Shorter side to `resize_side`, central crop, mean subtraction.

  Args:
    image: uint8 [height, width, 3] image, or float in [0, 1].
    output_height: height of the result (Python int).
    output_width: width of the result (Python int).
    resize_side: the shorter side before cropping.
    scope: name scope of the ops.

  Returns:
    float32 [output_height, output_width, 3] image on the 0-255 scale minus
    `CHANNEL_MEANS`.

  Raises:
    ValueError: if resize_side is shorter than the output's longer side.
  """
  _check_fits(resize_side, output_height, output_width, 'resize_side')
  with tf.name_scope(scope, 'vgg_preprocess_eval', [image]):
    image = image_ops.to_float(image_ops.check_image(image), 255.0)
    image = aspect_preserving_resize(image, resize_side)
    image = central_crop(image, output_height, output_width)
    return image_ops.finish(subtract_channel_means(image), output_height,
                            output_width)


def preprocess_image(image, output_height, output_width, is_training=False,
                     resize_side_min=RESIZE_SIDE_MIN,
                     resize_side_max=RESIZE_SIDE_MAX, eval_resize_side=None,
                     seed=None, random_flip=True):
  """VGG preprocessing of one image, for training or evaluation.

  Args:
    image: uint8 [height, width, 3] image of any size, or float in [0, 1].
    output_height: height of the result (Python int).
    output_width: width of the result (Python int).
    is_training: the random training recipe, else the deterministic one.
    resize_side_min: training only; smallest shorter side drawn.
    resize_side_max: training only; largest shorter side drawn.
    eval_resize_side: evaluation only; the shorter side before the central
      crop. None means `resize_side_min` (256 by default, the side the
      published checkpoints were evaluated at), the smallest training scale.
    seed: training only; op-level seed base for repeatable draws.
    random_flip: training only; random left-right flips.

  Returns:
    float32 [output_height, output_width, 3] image on the 0-255 scale minus
    `CHANNEL_MEANS`.
  """
  if is_training:
    return preprocess_for_train(image, output_height, output_width,
                                resize_side_min=resize_side_min,
                                resize_side_max=resize_side_max, seed=seed,
                                random_flip=random_flip)
  if eval_resize_side is None:
    eval_resize_side = resize_side_min
  return preprocess_for_eval(image, output_height, output_width,
                             resize_side=eval_resize_side)
