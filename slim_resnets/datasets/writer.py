"""Writing a converted dataset: sharded, atomic, never clobbering by accident.

A conversion either produces a complete dataset or changes nothing:

1. Before any work, `check_can_write` refuses a directory that already holds
   a dataset unless `overwrite` is set, so a long conversion cannot end by
   silently replacing data someone trains on.
2. Shards, labels.txt and dataset_info.json are written into a hidden staging
   directory inside dataset_dir (`.tmp-<name>-XXXX`), on the same filesystem
   so that moving them in is a rename.
3. Only when everything is written are the old dataset's files (those its
   dataset_info.json lists, its labels.txt and dataset_info.json) moved
   aside into `.old-XXXX`, the new ones renamed in, dataset_info.json last,
   and the old ones deleted. If a rename fails, the moves are undone.

Each step is a rename within one directory, so readers never see a shard
half-written; between the moves a reader may find no dataset_info.json,
never a description of files that are not there yet. A process killed
outright (power loss, kill -9) can leave a hidden `.tmp-`/`.old-` directory
behind, which is safe to delete.

On any error (including Ctrl-C) the staging directory is removed, and a
dataset_dir this call created is removed again when it is left empty. Files
in dataset_dir that are not part of the old dataset (a train directory,
notes, the downloaded archive) are never touched.
"""

import collections
import os
import shutil
import tempfile

import tensorflow.compat.v1 as tf

from slim_resnets import progress as progress_lib
from slim_resnets.datasets import dataset_info
from slim_resnets.datasets import errors
from slim_resnets.datasets import example_format
from slim_resnets.datasets import labels

# The records of one split: how many, and an iterable of serialized examples
# (typically a generator, so images are encoded while shards are written).
SplitRecords = collections.namedtuple('SplitRecords',
                                      ['num_records', 'records'])

_STAGING_PREFIX = '.tmp-'
_BACKUP_PREFIX = '.old-'


def shard_sizes(num_records, num_shards):
  """Records per shard: as even as possible, first shards larger, none empty.

  A split smaller than `num_shards` gets one shard per record.
  """
  if num_records < 1:
    return []
  num_shards = max(1, min(num_shards, num_records))
  base, extra = divmod(num_records, num_shards)
  return [base + 1 if i < extra else base for i in range(num_shards)]


def _replaced_files(dataset_dir):
  """The files an overwrite removes: the old dataset's own, nothing else.

  dataset_info.json, labels.txt and the shards dataset_info.json lists.
  """
  if not os.path.isdir(dataset_dir):
    return set()
  names = {n for n in (dataset_info.DATASET_INFO_FILENAME,
                       labels.LABELS_FILENAME)
           if os.path.isfile(os.path.join(dataset_dir, n))}
  try:
    info = dataset_info.read_dataset_info(dataset_dir)
  except errors.DatasetError:
    return names
  return names | {n for n in dataset_info.listed_files(info)
                  if os.path.isfile(os.path.join(dataset_dir, n))}


def existing_dataset_files(dataset_dir):
  """Names of the files that make dataset_dir count as holding a dataset.

  Those an overwrite replaces (see _replaced_files) and, to be safe, any
  `*.tfrecord` file: data written by another tool is not silently mixed
  with a new dataset. An overwrite leaves such files in place, though,
  since no description says they belong to the old dataset.
  """
  names = _replaced_files(dataset_dir)
  if os.path.isdir(dataset_dir):
    names.update(n for n in os.listdir(dataset_dir) if n.endswith(
        '.tfrecord') and os.path.isfile(os.path.join(dataset_dir, n)))
  return sorted(names)


def check_can_write(dataset_dir, overwrite, num_shards=1):
  """Fails unless a dataset may be written to dataset_dir.

  Converters call this before any slow work (downloading, decoding), and
  write_dataset again before writing.

  Raises:
    InvalidOptionError: num_shards is not a positive integer.
    DatasetExistsError: naming the directory, its dataset files and the
      --overwrite flag, when it holds a dataset and overwrite is False.
    DatasetError: when dataset_dir exists but is not a directory.
  """
  if (isinstance(num_shards, bool) or not isinstance(num_shards, int) or
      num_shards < 1):
    raise errors.InvalidOptionError(
        'num_shards must be a positive integer; got %r.' % (num_shards,))
  if not dataset_dir:
    raise errors.InvalidOptionError('dataset_dir must name a directory.')
  if os.path.exists(dataset_dir) and not os.path.isdir(dataset_dir):
    raise errors.DatasetError('dataset_dir %s exists and is not a directory.'
                              % dataset_dir)
  existing = existing_dataset_files(dataset_dir)
  if existing and not overwrite:
    shown = ', '.join(existing[:5]) + (', ...' if len(existing) > 5 else '')
    raise errors.DatasetExistsError(
        '%s already holds a dataset (%d files: %s). Pass --overwrite '
        '(overwrite=True) to replace it; nothing was changed.'
        % (dataset_dir, len(existing), shown))


def count_classification_record(record):
  """({label: 1}, image format) of a slim classification example.

  Raises a ValueError when the record is not one (see
  `example_format.check_example`).
  """
  fields = example_format.check_example(record)
  return {fields.label: 1}, fields.image_format


