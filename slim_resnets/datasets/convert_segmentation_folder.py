"""Converts a folder of images and label masks to DeepLab's TFRecords.

The layout:

  source_dir/
    class_names.txt   one class name per line; line 1 is class 0
    images/           street_001.jpg  street_002.png  ...
    masks/            street_001.png  street_002.png  ...

Each image in images/ (.jpg, .jpeg or .png, any case) needs the mask of
the same name stem in masks/, a PNG of class ids (palette or 1-channel; see
`label_masks`) of the image's size, whose values are classes of
class_names.txt or 255, the ignore label. Anything else stops the
conversion before a dataset is published, with an error naming the file:
an image without mask, a mask without image (usually a misspelt name), a
mask of another size, a value outside the classes. Hidden files are
ignored.

Images are stored as the bytes of their files; masks as 1-channel PNGs of
the ids. A seeded random `validation_fraction` of the pairs becomes the
'validation' split, the rest 'train'.
"""

import os

import numpy as np

from slim_resnets.datasets import errors
from slim_resnets.datasets import image_codec
from slim_resnets.datasets import label_masks
from slim_resnets.datasets import segmentation_format
from slim_resnets.datasets import splitting
from slim_resnets.datasets import writer

DATASET_NAME = 'segmentation_folder'
CLASS_NAMES_FILENAME = 'class_names.txt'
IMAGES_DIRNAME = 'images'
MASKS_DIRNAME = 'masks'
IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png')
DEFAULT_VALIDATION_FRACTION = 0.1
DEFAULT_NUM_SHARDS = 4
_LISTED = 5  # names listed in an error before "and N more"


def read_class_names(source_dir):
  """The class names of source_dir/class_names.txt, in id order."""
  path = os.path.join(source_dir, CLASS_NAMES_FILENAME)
  if not os.path.isfile(path):
    raise errors.SourceDataError(
        '%s is missing; write one class name per line (line 1 is class 0, '
        'usually background).' % path)
  with open(path, encoding='utf-8') as f:
    names = [line.strip() for line in f if line.strip()]
  if len(names) < 2:
    raise errors.SourceDataError(
        '%s lists %d class(es); segmentation needs at least 2 (for example '
        'background and one object class).' % (path, len(names)))
  if len(names) > segmentation_format.IGNORE_LABEL:
    raise errors.SourceDataError(
        '%s lists %d classes; at most %d fit, as id %d is the ignore label.'
        % (path, len(names), segmentation_format.IGNORE_LABEL,
           segmentation_format.IGNORE_LABEL))
  return names


def _files(directory, extensions):
  if not os.path.isdir(directory):
    raise errors.SourceDataError('%s is missing; see the layout in '
                                 'convert_segmentation_folder.' % directory)
  return {os.path.splitext(name)[0]: os.path.join(directory, name)
          for name in sorted(os.listdir(directory))
          if not name.startswith('.') and name.lower().endswith(extensions)
          and os.path.isfile(os.path.join(directory, name))}


def _some(names):
  names = sorted(names)
  listed = ', '.join(names[:_LISTED])
  if len(names) > _LISTED:
    listed += ' and %d more' % (len(names) - _LISTED)
  return listed


def find_pairs(source_dir):
  """[(stem, image path, mask path)] sorted by stem.

  Raises:
    SourceDataError: for a missing source_dir, images/ or masks/, no
      images, or names that do not pair up.
  """
  if not os.path.isdir(source_dir):
    raise errors.SourceDataError(
        'source_dir %s does not exist or is not a directory; it should hold '
        '%s, %s/ and %s/.' % (source_dir, CLASS_NAMES_FILENAME,
                              IMAGES_DIRNAME, MASKS_DIRNAME))
  images_dir = os.path.join(source_dir, IMAGES_DIRNAME)
  masks_dir = os.path.join(source_dir, MASKS_DIRNAME)
  images = _files(images_dir, IMAGE_EXTENSIONS)
  masks = _files(masks_dir, ('.png',))
  if not images:
    raise errors.SourceDataError('%s holds no images (%s).' % (
        images_dir, '/'.join(IMAGE_EXTENSIONS)))
  missing = sorted(set(images) - set(masks))
  if missing:
    raise errors.SourceDataError(
        '%d image(s) have no mask: %s; each needs %s/<same name>.png (for '
        'example %s).' % (len(missing), _some(images[s] for s in missing),
                          masks_dir, os.path.join(masks_dir,
                                                  missing[0] + '.png')))
  orphans = sorted(set(masks) - set(images))
  if orphans:
    raise errors.SourceDataError(
        '%d mask(s) have no image: %s; check the names against %s/.'
        % (len(orphans), _some(masks[s] for s in orphans), images_dir))
  return [(stem, images[stem], masks[stem]) for stem in sorted(images)]


def _read(path):
  with open(path, 'rb') as f:
    return f.read()


def _records(pair_maker, pairs, indices):
  for i in indices:
    stem, image_path, mask_path = pairs[i]
    mask = label_masks.read_mask(_read(mask_path), mask_path)
    yield pair_maker.encode(_read(image_path), image_path, mask, mask_path,
                            filename=stem)


def convert(dataset_dir, source_dir, overwrite=False,
            validation_fraction=DEFAULT_VALIDATION_FRACTION,
            num_shards=DEFAULT_NUM_SHARDS, seed=0):
  """Writes the pairs of source_dir as splits 'train' and 'validation'.

  Args:
    dataset_dir: where the shards, labels.txt and dataset_info.json go.
    source_dir: class_names.txt, images/ and masks/ (see the module doc).
    overwrite: replace a dataset already in dataset_dir.
    validation_fraction: share of the pairs that go to 'validation' (a
      seeded random draw); 0 writes only 'train'.
    num_shards: TFRecord files per split.
    seed: seeds the split.

  Returns:
    The dataset description (as written to dataset_info.json), whose
    class_counts are labelled pixels per class.
  """
  if validation_fraction is None:
    validation_fraction = DEFAULT_VALIDATION_FRACTION
  splitting.check_validation_fraction(validation_fraction)
  writer.check_can_write(dataset_dir, overwrite, num_shards)
  class_names = read_class_names(source_dir)
  pairs = find_pairs(source_dir)
  num_validation = splitting.validation_count(len(pairs), validation_fraction)
  order = np.random.RandomState(seed).permutation(len(pairs))
  validation = sorted(order[:num_validation])
  train = sorted(order[num_validation:])
  with image_codec.ImageCodec() as codec:
    pair_maker = label_masks.SegmentationPair(codec, len(class_names))
    splits = {'train': writer.SplitRecords(
        len(train), _records(pair_maker, pairs, train))}
    if validation:
      splits['validation'] = writer.SplitRecords(
          len(validation), _records(pair_maker, pairs, validation))
    return writer.write_dataset(
        dataset_dir, DATASET_NAME, splits, dict(enumerate(class_names)),
        num_shards, overwrite=overwrite,
        count_record=segmentation_format.record_counter(
            codec, len(class_names)),
        source='segmentation folder %s' % os.path.abspath(source_dir))
