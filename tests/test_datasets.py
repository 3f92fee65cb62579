"""Tests of the reading side of `datasets`: registry, input pipeline, checks.

`dataset_factory.get_split` and its errors, `input_pipeline.make_dataset` in
TF1 graphs, `verify.verify_split` on damaged shards, and the small formats
(labels.txt, the example, the seeded split). Most tests read a tiny dataset
written here whose images carry their own index as pixel value, so that the
order and multiplicity of examples can be checked exactly; a few read the
real digits dataset.
"""

import json
import os
import shutil
import struct

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from slim_resnets.datasets import convert_digits
from slim_resnets.datasets import dataset_factory
from slim_resnets.datasets import errors
from slim_resnets.datasets import example_format
from slim_resnets.datasets import image_codec
from slim_resnets.datasets import input_pipeline
from slim_resnets.datasets import labels
from slim_resnets.datasets import splitting
from slim_resnets.datasets import verify
from slim_resnets.datasets import writer

_TINY_TRAIN = 23
_TINY_VALIDATION = 5
_TINY_CLASSES = 5


def _tiny_records(indices):
  """Grayscale 3x2 images filled with their index; label = index % 5."""
  with image_codec.ImageCodec() as codec:
    for i in indices:
      pixels = np.full((3, 2), i, np.uint8)
      yield example_format.encode_example(
          codec.encode_png(pixels), 'png', i % _TINY_CLASSES, 3, 2)


@pytest.fixture(scope='module')
def tiny_dir(tmp_path_factory):
  """An 'image_folder' dataset: train 0..22 in 3 shards, validation 100..104."""
  path = str(tmp_path_factory.mktemp('tiny'))
  validation = range(100, 100 + _TINY_VALIDATION)
  writer.write_dataset(
      path, 'image_folder', {
          'train': writer.SplitRecords(_TINY_TRAIN,
                                       _tiny_records(range(_TINY_TRAIN))),
          'validation': writer.SplitRecords(_TINY_VALIDATION,
                                            _tiny_records(validation)),
      }, {i: 'class_%d' % i for i in range(_TINY_CLASSES)}, num_shards=3)
  return path


@pytest.fixture(scope='module')
def digits_dir(tmp_path_factory):
  path = str(tmp_path_factory.mktemp('digits'))
  convert_digits.convert(path)
  return path


def _tiny_split(tiny_dir, split_name='train'):
  return dataset_factory.get_split('image_folder', split_name, tiny_dir)


def _read(dataset, max_batches=None):
  """(images, labels) of every batch until OutOfRange (or max_batches)."""
  images, labels_ = [], []
  next_batch = tf.data.make_one_shot_iterator(dataset).get_next()
  with tf.Session() as sess:
    while max_batches is None or len(images) < max_batches:
      try:
        batch_images, batch_labels = sess.run(next_batch)
      except tf.errors.OutOfRangeError:
        break
      images.append(batch_images)
      labels_.append(batch_labels)
  return images, labels_


def _indices(images):
  """The index each tiny image carries (its pixel value)."""
  return [int(v) for batch in images for v in batch[:, 0, 0, 0]]


def _epoch_order(split, **kwargs):
  """The example order of one pass, built in a graph of its own."""
  with tf.Graph().as_default():
    images, _ = _read(input_pipeline.make_dataset(split, 4, num_epochs=1,
                                                  **kwargs))
  return _indices(images)


# ---------------------------------------------------------------------------
# dataset_factory.get_split.


def test_get_split_describes_a_converted_dataset(digits_dir):
  split = dataset_factory.get_split('digits', 'validation', digits_dir)
  assert isinstance(split, dataset_factory.SplitInfo)
  assert split.name == 'digits' and split.split_name == 'validation'
  assert split.num_samples == 300 and split.num_classes == 10
  assert split.files == [
      os.path.join(digits_dir, 'digits_validation_0000%d-of-00002.tfrecord'
                   % i) for i in range(2)]
  assert split.labels_to_names[0] == 'zero'
  assert split.labels_to_names[9] == 'nine'


def test_unknown_dataset_name_lists_the_known_ones(digits_dir):
  with pytest.raises(
      ValueError,
      match='digits, cifar10, image_folder, digit_scenes, '
      'segmentation_folder, pascal_voc_seg, imagenet'):
    dataset_factory.get_split('mnist', 'train', digits_dir)


