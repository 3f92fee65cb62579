"""Tests of `slim_resnets.serving.export_lib` and export_inference_graph.py.

The checkpoint is the session's shared training run (see test_train_lib).
The reference is the trained network evaluated directly: built here with
nets_factory and the evaluation preprocessing, restored from the
checkpoint. The SavedModel is loaded back in a fresh process with
TensorFlow 2 (as a serving client would) and the frozen GraphDef in a fresh
graph; both must give the reference's probabilities and classes.
"""

import json
import os
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from nets import nets_factory
from slim_resnets.datasets import dataset_factory
from slim_resnets.datasets import input_pipeline
from slim_resnets.preprocessing import preprocessing_factory
from slim_resnets.serving import export_lib

import digits_run
import subprocesses

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_SCRIPT = os.path.join(_ROOT, 'export_inference_graph.py')
_MODEL = digits_run.MODEL
_SHARED_STEPS = digits_run.SHARED_STEPS
_SIZE = digits_run.SIZE


@pytest.fixture(scope='module')
def images(digits):
  """32 validation digits as uint8 [32, 8, 8, 3] (resized inside the graph)."""
  split = dataset_factory.get_split('digits', 'validation', digits)
  with tf.Graph().as_default():
    dataset = input_pipeline.make_dataset(split, batch_size=32,
                                          is_training=False, num_epochs=1)
    batch, _ = tf.data.make_one_shot_iterator(dataset).get_next()
    with tf.Session() as sess:
      pixels = sess.run(batch)
  return pixels.astype(np.uint8)


@pytest.fixture(scope='module')
def reference(trained, images):
  """Softmax of the trained network on `images`, evaluated directly."""
  with tf.Graph().as_default():
    inputs = tf.placeholder(tf.uint8, [None, None, None, 3])
    preprocess = preprocessing_factory.get_preprocessing(_MODEL)
    batch = tf.map_fn(lambda image: preprocess(image, _SIZE, _SIZE), inputs,
                      dtype=tf.float32)
    logits, _ = nets_factory.get_network_fn(_MODEL, 10)(batch)
    probabilities = tf.nn.softmax(tf.reshape(logits, [-1, 10]))
    with tf.Session() as sess:
      tf.train.Saver().restore(sess, trained[1])
      result = sess.run(probabilities, {inputs: images})
  # Sure to tell a working export from one that restored nothing.
  assert len(set(result.argmax(1))) > 2
  return result


@pytest.fixture(scope='module')
def exported(tmp_path_factory, trained):
  """A uint8 SavedModel and frozen graph of the shared checkpoint."""
  root = tmp_path_factory.mktemp('export')
  result = export_lib.export(
      trained[0], _MODEL, 10, str(root / 'saved_model'),
      frozen_graph_path=str(root / 'frozen' / 'graph.pb'), image_size=_SIZE)
  return root, result


def _check_outputs(outputs, reference, top_k=5):
  np.testing.assert_allclose(outputs['probabilities'], reference, atol=1e-5)
  np.testing.assert_array_equal(outputs['classes'][:, 0],
                                reference.argmax(1))
  assert outputs['classes'].shape == (len(reference), top_k)
  np.testing.assert_allclose(
      outputs['scores'], -np.sort(-reference, axis=1)[:, :top_k], atol=1e-5)
  np.testing.assert_allclose(
      np.take_along_axis(outputs['probabilities'], outputs['classes'], 1),
      outputs['scores'], atol=1e-6)


def test_export_result_and_layout(exported):
  root, result = exported
  assert result[:5] == (str(root / 'saved_model'),
                        str(root / 'frozen' / 'graph.pb'), _SIZE, 10,
                        'saved_model')
  # resnet_v1_cifar_20 normalizes convolutions only: everything folds.
  assert len(result.fold_report.folded) == 21
  assert not result.fold_report.kept
  assert (root / 'saved_model' / 'saved_model.pb').is_file()
  assert sorted(os.listdir(root)) == ['frozen', 'saved_model']  # no staging


