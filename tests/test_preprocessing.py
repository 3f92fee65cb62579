"""Tests of the `preprocessing` package: the three recipes and the factory.

Evaluation modes are checked value for value against numpy versions of the
documented arithmetic (`_np_resize_bilinear` reimplements TensorFlow's
bilinear resizes). Training modes are checked through
properties that hold whatever the random draws: shapes, ranges, that the
output is a window of the rescaled image, that flips happen or do not, and
that op-level seeds make the draws repeatable.
"""

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from nets import nets_factory
from slim_resnets.preprocessing import cifarnet_preprocessing
from slim_resnets.preprocessing import image_ops
from slim_resnets.preprocessing import inception_preprocessing
from slim_resnets.preprocessing import preprocessing_factory
from slim_resnets.preprocessing import vgg_preprocessing

VGG_MEANS = np.array([123.68, 116.78, 103.94])


def _run(fetches, feed_dict=None, times=1):
  """Evaluates `fetches` `times` times in one session of the default graph."""
  with tf.Session() as sess:
    results = [sess.run(fetches, feed_dict) for _ in range(times)]
  return results[0] if times == 1 else results


def _image_input(dtype=tf.uint8):
  """A placeholder for one image of unknown height and width."""
  return tf.placeholder(dtype, [None, None, 3])


def _random_uint8(rng, height, width):
  return rng.randint(0, 256, size=(height, width, 3)).astype(np.uint8)


def _np_resize_bilinear(image, height, width, centred=False):
  """Bilinear resize as TensorFlow computes it (no antialiasing).

  Output pixel i samples input coordinate i * in / out on TensorFlow 1's
  grid (the ImageNet recipes), or (i + 0.5) * in / out - 0.5 on TensorFlow
  2's centred grid (the small-image recipe); the coordinate is clamped to
  the image and interpolated between its two neighbours on each axis.
  """
  image = np.asarray(image, np.float64)

  def axis(in_size, out_size):
    # Positions in float32, as TensorFlow computes them: far from the origin
    # their rounding moves a 0-255 pixel by up to ~5e-3.
    scale = np.float32(in_size) / np.float32(out_size)
    pos = np.arange(out_size, dtype=np.float32)
    pos = (pos + np.float32(0.5)) * scale - np.float32(0.5) if centred else (
        pos * scale)
    low = np.floor(pos)
    frac = pos - low
    low = np.clip(low, 0, in_size - 1).astype(int)
    high = np.clip(np.ceil(pos), 0, in_size - 1).astype(int)
    return low, high, frac

  y_low, y_high, y_frac = axis(image.shape[0], height)
  x_low, x_high, x_frac = axis(image.shape[1], width)
  x_frac = x_frac[None, :, None]
  top = image[y_low][:, x_low] + (
      image[y_low][:, x_high] - image[y_low][:, x_low]) * x_frac
  bottom = image[y_high][:, x_low] + (
      image[y_high][:, x_high] - image[y_high][:, x_low]) * x_frac
  return top + (bottom - top) * y_frac[:, None, None]


def _np_standardize(image):
  image = np.asarray(image, np.float64)
  std = max(image.std(), 1.0 / np.sqrt(image.size))
  return (image - image.mean()) / std


def _ramp_image(height, width):
  """Float [0, 1) image whose channels encode the row, the column and 0.5."""
  rows, cols = np.meshgrid(np.arange(height) / height,
                           np.arange(width) / width, indexing='ij')
  return np.stack([rows, cols, np.full_like(rows, 0.5)], -1).astype(np.float32)


# ---------------------------------------------------------------------------
# image_ops: the checks and conversions shared by all recipes.


@pytest.mark.parametrize('shape', [[2, 8, 8, 3], [8, 8, 1], [8, 8, 4], [8]])
def test_recipes_refuse_anything_but_one_rgb_image(graph, shape):
  image = tf.zeros(shape, tf.uint8)
  for recipe in (inception_preprocessing, vgg_preprocessing,
                 cifarnet_preprocessing):
    with pytest.raises(ValueError, match=r'\[height, width, 3\]'):
      recipe.preprocess_image(image, 32, 32)


