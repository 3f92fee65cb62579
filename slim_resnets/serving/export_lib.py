"""Exports a trained classifier for serving: SavedModel, ONNX or OpenVINO.

The SavedModel (and frozen GraphDef) takes raw images (uint8 0-255, or
float 0-1), applies the model's evaluation preprocessing inside the graph,
and returns class probabilities plus the top-k classes and their scores, so
a client needs to know nothing about crops, scales or mean values.

Its input `images` is [batch, height, width, channels] of any size, with 1
(grayscale, replicated to RGB), 3 (RGB) or 4 channels (RGBA, alpha dropped):
what image decoders hand a client. Any other channel count fails with an
InvalidArgumentError saying so.

The ONNX model (converted by tf2onnx) and the OpenVINO IR (converted by
OpenVINO's own TensorFlow reader) hold the network alone: their `images`
are float32 [batch, size, size, 3] that went through the evaluation
preprocessing already (`serving.json` beside the model names it and the
size), since the in-graph preprocessing loop does not convert. The outputs
are the same three.

By default every batch norm that follows a convolution is folded into it
first (`inference_graph.optimize_for_serving`), in all formats.
"""

import collections
import contextlib
import json
import logging
import os

import tensorflow.compat.v1 as tf

from nets import nets_factory
from resnet_utils import checks
from resnet_utils import graph_building
from slim_resnets import publish
from slim_resnets.preprocessing import preprocessing_factory
from slim_resnets.serving import inference_graph
from slim_resnets.training import checkpoints

INPUT_TYPES = ('uint8', 'float32')
FORMATS = ('saved_model', 'onnx', 'openvino')
SIGNATURE_KEY = 'serving_default'
OUTPUT_NAMES = ('probabilities', 'classes', 'scores')
# Opset 17 is what ONNX Runtime 1.14 and later, and OpenVINO, all read.
ONNX_OPSET = 17
# What each format needs beyond TensorFlow, and the extra that installs it.
_CONVERTERS = {'onnx': ('tf2onnx', 'serving'),
               'openvino': ('openvino', 'serving')}

ExportResult = collections.namedtuple(
    'ExportResult', ['saved_model_dir', 'frozen_graph', 'image_size',
                     'num_classes', 'export_format', 'fold_report'])
ExportResult.__doc__ = """What `export` wrote.

saved_model_dir: the output directory (a SavedModel, or the ONNX model /
  OpenVINO IR with its serving.json).
fold_report: `inference_graph.FoldReport`, or None when not folded.
"""


def build_serving_graph(model_name, num_classes, image_size=None,
                        preprocessing_name=None, input_type='uint8',
                        top_k=5, labels_offset=0):
  """Builds images -> probabilities/top-k in the default graph.

  Returns:
    (inputs dict, outputs dict, image_size); tensors are named 'images',
    'probabilities', 'classes' and 'scores'. `classes` are dataset label ids
    (the network's class index plus `labels_offset`).
  """
  network_fn, image_size = _network(model_name, num_classes, image_size)
  checks.check_choice(input_type, INPUT_TYPES, 'input_type')
  preprocess = preprocessing_factory.get_preprocessing(
      preprocessing_name or model_name, is_training=False)
  images = tf.placeholder(getattr(tf, input_type), [None, None, None, None],
                          name='images')

  def one(image):
    return preprocess(image, image_size, image_size)

  batch = tf.map_fn(one, as_rgb(images), dtype=tf.float32, back_prop=False)
  batch.set_shape([None, image_size, image_size, 3])
  return ({'images': images},
          _outputs(network_fn, batch, num_classes, top_k, labels_offset),
          image_size)


def build_network_graph(model_name, num_classes, image_size=None, top_k=5,
                        labels_offset=0, batch_size=None):
  """Builds preprocessed images -> probabilities/top-k in the default graph.

  The network alone, for runtimes that cannot run the preprocessing loop:
  `images` is float32 [batch_size, image_size, image_size, 3], as the
  model's evaluation preprocessing returns it. Returns what
  `build_serving_graph` does.
  """
  network_fn, image_size = _network(model_name, num_classes, image_size)
  images = tf.placeholder(tf.float32, [batch_size, image_size, image_size, 3],
                          name='images')
  return ({'images': images},
          _outputs(network_fn, images, num_classes, top_k, labels_offset),
          image_size)


