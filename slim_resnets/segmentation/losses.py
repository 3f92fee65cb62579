"""The pixel-wise loss of semantic segmentation (DeepLab's).

Softmax cross-entropy per pixel, averaged over the pixels that carry a
label: those marked `IGNORE_LABEL` weigh nothing, so object boundaries and
crop padding teach the model nothing either way. The logits, computed at the
model's stride, are upsampled to the label map (bilinear, aligned corners)
rather than the labels downsampled, so every labelled pixel counts at full
resolution. Optionally only the hardest `top_k_percent_pixels` count
(online hard example mining).
"""

import tensorflow.compat.v1 as tf

from slim_resnets.datasets import segmentation_format
from slim_resnets.segmentation import model as model_lib


def pixel_cross_entropy(logits, labels, num_classes,
                        ignore_label=segmentation_format.IGNORE_LABEL,
                        top_k_percent_pixels=1.0):
  """Mean cross-entropy over the labelled pixels; a scalar float32.

  Args:
    logits: [batch, h, w, num_classes] at any stride.
    labels: int [batch, H, W, 1] or [batch, H, W].
    num_classes: classes of the logits.
    ignore_label: the label of pixels that do not count.
    top_k_percent_pixels: in (0, 1]; below 1 only that share of the
      labelled pixels with the largest losses counts.
  """
  if not 0 < top_k_percent_pixels <= 1:
    raise ValueError('top_k_percent_pixels must be in (0, 1]; got %r.'
                     % (top_k_percent_pixels,))
  if labels.get_shape().ndims == 4:
    labels = labels[..., 0]
  logits = model_lib.resize_bilinear(logits, model_lib.spatial_size(
      labels[..., tf.newaxis]))
  labels = tf.reshape(tf.cast(labels, tf.int32), [-1])
  logits = tf.reshape(logits, [-1, num_classes])
  weights = tf.cast(tf.not_equal(labels, ignore_label), tf.float32)
  # Ignored pixels get some valid class; their weight of 0 removes them.
  safe_labels = tf.where(tf.equal(weights, 1.0), labels,
                         tf.zeros_like(labels))
  losses = tf.nn.sparse_softmax_cross_entropy_with_logits(
      labels=safe_labels, logits=logits) * weights
  if top_k_percent_pixels == 1.0:
    return tf.reduce_sum(losses) / tf.maximum(tf.reduce_sum(weights), 1.0)
  num_labelled = tf.reduce_sum(weights)
  k = tf.maximum(1, tf.cast(num_labelled * top_k_percent_pixels, tf.int32))
  hardest, _ = tf.nn.top_k(losses, k=k, sorted=False)
  return tf.reduce_sum(hardest) / tf.cast(k, tf.float32)
