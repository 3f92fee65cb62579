"""Tests of the PASCAL VOC 2012 (+ SBD) converter on small archives laid out
as the official ones."""

import os

import numpy as np
import pytest
import segmentation_sources as sources
import tensorflow.compat.v1 as tf

from slim_resnets.datasets import convert
from slim_resnets.datasets import convert_pascal_voc_seg as voc
from slim_resnets.datasets import dataset_factory
from slim_resnets.datasets import errors
from slim_resnets.datasets import input_pipeline
from slim_resnets.datasets import segmentation_format

TRAIN = ['2007_000032', '2007_000039', '2008_000002']
VAL = ['2007_000033', '2009_000001']
SBD_TRAIN = ['2008_000100', '2007_000033', '2008_000002']  # one VOC val id
SBD_VAL = ['2010_000005']


def _read(dataset_dir, split_name):
  """{filename: (image, label)} of one converted split."""
  split = dataset_factory.get_split(voc.DATASET_NAME, split_name, dataset_dir,
                                    task=dataset_factory.SEGMENTATION)
  graph = tf.Graph()
  with graph.as_default():
    batch = tf.data.make_one_shot_iterator(
        input_pipeline.make_segmentation_dataset(
            split, 1, lambda image, label: (image, label))).get_next()
    with tf.Session(graph=graph) as sess:
      values = [sess.run(batch) for _ in range(split.num_samples)]
  return {v['filename'][0].decode(): (v['image'][0], v['label'][0, :, :, 0])
          for v in values}


@pytest.fixture(scope='module')
def voc_sources(tmp_path_factory):
  """The VOC tree and its .tar, an SBD tree and its .tgz."""
  root = tmp_path_factory.mktemp('voc')
  pairs = sources.voc_tree(str(root / 'voc'), TRAIN, VAL,
                           masked_ids=TRAIN + VAL)
  # The SBD-only ids have JPEGs in VOC (as in the real data) but no VOC mask.
  shapes = {}
  for n, image_id in enumerate(['2008_000100', '2010_000005']):
    image, _ = sources.scene(50 + n, height=16, width=22)
    sources.write(str(root / 'voc' / sources.VOC_ROOT /
                      ('JPEGImages/%s.jpg' % image_id)), sources.jpeg(image))
    shapes[image_id] = (16, 22)
  for image_id, (image, _) in pairs.items():
    shapes[image_id] = image.shape[:2]
  sbd_labels = sources.sbd_tree(str(root / 'sbd'), SBD_TRAIN, SBD_VAL, shapes)
  return {
      'pairs': pairs, 'sbd_labels': sbd_labels,
      'tree': str(root / 'voc'),
      'tar': sources.tar(str(root / 'voc'), str(root / voc.ARCHIVE_NAME)),
      'sbd_tree': str(root / 'sbd'),
      'sbd_tgz': sources.tar(str(root / 'sbd'),
                             str(root / voc.SBD_ARCHIVE_NAME), 'w:gz'),
  }


@pytest.fixture(scope='module')
def converted(voc_sources, tmp_path_factory):
  """Converted from the tar and the tgz, as a user with the downloads
  would."""
  directory = str(tmp_path_factory.mktemp('converted'))
  info = convert.convert('pascal_voc_seg', directory,
                         archive=voc_sources['tar'],
                         sbd_archive=voc_sources['sbd_tgz'], num_shards=2)
  return directory, info


def test_splits_have_deeplabs_names_and_members(converted):
  directory, info = converted
  assert info['num_classes'] == 21
  assert list(info['splits']) == ['train', 'val', 'train_aug']
  assert sorted(_read(directory, 'train')) == sorted(TRAIN)
  assert sorted(_read(directory, 'val')) == sorted(VAL)
  # train_aug: VOC train and all of SBD, less every VOC val image.
  assert sorted(_read(directory, 'train_aug')) == sorted(
      set(TRAIN) | {'2008_000100', '2010_000005'})
  assert voc.train_aug_ids(TRAIN, VAL, SBD_TRAIN, SBD_VAL) == sorted(
      set(TRAIN) | {'2008_000100', '2010_000005'})


