"""`dataset_info.json`: what a converted dataset directory holds.

TFRecord files cannot say how many records they contain without being read
to the end, yet trainers need split sizes up front (epochs, learning-rate
schedules). The converters therefore write, next to the shards and
labels.txt, a small JSON file:

  {
    "format_version": 1,
    "dataset_name": "digits",
    "num_classes": 10,
    "image_format": "png",              # "png", "jpeg" or "mixed"
    "source": "...",                    # where the images came from
    "splits": {
      "train": {
        "num_samples": 1497,
        "files": ["digits_train_00000-of-00002.tfrecord", ...],
        "shard_sizes": [749, 748],      # records per file, same order
        "class_counts": {"0": 148, ...}
      },
      ...
    }
  }

File names are relative to the directory, so a dataset can be moved or
copied as a whole. The file is written last and replaced atomically (see
`slim_resnets.datasets.writer`): a directory with a readable
dataset_info.json holds a
complete dataset.
"""

import json
import os

from slim_resnets.datasets import errors

DATASET_INFO_FILENAME = 'dataset_info.json'
FORMAT_VERSION = 1


def shard_filename(dataset_name, split_name, shard, num_shards):
  """'<dataset>_<split>_<shard:05d>-of-<num_shards:05d>.tfrecord'."""
  return '%s_%s_%05d-of-%05d.tfrecord' % (dataset_name, split_name, shard,
                                          num_shards)


def info_path(dataset_dir):
  return os.path.join(dataset_dir, DATASET_INFO_FILENAME)


def write_dataset_info(info, directory):
  """Writes the dict `info` as directory/dataset_info.json."""
  with open(info_path(directory), 'w', encoding='utf-8') as f:
    json.dump(info, f, indent=2, sort_keys=False)
    f.write('\n')


def _is_plain_name(name):
  """A bare file name: nothing a reader could resolve outside the directory."""
  return (isinstance(name, str) and name not in ('', '.', '..') and
          os.path.basename(name) == name and '/' not in name and
          '\\' not in name)


def read_dataset_info(dataset_dir):
  """Reads and checks dataset_dir/dataset_info.json; returns the dict.

  Raises:
    DatasetNotFoundError: if the file does not exist.
    DatasetError: naming the file, if it is not valid JSON or lacks a field
      readers rely on.
  """
  path = info_path(dataset_dir)
  if not os.path.isfile(path):
    raise errors.DatasetNotFoundError('%s does not exist.' % path)
  try:
    with open(path, encoding='utf-8') as f:
      info = json.load(f)
  except (OSError, ValueError) as e:
    raise errors.DatasetError('cannot read %s: %s' % (path, e)) from e

  def fail(problem):
    raise errors.DatasetError('%s is not a valid dataset description: %s.'
                              % (path, problem))

  if not isinstance(info, dict):
    fail('expected a JSON object')
  for key in ('dataset_name', 'num_classes', 'splits'):
    if key not in info:
      fail('missing "%s"' % key)
  if not isinstance(info['splits'], dict):
    fail('"splits" must map split names to descriptions')
  for split_name, split in info['splits'].items():
    if not isinstance(split, dict) or 'files' not in split or (
        'num_samples' not in split):
      fail('split "%s" needs "files" and "num_samples"' % split_name)
    bad = [n for n in split['files'] if not _is_plain_name(n)]
    if bad:
      fail('split "%s" lists files that are not plain names in the '
           'directory: %s' % (split_name, bad))
    sizes = split.get('shard_sizes')
    if sizes is not None and (len(sizes) != len(split['files']) or
                              sum(sizes) != split['num_samples']):
      fail('split "%s": shard_sizes do not match files and num_samples'
           % split_name)
  return info


def listed_files(info):
  """Every file name a dataset description lists, in split order."""
  return [name for split in info['splits'].values() for name in split['files']]