def _network(model_name, num_classes, image_size):
  """(inference network_fn, image size) of `model_name`, arguments checked."""
  nets_factory.check_name(model_name)
  nets_factory.check_image_size(image_size, 'image_size', model_name)
  network_fn = nets_factory.get_network_fn(model_name, num_classes,
                                           is_training=False)
  return network_fn, image_size or network_fn.default_image_size


def _outputs(network_fn, batch, num_classes, top_k, labels_offset):
  """The network on `batch`, then probabilities and the top-k."""
  with graph_building.fast_graph_building():
    logits, _ = network_fn(batch)
  logits = tf.reshape(logits, [-1, num_classes], name='logits')
  probabilities = tf.nn.softmax(logits, name='probabilities')
  scores, classes = tf.nn.top_k(probabilities, k=min(top_k, num_classes))
  classes = tf.identity(classes + labels_offset, name='classes')
  scores = tf.identity(scores, name='scores')
  return {'probabilities': probabilities, 'classes': classes,
          'scores': scores}


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


def freeze(sess, output_names, fold_batch_norms=True):
  """The session's graph with variables as constants, optimized for serving.

  Returns:
    (GraphDef, FoldReport or None when `fold_batch_norms` is False).
  """
  frozen = tf.graph_util.convert_variables_to_constants(
      sess, sess.graph.as_graph_def(), list(output_names))
  if not fold_batch_norms:
    return frozen, None
  return inference_graph.optimize_for_serving(frozen, output_names)


def _converter(export_format):
  """Imports the converter `export_format` needs.

  Raises:
    ValueError: it is not installed; the message says how to install it
      (a setting that cannot work here, reported as a usage error).
  """
  import importlib  # pylint: disable=g-import-not-at-top
  module, extra = _CONVERTERS[export_format]
  try:
    return importlib.import_module(module)
  except ImportError as e:
    raise ValueError(
        "export_format=%r needs the %s package, which is not installed: "
        "pip install 'slim-resnets[%s]' (%s)."
        % (export_format, module, extra, e)) from e


def _write_saved_model(graph_def, directory):
  """A SavedModel of the frozen `graph_def` (it has no variables left)."""
  graph = tf.Graph()
  with graph.as_default():
    tf.import_graph_def(graph_def, name='')
    signature = tf.saved_model.predict_signature_def(
        {'images': graph.get_tensor_by_name('images:0')},
        {name: graph.get_tensor_by_name(name + ':0')
         for name in OUTPUT_NAMES})
    with tf.Session() as sess:
      builder = tf.saved_model.Builder(directory)
      builder.add_meta_graph_and_variables(
          sess, [tf.saved_model.SERVING],
          signature_def_map={SIGNATURE_KEY: signature},
          strip_default_attrs=True)
      builder.save()


def convert(graph_def, export_format, output_names=OUTPUT_NAMES):
  """The ONNX ModelProto or OpenVINO Model of a frozen graph.

  Args:
    graph_def: frozen GraphDef whose input is the placeholder `images`.
    export_format: 'onnx' (tf2onnx, opset ONNX_OPSET) or 'openvino'
      (OpenVINO's own TensorFlow reader).
    output_names: the graph's output tensors' op names.
  """
  checks.check_choice(export_format, FORMATS[1:], 'export_format')
  converter = _converter(export_format)
  outputs = [name + ':0' for name in output_names]
  if export_format == 'onnx':
    # tf2onnx reports each optimizer pass at INFO.
    logging.getLogger('tf2onnx').setLevel(logging.WARNING)
    model, _ = converter.convert.from_graph_def(
        graph_def, input_names=['images:0'], output_names=outputs,
        opset=ONNX_OPSET)
    return model
  model = converter.convert_model(graph_def)
  # The reader takes the graph's sinks as outputs; the probabilities feed
  # top-k, so they are added by name.
  known = {name for output in model.outputs for name in output.get_names()}
  model.add_outputs([name for name in outputs if name not in known])
  return model


