"""Converts the CIFAR-10 python archive to slim TFRecords.

The archive (`cifar-10-python.tar.gz`, 163 MiB, from the authors' page)
holds a folder `cifar-10-batches-py/` with pickled dicts:

  data_batch_1 .. data_batch_5   b'data': uint8 [10000, 3072], b'labels'
  test_batch                     the same, 10,000 test images
  batches.meta                   b'label_names': the 10 class names

Each row of b'data' is one 32x32 image stored channel by channel: 1024 red
values (row-major), then 1024 green, then 1024 blue; `to_images` turns rows
into [32, 32, 3] RGB arrays. Images are written as RGB PNGs (lossless), the
training batches in their archive order as split 'train' (50,000) and the
test batch as split 'test' (10,000).

The pickles are read with an unpickler that only accepts the numpy arrays,
lists and dicts this format consists of, so an archive from elsewhere cannot
run code.
"""

import os
import pickle
import re
import shutil
import tarfile
import urllib.error
import urllib.request

from absl import logging
import numpy as np

from slim_resnets.datasets import errors
from slim_resnets.datasets import example_format
from slim_resnets.datasets import image_codec
from slim_resnets.datasets import writer

DATASET_NAME = 'cifar10'
URL = 'https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz'
ARCHIVE_NAME = 'cifar-10-python.tar.gz'
ARCHIVE_FOLDER = 'cifar-10-batches-py'
IMAGE_SIZE = 32
DEFAULT_NUM_SHARDS = 5

_TRAIN_BATCH = re.compile(r'%s/(data_batch_(\d+))$' % re.escape(ARCHIVE_FOLDER))
_TEST_BATCH = 'test_batch'
_META = 'batches.meta'


def to_images(data):
  """uint8 rows [N, 3072] (channel-major) -> uint8 images [N, 32, 32, 3]."""
  data = np.asarray(data, np.uint8)
  return data.reshape(-1, 3, IMAGE_SIZE, IMAGE_SIZE).transpose(0, 2, 3, 1)


class _ArrayUnpickler(pickle.Unpickler):
  """Unpickles plain containers and numpy arrays, nothing else."""

  # Python 3 writes bytes into protocol-2 pickles via _codecs.encode (the
  # original archive was pickled by Python 2, which does not).
  _ALLOWED = {
      ('_codecs', 'encode'), ('numpy', 'ndarray'), ('numpy', 'dtype'),
      ('numpy.core.multiarray', '_reconstruct'),
      ('numpy._core.multiarray', '_reconstruct'),
      ('numpy.core.multiarray', 'scalar'),
      ('numpy._core.multiarray', 'scalar'),
  }

  def find_class(self, module, name):
    if (module, name) not in self._ALLOWED:
      raise pickle.UnpicklingError('%s.%s is not allowed in CIFAR-10 data'
                                   % (module, name))
    return super().find_class(module, name)


def _unpickle(archive, member):
  source = '%s:%s' % (archive.name, member.name)
  try:
    with archive.extractfile(member) as f:
      return _ArrayUnpickler(f, encoding='bytes').load()
  except (pickle.UnpicklingError, EOFError, ValueError, TypeError,
          AttributeError, tarfile.TarError, OSError) as e:
    raise errors.SourceDataError('cannot read %s: %s' % (source, e)) from e


def _read_batch(archive, member):
  """(images [N, 32, 32, 3], int64 labels [N]) of one batch member."""
  source = '%s:%s' % (archive.name, member.name)
  batch = _unpickle(archive, member)
  if not isinstance(batch, dict) or b'data' not in batch or (
      b'labels' not in batch):
    raise errors.SourceDataError('%s is not a CIFAR-10 batch (a dict with '
                                 "b'data' and b'labels')." % source)
  data = np.asarray(batch[b'data'])
  labels = np.asarray(batch[b'labels'], np.int64)
  if data.ndim != 2 or data.shape[1] != 3 * IMAGE_SIZE * IMAGE_SIZE or (
      data.dtype != np.uint8):
    raise errors.SourceDataError(
        "%s: b'data' must be uint8 [N, 3072]; got %s %s."
        % (source, data.dtype, data.shape))
  if labels.shape != (data.shape[0],) or (
      labels.size and (labels.min() < 0 or labels.max() > 9)):
    raise errors.SourceDataError(
        "%s: b'labels' must hold %d class ids in 0..9."
        % (source, data.shape[0]))
  return to_images(data), labels


