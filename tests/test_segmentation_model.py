"""Tests of `slim_resnets.segmentation.model`: DeepLab v3/v3+ on the backbones.

Heads are built narrow (few channels) on the smallest backbones, so each
graph takes a second or two; which backbone end point the decoder reads is
checked for one net of every kind from the feature descriptions alone.
"""

import numpy as np
import oracle as oracle_lib
import pytest
import tensorflow.compat.v1 as tf

from nets import nets_factory
from slim_resnets.segmentation import model as model_lib

NARROW = dict(aspp_depth=8, decoder_depth=8, projection_depth=4)


def _options(**overrides):
  values = dict(model_variant='resnet_v2_cifar_20', num_classes=5,
                output_stride=4, atrous_rates=(1, 2), **NARROW)
  values.update(overrides)
  return model_lib.ModelOptions(**values)


def _head_shapes():
  return {v.op.name: v.shape.as_list() for v in tf.global_variables()
          if not v.op.name.startswith('resnet_')}


def test_default_atrous_rates_scale_with_the_output_stride():
  assert model_lib.default_atrous_rates(16) == (6, 12, 18)
  assert model_lib.default_atrous_rates(8) == (12, 24, 36)
  assert model_lib.default_atrous_rates(32) == (3, 6, 9)
  options = model_lib.ModelOptions('resnet_v1_50', 21, output_stride=8)
  assert options.atrous_rates == (12, 24, 36)
  assert model_lib.ModelOptions('resnet_v1_50', 21, atrous_rates=[4]
                                ).atrous_rates == (4,)


def test_v3_head_variables_have_deeplab_names_and_shapes(graph):
  images = tf.placeholder(tf.float32, [2, 33, 33, 3])
  model_lib.logits(images, _options())
  shapes = _head_shapes()
  # The cifar backbone ends in 64 channels.
  assert shapes['image_pooling/weights'] == [1, 1, 64, 8]
  assert shapes['aspp0/weights'] == [1, 1, 64, 8]
  assert shapes['aspp1/weights'] == [3, 3, 64, 8]
  assert shapes['aspp2/weights'] == [3, 3, 64, 8]
  assert shapes['concat_projection/weights'] == [1, 1, 4 * 8, 8]
  assert shapes['logits/semantic/weights'] == [1, 1, 8, 5]
  assert shapes['logits/semantic/biases'] == [5]
  for scope in ('image_pooling', 'aspp0', 'aspp1', 'aspp2',
                'concat_projection'):
    for name in ('gamma', 'beta', 'moving_mean', 'moving_variance'):
      assert shapes['%s/BatchNorm/%s' % (scope, name)] == [8]
    assert scope + '/biases' not in shapes
  assert not any(n.startswith('decoder/') for n in shapes)
  assert 'logits/semantic/BatchNorm/gamma' not in shapes


@pytest.mark.parametrize('separable', [True, False])
def test_v3_plus_decoder_variables(graph, separable):
  images = tf.placeholder(tf.float32, [2, 33, 33, 3])
  model_lib.logits(images, _options(decoder_output_stride=2,
                                    decoder_use_separable_conv=separable))
  shapes = _head_shapes()
  # The stride-2 features of resnet_v2_cifar_20 have 32 channels.
  assert shapes['decoder/feature_projection0/weights'] == [1, 1, 32, 4]
  if separable:
    assert shapes['decoder/decoder_conv0_depthwise/depthwise_weights'] == [
        3, 3, 8 + 4, 1]
    assert shapes['decoder/decoder_conv0_pointwise/weights'] == [
        1, 1, 8 + 4, 8]
    assert shapes['decoder/decoder_conv1_depthwise/depthwise_weights'] == [
        3, 3, 8, 1]
    assert shapes['decoder/decoder_conv1_pointwise/weights'] == [1, 1, 8, 8]
  else:
    assert shapes['decoder/decoder_conv0/weights'] == [3, 3, 8 + 4, 8]
    assert shapes['decoder/decoder_conv1/weights'] == [3, 3, 8, 8]


def test_two_decoder_stages_suffix_their_convs(graph):
  images = tf.placeholder(tf.float32, [1, 33, 33, 3])
  logits, _ = model_lib.logits(images, _options(
      decoder_output_stride=(2, 1), decoder_use_separable_conv=False))
  shapes = _head_shapes()
  assert shapes['decoder/feature_projection1/weights'] == [1, 1, 16, 4]
  assert shapes['decoder/decoder_conv0_1/weights'] == [3, 3, 8 + 4, 8]
  assert logits.shape.as_list() == [1, 33, 33, 5]


