"""Checks that a split's files can be read to the end before training on them.

A shard truncated by a full disk or an interrupted copy fails only when the
input pipeline reaches it, possibly hours into training, with an error that
does not say which file. `verify_split` reads every record of every file up
front and fails on the first problem, naming the file and record index:

* a record that is truncated or fails its checksum;
* a record that is not an example of the dataset's kind: a slim image
  example (image bytes and a label in [0, num_classes)) for
  classification, DeepLab's example (image and label map bytes) for
  segmentation;
* with check_images, an image that does not decode; for segmentation also
  a label map that does not decode, has another size than its image, or
  holds a value that is neither a class nor the ignore label;
* a total that differs from the split's num_samples.

Reading is sequential and cheap next to decoding: the digits dataset takes
well under a second, ImageNet's training split several minutes (a full
decode with check_images takes far longer).
"""

import contextlib
import functools

from slim_resnets.datasets import dataset_factory
from slim_resnets.datasets import errors
from slim_resnets.datasets import example_format
from slim_resnets.datasets import image_codec
from slim_resnets.datasets import segmentation_format
from slim_resnets.datasets import tfrecords


def _bad_record(path, index, problem):
  return errors.CorruptRecordError('%s: record %d %s.' % (path, index, problem),
                                   path, index)


def _check_classification(num_classes, codec, path, index, record):
  try:
    fields = example_format.check_example(record)
  except ValueError as e:
    raise _bad_record(path, index, 'is not an image example: %s' % e) from e
  if not 0 <= fields.label < num_classes:
    raise _bad_record(path, index, 'has label %d, outside [0, %d)'
                      % (fields.label, num_classes))
  if codec is not None:
    try:
      codec.inspect(fields.encoded, '%s record %d' % (path, index))
    except errors.SourceDataError as e:
      raise _bad_record(path, index, 'has a bad image (%s)' % e) from e


def _check_segmentation(num_classes, codec, path, index, record):
  try:
    fields = segmentation_format.check_example(record)
  except ValueError as e:
    raise _bad_record(path, index,
                      'is not a segmentation example: %s' % e) from e
  if codec is None:
    return
  source = '%s record %d (%s)' % (path, index, fields.filename)
  try:
    _, height, width = codec.inspect(fields.encoded_image, source)
    label = codec.decode(fields.encoded_label, source + "'s label map")
    segmentation_format.check_label_values(label, num_classes, source)
  except (errors.SourceDataError, ValueError) as e:
    raise _bad_record(path, index, 'is bad (%s)' % e) from e
  if label.shape[:2] != (height, width):
    raise _bad_record(path, index, 'has a %dx%d label map for a %dx%d image'
                      % (label.shape[1], label.shape[0], width, height))


def verify_split(split_info, check_images=False):
  """Reads every record of split_info.files; returns how many there are.

  Args:
    split_info: a dataset_factory.SplitInfo.
    check_images: also decode every image (much slower).

  Raises:
    CorruptRecordError: naming the file and the index of the bad record.
    DatasetError: when the files hold another number of records than
      split_info.num_samples.
  """
  total = 0
  segmentation = (dataset_factory.get_dataset_spec(split_info.name).task ==
                  dataset_factory.SEGMENTATION)
  with contextlib.ExitStack() as stack:
    reader = stack.enter_context(tfrecords.RecordReader())
    codec = (stack.enter_context(image_codec.ImageCodec()) if check_images
             else None)
    check = functools.partial(
        _check_segmentation if segmentation else _check_classification,
        split_info.num_classes, codec)
    for path in split_info.files:
      for index, record in reader.records(path):
        check(path, index, record)
        total += 1
  if total != split_info.num_samples:
    raise errors.DatasetError(
        'split %s of %s: its %d files hold %d records, but the split should '
        'have %d: %s.' % (split_info.split_name, split_info.name,
                          len(split_info.files), total,
                          split_info.num_samples,
                          ', '.join(split_info.files)))
  return total


def verify_dataset(name, dataset_dir, split_names=None, check_images=False):
  """verify_split for the given (default: all) splits of a dataset.

  Returns:
    dict split name -> number of records.
  """
  if split_names is None:
    split_names = dataset_factory.split_names(name, dataset_dir)
  return {split_name: verify_split(
      dataset_factory.get_split(name, split_name, dataset_dir), check_images)
          for split_name in split_names}
