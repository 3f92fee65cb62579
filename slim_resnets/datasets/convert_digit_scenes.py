"""Scenes of handwritten digits for semantic segmentation, with no download.

A real segmentation task built from scikit-learn's 1,797 handwritten digits
(see `convert_digits`): each scene is a dark 48x48 canvas with light sensor
noise and two to four digits, each enlarged 2x or 3x (16 or 24 pixels) with
bilinear interpolation and placed at random without overlapping another.
To label a pixel the model has to know which digit its stroke belongs to,
so it needs the context of the whole digit, as in any semantic
segmentation.

Labels, per pixel:
  * digit + 1 (1..10) where that digit's ink is at least half its full
    strength (`INK_CLASS`);
  * 0, background, where there is almost no ink (< `INK_BACKGROUND`);
  * 255, ignore, in between: the blurred rim that enlarging an 8x8 digit
    creates, where neither answer would be honest.

Train and validation scenes are composed from disjoint source digits (the
stratified 1,497 / 300 split of `convert_digits`), so validation measures
digits the model has never seen. Everything follows from `seed`: the same
call writes the same scenes.

Stored as DeepLab's segmentation examples (`segmentation_format`), 1-channel
PNG images and label maps; the readers repeat the channel to RGB.
"""

import numpy as np

from resnet_utils import checks
from slim_resnets.datasets import convert_digits
from slim_resnets.datasets import errors
from slim_resnets.datasets import image_codec
from slim_resnets.datasets import segmentation_format
from slim_resnets.datasets import splitting
from slim_resnets.datasets import writer

DATASET_NAME = 'digit_scenes'
CLASS_NAMES = ('background',) + convert_digits.CLASS_NAMES
NUM_CLASSES = len(CLASS_NAMES)
CANVAS_SIZE = 48
DEFAULT_NUM_TRAIN = 1000
DEFAULT_NUM_VALIDATION = 200
DEFAULT_NUM_SHARDS = 2
DIGITS_PER_SCENE = (2, 4)  # inclusive range
SCALES = (2, 3)  # ascending
INK_CLASS = 0.5
INK_BACKGROUND = 0.1
NOISE_STDDEV = 6.0


def enlarge(digit, factor):
  """Bilinear enlargement of a 2-D uint8 image by an integer factor.

  Pixel centres are aligned (the enlarged pixel (i + 0.5) / factor - 0.5
  reads the source there), with edges clamped: the usual image-resize
  convention, written out so the scenes do not depend on a library
  version.
  """
  digit = np.asarray(digit, np.float64)
  size = digit.shape[0]
  positions = np.clip((np.arange(size * factor) + 0.5) / factor - 0.5, 0,
                      size - 1)
  low = np.floor(positions).astype(int)
  high = np.minimum(low + 1, size - 1)
  weight = positions - low
  rows = (digit[low] * (1 - weight)[:, None] +
          digit[high] * weight[:, None])
  return rows[:, low] * (1 - weight)[None, :] + rows[:, high] * weight[None, :]


def _free_corners(occupied, size):
  """Top-left corners where a size x size window touches nothing occupied."""
  total = np.pad(occupied.astype(np.int64).cumsum(0).cumsum(1),
                 ((1, 0), (1, 0)))
  window = (total[size:, size:] - total[:-size, size:] -
            total[size:, :-size] + total[:-size, :-size])
  return np.argwhere(window == 0)