# One net of each kind -> the features its decoder reads: the deepest unit
# before the first strided one, written out by hand. Stride 4 for the
# ImageNet nets; the CIFAR nets' output is already at stride 4 (their
# nominal stride), so their decoder reads the stride-2 features.
DECODER_FEATURES = {
    'resnet_v1_50': (4, 'resnet_v1_50/block1/unit_2/bottleneck_v1'),
    'resnet_v2_50': (4, 'resnet_v2_50/block1/unit_2/bottleneck_v2'),
    'resnet_v1_101_beta': (4, 'resnet_v1_101/block1/unit_2/bottleneck_v1'),
    'resnet_v2_50_beta': (4, 'resnet_v2_50/block1/unit_2/bottleneck_v2'),
    'resnet_v1_18': (4, 'resnet_v1_18/block1/unit_1/basic_block_v1'),
    'resnet_v2_34': (4, 'resnet_v2_34/block1/unit_2/basic_block_v2'),
    'resnet_v1_cifar_20': (2, 'resnet_v1_cifar_20/block2/unit_2/'
                              'basic_block_v1'),
    'resnet_v2_cifar_164': (2, 'resnet_v2_cifar_164/block2/unit_17/'
                               'bottleneck_v2'),
}


@pytest.mark.parametrize('name', sorted(DECODER_FEATURES))
def test_decoder_reads_the_features_at_its_stride_for_every_family(name):
  stride, end_point = DECODER_FEATURES[name]
  output_stride = 4 if 'cifar' in name else 16
  options = model_lib.ModelOptions(name, 3, output_stride=output_stride,
                                   decoder_output_stride=stride)
  assert options.decoder_end_points() == [(stride, end_point)]
  assert options.logits_stride == stride
  if 'cifar' in name:  # no decoder at the output's own stride
    with pytest.raises(ValueError, match=r'from \[2, 1\]'):
      model_lib.ModelOptions(name, 3, output_stride=4,
                             decoder_output_stride=4)


def test_decoder_input_is_that_end_point_in_the_graph(graph):
  images = tf.placeholder(tf.float32, [1, 33, 33, 3])
  options = _options(output_stride=4, decoder_output_stride=2)
  _, end_points = model_lib.logits(images, options)
  key = options.decoder_end_points()[0][1]
  projection = graph.get_operation_by_name(
      'decoder/feature_projection0/Conv2D')
  assert projection.inputs[0] is end_points[key]


def test_bad_decoder_stride_lists_the_offered_ones():
  with pytest.raises(ValueError) as error:
    model_lib.ModelOptions('resnet_v1_50', 21, output_stride=16,
                           decoder_output_stride=3)
  assert 'from [8, 4, 2]' in str(error.value)
  with pytest.raises(ValueError, match='coarse to fine'):
    model_lib.ModelOptions('resnet_v1_50', 21, decoder_output_stride=(4, 8))


@pytest.mark.parametrize('overrides, message', [
    (dict(model_variant='resnet_v9'), 'model_variant=.resnet_v9. is unknown'),
    (dict(num_classes=0), 'num_classes must be a positive integer'),
    (dict(atrous_rates=(2, 0)), 'atrous_rates entries must be a positive'),
    (dict(output_stride=3), 'output_stride'),
    (dict(dropout_keep_prob=0.0), r'dropout_keep_prob must be in \(0, 1\]'),
])
def test_bad_options_name_the_argument(overrides, message):
  with pytest.raises(ValueError, match=message):
    _options(**overrides)


def test_extra_layer_scopes_are_deeplabs_and_exact_with_options():
  assert model_lib.get_extra_layer_scopes() == [
      'logits', 'image_pooling', 'aspp', 'concat_projection', 'decoder']
  assert model_lib.get_extra_layer_scopes(True) == ['logits']
  assert model_lib.get_extra_layer_scopes(options=_options()) == [
      'logits', 'image_pooling', 'aspp0', 'aspp1', 'aspp2',
      'concat_projection', 'decoder']


@pytest.mark.parametrize('size', [(33, 33), (32, 32), (27, 38), (1, 1)])
def test_predictions_have_the_input_size(graph, size):
  """Sizes k * stride + 1, even, odd and mixed, and a single pixel; with
  the size known at graph building and unknown."""
  known = tf.placeholder(tf.float32, [1, size[0], size[1], 3])
  unknown = tf.placeholder(tf.float32, [None, None, None, 3])
  options = _options(decoder_output_stride=2)
  first = model_lib.predict(known, options)
  assert first['semantic'].shape.as_list() == [1, size[0], size[1]]
  second = model_lib.predict(unknown, options, reuse=True)
  with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    image = np.random.RandomState(0).rand(1, size[0], size[1], 3)
    labels, probability = sess.run(
        [second['semantic'], second['semantic_prob']], {unknown: image})
  assert labels.shape == (1,) + size
  assert probability.shape == (1,) + size + (5,)
  np.testing.assert_allclose(probability.sum(-1), 1.0, atol=1e-5)


