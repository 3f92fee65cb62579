"""slim_resnets/serving/classify.py: the library behind classify_image.py.

The example restores a slim checkpoint (or initializes fresh weights) and
returns top-k classes; here a checkpoint written from a separately built
graph must give exactly the predictions that graph computes itself.
"""

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
import tf_slim as slim

from nets import resnet_v2
from resnet_utils import graph_building
from slim_resnets.preprocessing import inception_preprocessing
from slim_resnets.serving import classify

_SIZE = 64  # Small input keeps the full-depth ResNet-50 cheap to run.


def _write_checkpoint(path, images):
  """Random non-trivial weights; returns the probabilities they give."""
  with tf.Graph().as_default(), graph_building.fast_graph_building():
    raw = tf.constant(images)
    inputs = tf.map_fn(
        lambda image: inception_preprocessing.preprocess_for_eval(
            image, _SIZE, _SIZE), raw, dtype=tf.float32)
    with slim.arg_scope(resnet_v2.resnet_arg_scope()):
      _, end_points = resnet_v2.resnet_v2_50(inputs, num_classes=11,
                                             is_training=False)
    rng = np.random.RandomState(3)
    assignments = []
    for var in tf.global_variables():
      if 'moving_variance' in var.op.name:
        assignments.append(var.assign(rng.uniform(0.5, 1.5,
                                                  var.shape.as_list())))
      elif 'weights' in var.op.name:
        assignments.append(var.assign(var * 0.5))
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      sess.run(assignments)
      probabilities = sess.run(end_points['predictions'])
      tf.train.Saver().save(sess, path)
  return probabilities


def test_restored_checkpoint_gives_its_graphs_predictions(tmp_path):
  images = classify.demo_images(batch_size=3, size=80)
  expected = _write_checkpoint(str(tmp_path / 'model.ckpt'), images)
  prediction, info = classify.classify(
      images, 'resnet_v2_50', str(tmp_path / 'model.ckpt'), num_classes=11,
      image_size=_SIZE, top_k=3)
  np.testing.assert_array_equal(prediction.classes,
                                np.argsort(-expected, axis=1)[:, :3])
  np.testing.assert_allclose(prediction.probabilities,
                             -np.sort(-expected, axis=1)[:, :3], atol=1e-5)
  assert info['block_shapes']['resnet_v2_50/block4'] == [2, 2, 2048]


def test_demo_images_are_deterministic_and_varied():
  first, second = classify.demo_images(seed=1), classify.demo_images(seed=1)
  np.testing.assert_array_equal(first, second)
  assert first.dtype == np.uint8 and first.shape == (4, 256, 256, 3)
  assert not np.array_equal(first[0], first[1])


@pytest.mark.parametrize('kwargs,pattern', [
    (dict(model_name='resnet_v9'), "model_name='resnet_v9' is unknown"),
    (dict(model_name='resnet_v1_cifar_20'), 'num_classes is required'),
    (dict(images=np.zeros([8, 8, 3], np.uint8)), r'images must be an array'),
])
def test_bad_arguments_are_named(kwargs, pattern):
  args = dict(images=np.zeros([1, 8, 8, 3], np.uint8))
  args.update(kwargs)
  with pytest.raises(ValueError, match=pattern):
    classify.classify(**args)


def test_any_registered_net_with_its_own_preprocessing_and_size():
  """A CIFAR net: its default 32x32 input and the cifarnet recipe."""
  images = classify.demo_images(batch_size=2, size=40)
  prediction, info = classify.classify(images, 'resnet_v1_cifar_20',
                                       num_classes=10, top_k=2)
  assert prediction.classes.shape == (2, 2)
  assert np.all(prediction.probabilities[:, 0] >=
                prediction.probabilities[:, 1])
  assert info['block_shapes']['resnet_v1_cifar_20/block3'] == [8, 8, 64]
