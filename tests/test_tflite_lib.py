"""Tests of `slim_resnets.serving.tflite_lib` and export_tflite_model.py.

The checkpoint is the session's shared training run (see test_train_lib).
The reference is the trained network evaluated directly in TensorFlow: built
here with nets_factory, restored from the checkpoint, fed the validation
digits through the evaluation pipeline. The TFLite models are converted once
per module; the float32 one must reproduce the reference, the quantized ones
must stay close to it and really compute in int8.
"""

import json
import os
import sys

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from nets import nets_factory
from slim_resnets.datasets import dataset_factory
from slim_resnets.datasets import input_pipeline
from slim_resnets.preprocessing import preprocessing_factory
from slim_resnets.serving import tflite_lib
from slim_resnets.training import config as config_lib
from slim_resnets.training import eval_lib

import digits_run
import subprocesses

_SCRIPT = os.path.join(subprocesses.ROOT, 'export_tflite_model.py')
_MODEL = digits_run.MODEL
_SIZE = digits_run.SIZE
_CALIBRATION = 100


@pytest.fixture(scope='module')
def validation(digits):
  """Preprocessed validation digits [300, 12, 12, 3] and their labels."""
  split = dataset_factory.get_split('digits', 'validation', digits)
  preprocess = preprocessing_factory.get_preprocessing('cifarnet')
  with tf.Graph().as_default():
    dataset = input_pipeline.make_dataset(
        split, batch_size=1000, preprocess_fn=preprocess, image_size=_SIZE,
        is_training=False, num_epochs=1)
    batch = tf.data.make_one_shot_iterator(dataset).get_next()
    with tf.Session() as sess:
      return sess.run(batch)


@pytest.fixture(scope='module')
def reference(trained, validation):
  """Softmax of the trained network on the validation digits, in TF."""
  with tf.Graph().as_default():
    images = tf.placeholder(tf.float32, [None, _SIZE, _SIZE, 3])
    logits, _ = nets_factory.get_network_fn(_MODEL, 10)(images)
    probabilities = tf.nn.softmax(tf.reshape(logits, [-1, 10]))
    with tf.Session() as sess:
      tf.train.Saver().restore(sess, trained[1])
      result = sess.run(probabilities, {images: validation[0]})
  # Sure to tell a restored network from an untrained one.
  assert len(set(result.argmax(1))) > 2
  return result


def _calibration(digits, **kwargs):
  return tflite_lib.calibration_images('digits', digits, _MODEL, _SIZE,
                                       num_examples=_CALIBRATION,
                                       preprocessing_name='cifarnet',
                                       **kwargs)


@pytest.fixture(scope='module')
def models(tmp_path_factory, trained, digits):
  """{name: TFLiteExport}: the three quantizations, and int8 input/output."""
  root = tmp_path_factory.mktemp('tflite')
  exports = {}
  for name, quantization, int8_io in [
      ('float32', 'float32', False), ('dynamic_range', 'dynamic_range', False),
      ('full_integer', 'full_integer', False),
      ('int8_io', 'full_integer', True)]:
    calibration = (_calibration(digits) if quantization == 'full_integer'
                   else None)
    exports[name] = tflite_lib.export_tflite(
        trained[0], _MODEL, 10, str(root / (name + '.tflite')),
        image_size=_SIZE, quantization=quantization,
        representative_images=calibration, int8_io=int8_io)
  return exports


@pytest.fixture(scope='module')
def predictions(models, validation):
  """{name: probabilities of the validation digits} of each model."""
  return {name: tflite_lib.TFLiteClassifier(export.path).predict(
      validation[0]) for name, export in models.items()}


