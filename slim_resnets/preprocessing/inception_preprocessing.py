"""Inception preprocessing: random boxes and colour jitter, pixels in [-1, 1].

The recipe of the Inception papers, which the published ResNet V2 slim
checkpoints were trained and evaluated with (299x299 inputs, 1001 classes).

Training (`preprocess_for_train`):

1. Crop a random box covering 5-100% of the image's area with an aspect ratio
   between 3/4 and 4/3 (`distorted_bounding_box_crop`). Scale augmentation
   this strong is what lets a net trained on crops generalize to objects of
   any size; the box must still cover 10% of an object's bounding box, when
   one is given, so that the label stays true.
2. Resize the box to the output size, ignoring its aspect ratio; outside
   `fast_mode` with a randomly chosen interpolation, so the net does not
   learn the artefacts of one of them.
3. Flip left-right with probability 1/2.
4. Jitter brightness, saturation, hue and contrast, in one of four orders
   drawn at random, since the jitters do not commute (`distort_color`);
   `fast_mode` jitters only brightness and saturation, the two cheap ones,
   in either order.
5. Scale [0, 1] to [-1, 1].

Evaluation (`preprocess_for_eval`): keep the central 87.5% of each side,
resize (bilinear) to the output size and scale to [-1, 1]. Training crops
mostly cut away the image's border, so the evaluation image is trimmed
similarly before it is resized.

Resizes sample on TensorFlow 1's grid, as slim's did (and `nets.classify`
does), so evaluation reproduces the checkpoints' published inputs exactly;
see `image_ops.legacy_resize`.
"""

import functools

import tensorflow.compat.v1 as tf

from slim_resnets.preprocessing import image_ops

# Colour jitter strengths, in units of [0, 1] pixels: brightness shifts by up
# to 32 of 255 grey levels, hue rotates by up to 0.2 of the colour wheel,
# saturation and contrast scale by a factor in the given range.
MAX_BRIGHTNESS_DELTA = 32.0 / 255.0
SATURATION_RANGE = (0.5, 1.5)
MAX_HUE_DELTA = 0.2
CONTRAST_RANGE = (0.5, 1.5)

# The orders in which `distort_color` may apply its jitters: each of the four
# leads once. `fast_mode` uses the two orders of the cheap pair.
COLOR_ORDERINGS = (
    ('brightness', 'saturation', 'hue', 'contrast'),
    ('saturation', 'brightness', 'contrast', 'hue'),
    ('contrast', 'hue', 'brightness', 'saturation'),
    ('hue', 'saturation', 'contrast', 'brightness'),
)
FAST_COLOR_ORDERINGS = (
    ('brightness', 'saturation'),
    ('saturation', 'brightness'),
)

# The interpolations a training image may be resized with outside fast_mode.
RESIZE_METHODS = (
    tf.image.ResizeMethod.BILINEAR,
    tf.image.ResizeMethod.NEAREST_NEIGHBOR,
    tf.image.ResizeMethod.BICUBIC,
    tf.image.ResizeMethod.AREA,
)


def _jitter(name, image, seed):
  """Applies the random colour jitter `name` to a [0, 1] float image."""
  if name == 'brightness':
    return tf.image.random_brightness(image, MAX_BRIGHTNESS_DELTA, seed=seed)
  if name == 'saturation':
    return tf.image.random_saturation(image, *SATURATION_RANGE, seed=seed)
  if name == 'hue':
    return tf.image.random_hue(image, MAX_HUE_DELTA, seed=seed)
  if name == 'contrast':
    return tf.image.random_contrast(image, *CONTRAST_RANGE, seed=seed)
  raise ValueError('Unknown colour jitter %r.' % name)


def apply_random_choice(x, fns, seed=None):
  """Applies one of `fns` to `x`, drawn uniformly each time the graph runs.

  Only the chosen function runs (a `tf.switch_case`), so choosing among four
  colour orders costs one order, not four.
  """
  if len(fns) == 1:
    return fns[0](x)
  index = tf.random_uniform([], maxval=len(fns), dtype=tf.int32, seed=seed)
  return tf.switch_case(index, [functools.partial(fn, x) for fn in fns])


def distort_color(image, fast_mode=True, seed=None, scope=None):
  """Randomly jitters the colours of a [0, 1] float image.

  Args:
    image: float [height, width, 3] image in [0, 1].
    fast_mode: jitter brightness and saturation only (see the module
      docstring); otherwise also hue and contrast.
    seed: op-level seed base for repeatable draws, or None.
    scope: name scope of the ops.

  Returns:
    The jittered image, clipped back to [0, 1] (brightness and contrast can
    push values out of it).
  """
  orderings = FAST_COLOR_ORDERINGS if fast_mode else COLOR_ORDERINGS
  with tf.name_scope(scope, 'distort_color', [image]):

    def apply_ordering(ordering, x):
      for i, name in enumerate(ordering):
        x = _jitter(name, x, image_ops.op_seed(seed, i + 1))
      return x

    image = apply_random_choice(
        image, [functools.partial(apply_ordering, o) for o in orderings],
        seed=image_ops.op_seed(seed, 0))
    return tf.clip_by_value(image, 0.0, 1.0)


