"""Tests of the segmentation folder converter and of the mask reading it
shares with VOC (`label_masks`)."""

import os

import numpy as np
import pytest
import segmentation_sources as sources
import tensorflow.compat.v1 as tf

from slim_resnets.datasets import convert
from slim_resnets.datasets import convert_segmentation_folder as folder
from slim_resnets.datasets import dataset_factory
from slim_resnets.datasets import errors
from slim_resnets.datasets import example_format
from slim_resnets.datasets import image_codec
from slim_resnets.datasets import input_pipeline
from slim_resnets.datasets import label_masks
from slim_resnets.datasets import segmentation_format
from slim_resnets.datasets import verify


def _read_split(split):
  """{filename: (image, label)} of a converted split, through the input
  pipeline's own reader."""
  graph = tf.Graph()
  with graph.as_default():
    dataset = input_pipeline.make_segmentation_dataset(
        split, 1, lambda image, label: (image, label), is_training=False)
    batch = tf.data.make_one_shot_iterator(dataset).get_next()
    out = {}
    with tf.Session(graph=graph) as sess:
      for _ in range(split.num_samples):
        value = sess.run(batch)
        out[value['filename'][0].decode()] = (value['image'][0],
                                              value['label'][0, :, :, 0])
  return out


def test_read_mask_gives_ids_of_palette_and_gray_pngs():
  _, ids = sources.scene(0, ignore_border=True)
  for data in (sources.png(ids, palette=True), sources.png(ids)):
    np.testing.assert_array_equal(label_masks.read_mask(data, 'm.png'), ids)


@pytest.mark.parametrize('data, message', [
    (sources.png(np.zeros((4, 4, 3), np.uint8)),
     'label mask m.png is a RGB image; a mask must hold class ids'),
    (sources.jpeg(np.zeros((4, 4), np.uint8)),
     'label mask m.png is not a PNG file'),
    (b'\x89PNG\r\n\x1a\nbroken', 'cannot decode label mask m.png'),
])
def test_read_mask_refuses_what_holds_no_ids(data, message):
  with pytest.raises(errors.SourceDataError, match=message):
    label_masks.read_mask(data, 'm.png')


def test_converts_pairs_that_read_back_aligned(tmp_path):
  masks = sources.segmentation_folder(str(tmp_path / 'src'), num_pairs=10)
  info = convert.convert('segmentation_folder', str(tmp_path / 'data'),
                         source_dir=str(tmp_path / 'src'),
                         validation_fraction=0.3, num_shards=2, seed=1)
  assert info['num_classes'] == 3
  assert {k: v['num_samples'] for k, v in info['splits'].items()} == {
      'train': 7, 'validation': 3}
  read = {}
  for split_name in ('train', 'validation'):
    read.update(_read_split(_split(tmp_path, split_name)))
  assert sorted(read) == sorted(masks)
  for stem, (image, label) in read.items():
    np.testing.assert_array_equal(label, masks[stem])
    # The image's first channel encodes the class (60 per id): aligned.
    np.testing.assert_array_equal(image[:, :, 0], masks[stem] * 60)
  for split_name, split in info['splits'].items():
    stems = [s for s in masks if s in _names(tmp_path, split_name)]
    total = sum(np.bincount(masks[s].ravel(), minlength=3) for s in stems)
    assert split['class_counts'] == {str(c): int(n)
                                     for c, n in enumerate(total) if n}


def _split(tmp_path, split_name):
  return dataset_factory.get_split(
      'segmentation_folder', split_name, str(tmp_path / 'data'),
      task=dataset_factory.SEGMENTATION)


def _names(tmp_path, split_name):
  return set(_read_split(_split(tmp_path, split_name)))


def _broken(tmp_path, mutate):
  source = str(tmp_path / 'src')
  sources.segmentation_folder(source, num_pairs=3)
  mutate(source)
  return source