def test_export_results_and_files(models):
  root = os.path.dirname(models['float32'].path)
  assert sorted(os.listdir(root)) == [
      'dynamic_range.tflite', 'float32.tflite', 'full_integer.tflite',
      'int8_io.tflite']  # No staging files left behind.
  for name, export in models.items():
    assert export == tflite_lib.TFLiteExport(
        os.path.join(root, name + '.tflite'),
        'float32' if name == 'float32' else
        'dynamic_range' if name == 'dynamic_range' else 'full_integer',
        os.path.getsize(export.path), _SIZE, 10)
    # Readable like any new file, not private like a temporary one.
    assert os.stat(export.path).st_mode & 0o044 == 0o044 & ~_umask()
  # 272k parameters: ~1.1 MB as float32, about a quarter as int8.
  assert models['float32'].size_bytes > 1000000
  for name in ('dynamic_range', 'full_integer', 'int8_io'):
    assert models[name].size_bytes < 0.35 * models['float32'].size_bytes


def _umask():
  mask = os.umask(0)
  os.umask(mask)
  return mask


def test_float32_equals_tf_graph(models, predictions, reference):
  classifier = tflite_lib.TFLiteClassifier(models['float32'].path,
                                           num_threads=2)
  assert (classifier.image_size, classifier.num_classes) == (_SIZE, 10)
  assert classifier.quantization == 'float32'
  assert not classifier.int8_io
  np.testing.assert_allclose(predictions['float32'], reference, atol=2e-6)
  np.testing.assert_array_equal(predictions['float32'].argmax(1),
                                reference.argmax(1))


def test_batches_of_any_size(models, validation, predictions):
  """The interpreter is resized per call; rows do not depend on the batch."""
  classifier = tflite_lib.TFLiteClassifier(models['float32'].path)
  images = validation[0]
  parts = [classifier.predict(images[:1]), classifier.predict(images[1:8]),
           classifier.predict(images[8:])]
  np.testing.assert_allclose(np.concatenate(parts), predictions['float32'],
                             atol=1e-6)
  assert classifier.predict(images[:0]).shape == (0, 10)
  with pytest.raises(ValueError, match=r'\[batch, 12, 12, 3\]'):
    classifier.predict(images[:2, :8, :8])


def test_classifier_arguments(models, tmp_path):
  with pytest.raises(FileNotFoundError, match='missing.tflite does not exist'):
    tflite_lib.TFLiteClassifier(str(tmp_path / 'missing.tflite'))
  with pytest.raises(ValueError, match='num_threads must be a positive'):
    tflite_lib.TFLiteClassifier(models['float32'].path, num_threads=0)


def test_dynamic_range_is_close(models, predictions, reference):
  """int8 weights, float activations: close to TensorFlow on average.

  The model is the session's shared run, and training on several threads
  is not bitwise reproducible, so each run quantizes a slightly different
  model. Measured: the mean error of the 3,000 probabilities stays near
  0.0007 (0.00062, 0.00079), while their largest error, one outlier, went
  from 0.0085 to 0.051 between runs. So the mean carries the bound; the
  maximum only guards against a broken tensor.
  """
  assert tflite_lib.TFLiteClassifier(
      models['dynamic_range'].path).quantization == 'dynamic_range'
  error = np.abs(predictions['dynamic_range'] - reference)
  assert error.mean() < 0.005, error.mean()
  assert error.max() < 0.1, error.max()
  agree = predictions['dynamic_range'].argmax(1) == reference.argmax(1)
  assert agree.mean() >= 0.97


def _tensors(path):
  classifier = tflite_lib.TFLiteClassifier(path)
  interpreter = classifier.interpreter
  details = {d['index']: d for d in interpreter.get_tensor_details()}
  ops = interpreter._get_ops_details()  # pylint: disable=protected-access
  return classifier, details, ops


@pytest.mark.parametrize('name', ['full_integer', 'int8_io'])
def test_full_integer_computes_in_int8(models, name):
  """Every convolution reads and writes int8 with int8 per-channel weights."""
  classifier, details, ops = _tensors(models[name].path)
  assert classifier.quantization == 'full_integer'
  convs = [op for op in ops if op['op_name'] == 'CONV_2D']
  assert len(convs) == 22  # 19 3x3 convs + 2 projections + the logits.
  for op in convs:
    data, weights = details[op['inputs'][0]], details[op['inputs'][1]]
    output = details[op['outputs'][0]]
    assert data['dtype'] == weights['dtype'] == output['dtype'] == np.int8
    assert details[op['inputs'][2]]['dtype'] == np.int32  # Bias.
    scales = weights['quantization_parameters']['scales']
    assert len(scales) == weights['shape'][0] > 1  # One per output channel.
  float_tensors = [d for d in details.values() if d['dtype'] == np.float32]
  names = {op['op_name'] for op in ops}
  if name == 'full_integer':
    # Float only at the edges: the input before QUANTIZE, the output after
    # DEQUANTIZE.
    assert len(float_tensors) == 2
    assert {'QUANTIZE', 'DEQUANTIZE'} <= names
    assert not classifier.int8_io
  else:
    assert not float_tensors
    assert classifier.int8_io
    assert classifier.interpreter.get_input_details()[0]['dtype'] == np.int8