def distorted_bounding_box_crop(image, bbox=None, min_object_covered=0.1,
                                aspect_ratio_range=(3.0 / 4.0, 4.0 / 3.0),
                                area_range=(0.05, 1.0), max_attempts=100,
                                seed=None, scope=None):
  """Crops a random box out of `image`.

  The box's area is a fraction of the image's in `area_range`, its
  width/height ratio is in `aspect_ratio_range`, and it covers at least
  `min_object_covered` of one of the boxes in `bbox`. When no such box turns
  up in `max_attempts` draws the whole image is returned.

  Args:
    image: [height, width, channels] image of any dtype.
    bbox: float [1, num_boxes, 4] boxes (ymin, xmin, ymax, xmax) relative to
      the image size, e.g. the annotated objects; None means the whole image,
      which makes `min_object_covered` a lower bound on the crop's area too.
    min_object_covered: see above.
    aspect_ratio_range: bounds of the box's width / height.
    area_range: bounds of the box's area as a fraction of the image's.
    max_attempts: draws before falling back to the whole image.
    seed: op-level seed for repeatable draws, or None.
    scope: name scope of the ops.

  Returns:
    (cropped image, the box as float [1, 1, 4] relative coordinates).
  """
  with tf.name_scope(scope, 'distorted_bounding_box_crop', [image, bbox]):
    if bbox is None:
      bbox = tf.constant([0.0, 0.0, 1.0, 1.0], tf.float32, [1, 1, 4])
    # Without an op seed, both tf.image wrappers of this op draw
    # unrepeatably even under tf.set_random_seed, unlike every other random
    # op; tf.get_seed applies the usual rules.
    seed1, seed2 = tf.get_seed(seed)
    begin, size, box = tf.raw_ops.SampleDistortedBoundingBoxV2(
        image_size=tf.shape(image), bounding_boxes=bbox,
        min_object_covered=min_object_covered,
        seed=seed1 or 0, seed2=seed2 or 0,
        aspect_ratio_range=list(aspect_ratio_range),
        area_range=list(area_range), max_attempts=max_attempts,
        use_image_if_no_bounding_boxes=True)
    return tf.slice(image, begin, size), box


def to_signed_unit(image):
  """Maps [0, 1] pixels to the [-1, 1] the Inception-style nets expect."""
  return (image - 0.5) * 2.0


def preprocess_for_train(image, output_height, output_width, bbox=None,
                         fast_mode=True, seed=None, scope=None,
                         random_flip=True):
  """Random box, resize, flip and colour jitter; see the module docstring.

  Args:
    image: uint8 [height, width, 3] image, or float in [0, 1].
    output_height: height of the result.
    output_width: width of the result.
    bbox: float [1, num_boxes, 4] relative object boxes, or None for the
      whole image (see `distorted_bounding_box_crop`).
    fast_mode: bilinear resizing only, and only brightness and saturation
      jitter.
    seed: makes the random draws repeatable: the ops get the op-level seeds
      seed, seed + 1, ... (the graph-level seed applies as usual).
    scope: name scope of the ops.
    random_flip: flip left-right with probability 1/2; off for data whose
      mirror image means something else (digits, text).

  Returns:
    float32 [output_height, output_width, 3] image in [-1, 1].
  """
  with tf.name_scope(scope, 'inception_preprocess_train', [image, bbox]):
    image = image_ops.to_float(image_ops.check_image(image))
    image, _ = distorted_bounding_box_crop(
        image, bbox, seed=image_ops.op_seed(seed, 0))
    methods = RESIZE_METHODS[:1] if fast_mode else RESIZE_METHODS
    image = apply_random_choice(
        image,
        [functools.partial(image_ops.legacy_resize,
                           size=[output_height, output_width], method=m)
         for m in methods],
        seed=image_ops.op_seed(seed, 1))
    image.set_shape([output_height, output_width, 3])
    if random_flip:
      image = tf.image.random_flip_left_right(
          image, seed=image_ops.op_seed(seed, 2))
    # distort_color seeds up to five ops from its own seed onwards.
    image = distort_color(image, fast_mode,
                          seed=image_ops.op_seed(seed, 3))
    return image_ops.finish(to_signed_unit(image), output_height,
                            output_width)


def preprocess_for_eval(image, output_height, output_width,
                        central_fraction=0.875, scope=None):
  """Central crop, bilinear resize, [-1, 1]; see the module docstring.

  Args:
    image: uint8 [height, width, 3] image, or float in [0, 1].
    output_height: height of the result.
    output_width: width of the result.
    central_fraction: fraction of each side kept around the centre (as
      `tf.image.central_crop` computes it), or None to keep the whole image.
    scope: name scope of the ops.

  Returns:
    float32 [output_height, output_width, 3] image in [-1, 1].
  """
  with tf.name_scope(scope, 'inception_preprocess_eval', [image]):
    image = image_ops.to_float(image_ops.check_image(image))
    if central_fraction is not None and central_fraction != 1.0:
      image = tf.image.central_crop(image, central_fraction=central_fraction)
    image = image_ops.legacy_resize(image, [output_height, output_width])
    return image_ops.finish(to_signed_unit(image), output_height,
                            output_width)


def preprocess_image(image, output_height, output_width, is_training=False,
                     bbox=None, fast_mode=True, central_fraction=0.875,
                     seed=None, random_flip=True):
  """Inception preprocessing of one image, for training or evaluation.

  Args:
    image: uint8 [height, width, 3] image of any size, or float in [0, 1].
    output_height: height of the result.
    output_width: width of the result.
    is_training: the random training recipe, else the deterministic one.
    bbox: training only; relative object boxes the random crop must overlap
      (see `distorted_bounding_box_crop`), None for the whole image.
    fast_mode: training only; see `preprocess_for_train`.
    central_fraction: evaluation only; see `preprocess_for_eval`.
    seed: training only; op-level seed base for repeatable draws.
    random_flip: training only; random left-right flips.

  Returns:
    float32 [output_height, output_width, 3] image in [-1, 1].
  """
  if is_training:
    return preprocess_for_train(image, output_height, output_width, bbox=bbox,
                                fast_mode=fast_mode, seed=seed,
                                random_flip=random_flip)
  return preprocess_for_eval(image, output_height, output_width,
                             central_fraction=central_fraction)
