"""Converts PASCAL VOC 2012 segmentation (and optionally SBD) to TFRecords.

Offline, from the files a user already has:

* `archive`: the official VOCtrainval_11-May-2012.tar (read in place, not
  extracted), or `source_dir`: the folder it extracts to (VOCdevkit/, or
  VOCdevkit/VOC2012/ itself). Used: ImageSets/Segmentation/{train,val}.txt,
  JPEGImages/<id>.jpg and SegmentationClass/<id>.png, palette PNGs whose
  indices are the 21 classes and 255 on object boundaries (ignored).
* optionally `sbd_archive`: the Semantic Boundaries Dataset's benchmark.tgz
  (or the folder it extracts to), whose dataset/cls/<id>.mat label maps of
  11,355 VOC images give DeepLab's augmented training set.

Splits written (DeepLab's names and sizes for the official files):
  train      1,464  VOC train
  val        1,449  VOC val, the benchmark's validation set
  train_aug 10,582  with SBD: VOC train and SBD train + val, without any
                    image of VOC val; where VOC has a mask it is used
                    (it marks boundaries as ignored), else SBD's.

Images are stored as their JPEG bytes, masks as 1-channel PNGs of the class
ids, so shards read like DeepLab's own `build_voc2012_data.py` output. Every
mask is checked against its image (size, values), and an id listed without
its image or mask stops the conversion naming both.
"""

import io
import os
import tarfile

from absl import logging
import numpy as np

from slim_resnets.datasets import errors
from slim_resnets.datasets import image_codec
from slim_resnets.datasets import label_masks
from slim_resnets.datasets import segmentation_format
from slim_resnets.datasets import writer

DATASET_NAME = 'pascal_voc_seg'
CLASS_NAMES = (
    'background', 'aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus',
    'car', 'cat', 'chair', 'cow', 'diningtable', 'dog', 'horse', 'motorbike',
    'person', 'pottedplant', 'sheep', 'sofa', 'train', 'tvmonitor')
NUM_CLASSES = len(CLASS_NAMES)
ARCHIVE_NAME = 'VOCtrainval_11-May-2012.tar'
SBD_ARCHIVE_NAME = 'benchmark.tgz'
DEFAULT_NUM_SHARDS = 4
_VOC_MARKER = 'ImageSets/Segmentation/train.txt'
_SBD_MARKER = 'dataset/train.txt'
_SBD_LABELS = 'dataset/cls/'


class _Files:
  """Read access to the files under one root of a folder or a tar archive.

  A tar is indexed once (member names only); plain tars, like VOC's, are
  read in place by seeking. `root` is found as the directory that holds
  `marker`, so the archive's top folder names do not matter.
  """

  def __init__(self, path, marker, what):
    self._what = what
    self._tar = None
    if os.path.isdir(path):
      self._root = self._find_root_in_dir(path, marker)
    elif os.path.isfile(path):
      try:
        self._tar = tarfile.open(path)
        self._members = {m.name: m for m in self._tar.getmembers()
                         if m.isfile()}
      except (tarfile.TarError, OSError, EOFError) as e:
        raise errors.SourceDataError('%s %s is not a readable tar archive: %s'
                                     % (what, path, e)) from e
      roots = [name[:-len(marker)] for name in self._members
               if name.endswith(marker)]
      if not roots:
        raise errors.SourceDataError(
            '%s %s holds no %s; is it the right archive?'
            % (what, path, marker))
      self._root = sorted(roots, key=len)[0]
    else:
      raise errors.SourceDataError('%s %s does not exist.' % (what, path))
    self._path = path

  def _find_root_in_dir(self, path, marker):
    for directory, _, _ in os.walk(path):
      if os.path.isfile(os.path.join(directory, marker)):
        return directory + os.sep
    raise errors.SourceDataError('%s %s holds no %s; point it at the '
                                 'extracted folder.' % (self._what, path,
                                                        marker))

  def where(self, name):
    """How errors name a file: the path, or archive:member."""
    if self._tar is None:
      return self._root + name
    return '%s:%s' % (self._path, self._root + name)

  def has(self, name):
    if self._tar is None:
      return os.path.isfile(self._root + name)
    return self._root + name in self._members

  def read(self, name):
    if self._tar is None:
      with open(self._root + name, 'rb') as f:
        return f.read()
    return self._tar.extractfile(self._members[self._root + name]).read()

  def read_many(self, names):
    """{name: bytes} of `names`, read in the archive's order: a compressed
    tar (SBD's .tgz) is then decompressed once, not once per backward
    seek."""
    if self._tar is None:
      return {name: self.read(name) for name in names}
    wanted = {self._root + name: name for name in names}
    return {wanted[m.name]: self._tar.extractfile(m).read()
            for m in self._members.values() if m.name in wanted}

  def read_ids(self, name):
    if not self.has(name):
      raise errors.SourceDataError('%s is missing.' % self.where(name))
    return [line.strip() for line in self.read(name).decode().splitlines()
            if line.strip()]

  def close(self):
    if self._tar is not None:
      self._tar.close()


def _load_sbd_mask(data, source):
  """SBD's cls/<id>.mat -> uint8 class ids [H, W]."""
  try:
    from scipy import io as scipy_io  # pylint: disable=g-import-not-at-top
  except ImportError as e:
    raise errors.MissingDependencyError(
        "reading SBD's .mat label maps needs SciPy; install it with pip "
        "install 'slim-resnets[segmentation-data]'.") from e
  try:
    content = scipy_io.loadmat(io.BytesIO(data), squeeze_me=True,
                               struct_as_record=False)
    ids = np.asarray(content['GTcls'].Segmentation)
  except (KeyError, AttributeError, ValueError, TypeError, OSError) as e:
    raise errors.SourceDataError('%s is not an SBD class label map '
                                 '(GTcls.Segmentation): %s' % (source, e)
                                 ) from e
  if ids.ndim != 2 or (ids.size and ids.max() > 255):
    raise errors.SourceDataError('%s: GTcls.Segmentation is not a 2-D map '
                                 'of class ids.' % source)
  return ids.astype(np.uint8)