def test_resize_puts_each_feature_on_its_pixel_for_k_stride_plus_one(graph):
  """At 4k + 1 pixels, feature i lands on pixel 4i exactly; at other sizes
  the corner features still land on the corner pixels."""
  stride, k = 4, 5
  features = np.random.RandomState(1).rand(1, k + 1, k + 1, 2)
  for size, exact in ((stride * k + 1, True), (23, False)):
    images = tf.zeros([1, size, size, 3])
    resized = tf.Session().run(
        model_lib.resize_to_input(tf.constant(features, tf.float32), images))
    assert resized.shape == (1, size, size, 2)
    if exact:
      np.testing.assert_allclose(resized[0, ::stride, ::stride],
                                 features[0], rtol=1e-5)
    for row, col in ((0, 0), (-1, -1), (0, -1), (-1, 0)):
      np.testing.assert_allclose(resized[0, row, col], features[0, row, col],
                                 rtol=1e-5)


def test_multi_scale_and_flip_average_the_single_scale_runs(graph):
  """The averaged prediction equals the mean of separately computed runs:
  each scale, and each scale mirrored (its output mirrored back)."""
  images = tf.placeholder(tf.float32, [2, 29, 29, 3])
  options = _options(decoder_output_stride=2,
                     decoder_use_separable_conv=False)
  scales = (0.75, 1.0, 1.5)
  averaged = model_lib.predict(images, options, eval_scales=scales,
                               add_flipped_images=True)
  runs = []
  for scale in scales:
    side = model_lib.scale_dimension(29, scale)
    scaled = model_lib.resize_bilinear(images, [side, side])
    for flip in (False, True):
      source = tf.reverse(scaled, [2]) if flip else scaled
      logits, _ = model_lib.logits(source, options, reuse=True)
      probability = tf.nn.softmax(model_lib.resize_bilinear(logits,
                                                            [29, 29]))
      runs.append(tf.reverse(probability, [2]) if flip else probability)
  with tf.Session() as sess:
    # Random weights of real scale: at their initial values the logits are
    # near zero and every run would predict the same uniform probabilities.
    oracle_lib.initialize_randomly(sess, tf.global_variables(),
                                   np.random.RandomState(3))
    feed = {images: np.random.RandomState(2).rand(2, 29, 29, 3)}
    ours, labels, each = sess.run(
        [averaged['semantic_prob'], averaged['semantic'], runs], feed)
  expected = np.mean(each, axis=0)
  np.testing.assert_allclose(ours, expected, atol=1e-5)
  np.testing.assert_array_equal(labels, expected.argmax(-1))
  assert not np.allclose(each[0], each[2], atol=1e-3)  # scales do differ


def test_variables_are_created_once_across_scales(graph):
  images = tf.placeholder(tf.float32, [1, 25, 25, 3])
  model_lib.predict(images, _options(), eval_scales=(0.5, 1.0),
                    add_flipped_images=True)
  names = [v.op.name for v in tf.global_variables()]
  assert len(names) == len(set(names))
  backbone = nets_factory.get_model_info('resnet_v2_cifar_20')
  assert sum(int(np.prod(v.shape)) for v in tf.trainable_variables()
             if v.op.name.startswith('resnet_v2_cifar_20/')) == (
                 backbone.params - 64 * 10 - 10)  # no classification logits


def test_head_ops_stay_in_the_callers_name_scope(graph):
  """Variables at the top (DeepLab's names), ops in the caller's name scope,
  so that e.g. a clone's batch norm updates can be told from another's."""
  images = tf.placeholder(tf.float32, [1, 17, 17, 3])
  with tf.name_scope('clone_1'):
    model_lib.logits(images, _options(), is_training=True,
                     fine_tune_batch_norm=True)
  assert 'aspp0/weights' in _head_shapes()
  head_ops = [op.name for op in graph.get_operations()
              if 'aspp0/' in op.name and op.type == 'Conv2D']
  assert head_ops and all(n.startswith('clone_1/') for n in head_ops)
  updates = [op.name for op in tf.get_collection(tf.GraphKeys.UPDATE_OPS)
             if 'concat_projection' in op.name]
  assert updates and all(n.startswith('clone_1/') for n in updates)
