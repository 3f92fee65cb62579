"""Tests of `slim_resnets.serving.inference_graph`: batch norms folded.

Each net gets random weights and moving statistics (tests/oracle.py), is
frozen, and runs before and after `optimize_for_serving` on the same
images: the logits must agree to 1e-4 relative to their scale, while the
folded graph has the structure it claims (no batch norm left after a
convolution; the ones V2 keeps are exactly its preact and postnorm).
"""

import numpy as np
import oracle
import pytest
import tensorflow.compat.v1 as tf

from nets import nets_factory
from resnet_utils import graph_building
from slim_resnets.serving import inference_graph


def _frozen(model_name, image_size, data_format='NHWC', is_training=False,
            **kwargs):
  """(frozen GraphDef of images -> logits, random images)."""
  shape = [2, image_size, image_size, 3]
  if data_format == 'NCHW':
    shape = [2, 3, image_size, image_size]
  with tf.Graph().as_default(), graph_building.fast_graph_building():
    images = tf.placeholder(tf.float32, shape, name='images')
    network_fn = nets_factory.get_network_fn(
        model_name, 10, is_training=is_training, data_format=data_format)
    logits, _ = network_fn(images, **kwargs)
    tf.identity(tf.reshape(logits, [2, 10]), name='logits')
    with tf.Session() as sess:
      oracle.initialize_randomly(sess, tf.global_variables(),
                                 np.random.RandomState(0))
      graph_def = tf.graph_util.convert_variables_to_constants(
          sess, sess.graph.as_graph_def(), ['logits'])
  rng = np.random.RandomState(1)
  return graph_def, rng.uniform(-1, 1, shape).astype(np.float32)


def _logits(graph_def, images):
  with tf.Graph().as_default():
    tf.import_graph_def(graph_def, name='')
    with tf.Session() as sess:
      return sess.run('logits:0', {'images:0': images})


def _ops(graph_def, *types):
  return [n for n in graph_def.node if n.op in types]


def _check_same_logits(graph_def, folded, images):
  before, after = _logits(graph_def, images), _logits(folded, images)
  scale = np.abs(before).max()
  assert scale > 0.1  # the comparison means something
  np.testing.assert_allclose(after, before, atol=1e-4 * scale)


_CASES = [
    # (model, image size, options): bottleneck and basic units, strided
    # and projection shortcuts, both families, dense (atrous) and NCHW.
    ('resnet_v1_50', 64, {'depth_multiplier': 0.125}),
    ('resnet_v2_50', 64, {'depth_multiplier': 0.125}),
    ('resnet_v2_50', 64, {'depth_multiplier': 0.125, 'output_stride': 8}),
    ('resnet_v1_cifar_20', 16, {}),
    ('resnet_v2_cifar_20', 16, {}),
]


@pytest.mark.parametrize('model_name,image_size,kwargs', _CASES)
def test_folded_graph_gives_the_same_logits(model_name, image_size, kwargs):
  graph_def, images = _frozen(model_name, image_size, **kwargs)
  folded, report = inference_graph.optimize_for_serving(graph_def,
                                                        ['logits'])
  _check_same_logits(graph_def, folded, images)
  batch_norms = _ops(graph_def, *inference_graph.BATCH_NORM_OPS)
  assert len(report.folded) + len(report.affine) == len(batch_norms)
  assert not report.kept
  assert not _ops(folded, *inference_graph.BATCH_NORM_OPS)
  if model_name.startswith('resnet_v1'):
    assert not report.affine  # V1 normalizes convolutions only
  else:
    # The batch norms of V2's residual sums become a scale and a bias.
    assert report.affine and all(
        name.split('/')[-2] in ('preact', 'postnorm')
        for name in report.affine)
    assert all('not of a convolution' in why
               for why in report.affine.values())
    assert len(_ops(folded, 'Mul')) == len(report.affine)
  # Every convolution now feeds a BiasAdd (its folded batch norm or its own
  # biases; an atrous one through BatchToSpaceND), the chain the graph
  # optimizer fuses with the ReLU.
  readers = {}
  for node in folded.node:
    for text in node.input:
      readers.setdefault(text.split(':')[0], []).append(node)
  for conv in _ops(folded, 'Conv2D'):
    (reader,) = readers[conv.name]
    if reader.op == 'BatchToSpaceND':
      (reader,) = readers[reader.name]
    assert reader.op == 'BiasAdd', conv.name
  if kwargs.get('output_stride'):
    assert _ops(folded, 'BatchToSpaceND')  # the atrous case was tested
  assert [n.name for n in _ops(folded, 'Identity')] == ['logits']


def test_nchw_graph_folds_with_its_data_format():
  graph_def, images = _frozen('resnet_v1_cifar_20', 16, data_format='NCHW')
  folded, report = inference_graph.optimize_for_serving(graph_def,
                                                        ['logits'])
  assert report.folded and not report.affine and not report.kept
  assert {n.attr['data_format'].s for n in _ops(folded, 'BiasAdd')} == {
      b'NCHW'}
  _check_same_logits(graph_def, folded, images)


def test_nchw_v2_scales_the_channel_axis():
  graph_def, images = _frozen('resnet_v2_cifar_20', 16, data_format='NCHW')
  folded, report = inference_graph.optimize_for_serving(graph_def,
                                                        ['logits'])
  assert report.affine
  _check_same_logits(graph_def, folded, images)


def test_full_depth_counts():
  """resnet_v2_50 folds its 32 inner batch norms; 16 preact + 1 are affine."""
  for model_name, folded_count, affine_count in (('resnet_v2_50', 32, 17),
                                                 ('resnet_v1_50', 53, 0)):
    graph_def, _ = _frozen(model_name, 64)
    _, report = inference_graph.optimize_for_serving(graph_def, ['logits'])
    assert (len(report.folded), len(report.affine),
            len(report.kept)) == (folded_count, affine_count, 0)


def test_training_mode_and_unfrozen_graphs_are_left_alone():
  graph_def, _ = _frozen('resnet_v1_cifar_20', 16, is_training=True)
  _, report = inference_graph.fold_batch_norms(graph_def)
  assert not report.folded and not report.affine
  assert set(report.kept.values()) == {'in training mode'}
  with tf.Graph().as_default() as graph:
    images = tf.placeholder(tf.float32, [1, 16, 16, 3])
    nets_factory.get_network_fn('resnet_v1_cifar_20', 10)(images)
  unfrozen, report = inference_graph.fold_batch_norms(graph.as_graph_def())
  assert not report.folded and not report.affine
  assert all('freeze the graph first' in why for why in report.kept.values())
  assert unfrozen == graph.as_graph_def()
