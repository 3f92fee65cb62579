"""The default `arg_scope` shared by every ResNet in this project."""

import tensorflow.compat.v1 as tf
import tf_slim as slim

from resnet_utils import layout

# The defaults of every ResNet here, graph builders and Keras models alike.
WEIGHT_DECAY = 0.0001
BATCH_NORM_DECAY = 0.997
BATCH_NORM_EPSILON = 1e-5


def resnet_arg_scope(weight_decay=WEIGHT_DECAY,
                     batch_norm_decay=BATCH_NORM_DECAY,
                     batch_norm_epsilon=BATCH_NORM_EPSILON,
                     batch_norm_scale=True,
                     activation_fn=tf.nn.relu,
                     use_batch_norm=True,
                     batch_norm_updates_collections=tf.GraphKeys.UPDATE_OPS,
                     data_format='NHWC'):
  """Defaults for convolutions, batch norm and pooling in a ResNet.

  The batch norm defaults (decay 0.997, epsilon 1e-5, learned scale) are the
  ones the original ResNet models were trained with; they are what the
  published slim checkpoints expect. Training from scratch on small data may
  prefer a smaller decay so that the moving statistics catch up sooner.

  Convolutions get He (fan-in, gain 2) initialization and L2 weight decay.
  Their default normalizer is batch norm, which is why most convolutions in
  the nets carry no biases; the few that must have biases say so explicitly.
  Max pooling uses 'SAME' padding so that the root block's pool keeps the
  border pixels and produces ceil(size / 2) outputs.

  Args:
    weight_decay: L2 regularization strength for convolution weights.
    batch_norm_decay: decay of the moving mean and variance.
    batch_norm_epsilon: added to the variance before normalizing.
    batch_norm_scale: learn a `gamma` multiplier after normalizing.
    activation_fn: activation of convolutions that do not override it.
    use_batch_norm: normalize convolution outputs with batch norm.
    batch_norm_updates_collections: collection that receives the moving
      average update ops (run them with the train op), or None to update the
      statistics in place at every forward pass in training mode.
    data_format: 'NHWC' (channels last, the default) or 'NCHW' (channels
      first, faster with cuDNN). Inputs must then be in that layout, and so
      are all end points; variables are identical (see resnet_utils.layout).

  Returns:
    An `arg_scope` to enter with `with slim.arg_scope(...)`.
  """
  layout.check_data_format(data_format)
  batch_norm_params = {
      'decay': batch_norm_decay,
      'epsilon': batch_norm_epsilon,
      'scale': batch_norm_scale,
      'updates_collections': batch_norm_updates_collections,
      'fused': None,  # Let slim use the fused kernel wherever it applies.
      'data_format': data_format,
  }
  with slim.arg_scope(
      [slim.conv2d],
      weights_regularizer=slim.l2_regularizer(weight_decay),
      weights_initializer=slim.variance_scaling_initializer(),
      data_format=data_format,
      activation_fn=activation_fn,
      normalizer_fn=slim.batch_norm if use_batch_norm else None,
      normalizer_params=batch_norm_params):
    with slim.arg_scope([slim.batch_norm], **batch_norm_params):
      with slim.arg_scope([slim.max_pool2d], padding='SAME',
                          data_format=data_format) as scope:
        return scope