def test_shape_unknown_until_run_time_is_checked_at_run_time(graph):
  image = tf.placeholder(tf.uint8, None)
  out = cifarnet_preprocessing.preprocess_image(image, 8, 8)
  assert out.shape.as_list() == [8, 8, 3]
  with pytest.raises(tf.errors.InvalidArgumentError):
    _run(out, {image: np.zeros([8, 8, 1], np.uint8)})


def test_to_float_maps_uint8_to_unit_or_exact_255_scale(graph):
  values = np.arange(256, dtype=np.uint8).reshape(16, 16, 1)
  unit, byte = _run([image_ops.to_float(tf.constant(values)),
                     image_ops.to_float(tf.constant(values), 255.0)])
  np.testing.assert_allclose(unit, values / 255.0, atol=1e-7)
  np.testing.assert_array_equal(byte, values.astype(np.float32))


@pytest.mark.parametrize('recipe,atol', [(inception_preprocessing, 1e-6),
                                         (vgg_preprocessing, 2e-3),
                                         (cifarnet_preprocessing, 1e-5)])
def test_unit_float_images_give_what_their_uint8_originals_give(
    graph, rng, recipe, atol):
  pixels = _random_uint8(rng, 37, 53)
  from_uint8 = recipe.preprocess_image(pixels, 224, 224)
  from_float = recipe.preprocess_image(pixels.astype(np.float32) / 255.0,
                                       224, 224)
  a, b = _run([from_uint8, from_float])
  np.testing.assert_allclose(a, b, atol=atol)


def test_op_seeds_differ_per_op_and_vanish_without_a_seed():
  assert [image_ops.op_seed(7, i) for i in range(3)] == [7, 8, 9]
  assert image_ops.op_seed(None, 2) is None


# ---------------------------------------------------------------------------
# Inception preprocessing.


def _np_inception_eval(image, height, width, central_fraction=0.875):
  """Central crop as tf.image.central_crop sizes it, resize, [-1, 1]."""
  image = image / 255.0 if image.dtype == np.uint8 else image
  if central_fraction is not None:
    rows, cols = image.shape[:2]
    top = int((rows - rows * central_fraction) / 2)
    left = int((cols - cols * central_fraction) / 2)
    image = image[top:rows - top, left:cols - left]
  return (_np_resize_bilinear(image, height, width) - 0.5) * 2.0


@pytest.mark.parametrize('size,output', [((64, 48), (40, 30)),
                                         ((37, 53), (224, 224)),
                                         ((300, 200), (299, 299))])
def test_inception_eval_is_central_crop_bilinear_resize_and_signed_scale(
    graph, rng, size, output):
  pixels = _random_uint8(rng, *size)
  image = _image_input()
  out = inception_preprocessing.preprocess_image(image, *output)
  assert out.dtype == tf.float32
  assert out.shape.as_list() == list(output) + [3]
  result = _run(out, {image: pixels})
  np.testing.assert_allclose(result, _np_inception_eval(pixels, *output),
                             atol=1e-5)


def test_inception_eval_of_a_constant_image_is_the_signed_constant(graph):
  out = inception_preprocessing.preprocess_image(
      tf.fill([57, 91, 3], tf.constant(51, tf.uint8)), 299, 299)
  np.testing.assert_allclose(_run(out), 51 / 255.0 * 2 - 1, atol=1e-6)


def test_inception_eval_crop_keeps_the_centre_of_a_gradient(graph):
  """A row-index image: the crop drops 1/16 of the rows at each end."""
  pixels = np.repeat(np.arange(160, dtype=np.float32)[:, None, None] / 160,
                     3, axis=-1).repeat(8, axis=1)
  out = _run(inception_preprocessing.preprocess_image(pixels, 140, 7))
  # With no resize along the rows (160 * 0.875 = 140), row i of the output
  # is row 10 + i of the input.
  np.testing.assert_allclose(out[:, 0, 0],
                             ((np.arange(140) + 10) / 160 - 0.5) * 2,
                             atol=1e-6)


def test_inception_eval_without_central_fraction_resizes_the_whole_image(
    graph, rng):
  pixels = _random_uint8(rng, 20, 30)
  out = inception_preprocessing.preprocess_image(pixels, 25, 35,
                                                 central_fraction=None)
  np.testing.assert_allclose(_run(out),
                             _np_inception_eval(pixels, 25, 35, None),
                             atol=1e-5)


