"""DeepLab's TFRecord example for semantic segmentation: an image and its mask.

Features (DeepLab's names, so shards written by its `build_voc2012_data.py`
and shards written here read the same way):

  image/encoded                     bytes  the image file (PNG or JPEG)
  image/format                      bytes  b'png' or b'jpeg'
  image/filename                    bytes  where the image came from
  image/height, image/width         int64  pixels
  image/channels                    int64  3 (1 for grayscale PNGs)
  image/segmentation/class/encoded  bytes  the label map, a 1-channel PNG
  image/segmentation/class/format   bytes  b'png'

A label map holds one class id per pixel, 0 for background, and
`IGNORE_LABEL` (255) where no class is right: object boundaries in VOC,
the blurred rim of a digit in the digit scenes. Pixels labelled so count in
no loss and no metric.
"""

import collections

import numpy as np
import tensorflow.compat.v1 as tf

from slim_resnets.datasets import example_format

IGNORE_LABEL = 255

ENCODED = example_format.ENCODED
FORMAT = example_format.FORMAT
HEIGHT = example_format.HEIGHT
WIDTH = example_format.WIDTH
FILENAME = 'image/filename'
CHANNELS = 'image/channels'
LABEL_ENCODED = 'image/segmentation/class/encoded'
LABEL_FORMAT = 'image/segmentation/class/format'


def _bytes(value):
  return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))


def _int64(value):
  return tf.train.Feature(int64_list=tf.train.Int64List(value=[int(value)]))


def encode_example(encoded_image, image_format, encoded_label, height, width,
                   filename, channels=3):
  """A serialized example: an encoded image and its PNG label map."""
  if image_format not in example_format.IMAGE_FORMATS:
    raise ValueError('image_format must be one of %s; got %r.'
                     % (', '.join(example_format.IMAGE_FORMATS),
                        image_format))
  feature = {
      ENCODED: _bytes(encoded_image),
      FORMAT: _bytes(image_format.encode('ascii')),
      FILENAME: _bytes(filename.encode('utf-8')),
      HEIGHT: _int64(height),
      WIDTH: _int64(width),
      CHANNELS: _int64(channels),
      LABEL_ENCODED: _bytes(encoded_label),
      LABEL_FORMAT: _bytes(b'png'),
  }
  return tf.train.Example(features=tf.train.Features(
      feature=feature)).SerializeToString()


_FEATURE_SPEC = {
    ENCODED: tf.io.FixedLenFeature((), tf.string),
    FILENAME: tf.io.FixedLenFeature((), tf.string, default_value=''),
    LABEL_ENCODED: tf.io.FixedLenFeature((), tf.string),
}


def parse_example(serialized):
  """Graph op: serialized example -> (uint8 image [H, W, 3], uint8 label
  [H, W, 1], filename string)."""
  features = tf.io.parse_single_example(serialized, _FEATURE_SPEC)
  image = tf.io.decode_image(features[ENCODED], channels=3,
                             expand_animations=False)
  image.set_shape([None, None, 3])
  label = tf.io.decode_png(features[LABEL_ENCODED], channels=1)
  return image, label, features[FILENAME]


SegmentationFields = collections.namedtuple(
    'SegmentationFields',
    ['image_format', 'encoded_label', 'filename', 'encoded_image'])


def check_example(serialized):
  """Parses a serialized example in Python; returns its SegmentationFields.

  Raises:
    ValueError: saying what is missing when the bytes are not a
      segmentation example.
  """
  feature = example_format.features_of(serialized)
  for key in (ENCODED, LABEL_ENCODED):
    if key not in feature or len(feature[key].bytes_list.value) != 1:
      raise ValueError('no single %s bytes value' % key)
  image_format = b''
  if FORMAT in feature and feature[FORMAT].bytes_list.value:
    image_format = feature[FORMAT].bytes_list.value[0]
  filename = b''
  if FILENAME in feature and feature[FILENAME].bytes_list.value:
    filename = feature[FILENAME].bytes_list.value[0]
  return SegmentationFields(image_format.decode('ascii', 'replace').lower(),
                            feature[LABEL_ENCODED].bytes_list.value[0],
                            filename.decode('utf-8', 'replace'),
                            feature[ENCODED].bytes_list.value[0])


def check_label_values(label, num_classes, source):
  """Raises a ValueError naming `source` if a pixel is no class nor ignored.

  Returns {class id: pixel count} of the labelled (not ignored) pixels.
  """
  values, counts = np.unique(np.asarray(label), return_counts=True)
  bad = [int(v) for v in values if v >= num_classes and v != IGNORE_LABEL]
  if bad:
    raise ValueError(
        '%s: label values %s are neither a class (0..%d) nor the ignore '
        'label %d.' % (source, bad, num_classes - 1, IGNORE_LABEL))
  return {int(v): int(c) for v, c in zip(values, counts)
          if v != IGNORE_LABEL}


def record_counter(codec, num_classes):
  """A `writer.write_dataset` count_record for segmentation examples.

  It checks each record, decodes its label map with `codec` (an
  `image_codec.ImageCodec`) and returns ({class id: labelled pixels},
  image format); a label value outside the classes raises a ValueError
  naming the example.
  """

  def count(record):
    fields = check_example(record)
    label = codec.decode(fields.encoded_label, fields.filename)
    return (check_label_values(label, num_classes, fields.filename),
            fields.image_format)

  return count
