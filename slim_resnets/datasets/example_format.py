"""The slim TFRecord example: one `tf.train.Example` per image.

Features (the names slim's ImageNet and Flowers converters use, so shards
written here and shards written by slim read the same way):

  image/encoded      bytes   the PNG or JPEG file, as it was encoded
  image/format       bytes   b'png' or b'jpeg'
  image/class/label  int64   class id (see labels.txt)
  image/height       int64   pixels
  image/width        int64   pixels
  image/class/text   bytes   class name, optional

Images stay encoded on disk: a PNG of a digit is a few hundred bytes where
the raw pixels would be several times that, and JPEG photos would grow ten
times. Readers decode them in the input pipeline, in parallel.
"""

import collections

import tensorflow.compat.v1 as tf

ENCODED = 'image/encoded'
FORMAT = 'image/format'
LABEL = 'image/class/label'
HEIGHT = 'image/height'
WIDTH = 'image/width'
CLASS_TEXT = 'image/class/text'

IMAGE_FORMATS = ('png', 'jpeg')

_PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'
_JPEG_SIGNATURE = b'\xff\xd8\xff'


def sniff_format(encoded):
  """'png' or 'jpeg' from an encoded image's first bytes; None otherwise.

  The bytes decide, not the file extension: a JPEG saved as `.png` is still
  stored (and labelled) as JPEG.
  """
  if encoded.startswith(_PNG_SIGNATURE):
    return 'png'
  if encoded.startswith(_JPEG_SIGNATURE):
    return 'jpeg'
  return None


def _bytes_feature(value):
  return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))


def _int64_feature(value):
  return tf.train.Feature(int64_list=tf.train.Int64List(value=[int(value)]))


def encode_example(encoded_image, image_format, label, height, width,
                   class_text=None):
  """A serialized `tf.train.Example` holding one encoded image.

  Args:
    encoded_image: the PNG or JPEG bytes.
    image_format: 'png' or 'jpeg'.
    label: integer class id.
    height, width: the image's size in pixels.
    class_text: optional class name (str), stored as UTF-8.

  Returns:
    bytes, ready for a TFRecord writer.
  """
  if image_format not in IMAGE_FORMATS:
    raise ValueError('image_format must be one of %s; got %r.'
                     % (IMAGE_FORMATS, image_format))
  feature = {
      ENCODED: _bytes_feature(encoded_image),
      FORMAT: _bytes_feature(image_format.encode('ascii')),
      LABEL: _int64_feature(label),
      HEIGHT: _int64_feature(height),
      WIDTH: _int64_feature(width),
  }
  if class_text is not None:
    feature[CLASS_TEXT] = _bytes_feature(class_text.encode('utf-8'))
  example = tf.train.Example(features=tf.train.Features(feature=feature))
  return example.SerializeToString()


# Only what a reader needs is required: slim's own ImageNet shards carry more
# features (synsets, bounding boxes), which parsing simply ignores.
_FEATURE_SPEC = {
    ENCODED: tf.io.FixedLenFeature((), tf.string),
    FORMAT: tf.io.FixedLenFeature((), tf.string, default_value=''),
    LABEL: tf.io.FixedLenFeature((), tf.int64),
}


def parse_example(serialized):
  """Graph op: a serialized example -> (uint8 image [H, W, 3], int64 label).

  Grayscale images come out with their one channel repeated three times, so
  every dataset feeds the same RGB networks.
  """
  features = tf.io.parse_single_example(serialized, _FEATURE_SPEC)
  image = tf.io.decode_image(features[ENCODED], channels=3,
                             expand_animations=False)
  image.set_shape([None, None, 3])
  return image, features[LABEL]


def features_of(serialized):
  """The feature map of a serialized `tf.train.Example`, parsed in Python.

  Raises:
    ValueError: when the bytes are not an Example at all.
  """
  example = tf.train.Example()
  try:
    example.ParseFromString(serialized)
  except Exception as e:  # pylint: disable=broad-except
    raise ValueError('not a tf.train.Example (%s)' % e) from e
  return example.features.feature


# What `check_example` finds in a record.
ExampleFields = collections.namedtuple('ExampleFields',
                                       ['label', 'image_format', 'encoded'])


def check_example(serialized):
  """Parses a serialized example in Python; returns its ExampleFields.

  image_format is the stored image/format in lower case ('' when absent).

  Raises:
    ValueError: saying what is missing when the bytes are not a slim image
      example (not an Example at all, or without image or label).
  """
  feature = features_of(serialized)
  if ENCODED not in feature or len(feature[ENCODED].bytes_list.value) != 1:
    raise ValueError('no single %s bytes value' % ENCODED)
  if LABEL not in feature or len(feature[LABEL].int64_list.value) != 1:
    raise ValueError('no single %s int64 value' % LABEL)
  image_format = b''
  if FORMAT in feature and feature[FORMAT].bytes_list.value:
    image_format = feature[FORMAT].bytes_list.value[0]
  return ExampleFields(feature[LABEL].int64_list.value[0],
                       image_format.decode('ascii', 'replace').lower(),
                       feature[ENCODED].bytes_list.value[0])