@pytest.mark.parametrize('fast_mode', [True, False])
@pytest.mark.parametrize('dtype', [tf.uint8, tf.float32])
def test_inception_train_gives_the_output_size_in_signed_unit_range(
    graph, rng, fast_mode, dtype):
  pixels = _random_uint8(rng, 37, 53)
  feed = pixels if dtype == tf.uint8 else pixels / 255.0
  image = _image_input(dtype)
  out = inception_preprocessing.preprocess_image(
      image, 224, 224, is_training=True, fast_mode=fast_mode)
  assert out.dtype == tf.float32
  assert out.shape.as_list() == [224, 224, 3]
  results = np.stack(_run(out, {image: feed}, times=4))
  assert results.shape == (4, 224, 224, 3)
  assert results.min() >= -1.0 and results.max() <= 1.0
  assert not np.allclose(results[0], results[1])


def _inception_train_draws(seed=None, graph_seed=None, times=3):
  pixels = _random_uint8(np.random.RandomState(3), 40, 60)
  with tf.Graph().as_default():
    tf.set_random_seed(graph_seed)
    out = inception_preprocessing.preprocess_image(
        pixels, 32, 32, is_training=True, fast_mode=False, seed=seed)
    return np.stack(_run(out, times=times))


def test_inception_train_is_repeatable_with_an_op_seed():
  first, again, other = (_inception_train_draws(7), _inception_train_draws(7),
                         _inception_train_draws(8))
  np.testing.assert_array_equal(first, again)
  assert not np.allclose(first, other)
  assert not np.allclose(first[0], first[1])


def test_inception_train_is_repeatable_with_a_graph_seed_alone():
  """The random box too, which tf.image's wrappers would leave unseeded."""
  first, again, other = (_inception_train_draws(graph_seed=3),
                         _inception_train_draws(graph_seed=3),
                         _inception_train_draws(graph_seed=4))
  np.testing.assert_array_equal(first, again)
  assert not np.allclose(first, other)


def test_distorted_bounding_box_crop_is_a_window_within_the_ranges(graph):
  height, width = 200, 160
  # Each pixel holds its own flat index, so a crop tells where it came from.
  index = np.arange(height * width, dtype=np.float32).reshape(height, width)
  image = tf.constant(np.repeat(index[..., None], 3, axis=-1))
  crop, box = inception_preprocessing.distorted_bounding_box_crop(image)
  for pixels, (ymin, xmin, ymax, xmax) in _run([crop, box[0, 0]], times=20):
    rows, cols = pixels.shape[:2]
    top, left = divmod(int(pixels[0, 0, 0]), width)
    np.testing.assert_array_equal(
        pixels[..., 0], index[top:top + rows, left:left + cols])
    assert 0.05 * 0.95 <= rows * cols / (height * width) <= 1.0
    assert 0.75 * 0.9 <= cols / rows <= 4 / 3 / 0.9
    np.testing.assert_allclose([ymin * height, xmin * width], [top, left],
                               atol=1e-3)
    np.testing.assert_allclose([ymax * height, xmax * width],
                               [top + rows, left + cols], atol=1e-3)


def test_distorted_bounding_box_crop_covers_the_given_object(graph):
  height = width = 100
  index = np.arange(height * width, dtype=np.float32).reshape(height, width)
  image = tf.constant(index[..., None])
  bbox = tf.constant([[[0.4, 0.3, 0.6, 0.5]]])
  crop, _ = inception_preprocessing.distorted_bounding_box_crop(
      image, bbox, min_object_covered=1.0)
  for pixels in _run(crop, times=10):
    rows, cols = pixels.shape[:2]
    top, left = divmod(int(pixels[0, 0, 0]), width)
    assert top <= 40 and top + rows >= 60
    assert left <= 30 and left + cols >= 50


@pytest.mark.parametrize('fast_mode', [True, False])
def test_distort_color_stays_in_unit_range_and_keeps_grey_grey(
    graph, rng, fast_mode):
  colour = tf.constant(rng.rand(16, 16, 3).astype(np.float32))
  grey = tf.constant(np.repeat(rng.rand(16, 16, 1), 3, -1).astype(np.float32))
  outs = [inception_preprocessing.distort_color(x, fast_mode)
          for x in (colour, grey)]
  for jittered_colour, jittered_grey in _run(outs, times=6):
    assert jittered_colour.min() >= 0.0 and jittered_colour.max() <= 1.0
    np.testing.assert_allclose(jittered_grey[..., 1:],
                               jittered_grey[..., :2], atol=1e-5)
  first, second = _run(outs[0], times=2)
  assert not np.allclose(first, second)