def test_unfolded_export_keeps_the_batch_norms(trained, images, reference,
                                               tmp_path):
  result = export_lib.export(
      trained[0], _MODEL, 10, str(tmp_path / 'saved_model'),
      frozen_graph_path=str(tmp_path / 'graph.pb'), image_size=_SIZE,
      fold_batch_norms=False)
  assert result.fold_report is None
  graph_def = tf.GraphDef()
  graph_def.ParseFromString((tmp_path / 'graph.pb').read_bytes())
  assert len([n for n in graph_def.node
              if n.op.startswith('FusedBatchNorm')]) == 21
  _check_outputs(_serve_v1(str(tmp_path / 'saved_model'), images),
                 reference)


_LOAD_IN_TF2 = textwrap.dedent('''
    import sys
    import numpy as np
    import tensorflow as tf
    assert tf.executing_eagerly()
    model = tf.saved_model.load(sys.argv[1])
    serve = model.signatures['serving_default']
    images = np.load(sys.argv[2])
    outputs = serve(images=tf.constant(images))
    gray = serve(images=tf.constant(images[..., :1]))['probabilities']
    np.savez(sys.argv[3], gray_probabilities=gray.numpy(),
             **{k: v.numpy() for k, v in outputs.items()})
''')


@pytest.mark.slow
def test_saved_model_in_fresh_tf2_process(exported, images, reference,
                                          tmp_path):
  """A TF2 client gets the training network's probabilities and classes."""
  root, _ = exported
  np.save(tmp_path / 'images.npy', images)
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2')
  process = subprocess.run(
      [sys.executable, '-c', _LOAD_IN_TF2, str(root / 'saved_model'),
       str(tmp_path / 'images.npy'), str(tmp_path / 'outputs.npz')],
      cwd=str(tmp_path), env=env, capture_output=True, text=True,
      timeout=300)
  assert process.returncode == 0, process.stderr
  outputs = dict(np.load(tmp_path / 'outputs.npz'))
  gray = outputs.pop('gray_probabilities')
  assert sorted(outputs) == ['classes', 'probabilities', 'scores']
  assert outputs['classes'].dtype == np.int32
  _check_outputs(outputs, reference)
  # A grayscale batch serves as its three-channel copy.
  np.testing.assert_allclose(
      gray, _serve_v1(str(root / 'saved_model'),
                      np.repeat(images[..., :1], 3, axis=-1))['probabilities'],
      atol=1e-6)


def test_frozen_graph_in_fresh_graph(exported, images, reference):
  root, _ = exported
  graph_def = tf.GraphDef()
  with open(root / 'frozen' / 'graph.pb', 'rb') as f:
    graph_def.ParseFromString(f.read())
  assert not [n.name for n in graph_def.node
              if n.op in ('VariableV2', 'VarHandleOp')]
  # Folded: no batch norm left.
  assert not [n.name for n in graph_def.node
              if n.op.startswith('FusedBatchNorm')]
  with tf.Graph().as_default() as graph:
    tf.import_graph_def(graph_def, name='')
    with tf.Session() as sess:
      fetched = sess.run(
          {name: graph.get_tensor_by_name(name + ':0')
           for name in ('probabilities', 'classes', 'scores')},
          {'images:0': images})
  _check_outputs(fetched, reference)


def _serve_v1(saved_model_dir, images):
  """Runs the serving signature with the TF1 loader in a fresh graph."""
  with tf.Graph().as_default():
    with tf.Session() as sess:
      meta = tf.saved_model.loader.load(sess, [tf.saved_model.SERVING],
                                        saved_model_dir)
      signature = meta.signature_def[export_lib.SIGNATURE_KEY]
      fetches = {k: v.name for k, v in signature.outputs.items()}
      return sess.run(fetches, {signature.inputs['images'].name: images})


def test_grayscale_and_rgba_inputs_serve_as_rgb(exported, images):
  """1 channel is replicated, a 4th (alpha) dropped; 2 channels refused."""
  root, _ = exported
  saved_model_dir = str(root / 'saved_model')
  gray = images[..., :1]
  as_rgb = _serve_v1(saved_model_dir, np.repeat(gray, 3, axis=-1))
  _check_outputs(_serve_v1(saved_model_dir, gray), as_rgb['probabilities'])
  alpha = np.full(images.shape[:-1] + (1,), 7, np.uint8)
  _check_outputs(_serve_v1(saved_model_dir,
                           np.concatenate([images, alpha], axis=-1)),
                 _serve_v1(saved_model_dir, images)['probabilities'])
  with pytest.raises(tf.errors.InvalidArgumentError,
                     match=r'images must have 1 \(grayscale\), 3 \(RGB\) '
                     r'or 4 \(RGBA\) channels; got.*2'):
    _serve_v1(saved_model_dir, images[..., :2])


