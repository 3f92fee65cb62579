"""Serving through TensorFlow Lite: float32, dynamic-range and int8 models.

    export_tflite(train_dir, 'resnet_v1_cifar_20', 10, 'model.tflite',
                  image_size=16, quantization='full_integer',
                  representative_images=calibration_images(
                      'digits', 'data/digits', 'resnet_v1_cifar_20', 16))
    probabilities = TFLiteClassifier('model.tflite').predict(images)

Unlike the SavedModel of `export_lib`, the TFLite model has no preprocessing
inside: it takes *already preprocessed* float32 images [batch, size, size, 3]
(what the evaluation input pipeline produces) and returns softmax
probabilities [batch, num_classes]. TFLite's builtin ops cannot express every
recipe (inception's central crop of a variable-sized image, say), and keeping
it outside means calibration, evaluation and serving all feed the network
exactly the tensors it was trained on.

The three quantizations:

* 'float32': the network as it is, batch norm folded into the convolutions.
* 'dynamic_range': weights stored as int8 (per output channel), activations
  quantized on the fly per inference; no calibration data needed.
* 'full_integer': weights and activations int8, with activation ranges
  measured on representative images (calibration). By default the input
  and output stay float32 (a QUANTIZE op in front, a DEQUANTIZE at the end),
  so callers need no scale arithmetic; `int8_io=True` makes them int8 for
  integer-only accelerators, and `TFLiteClassifier` then does the
  arithmetic.
"""

import collections
import contextlib
import os
import time
import warnings

import numpy as np
import tensorflow.compat.v1 as tf

from nets import nets_factory
from resnet_utils import checks
from resnet_utils import graph_building
from slim_resnets import publish
from slim_resnets.datasets import dataset_factory
from slim_resnets.datasets import input_pipeline
from slim_resnets.preprocessing import preprocessing_factory
from slim_resnets.training import checkpoints
from slim_resnets.training import eval_lib

QUANTIZATIONS = ('float32', 'dynamic_range', 'full_integer')
DEFAULT_CALIBRATION_EXAMPLES = 200
INPUT_NAME = 'images'
OUTPUT_NAME = 'probabilities'

TFLiteExport = collections.namedtuple(
    'TFLiteExport', ['path', 'quantization', 'size_bytes', 'image_size',
                     'num_classes'])


def check_quantization(quantization):
  """A ValueError naming `quantization` and the accepted values."""
  if quantization not in QUANTIZATIONS:
    raise ValueError('quantization must be one of %s; got %r.'
                     % (', '.join(QUANTIZATIONS), quantization))


def _check_options(quantization, representative_images, int8_io):
  check_quantization(quantization)
  if quantization == 'full_integer' and representative_images is None:
    raise ValueError("quantization='full_integer' needs "
                     'representative_images (calibration data) to measure '
                     'the ranges of the int8 activations.')
  if int8_io and quantization != 'full_integer':
    raise ValueError("int8_io needs quantization='full_integer'; got %r."
                     % quantization)


def build_inference_graph(model_name, num_classes, image_size):
  """Preprocessed images -> probabilities in the default graph.

  Returns:
    (images placeholder float32 [None, size, size, 3] named 'images',
    probabilities [None, num_classes] named 'probabilities'). The batch
    dimension stays open: TFLite then records it as -1 and the interpreter
    can be resized to any batch.
  """
  network_fn = nets_factory.get_network_fn(model_name, num_classes,
                                           is_training=False)
  images = tf.placeholder(tf.float32, [None, image_size, image_size, 3],
                          name=INPUT_NAME)
  with graph_building.fast_graph_building():
    logits, _ = network_fn(images)
  logits = tf.reshape(logits, [-1, num_classes])
  return images, tf.nn.softmax(logits, name=OUTPUT_NAME)


def frozen_inference_graph(checkpoint_path, model_name, num_classes,
                           image_size):
  """The inference graph with the checkpoint's weights as constants.

  Freezing here, rather than letting the converter freeze a live session,
  checks the checkpoint against the model first (a wrong class count is
  named, not restored into a resource variable of the wrong shape) and
  hands the converter a graph without variables or their initializers.

  Returns:
    A GraphDef with input 'images' and output 'probabilities'.
  """
  path = checkpoints.resolve_checkpoint(checkpoint_path)
  graph = tf.Graph()
  with graph.as_default():
    build_inference_graph(model_name, num_classes, image_size)
    var_map = checkpoints.restore_map(path)
    with tf.Session() as sess:
      tf.train.Saver(var_map).restore(sess, path)
      return tf.graph_util.convert_variables_to_constants(
          sess, graph.as_graph_def(), [OUTPUT_NAME])


