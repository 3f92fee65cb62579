"""Tests of `slim_resnets.segmentation.losses`."""

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from slim_resnets.segmentation import losses


def _cross_entropy(logits, label):
  shifted = logits - logits.max()
  return np.log(np.exp(shifted).sum()) - shifted[label]


def test_mean_over_labelled_pixels_ignores_the_rest(graph):
  rng = np.random.RandomState(0)
  logits = rng.randn(1, 3, 3, 4).astype(np.float32)
  labels = np.array([[[0, 1, 255], [3, 255, 2], [1, 1, 0]]])
  loss = losses.pixel_cross_entropy(tf.constant(logits),
                                    tf.constant(labels[..., None]), 4)
  with tf.Session() as sess:
    value = sess.run(loss)
  expected = np.mean([_cross_entropy(logits[0, i, j], labels[0, i, j])
                      for i in range(3) for j in range(3)
                      if labels[0, i, j] != 255])
  assert abs(value - expected) < 1e-5
  other = logits.copy()
  other[0, 0, 2] += 100  # an ignored pixel's logits never matter
  with tf.Session() as sess:
    assert abs(sess.run(losses.pixel_cross_entropy(
        tf.constant(other), tf.constant(labels[..., None]), 4)) - value) < 1e-5


def test_logits_are_upsampled_to_the_labels(graph):
  """Constant logits map to constant probabilities at any label size."""
  logits = np.zeros((2, 3, 3, 5), np.float32)
  logits[..., 2] = 1.0
  labels = np.full((2, 9, 9, 1), 2)
  loss = losses.pixel_cross_entropy(tf.constant(logits), tf.constant(labels),
                                    5)
  with tf.Session() as sess:
    value = sess.run(loss)
  assert abs(value - _cross_entropy(logits[0, 0, 0], 2)) < 1e-5


def test_top_k_keeps_the_hardest_pixels(graph):
  logits = np.zeros((1, 1, 4, 2), np.float32)
  logits[0, 0, :, 0] = [4.0, 2.0, 0.0, -2.0]  # growing loss for class 1
  labels = np.ones((1, 1, 4, 1), np.int64)
  loss = losses.pixel_cross_entropy(tf.constant(logits), tf.constant(labels),
                                    2, top_k_percent_pixels=0.5)
  with tf.Session() as sess:
    value = sess.run(loss)
  expected = np.mean([_cross_entropy(np.array([v, 0.0]), 1)
                      for v in (4.0, 2.0)])
  assert abs(value - expected) < 1e-5
  with pytest.raises(ValueError, match=r'top_k_percent_pixels must be in'):
    losses.pixel_cross_entropy(tf.constant(logits), tf.constant(labels), 2,
                               top_k_percent_pixels=0.0)
