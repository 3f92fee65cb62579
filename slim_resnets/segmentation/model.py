"""DeepLab v3 / v3+ over any backbone of `nets.nets_factory`.

The backbone runs densely (`global_pool=False`) at `output_stride`, trading
its last strides for atrous rates. On its features:

* ASPP (atrous spatial pyramid pooling, DeepLab v3): parallel branches that
  see the same features at several fields of view: a 1x1 conv, one 3x3
  conv per atrous rate, and an image-level branch (the features averaged
  over the whole image, a 1x1 conv, spread back over the map). Their
  concatenation is projected back to 256 channels, then dropout.
* An optional decoder (DeepLab v3+): the ASPP output is upsampled to the
  backbone's features at `decoder_output_stride`, concatenated with a
  48-channel projection of them (few channels, so that the coarse but
  semantic features keep the upper hand), and refined by two 3x3 convs.
  The low-level features are found by stride through
  `nets_factory.get_feature_info`, so the decoder works on every backbone,
  not only on those whose end point names someone wrote down.
* The logits: a 1x1 conv with biases to `num_classes`.

Variable scopes are DeepLab's, a public contract: users' DeepLab
checkpoints load, and its fine-tuning habits (exclude `get_extra_layer_scopes`
when initializing from a checkpoint trained on other classes) carry over.

  <backbone>/...                  the backbone, with its own slim names
  image_pooling/                  1x1 conv of the image-level branch
  aspp0/                          1x1 conv branch
  aspp1/, aspp2/, ...             3x3 conv branches, one per atrous rate
  concat_projection/              1x1 conv over the concatenated branches
  decoder/feature_projection0/    1x1 conv of the low-level features
  decoder/decoder_conv0/, decoder/decoder_conv1/
                                  the refining 3x3 convs; with separable
                                  convs `decoder_conv0_depthwise/` and
                                  `decoder_conv0_pointwise/` instead; a
                                  second decoder stage adds the suffix `_1`
  logits/semantic/                the classifier (weights and biases)

Resizing follows DeepLab's convention: bilinear with `align_corners=True`.
It is exact for inputs of size k * output_stride + 1 (DeepLab's 513 is
32 * 16 + 1): the i-th feature sits on pixel i * output_stride, and with
aligned corners that is where the resize puts it. For other sizes the map
is stretched over the image by less than one stride; `resize_to_input`
documents the arithmetic.
"""

import dataclasses
import math
from typing import Optional
from typing import Tuple

import tensorflow.compat.v1 as tf
import tf_slim as slim

from nets import nets_factory
from resnet_utils import checks

IMAGE_POOLING_SCOPE = 'image_pooling'
ASPP_SCOPE = 'aspp'
CONCAT_PROJECTION_SCOPE = 'concat_projection'
DECODER_SCOPE = 'decoder'
LOGITS_SCOPE = 'logits'
SEMANTIC = 'semantic'

# DeepLab v3's rates for output stride 16. The rates exist to see a fixed
# field of view in the image, so at another output stride they scale by
# 16 / output_stride: (12, 24, 36) at 8, as the paper uses.
RATES_AT_STRIDE_16 = (6, 12, 18)

# Initializers of DeepLab's separable convolutions and of its logits.
_DEPTHWISE_STDDEV = 0.33
_POINTWISE_STDDEV = 0.06
_LOGITS_STDDEV = 0.01


