"""Converts scikit-learn's handwritten digits to slim TFRecords.

`sklearn.datasets.load_digits` ships 1,797 real 8x8 grayscale digits (UCI
"Optical Recognition of Handwritten Digits", 10 classes, about 180 each)
inside the scikit-learn package: a genuine dataset that needs no download,
small enough to train a tiny ResNet on in a test.

Pixels in the original are counts 0..16 (of 4x4 blocks of a 32x32 bitmap);
they are scaled to 0..255 with round(v * 255 / 16) and stored as 1-channel
(grayscale) PNGs. The input pipeline repeats the channel, so readers see
8x8x3 uint8 images like any other dataset. Labels are the digits 0..9, with
names 'zero'..'nine'.

The split is stratified by class and seeded: 300 validation and 1,497
training images by default, the same on every run.
"""

import numpy as np

from slim_resnets.datasets import errors
from slim_resnets.datasets import example_format
from slim_resnets.datasets import image_codec
from slim_resnets.datasets import splitting
from slim_resnets.datasets import writer

DATASET_NAME = 'digits'
DEFAULT_NUM_VALIDATION = 300
DEFAULT_NUM_SHARDS = 2
CLASS_NAMES = ('zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven',
               'eight', 'nine')


def load_digits():
  """(uint8 images [1797, 8, 8] in 0..255, int64 labels [1797]).

  Raises:
    MissingDependencyError: when scikit-learn is not installed, saying how to
      install it.
  """
  try:
    import sklearn.datasets  # pylint: disable=g-import-not-at-top
  except ImportError as e:
    raise errors.MissingDependencyError(
        'the digits dataset comes with scikit-learn, which is not installed: '
        "pip install 'scikit-learn>=1.3,<2' (or pip install "
        "'slim-resnets[digits]').") from e
  digits = sklearn.datasets.load_digits()
  return scale_to_uint8(digits.images), digits.target.astype(np.int64)


def scale_to_uint8(images):
  """Maps the 0..16 pixel counts of load_digits onto 0..255 uint8."""
  return np.round(np.asarray(images, np.float64) * (255.0 / 16.0)).astype(
      np.uint8)


def _records(codec, images, labels, indices):
  for i in indices:
    label = int(labels[i])
    yield example_format.encode_example(
        codec.encode_png(images[i]), 'png', label, images[i].shape[0],
        images[i].shape[1], class_text=CLASS_NAMES[label])


def convert(dataset_dir, overwrite=False, validation_fraction=None,
            num_shards=DEFAULT_NUM_SHARDS, seed=0):
  """Writes the digits dataset (splits 'train', 'validation') to dataset_dir.

  Args:
    dataset_dir: where the shards, labels.txt and dataset_info.json go.
    overwrite: replace a dataset already there.
    validation_fraction: share of images for validation; None for the
      default 300 of 1,797. 0 writes only 'train'.
    num_shards: TFRecord files per split.
    seed: seeds the split and the order of the examples.

  Returns:
    The dataset description (as written to dataset_info.json).
  """
  writer.check_can_write(dataset_dir, overwrite, num_shards)
  images, labels = load_digits()
  if validation_fraction is None:
    num_validation = DEFAULT_NUM_VALIDATION
  else:
    num_validation = splitting.validation_count(len(labels),
                                                validation_fraction)
  train, validation = splitting.stratified_split(labels, num_validation, seed)
  with image_codec.ImageCodec() as codec:
    splits = {
        'train': writer.SplitRecords(
            len(train), _records(codec, images, labels, train)),
        'validation': writer.SplitRecords(
            len(validation), _records(codec, images, labels, validation)),
    }
    return writer.write_dataset(
        dataset_dir, DATASET_NAME, splits, dict(enumerate(CLASS_NAMES)),
        num_shards, overwrite=overwrite,
        source='sklearn.datasets.load_digits (UCI optical recognition of '
        'handwritten digits), pixels scaled 0..16 -> 0..255, grayscale PNG')