class _Source:
  """Where each image id's JPEG and mask come from."""

  def __init__(self, voc, sbd_masks):
    self.voc = voc
    self.sbd_masks = sbd_masks  # {image id: (.mat bytes, where)}

  def image(self, image_id):
    name = 'JPEGImages/%s.jpg' % image_id
    if not self.voc.has(name):
      raise errors.SourceDataError(
          'image %s is listed but %s is missing.' % (image_id,
                                                     self.voc.where(name)))
    return self.voc.read(name), self.voc.where(name)

  def mask(self, image_id):
    name = 'SegmentationClass/%s.png' % image_id
    if self.voc.has(name):
      return (label_masks.read_mask(self.voc.read(name), self.voc.where(name)),
              self.voc.where(name))
    if image_id in self.sbd_masks:
      data, where = self.sbd_masks[image_id]
      return _load_sbd_mask(data, where), where
    raise errors.SourceDataError(
        'image %s is listed but its mask %s is missing.'
        % (image_id, self.voc.where(name)))


def _sbd_masks(voc, sbd, image_ids, sbd_ids):
  """{id: (.mat bytes, where)} for the ids whose mask must come from SBD
  (no VOC mask); an id SBD lists without its file is an error."""
  needed = {'%s%s.mat' % (_SBD_LABELS, i): i for i in image_ids
            if i in sbd_ids and
            not voc.has('SegmentationClass/%s.png' % i)}
  missing = sorted(name for name in needed if not sbd.has(name))
  if missing:
    raise errors.SourceDataError(
        'SBD lists %d image(s) without label map, for example %s.'
        % (len(missing), sbd.where(missing[0])))
  return {needed[name]: (data, sbd.where(name))
          for name, data in sbd.read_many(needed).items()}


def _records(source, pair_maker, image_ids):
  for image_id in image_ids:
    image_bytes, image_source = source.image(image_id)
    mask, mask_source = source.mask(image_id)
    yield pair_maker.encode(image_bytes, image_source, mask, mask_source,
                            filename=image_id)


def train_aug_ids(voc_train, voc_val, sbd_train, sbd_val):
  """DeepLab's augmented training ids: VOC train and all of SBD, less VOC
  val, sorted."""
  return sorted((set(voc_train) | set(sbd_train) | set(sbd_val)) -
                set(voc_val))


def convert(dataset_dir, archive=None, source_dir=None, sbd_archive=None,
            overwrite=False, num_shards=DEFAULT_NUM_SHARDS):
  """Writes VOC 2012's segmentation splits (and train_aug) to dataset_dir.

  Args:
    dataset_dir: where the shards, labels.txt and dataset_info.json go.
    archive: VOCtrainval_11-May-2012.tar, or
    source_dir: the folder it was extracted to (exactly one of the two).
    sbd_archive: optional benchmark.tgz of SBD, or its extracted folder;
      adds the 'train_aug' split.
    overwrite: replace a dataset already in dataset_dir.
    num_shards: TFRecord files per split.

  Returns:
    The dataset description (as written to dataset_info.json), whose
    class_counts are labelled pixels per class.
  """
  if (archive is None) == (source_dir is None):
    raise errors.InvalidOptionError(
        '%s needs exactly one of --archive (%s, read in place) and '
        '--source_dir (the folder it extracts to).' % (DATASET_NAME,
                                                       ARCHIVE_NAME))
  writer.check_can_write(dataset_dir, overwrite, num_shards)
  voc = _Files(archive or source_dir, _VOC_MARKER, 'VOC 2012')
  sbd = None
  try:
    ids = {split: voc.read_ids('ImageSets/Segmentation/%s.txt' % split)
           for split in ('train', 'val')}
    sbd_masks = {}
    if sbd_archive is not None:
      sbd = _Files(sbd_archive, _SBD_MARKER, 'SBD')
      sbd_lists = [sbd.read_ids('dataset/%s.txt' % s) for s in ('train',
                                                                 'val')]
      ids['train_aug'] = train_aug_ids(ids['train'], ids['val'], *sbd_lists)
      sbd_masks = _sbd_masks(voc, sbd, ids['train_aug'],
                             set(sbd_lists[0]) | set(sbd_lists[1]))
      logging.info('train_aug: %d images, %d of them with SBD masks.',
                   len(ids['train_aug']), len(sbd_masks))
    source = _Source(voc, sbd_masks)
    with image_codec.ImageCodec() as codec:
      pair_maker = label_masks.SegmentationPair(codec, NUM_CLASSES)
      splits = {name: writer.SplitRecords(len(split_ids), _records(
          source, pair_maker, split_ids)) for name, split_ids in ids.items()}
      return writer.write_dataset(
          dataset_dir, DATASET_NAME, splits, dict(enumerate(CLASS_NAMES)),
          num_shards, overwrite=overwrite,
          count_record=segmentation_format.record_counter(codec,
                                                          NUM_CLASSES),
          source='PASCAL VOC 2012 %s%s' % (
              os.path.abspath(archive or source_dir),
              ' + SBD %s' % os.path.abspath(sbd_archive) if sbd_archive
              else ''))
  finally:
    voc.close()
    if sbd is not None:
      sbd.close()