def test_unknown_split_name_lists_the_splits(digits_dir):
  with pytest.raises(errors.UnknownSplitError,
                     match="no split 'test'.*train, validation") as e:
    dataset_factory.get_split('digits', 'test', digits_dir)
  assert isinstance(e.value, ValueError)
  with pytest.raises(errors.UnknownSplitError, match='train, validation'):
    dataset_factory.get_split('imagenet', 'test', digits_dir)


def test_missing_dataset_dir_names_it_and_the_converter(tmp_path):
  missing = str(tmp_path / 'nowhere')
  with pytest.raises(errors.DatasetNotFoundError) as e:
    dataset_factory.get_split('cifar10', 'train', missing)
  assert isinstance(e.value, FileNotFoundError)
  assert missing in str(e.value)
  assert ('download_and_convert_data.py --dataset_name=cifar10 '
          '--dataset_dir=%s' % missing) in str(e.value)


def test_directory_without_a_dataset_suggests_the_converter(tmp_path):
  with pytest.raises(errors.DatasetNotFoundError,
                     match='no dataset_info.json.*--source_dir'):
    dataset_factory.get_split('image_folder', 'train', str(tmp_path))


def test_directory_of_another_dataset_is_refused(digits_dir):
  with pytest.raises(errors.DatasetError, match="holds the 'digits' dataset"):
    dataset_factory.get_split('cifar10', 'train', digits_dir)


def test_file_pattern_selects_shards(tiny_dir, tmp_path):
  split = dataset_factory.get_split('image_folder', 'train', tiny_dir,
                                    file_pattern='*_%s_00001-of-*')
  assert [os.path.basename(f) for f in split.files] == [
      'image_folder_train_00001-of-00003.tfrecord']
  assert split.num_samples == 8
  # Files the description does not list are counted by reading them.
  for name in os.listdir(tiny_dir):
    shutil.copy(os.path.join(tiny_dir, name), tmp_path)
  shutil.copy(split.files[0], str(tmp_path / 'extra_train.tfrecord'))
  split = dataset_factory.get_split('image_folder', 'train', str(tmp_path),
                                    file_pattern='*train*.tfrecord')
  assert split.num_samples == 8 + _TINY_TRAIN


def _imagenet_dir(tmp_path, tiny_dir):
  """slim's ImageNet layout, with the tiny train shards as its content."""
  for i in range(3):
    shutil.copy(os.path.join(tiny_dir, 'image_folder_train_%05d-of-00003.'
                             'tfrecord' % i),
                str(tmp_path / ('train-%05d-of-00003' % i)))
  labels.write_labels({0: 'background', 1: 'tench, Tinca tinca'},
                      str(tmp_path))
  return str(tmp_path)


def test_imagenet_uses_slims_layout_and_sizes(tmp_path, tiny_dir):
  imagenet_dir = _imagenet_dir(tmp_path, tiny_dir)
  split = dataset_factory.get_split('imagenet', 'train', imagenet_dir)
  assert [os.path.basename(f) for f in split.files] == [
      'train-00000-of-00003', 'train-00001-of-00003', 'train-00002-of-00003']
  assert split.num_samples == 1281167 and split.num_classes == 1001
  assert split.labels_to_names == {0: 'background', 1: 'tench, Tinca tinca'}


def test_split_without_records_is_an_error_naming_the_files(tmp_path,
                                                            tiny_dir):
  imagenet_dir = _imagenet_dir(tmp_path, tiny_dir)
  with pytest.raises(errors.EmptySplitError, match='no files match') as e:
    dataset_factory.get_split('imagenet', 'validation', imagenet_dir)
  assert os.path.join(imagenet_dir, 'validation-*') in str(e.value)
  empty = tmp_path / 'validation-00000-of-00001'
  empty.write_bytes(b'')
  with pytest.raises(errors.EmptySplitError, match='has no records') as e:
    dataset_factory.get_split('imagenet', 'validation', imagenet_dir)
  assert str(empty) in str(e.value)


