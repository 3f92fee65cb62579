"""Tests of what runs after segmentation training: the SavedModel export,
the overlay pictures, and the four scripts with DeepLab's flag names."""

import json
import os
import sys

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from slim_resnets.datasets import image_codec
from slim_resnets.preprocessing import segmentation_preprocessing
from slim_resnets.segmentation import eval_lib
from slim_resnets.segmentation import export_lib
from slim_resnets.segmentation import train_lib
from slim_resnets.segmentation import vis_lib

import segmentation_run
import subprocesses

pytestmark = pytest.mark.xdist_group(segmentation_run.GROUP)


def test_colormap_is_pascal_vocs():
  colors = vis_lib.colormap()
  assert colors[0].tolist() == [0, 0, 0]
  assert colors[1].tolist() == [128, 0, 0]
  assert colors[2].tolist() == [0, 128, 0]
  assert colors[3].tolist() == [128, 128, 0]
  assert colors[4].tolist() == [0, 0, 128]
  assert colors[15].tolist() == [192, 128, 128]  # VOC's 'person'
  assert len({tuple(c) for c in colors[:21]}) == 21


def test_overlay_keeps_background_and_whitens_ignored():
  image = np.full((2, 3, 3), 100, np.uint8)
  labels = np.array([[0, 1, 255], [0, 0, 2]])
  out = vis_lib.overlay(image, labels, alpha=0.5)
  np.testing.assert_array_equal(out[0, 0], [100, 100, 100])
  np.testing.assert_array_equal(out[0, 1], [114, 50, 50])  # (100+128)/2
  np.testing.assert_array_equal(out[0, 2], [178, 178, 178])  # white
  picture = vis_lib.panel(image, labels, labels, zoom=2)
  assert picture.shape == (4, 3 * 6 + 2 * 2, 3)


def test_visualize_writes_one_panel_per_image(segmenter, digit_scenes,
                                              tmp_path):
  config, _ = segmenter
  paths = vis_lib.visualize(segmentation_run.eval_config(
      config.train_dir, digit_scenes, tmp_path / 'eval'),
      str(tmp_path / 'vis'), num_images=3, zoom=2, sheet_name='all')
  assert [os.path.basename(p) for p in paths] == [
      'validation_%05d.png' % i for i in range(3)] + ['all.png']
  with image_codec.ImageCodec() as codec:
    pictures = []
    for path in paths:
      with open(path, 'rb') as f:
        pictures.append(codec.decode(f.read(), path))
  picture = pictures[0]
  assert picture.shape == (96, 3 * 96 + 2 * 2, 3)
  # The left part is the scene itself (grey: its channels are equal).
  np.testing.assert_array_equal(picture[:, :96, 0], picture[:, :96, 1])
  # The sheet: panels 0 and 1 side by side, panel 2 below the first.
  sheet = pictures[3]
  assert sheet.shape == (2 * 96 + 2, 2 * picture.shape[1] + 2, 3)
  np.testing.assert_array_equal(sheet[:96, :picture.shape[1]], picture)
  np.testing.assert_array_equal(sheet[:96, picture.shape[1] + 2:],
                                pictures[1])
  np.testing.assert_array_equal(sheet[98:, :picture.shape[1]], pictures[2])
  assert (sheet[98:, picture.shape[1]:] == 255).all()


def test_sheet_pads_pictures_of_other_sizes():
  small = np.zeros((2, 3, 3), np.uint8)
  large = np.full((4, 5, 3), 7, np.uint8)
  out = vis_lib.sheet([small, large, small], columns=3)
  assert out.shape == (4, 3 * 5 + 2 * 2, 3)
  np.testing.assert_array_equal(out[:4, 7:12], large)
  assert (out[2:, :5] == 255).all() and (out[:2, :3] == 0).all()
  with pytest.raises(ValueError, match='columns must be a positive integer'):
    vis_lib.sheet([small], columns=0)