def test_full_integer_agrees_with_float(predictions, reference):
  full = predictions['full_integer']
  np.testing.assert_allclose(full.sum(1), 1.0, atol=0.05)
  assert (full.argmax(1) == reference.argmax(1)).mean() >= 0.85
  # int8 input/output with the same calibration computes the same thing;
  # only the output's dequantization step (1/256) may differ.
  assert np.abs(predictions['int8_io'] - full).max() <= 1 / 256 + 1e-6


def _eval_config(digits, **overrides):
  return config_lib.EvalConfig(**dict(
      dict(dataset_name='digits', dataset_split_name='validation',
           dataset_dir=digits, model_name=_MODEL,
           preprocessing_name='cifarnet', eval_image_size=_SIZE),
      **overrides))


def test_evaluate_tflite_matches_evaluate_checkpoint(models, trained, digits,
                                                     predictions,
                                                     validation):
  config = _eval_config(digits)
  expected = eval_lib.evaluate_checkpoint(config, trained[1])
  results = tflite_lib.evaluate_tflite(config, models['float32'].path)
  assert set(results) == (set(expected) - {'checkpoint'} |
                          {'tflite_path', 'quantization'})
  for key in ('num_examples', 'top1_accuracy', 'top5_accuracy', 'top5_k',
              'per_class_recall', 'mean_per_class_recall', 'model_name',
              'dataset'):
    assert results[key] == expected[key], key
  assert results['num_examples'] == 300
  assert results['quantization'] == 'float32'
  assert results['tflite_path'] == models['float32'].path
  # The full-integer model: scored on its own predictions.
  full = tflite_lib.evaluate_tflite(config, models['full_integer'].path,
                                    num_threads=1)
  assert full['quantization'] == 'full_integer'
  assert full['top1_accuracy'] == pytest.approx(
      (predictions['full_integer'].argmax(1) == validation[1]).mean())


def test_eval_with_tflite_model_writes_results(models, digits, tmp_path):
  """tflite_lib.evaluate: what the eval script runs for --tflite_model."""
  config = _eval_config(digits, eval_dir=str(tmp_path),
                        tflite_model=models['full_integer'].path,
                        checkpoint_path='/nonexistent/not/needed')
  with pytest.raises(ValueError, match='serving.tflite_lib.evaluate'):
    eval_lib.evaluate(config)
  results = tflite_lib.evaluate(config, log_fn=lambda message: None)
  direct = tflite_lib.evaluate_tflite(config, models['full_integer'].path)
  assert results['top1_accuracy'] == direct['top1_accuracy']
  assert results['quantization'] == 'full_integer'
  with open(tmp_path / 'eval_results.json') as f:
    written = json.load(f)
  assert written['top1_accuracy'] == results['top1_accuracy']
  assert written['tflite_path'] == models['full_integer'].path
  assert written['global_step'] is None


def test_evaluate_tflite_max_num_batches(models, digits):
  results = tflite_lib.evaluate_tflite(
      _eval_config(digits, batch_size=64, max_num_batches=2),
      models['dynamic_range'].path)
  assert results['num_examples'] == 128
  assert results['quantization'] == 'dynamic_range'


def test_evaluate_tflite_other_image_size(models, digits):
  with pytest.raises(ValueError, match='takes 12x12 images .* expects 16x16'):
    tflite_lib.evaluate_tflite(_eval_config(digits, eval_image_size=16),
                               models['float32'].path)


