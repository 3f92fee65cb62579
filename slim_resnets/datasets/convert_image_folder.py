"""Converts a folder of class sub-folders of images to slim TFRecords.

The layout is the one most image collections already have:

  source_dir/
    daisy/     img001.jpg  img002.JPEG  ...
    roses/     a.png  b.jpg  ...

Each sub-folder is a class; sorted by name, they get ids 0..N-1 and
labels.txt maps the ids back to the folder names. The images directly inside
each folder whose names end in .jpg, .jpeg or .png (any case) are converted;
other files (notes, .DS_Store) and nested folders are ignored, as are hidden
folders.

Images are stored as the bytes of their files, with the format read from the
bytes themselves, so nothing is re-encoded or lost. Before anything is
written every image is decoded once with TensorFlow's decoders (the ones the
input pipeline uses) to read its size: a file that does not decode stops the
conversion with an error naming it, or, with skip_undecodable, is left out
with a warning. A class folder without images is an error, because it would
silently shift every later class id.
"""

import collections
import os

from absl import logging

from slim_resnets.datasets import errors
from slim_resnets.datasets import example_format
from slim_resnets.datasets import image_codec
from slim_resnets.datasets import splitting
from slim_resnets.datasets import writer

DATASET_NAME = 'image_folder'
IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png')
DEFAULT_VALIDATION_FRACTION = 0.1
DEFAULT_NUM_SHARDS = 4

# One image that decoded: its path, class id and what the example stores.
ImageFile = collections.namedtuple(
    'ImageFile', ['path', 'label', 'image_format', 'height', 'width'])


def find_images(source_dir):
  """Lists the classes and image files of source_dir.

  Returns:
    (class_names sorted, list of (path, class id) in class then name order).

  Raises:
    SourceDataError: naming the directory when source_dir is missing, has no
      class folders, or a class folder has no images.
  """
  if not os.path.isdir(source_dir):
    raise errors.SourceDataError(
        'source_dir %s does not exist or is not a directory; it should hold '
        'one sub-folder of images per class.' % source_dir)
  class_names = sorted(
      name for name in os.listdir(source_dir)
      if not name.startswith('.') and
      os.path.isdir(os.path.join(source_dir, name)))
  if not class_names:
    raise errors.SourceDataError(
        'source_dir %s has no class sub-folders; put the images of each class '
        'in a folder named after the class.' % source_dir)
  files = []
  for label, class_name in enumerate(class_names):
    class_dir = os.path.join(source_dir, class_name)
    images = sorted(
        name for name in os.listdir(class_dir)
        if name.lower().endswith(IMAGE_EXTENSIONS) and
        os.path.isfile(os.path.join(class_dir, name)))
    if not images:
      raise errors.SourceDataError(
          'class folder %s has no images (%s files); remove it or add images.'
          % (class_dir, '/'.join(IMAGE_EXTENSIONS)))
    files.extend((os.path.join(class_dir, name), label) for name in images)
  return class_names, files


def _read(path):
  with open(path, 'rb') as f:
    return f.read()


def inspect_images(files, skip_undecodable=False):
  """Decodes every image once; returns the list of ImageFile.

  Raises:
    SourceDataError: naming the file, for the first image that does not
      decode, unless skip_undecodable (then it is logged and left out).
  """
  inspected = []
  with image_codec.ImageCodec() as codec:
    for path, label in files:
      try:
        image_format, height, width = codec.inspect(_read(path), path)
      except errors.SourceDataError as e:
        if not skip_undecodable:
          raise errors.SourceDataError(
              '%s Fix or remove the file, or pass --skip_undecodable to leave '
              'such files out.' % e) from e
        logging.warning('Skipping undecodable image: %s', e)
        continue
      inspected.append(ImageFile(path, label, image_format, height, width))
  return inspected


def _records(images, class_names, indices):
  for i in indices:
    image = images[i]
    yield example_format.encode_example(
        _read(image.path), image.image_format, image.label, image.height,
        image.width, class_text=class_names[image.label])


def convert(dataset_dir, source_dir, overwrite=False,
            validation_fraction=DEFAULT_VALIDATION_FRACTION,
            num_shards=DEFAULT_NUM_SHARDS, seed=0, skip_undecodable=False):
  """Writes the images of source_dir as splits 'train' and 'validation'.

  Args:
    dataset_dir: where the shards, labels.txt and dataset_info.json go.
    source_dir: one sub-folder of images per class.
    overwrite: replace a dataset already in dataset_dir.
    validation_fraction: share of the images (stratified by class) that go
      to 'validation'; 0 writes only 'train'.
    num_shards: TFRecord files per split.
    seed: seeds the split and the order of the examples.
    skip_undecodable: leave out images that do not decode (with a warning)
      instead of failing.

  Returns:
    The dataset description (as written to dataset_info.json).
  """
  if validation_fraction is None:
    validation_fraction = DEFAULT_VALIDATION_FRACTION
  splitting.check_validation_fraction(validation_fraction)
  writer.check_can_write(dataset_dir, overwrite, num_shards)
  class_names, files = find_images(source_dir)
  images = inspect_images(files, skip_undecodable)
  if not images:
    raise errors.SourceDataError('no image in %s could be decoded.'
                                 % source_dir)
  train, validation = splitting.stratified_split(
      [image.label for image in images],
      splitting.validation_count(len(images), validation_fraction), seed)
  splits = {
      'train': writer.SplitRecords(
          len(train), _records(images, class_names, train)),
      'validation': writer.SplitRecords(
          len(validation), _records(images, class_names, validation)),
  }
  return writer.write_dataset(
      dataset_dir, DATASET_NAME, splits, dict(enumerate(class_names)),
      num_shards, overwrite=overwrite,
      source='image folder %s' % os.path.abspath(source_dir))
