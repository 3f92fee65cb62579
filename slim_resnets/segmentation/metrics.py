"""Segmentation metrics from a confusion matrix: IoU per class, mean IoU.

Evaluation adds every labelled pixel of every image into one confusion
matrix (rows: true class, columns: predicted class; ignored pixels are
left out), then reads everything from it:

  IoU(c)          = TP / (TP + FP + FN) = M[c, c] / (row c + column c - M[c, c])
  mean IoU        = the mean of IoU(c) over the classes present in the truth
                    or in the predictions (a class absent from both has no
                    IoU, rather than a perfect or a zero one)
  pixel accuracy  = trace(M) / sum(M)

This is PASCAL VOC's measure and DeepLab's (`tf.metrics.mean_iou` averages
over the classes whose union is not empty in the same way).
"""

import collections

import numpy as np
import tensorflow.compat.v1 as tf

from slim_resnets.datasets import segmentation_format

Scores = collections.namedtuple(
    'Scores', ['mean_iou', 'per_class_iou', 'pixel_accuracy',
               'num_pixels'])


def confusion_matrix_op(labels, predictions, num_classes,
                        ignore_label=segmentation_format.IGNORE_LABEL):
  """Graph op: int64 [num_classes, num_classes] counts of one batch.

  `labels` and `predictions` are int tensors of the same shape (any rank);
  pixels labelled `ignore_label` are not counted.
  """
  labels = tf.reshape(tf.cast(labels, tf.int64), [-1])
  predictions = tf.reshape(tf.cast(predictions, tf.int64), [-1])
  keep = tf.not_equal(labels, ignore_label)
  labels = tf.boolean_mask(labels, keep)
  predictions = tf.boolean_mask(predictions, keep)
  return tf.math.confusion_matrix(labels, predictions,
                                  num_classes=num_classes, dtype=tf.int64)


def scores(confusion):
  """`Scores` of an accumulated confusion matrix (numpy, int).

  per_class_iou is a list with None for classes absent from both the truth
  and the predictions.
  """
  confusion = np.asarray(confusion, np.float64)
  true_positives = np.diag(confusion)
  union = confusion.sum(0) + confusion.sum(1) - true_positives
  per_class = [float(tp / u) if u > 0 else None
               for tp, u in zip(true_positives, union)]
  present = [iou for iou in per_class if iou is not None]
  total = confusion.sum()
  return Scores(
      mean_iou=float(np.mean(present)) if present else float('nan'),
      per_class_iou=per_class,
      pixel_accuracy=float(true_positives.sum() / total) if total else
      float('nan'),
      num_pixels=int(total))