def test_split_with_a_missing_shard_is_an_error_naming_it(tiny_dir, tmp_path):
  for name in os.listdir(tiny_dir):
    shutil.copy(os.path.join(tiny_dir, name), tmp_path)
  gone = tmp_path / 'image_folder_train_00002-of-00003.tfrecord'
  gone.unlink()
  with pytest.raises(errors.EmptySplitError, match='missing') as e:
    dataset_factory.get_split('image_folder', 'train', str(tmp_path))
  assert str(gone) in str(e.value)


def test_unreadable_dataset_info_is_an_error_naming_it(tmp_path):
  (tmp_path / 'dataset_info.json').write_text('{"dataset_name": "digits"')
  with pytest.raises(errors.DatasetError, match='dataset_info.json'):
    dataset_factory.get_split('digits', 'train', str(tmp_path))
  (tmp_path / 'dataset_info.json').write_text(json.dumps({
      'dataset_name': 'digits', 'num_classes': 10, 'splits': {
          'train': {'num_samples': 1, 'files': ['../../etc/passwd']}}}))
  with pytest.raises(errors.DatasetError, match='not plain names'):
    dataset_factory.get_split('digits', 'train', str(tmp_path))


# ---------------------------------------------------------------------------
# input_pipeline.make_dataset.


def test_batches_are_float_rgb_images_and_int32_labels(graph, tiny_dir):
  del graph
  dataset = input_pipeline.make_dataset(_tiny_split(tiny_dir), 4,
                                        num_epochs=1)
  images, labels_ = _read(dataset, max_batches=1)
  assert images[0].shape == (4, 3, 2, 3) and images[0].dtype == np.float32
  assert labels_[0].dtype == np.int32
  # Grayscale is repeated into three channels; values stay in [0, 255].
  np.testing.assert_array_equal(images[0][..., 0], images[0][..., 2])
  index = _indices(images)
  assert labels_[0].tolist() == [i % 5 for i in index]


def test_one_epoch_yields_every_example_once_then_stops(graph, tiny_dir):
  del graph
  dataset = input_pipeline.make_dataset(_tiny_split(tiny_dir), 4,
                                        num_epochs=1)
  images, _ = _read(dataset)
  assert [len(b) for b in images] == [4, 4, 4, 4, 4, 3]
  # Without shuffling, the readers take one record from each shard in turn.
  assert _indices(images)[:4] == [0, 8, 16, 1]
  assert sorted(_indices(images)) == list(range(_TINY_TRAIN))


def test_num_epochs_repeats_and_none_repeats_forever(graph, tiny_dir):
  del graph
  split = _tiny_split(tiny_dir)
  images, _ = _read(input_pipeline.make_dataset(split, 5, num_epochs=2))
  assert sorted(_indices(images)) == sorted(list(range(_TINY_TRAIN)) * 2)
  images, _ = _read(input_pipeline.make_dataset(split, 5), max_batches=20)
  assert len(_indices(images)) == 100  # Well past two epochs, no end.


def test_labels_offset_is_subtracted(graph, tiny_dir):
  del graph
  dataset = input_pipeline.make_dataset(_tiny_split(tiny_dir), 23,
                                        num_epochs=1, labels_offset=1)
  images, labels_ = _read(dataset)
  assert labels_[0].tolist() == [i % 5 - 1 for i in _indices(images)]


def test_seeded_shuffling_is_reproducible(tiny_dir):
  split = _tiny_split(tiny_dir)
  unshuffled = _epoch_order(split)
  first = _epoch_order(split, is_training=False, shuffle=True, seed=7)
  assert first == _epoch_order(split, shuffle=True, seed=7)
  assert first != unshuffled and sorted(first) == sorted(unshuffled)
  assert _epoch_order(split, shuffle=True, seed=8) != first


def test_training_shuffles_and_drops_the_partial_batch(tiny_dir):
  with tf.Graph().as_default():
    images, _ = _read(input_pipeline.make_dataset(
        _tiny_split(tiny_dir), 4, is_training=True, num_epochs=1, seed=3))
  assert [len(b) for b in images] == [4] * 5
  order = _indices(images)
  assert len(set(order)) == 20 and order != sorted(order)


