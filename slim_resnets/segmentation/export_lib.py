"""Exports a trained DeepLab model for serving as a SavedModel.

The exported graph takes uint8 images of any size ([batch, height, width,
3], one size per batch), normalizes them as training did, and returns per
pixel the label ('labels', int32 [batch, height, width]) and the class
probabilities ('probabilities', float32 [..., num_classes]), at the
image's own size. Multi-scale and flipped inference can be baked in.
"""

import collections

import tensorflow.compat.v1 as tf

from slim_resnets import publish
from slim_resnets.preprocessing import segmentation_preprocessing
from slim_resnets.segmentation import eval_lib
from slim_resnets.segmentation import train_lib
from slim_resnets.training import checkpoints

ExportResult = collections.namedtuple('ExportResult',
                                      ['saved_model_dir', 'num_classes'])


def build_serving_graph(config, num_classes):
  """uint8 images -> labels and probabilities, in the default graph.

  Returns:
    (inputs dict, outputs dict) of tensors named 'images', 'labels' and
    'probabilities'.
  """
  name = train_lib.preprocessing_name(config)
  images = tf.placeholder(tf.uint8, [None, None, None, 3], name='images')
  batch = tf.map_fn(
      lambda image: segmentation_preprocessing.normalize(image, name),
      images, dtype=tf.float32, back_prop=False)
  predictions = eval_lib.build_predictions(config, batch, num_classes)
  labels = tf.identity(predictions['semantic'], name='labels')
  probabilities = tf.identity(predictions['semantic_prob'],
                              name='probabilities')
  return {'images': images}, {'labels': labels,
                              'probabilities': probabilities}


def export(config, num_classes, output_dir):
  """Writes the SavedModel of `config.checkpoint_path` to `output_dir`.

  `config` is a `SegmentationEvalConfig` (model, scales, flips). The target
  must not exist; it is written under a temporary name and moved into place
  when complete.
  """
  eval_lib.check_config(config)
  publish.check_fresh(output_dir, 'output_dir')
  path = checkpoints.resolve_checkpoint(config.checkpoint_path)
  graph = tf.Graph()
  with graph.as_default():
    inputs, outputs = build_serving_graph(config, num_classes)
    var_map = checkpoints.restore_map(path)
    with publish.staged(output_dir, 'output_dir') as staged:
      with tf.Session() as sess:
        tf.train.Saver(var_map).restore(sess, path)
        builder = tf.saved_model.Builder(staged)
        builder.add_meta_graph_and_variables(
            sess, [tf.saved_model.SERVING],
            signature_def_map={
                tf.saved_model.DEFAULT_SERVING_SIGNATURE_DEF_KEY:
                    tf.saved_model.predict_signature_def(inputs, outputs)},
            strip_default_attrs=True)
        builder.save()
  return ExportResult(output_dir, num_classes)
