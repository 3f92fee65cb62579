"""Registry of datasets: name -> where its splits are and how big they are.

Trainers ask for a split by name:

    split = dataset_factory.get_split('digits', 'train', '/data/digits')
    split.files, split.num_samples, split.num_classes, split.labels_to_names

and hand the `SplitInfo` to `input_pipeline.make_dataset`. Two kinds of
dataset are registered:

* converted here ('digits', 'cifar10', 'image_folder', and for segmentation
  'digit_scenes', 'segmentation_folder' and 'pascal_voc_seg', in DeepLab's
  example format): the converter writes
  dataset_info.json next to the shards, which lists each split's files and
  sizes (see `slim_resnets.datasets.dataset_info`);
* ImageNet as slim's `build_imagenet_data.py` writes it ('imagenet'): files
  `train-00000-of-01024` ... and `validation-00000-of-00128` ..., 1,001
  classes (0 is "background", 1..1000 the synsets, so 1000-class networks
  use labels_offset=1), with the split sizes of ILSVRC-2012 built in. There
  is no converter for it here.

Every failure says what to do about it: an unknown name lists the known
ones, a missing directory names it and the command that creates it, and a
split without records names its files.
"""

import collections
import glob
import os

from slim_resnets.datasets import dataset_info
from slim_resnets.datasets import errors
from slim_resnets.datasets import labels

SplitInfo = collections.namedtuple('SplitInfo', [
    'name', 'split_name', 'files', 'num_samples', 'num_classes',
    'labels_to_names'])

# A registered dataset. `splits` maps split names to (file pattern, size)
# for datasets with a fixed layout, and is None for datasets described by
# their dataset_info.json. `how_to_get` completes "create it with ...".
# task: 'classification' (slim's image examples) or 'segmentation'
# (DeepLab's examples, `segmentation_format`).
DatasetSpec = collections.namedtuple('DatasetSpec', [
    'name', 'description', 'num_classes', 'splits', 'how_to_get', 'task'],
    defaults=['classification'])  # CLASSIFICATION
CLASSIFICATION = 'classification'
SEGMENTATION = 'segmentation'


def _convert_command(name, extra=''):
  return ('python download_and_convert_data.py --dataset_name=%s '
          '--dataset_dir={dataset_dir}%s' % (name, extra))


DATASETS = collections.OrderedDict((spec.name, spec) for spec in [
    DatasetSpec(
        'digits', "scikit-learn's 1,797 8x8 handwritten digits; 'train' "
        "1,497, 'validation' 300", 10, None, _convert_command('digits')),
    DatasetSpec(
        'cifar10', "CIFAR-10, 32x32 RGB; 'train' 50,000, 'test' 10,000", 10,
        None,
        _convert_command('cifar10', ' [--archive=cifar-10-python.tar.gz]')),
    DatasetSpec(
        'image_folder', "your images, one folder per class; 'train' and "
        "'validation'", None, None,
        _convert_command('image_folder', ' --source_dir=YOUR_IMAGES')),
    DatasetSpec(
        'digit_scenes', 'segmentation: scenes of 2-4 handwritten digits on '
        "a 48x48 canvas, 11 classes (0 background, digit + 1), 255 ignored; "
        "'train' 1,000, 'validation' 200", 11, None,
        _convert_command('digit_scenes'), SEGMENTATION),
    DatasetSpec(
        'segmentation_folder', 'segmentation: your images and label masks '
        "(class_names.txt, images/, masks/); 'train' and 'validation'",
        None, None,
        _convert_command('segmentation_folder', ' --source_dir=YOUR_DATA'),
        SEGMENTATION),
    DatasetSpec(
        'pascal_voc_seg', 'segmentation: PASCAL VOC 2012, 21 classes, 255 '
        "ignored; 'train' 1,464, 'val' 1,449, with SBD 'train_aug' 10,582",
        21, None,
        _convert_command('pascal_voc_seg',
                         ' --archive=VOCtrainval_11-May-2012.tar '
                         '[--sbd_archive=benchmark.tgz]'), SEGMENTATION),
    DatasetSpec(
        'imagenet', "ILSVRC-2012 as converted by slim's build_imagenet_data.py"
        "; 'train' 1,281,167, 'validation' 50,000; 1,001 classes with 0 = "
        'background', 1001,
        {'train': ('train-*', 1281167), 'validation': ('validation-*', 50000)},
        "slim's build_imagenet_data.py (TensorFlow models repository, "
        'research/slim/datasets); its train-*/validation-* files belong '
        'directly in {dataset_dir}'),
])


def get_dataset_spec(name):
  """The DatasetSpec of `name`; UnknownDatasetError listing names if none."""
  if name not in DATASETS:
    raise errors.UnknownDatasetError(
        'dataset name %r is unknown; known datasets are: %s.'
        % (name, ', '.join(DATASETS)))
  return DATASETS[name]


def _check_dataset_dir(spec, dataset_dir):
  if not dataset_dir or not os.path.isdir(dataset_dir):
    raise errors.DatasetNotFoundError(
        'dataset directory %r does not exist (dataset %s). Create it with: %s'
        % (dataset_dir, spec.name,
           spec.how_to_get.format(dataset_dir=dataset_dir or 'DIR')))


def _read_labels(dataset_dir):
  return labels.read_labels(dataset_dir) if labels.has_labels(
      dataset_dir) else None


def _unknown_split(spec, split_name, split_names, dataset_dir):
  return errors.UnknownSplitError(
      'dataset %s in %s has no split %r; its splits are: %s.'
      % (spec.name, dataset_dir, split_name, ', '.join(split_names)))