@pytest.mark.parametrize('mutate, message', [
    (lambda s: os.remove(os.path.join(s, 'masks', 'pair_01.png')),
     r'1 image\(s\) have no mask: .*pair_01.png; each needs .*masks/<same '
     r'name>.png'),
    (lambda s: sources.write(os.path.join(s, 'masks', 'pair_9.png'),
                             sources.png(np.zeros((20, 28), np.uint8))),
     r'1 mask\(s\) have no image: .*pair_9.png'),
    (lambda s: sources.write(os.path.join(s, 'masks', 'pair_02.png'),
                             sources.png(np.zeros((20, 27), np.uint8))),
     r'label mask .*pair_02.png is 27x20 pixels but its image .*pair_02.png '
     r'is 28x20'),
    (lambda s: sources.write(os.path.join(s, 'masks', 'pair_00.png'),
                             sources.png(np.full((20, 28), 7, np.uint8))),
     r'pair_00.png: label values \[7\] are neither a class \(0..2\) nor the '
     r'ignore label 255'),
    (lambda s: os.remove(os.path.join(s, 'class_names.txt')),
     r'class_names.txt is missing; write one class name per line'),
])
def test_refuses_broken_sources_and_keeps_the_old_dataset(tmp_path, mutate,
                                                          message):
  target = str(tmp_path / 'data')
  good = sources.segmentation_folder(str(tmp_path / 'good'), num_pairs=4)
  folder.convert(target, str(tmp_path / 'good'), validation_fraction=0.25)
  before = sorted(os.listdir(target))
  with pytest.raises(errors.SourceDataError, match=message):
    folder.convert(target, _broken(tmp_path, mutate), overwrite=True)
  # The failed conversion published nothing: the old dataset is whole.
  assert sorted(os.listdir(target)) == before
  split = dataset_factory.get_split('segmentation_folder', 'train', target)
  assert set(_read_split(split)) < set(good)


def test_refuses_to_replace_a_dataset_without_overwrite(tmp_path):
  sources.segmentation_folder(str(tmp_path / 'src'), num_pairs=3)
  folder.convert(str(tmp_path / 'data'), str(tmp_path / 'src'),
                 validation_fraction=0)
  with pytest.raises(errors.DatasetExistsError):
    folder.convert(str(tmp_path / 'data'), str(tmp_path / 'src'))


def test_a_segmentation_dataset_is_refused_for_classification(tmp_path):
  with pytest.raises(errors.UnknownDatasetError,
                     match='dataset segmentation_folder is a segmentation '
                     'dataset, and this job needs a classification one: '
                     'digits, cifar10'):
    dataset_factory.get_split('segmentation_folder', 'train', str(tmp_path),
                              task=dataset_factory.CLASSIFICATION)
  with pytest.raises(errors.UnknownDatasetError,
                     match='needs a segmentation one: digit_scenes, '
                     'segmentation_folder, pascal_voc_seg'):
    dataset_factory.check_task('digits', dataset_factory.SEGMENTATION)


def _rewrite_first_record(path, record):
  records = list(tf.data.TFRecordDataset(path).as_numpy_iterator())
  with tf.io.TFRecordWriter(path) as shard:
    for i, old in enumerate(records):
      shard.write(record if i == 0 else old)


def test_verify_checks_segmentation_records(tmp_path):
  sources.segmentation_folder(str(tmp_path / 'src'), num_pairs=4)
  target = str(tmp_path / 'data')
  folder.convert(target, str(tmp_path / 'src'), validation_fraction=0,
                 num_shards=1)
  assert verify.verify_dataset('segmentation_folder', target,
                               check_images=True) == {'train': 4}
  shard = _split(tmp_path, 'train').files[0]
  image, _ = sources.scene(0)
  with image_codec.ImageCodec() as codec:
    for label, message in (
        (np.zeros((20, 27), np.uint8),
         'record 0 has a 27x20 label map for a 28x20 image'),
        (np.full((20, 28), 9, np.uint8),
         r'record 0 is bad \(.*label values \[9\] are neither a class'),
    ):
      _rewrite_first_record(shard, segmentation_format.encode_example(
          sources.png(image), 'png', codec.encode_png(label), 20, 28,
          filename='bad'))
      # Without decoding, the record is well-formed; decoding finds it.
      assert verify.verify_dataset('segmentation_folder', target) == {
          'train': 4}
      with pytest.raises(errors.CorruptRecordError, match=message) as e:
        verify.verify_dataset('segmentation_folder', target,
                              check_images=True)
      assert e.value.path == shard and e.value.record_index == 0
  _rewrite_first_record(shard, example_format.encode_example(
      sources.png(image), 'png', 1, 20, 28))
  with pytest.raises(errors.CorruptRecordError,
                     match='record 0 is not a segmentation example: no '
                     'single image/segmentation/class/encoded'):
    verify.verify_dataset('segmentation_folder', target)