def _write_converted(graph_def, export_format, directory, settings):
  """The ONNX model or OpenVINO IR of `graph_def` in `directory`."""
  model = convert(graph_def, export_format)
  tf.io.gfile.makedirs(directory)
  if export_format == 'onnx':
    with tf.io.gfile.GFile(os.path.join(directory, 'model.onnx'), 'wb') as f:
      f.write(model.SerializeToString())
  else:
    # The default would store the weights as float16.
    _converter(export_format).save_model(
        model, os.path.join(directory, 'model.xml'), compress_to_fp16=False)
  with tf.io.gfile.GFile(os.path.join(directory, 'serving.json'), 'w') as f:
    json.dump(settings, f, indent=2, sort_keys=True)


def export(checkpoint_path, model_name, num_classes, output_dir,
           frozen_graph_path=None, image_size=None, preprocessing_name=None,
           input_type='uint8', top_k=5, labels_offset=0,
           export_format='saved_model', fold_batch_norms=True):
  """Writes a SavedModel, ONNX model or OpenVINO IR to `output_dir`.

  The targets must not exist yet; they are written under temporary names
  and moved into place when complete. With `num_classes` None the model's
  published checkpoint supplies it and the default image size (e.g. 1001
  classes at 299 for resnet_v2_50). `frozen_graph_path` (the frozen
  GraphDef too) and `input_type` apply to the SavedModel only: the other
  formats take preprocessed float32 images (see the module docstring).

  Returns:
    ExportResult.
  """
  checks.check_choice(export_format, FORMATS, 'export_format')
  if export_format != 'saved_model':
    if frozen_graph_path:
      raise ValueError('frozen_graph is written with export_format='
                       "'saved_model' only; got export_format=%r."
                       % export_format)
    _converter(export_format)
  num_classes, image_size = nets_factory.resolve_model_settings(
      model_name, num_classes, image_size)
  publish.check_fresh(output_dir, 'output_dir')
  if frozen_graph_path:
    publish.check_fresh(frozen_graph_path, 'frozen_graph')
  path = checkpoints.resolve_checkpoint(checkpoint_path)
  graph = tf.Graph()
  with graph.as_default():
    if export_format == 'saved_model':
      _, outputs, image_size = build_serving_graph(
          model_name, num_classes, image_size, preprocessing_name,
          input_type, top_k, labels_offset)
    else:
      _, outputs, image_size = build_network_graph(
          model_name, num_classes, image_size, top_k, labels_offset)
    var_map = checkpoints.restore_map(path)
    with tf.Session() as sess:
      tf.train.Saver(var_map).restore(sess, path)
      graph_def, report = freeze(sess, [t.op.name for t in outputs.values()],
                                 fold_batch_norms)
  with contextlib.ExitStack() as targets:
    staged_output = targets.enter_context(
        publish.staged(output_dir, 'output_dir'))
    if export_format == 'saved_model':
      _write_saved_model(graph_def, staged_output)
    else:
      _write_converted(graph_def, export_format, staged_output, {
          'model_name': model_name, 'num_classes': num_classes,
          'image_size': image_size, 'labels_offset': labels_offset,
          'preprocessing_name': preprocessing_name or model_name,
          'input': 'images: float32 [batch, %d, %d, 3] after the evaluation '
                   'preprocessing' % (image_size, image_size),
          'outputs': list(OUTPUT_NAMES),
          'batch_norms_folded': bool(fold_batch_norms)})
    if frozen_graph_path:
      staged_frozen = targets.enter_context(
          publish.staged(frozen_graph_path, 'frozen_graph'))
      with tf.io.gfile.GFile(staged_frozen, 'wb') as f:
        f.write(graph_def.SerializeToString())
  return ExportResult(output_dir, frozen_graph_path, image_size, num_classes,
                      export_format, report)
