"""Preprocessing an image and its label map together (DeepLab's recipe).

Training, in order:
1. a random scale in [min_scale_factor, max_scale_factor] (in steps of
   `scale_factor_step_size`, or any value when it is 0): the image
   bilinearly, the label map by nearest neighbour, so labels stay labels;
2. pixels normalized as the backbone's classification recipe does
   ('vgg': minus the ImageNet channel means; 'inception': [-1, 1];
   'cifarnet': each image standardized), so a backbone initialized from a
   classification checkpoint sees the inputs it was trained on;
3. padding to at least the crop size, the image with 0 (the normalized
   mean) and the labels with the ignore label, so padding is never learned;
4. one random crop of `crop_size` cut from image and labels alike;
5. a random left-right flip of both.

Evaluation only normalizes: the model takes any size, and the metrics are
computed at the image's own resolution.
"""

import tensorflow.compat.v1 as tf

from resnet_utils import checks
from slim_resnets.preprocessing import image_ops
from slim_resnets.preprocessing import inception_preprocessing
from slim_resnets.preprocessing import vgg_preprocessing

NORMALIZATIONS = ('vgg', 'inception', 'cifarnet')


def normalize(image, preprocessing_name):
  """uint8 [H, W, 3] -> float32, as the named classification recipe does."""
  checks.check_choice(preprocessing_name, NORMALIZATIONS,
                      'preprocessing_name')
  image = tf.cast(image, tf.float32)
  if preprocessing_name == 'vgg':
    return vgg_preprocessing.subtract_channel_means(image)
  if preprocessing_name == 'inception':
    return inception_preprocessing.to_signed_unit(image / 255.0)
  return tf.image.per_image_standardization(image)


def check_scales(min_scale_factor, max_scale_factor, scale_factor_step_size):
  """Raises a ValueError naming the flag that cannot work."""
  checks.check_positive_number(min_scale_factor, 'min_scale_factor')
  checks.check_positive_number(max_scale_factor, 'max_scale_factor')
  if max_scale_factor < min_scale_factor:
    raise ValueError('max_scale_factor (%r) must be >= min_scale_factor (%r).'
                     % (max_scale_factor, min_scale_factor))
  if scale_factor_step_size < 0:
    raise ValueError('scale_factor_step_size must be >= 0 (0: any scale in '
                     'the range); got %r.' % (scale_factor_step_size,))


def random_scale_factor(min_scale_factor, max_scale_factor,
                        scale_factor_step_size, seed=None):
  """A scalar scale: uniform in the range, or one of its steps."""
  if min_scale_factor == max_scale_factor:
    return tf.constant(float(min_scale_factor))
  if scale_factor_step_size == 0:
    return tf.random_uniform([], min_scale_factor, max_scale_factor,
                             seed=seed)
  num_steps = int(round((max_scale_factor - min_scale_factor) /
                        scale_factor_step_size)) + 1
  steps = tf.lin_space(float(min_scale_factor), float(max_scale_factor),
                       num_steps)
  return tf.random_shuffle(steps, seed=seed)[0]


def scale_image_and_label(image, label, scale):
  """Both resized by `scale`: bilinear image, nearest-neighbour labels."""
  size = tf.cast(tf.round(tf.cast(tf.shape(image)[:2], tf.float32) * scale),
                 tf.int32)
  image = tf.image.resize_bilinear(image[tf.newaxis], size,
                                   align_corners=True)[0]
  label = tf.image.resize_nearest_neighbor(label[tf.newaxis], size,
                                           align_corners=True)[0]
  return image, label


def pad_and_random_crop(image, label, crop_height, crop_width, ignore_label,
                        seed=None):
  """One crop of image and labels alike, padded first where too small (the
  labels with `ignore_label`)."""
  shape = tf.shape(image)
  height = tf.maximum(shape[0], crop_height)
  width = tf.maximum(shape[1], crop_width)
  image = tf.pad(image, [[0, height - shape[0]], [0, width - shape[1]],
                         [0, 0]])
  label = tf.pad(label, [[0, height - shape[0]], [0, width - shape[1]],
                         [0, 0]],
                 constant_values=ignore_label)
  stacked = tf.concat([image, tf.cast(label, tf.float32)], 2)
  stacked = tf.image.random_crop(stacked, [crop_height, crop_width, 4],
                                 seed=seed)
  return stacked[:, :, :3], tf.cast(stacked[:, :, 3:], label.dtype)


def random_flip(image, label, seed=None):
  """Both mirrored left-right, or neither, with probability 1/2."""
  flip = tf.random_uniform([], seed=seed) < 0.5
  return (tf.cond(flip, lambda: tf.reverse(image, [1]), lambda: image),
          tf.cond(flip, lambda: tf.reverse(label, [1]), lambda: label))


def preprocess_for_train(image, label, crop_size, preprocessing_name,
                         ignore_label, min_scale_factor=1.0,
                         max_scale_factor=1.0, scale_factor_step_size=0.0,
                         flip=True, seed=None):
  """Steps 1-5 of the module doc; returns (float32 image, int32 label).

  Args:
    image: uint8 [H, W, 3].
    label: uint8 [H, W, 1].
    crop_size: (height, width) of the crops.
    preprocessing_name: one of NORMALIZATIONS.
    ignore_label: the label padding gets (the dataset's ignore label).
    min_scale_factor, max_scale_factor, scale_factor_step_size: the random
      scale (DeepLab's flags of the same names).
    flip: mirror half of the examples.
    seed: op-level seed; with a graph seed, the same crops every run.
  """
  check_scales(min_scale_factor, max_scale_factor, scale_factor_step_size)
  crop_height, crop_width = crop_size
  checks.check_int(crop_height, 'train_crop_size height', note='(pixels)')
  checks.check_int(crop_width, 'train_crop_size width', note='(pixels)')
  image = normalize(image, preprocessing_name)
  label = tf.cast(label, tf.int32)
  scale = random_scale_factor(min_scale_factor, max_scale_factor,
                              scale_factor_step_size,
                              seed=image_ops.op_seed(seed, 0))
  image, label = scale_image_and_label(image, label, scale)
  image, label = pad_and_random_crop(image, label, crop_height, crop_width,
                                     ignore_label,
                                     seed=image_ops.op_seed(seed, 1))
  if flip:
    image, label = random_flip(image, label, seed=image_ops.op_seed(seed, 2))
  image.set_shape([crop_height, crop_width, 3])
  label.set_shape([crop_height, crop_width, 1])
  return image, label


def preprocess_for_eval(image, label, preprocessing_name):
  """Normalized image at its own size; labels as int32."""
  return normalize(image, preprocessing_name), tf.cast(label, tf.int32)
