"""Tests of `slim_resnets.segmentation.metrics` against hand computation."""

import numpy as np
import tensorflow.compat.v1 as tf

from slim_resnets.segmentation import metrics


def test_scores_of_a_hand_computed_confusion_matrix():
  # Rows: truth, columns: prediction. Class 3 appears nowhere.
  confusion = [[5, 1, 0, 0],
               [2, 3, 1, 0],
               [0, 0, 4, 0],
               [0, 0, 0, 0]]
  found = metrics.scores(confusion)
  # IoU = TP / (row + column - TP)
  iou = [5 / (6 + 7 - 5), 3 / (6 + 4 - 3), 4 / (4 + 5 - 4)]
  assert found.per_class_iou[:3] == [iou[0], iou[1], iou[2]]
  assert found.per_class_iou[3] is None
  assert abs(found.mean_iou - np.mean(iou)) < 1e-12
  assert found.pixel_accuracy == 12 / 16
  assert found.num_pixels == 16


def test_confusion_matrix_leaves_out_ignored_pixels(graph):
  labels = np.array([[0, 1, 255], [2, 255, 1]])
  predictions = np.array([[0, 2, 1], [2, 0, 1]])
  op = metrics.confusion_matrix_op(tf.constant(labels),
                                   tf.constant(predictions), 3)
  with tf.Session() as sess:
    confusion = sess.run(op)
  np.testing.assert_array_equal(confusion, [[1, 0, 0], [0, 1, 1], [0, 0, 1]])