def _glob(dataset_dir, file_pattern, split_name):
  if '%s' in file_pattern:
    file_pattern = file_pattern % split_name
  pattern = os.path.join(dataset_dir, file_pattern)
  files = sorted(f for f in glob.glob(pattern) if os.path.isfile(f))
  if not files:
    raise errors.EmptySplitError('split %s: no files match %s.'
                                 % (split_name, pattern))
  return files


def _check_not_empty(split_name, files, num_samples):
  """Fails on missing files, and on a split that holds no records.

  A TFRecord file without records is empty (zero bytes), so this needs no
  reading.
  """
  missing = [f for f in files if not os.path.isfile(f)]
  if missing:
    raise errors.EmptySplitError(
        'split %s: %d of its files are missing: %s. Convert the dataset '
        'again (with --overwrite).' % (split_name, len(missing),
                                       ', '.join(missing)))
  if num_samples == 0 or all(os.path.getsize(f) == 0 for f in files):
    raise errors.EmptySplitError('split %s has no records; its files are: %s.'
                                 % (split_name, ', '.join(files)))


def _fixed_layout_split(spec, split_name, dataset_dir, file_pattern):
  if split_name not in spec.splits:
    raise _unknown_split(spec, split_name, spec.splits, dataset_dir)
  default_pattern, num_samples = spec.splits[split_name]
  files = _glob(dataset_dir, file_pattern or default_pattern, split_name)
  _check_not_empty(split_name, files, None)
  return SplitInfo(spec.name, split_name, files, num_samples,
                   spec.num_classes, _read_labels(dataset_dir))


def _read_info(spec, dataset_dir):
  """dataset_dir's dataset_info.json, checked to describe dataset `spec`."""
  try:
    info = dataset_info.read_dataset_info(dataset_dir)
  except errors.DatasetNotFoundError:
    raise errors.DatasetNotFoundError(
        '%s holds no converted dataset (no %s). Create it with: %s'
        % (dataset_dir, dataset_info.DATASET_INFO_FILENAME,
           spec.how_to_get.format(dataset_dir=dataset_dir))) from None
  if info['dataset_name'] != spec.name:
    raise errors.DatasetError(
        '%s holds the %r dataset, not %r; ask for dataset %r or convert %s '
        'into another directory.' % (dataset_dir, info['dataset_name'],
                                     spec.name, info['dataset_name'],
                                     spec.name))
  return info


def _described_split(spec, split_name, dataset_dir, file_pattern):
  info = _read_info(spec, dataset_dir)
  if split_name not in info['splits']:
    raise _unknown_split(spec, split_name, info['splits'], dataset_dir)
  split = info['splits'][split_name]
  listed = [os.path.join(dataset_dir, name) for name in split['files']]
  if file_pattern is None:
    files, num_samples = listed, split['num_samples']
  else:
    # Sizes of listed shards are known; anything else has to be counted.
    # (Imported here: reading needs TensorFlow, the registry does not, so
    # the command line can reject a bad dataset name without loading it.)
    from slim_resnets.datasets import tfrecords  # pylint: disable=g-import-not-at-top
    sizes = dict(zip(listed, split.get('shard_sizes') or []))
    files = _glob(dataset_dir, file_pattern, split_name)
    with tfrecords.RecordReader() as reader:
      num_samples = sum(sizes[f] if f in sizes else reader.count(f)
                        for f in files)
  _check_not_empty(split_name, files, num_samples)
  return SplitInfo(spec.name, split_name, files, num_samples,
                   info['num_classes'], _read_labels(dataset_dir))


def check_task(name, task):
  """Raises UnknownDatasetError unless dataset `name` is for `task`
  ('classification' or 'segmentation'), naming the datasets that are."""
  spec = get_dataset_spec(name)
  if spec.task != task:
    fitting = [n for n, s in DATASETS.items() if s.task == task]
    raise errors.UnknownDatasetError(
        'dataset %s is a %s dataset, and this job needs a %s one: %s.'
        % (name, spec.task, task, ', '.join(fitting)))


def get_split(name, split_name, dataset_dir, file_pattern=None, task=None):
  """Describes one split of a dataset on disk.

  Args:
    name: a registered dataset name (see DATASETS).
    split_name: e.g. 'train', 'validation', 'test'.
    dataset_dir: the directory the shards are in.
    file_pattern: optional glob, relative to dataset_dir, selecting the files
      to read instead of the split's own ('%s' stands for split_name). For
      converted datasets num_samples then counts the selected files; for
      ImageNet it stays the full split's size.
    task: when given, the dataset must be for this task (`check_task`).

  Returns:
    SplitInfo(name, split_name, files, num_samples, num_classes,
    labels_to_names): files as full paths; labels_to_names from labels.txt,
    or None when the directory has none.

  Raises:
    UnknownDatasetError / UnknownSplitError (ValueErrors): listing the valid
      names.
    DatasetNotFoundError: dataset_dir, or the dataset in it, is missing; the
      message says how to create it.
    EmptySplitError: the split's files are missing or hold no records.
    DatasetError: dataset_info.json is unreadable or describes another
      dataset.
  """
  spec = get_dataset_spec(name)
  if task is not None:
    check_task(name, task)
  _check_dataset_dir(spec, dataset_dir)
  if spec.splits is not None:
    return _fixed_layout_split(spec, split_name, dataset_dir, file_pattern)
  return _described_split(spec, split_name, dataset_dir, file_pattern)


def split_names(name, dataset_dir):
  """The split names of dataset `name` in dataset_dir (for verification)."""
  spec = get_dataset_spec(name)
  if spec.splits is not None:
    return list(spec.splits)
  _check_dataset_dir(spec, dataset_dir)
  return list(_read_info(spec, dataset_dir)['splits'])