def compose_scene(rng, images, labels, canvas_size=CANVAS_SIZE):
  """One scene from the source digits `images` (uint8 [N, 8, 8]).

  Each digit goes to a place drawn uniformly among those where it keeps a
  pixel of margin from the digits already there; a digit too large for the
  room left is drawn at the smaller scale, or left out if that does not fit
  either.

  Returns:
    (image uint8 [canvas, canvas], label map uint8 [canvas, canvas],
     list of the digits placed).
  """
  ink = np.zeros((canvas_size, canvas_size))
  label = np.zeros((canvas_size, canvas_size), np.uint8)
  occupied = np.zeros((canvas_size, canvas_size), bool)
  placed = []
  for _ in range(rng.randint(DIGITS_PER_SCENE[0], DIGITS_PER_SCENE[1] + 1)):
    index = rng.randint(len(images))
    drawn = rng.randint(len(SCALES))
    for scale in SCALES[drawn::-1]:  # the drawn scale, then smaller ones
      size = images[index].shape[0] * scale
      corners = _free_corners(occupied, size)
      if len(corners):
        break
    else:
      continue  # no room left for this digit
    top, left = corners[rng.randint(len(corners))]
    digit = enlarge(images[index], scale) / 255.0
    window = (slice(top, top + size), slice(left, left + size))
    ink[window] = digit
    patch = np.full(digit.shape, segmentation_format.IGNORE_LABEL, np.uint8)
    patch[digit >= INK_CLASS] = labels[index] + 1
    patch[digit < INK_BACKGROUND] = 0
    label[window] = patch
    occupied[max(top - 1, 0):top + size + 1,
             max(left - 1, 0):left + size + 1] = True
    placed.append(int(labels[index]))
  noise = rng.normal(0.0, NOISE_STDDEV, ink.shape)
  image = np.clip(np.round(ink * 255.0 + np.abs(noise)), 0, 255)
  return image.astype(np.uint8), label, placed


def _records(codec, images, labels, num_scenes, seed, split_name,
             canvas_size):
  rng = np.random.RandomState(seed)
  for index in range(num_scenes):
    image, label, _ = compose_scene(rng, images, labels, canvas_size)
    yield segmentation_format.encode_example(
        codec.encode_png(image), 'png', codec.encode_png(label),
        canvas_size, canvas_size,
        filename='%s_%05d' % (split_name, index), channels=1)


def convert(dataset_dir, overwrite=False, num_train=DEFAULT_NUM_TRAIN,
            num_validation=DEFAULT_NUM_VALIDATION, canvas_size=CANVAS_SIZE,
            num_shards=DEFAULT_NUM_SHARDS, seed=0):
  """Writes the digit scenes (splits 'train', 'validation') to dataset_dir.

  Args:
    dataset_dir: where the shards, labels.txt and dataset_info.json go.
    overwrite: replace a dataset already there.
    num_train, num_validation: scenes per split.
    canvas_size: scene height and width in pixels (at least 26, the
      largest digit with a margin).
    num_shards: TFRecord files per split.
    seed: seeds the digits' split, the scenes and the noise.

  Returns:
    The dataset description (as written to dataset_info.json), whose
    class_counts are pixels per class.
  """
  checks.check_int(num_train, 'num_train')
  checks.check_int(num_validation, 'num_validation', minimum=0)
  checks.check_int(canvas_size, 'canvas_size', minimum=26, note='(pixels)')
  checks.check_int(seed, 'seed', minimum=0)
  writer.check_can_write(dataset_dir, overwrite, num_shards)
  images, labels = convert_digits.load_digits()
  train, validation = splitting.stratified_split(
      labels, convert_digits.DEFAULT_NUM_VALIDATION, seed)
  with image_codec.ImageCodec() as codec:
    splits = {
        'train': writer.SplitRecords(num_train, _records(
            codec, images[train], labels[train], num_train, seed * 2 + 1,
            'train', canvas_size)),
        'validation': writer.SplitRecords(num_validation, _records(
            codec, images[validation], labels[validation], num_validation,
            seed * 2 + 2, 'validation', canvas_size)),
    }
    try:
      return writer.write_dataset(
          dataset_dir, DATASET_NAME, splits, dict(enumerate(CLASS_NAMES)),
          num_shards, overwrite=overwrite,
          count_record=segmentation_format.record_counter(codec, NUM_CLASSES),
          source='scenes of 2-4 sklearn.datasets.load_digits digits, '
          'enlarged 2x/3x on a %dx%d canvas; train and validation from '
          'disjoint digits (seed %d)' % (canvas_size, canvas_size, seed))
    except ValueError as e:
      raise errors.SourceDataError(str(e)) from e
