"""Reading users' label masks and pairing them with their images.

A label mask holds one class id per pixel. Datasets store them in two ways,
and both are read here as the ids themselves:

* a palette ("P" mode) PNG, as PASCAL VOC's SegmentationClass: each pixel is
  an index into a colour table, and the index is the class (VOC draws
  object boundaries with index 255, the ignore label). Decoding such a file
  to colours, which is what TensorFlow's PNG decoder does, would lose the
  ids; Pillow reads the indices.
* a grayscale PNG of ids (8 or 16 bit), as most tools write them.

An RGB mask is refused: its colours would have to be mapped back to ids
through a colour table only the user knows.

`SegmentationPair.encode` then checks a mask against its image (same size,
every value a class or the ignore label) and makes DeepLab's example of the
two, storing the image file's bytes unchanged and the ids as a 1-channel
PNG.
"""

import io

import numpy as np

from slim_resnets.datasets import errors
from slim_resnets.datasets import segmentation_format

_ID_MODES = ('P', 'L', 'I', 'I;16', 'I;16B', 'I;16L')


def _pillow():
  try:
    from PIL import Image  # pylint: disable=g-import-not-at-top
  except ImportError as e:
    raise errors.MissingDependencyError(
        'reading label masks needs Pillow; install it with '
        "pip install 'slim-resnets[segmentation-data]' (or pip install "
        'pillow).') from e
  return Image


def read_mask(data, source):
  """PNG bytes of a label mask -> uint8 class ids [H, W].

  Raises:
    SourceDataError: naming `source`, for bytes that are no PNG, a mask in
      colours (RGB) rather than ids, or ids above 255.
  """
  image_module = _pillow()
  if not data.startswith(b'\x89PNG\r\n\x1a\n'):
    raise errors.SourceDataError(
        'label mask %s is not a PNG file (its first bytes are %r); masks '
        'must be PNG, which is lossless.' % (source, data[:8]))
  try:
    with image_module.open(io.BytesIO(data)) as image:
      mode = image.mode
      if mode not in _ID_MODES:
        raise errors.SourceDataError(
            'label mask %s is a %s image; a mask must hold class ids, as a '
            'palette PNG (VOC style) or a 1-channel PNG, not colours.'
            % (source, mode))
      ids = np.asarray(image)
  except (OSError, SyntaxError, ValueError) as e:
    raise errors.SourceDataError('cannot decode label mask %s: %s'
                                 % (source, e)) from e
  if ids.size and ids.max() > 255:
    raise errors.SourceDataError(
        'label mask %s holds id %d; ids must be 0..255 (255: ignore).'
        % (source, int(ids.max())))
  return ids.astype(np.uint8)


class SegmentationPair:
  """Makes checked segmentation examples from (image, mask) pairs.

  Use inside an `image_codec.ImageCodec` context, whose codec it is given.
  """

  def __init__(self, codec, num_classes):
    self._codec = codec
    self._num_classes = num_classes

  def encode(self, image_bytes, image_source, mask, mask_source, filename):
    """A serialized example of an image file's bytes and its mask.

    Args:
      image_bytes: the image file (JPEG or PNG), stored unchanged.
      image_source, mask_source: what to call the two in errors.
      mask: uint8 class ids [H, W] (see `read_mask`).
      filename: the example's image/filename.

    Raises:
      SourceDataError: naming the files, for an image that does not decode,
        a mask of another size, or a mask value that is neither a class nor
        the ignore label.
    """
    image_format, height, width, channels = self._codec.describe(
        image_bytes, image_source)
    if mask.shape != (height, width):
      raise errors.SourceDataError(
          'label mask %s is %dx%d pixels but its image %s is %dx%d; a mask '
          'must have its image\'s size.' % (mask_source, mask.shape[1],
                                            mask.shape[0], image_source,
                                            width, height))
    try:
      segmentation_format.check_label_values(mask, self._num_classes,
                                             mask_source)
    except ValueError as e:
      raise errors.SourceDataError(str(e)) from e
    return segmentation_format.encode_example(
        image_bytes, image_format, self._codec.encode_png(mask), height,
        width, filename=filename, channels=channels)