# ---------------------------------------------------------------------------
# VGG preprocessing.


def _np_aspect_preserving_resize(image, side):
  rows, cols = image.shape[:2]
  scale = np.float32(side) / np.float32(min(rows, cols))
  new_rows = int(np.rint(np.float32(rows) * scale))
  new_cols = int(np.rint(np.float32(cols) * scale))
  return _np_resize_bilinear(image, new_rows, new_cols)


def _np_vgg_eval(pixels, height, width, side=256):
  image = pixels.astype(np.float64)
  if pixels.dtype != np.uint8:
    image *= 255.0
  image = _np_aspect_preserving_resize(image, side)
  top = (image.shape[0] - height) // 2
  left = (image.shape[1] - width) // 2
  return image[top:top + height, left:left + width] - VGG_MEANS


@pytest.mark.parametrize('size,output,side', [((37, 53), (224, 224), 256),
                                              ((480, 360), (224, 224), 256),
                                              ((101, 99), (200, 240), 300)])
def test_vgg_eval_is_shorter_side_resize_central_crop_minus_means(
    graph, rng, size, output, side):
  pixels = _random_uint8(rng, *size)
  image = _image_input()
  out = vgg_preprocessing.preprocess_image(image, *output,
                                           eval_resize_side=side)
  assert out.dtype == tf.float32
  assert out.shape.as_list() == list(output) + [3]
  np.testing.assert_allclose(_run(out, {image: pixels}),
                             _np_vgg_eval(pixels, *output, side=side),
                             atol=2e-3)


def test_vgg_eval_resize_side_defaults_to_resize_side_min(graph, rng):
  pixels = _random_uint8(rng, 50, 70)
  out = vgg_preprocessing.preprocess_image(pixels, 224, 224,
                                           resize_side_min=288)
  np.testing.assert_allclose(_run(out), _np_vgg_eval(pixels, 224, 224, 288),
                             atol=2e-3)


def test_vgg_eval_of_a_constant_image_is_it_minus_the_means(graph):
  out = vgg_preprocessing.preprocess_image(
      tf.fill([300, 400, 3], tf.constant(200, tf.uint8)), 224, 224)
  np.testing.assert_allclose(_run(out), 200.0 - np.broadcast_to(
      VGG_MEANS, (224, 224, 3)), atol=1e-4)


@pytest.mark.parametrize('dtype', [tf.uint8, tf.float32])
def test_vgg_train_gives_the_output_size_and_varies(graph, rng, dtype):
  pixels = _random_uint8(rng, 37, 53)
  image = _image_input(dtype)
  out = vgg_preprocessing.preprocess_image(image, 224, 224, is_training=True)
  assert out.dtype == tf.float32
  assert out.shape.as_list() == [224, 224, 3]
  feed = pixels if dtype == tf.uint8 else pixels / 255.0
  first, second = _run(out, {image: feed}, times=2)
  assert first.shape == (224, 224, 3)
  assert not np.allclose(first, second)
  # Still 0-255 pixels minus the means.
  assert (first + VGG_MEANS).min() >= -1e-3
  assert (first + VGG_MEANS).max() <= 255.0 + 1e-3


def test_vgg_train_crop_is_a_window_of_the_rescaled_image(graph):
  """Row and column ramps locate the crop in the (fixed-side) rescale."""
  ramps = _ramp_image(400, 500)
  out = vgg_preprocessing.preprocess_image(
      ramps, 224, 224, is_training=True, resize_side_min=256,
      resize_side_max=256)
  rescaled = _np_aspect_preserving_resize(ramps * 255.0, 256)
  assert rescaled.shape == (256, 320, 3)
  offsets, flips = set(), set()
  for result in _run(out, times=10):
    pixels = result + VGG_MEANS
    flipped = pixels[0, 0, 1] > pixels[0, -1, 1]
    if flipped:
      pixels = pixels[:, ::-1]
    top = int(np.argmin(np.abs(rescaled[:, 0, 0] - pixels[0, 0, 0])))
    left = int(np.argmin(np.abs(rescaled[0, :, 1] - pixels[0, 0, 1])))
    assert top + 224 <= 256 and left + 224 <= 320
    np.testing.assert_allclose(
        pixels, rescaled[top:top + 224, left:left + 224], atol=2e-3)
    offsets.add((top, left))
    flips.add(flipped)
  assert len(offsets) > 1 and flips == {True, False}


