"""Preprocessing for small images: pad and crop, flip, standardize.

The augmentation of He et al.'s CIFAR experiments ("Deep Residual Learning
for Image Recognition", section 4.2), for the `*_cifar_*` ResNets and any
small-image data set (CIFAR-10/100 at 32x32, or the 8x8 sklearn digits
upsampled):

Training (`preprocess_for_train`): resize to the output size if the image
has another size; pad `padding` (4) black pixels on every side and crop a
random output-sized window back out, i.e. shift the image by up to 4 pixels
each way; flip left-right with probability 1/2 unless `random_flip=False`
(a mirrored digit, or letter, is another symbol); standardize.

Evaluation (`preprocess_for_eval`): resize to the output size if needed and
standardize.

Standardization (`tf.image.per_image_standardization`) subtracts the image's
mean over all pixels and channels and divides by its standard deviation,
which is floored at 1/sqrt(number of values) so that flat images do not
blow up. Pixels are put on the 0-255 scale first, as in the slim CIFAR
recipe: on that scale the floor only touches (nearly) flat images, whatever
the input dtype.

Resizing is bilinear on float pixels by default (`resize_method`); 'area'
also suits downsampling. Upsampling an 8x8 digit to 32x32 bilinearly keeps
its strokes smooth rather than blocky, and an image already of the output
size is passed through untouched. Unlike the ImageNet recipes, this one
resizes on TensorFlow 2's centred sampling grid: there are no checkpoints to
match, and TF1's grid would shift a 4x upsampled digit by 1.5 pixels (see
`image_ops.legacy_resize`).
"""

import tensorflow.compat.v1 as tf

from slim_resnets.preprocessing import image_ops

PADDING = 4


def resize_to(image, height, width, method='bilinear'):
  """Float `image` resized to `height` x `width`, ignoring its aspect ratio.

  The resize is skipped when the static shape already matches; when the
  shape is only known at run time, resizing to the same size returns the
  image unchanged anyway (every sample lands on a pixel centre).
  """
  shape = image.get_shape()
  if shape[:2].as_list() == [height, width]:
    return image
  return tf.compat.v2.image.resize(image, [height, width], method=method)


def pad_and_random_crop(image, padding, seed=None):
  """Shifts `image` by up to `padding` pixels each way, filling with zeros.

  Pads `padding` zeros on every side and crops a random window of the
  original size out of the result.
  """
  if padding < 0:
    raise ValueError('padding must be >= 0; got %r.' % padding)
  if padding == 0:
    return image
  shape = tf.shape(image)
  padded = tf.pad(image, [[padding, padding], [padding, padding], [0, 0]])
  return tf.image.random_crop(padded, shape, seed=seed)


def _standardize(image, output_height, output_width):
  image = tf.image.per_image_standardization(image)
  return image_ops.finish(image, output_height, output_width)


def preprocess_for_train(image, output_height, output_width, padding=PADDING,
                         random_flip=True,
                         resize_method='bilinear',
                         seed=None, scope=None):
  """Resize if needed, random shift, optional flip, standardization.

  Args:
    image: uint8 [height, width, 3] image, or float in [0, 1].
    output_height: height of the result.
    output_width: width of the result.
    padding: largest shift in pixels, each way (0 for none).
    random_flip: flip left-right with probability 1/2; turn it off for data
      whose classes are not mirror-symmetric (digits, letters).
    resize_method: a TF2 resize method name ('bilinear', 'area', 'bicubic',
      'nearest', ...), used when the image is not already output_height x
      output_width.
    seed: makes the random draws repeatable: the ops get the op-level seeds
      seed, seed + 1, ... (the graph-level seed applies as usual).
    scope: name scope of the ops.

  Returns:
    float32 [output_height, output_width, 3] image with mean 0 and standard
    deviation 1 (unless nearly flat).
  """
  with tf.name_scope(scope, 'cifarnet_preprocess_train', [image]):
    image = image_ops.to_float(image_ops.check_image(image), 255.0)
    image = resize_to(image, output_height, output_width, resize_method)
    image = pad_and_random_crop(image, padding,
                                seed=image_ops.op_seed(seed, 0))
    if random_flip:
      image = tf.image.random_flip_left_right(
          image, seed=image_ops.op_seed(seed, 1))
    return _standardize(image, output_height, output_width)


def preprocess_for_eval(image, output_height, output_width,
                        resize_method='bilinear',
                        scope=None):
  """Resize if needed, then standardization.

  Args:
    image: uint8 [height, width, 3] image, or float in [0, 1].
    output_height: height of the result.
    output_width: width of the result.
    resize_method: a TF2 resize method name ('bilinear', 'area', 'bicubic',
      'nearest', ...), used when the image is not already output_height x
      output_width.
    scope: name scope of the ops.

  Returns:
    float32 [output_height, output_width, 3] image with mean 0 and standard
    deviation 1 (unless nearly flat).
  """
  with tf.name_scope(scope, 'cifarnet_preprocess_eval', [image]):
    image = image_ops.to_float(image_ops.check_image(image), 255.0)
    image = resize_to(image, output_height, output_width, resize_method)
    return _standardize(image, output_height, output_width)


def preprocess_image(image, output_height, output_width, is_training=False,
                     padding=PADDING, random_flip=True,
                     resize_method='bilinear', seed=None):
  """Small-image preprocessing of one image, for training or evaluation.

  Args:
    image: uint8 [height, width, 3] image of any size, or float in [0, 1].
    output_height: height of the result.
    output_width: width of the result.
    is_training: the random training recipe, else the deterministic one.
    padding: training only; largest random shift in pixels.
    random_flip: training only; random left-right flips (False for digits).
    resize_method: TF2 resize method name for images of another size.
    seed: training only; op-level seed base for repeatable draws.

  Returns:
    float32 [output_height, output_width, 3] standardized image.
  """
  if is_training:
    return preprocess_for_train(image, output_height, output_width,
                                padding=padding, random_flip=random_flip,
                                resize_method=resize_method, seed=seed)
  return preprocess_for_eval(image, output_height, output_width,
                             resize_method=resize_method)