def _write_split(directory, dataset_name, split_name, split, num_shards,
                 class_counts, formats, count_record):
  """Writes one split's shards into directory; returns (files, sizes)."""
  sizes = shard_sizes(split.num_records, num_shards)
  files = [dataset_info.shard_filename(dataset_name, split_name, i, len(sizes))
           for i in range(len(sizes))]
  records = iter(split.records)
  progress = progress_lib.Progress(
      'Writing %s/%s' % (dataset_name, split_name), split.num_records,
      'records')
  for name, size in zip(files, sizes):
    with tf.io.TFRecordWriter(os.path.join(directory, name)) as shard:
      for _ in range(size):
        try:
          record = next(records)
        except StopIteration:
          raise errors.DatasetError(
              'split %s yielded fewer records than the %d announced.'
              % (split_name, split.num_records)) from None
        counts, image_format = count_record(record)
        class_counts.update(counts)
        formats.add(image_format)
        shard.write(record)
        progress.add()
  if next(records, None) is not None:
    raise errors.DatasetError('split %s yielded more records than the %d '
                              'announced.' % (split_name, split.num_records))
  progress.finish()
  return files, sizes


def _write_all(directory, dataset_name, splits, labels_to_names, num_shards,
               source, count_record):
  """Writes the whole dataset into directory; returns its description."""
  info = collections.OrderedDict([
      ('format_version', dataset_info.FORMAT_VERSION),
      ('dataset_name', dataset_name),
      ('num_classes', len(labels_to_names)),
      ('image_format', None),
      ('source', source),
      ('splits', collections.OrderedDict()),
  ])
  formats = set()
  for split_name, split in splits.items():
    if split.num_records < 1:
      continue
    class_counts = collections.Counter()
    files, sizes = _write_split(directory, dataset_name, split_name, split,
                                num_shards, class_counts, formats,
                                count_record)
    info['splits'][split_name] = collections.OrderedDict([
        ('num_samples', split.num_records),
        ('files', files),
        ('shard_sizes', sizes),
        ('class_counts', {str(k): class_counts[k]
                          for k in sorted(class_counts)}),
    ])
  if not info['splits']:
    raise errors.SourceDataError('%s: there are no images to write.'
                                 % dataset_name)
  info['image_format'] = formats.pop() if len(formats) == 1 else 'mixed'
  labels.write_labels(labels_to_names, directory)
  dataset_info.write_dataset_info(info, directory)
  return info


def _commit(staging, dataset_dir, overwrite):
  """Moves the staged dataset into dataset_dir, replacing the old one."""
  if not overwrite:  # Another conversion may have finished meanwhile.
    check_can_write(dataset_dir, overwrite)
  new = sorted(os.listdir(staging), key=lambda n: (
      n == dataset_info.DATASET_INFO_FILENAME, n))
  # Anything a new file replaces is moved aside as well, so that a failed
  # commit can put it back.
  old = sorted(_replaced_files(dataset_dir) | {
      n for n in new if os.path.exists(os.path.join(dataset_dir, n))})
  backup = tempfile.mkdtemp(prefix=_BACKUP_PREFIX, dir=dataset_dir)
  moved_old, moved_new = [], []
  try:
    for name in old:
      os.replace(os.path.join(dataset_dir, name), os.path.join(backup, name))
      moved_old.append(name)
    for name in new:
      os.replace(os.path.join(staging, name), os.path.join(dataset_dir, name))
      moved_new.append(name)
  except BaseException:
    for name in moved_new:
      os.replace(os.path.join(dataset_dir, name), os.path.join(staging, name))
    for name in moved_old:
      os.replace(os.path.join(backup, name), os.path.join(dataset_dir, name))
    shutil.rmtree(backup, ignore_errors=True)
    raise
  shutil.rmtree(backup, ignore_errors=True)


def write_dataset(dataset_dir, dataset_name, splits, labels_to_names,
                  num_shards, overwrite=False, source=None,
                  count_record=count_classification_record):
  """Writes a complete dataset into dataset_dir, atomically.

  Args:
    dataset_dir: directory to hold the dataset; created if missing.
    dataset_name: used in shard names and dataset_info.json.
    splits: dict split name -> SplitRecords, in the order to describe them.
      Splits with no records are left out of the dataset.
    labels_to_names: dict class id -> class name, for labels.txt.
    num_shards: files per split (fewer for splits with fewer records).
    overwrite: replace a dataset already in dataset_dir.
    source: a line for dataset_info.json saying where the data came from.
    count_record: checks one serialized record and returns ({class id:
      count}, image format); the counts add up to the split's
      `class_counts` (images per class for classification, pixels per class
      for segmentation). Raises a ValueError for a record of another kind.

  Returns:
    The description written to dataset_info.json (a dict).

  Raises:
    DatasetExistsError: dataset_dir holds a dataset and overwrite is False.
    Whatever producing the records raises; dataset_dir is then unchanged.
  """
  check_can_write(dataset_dir, overwrite, num_shards)
  created = not os.path.isdir(dataset_dir)
  os.makedirs(dataset_dir, exist_ok=True)
  staging = None
  try:
    staging = tempfile.mkdtemp(prefix=_STAGING_PREFIX + dataset_name + '-',
                               dir=dataset_dir)
    info = _write_all(staging, dataset_name, splits, labels_to_names,
                      num_shards, source, count_record)
    _commit(staging, dataset_dir, overwrite)
  except BaseException:
    if staging is not None:
      shutil.rmtree(staging, ignore_errors=True)
    if created:
      try:
        os.rmdir(dataset_dir)  # Only succeeds when nothing else is there.
      except OSError:
        pass
    raise
  os.rmdir(staging)
  return info
