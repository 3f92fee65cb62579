"""The classification head every ResNet ends with.

Global average pooling, a 1x1 convolution as the fully connected layer, an
optional squeeze of the two unit spatial dimensions, and a softmax. Written
as a 1x1 convolution (not a matmul) so that the published `logits/weights`
of shape [1, 1, C, num_classes] load as they are, and so that with
`global_pool=False` the same weights classify every position of a dense
feature map.
"""

import tensorflow.compat.v1 as tf
import tf_slim as slim

from resnet_utils import layout


def classification_head(net, end_points, num_classes, global_pool,
                        spatial_squeeze, scope_name):
  """Adds pooling, logits and predictions to `net`, recording end points.

  End point keys follow the slim nets: 'global_pool', '<scope>/logits',
  '<scope>/spatial_squeeze' and 'predictions'.

  Args:
    net: 4-D feature tensor from the last block (after any final norm).
    end_points: dict updated in place.
    num_classes: None for features only, else the number of logits.
    global_pool: average over height and width first (kept as 1x1 dims).
    spatial_squeeze: turn [batch, 1, 1, classes] logits into [batch, classes].
    scope_name: name of the network's variable scope, for end point keys.

  Returns:
    The pooled features (num_classes None) or the logits.

  Raises:
    ValueError: when squeezing is asked for but the logits' spatial size is
      known not to be 1x1 (a dense net needs `spatial_squeeze=False`).
  """
  data_format = layout.current_data_format()
  axes = layout.spatial_axes(data_format)
  if global_pool:
    net = tf.reduce_mean(net, axes, name='pool5', keepdims=True)
    end_points['global_pool'] = net
  if num_classes is None:
    return net
  net = slim.conv2d(net, num_classes, [1, 1], activation_fn=None,
                    normalizer_fn=None, scope='logits')
  end_points[scope_name + '/logits'] = net
  if spatial_squeeze:
    shape = net.get_shape()
    spatial = [shape.as_list()[a] for a in axes] if shape.ndims else []
    if any(d is not None and d != 1 for d in spatial):
      raise ValueError(
          'spatial_squeeze=True needs 1x1 logits, but they are %s; pass '
          'spatial_squeeze=False (or global_pool=True) to keep dense logits.'
          % spatial)
    net = tf.squeeze(net, axes, name='SpatialSqueeze')
    end_points[scope_name + '/spatial_squeeze'] = net
  if data_format == 'NCHW' and net.get_shape().ndims == 4:
    # slim.softmax normalizes the last axis; here the classes are axis 1.
    with tf.name_scope('predictions'):
      end_points['predictions'] = tf.nn.softmax(net, axis=1)
  else:
    end_points['predictions'] = slim.softmax(net, scope='predictions')
  return net