def test_masks_are_the_palette_indices_with_ignored_outlines(
    converted, voc_sources):
  directory, _ = converted
  read = _read(directory, 'val')
  for image_id in VAL:
    _, ids = voc_sources['pairs'][image_id]
    label = read[image_id][1]
    np.testing.assert_array_equal(label, ids)
    assert (label == segmentation_format.IGNORE_LABEL).any()
    # The JPEG's bytes are stored unchanged: they decode to the same pixels.
    with open(os.path.join(voc_sources['tree'], sources.VOC_ROOT,
                           'JPEGImages', image_id + '.jpg'), 'rb') as f:
      jpeg = tf.io.decode_jpeg(f.read(), channels=3).numpy()
    np.testing.assert_array_equal(read[image_id][0], jpeg)


def test_train_aug_takes_voc_masks_first_then_sbds(converted, voc_sources):
  directory, _ = converted
  read = _read(directory, 'train_aug')
  # 2008_000002 is in VOC train and SBD train: VOC's mask (with outlines).
  np.testing.assert_array_equal(read['2008_000002'][1],
                                voc_sources['pairs']['2008_000002'][1])
  assert not np.array_equal(read['2008_000002'][1],
                            voc_sources['sbd_labels']['2008_000002'])
  for image_id in ('2008_000100', '2010_000005'):
    np.testing.assert_array_equal(read[image_id][1],
                                  voc_sources['sbd_labels'][image_id])


def test_extracted_folders_convert_to_the_same_records(
    converted, voc_sources, tmp_path):
  directory, info = converted
  again = convert.convert('pascal_voc_seg', str(tmp_path / 'again'),
                          source_dir=voc_sources['tree'],
                          sbd_archive=voc_sources['sbd_tree'], num_shards=2)
  for split_name, split in info['splits'].items():
    assert again['splits'][split_name]['class_counts'] == split[
        'class_counts']
    for name in split['files']:
      with open(os.path.join(directory, name), 'rb') as a, open(
          os.path.join(str(tmp_path / 'again'), name), 'rb') as b:
        assert a.read() == b.read(), name


def _tree_without(tmp_path, voc_sources, relative):
  import shutil  # pylint: disable=g-import-not-at-top
  tree = str(tmp_path / 'tree')
  shutil.copytree(voc_sources['tree'], tree)
  os.remove(os.path.join(tree, sources.VOC_ROOT, relative))
  return tree


@pytest.mark.parametrize('relative, message', [
    ('JPEGImages/2007_000039.jpg',
     r'image 2007_000039 is listed but .*JPEGImages/2007_000039.jpg is '
     r'missing'),
    ('SegmentationClass/2009_000001.png',
     r'image 2009_000001 is listed but its mask .*SegmentationClass/'
     r'2009_000001.png is missing'),
    ('ImageSets/Segmentation/val.txt',
     r'.*ImageSets/Segmentation/val.txt is missing'),
])
def test_missing_files_are_named(tmp_path, voc_sources, relative, message):
  tree = _tree_without(tmp_path, voc_sources, relative)
  with pytest.raises(errors.SourceDataError, match=message):
    voc.convert(str(tmp_path / 'data'), source_dir=tree)
  assert not os.path.exists(str(tmp_path / 'data'))


def test_bad_arguments_say_what_to_pass(tmp_path, voc_sources):
  for kwargs, error, message in (
      ({}, errors.InvalidOptionError,
       'pascal_voc_seg needs exactly one of --archive'),
      ({'archive': voc_sources['tar'], 'source_dir': voc_sources['tree']},
       errors.InvalidOptionError, 'exactly one of --archive'),
      ({'archive': str(tmp_path / 'none.tar')}, errors.SourceDataError,
       'VOC 2012 .*none.tar does not exist'),
      ({'archive': voc_sources['sbd_tgz']}, errors.SourceDataError,
       r'benchmark.tgz holds no ImageSets/Segmentation/train.txt; is it the '
       'right archive'),
      ({'source_dir': str(tmp_path)}, errors.SourceDataError,
       'holds no ImageSets/Segmentation/train.txt; point it at the '
       'extracted folder'),
  ):
    with pytest.raises(error, match=message):
      voc.convert(str(tmp_path / 'data'), **kwargs)
  not_tar = tmp_path / 'fake.tar'
  not_tar.write_bytes(b'not a tar archive at all' * 40)
  with pytest.raises(errors.SourceDataError,
                     match='fake.tar is not a readable tar archive'):
    voc.convert(str(tmp_path / 'data'), archive=str(not_tar))