def test_float32_input_type(trained, images, reference, tmp_path):
  """Float images in [0, 1] give the probabilities of the uint8 images."""
  result = export_lib.export(trained[1], _MODEL, 10,
                             str(tmp_path / 'float'), image_size=_SIZE,
                             input_type='float32', top_k=3,
                             labels_offset=1)
  assert result.frozen_graph is None
  outputs = _serve_v1(str(tmp_path / 'float'),
                      images.astype(np.float32) / 255.0)
  np.testing.assert_allclose(outputs['probabilities'], reference, atol=1e-5)
  # Classes are dataset labels: network index + labels_offset.
  np.testing.assert_array_equal(outputs['classes'][:, 0],
                                reference.argmax(1) + 1)
  assert outputs['classes'].shape == (len(images), 3)


def test_existing_output_dir_is_left_untouched(trained, tmp_path):
  target = tmp_path / 'saved_model'
  target.mkdir()
  (target / 'notes.txt').write_text('older export')
  with pytest.raises(FileExistsError, match='output_dir .* already exists'):
    export_lib.export(trained[1], _MODEL, 10, str(target), image_size=_SIZE)
  assert os.listdir(target) == ['notes.txt']
  assert (target / 'notes.txt').read_text() == 'older export'
  assert sorted(os.listdir(tmp_path)) == ['saved_model']


def test_existing_frozen_graph_is_refused_before_writing(trained, tmp_path):
  (tmp_path / 'graph.pb').write_bytes(b'old')
  with pytest.raises(FileExistsError, match='frozen_graph'):
    export_lib.export(trained[1], _MODEL, 10, str(tmp_path / 'model'),
                      frozen_graph_path=str(tmp_path / 'graph.pb'))
  assert sorted(os.listdir(tmp_path)) == ['graph.pb']
  assert (tmp_path / 'graph.pb').read_bytes() == b'old'


def test_mismatched_checkpoint_lists_variables(trained, tmp_path):
  """Exporting with the wrong class count names the logits, writes nothing."""
  from slim_resnets.training import checkpoints  # pylint: disable=g-import-not-at-top
  with pytest.raises(checkpoints.CheckpointMismatchError,
                     match=r'logits/weights: model \[1, 1, 64, 7\]'):
    export_lib.export(trained[1], _MODEL, 7, str(tmp_path / 'model'))
  assert os.listdir(tmp_path) == []


@pytest.mark.parametrize('kwargs,pattern', [
    (dict(input_type='int8'), 'input_type must be one of uint8, float32'),
    (dict(export_format='tflite'),
     'export_format must be one of saved_model, onnx, openvino'),
    (dict(export_format='onnx', frozen_graph_path='/tmp/never.pb'),
     "frozen_graph is written with export_format='saved_model' only"),
    (dict(image_size=-3), r'image_size must be an integer >= 4 or None '
     r'\(pixels; resnet_v1_cifar_20 has a total stride of 4\); got -3'),
    (dict(image_size=3), 'image_size must be an integer >= 4'),
])
def test_bad_arguments(trained, tmp_path, kwargs, pattern):
  with pytest.raises(ValueError, match=pattern):
    export_lib.export(trained[1], _MODEL, 10, str(tmp_path / 'model'),
                      **kwargs)
  assert os.listdir(tmp_path) == []


def test_missing_converter_says_how_to_install_it(trained, tmp_path,
                                                  monkeypatch):
  monkeypatch.setitem(export_lib._CONVERTERS, 'onnx',  # pylint: disable=protected-access
                      ('no_such_converter', 'serving'))
  with pytest.raises(ValueError, match=re.escape(
      "export_format='onnx' needs the no_such_converter package, which is "
      "not installed: pip install 'slim-resnets[serving]'")):
    export_lib.export(trained[1], _MODEL, 10, str(tmp_path / 'model'),
                      export_format='onnx')
  assert os.listdir(tmp_path) == []


