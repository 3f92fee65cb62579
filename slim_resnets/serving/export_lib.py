"""Exports a trained classifier for serving: SavedModel and frozen GraphDef.

The exported graph takes raw images (uint8 0-255, or float 0-1), applies the
model's evaluation preprocessing inside the graph, and returns class
probabilities plus the top-k classes and their scores, so a client needs to
know nothing about crops, scales or mean values.

Its input `images` is [batch, height, width, channels] of any size, with 1
(grayscale, replicated to RGB), 3 (RGB) or 4 channels (RGBA, alpha dropped):
what image decoders hand a client. Any other channel count fails with an
InvalidArgumentError saying so.
"""

import collections
import contextlib

import tensorflow.compat.v1 as tf

from nets import nets_factory
from resnet_utils import checks
from resnet_utils import graph_building
from slim_resnets import publish
from slim_resnets.preprocessing import preprocessing_factory
from slim_resnets.training import checkpoints

INPUT_TYPES = ('uint8', 'float32')
SIGNATURE_KEY = 'serving_default'

ExportResult = collections.namedtuple(
    'ExportResult', ['saved_model_dir', 'frozen_graph', 'image_size',
                     'num_classes'])


def build_serving_graph(model_name, num_classes, image_size=None,
                        preprocessing_name=None, input_type='uint8',
                        top_k=5, labels_offset=0):
  """Builds images -> probabilities/top-k in the default graph.

  Returns:
    (inputs dict, outputs dict, image_size); tensors are named 'images',
    'probabilities', 'classes' and 'scores'. `classes` are dataset label ids
    (the network's class index plus `labels_offset`).
  """
  nets_factory.check_name(model_name)
  nets_factory.check_image_size(image_size, 'image_size', model_name)
  checks.check_choice(input_type, INPUT_TYPES, 'input_type')
  network_fn = nets_factory.get_network_fn(model_name, num_classes,
                                           is_training=False)
  image_size = image_size or network_fn.default_image_size
  preprocess = preprocessing_factory.get_preprocessing(
      preprocessing_name or model_name, is_training=False)
  images = tf.placeholder(getattr(tf, input_type), [None, None, None, None],
                          name='images')

  def one(image):
    return preprocess(image, image_size, image_size)

  batch = tf.map_fn(one, as_rgb(images), dtype=tf.float32, back_prop=False)
  batch.set_shape([None, image_size, image_size, 3])
  with graph_building.fast_graph_building():
    logits, _ = network_fn(batch)
  logits = tf.reshape(logits, [-1, num_classes])
  probabilities = tf.nn.softmax(logits, name='probabilities')
  scores, classes = tf.nn.top_k(probabilities, k=min(top_k, num_classes))
  classes = tf.identity(classes + labels_offset, name='classes')
  scores = tf.identity(scores, name='scores')
  return ({'images': images},
          {'probabilities': probabilities, 'classes': classes,
           'scores': scores}, image_size)


def as_rgb(images):
  """[batch, h, w, 1, 3 or 4] images -> [batch, h, w, 3], checked in graph.

  Grayscale is replicated to three channels and an alpha channel dropped;
  any other channel count fails at run time with a message naming the
  accepted counts.
  """
  channels = tf.shape(images)[-1]
  accepted = tf.debugging.Assert(
      tf.reduce_any(tf.equal(channels, [1, 3, 4])),
      ['images must have 1 (grayscale), 3 (RGB) or 4 (RGBA) channels; got',
       channels])
  with tf.control_dependencies([accepted]):
    rgb = tf.cond(tf.equal(channels, 1),
                  lambda: tf.tile(images[..., :1], [1, 1, 1, 3]),
                  lambda: images[..., :3])
  rgb.set_shape(images.get_shape()[:-1].concatenate([3]))
  return rgb


def export(checkpoint_path, model_name, num_classes, output_dir,
           frozen_graph_path=None, image_size=None, preprocessing_name=None,
           input_type='uint8', top_k=5, labels_offset=0):
  """Writes a SavedModel to `output_dir` (and optionally a frozen GraphDef).

  Both targets must not exist yet; they are written under temporary names
  and moved into place when complete. With `num_classes` None the model's
  published checkpoint supplies it and the default image size (e.g. 1001
  classes at 299 for resnet_v2_50).
  """
  num_classes, image_size = nets_factory.resolve_model_settings(
      model_name, num_classes, image_size)
  publish.check_fresh(output_dir, 'output_dir')
  if frozen_graph_path:
    publish.check_fresh(frozen_graph_path, 'frozen_graph')
  path = checkpoints.resolve_checkpoint(checkpoint_path)
  graph = tf.Graph()
  with graph.as_default():
    inputs, outputs, image_size = build_serving_graph(
        model_name, num_classes, image_size, preprocessing_name, input_type,
        top_k, labels_offset)
    var_map = checkpoints.restore_map(path)
    with contextlib.ExitStack() as targets:
      staged_model = targets.enter_context(
          publish.staged(output_dir, 'output_dir'))
      with tf.Session() as sess:
        tf.train.Saver(var_map).restore(sess, path)
        builder = tf.saved_model.Builder(staged_model)
        signature = tf.saved_model.predict_signature_def(inputs, outputs)
        builder.add_meta_graph_and_variables(
            sess, [tf.saved_model.SERVING],
            signature_def_map={SIGNATURE_KEY: signature},
            strip_default_attrs=True)
        builder.save()
        if frozen_graph_path:
          frozen = tf.graph_util.convert_variables_to_constants(
              sess, graph.as_graph_def(),
              [t.op.name for t in outputs.values()])
          staged_frozen = targets.enter_context(
              publish.staged(frozen_graph_path, 'frozen_graph'))
          with tf.io.gfile.GFile(staged_frozen, 'wb') as f:
            f.write(frozen.SerializeToString())
  return ExportResult(output_dir, frozen_graph_path, image_size, num_classes)