def test_vgg_train_shorter_side_is_drawn_from_the_range(graph):
  """The row ramp's step per output row gives the rescaled side back."""
  out = vgg_preprocessing.preprocess_image(
      _ramp_image(300, 300), 224, 224, is_training=True, seed=3)
  sides = []
  for result in _run(out, times=12):
    steps = np.diff(result[:, 0, 0])
    sides.append(255.0 / np.median(steps))
  assert min(sides) >= 256 - 0.5 and max(sides) <= 512 + 0.5
  assert max(sides) - min(sides) > 10


def test_vgg_train_is_repeatable_with_an_op_seed(rng):
  pixels = _random_uint8(rng, 37, 53)

  def draws(seed):
    with tf.Graph().as_default():
      out = vgg_preprocessing.preprocess_image(pixels, 224, 224,
                                               is_training=True, seed=seed)
      return np.stack(_run(out, times=2))

  np.testing.assert_array_equal(draws(5), draws(5))
  assert not np.allclose(draws(5), draws(6))


def test_vgg_refuses_resize_sides_that_cannot_hold_the_crop(graph):
  image = tf.zeros([300, 300, 3], tf.uint8)
  with pytest.raises(ValueError, match='resize_side_min'):
    vgg_preprocessing.preprocess_image(image, 299, 299, is_training=True)
  with pytest.raises(ValueError, match='resize_side'):
    vgg_preprocessing.preprocess_image(image, 299, 299)
  with pytest.raises(ValueError, match='exceeds'):
    vgg_preprocessing.preprocess_image(image, 224, 224, is_training=True,
                                       resize_side_min=400,
                                       resize_side_max=300)


# ---------------------------------------------------------------------------
# CIFAR-style preprocessing.


def _np_shifted_windows(image, padding):
  """Every window of `image`'s size in its zero-padded copy, by offset."""
  rows, cols = image.shape[:2]
  padded = np.pad(image, [(padding, padding), (padding, padding), (0, 0)])
  return {(top, left): padded[top:top + rows, left:left + cols]
          for top in range(2 * padding + 1) for left in range(2 * padding + 1)}


@pytest.mark.parametrize('dtype', [tf.uint8, tf.float32])
def test_cifarnet_eval_upsamples_tiny_images_and_standardizes(
    graph, rng, dtype):
  digit = rng.randint(0, 17, size=(8, 8)) * 15  # sklearn digits: 0..16
  pixels = np.repeat(digit[..., None], 3, -1).astype(np.uint8)
  feed = pixels if dtype == tf.uint8 else pixels / 255.0
  image = _image_input(dtype)
  out = cifarnet_preprocessing.preprocess_image(image, 32, 32)
  assert out.dtype == tf.float32 and out.shape.as_list() == [32, 32, 3]
  result = _run(out, {image: feed})
  expected = _np_standardize(
      _np_resize_bilinear(pixels, 32, 32, centred=True))
  np.testing.assert_allclose(result, expected, atol=1e-4)
  assert abs(result.mean()) < 1e-5 and abs(result.std() - 1.0) < 1e-4


def test_cifarnet_eval_leaves_output_sized_images_unresized(graph, rng):
  pixels = _random_uint8(rng, 32, 32)
  image = _image_input()
  out = cifarnet_preprocessing.preprocess_image(image, 32, 32)
  np.testing.assert_allclose(_run(out, {image: pixels}),
                             _np_standardize(pixels), atol=1e-5)


def test_cifarnet_eval_of_a_flat_image_is_zero_not_nan(graph):
  out = cifarnet_preprocessing.preprocess_image(
      tf.fill([8, 8, 3], tf.constant(7, tf.uint8)), 32, 32)
  np.testing.assert_array_equal(_run(out), np.zeros([32, 32, 3]))


