"""Tests of the digit scenes: composition, labels, the DeepLab record format,
the converter's dataset and its reading back through the input pipeline."""

import json
import os

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from slim_resnets.datasets import convert_digit_scenes as scenes
from slim_resnets.datasets import convert_digits
from slim_resnets.datasets import dataset_factory
from slim_resnets.datasets import errors
from slim_resnets.datasets import image_codec
from slim_resnets.datasets import input_pipeline
from slim_resnets.datasets import segmentation_format

IGNORE = segmentation_format.IGNORE_LABEL


@pytest.fixture(scope='module')
def source():
  return convert_digits.load_digits()


@pytest.fixture(scope='module')
def small(tmp_path_factory):
  """A small converted dataset: 40 train and 10 validation scenes."""
  directory = str(tmp_path_factory.mktemp('scenes'))
  info = scenes.convert(directory, num_train=40, num_validation=10, seed=3)
  return directory, info


def test_enlarge_is_bilinear_with_aligned_centres():
  digit = np.array([[0, 255], [255, 0]], np.uint8)
  big = scenes.enlarge(digit, 2)
  assert big.shape == (4, 4)
  # Centres of the source pixels sit between the enlarged ones: the outer
  # pixels keep the source value, the inner ones are blends (1/4 - 3/4).
  np.testing.assert_allclose(big[0], [0, 63.75, 191.25, 255])
  np.testing.assert_allclose(big, big[::-1, ::-1])


def test_labels_follow_the_ink_with_an_ignore_rim(source):
  images, labels = source
  rng = np.random.RandomState(0)
  for _ in range(20):
    image, label, placed = scenes.compose_scene(rng, images, labels)
    assert image.shape == label.shape == (48, 48)
    assert 1 <= len(placed) <= 4
    classes = set(np.unique(label)) - {0, IGNORE}
    assert classes == {d + 1 for d in placed}
    ink = image.astype(float) / 255
    # Strong ink is a digit, empty canvas is background; the noise adds at
    # most a few levels, so the thresholds hold with a margin.
    assert np.all(label[ink >= scenes.INK_CLASS + 0.1] >= 1)
    assert np.all(label[ink < scenes.INK_BACKGROUND - 0.05] == 0)
    assert (label == IGNORE).any()
    assert np.all((label == IGNORE) <= (ink >= scenes.INK_BACKGROUND - 0.05))


def test_digits_never_touch(source):
  images, labels = source
  rng = np.random.RandomState(1)
  for _ in range(30):
    _, label, _ = scenes.compose_scene(rng, images, labels)
    digit = (label >= 1) & (label != IGNORE)
    # Two different classes never sit on neighbouring pixels.
    for shifted in (np.roll(label, 1, 0), np.roll(label, 1, 1)):
      both = digit & (shifted >= 1) & (shifted != IGNORE)
      assert np.all(label[both] == shifted[both])


def test_same_seed_same_scenes(tmp_path):
  first = scenes.convert(str(tmp_path / 'a'), num_train=6, num_validation=3,
                         seed=5)
  second = scenes.convert(str(tmp_path / 'b'), num_train=6, num_validation=3,
                          seed=5)
  assert first['splits'] == second['splits']
  for name in first['splits']['train']['files']:
    with open(tmp_path / 'a' / name, 'rb') as a, open(
        tmp_path / 'b' / name, 'rb') as b:
      assert a.read() == b.read()
  third = scenes.convert(str(tmp_path / 'c'), num_train=6, num_validation=3,
                         seed=6)
  assert third['splits']['train']['class_counts'] != (
      first['splits']['train']['class_counts'])


def _read_split(directory, split_name):
  split = dataset_factory.get_split('digit_scenes', split_name, directory)
  examples = []
  with image_codec.ImageCodec() as codec:
    for path in split.files:
      for record in tf.io.tf_record_iterator(path):
        fields = segmentation_format.check_example(record)
        examples.append((fields.filename,
                         codec.decode(fields.encoded_label, path)))
  return split, examples


def test_dataset_info_counts_the_pixels_of_every_class(small):
  directory, info = small
  for split_name, size in (('train', 40), ('validation', 10)):
    split, examples = _read_split(directory, split_name)
    assert split.num_samples == size == len(examples)
    assert split.num_classes == 11
    counts = np.zeros(256, np.int64)
    for _, label in examples:
      counts += np.bincount(label.ravel(), minlength=256)
    expected = {str(c): int(counts[c]) for c in range(11) if counts[c]}
    assert info['splits'][split_name]['class_counts'] == expected
  with open(os.path.join(directory, 'dataset_info.json')) as f:
    assert json.load(f)['dataset_name'] == 'digit_scenes'
  assert split.labels_to_names[0] == 'background'
  assert split.labels_to_names[10] == 'nine'


def test_pipeline_reads_images_labels_and_names(small, graph):
  directory, _ = small
  split = dataset_factory.get_split('digit_scenes', 'validation', directory)
  dataset = input_pipeline.make_segmentation_dataset(
      split, 4, lambda image, label: (image, label), num_epochs=1)
  batch = tf.data.make_one_shot_iterator(dataset).get_next()
  seen = []
  with tf.Session() as sess:
    while True:
      try:
        values = sess.run(batch)
      except tf.errors.OutOfRangeError:
        break
      assert values['image'].shape[1:] == (48, 48, 3)
      assert values['label'].shape[1:] == (48, 48, 1)
      # Grayscale scenes: the three channels are the same.
      np.testing.assert_array_equal(values['image'][..., 0],
                                    values['image'][..., 2])
      seen.extend(n.decode() for n in values['filename'])
  assert sorted(seen) == ['validation_%05d' % i for i in range(10)]


def test_refuses_to_overwrite_and_checks_arguments(small, tmp_path):
  directory, _ = small
  before = sorted(os.listdir(directory))
  with pytest.raises(errors.DatasetExistsError):
    scenes.convert(directory, num_train=2, num_validation=1)
  assert sorted(os.listdir(directory)) == before
  with pytest.raises(ValueError, match='canvas_size must be an integer >= 26'):
    scenes.convert(str(tmp_path / 'x'), canvas_size=20)
  with pytest.raises(ValueError, match='num_train must be a positive'):
    scenes.convert(str(tmp_path / 'x'), num_train=0)
  assert not os.path.exists(tmp_path / 'x')


def test_label_values_are_checked():
  label = np.array([[0, 3], [255, 12]], np.uint8)
  with pytest.raises(ValueError, match=r'mask.png: label values \[12\] are '
                     r'neither a class \(0..10\) nor the ignore label 255'):
    segmentation_format.check_label_values(label, 11, 'mask.png')
  assert segmentation_format.check_label_values(label[:1], 11, 'm') == {
      0: 1, 3: 1}


def test_check_example_names_what_is_missing():
  with pytest.raises(ValueError, match='image/segmentation/class/encoded'):
    segmentation_format.check_example(tf.train.Example(
        features=tf.train.Features(feature={
            'image/encoded': tf.train.Feature(bytes_list=tf.train.BytesList(
                value=[b'x']))})).SerializeToString())
