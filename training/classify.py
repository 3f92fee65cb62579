"""Classify images with a ResNet V2 graph, from a slim checkpoint or fresh.

The library side of `classify_image.py`: it builds the graph, restores or
initializes the variables and returns top-k predictions, so tests (and other
programs) can use it without flags.

The published ResNet V2 checkpoints were trained with Inception-style
preprocessing: pixels scaled to [-1, 1], images resized to 299x299, and 1001
classes of which index 0 means "background"; the evaluation half of that
preprocessing (`preprocessing.inception_preprocessing`) runs in the graph.
"""

import collections
import time

import numpy as np
import tensorflow.compat.v1 as tf
import tf_slim as slim

from nets import resnet_v2
from preprocessing import inception_preprocessing

BUILDERS = {
    'resnet_v2_50': resnet_v2.resnet_v2_50,
    'resnet_v2_101': resnet_v2.resnet_v2_101,
    'resnet_v2_152': resnet_v2.resnet_v2_152,
    'resnet_v2_200': resnet_v2.resnet_v2_200,
}

Prediction = collections.namedtuple('Prediction', ['classes', 'probabilities'])


def get_builder(model_name):
  """Returns the builder for `model_name` or raises a ValueError listing all."""
  if model_name not in BUILDERS:
    raise ValueError('model_name=%r is unknown; choose one of %s.'
                     % (model_name, sorted(BUILDERS)))
  return BUILDERS[model_name]


def classify(images, model_name='resnet_v2_50', checkpoint_path=None,
             num_classes=1001, image_size=299, top_k=5):
  """Runs a ResNet V2 on a batch of images and returns the top-k classes.

  Args:
    images: uint8 array [batch, height, width, 3] (any height and width).
    model_name: one of BUILDERS.
    checkpoint_path: a slim checkpoint (file prefix) to restore, or None to
      run freshly initialized weights (useful only to check the plumbing).
    num_classes: logits of the checkpoint (1001 for the published ones).
    image_size: side of the square network input.
    top_k: number of classes returned per image.

  Returns:
    (Prediction(classes [batch, top_k], probabilities [batch, top_k]),
     dict of timings and feature shapes).
  """
  builder = get_builder(model_name)
  images = np.asarray(images)
  if images.ndim != 4 or images.shape[-1] != 3:
    raise ValueError('images must be an array [batch, height, width, 3]; got '
                     'shape %s.' % (images.shape,))
  graph = tf.Graph()
  with graph.as_default():
    raw = tf.placeholder(tf.uint8, [None, None, None, 3], name='images')
    inputs = tf.map_fn(
        lambda image: inception_preprocessing.preprocess_for_eval(
            image, image_size, image_size), raw, dtype=tf.float32)
    start = time.time()
    with slim.arg_scope(resnet_v2.resnet_arg_scope()):
      _, end_points = builder(inputs, num_classes=num_classes,
                              is_training=False)
    build_seconds = time.time() - start
    top = tf.nn.top_k(end_points['predictions'], k=top_k)
    with tf.Session(graph=graph) as sess:
      if checkpoint_path:
        tf.train.Saver().restore(sess, checkpoint_path)
      else:
        sess.run(tf.global_variables_initializer())
      start = time.time()
      values, classes = sess.run(top, {raw: images})
      run_seconds = time.time() - start
    info = {
        'build_seconds': build_seconds,
        'run_seconds': run_seconds,
        'block_shapes': {
            name: end_points[name].get_shape().as_list()[1:]
            for name in end_points if name.endswith(tuple(
                '/block%d' % i for i in range(1, 5)))
        },
    }
  return Prediction(classes=classes, probabilities=values), info


def demo_images(batch_size=4, size=256, seed=0):
  """A deterministic batch of structured uint8 images (gradients and stripes).

  Used when no image files are given, so the example runs without any data.
  """
  rs = np.random.RandomState(seed)
  yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
  out = []
  for _ in range(batch_size):
    freq = rs.uniform(2, 12)
    angle = rs.uniform(0, np.pi)
    stripes = 0.5 + 0.5 * np.sin(
        2 * np.pi * freq * (xx * np.cos(angle) + yy * np.sin(angle)))
    colour = rs.uniform(0.2, 1.0, size=3)
    image = stripes[..., None] * colour + 0.3 * yy[..., None]
    out.append(np.clip(image * 255, 0, 255).astype(np.uint8))
  return np.stack(out)