def test_cifarnet_eval_resize_method_is_an_option(graph, rng):
  pixels = _random_uint8(rng, 8, 8)
  out = cifarnet_preprocessing.preprocess_image(
      pixels, 32, 32, resize_method='nearest')
  # Nearest-neighbour 4x upsampling repeats each pixel in a 4x4 square.
  np.testing.assert_allclose(
      _run(out), _np_standardize(pixels.repeat(4, 0).repeat(4, 1)),
      atol=1e-5)


def test_cifarnet_train_without_shift_or_flip_equals_eval(graph, rng):
  pixels = _random_uint8(rng, 8, 8)
  train = cifarnet_preprocessing.preprocess_image(
      pixels, 32, 32, is_training=True, padding=0, random_flip=False)
  evaluation = cifarnet_preprocessing.preprocess_image(pixels, 32, 32)
  a, b = _run([train, evaluation])
  np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize('random_flip', [False, True])
def test_cifarnet_train_shifts_by_up_to_padding_and_flips_if_asked(
    graph, rng, random_flip):
  pixels = _random_uint8(rng, 32, 32)
  image = _image_input()
  out = cifarnet_preprocessing.preprocess_image(
      image, 32, 32, is_training=True, random_flip=random_flip, seed=11)
  assert out.shape.as_list() == [32, 32, 3]
  windows = {offset: _np_standardize(window) for offset, window
             in _np_shifted_windows(pixels.astype(np.float64), 4).items()}
  offsets, flips = set(), set()
  for result in _run(out, {image: pixels}, times=12):
    assert abs(result.mean()) < 1e-4 and abs(result.std() - 1.0) < 1e-3
    matches = [(offset, flipped) for offset, window in windows.items()
               for flipped in (False, True)
               if np.allclose(result[:, ::-1] if flipped else result, window,
                              atol=1e-4)]
    assert len(matches) == 1
    offsets.add(matches[0][0])
    flips.add(matches[0][1])
  assert len(offsets) > 1
  assert flips == ({False, True} if random_flip else {False})


def test_cifarnet_train_upsamples_tiny_images(graph, rng):
  image = _image_input()
  out = cifarnet_preprocessing.preprocess_image(image, 32, 32,
                                                is_training=True)
  result = _run(out, {image: _random_uint8(rng, 8, 8)})
  assert result.shape == (32, 32, 3) and result.dtype == np.float32
  assert np.isfinite(result).all()


# ---------------------------------------------------------------------------
# The factory.


def test_every_network_has_the_recipe_of_its_family_and_root():
  assert set(preprocessing_factory.DEFAULTS) == set(nets_factory.networks_map)
  for name, recipe in preprocessing_factory.DEFAULTS.items():
    info = nets_factory.get_model_info(name)
    if info.root == 'cifar':
      assert recipe == 'cifarnet', name
    else:
      assert recipe == {'resnet_v1': 'vgg', 'resnet_v2': 'inception'}[
          info.family], name


@pytest.mark.parametrize('name,recipe', [
    ('resnet_v1_50', 'vgg'), ('resnet_v1_18', 'vgg'),
    ('resnet_v1_101_beta', 'vgg'), ('resnet_v2_50', 'inception'),
    ('resnet_v2_152', 'inception'), ('resnet_v2_50_beta', 'inception'),
    ('resnet_v1_cifar_20', 'cifarnet'), ('resnet_v2_cifar_110', 'cifarnet'),
    ('resnet_v2_cifar_164', 'cifarnet'), ('vgg', 'vgg'),
    ('inception', 'inception'), ('cifarnet', 'cifarnet')])
def test_default_preprocessing_names(name, recipe):
  assert preprocessing_factory.default_preprocessing_name(name) == recipe
  assert preprocessing_factory.get_preprocessing(name).recipe_name == recipe


def test_unknown_names_are_refused_with_the_known_ones_listed():
  for lookup in (preprocessing_factory.get_preprocessing,
                 preprocessing_factory.default_preprocessing_name):
    with pytest.raises(ValueError) as error:
      lookup('resnet_v3_50')
    message = str(error.value)
    assert 'resnet_v3_50' in message
    for known in ('inception', 'vgg', 'cifarnet', 'resnet_v1_50',
                  'resnet_v2_cifar_164'):
      assert known in message