def test_preprocess_fn_gets_each_uint8_image_and_the_size(graph, tiny_dir):
  del graph
  calls = []

  def preprocess(image, height, width):
    calls.append((image.dtype, image.get_shape().as_list(), height, width))
    image = tf.image.resize(tf.cast(image, tf.float32), [height, width])
    return image / 255.0 - 1.0

  dataset = input_pipeline.make_dataset(
      _tiny_split(tiny_dir, 'validation'), 5, preprocess_fn=preprocess,
      image_size=4, num_epochs=1)
  images, _ = _read(dataset)
  assert calls == [(tf.uint8, [None, None, 3], 4, 4)]
  assert images[0].shape == (5, 4, 4, 3)
  np.testing.assert_allclose(sorted(images[0][:, 0, 0, 0]),
                             np.arange(100, 105) / 255.0 - 1.0, rtol=1e-6)


def test_image_size_without_preprocess_fn_resizes(graph, tiny_dir):
  del graph
  dataset = input_pipeline.make_dataset(_tiny_split(tiny_dir), 2,
                                        image_size=5, num_epochs=1)
  images, _ = _read(dataset, max_batches=1)
  assert images[0].shape == (2, 5, 5, 3)


def test_digits_batches_hold_the_scaled_digits(graph, digits_dir):
  del graph
  split = dataset_factory.get_split('digits', 'validation', digits_dir)
  images, labels_ = _read(input_pipeline.make_dataset(split, 300,
                                                      num_epochs=1))
  assert images[0].shape == (300, 8, 8, 3)
  all_images, all_labels = convert_digits.load_digits()
  _, validation = splitting.stratified_split(all_labels, 300, seed=0)
  expected = {i: all_images[i] for i in validation}
  # Two shards interleaved: records alternate between them.
  order = [validation[i] for pair in zip(range(150), range(150, 300))
           for i in pair]
  for position in (0, 1, 2, 299):
    np.testing.assert_array_equal(images[0][position, :, :, 1],
                                  expected[order[position]])
    assert labels_[0][position] == all_labels[order[position]]


def test_bad_arguments_name_the_argument(graph, tiny_dir):
  del graph
  split = _tiny_split(tiny_dir)
  with pytest.raises(ValueError, match='preprocess_fn needs image_size'):
    input_pipeline.make_dataset(split, 2, preprocess_fn=lambda *a: a[0])
  with pytest.raises(ValueError, match=r'labels_offset .* \[0, 5\)'):
    input_pipeline.make_dataset(split, 2, labels_offset=5)
  with pytest.raises(ValueError, match='batch_size'):
    input_pipeline.make_dataset(split, 0)
  with pytest.raises(ValueError, match='num_epochs'):
    input_pipeline.make_dataset(split, 2, num_epochs=0)


# ---------------------------------------------------------------------------
# verify.


def _copy_split(tiny_dir, tmp_path):
  for name in os.listdir(tiny_dir):
    shutil.copy(os.path.join(tiny_dir, name), tmp_path)
  return _tiny_split(str(tmp_path))


def _record_offsets(path):
  """Byte offset of each record: [length u64][crc u32][data][crc u32]."""
  with open(path, 'rb') as f:
    data = f.read()
  offsets, position = [], 0
  while position < len(data):
    offsets.append(position)
    (length,) = struct.unpack('<Q', data[position:position + 8])
    position += 8 + 4 + length + 4
  return offsets


def test_verify_split_counts_every_record(digits_dir, tiny_dir):
  split = dataset_factory.get_split('digits', 'train', digits_dir)
  assert verify.verify_split(split, check_images=True) == 1497
  assert verify.verify_dataset('image_folder', tiny_dir) == {
      'train': _TINY_TRAIN, 'validation': _TINY_VALIDATION}


def test_truncated_shard_is_reported_with_file_and_record(tiny_dir,
                                                          tmp_path):
  split = _copy_split(tiny_dir, tmp_path)
  shard = split.files[1]
  with open(shard, 'rb') as f:
    data = f.read()
  cut = _record_offsets(shard)[5] + 20
  with open(shard, 'wb') as f:
    f.write(data[:cut])
  with pytest.raises(errors.CorruptRecordError, match='record 5') as e:
    verify.verify_split(split)
  assert e.value.path == shard and e.value.record_index == 5
  assert shard in str(e.value)