def test_num_classes_required_without_published_checkpoint(trained,
                                                           tmp_path):
  with pytest.raises(ValueError, match='num_classes is required'):
    export_lib.export(trained[1], _MODEL, None, str(tmp_path / 'model'))


@pytest.mark.slow
def test_script(trained, tmp_path):
  """The script exports (exit 0); without its required flags it fails.

  Both runs start together to share TensorFlow's start-up time.
  """
  (good_code, good_output), (missing_code, missing_output) = (
      subprocesses.run_together(
          [sys.executable, _SCRIPT, '--model_name=' + _MODEL,
           '--checkpoint_path=' + trained[0], '--num_classes=10',
           '--image_size=%d' % _SIZE, '--output_dir=%s' % (tmp_path / 'model'),
           '--frozen_graph=%s' % (tmp_path / 'frozen.pb')],
          [sys.executable, _SCRIPT, '--model_name=' + _MODEL]))
  assert good_code == 0, good_output
  assert 'Exported SavedModel to %s' % (tmp_path / 'model') in good_output
  assert ('(input 12x12, 10 classes; 21 of 21 batch norms folded into '
          'convolutions)') in good_output
  assert (tmp_path / 'model' / 'saved_model.pb').is_file()
  assert (tmp_path / 'frozen.pb').is_file()
  assert missing_code != 0
  assert '--checkpoint_path' in missing_output
  assert '--output_dir' in missing_output


@pytest.fixture(scope='module')
def preprocessed(images):
  """`images` after the evaluation preprocessing, as ONNX/OpenVINO take it."""
  with tf.Graph().as_default():
    preprocess = preprocessing_factory.get_preprocessing(_MODEL)
    batch = tf.map_fn(lambda image: preprocess(image, _SIZE, _SIZE),
                      tf.constant(images), dtype=tf.float32)
    with tf.Session() as sess:
      return sess.run(batch)


def _run_onnx(directory, images):
  import onnxruntime  # pylint: disable=g-import-not-at-top
  session = onnxruntime.InferenceSession(
      os.path.join(directory, 'model.onnx'),
      providers=['CPUExecutionProvider'])
  names = [o.name for o in session.get_outputs()]
  values = session.run(names, {'images:0': images})
  return {name.split(':')[0]: value for name, value in zip(names, values)}


def _run_openvino(directory, images):
  import openvino  # pylint: disable=g-import-not-at-top
  compiled = openvino.Core().compile_model(
      os.path.join(directory, 'model.xml'), 'CPU',
      {'INFERENCE_PRECISION_HINT': 'f32'})
  results = compiled(images)
  outputs = {}
  for output in compiled.outputs:
    (name,) = {n.split(':')[0] for n in output.get_names()} & set(
        export_lib.OUTPUT_NAMES)
    outputs[name] = results[output]
  return outputs


@pytest.mark.parametrize('export_format,run', [('onnx', _run_onnx),
                                               ('openvino', _run_openvino)])
def test_converted_model_serves_the_reference(trained, preprocessed,
                                              reference, tmp_path,
                                              export_format, run):
  """ONNX Runtime and OpenVINO give the training network's outputs."""
  directory = str(tmp_path / 'model')
  result = export_lib.export(trained[0], _MODEL, 10, directory,
                             image_size=_SIZE, export_format=export_format,
                             labels_offset=1)
  assert result.export_format == export_format
  assert len(result.fold_report.folded) == 21
  with open(os.path.join(directory, 'serving.json')) as f:
    settings = json.load(f)
  assert (settings['model_name'], settings['image_size'],
          settings['labels_offset']) == (_MODEL, _SIZE, 1)
  outputs = run(directory, preprocessed)
  assert sorted(outputs) == ['classes', 'probabilities', 'scores']
  outputs['classes'] = outputs['classes'] - 1  # the labels offset
  _check_outputs(outputs, reference)
  assert sorted(os.listdir(tmp_path)) == ['model']  # no staging left