def test_factory_functions_are_the_recipes_with_mode_and_options(graph, rng):
  pixels = _random_uint8(rng, 37, 53)
  by_network = preprocessing_factory.get_preprocessing('resnet_v2_50')(
      pixels, 64, 64, central_fraction=None)
  direct = inception_preprocessing.preprocess_image(pixels, 64, 64,
                                                    central_fraction=None)
  training = preprocessing_factory.get_preprocessing(
      'resnet_v1_50', is_training=True)(pixels, 224, 224, seed=1)
  a, b = _run([by_network, direct])
  np.testing.assert_array_equal(a, b)
  first, second = _run(training, times=2)
  assert first.shape == (224, 224, 3)
  assert not np.allclose(first, second)
  with pytest.raises(TypeError):
    preprocessing_factory.get_preprocessing('vgg')(pixels, 224, 224,
                                                   fast_mode=True)


def test_factory_options_are_fixed_defaults_the_call_can_override(graph):
  # A left-right ramp shows whether the output was flipped.
  ramp = np.repeat(np.arange(32, dtype=np.uint8)[None, :, None] * 8, 32, 0)
  pixels = np.repeat(ramp, 3, -1)
  fn = preprocessing_factory.get_preprocessing(
      'cifarnet', is_training=True, random_flip=False, padding=0)
  default = fn(pixels, 32, 32)
  overridden = fn(pixels, 32, 32, random_flip=True, seed=2)
  runs = _run([default, overridden], times=10)
  flipped = np.array([[out[0, 0, 0] > out[0, -1, 0] for out in run]
                      for run in runs])
  assert not flipped[:, 0].any()
  assert flipped[:, 1].any()


def test_recipes_run_inside_tf_data_map(graph):
  """As the input pipelines use them: traced into a dataset function."""
  inception, vgg, cifarnet = [
      preprocessing_factory.get_preprocessing(name, is_training=True, seed=1)
      for name in ('inception', 'vgg', 'cifarnet')]

  def preprocess(image):
    return (inception(image, 32, 32), vgg(image, 224, 224),
            cifarnet(image, 32, 32))

  sizes = tf.data.Dataset.from_tensor_slices([[40, 60], [75, 50]])
  images = sizes.map(lambda size: tf.fill(tf.concat([size, [3]], 0),
                                          tf.constant(100, tf.uint8)))
  batch = images.map(preprocess).batch(2)
  outputs = _run(tf.data.make_one_shot_iterator(batch).get_next())
  assert [o.shape for o in outputs] == [(2, 32, 32, 3), (2, 224, 224, 3),
                                        (2, 32, 32, 3)]
  assert outputs[0].min() >= -1.0 and outputs[0].max() <= 1.0


@pytest.mark.parametrize('name,is_training', [
    ('inception', False), ('inception', True), ('cifarnet', True),
    ('resnet_v1_50', True), ('resnet_v1_50', False)])
def test_grayscale_gives_three_equal_channels(graph, rng, name, is_training):
  fn = preprocessing_factory.get_preprocessing(name, is_training,
                                               use_grayscale=True)
  size = 32 if name == 'cifarnet' else 224
  out = fn(_random_uint8(rng, 37, 53), size, size)
  assert out.shape.as_list() == [size, size, 3]
  result = _run(out)
  if preprocessing_factory.default_preprocessing_name(name) == 'vgg':
    result = result + VGG_MEANS  # the means differ per channel
  np.testing.assert_allclose(result[..., 1:], result[..., :2], atol=1e-4)


def test_grayscale_uses_the_luma_weights(graph, rng):
  pixels = _random_uint8(rng, 16, 16)
  out = preprocessing_factory.get_preprocessing(
      'inception', use_grayscale=True)(pixels, 16, 16, central_fraction=None)
  luma = pixels / 255.0 @ np.array([0.2989, 0.5870, 0.1140])
  np.testing.assert_allclose(_run(out)[..., 0], (luma - 0.5) * 2, atol=1e-5)


def test_published_recipes_are_the_families_defaults():
  """A family's default preprocessing is its published checkpoints'."""
  for name, published in nets_factory.PUBLISHED_CHECKPOINTS.items():
    assert (preprocessing_factory.default_preprocessing_name(name) ==
            published.preprocessing), name
  assert preprocessing_factory.default_preprocessing_name(
      'resnet_v1_18') == 'vgg'
  assert preprocessing_factory.default_preprocessing_name(
      'resnet_v2_cifar_20') == 'cifarnet'