def read_archive(archive_path):
  """Reads a CIFAR-10 python archive.

  Returns:
    (dict split name -> (images uint8 [N, 32, 32, 3], labels int64 [N]),
     list of the 10 class names).

  Raises:
    SourceDataError: naming the archive (and member) when it is missing,
      not a tar archive, or lacks a batch or the metadata.
  """
  if not os.path.isfile(archive_path):
    raise errors.SourceDataError('CIFAR-10 archive %s does not exist.'
                                 % archive_path)
  try:
    archive = tarfile.open(archive_path, 'r:*')
  except (tarfile.TarError, OSError) as e:
    raise errors.SourceDataError('%s is not a readable tar archive: %s'
                                 % (archive_path, e)) from e
  with archive:
    members = {m.name: m for m in archive.getmembers() if m.isfile()}

    def member(name):
      path = '%s/%s' % (ARCHIVE_FOLDER, name)
      if path not in members:
        raise errors.SourceDataError(
            '%s has no %s; is it the CIFAR-10 *python* version (%s)?'
            % (archive_path, path, ARCHIVE_NAME))
      return members[path]

    matches = [_TRAIN_BATCH.match(name) for name in members]
    train_names = sorted((int(m.group(2)), m.group(1)) for m in matches if m)
    if not train_names:
      member('data_batch_1')  # Raises, naming what is missing.
    train = [_read_batch(archive, member(name)) for _, name in train_names]
    test = _read_batch(archive, member(_TEST_BATCH))
    meta = _unpickle(archive, member(_META))
    names = meta.get(b'label_names') if isinstance(meta, dict) else None
    if not isinstance(names, list) or len(names) != 10:
      raise errors.SourceDataError(
          "%s:%s/%s must hold b'label_names', a list of 10 names."
          % (archive_path, ARCHIVE_FOLDER, _META))
    class_names = [n.decode('utf-8') if isinstance(n, bytes) else str(n)
                   for n in names]
  splits = {
      'train': (np.concatenate([images for images, _ in train]),
                np.concatenate([labels for _, labels in train])),
      'test': test,
  }
  return splits, class_names


def download(url, archive_path, timeout=60):
  """Downloads url to archive_path (via a .part file); returns the path.

  Raises:
    DownloadError: when the download fails (offline, proxy, HTTP error),
      telling the user to fetch the archive and pass --archive.
  """
  partial = archive_path + '.part'
  logging.info('Downloading %s to %s', url, archive_path)
  try:
    with urllib.request.urlopen(url, timeout=timeout) as response, open(
        partial, 'wb') as f:
      shutil.copyfileobj(response, f)
  except (urllib.error.URLError, OSError, ValueError) as e:
    if os.path.exists(partial):
      os.remove(partial)
    raise errors.DownloadError(
        'could not download %s (%s). Download it on a machine with internet '
        'access and pass --archive=PATH/%s.' % (url, e, ARCHIVE_NAME)) from e
  os.replace(partial, archive_path)
  return archive_path


def _records(codec, images, labels, class_names):
  for image, label in zip(images, labels):
    yield example_format.encode_example(
        codec.encode_png(image), 'png', int(label), IMAGE_SIZE, IMAGE_SIZE,
        class_text=class_names[label])


def convert(dataset_dir, archive=None, overwrite=False,
            num_shards=DEFAULT_NUM_SHARDS, url=URL):
  """Writes CIFAR-10 (splits 'train' and 'test') to dataset_dir.

  Args:
    dataset_dir: where the shards, labels.txt and dataset_info.json go.
    archive: path of cifar-10-python.tar.gz. When None, dataset_dir/
      cifar-10-python.tar.gz is used if present, else downloaded there from
      `url` (and kept, so that a later conversion need not download again).
    overwrite: replace a dataset already in dataset_dir.
    num_shards: TFRecord files per split.
    url: where to download the archive from.

  Returns:
    The dataset description (as written to dataset_info.json).
  """
  writer.check_can_write(dataset_dir, overwrite, num_shards)
  if archive is None:
    archive = os.path.join(dataset_dir, ARCHIVE_NAME)
    if not os.path.isfile(archive):
      created = not os.path.isdir(dataset_dir)
      os.makedirs(dataset_dir, exist_ok=True)
      try:
        download(url, archive)
      except errors.DownloadError:
        if created:
          os.rmdir(dataset_dir)
        raise
  splits, class_names = read_archive(archive)
  with image_codec.ImageCodec() as codec:
    records = {
        name: writer.SplitRecords(
            len(labels), _records(codec, images, labels, class_names))
        for name, (images, labels) in splits.items()
    }
    return writer.write_dataset(
        dataset_dir, DATASET_NAME, records, dict(enumerate(class_names)),
        num_shards, overwrite=overwrite,
        source='CIFAR-10 python archive %s' % os.path.abspath(archive))
