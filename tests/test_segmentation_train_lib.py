"""Tests of segmentation training and evaluation on a few digit scenes.

A narrow DeepLab v3+ head on resnet_v2_cifar_20 trains for a few dozen
steps on 25x25 crops; the shared loop's own robustness (resume, signals,
clusters) is tested with the classification task in test_train_lib.py and
test_local_cluster.py, so here it is what the segmentation task adds: its
inputs, model and loss train, DeepLab's initialization rule restores a
classification backbone, and evaluation counts every labelled pixel.
"""

import dataclasses
import json
import os

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from slim_resnets.datasets import convert_digit_scenes
from slim_resnets.segmentation import eval_lib
from slim_resnets.segmentation import metrics
from slim_resnets.segmentation import train_lib
from slim_resnets.training import checkpoints

import digits_run
import segmentation_run

pytestmark = pytest.mark.xdist_group(segmentation_run.GROUP)


def test_loss_falls(segmenter):
  _, result = segmenter
  losses = [loss for _, loss, _, _ in result.history]
  assert result.global_step == segmentation_run.STEPS
  assert np.mean(losses[-3:]) < 0.6 * np.mean(losses[:3]), losses


def test_checkpoint_holds_the_backbone_and_deeplab_head(segmenter):
  config, _ = segmenter
  names = tf.train.load_checkpoint(config.train_dir).get_variable_to_shape_map()
  for name in ('resnet_v2_cifar_20/conv1/weights', 'aspp0/weights',
               'aspp2/weights', 'image_pooling/weights',
               'concat_projection/weights',
               'decoder/feature_projection0/weights',
               'decoder/decoder_conv1_pointwise/weights',
               'logits/semantic/weights', 'logits/semantic/biases'):
    assert name in names, name
  assert names['logits/semantic/weights'] == [1, 1, 16, 11]
  assert not any(n.startswith('resnet_v2_cifar_20/logits') for n in names)


def test_evaluation_counts_every_labelled_pixel(segmenter, digit_scenes,
                                                tmp_path):
  config, _ = segmenter
  eval_config = segmentation_run.eval_config(
      config.train_dir, digit_scenes, tmp_path / 'eval')
  results = eval_lib.evaluate(eval_config)
  with open(os.path.join(digit_scenes, 'dataset_info.json')) as f:
    counts = json.load(f)['splits']['validation']['class_counts']
  confusion = np.array(results['confusion_matrix'])
  assert confusion.sum() == sum(counts.values()) == results['num_pixels']
  np.testing.assert_array_equal(confusion.sum(1), [
      counts.get(str(c), 0) for c in range(11)])
  assert results['num_images'] == segmentation_run.NUM_VALIDATION
  assert results['global_step'] == segmentation_run.STEPS
  assert results['mean_iou'] == metrics.scores(confusion).mean_iou
  assert set(results['per_class_iou']) == set(
      convert_digit_scenes.CLASS_NAMES)
  with open(tmp_path / 'eval' / 'eval_results.json') as f:
    assert json.load(f)['mean_iou'] == results['mean_iou']
  # Flipped and multi-scale evaluation runs the same checkpoint.
  both = eval_lib.evaluate(dataclasses.replace(
      eval_config, eval_scales=(0.75, 1.0), add_flipped_images=True,
      max_num_batches=1))
  assert both['num_images'] == 4 and 0 <= both['mean_iou'] <= 1


def test_backbone_from_a_classification_checkpoint(trained, digit_scenes,
                                                   tmp_path):
  """DeepLab's --noinitialize_last_layer: the head starts afresh, the
  backbone is the classifier's (here frozen, so it must stay equal)."""
  _, classifier = trained
  head = ','.join(['aspp0', 'aspp1', 'aspp2', 'image_pooling',
                   'concat_projection', 'logits'])
  config = segmentation_run.train_config(
      tmp_path / 'train', digit_scenes, model_name=digits_run.MODEL,
      decoder_output_stride=None,
      checkpoint_path=classifier, initialize_last_layer=False,
      trainable_scopes=head, fine_tune_batch_norm=False,
      max_number_of_steps=3)
  train_lib.train(config)
  ours = tf.train.load_checkpoint(str(tmp_path / 'train'))
  theirs = tf.train.load_checkpoint(classifier)
  backbone = [n for n in theirs.get_variable_to_shape_map()
              if n.startswith(digits_run.MODEL + '/') and
              '/logits/' not in n and 'Momentum' not in n and
              'ExponentialMovingAverage' not in n]
  assert len(backbone) > 50
  for name in backbone:
    np.testing.assert_array_equal(ours.get_tensor(name),
                                  theirs.get_tensor(name), err_msg=name)
  # Initializing the head from it too cannot work, and says why.
  with pytest.raises(checkpoints.CheckpointMismatchError,
                     match='aspp0/weights'):
    train_lib.train(dataclasses.replace(
        config, train_dir=str(tmp_path / 'other'),
        initialize_last_layer=True))
  assert not os.path.exists(tmp_path / 'other' / 'checkpoint')


@pytest.mark.parametrize('overrides, message', [
    (dict(train_crop_size=(25, 25, 3)), 'train_crop_size must be one size'),
    (dict(output_stride=8), 'output_stride must be None'),
    (dict(min_scale_factor=2.0), 'max_scale_factor'),
    (dict(precision='float16'), 'segmentation trains in float32'),
    (dict(preprocessing_name='imagenet'), 'preprocessing_name'),
    (dict(dataset_name='digits'), 'dataset digits is a classification '
     'dataset, and this job needs a segmentation one: digit_scenes'),
])
def test_bad_settings_fail_before_any_work(tmp_path, digit_scenes,
                                           overrides, message):
  config = segmentation_run.train_config(tmp_path / 'train', digit_scenes,
                                         **overrides)
  with pytest.raises(ValueError, match=message):
    train_lib.train(config)
  assert not os.path.exists(tmp_path / 'train')