def _calibration_batches(representative_images, image_size, seen):
  """The converter's representative_dataset: one [1, H, W, 3] image a call.

  `seen` counts the images handed over, so that an empty source can be
  reported: the converter itself would return an unquantized model.
  """
  source = (representative_images() if callable(representative_images)
            else representative_images)
  expected = (image_size, image_size, 3)

  def generate():
    for image in source:
      image = np.asarray(image, dtype=np.float32)
      if image.shape == (1,) + expected:
        image = image[0]
      if image.shape != expected:
        raise ValueError('representative_images must yield preprocessed '
                         'images of shape %s; got one of shape %s.'
                         % (list(expected), list(image.shape)))
      seen['images'] += 1
      yield [image[None]]

  return generate


def convert(graph_def, image_size, quantization='float32',
            representative_images=None, int8_io=False):
  """TFLite flatbuffer bytes of a frozen inference graph.

  Args:
    graph_def: from `frozen_inference_graph`.
    image_size: its input size (checks calibration images).
    quantization: one of QUANTIZATIONS.
    representative_images: for 'full_integer': an iterable of preprocessed
      float32 images [size, size, 3] (e.g. `calibration_images(...)`, or an
      array [N, size, size, 3]), or a function returning one.
    int8_io: 'full_integer' only: int8 input and output tensors instead of
      float32 ones.

  Raises:
    ValueError: for an unknown quantization, missing or empty calibration
      data, or int8_io without full-integer quantization.
  """
  _check_options(quantization, representative_images, int8_io)
  graph = tf.Graph()
  with graph.as_default():
    tf.import_graph_def(graph_def, name='')
    images = graph.get_tensor_by_name(INPUT_NAME + ':0')
    probabilities = graph.get_tensor_by_name(OUTPUT_NAME + ':0')
    with tf.Session() as sess:
      converter = tf.lite.TFLiteConverter.from_session(sess, [images],
                                                       [probabilities])
  if quantization != 'float32':
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
  seen = {'images': 0}
  if quantization == 'full_integer':
    converter.representative_dataset = _calibration_batches(
        representative_images, image_size, seen)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    if int8_io:
      converter.inference_input_type = tf.int8
      converter.inference_output_type = tf.int8
  content = converter.convert()
  if quantization == 'full_integer' and not seen['images']:
    # The converter does not object: it quietly returns a float model.
    raise ValueError('representative_images yielded no images; '
                     "quantization='full_integer' needs some to calibrate "
                     'on.')
  return content


def export_tflite(checkpoint_path, model_name, num_classes, output_path,
                  image_size=None, quantization='float32',
                  representative_images=None, int8_io=False):
  """Converts a checkpoint to a TFLite model file at `output_path`.

  Every argument is checked and the checkpoint matched against the model
  before anything is written; `output_path` must not exist (an existing
  file is never replaced).

  Args:
    checkpoint_path: a checkpoint prefix or a directory (its latest one).
    model_name: a network of nets_factory.
    num_classes: the checkpoint's logits; None takes them (and the image
      size) from the model's published checkpoint.
    output_path: the .tflite file to create.
    image_size: input size; the model's default when None.
    quantization: one of QUANTIZATIONS.
    representative_images: calibration images for 'full_integer' (see
      `convert`; `calibration_images` reads them from a dataset).
    int8_io: int8 input/output tensors ('full_integer' only).

  Returns:
    TFLiteExport(path, quantization, size_bytes, image_size, num_classes).

  Raises:
    ValueError: bad arguments, naming them.
    FileExistsError: output_path exists.
    FileNotFoundError / CheckpointMismatchError: no or unfitting checkpoint.
  """
  _check_options(quantization, representative_images, int8_io)
  num_classes, image_size = nets_factory.resolve_model_settings(
      model_name, num_classes, image_size)
  publish.check_fresh(output_path, 'output_path')
  graph_def = frozen_inference_graph(checkpoint_path, model_name, num_classes,
                                     image_size)
  content = convert(graph_def, image_size, quantization,
                    representative_images, int8_io)
  publish.write_file(output_path, content, 'output_path')
  return TFLiteExport(output_path, quantization, len(content), image_size,
                      num_classes)