def test_garbled_record_is_reported_with_file_and_record(tiny_dir, tmp_path):
  split = _copy_split(tiny_dir, tmp_path)
  shard = split.files[2]
  with open(shard, 'rb') as f:
    data = bytearray(f.read())
  data[_record_offsets(shard)[3] + 30] ^= 0xFF  # Inside record 3's data.
  with open(shard, 'wb') as f:
    f.write(bytes(data))
  with pytest.raises(errors.CorruptRecordError) as e:
    verify.verify_split(split)
  assert (e.value.path, e.value.record_index) == (shard, 3)
  assert '%s: record 3' % shard in str(e.value)


def _rewrite_shard(path, records):
  with tf.io.TFRecordWriter(path) as f:
    for record in records:
      f.write(record)


def test_records_that_are_not_image_examples_are_reported(tiny_dir,
                                                          tmp_path):
  split = _copy_split(tiny_dir, tmp_path)
  records = list(_tiny_records(range(8)))
  records[2] = b'hello'
  _rewrite_shard(split.files[0], records)
  with pytest.raises(errors.CorruptRecordError,
                     match='record 2 is not an image example'):
    verify.verify_split(split)
  records[2] = example_format.encode_example(b'\x89PNG\r\n\x1a\nxx', 'png',
                                             2, 3, 2)
  _rewrite_shard(split.files[0], records)
  assert verify.verify_split(split) == _TINY_TRAIN  # Images not decoded...
  with pytest.raises(errors.CorruptRecordError, match='record 2 has a bad '
                     'image'):
    verify.verify_split(split, check_images=True)  # ...unless asked.
  records[2] = example_format.encode_example(records[2], 'png', 7, 3, 2)
  _rewrite_shard(split.files[0], records)
  with pytest.raises(errors.CorruptRecordError,
                     match=r'label 7, outside \[0, 5\)'):
    verify.verify_split(split)


def test_verify_split_checks_the_number_of_records(tiny_dir):
  split = _tiny_split(tiny_dir)._replace(num_samples=24)
  with pytest.raises(errors.DatasetError, match='hold 23 records, but the '
                     'split should have 24'):
    verify.verify_split(split)


# ---------------------------------------------------------------------------
# labels.txt, the example format, the seeded split.


def test_labels_round_trip_names_with_colons(tmp_path):
  names = {0: 'background', 2: 'tench, Tinca tinca', 1: 'a:b: c'}
  labels.write_labels(names, str(tmp_path))
  assert (tmp_path / 'labels.txt').read_text() == (
      '0:background\n1:a:b: c\n2:tench, Tinca tinca\n')
  assert labels.read_labels(str(tmp_path)) == names


def test_malformed_labels_file_names_the_line(tmp_path):
  (tmp_path / 'labels.txt').write_text('0:zero\none\n')
  with pytest.raises(errors.DatasetError, match='line 2'):
    labels.read_labels(str(tmp_path))
  with pytest.raises(errors.SourceDataError, match='one-line'):
    labels.format_labels({0: 'two\nlines'})


def test_format_is_sniffed_from_the_bytes():
  assert example_format.sniff_format(b'\x89PNG\r\n\x1a\n...') == 'png'
  assert example_format.sniff_format(b'\xff\xd8\xff\xe0...') == 'jpeg'
  assert example_format.sniff_format(b'GIF89a') is None
  with pytest.raises(ValueError, match='image_format'):
    example_format.encode_example(b'', 'gif', 0, 1, 1)


def test_stratified_split_is_seeded_exact_and_proportional():
  labels_ = np.repeat([0, 1, 2], [50, 30, 20])
  train, validation = splitting.stratified_split(labels_, 10, seed=4)
  again = splitting.stratified_split(labels_, 10, seed=4)
  np.testing.assert_array_equal(train, again[0])
  np.testing.assert_array_equal(validation, again[1])
  assert sorted(np.concatenate([train, validation])) == list(range(100))
  assert np.bincount(labels_[validation]).tolist() == [5, 3, 2]
  other = splitting.stratified_split(labels_, 10, seed=5)[1]
  assert sorted(other) != sorted(validation)
  assert splitting.validation_count(1797, 0.1) == 180
  with pytest.raises(ValueError, match=r'\[0, 1\)'):
    splitting.validation_count(10, 1.0)
  with pytest.raises(errors.InvalidOptionError, match='none for training'):
    splitting.validation_count(1, 0.9)