def test_saved_model_predicts_what_the_graph_predicts(segmenter,
                                                      digit_scenes, tmp_path):
  config, _ = segmenter
  eval_config = segmentation_run.eval_config(config.train_dir, digit_scenes,
                                             tmp_path / 'eval')
  export_dir = str(tmp_path / 'saved_model')
  export_lib.export(eval_config, 11, export_dir)
  rng = np.random.RandomState(0)
  images = rng.randint(0, 256, (2, 37, 41, 3)).astype(np.uint8)
  with tf.Graph().as_default(), tf.Session() as sess:
    placeholder = tf.placeholder(tf.uint8, [None, None, None, 3])
    name = train_lib.preprocessing_name(eval_config)
    batch = tf.map_fn(
        lambda image: segmentation_preprocessing.normalize(image, name),
        placeholder, dtype=tf.float32)
    expected = eval_lib.build_predictions(eval_config, batch, 11)
    tf.train.Saver().restore(sess, tf.train.latest_checkpoint(
        config.train_dir))
    want = sess.run(expected, {placeholder: images})
  with tf.Graph().as_default(), tf.Session() as sess:
    meta = tf.saved_model.loader.load(sess, [tf.saved_model.SERVING],
                                      export_dir)
    signature = meta.signature_def['serving_default']
    got = sess.run(
        {k: signature.outputs[k].name for k in ('labels', 'probabilities')},
        {signature.inputs['images'].name: images})
  assert got['labels'].shape == (2, 37, 41)
  np.testing.assert_array_equal(got['labels'], want['semantic'])
  np.testing.assert_allclose(got['probabilities'], want['semantic_prob'],
                             atol=1e-5)
  with pytest.raises(FileExistsError, match='output_dir'):
    export_lib.export(eval_config, 11, export_dir)


@pytest.mark.slow
def test_scripts_take_deeplabs_flags(segmenter, digit_scenes, tmp_path):
  config, _ = segmenter
  model = []  # the model's own flags, as the run was trained
  for name in ('output_stride', 'atrous_rates', 'decoder_output_stride',
               'aspp_depth', 'decoder_depth'):
    value = segmentation_run.MODEL[name]
    model += ['--%s=%s' % (name, v) for v in (
        value if isinstance(value, tuple) else (value,))]
  train = [sys.executable, 'train_segmentation.py',
           '--train_logdir=%s' % (tmp_path / 'train'),
           '--dataset=digit_scenes', '--dataset_dir=%s' % digit_scenes,
           '--model_variant=resnet_v2_cifar_20', '--train_crop_size=17',
           '--train_batch_size=4', '--training_number_of_steps=2',
           '--base_learning_rate=0.01', '--min_scale_factor=1',
           '--max_scale_factor=1'] + model
  evaluate = [sys.executable, 'eval_segmentation.py',
              '--checkpoint_path=%s' % config.train_dir,
              '--eval_logdir=%s' % (tmp_path / 'eval'),
              '--dataset_dir=%s' % digit_scenes,
              '--model_variant=resnet_v2_cifar_20', '--eval_batch_size=6',
              '--eval_scales=0.75', '--eval_scales=1.0',
              '--add_flipped_images'] + model
  vis = [sys.executable, 'vis_segmentation.py',
         '--checkpoint_path=%s' % config.train_dir,
         '--vis_logdir=%s' % (tmp_path / 'vis'),
         '--dataset_dir=%s' % digit_scenes,
         '--model_variant=resnet_v2_cifar_20', '--num_images=2'] + model
  export = [sys.executable, 'export_segmentation_model.py',
            '--checkpoint_path=%s' % config.train_dir,
            '--output_dir=%s' % (tmp_path / 'exported'), '--num_classes=11',
            '--model_variant=resnet_v2_cifar_20'] + model
  results = subprocesses.run_together(train, evaluate, vis, export,
                                      timeout=600)
  for code, output in results:
    assert code == 0, output[-3000:]
  assert tf.train.latest_checkpoint(str(tmp_path / 'train')).endswith('-2')
  printed = results[1][1]
  summary = json.loads(printed[printed.index('{'):])
  with open(tmp_path / 'eval' / 'eval_results.json') as f:
    assert json.load(f)['mean_iou'] == summary['mean_iou']
  assert sorted(os.listdir(tmp_path / 'vis')) == [
      'validation_00000.png', 'validation_00001.png']
  assert os.path.exists(tmp_path / 'exported' / 'saved_model.pb')