def calibration_images(dataset_name, dataset_dir, model_name,
                       image_size=None, split_name='train',
                       num_examples=DEFAULT_CALIBRATION_EXAMPLES,
                       preprocessing_name=None, seed=0):
  """Up to `num_examples` preprocessed images of a split, one at a time.

  Calibration must see what the model will see in service, so the images
  go through the evaluation preprocessing of `eval_lib`. The default split
  is 'train': calibrating on the validation images would let the figures
  measured on them flatter the quantized model. The examples are drawn from
  a seeded shuffle across the split's files (a fixed sample, not just the
  start of the first file, which could hold few classes).

  The split is looked up now, so a missing dataset fails here and not
  inside the converter; the images are read when iterated.

  Returns:
    An iterator of float32 [size, size, 3] arrays.
  """
  checks.check_int(num_examples, 'num_examples')
  nets_factory.check_name(model_name)
  nets_factory.check_image_size(image_size, 'image_size', model_name)
  image_size = (image_size or
                nets_factory.networks_map[model_name].default_image_size)
  split = dataset_factory.get_split(dataset_name, split_name, dataset_dir)
  preprocess = preprocessing_factory.get_preprocessing(
      preprocessing_name or model_name, is_training=False)
  return _read_images(split, preprocess, image_size, num_examples, seed)


def _read_images(split, preprocess, image_size, num_examples, seed):
  graph = tf.Graph()
  with graph.as_default():
    dataset = input_pipeline.make_dataset(
        split, min(num_examples, 64), preprocess_fn=preprocess,
        image_size=image_size, is_training=False, num_epochs=1, seed=seed,
        shuffle=True, shuffle_buffer_size=4 * num_examples,
        drop_remainder=False)
    batch = tf.data.make_one_shot_iterator(dataset).get_next()[0]
  count = 0
  with tf.Session(graph=graph) as sess:
    while count < num_examples:
      try:
        images = sess.run(batch)
      except tf.errors.OutOfRangeError:
        return
      for image in images[:num_examples - count]:
        count += 1
        yield image


@contextlib.contextmanager
def _quiet_interpreter_warning():
  """Hides the deprecation notice tf.lite.Interpreter prints in TF 2.21.

  It advises the ai_edge_litert package, which runs the same models; until
  the project moves, it would only repeat itself on every load. Any other
  warning still shows.
  """
  with warnings.catch_warnings():
    warnings.filterwarnings(
        'ignore', message=r'\s*Warning: tf\.lite\.Interpreter is deprecated',
        category=UserWarning)
    yield


def _is_quantized(details):
  scale, _ = details['quantization']
  return details['dtype'] in (np.int8, np.uint8) and scale > 0


class TFLiteClassifier:
  """A .tflite classifier from `export_tflite`, callable on float batches.

  `predict` takes preprocessed float32 images [N, size, size, 3] and returns
  float32 probabilities [N, num_classes], whatever the model's quantization:
  int8 inputs and outputs are quantized and dequantized here. The
  interpreter is resized to each new batch size (the model's batch
  dimension is open), so evaluation can run whole batches at once.
  """

  def __init__(self, path, num_threads=None):
    checks.check_int(num_threads, 'num_threads', allow_none=True)
    if not os.path.isfile(path):
      raise FileNotFoundError('TFLite model %s does not exist.' % path)
    self.path = path
    with _quiet_interpreter_warning():
      self.interpreter = tf.lite.Interpreter(model_path=path,
                                             num_threads=num_threads)
    self.interpreter.allocate_tensors()
    inputs = self.interpreter.get_input_details()
    outputs = self.interpreter.get_output_details()
    if len(inputs) != 1 or len(outputs) != 1:
      raise ValueError('%s is not a classifier: it has %d inputs and %d '
                       'outputs.' % (path, len(inputs), len(outputs)))
    self._input, self._output = inputs[0], outputs[0]
    shape = list(self._input['shape'])
    self.image_size = int(shape[1])
    self.num_classes = int(self._output['shape'][-1])
    self._batch = int(shape[0])
    self.quantization = self._detect_quantization()

  def _detect_quantization(self):
    """Which of QUANTIZATIONS the file holds, read off its tensors.

    Full-integer models compute in int8 throughout, so their convolutions
    read int8 activations; dynamic-range models hold int8 weights but read
    float activations; float models hold no int8 tensor at all.
    """
    details = self.interpreter.get_tensor_details()
    dtypes = {d['index']: d['dtype'] for d in details}
    if not any(d == np.int8 for d in dtypes.values()):
      return 'float32'
    # pylint: disable=protected-access
    for op in self.interpreter._get_ops_details():
      if op['op_name'] == 'CONV_2D' and op['inputs'].size:
        if dtypes.get(int(op['inputs'][0])) == np.int8:
          return 'full_integer'
    return 'dynamic_range'

  @property
  def int8_io(self):
    """True when the model's input and output tensors are int8."""
    return _is_quantized(self._input)

  def _quantize(self, images):
    if not _is_quantized(self._input):
      return images
    scale, zero_point = self._input['quantization']
    info = np.iinfo(self._input['dtype'])
    return np.clip(np.round(images / scale + zero_point), info.min,
                   info.max).astype(self._input['dtype'])

  def _dequantize(self, values):
    if not _is_quantized(self._output):
      return values.astype(np.float32)
    scale, zero_point = self._output['quantization']
    return ((values.astype(np.float32) - zero_point) * scale).astype(
        np.float32)

  def _resize(self, batch):
    if batch != self._batch:
      self.interpreter.resize_tensor_input(
          self._input['index'], [batch, self.image_size, self.image_size, 3],
          strict=True)
      self.interpreter.allocate_tensors()
      self._batch = batch

  def predict(self, images):
    """Probabilities [N, num_classes] of preprocessed images [N, H, W, 3]."""
    images = np.asarray(images, dtype=np.float32)
    expected = (self.image_size, self.image_size, 3)
    if images.ndim != 4 or images.shape[1:] != expected:
      raise ValueError('images must be preprocessed float32 [batch, %d, %d, '
                       '3]; got shape %s.' % (self.image_size,
                                              self.image_size,
                                              list(images.shape)))
    if not len(images):
      return np.zeros([0, self.num_classes], np.float32)
    self._resize(len(images))
    self.interpreter.set_tensor(self._input['index'], self._quantize(images))
    self.interpreter.invoke()
    return self._dequantize(
        self.interpreter.get_tensor(self._output['index']))


