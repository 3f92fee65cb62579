"""PNG encoding and image inspection for the converters, with TensorFlow.

TensorFlow's own decoders are used so that an image the converter accepts
is one the input pipeline can decode, and no imaging library is needed.
"""

import numpy as np
import tensorflow.compat.v1 as tf

from slim_resnets.datasets import errors
from slim_resnets.datasets import example_format
from slim_resnets.datasets import private_graph


class ImageCodec(private_graph.PrivateGraph):
  """Encodes arrays to PNG and checks encoded images; use as a context."""

  def _build(self):
    self._pixels = tf.placeholder(tf.uint8, [None, None, None])
    self._png = tf.io.encode_png(self._pixels)
    self._encoded = tf.placeholder(tf.string, [])
    self._decoded = tf.io.decode_image(self._encoded,
                                       expand_animations=False)
    self._shape = tf.shape(self._decoded)

  def encode_png(self, pixels):
    """uint8 array [H, W] or [H, W, C] (C = 1, 3 or 4) -> PNG bytes."""
    pixels = np.asarray(pixels)
    if pixels.dtype != np.uint8:
      raise ValueError('encode_png takes uint8 pixels; got %s.' % pixels.dtype)
    if pixels.ndim == 2:
      pixels = pixels[:, :, np.newaxis]
    return self._run(self._png, {self._pixels: pixels})

  def decode(self, encoded, source):
    """PNG or JPEG bytes -> uint8 array [H, W, C] (C as stored).

    Raises:
      SourceDataError: naming `source`, when the bytes do not decode.
    """
    try:
      return self._run(self._decoded, {self._encoded: encoded})
    except tf.errors.OpError as e:
      raise errors.SourceDataError(
          'cannot decode %s: %s' % (source, e.message.splitlines()[0])) from e

  def inspect(self, encoded, source):
    """Decodes a PNG or JPEG fully; returns (format, height, width).

    See `describe`, which also returns the channels.
    """
    return self.describe(encoded, source)[:3]

  def describe(self, encoded, source):
    """Decodes a PNG or JPEG fully; returns (format, height, width, channels).

    Args:
      encoded: the image file's bytes.
      source: what to call the image in errors (its path).

    Raises:
      SourceDataError: naming `source`, when the bytes are neither PNG nor
        JPEG or do not decode (truncated or corrupt files).
    """
    image_format = example_format.sniff_format(encoded)
    if image_format is None:
      raise errors.SourceDataError(
          '%s is not a PNG or JPEG image (its first bytes are %r).'
          % (source, encoded[:8]))
    try:
      height, width, channels = self._run(self._shape,
                                          {self._encoded: encoded})
    except tf.errors.OpError as e:
      raise errors.SourceDataError(
          'cannot decode %s as %s: %s' % (source, image_format.upper(),
                                          e.message.splitlines()[0])) from e
    return image_format, int(height), int(width), int(channels)
