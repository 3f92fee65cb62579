"""Tests of `slim_resnets.preprocessing.segmentation_preprocessing`.

The image and the labels must go through the same scale, crop and flip: the
tests use label maps computed from the image itself (a label per pixel that
encodes its position), so any misalignment shows.
"""

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from slim_resnets.preprocessing import segmentation_preprocessing as seg

IGNORE = 255


def _position_image(height, width):
  """uint8 image whose red channel is the row and green the column, with
  labels that are the column's value as well (so they can be compared)."""
  rows, cols = np.mgrid[:height, :width]
  image = np.stack([rows * 7 % 256, cols * 5 % 256, np.zeros_like(rows)],
                   -1).astype(np.uint8)
  label = (cols % 250)[..., None].astype(np.uint8)
  return image, label


def test_crops_and_flips_keep_image_and_labels_aligned(graph):
  image, label = _position_image(40, 37)
  out_image, out_label = seg.preprocess_for_train(
      tf.constant(image), tf.constant(label), (24, 24), 'vgg', IGNORE,
      seed=1)
  with tf.Session() as sess:
    for _ in range(10):
      got_image, got_label = sess.run([out_image, out_label])
      assert got_image.shape == (24, 24, 3) and got_label.shape == (24, 24, 1)
      green = got_image[..., 1] + 116.78  # undo the vgg mean
      # Labels are the column; the green channel is 5 * column.
      np.testing.assert_allclose(green, (got_label[..., 0] * 5) % 256,
                                 atol=1e-3)


def test_padding_gets_the_ignore_label_and_zero_pixels(graph):
  image, label = _position_image(10, 12)
  out_image, out_label = seg.preprocess_for_train(
      tf.constant(image), tf.constant(label), (16, 20), 'inception', IGNORE,
      flip=False, seed=2)
  with tf.Session() as sess:
    got_image, got_label = sess.run([out_image, out_label])
  # The crop is larger than the image: everything is there, padded after.
  np.testing.assert_array_equal(got_label[:10, :12, 0], label[..., 0])
  assert np.all(got_label[10:] == IGNORE) and np.all(got_label[:, 12:] ==
                                                     IGNORE)
  assert np.all(got_image[10:] == 0) and np.all(got_image[:, 12:] == 0)
  np.testing.assert_allclose(got_image[:10, :12],
                             image / 255.0 * 2 - 1, atol=1e-6)


def test_random_scale_resizes_labels_by_nearest_neighbour(graph):
  image, label = _position_image(30, 30)
  out_image, out_label = seg.preprocess_for_train(
      tf.constant(image), tf.constant(label), (30, 30), 'cifarnet', IGNORE,
      min_scale_factor=0.5, max_scale_factor=2.0, scale_factor_step_size=0.5,
      flip=False, seed=3)
  with tf.Session() as sess:
    for _ in range(8):
      got = sess.run(out_label)
      # Nearest neighbour: no label value that was not in the map (columns
      # 0..29, or the padding's ignore label).
      assert set(np.unique(got)) <= set(range(30)) | {IGNORE}


def test_scale_steps_draw_only_the_steps(graph):
  scale = seg.random_scale_factor(0.5, 2.0, 0.5, seed=4)
  with tf.Session() as sess:
    drawn = {round(float(sess.run(scale)), 6) for _ in range(60)}
  assert drawn == {0.5, 1.0, 1.5, 2.0}


@pytest.mark.parametrize('args, message', [
    ((0.0, 1.0, 0.25), 'min_scale_factor must be a finite number > 0'),
    ((2.0, 1.0, 0.25), r'max_scale_factor \(1.0\) must be >= '
                       r'min_scale_factor \(2.0\)'),
    ((0.5, 1.0, -1.0), 'scale_factor_step_size must be >= 0'),
])
def test_bad_scales_name_the_flag(args, message):
  with pytest.raises(ValueError, match=message):
    seg.check_scales(*args)


def test_unknown_normalization_lists_the_known_ones(graph):
  with pytest.raises(ValueError, match='preprocessing_name must be one of '
                     'vgg, inception, cifarnet'):
    seg.normalize(tf.zeros([2, 2, 3], tf.uint8), 'imagenet')
