"""Classify images with any registered network, from a checkpoint or fresh.

The library side of `classify_image.py`: it builds the graph, restores or
initializes the variables and returns top-k predictions, so tests (and other
programs) can use it without flags.

Everything about the model comes from the registry: the builder and its arg
scope (`nets_factory.get_network_fn`), the class count and input size
(`nets_factory.resolve_model_settings`: for resnet_v2_50, the published
checkpoint's 1001 classes, index 0 "background", at 299x299) and the
evaluation half of the model's preprocessing (`preprocessing_factory`:
Inception-style pixels in [-1, 1] for V2, VGG-style for V1, the CIFAR recipe
for the small nets), which runs in the graph on raw uint8 images.
"""

import collections
import time

import numpy as np
import tensorflow.compat.v1 as tf

from nets import nets_factory
from resnet_utils import graph_building
from slim_resnets.preprocessing import preprocessing_factory
from slim_resnets.training import checkpoints

Prediction = collections.namedtuple('Prediction', ['classes', 'probabilities'])


def classify(images, model_name='resnet_v2_50', checkpoint_path=None,
             num_classes=None, image_size=None, top_k=5,
             preprocessing_name=None):
  """Runs a network on a batch of images and returns the top-k classes.

  Args:
    images: uint8 array [batch, height, width, 3] (any height and width).
    model_name: a name of `nets_factory.networks_map`.
    checkpoint_path: a slim checkpoint (file prefix, or a train dir for its
      latest) to restore, or None to run freshly initialized weights
      (useful only to check the plumbing).
    num_classes: logits of the checkpoint; None: the published checkpoint's.
    image_size: side of the square network input; None: the published
      checkpoint's evaluation size, else the network's default.
    top_k: number of classes returned per image.
    preprocessing_name: a preprocessing recipe; None: the model's own.

  Returns:
    (Prediction(classes [batch, top_k], probabilities [batch, top_k]),
     dict of timings and feature shapes).
  """
  num_classes, image_size = nets_factory.resolve_model_settings(
      model_name, num_classes, image_size)
  if checkpoint_path:
    checkpoint_path = checkpoints.resolve_checkpoint(checkpoint_path)
  images = np.asarray(images)
  if images.ndim != 4 or images.shape[-1] != 3:
    raise ValueError('images must be an array [batch, height, width, 3]; got '
                     'shape %s.' % (images.shape,))
  preprocess = preprocessing_factory.get_preprocessing(
      preprocessing_name or model_name, is_training=False)
  network_fn = nets_factory.get_network_fn(model_name, num_classes,
                                           is_training=False)
  graph = tf.Graph()
  with graph.as_default():
    raw = tf.placeholder(tf.uint8, [None, None, None, 3], name='images')
    inputs = tf.map_fn(
        lambda image: preprocess(image, image_size, image_size), raw,
        fn_output_signature=tf.float32)
    start = time.time()
    with graph_building.fast_graph_building():
      _, end_points = network_fn(inputs)
    build_seconds = time.time() - start
    top = tf.nn.top_k(end_points['predictions'], k=top_k)
    with tf.Session(graph=graph) as sess:
      if checkpoint_path:
        restore = {v.op.name: v for v in tf.global_variables()}
        checkpoints.check_restore(checkpoint_path, restore)
        tf.train.Saver(restore).restore(sess, checkpoint_path)
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