def _top_k(probabilities, k):
  """Indices of the k largest probabilities per row, ties to the lower index.

  Quantized outputs move in steps of 1/256, so ties are common among the
  unlikely classes; a stable sort breaks them as tf.nn.top_k does.
  """
  return np.argsort(-probabilities, axis=1, kind='stable')[:, :k]


def evaluate_tflite(config, tflite_path, split=None, num_threads=None):
  """Evaluates a TFLite model like `eval_lib.evaluate_checkpoint`.

  The same split, evaluation preprocessing, labels offset, batches and
  scoring as the checkpoint's evaluation, so the two results compare
  figure for figure. The model fixes the image size and class count; they
  must agree with what `config` resolves to. The weights are whatever the
  export restored, so `config.moving_average_decay` has no say here.

  Args:
    config: a training.config.EvalConfig.
    tflite_path: a model from `export_tflite`.
    split: a dataset_factory.SplitInfo, to skip the lookup.
    num_threads: interpreter threads; None: config.intra_op_threads if set,
      else TFLite's default.

  Returns:
    The results dict of `evaluate_checkpoint` with 'tflite_path' in place of
    'checkpoint', 'quantization' added, and 'global_step' None (a TFLite
    file records no step).
  """
  split = split or dataset_factory.get_split(
      config.dataset_name, config.dataset_split_name, config.dataset_dir)
  settings = eval_lib.resolve_settings(config, split)
  if num_threads is None:
    num_threads = getattr(config, 'intra_op_threads', 0) or None
  classifier = TFLiteClassifier(tflite_path, num_threads=num_threads)
  if (classifier.image_size, classifier.num_classes) != (
      settings.image_size, settings.num_classes):
    raise ValueError(
        'TFLite model %s takes %dx%d images and has %d classes; the '
        'evaluation expects %dx%d and %d classes (check eval_image_size, '
        'num_classes and labels_offset).'
        % (tflite_path, classifier.image_size, classifier.image_size,
           classifier.num_classes, settings.image_size, settings.image_size,
           settings.num_classes))
  graph = tf.Graph()
  with graph.as_default():
    batch = tf.data.make_one_shot_iterator(
        eval_lib.eval_dataset(config, split, settings)).get_next()
  k = min(5, settings.num_classes)

  with tf.Session(graph=graph) as sess:
    def next_batch():
      images, labels = sess.run(batch)
      return labels, _top_k(classifier.predict(images), k)
    labels, top = eval_lib.collect_predictions(
        next_batch, config.max_num_batches,
        eval_lib.evaluation_progress(config, split, config.batch_size))
  results = eval_lib.scores(labels, top, settings.num_classes)
  results.update(eval_lib.describe_run(config))
  results.update({'tflite_path': tflite_path, 'global_step': None,
                  'quantization': classifier.quantization,
                  'moving_averages': False})
  return results


def evaluate(config, log_fn=None):
  """Evaluates `config.tflite_model` and publishes the results.

  The TFLite counterpart of `eval_lib.evaluate` (same checks, results file
  and summaries); see `evaluate_tflite` for what is compared with what.
  """
  log = log_fn or tf.logging.info
  eval_lib.check_config(config)
  start = time.time()
  results = evaluate_tflite(config, config.tflite_model)
  results['seconds'] = time.time() - start
  out = eval_lib.write_results(config, results)
  log('%s (%s): top-1 %.4f, top-5 %.4f over %d examples; wrote %s'
      % (config.tflite_model, results['quantization'],
         results['top1_accuracy'], results['top5_accuracy'],
         results['num_examples'], out))
  return results