def test_calibration_images(digits):
  first = list(_calibration(digits))
  assert len(first) == _CALIBRATION
  assert all(image.shape == (_SIZE, _SIZE, 3) and image.dtype == np.float32
             for image in first)
  # Standardized per image, as the evaluation preprocessing does.
  np.testing.assert_allclose([image.mean() for image in first], 0, atol=1e-4)
  again = list(_calibration(digits))
  np.testing.assert_array_equal(np.stack(first), np.stack(again))
  validation = list(_calibration(digits, split_name='validation'))
  assert not np.array_equal(np.stack(first), np.stack(validation))
  with pytest.raises(ValueError, match='num_examples must be a positive'):
    tflite_lib.calibration_images('digits', digits, _MODEL, num_examples=0)


def test_existing_output_is_left_untouched(trained, tmp_path):
  target = tmp_path / 'model.tflite'
  target.write_bytes(b'an older model')
  with pytest.raises(FileExistsError,
                     match='output_path .*model.tflite already exists'):
    tflite_lib.export_tflite(trained[1], _MODEL, 10, str(target),
                             image_size=_SIZE)
  assert target.read_bytes() == b'an older model'
  assert os.listdir(tmp_path) == ['model.tflite']


@pytest.mark.parametrize('kwargs,pattern', [
    (dict(quantization='int4'), "quantization must be one of float32, "
     "dynamic_range, full_integer; got 'int4'"),
    (dict(quantization='full_integer'), 'needs representative_images'),
    (dict(quantization='dynamic_range', int8_io=True), 'int8_io needs'),
    (dict(image_size=0), 'image_size must be an integer >= 4'),
    (dict(quantization='full_integer', representative_images=[]),
     'representative_images yielded no images'),
    (dict(quantization='full_integer',
          representative_images=np.zeros([3, 16, 16, 3], np.float32)),
     r'representative_images must yield .* \[12, 12, 3\]; got .* '
     r'\[16, 16, 3\]'),
])
def test_bad_arguments_name_them_and_write_nothing(trained, tmp_path, kwargs,
                                                   pattern):
  kwargs.setdefault('image_size', _SIZE)
  with pytest.raises(ValueError, match=pattern):
    tflite_lib.export_tflite(trained[1], _MODEL, 10,
                             str(tmp_path / 'model.tflite'), **kwargs)
  assert os.listdir(tmp_path) == []


@pytest.mark.slow
def test_script(trained, digits, tmp_path):
  """The script writes a calibrated int8 model; refuses to overwrite one.

  Both runs start together to share TensorFlow's start-up time.
  """
  (tmp_path / 'old.tflite').write_bytes(b'old')
  common = [sys.executable, _SCRIPT, '--model_name=' + _MODEL,
            '--checkpoint_path=' + trained[0], '--num_classes=10',
            '--image_size=%d' % _SIZE]
  (good_code, good_output), (refused_code, refused_output) = (
      subprocesses.run_together(
          common + ['--output_file=%s' % (tmp_path / 'int8.tflite'),
                    '--quantization=full_integer', '--dataset_name=digits',
                    '--dataset_dir=' + digits,
                    '--num_calibration_examples=20',
                    '--preprocessing_name=cifarnet'],
          common + ['--output_file=%s' % (tmp_path / 'old.tflite')]))
  assert good_code == 0, good_output
  assert ('Exported full_integer TFLite model to %s' % (tmp_path /
                                                        'int8.tflite')
          in good_output)
  assert 'input 12x12, 10 classes)' in good_output
  classifier = tflite_lib.TFLiteClassifier(str(tmp_path / 'int8.tflite'))
  assert classifier.quantization == 'full_integer'
  assert refused_code == 2, refused_output
  assert 'error: output_path' in refused_output
  assert (tmp_path / 'old.tflite').read_bytes() == b'old'


def test_script_quantizations_are_the_library_s():
  with open(_SCRIPT) as f:
    source = f.read()
  assert "_QUANTIZATIONS = %r" % (tflite_lib.QUANTIZATIONS,) in source
