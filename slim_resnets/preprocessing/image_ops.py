"""Small image operations that every preprocessing recipe needs.

Each recipe accepts the same inputs (one uint8 image of any size, or one
float image in [0, 1]) and promises the same output (float32 of a static
[height, width, 3] shape), so the checks and conversions at both ends live
here once.
"""

import tensorflow.compat.v1 as tf


def check_image(image):
  """`image` as a tensor, checked to be a single [height, width, 3] image.

  Batches are refused on purpose: the random choices of training mode (crop
  box, flip, colour order) are drawn once per call, so preprocessing a batch
  in one call would give every image in it the same augmentation. Map the
  recipe over the images instead (`tf.data.Dataset.map`, `tf.map_fn`).

  Raises:
    ValueError: if the static shape is not [height, width, 3] or the dtype is
      neither an integer nor a floating point type.
  """
  image = tf.convert_to_tensor(image, name='image')
  shape = image.get_shape()
  if shape.rank is not None and (
      shape.rank != 3 or tf.compat.dimension_value(shape[2]) not in (None, 3)):
    raise ValueError('Expected one image of shape [height, width, 3]; got '
                     'shape %s. Preprocess a batch image by image, e.g. with '
                     'tf.map_fn.' % shape)
  if not (image.dtype.is_integer or image.dtype.is_floating):
    raise ValueError('Expected an integer or floating point image; got %s.'
                     % image.dtype.name)
  # Makes the rank known to the shape arithmetic that follows, and checks it
  # at run time when it was not known here.
  return tf.ensure_shape(image, [None, None, 3])


def to_float(image, scale=1.0):
  """`image` as float32 pixel values on [0, scale].

  Integer images span their dtype's range (0-255 for uint8); floating point
  images are taken to be in [0, 1] already, as `tf.image.decode_*` followed
  by `tf.image.convert_image_dtype` leaves them. With `scale=255.0` a uint8
  image is cast without any rounding.
  """
  if image.dtype.is_integer:
    return tf.cast(image, tf.float32) * (scale / image.dtype.max)
  image = tf.cast(image, tf.float32)
  return image if scale == 1.0 else image * scale


def legacy_resize(image, size, method=tf.image.ResizeMethod.BILINEAR):
  """Resizes `image` to `size` on TensorFlow 1's sampling grid, as slim did.

  TF1's resize (`tf.compat.v1.image.resize_images`, which is also what
  `tf.image.resize` means under `tensorflow.compat.v1`) samples output pixel
  i at input coordinate i * in_size / out_size: the grid starts at the
  top-left pixel centre. TF2's `tf.image.resize` centres it instead, at
  (i + 0.5) * in_size / out_size - 0.5. The slim ImageNet recipes, and so
  the published checkpoints' evaluations, used the former; keeping it makes
  the networks see exactly the pixels those numbers were measured on. The
  two grids differ by (in_size / out_size - 1) / 2 input pixels, which
  matters little when shrinking photographs but shifts a 4x upsampled image
  by 1.5 output pixels, so the small-image recipe uses TF2's grid.
  """
  return tf.image.resize_images(image, size, method=method)


def op_seed(seed, index):
  """The op-level seed of a recipe's `index`-th random op, or None.

  Giving each random op of a recipe its own seed keeps their draws
  independent: two ops created with the same seed would draw the same
  numbers, e.g. always flip exactly when the crop lands at the left edge.
  """
  return None if seed is None else seed + index


def finish(image, output_height, output_width):
  """float32 `image` with its static [output_height, output_width, 3] shape.

  Resizes, crops and control flow lose the static shape in some cases; the
  networks need it to build their variables.
  """
  image = tf.cast(image, tf.float32)
  image.set_shape([output_height, output_width, 3])
  return image