def default_atrous_rates(output_stride):
  """ASPP rates for `output_stride`: (6, 12, 18) scaled by 16/output_stride."""
  checks.check_int(output_stride, 'output_stride')
  return tuple(max(1, rate * 16 // output_stride)
               for rate in RATES_AT_STRIDE_16)


def _int_tuple(value, argument, allow_empty=True):
  """`value` (an int, a sequence of ints or None) as a tuple, checked."""
  if value is None:
    return None
  if isinstance(value, int) and not isinstance(value, bool):
    value = (value,)
  try:
    value = tuple(value)
  except TypeError:
    raise ValueError('%s must be a positive integer or a sequence of them; '
                     'got %r.' % (argument, value)) from None
  if not value and not allow_empty:
    raise ValueError('%s must not be empty.' % argument)
  for item in value:
    checks.check_int(item, argument + ' entries')
  return value


@dataclasses.dataclass(frozen=True)
class ModelOptions:
  """What a DeepLab model is: its backbone, classes and head.

  Attributes:
    model_variant: a name of `nets.nets_factory.networks_map`.
    num_classes: logits per pixel, background included.
    output_stride: image-to-feature ratio of the backbone (DeepLab: 16 to
      train, 8 for the best evaluation).
    atrous_rates: rates of the ASPP's 3x3 branches; None for
      `default_atrous_rates(output_stride)`, () for none (1x1 and image
      pooling only).
    multi_grid: unit rates of the backbone's last block (DeepLab: 1, 2, 4).
    decoder_output_stride: None for DeepLab v3; for v3+ the stride (or
      strides, coarse to fine) of the low-level features the decoder adds.
    image_pooling: add the image-level branch.
    aspp_depth, decoder_depth, projection_depth: channels of the ASPP
      branches, of the decoder's convs, of the low-level projection.
    decoder_use_separable_conv: the decoder's 3x3 convs as a depthwise conv
      then a pointwise conv (DeepLab's default), else plain convs.
    dropout_keep_prob: after the concat projection, when training.
    weight_decay: L2 on the conv weights, backbone included.
    batch_norm_decay: moving-average decay of every batch norm (DeepLab:
      0.9997, which needs long runs; short runs want ~0.99).
  """
  model_variant: str
  num_classes: int
  output_stride: int = 16
  atrous_rates: Optional[Tuple[int, ...]] = None
  multi_grid: Optional[Tuple[int, ...]] = None
  decoder_output_stride: Optional[Tuple[int, ...]] = None
  image_pooling: bool = True
  aspp_depth: int = 256
  decoder_depth: int = 256
  projection_depth: int = 48
  decoder_use_separable_conv: bool = True
  dropout_keep_prob: float = 0.9
  weight_decay: float = 1e-4
  batch_norm_decay: float = 0.9997

  def __post_init__(self):
    nets_factory.check_name(self.model_variant, 'model_variant')
    checks.check_int(self.num_classes, 'num_classes')
    checks.check_int(self.output_stride, 'output_stride')
    rates = _int_tuple(self.atrous_rates, 'atrous_rates')
    if rates is None:
      rates = default_atrous_rates(self.output_stride)
    object.__setattr__(self, 'atrous_rates', rates)
    object.__setattr__(self, 'multi_grid',
                       _int_tuple(self.multi_grid, 'multi_grid',
                                  allow_empty=False))
    object.__setattr__(self, 'decoder_output_stride',
                       _int_tuple(self.decoder_output_stride,
                                  'decoder_output_stride',
                                  allow_empty=False))
    for name in ('aspp_depth', 'decoder_depth', 'projection_depth'):
      checks.check_int(getattr(self, name), name)
    if not 0 < self.dropout_keep_prob <= 1:
      raise ValueError('dropout_keep_prob must be in (0, 1]; got %r.'
                       % (self.dropout_keep_prob,))
    if not 0 <= self.weight_decay < math.inf:
      raise ValueError('weight_decay must be a finite number >= 0; got %r.'
                       % (self.weight_decay,))
    if not 0 <= self.batch_norm_decay < 1:
      raise ValueError('batch_norm_decay must be in [0, 1); got %r.'
                       % (self.batch_norm_decay,))
    self.feature_info()  # checks output_stride and multi_grid
    self.decoder_end_points()  # checks the decoder strides

  def feature_info(self):
    """The backbone's `FeatureInfo`s at this output stride and multi-grid."""
    return nets_factory.get_feature_info(
        self.model_variant, output_stride=self.output_stride,
        multi_grid=self.multi_grid)

  def decoder_end_points(self):
    """[(stride, end point key)] the decoder reads, coarse to fine.

    Each is the deepest end point at that stride. Raises a ValueError
    naming the strides the backbone offers below `output_stride`.
    """
    if self.decoder_output_stride is None:
      return []
    infos = self.feature_info()
    offered = sorted({i.stride for i in infos if i.stride < self.output_stride},
                     reverse=True)
    strides = self.decoder_output_stride
    if (any(s not in offered for s in strides) or
        list(strides) != sorted(set(strides), reverse=True)):
      raise ValueError(
          'decoder_output_stride must be strides of %s below output_stride=%d,'
          ' coarse to fine, from %s; got %s.'
          % (self.model_variant, self.output_stride, offered,
             ', '.join(map(str, strides))))
    return [(s, [i.end_point for i in infos if i.stride == s][-1])
            for s in strides]

  @property
  def logits_stride(self):
    """The stride of the logits before they are resized to the input."""
    return (self.decoder_output_stride[-1] if self.decoder_output_stride
            else self.output_stride)


def get_extra_layer_scopes(last_layers_contain_logits_only=False,
                           options=None):
  """Scopes of the layers on top of the backbone (DeepLab's function).

  Exclude them when initializing from a checkpoint trained for other
  classes (`--initialize_last_layer=false`), or train them with a larger
  learning rate. With `last_layers_contain_logits_only` only the logits.

  Without `options` the names are DeepLab's prefixes ('aspp' stands for
  'aspp0', 'aspp1', ...), for code that matches scopes by prefix such as
  `slim.get_variables_to_restore(exclude=...)`. With the `ModelOptions`
  they are the exact scopes of that model, for matching scope by scope
  (as `--checkpoint_exclude_scopes` does).
  """
  if last_layers_contain_logits_only:
    return [LOGITS_SCOPE]
  if options is None:
    aspp = [ASPP_SCOPE]
  else:
    aspp = ['%s%d' % (ASPP_SCOPE, i)
            for i in range(len(options.atrous_rates) + 1)]
  return [LOGITS_SCOPE, IMAGE_POOLING_SCOPE] + aspp + [
      CONCAT_PROJECTION_SCOPE, DECODER_SCOPE]


def spatial_size(tensor):
  """[height, width] of an NHWC tensor: ints where known, else a tensor."""
  static = tensor.get_shape().as_list()[1:3]
  if all(d is not None for d in static):
    return static
  return tf.shape(tensor)[1:3]


def resize_bilinear(images, size):
  """Bilinear resize with aligned corners, DeepLab's convention, in float32."""
  return tf.image.resize_bilinear(tf.cast(images, tf.float32), size,
                                  align_corners=True)


def scale_dimension(dim, scale):
  """A length scaled so that k * stride + 1 stays of that form: (dim-1)*s+1.

  `dim` is an int or a scalar int tensor.
  """
  if isinstance(dim, int):
    return int((dim - 1) * scale + 1)
  return tf.cast(tf.cast(dim - 1, tf.float32) * scale + 1.0, tf.int32)


def resize_to_input(logits, images):
  """Logits resized to the spatial size of `images`.

  With aligned corners the first and last features land on the first and
  last pixels. A backbone with 'SAME' padding puts its i-th feature over
  pixel i * stride; so for an input of k * stride + 1 pixels (k + 1
  features) every feature lands exactly where it was computed. For another
  size H the k + 1 = ceil(H / stride) features are spread over H - 1
  instead of k * stride pixels, a stretch of less than one stride over the
  image: DeepLab's behaviour, kept so that its numbers are ours.
  """
  return resize_bilinear(logits, spatial_size(images))


def head_arg_scope(options, is_training):
  """Defaults of the layers on top of the backbone (DeepLab's)."""
  batch_norm_params = {'is_training': is_training,
                       'decay': options.batch_norm_decay, 'epsilon': 1e-5,
                       'scale': True}
  with slim.arg_scope(
      [slim.conv2d, slim.separable_conv2d],
      weights_regularizer=slim.l2_regularizer(options.weight_decay),
      activation_fn=tf.nn.relu, normalizer_fn=slim.batch_norm,
      padding='SAME', stride=1):
    with slim.arg_scope([slim.batch_norm], **batch_norm_params) as scope:
      return scope


def aspp(features, options, is_training):
  """The ASPP branches, concatenated, projected and dropped out."""
  depth = options.aspp_depth
  branches = []
  if options.image_pooling:
    pooled = tf.reduce_mean(features, [1, 2], keepdims=True)
    pooled = slim.conv2d(pooled, depth, 1, scope=IMAGE_POOLING_SCOPE)
    branches.append(resize_bilinear(pooled, spatial_size(features)))
  branches.append(slim.conv2d(features, depth, 1, scope=ASPP_SCOPE + '0'))
  for index, rate in enumerate(options.atrous_rates, 1):
    branches.append(slim.conv2d(features, depth, 3, rate=rate,
                                scope=ASPP_SCOPE + str(index)))
  net = tf.concat(branches, 3)
  net = slim.conv2d(net, depth, 1, scope=CONCAT_PROJECTION_SCOPE)
  return slim.dropout(net, keep_prob=options.dropout_keep_prob,
                      is_training=is_training,
                      scope=CONCAT_PROJECTION_SCOPE + '_dropout')


def _refining_conv(net, depth, separable, weight_decay, scope):
  """A 3x3 conv, or a depthwise 3x3 then a pointwise 1x1 (DeepLab's split)."""
  if not separable:
    return slim.conv2d(net, depth, 3, scope=scope)
  net = slim.separable_conv2d(
      net, None, 3, depth_multiplier=1,
      weights_initializer=tf.truncated_normal_initializer(
          stddev=_DEPTHWISE_STDDEV),
      weights_regularizer=None, scope=scope + '_depthwise')
  return slim.conv2d(
      net, depth, 1,
      weights_initializer=tf.truncated_normal_initializer(
          stddev=_POINTWISE_STDDEV),
      weights_regularizer=slim.l2_regularizer(weight_decay),
      scope=scope + '_pointwise')


def refine_by_decoder(features, end_points, options):
  """DeepLab v3+'s decoder: one refining stage per decoder stride."""
  with tf.variable_scope(DECODER_SCOPE, DECODER_SCOPE, [features]):
    for stage, (_, key) in enumerate(options.decoder_end_points()):
      suffix = '_%d' % stage if stage else ''
      low_level = slim.conv2d(end_points[key], options.projection_depth, 1,
                              scope='feature_projection%d' % stage)
      net = tf.concat([resize_bilinear(features, spatial_size(low_level)),
                       low_level], 3)
      for index in range(2):
        net = _refining_conv(net, options.decoder_depth,
                             options.decoder_use_separable_conv,
                             options.weight_decay,
                             'decoder_conv%d%s' % (index, suffix))
      features = net
  return features


def semantic_logits(features, options):
  """`logits/semantic`: a 1x1 conv with biases, no norm, no activation."""
  with tf.variable_scope(LOGITS_SCOPE, LOGITS_SCOPE, [features]):
    return slim.conv2d(
        features, options.num_classes, 1, activation_fn=None,
        normalizer_fn=None,
        weights_initializer=tf.truncated_normal_initializer(
            stddev=_LOGITS_STDDEV),
        weights_regularizer=slim.l2_regularizer(options.weight_decay),
        scope=SEMANTIC)


def logits(images, options, is_training=False, fine_tune_batch_norm=False,
           reuse=None):
  """Per-pixel logits at `options.logits_stride`, and the end points.

  Args:
    images: float [batch, height, width, 3], preprocessed for the backbone;
      height and width may be unknown when the graph is built.
    options: a `ModelOptions`.
    is_training: dropout on; batch norm too if `fine_tune_batch_norm`.
    fine_tune_batch_norm: train batch norm (batch statistics, moving
      averages updated through UPDATE_OPS) in the backbone and the head.
      DeepLab's advice: only with a batch of 12 or more per step; smaller
      batches keep the backbone's statistics frozen.
    reuse: reuse the variables (a second scale or a flipped copy).

  Returns:
    (logits [batch, h, w, num_classes], end points of the backbone plus
    'logits/semantic').
  """
  checks.require_graph_mode('segmentation.model.logits')
  train_norm = is_training and fine_tune_batch_norm
  network_fn = nets_factory.get_network_fn(
      options.model_variant, num_classes=None,
      weight_decay=options.weight_decay, is_training=train_norm,
      batch_norm_decay=options.batch_norm_decay)
  features, end_points = network_fn(
      images, global_pool=False, output_stride=options.output_stride,
      multi_grid=options.multi_grid, reuse=reuse)
  # The head's variables sit at the top of the current variable scope, as
  # DeepLab's do; its ops stay in the current name scope (a clone's, say).
  with tf.variable_scope(tf.get_variable_scope(), reuse=reuse,
                         auxiliary_name_scope=False):
    with slim.arg_scope(head_arg_scope(options, train_norm)):
      net = aspp(features, options, is_training)
      if options.decoder_output_stride:
        net = refine_by_decoder(net, end_points, options)
      net = semantic_logits(net, options)
  end_points = dict(end_points)
  end_points[LOGITS_SCOPE + '/' + SEMANTIC] = net
  return net, end_points


def predict(images, options, eval_scales=(1.0,), add_flipped_images=False,
            reuse=None):
  """Labels and class probabilities at the input's size.

  With several `eval_scales` (DeepLab: 0.5 to 1.75) the image is resized to
  each (length (L - 1) * scale + 1), and with `add_flipped_images` also
  mirrored; the softmax probabilities of all runs, resized to the input and
  mirrored back, are averaged, and the labels are their argmax. A mirrored
  copy runs in the same batch as the original. `reuse` applies to the first
  scale (the others always reuse its variables).

  Returns:
    {'semantic': int32 [batch, height, width],
     'semantic_prob': float32 [batch, height, width, num_classes]}.
  """
  scales = tuple(eval_scales)
  if not scales:
    raise ValueError('eval_scales must name at least one scale.')
  for scale in scales:
    checks.check_positive_number(scale, 'eval_scales entries')
  size = spatial_size(images)
  height, width = size[0], size[1]
  probabilities = []
  for index, scale in enumerate(scales):
    scaled = images
    if scale != 1.0:
      scaled = resize_bilinear(images, [scale_dimension(height, scale),
                                        scale_dimension(width, scale)])
    batch = tf.shape(scaled)[0]
    if add_flipped_images:
      scaled = tf.concat([scaled, tf.reverse(scaled, [2])], 0)
    out, _ = logits(scaled, options, reuse=True if index else reuse)
    out = tf.nn.softmax(resize_bilinear(out, [height, width]))
    if add_flipped_images:
      probabilities.append(out[:batch])
      probabilities.append(tf.reverse(out[batch:], [2]))
    else:
      probabilities.append(out)
  probability = tf.add_n(probabilities) / float(len(probabilities))
  return {'semantic': tf.argmax(probability, 3, output_type=tf.int32),
          'semantic_prob': probability}
