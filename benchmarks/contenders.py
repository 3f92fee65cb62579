"""The things a throughput benchmark runs side by side.

A contender is built once (timed), warmed up (its first call timed on its
own, since it includes graph optimization or XLA compilation), then called
repeatedly by `benchmarks.timing.interleave`. Each call processes one batch:
a training step (forward, backward, momentum update, batch norm statistics)
or an inference pass, and blocks until the result exists.

Contenders:
  * `SlimGraphContender`: a tf.compat.v1 graph run by a Session: our nets
    (`ours`), or the `tf_slim.nets` oracle on the same arguments.
  * `KerasContender`: a Keras 3 model, trained with `train_on_batch` and
    served through a `tf.function`, with or without `jit_compile`: the same
    architecture from Keras Applications, or our net in its Keras form
    (`nets.keras_nets`).
  * `MatmulContender`: a large float32 matrix product, the practical ceiling
    of the machine's arithmetic, measured in the same run.
  * Serving contenders, fed a numpy batch on every call as a server would
    be: `FrozenGraphContender` (our exported network as a frozen graph in
    a Session, batch norms folded or not), `OnnxRuntimeContender` and
    `OpenVINOContender` (the same exported graph converted by tf2onnx or
    read by OpenVINO), and `TFLiteContender`.
  * `TorchContender`: torchvision's ResNet of the same depth in PyTorch,
    trained or served in NCHW or channels_last, eager or `torch.compile`d.

The peers outside TensorFlow are optional (`pip install 'slim-resnets[bench]'`);
`missing_package` says which one a peer lacks.

Inputs live on the device already (a variable or an eager tensor), so the
figures are those of the network, not of feeding it; every contender gets
the same images and labels, and the same thread settings.
"""

import contextlib
import os
import shutil
import time

import numpy as np
import tensorflow as tf2
import tensorflow.compat.v1 as tf
import tf_slim as slim

from benchmarks import timing
from nets import nets_factory
from nets import summary
from resnet_utils import precision as precision_lib
from slim_resnets.training import performance

MODES = ('train', 'infer')

# Keras Applications with the same architecture. ResNet V2 in Keras puts a
# stack's stride in its last unit, as slim does, so the convolutions (and
# their multiply-adds) are identical; Keras's ResNet V1 strides in the first
# unit's 1x1 convolution, which makes it about 11% more arithmetic per image.
KERAS_APPLICATIONS = {
    'resnet_v1_50': 'ResNet50',
    'resnet_v1_101': 'ResNet101',
    'resnet_v1_152': 'ResNet152',
    'resnet_v2_50': 'ResNet50V2',
    'resnet_v2_101': 'ResNet101V2',
    'resnet_v2_152': 'ResNet152V2',
}

# Networks that tf_slim.nets also builds (with identical variables).
SLIM_ORACLE = ('resnet_v1_50', 'resnet_v1_101', 'resnet_v1_152',
               'resnet_v1_200', 'resnet_v2_50', 'resnet_v2_101',
               'resnet_v2_152', 'resnet_v2_200')

# torchvision's ResNets of the same depth. They are "V1.5": each stack's
# stride sits in its first unit's 3x3 convolution, on a feature map four
# times larger than where slim strides (the last unit's 3x3 in V2, the first
# unit's 1x1 in V1), so they do more multiply-adds per image (4.1 G against
# our resnet_v2_50's 3.5 G at 224); ratios are reported per multiply-add too.
TORCH_PEERS = {
    'resnet_v1_50': 'resnet50', 'resnet_v2_50': 'resnet50',
    'resnet_v1_101': 'resnet101', 'resnet_v2_101': 'resnet101',
    'resnet_v1_152': 'resnet152', 'resnet_v2_152': 'resnet152',
}
# The Python package each optional peer kind needs.
PEER_PACKAGES = {'torch': ('torch', 'torchvision'),
                 'onnxruntime': ('onnxruntime', 'tf2onnx'),
                 'openvino': ('openvino',)}

_LEARNING_RATE = 0.01
_MOMENTUM = 0.9


def fix_thread_pools(session_config):
  """Makes `session_config`'s threads those of every Session in the process.

  TensorFlow sizes its process-wide CPU thread pools from the first Session
  it opens; a later Session's thread settings are ignored. Opening one now
  with `session_config` keeps any Session opened later with the default
  configuration (freezing a graph, say) from deciding the threads of the
  contenders measured after it.
  """
  tf.Session(config=session_config).close()


def missing_package(kind):
  """The first package peer `kind` needs that is not installed, or None."""
  import importlib.util  # pylint: disable=g-import-not-at-top
  for package in PEER_PACKAGES.get(kind, ()):
    if importlib.util.find_spec(package) is None:
      return package
  return None


def peer_unavailable(kind, model_name):
  """Why peer `kind` cannot run `model_name` in this process, or None.

  Kinds without optional packages (ours, Keras, TFLite, ...) are always
  available.
  """
  from benchmarks import torch_first  # pylint: disable=g-import-not-at-top
  missing = missing_package(kind)
  if missing:
    return "%s is not installed (pip install 'slim-resnets[bench]')" % missing
  if kind == 'torch':
    if model_name not in TORCH_PEERS:
      return 'torchvision has no ResNet of %s\'s depth' % model_name
    return torch_first.refusal()
  return None


def check_mode(mode):
  if mode not in MODES:
    raise ValueError('mode must be one of %s; got %r.'
                     % (', '.join(MODES), mode))
  return mode


def forward_mult_adds(graph):
  """Multiply-adds of the convolutions and matmuls in `graph`, per call."""
  return sum(summary.op_mult_adds(op) for op in graph.get_operations()
             if op.type in summary.COUNTED_OPS)


def flops_per_image(forward_mult_adds_per_image, mode):
  """Floating-point operations per image for `mode`.

  A multiply-add is two operations. Training costs three forward passes:
  the forward pass itself, the gradient with respect to each layer's input
  and the gradient with respect to its weights, each the same size as the
  forward convolution.
  """
  forward = 2.0 * forward_mult_adds_per_image
  return 3.0 * forward if mode == 'train' else forward


class Contender(object):
  """Base: build() once, then call; subclasses fill in `_build` and `_call`.

  Attributes set by `build`: build_seconds, first_call_seconds,
  peak_rss_delta (the most resident memory the process held while building
  and warming up, above what it held before: the contender's own working
  set, weights, activations and compiled code included), flops_per_call
  (None when not counted).
  """

  kind = None

  def __init__(self, name, images_per_call):
    self.name = name
    self.images_per_call = images_per_call
    self.build_seconds = None
    self.first_call_seconds = None
    self.peak_rss_delta = None
    self.flops_per_call = None

  def build(self, warmup_calls=2):
    """Builds and warms up; returns seconds per call of the last warm-up."""
    with timing.PeakSampler() as sampler:
      before = sampler.peak
      start = time.perf_counter()
      self._build()
      self.build_seconds = time.perf_counter() - start
      start = time.perf_counter()
      self()
      self.first_call_seconds = time.perf_counter() - start
      last = self.first_call_seconds
      for _ in range(max(warmup_calls - 1, 0)):
        start = time.perf_counter()
        self()
        last = time.perf_counter() - start
    self.peak_rss_delta = sampler.peak - before
    return last

  def __call__(self):
    self._call()

  def caller(self):
    """A callable making one call, for one of several threads at once.

    The contender itself by default: a Session, an ONNX Runtime session, a
    tf.function and a PyTorch module may be called from several threads.
    """
    return self

  def close(self):
    pass

  def _build(self):
    raise NotImplementedError

  def _call(self):
    raise NotImplementedError


def _random_inputs(batch_size, image_size, num_classes, seed=0):
  rng = np.random.RandomState(seed)
  images = rng.uniform(-1, 1, [batch_size, image_size, image_size, 3])
  labels = rng.randint(0, num_classes, [batch_size])
  return images.astype(np.float32), labels.astype(np.int32)


class SlimGraphContender(Contender):
  """A slim-style network in a tf.compat.v1 graph and Session.

  Args:
    name: label in the results.
    net_fn: function(images, is_training) -> logits, building the network
      in the current graph (arg scope, precision and layout included).
    mode: 'train' or 'infer'.
    batch_size, image_size, num_classes: the batch.
    data_format: layout of `net_fn`'s inputs ('NHWC' or 'NCHW').
    xla: build the step inside `performance.xla_scope`.
    session_config: tf.ConfigProto of the session (threads).
  """

  kind = 'graph'

  def __init__(self, name, net_fn, mode, batch_size, image_size, num_classes,
               data_format='NHWC', xla=False, session_config=None):
    super().__init__(name, batch_size)
    self._net_fn = net_fn
    self._mode = check_mode(mode)
    self._shape = (batch_size, image_size, num_classes)
    self._data_format = data_format
    self._xla = xla
    self._session_config = session_config
    self._session = None
    self._target = None
    self.graph = None

  def _build(self):
    batch_size, image_size, num_classes = self._shape
    images_np, labels_np = _random_inputs(batch_size, image_size, num_classes)
    if self._data_format == 'NCHW':
      images_np = images_np.transpose(0, 3, 1, 2)
    self.graph = tf.Graph()
    with self.graph.as_default():
      tf.set_random_seed(0)
      # Local (non-trainable, non-saved) variables: resident inputs.
      images = tf.Variable(images_np, trainable=False, name='bench_images',
                           collections=[tf.GraphKeys.LOCAL_VARIABLES])
      labels = tf.Variable(labels_np, trainable=False, name='bench_labels',
                           collections=[tf.GraphKeys.LOCAL_VARIABLES])
      training = self._mode == 'train'
      with performance.xla_scope(self._xla):
        logits = self._net_fn(images.read_value(), training)
        logits = tf.reshape(tf.cast(logits, tf.float32), [batch_size, -1])
        # Counted on the forward graph alone, for the whole batch.
        self.flops_per_call = flops_per_image(
            forward_mult_adds(self.graph), self._mode)
        if training:
          loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
          optimizer = tf.train.MomentumOptimizer(_LEARNING_RATE, _MOMENTUM)
          with tf.control_dependencies(
              tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
            self._target = optimizer.minimize(loss)
        else:
          self._target = logits
      init = [tf.global_variables_initializer(),
              tf.local_variables_initializer()]
    self._session = tf.Session(graph=self.graph, config=self._session_config)
    self._session.run(init)

  def _call(self):
    self._session.run(self._target)

  @property
  def session(self):
    """The Session running the graph (None before build or after close)."""
    return self._session

  def run_traced(self):
    """Runs one call with a full trace; returns its tf.RunMetadata."""
    run_metadata = tf.RunMetadata()
    self._session.run(
        self._target,
        options=tf.RunOptions(trace_level=tf.RunOptions.FULL_TRACE),
        run_metadata=run_metadata)
    return run_metadata

  def close(self):
    if self._session is not None:
      self._session.close()
      self._session = None


class KerasContender(Contender):
  """A Keras 3 model on the same batch, eager TensorFlow backend.

  Training uses `compile(jit_compile=...)` and `train_on_batch` (SGD with
  the same momentum as the graph contenders, softmax cross-entropy);
  inference a `tf.function` of `model(x, training=False)`. The model comes
  from `make_model(image_size, num_classes)`, built under the precision's
  Keras dtype policy: Keras Applications (`keras_application`, kind
  'keras') or our nets in their Keras form (`keras_nets_model`, kind
  'keras_nets').
  """

  def __init__(self, name, make_model, mode, batch_size, image_size,
               num_classes, jit_compile=False, precision='float32',
               kind='keras'):
    super().__init__(name, batch_size)
    self._make_model = make_model
    self._mode = check_mode(mode)
    self._shape = (batch_size, image_size, num_classes)
    self._jit = jit_compile
    self._precision = precision_lib.check_precision(precision)
    self._step = None
    self.kind = kind

  def _build(self):
    import keras  # pylint: disable=g-import-not-at-top
    batch_size, image_size, num_classes = self._shape
    images_np, labels_np = _random_inputs(batch_size, image_size, num_classes)
    policy = ('float32' if self._precision == 'float32'
              else 'mixed_' + self._precision)
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
      model, from_logits = self._make_model(image_size, num_classes)
    finally:
      keras.config.set_dtype_policy(previous)
    images = tf2.constant(images_np)
    labels = tf2.constant(labels_np)
    self.flops_per_call = flops_per_image(
        _keras_mult_adds(model, image_size), self._mode) * batch_size
    if self._mode == 'train':
      optimizer = keras.optimizers.SGD(_LEARNING_RATE, momentum=_MOMENTUM)
      if self._precision == 'float16':
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
      model.compile(optimizer=optimizer,
                    loss=keras.losses.SparseCategoricalCrossentropy(
                        from_logits=from_logits),
                    jit_compile=self._jit)
      self._step = lambda: model.train_on_batch(images, labels)
    else:
      @tf2.function(jit_compile=self._jit)
      def infer(x):
        return model(x, training=False)
      self._step = lambda: infer(images).numpy()
    self.model = model

  def _call(self):
    self._step()


def keras_application(application):
  """`make_model` of Keras Applications' `application` (softmax output)."""
  def make_model(image_size, num_classes):
    import keras  # pylint: disable=g-import-not-at-top
    model = getattr(keras.applications, application)(
        weights=None, input_shape=(image_size, image_size, 3),
        classes=num_classes)
    return model, False
  return make_model


def keras_nets_model(model_name):
  """`make_model` of our `model_name` in its Keras form (logits output).

  Without weight decay, as the other contenders train.
  """
  def make_model(image_size, num_classes):
    from nets import keras_nets  # pylint: disable=g-import-not-at-top
    model = keras_nets.get_model(model_name, num_classes,
                                 input_shape=(image_size, image_size, 3),
                                 weight_decay=0.0)
    return model, True
  return make_model


def _keras_mult_adds(model, image_size):
  """Forward multiply-adds of one image through a Keras model."""
  @tf2.function
  def forward(x):
    return model(x, training=False)
  graph = forward.get_concrete_function(
      tf2.TensorSpec([1, image_size, image_size, 3], tf2.float32)).graph
  return forward_mult_adds(graph)


class MatmulContender(Contender):
  """C = A x B with float32 n x n matrices: 2 n^3 operations per call."""

  kind = 'matmul'

  def __init__(self, name='matmul_float32', n=2048, session_config=None):
    super().__init__(name, images_per_call=0)
    self._n = n
    self._session_config = session_config
    self._session = None
    self._target = None

  def _build(self):
    n = self._n
    graph = tf.Graph()
    with graph.as_default():
      rng = np.random.RandomState(0)
      a = tf.Variable(rng.uniform(-1, 1, [n, n]).astype(np.float32))
      b = tf.Variable(rng.uniform(-1, 1, [n, n]).astype(np.float32))
      # Running the op without fetching its value keeps the 16 MB result
      # from being copied out on every call.
      self._target = tf.matmul(a, b).op
      init = tf.global_variables_initializer()
    self._session = tf.Session(graph=graph, config=self._session_config)
    self._session.run(init)
    self.flops_per_call = 2.0 * n ** 3

  def _call(self):
    self._session.run(self._target)

  def close(self):
    if self._session is not None:
      self._session.close()
      self._session = None


class TFLiteContender(Contender):
  """Our network served by TensorFlow Lite (XNNPACK kernels on CPUs).

  The inference graph of `model_name` with freshly initialized weights is
  frozen and converted by `slim_resnets.serving.tflite_lib` in `quantization`
  ('full_integer' calibrates on a few random images: the ranges are wrong
  for real data, the speed is not); inference only.
  """

  kind = 'tflite'

  def __init__(self, name, model_name, batch_size, image_size, num_classes,
               quantization='float32', num_threads=None):
    super().__init__(name, batch_size)
    self._model_name = model_name
    self._shape = (batch_size, image_size, num_classes)
    self._quantization = quantization
    self._num_threads = num_threads
    self._predict = None
    self._directory = None

  def _build(self):
    import tempfile  # pylint: disable=g-import-not-at-top

    from slim_resnets.serving import tflite_lib  # pylint: disable=g-import-not-at-top
    tflite_lib.check_quantization(self._quantization)
    batch_size, image_size, num_classes = self._shape
    images_np, _ = _random_inputs(batch_size, image_size, num_classes)
    self.flops_per_call = _registry_flops(self._model_name, image_size,
                                          num_classes, 'infer', batch_size)
    graph = tf.Graph()
    with graph.as_default():
      tf.set_random_seed(0)
      _, probabilities = tflite_lib.build_inference_graph(
          self._model_name, num_classes, image_size)
      with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        graph_def = tf.graph_util.convert_variables_to_constants(
            sess, graph.as_graph_def(), [probabilities.op.name])
    calibration = None
    if self._quantization == 'full_integer':
      calibration = list(_random_inputs(8, image_size, num_classes, 1)[0])
    content = tflite_lib.convert(graph_def, image_size, self._quantization,
                                 calibration)
    self._directory = tempfile.mkdtemp(prefix='bench-tflite-')
    path = os.path.join(self._directory, 'model.tflite')
    with open(path, 'wb') as f:
      f.write(content)
    self.classifier = tflite_lib.TFLiteClassifier(path, self._num_threads)
    self._predict = lambda: self.classifier.predict(images_np)
    self._path, self._images = path, images_np

  def caller(self):
    # An interpreter serves one call at a time: one per thread.
    from slim_resnets.serving import tflite_lib  # pylint: disable=g-import-not-at-top
    classifier = tflite_lib.TFLiteClassifier(self._path, self._num_threads)
    return lambda: classifier.predict(self._images)

  def _call(self):
    self._predict()

  def close(self):
    if self._directory:
      shutil.rmtree(self._directory, ignore_errors=True)
      self._directory = None


def _registry_flops(model_name, image_size, num_classes, mode, batch_size):
  return flops_per_image(
      summary.summarize(model_name, image_size, num_classes).mult_adds,
      mode) * batch_size


_FROZEN = {}


def exported_graph(model_name, batch_size, image_size, num_classes, fold):
  """Our exported network (export_lib.build_network_graph), frozen.

  Random weights (seed 0), with batch norm parameters and statistics drawn
  as a trained net has them: freshly initialized ones (beta and mean 0)
  would fold into all-zero biases, which TensorFlow's graph optimizer
  drops, serving a graph no trained model has (and one where it cannot fuse
  bias and ReLU into the convolution). Batch norms folded or not. Built once
  per process and arguments: the frozen-graph, ONNX Runtime and OpenVINO
  contenders of one configuration serve the same graph.

  Returns:
    (GraphDef, output names).
  """
  from slim_resnets.serving import export_lib  # pylint: disable=g-import-not-at-top
  key = (model_name, batch_size, image_size, num_classes, fold)
  if key not in _FROZEN:
    with tf.Graph().as_default():
      tf.set_random_seed(0)
      _, outputs, _ = export_lib.build_network_graph(
          model_name, num_classes, image_size, batch_size=batch_size)
      with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        _trained_like_batch_norms(sess)
        graph_def, _ = export_lib.freeze(
            sess, [t.op.name for t in outputs.values()], fold)
    _FROZEN[key] = graph_def, export_lib.OUTPUT_NAMES
  return _FROZEN[key]


def _trained_like_batch_norms(sess, seed=0):
  """Draws every batch norm's gamma, beta and moving statistics at random."""
  rng = np.random.RandomState(seed)
  feed = {}
  for variable in tf.global_variables():
    kind = variable.op.name.rsplit('/', 1)[-1]
    shape = variable.shape.as_list()
    if kind in ('gamma', 'moving_variance'):
      feed[variable] = rng.uniform(0.5, 1.5, shape)
    elif kind in ('beta', 'moving_mean'):
      feed[variable] = rng.normal(0.0, 0.1, shape)
  # Fed in place of the initializers' values: no op is added to the graph.
  sess.run([v.initializer for v in feed],
           {v.initial_value: value.astype(np.float32)
            for v, value in feed.items()})


class _ServingContender(Contender):
  """Our exported network (`exported_graph`) served by some runtime.

  Each call feeds the numpy batch and fetches the outputs, as a server
  does; inference only. Subclasses turn the frozen graph into
  `predict(images) -> outputs` in `_serve`.
  """

  def __init__(self, name, model_name, batch_size, image_size, num_classes,
               fold=True, num_threads=None, session_config=None):
    super().__init__(name, batch_size)
    self._model_name = model_name
    self._shape = (batch_size, image_size, num_classes)
    self._fold = fold
    self._num_threads = num_threads
    self._session_config = session_config
    self._images = None
    self.predict = None

  def _build(self):
    batch_size, image_size, num_classes = self._shape
    self._images, _ = _random_inputs(batch_size, image_size, num_classes)
    graph_def, outputs = exported_graph(self._model_name, batch_size,
                                        image_size, num_classes, self._fold)
    self.flops_per_call = _registry_flops(self._model_name, image_size,
                                          num_classes, 'infer', batch_size)
    self.predict = self._serve(graph_def, outputs)

  def _serve(self, graph_def, outputs):
    raise NotImplementedError

  def _call(self):
    self.predict(self._images)


class FrozenGraphContender(_ServingContender):
  """Our exported network as a frozen graph in a Session (`session_config`).

  With `fold` the batch norms are folded into the convolutions
  (`slim_resnets.serving.inference_graph`).
  """

  kind = 'graph'

  def __init__(self, name, model_name, batch_size, image_size, num_classes,
               fold=True, session_config=None):
    super().__init__(name, model_name, batch_size, image_size, num_classes,
                     fold=fold, session_config=session_config)
    self._session = None

  def _serve(self, graph_def, outputs):
    graph = tf.Graph()
    with graph.as_default():
      tf.import_graph_def(graph_def, name='')
    self._session = tf.Session(graph=graph, config=self._session_config)
    fetches = [name + ':0' for name in outputs]
    return lambda images: self._session.run(fetches, {'images:0': images})

  def close(self):
    if self._session is not None:
      self._session.close()
      self._session = None


class OnnxRuntimeContender(_ServingContender):
  """The folded exported network converted by tf2onnx, run by ONNX Runtime's
  CPU provider with all graph optimizations on."""

  kind = 'onnxruntime'

  def __init__(self, name, model_name, batch_size, image_size, num_classes,
               num_threads=None):
    super().__init__(name, model_name, batch_size, image_size, num_classes,
                     num_threads=num_threads)
    self.session = None

  def _serve(self, graph_def, outputs):
    import onnxruntime  # pylint: disable=g-import-not-at-top

    from slim_resnets.serving import export_lib  # pylint: disable=g-import-not-at-top
    model = export_lib.convert(graph_def, 'onnx', outputs)
    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = (
        onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL)
    if self._num_threads:
      options.intra_op_num_threads = self._num_threads
      options.inter_op_num_threads = 1
    self.session = onnxruntime.InferenceSession(
        model.SerializeToString(), options,
        providers=['CPUExecutionProvider'])
    names = [name + ':0' for name in outputs]
    return lambda images: self.session.run(names, {'images:0': images})


class OpenVINOContender(_ServingContender):
  """The folded exported network read by OpenVINO's TensorFlow frontend,
  compiled for its CPU plugin in float32 (on CPUs with AMX or AVX-512 BF16
  the plugin would otherwise compute in bfloat16) with the latency hint."""

  kind = 'openvino'

  def __init__(self, name, model_name, batch_size, image_size, num_classes,
               num_threads=None):
    super().__init__(name, model_name, batch_size, image_size, num_classes,
                     num_threads=num_threads)
    self.compiled = None

  def _serve(self, graph_def, outputs):
    import openvino  # pylint: disable=g-import-not-at-top

    from slim_resnets.serving import export_lib  # pylint: disable=g-import-not-at-top
    model = export_lib.convert(graph_def, 'openvino', outputs)
    config = {'INFERENCE_PRECISION_HINT': 'f32',
              'PERFORMANCE_HINT': 'LATENCY'}
    if self._num_threads:
      config['INFERENCE_NUM_THREADS'] = self._num_threads
    self.compiled = openvino.Core().compile_model(model, 'CPU', config)
    request = self.compiled.create_infer_request()
    return lambda images: request.infer({0: images})

  def caller(self):
    # An infer request serves one call at a time: one per thread.
    request = self.compiled.create_infer_request()
    return lambda: request.infer({0: self._images})


class TorchContender(Contender):
  """torchvision's `architecture` in PyTorch on the same batch.

  Training: SGD with the same momentum, cross-entropy, batch norm
  statistics updated; inference under `torch.inference_mode`. The layout
  is NCHW, or channels_last (NHWC in memory, what PyTorch recommends on
  CPUs); `compile` runs the model through `torch.compile` (TorchInductor,
  which needs a C++ compiler).
  """

  kind = 'torch'

  def __init__(self, name, architecture, mode, batch_size, image_size,
               num_classes, channels_last=False, compile_model=False,
               num_threads=None):
    super().__init__(name, batch_size)
    self._architecture = architecture
    self._mode = check_mode(mode)
    self._shape = (batch_size, image_size, num_classes)
    self._channels_last = channels_last
    self._compile = compile_model
    self._num_threads = num_threads
    self._step = None

  def _build(self):
    import torch  # pylint: disable=g-import-not-at-top
    import torchvision  # pylint: disable=g-import-not-at-top
    batch_size, image_size, num_classes = self._shape
    images_np, labels_np = _random_inputs(batch_size, image_size, num_classes)
    if self._num_threads:
      torch.set_num_threads(self._num_threads)
    torch.manual_seed(0)
    model = getattr(torchvision.models, self._architecture)(
        weights=None, num_classes=num_classes)
    layout = (torch.channels_last if self._channels_last
              else torch.contiguous_format)
    model = model.to(memory_format=layout)
    images = torch.from_numpy(images_np.transpose(0, 3, 1, 2).copy())
    images = images.contiguous(memory_format=layout)
    labels = torch.from_numpy(labels_np.astype(np.int64))
    self.flops_per_call = flops_per_image(
        torch_mult_adds(model, image_size), self._mode) * batch_size
    forward = torch.compile(model) if self._compile else model
    if self._mode == 'train':
      model.train()
      optimizer = torch.optim.SGD(model.parameters(), lr=_LEARNING_RATE,
                                  momentum=_MOMENTUM)
      loss_fn = torch.nn.CrossEntropyLoss()

      def step():
        optimizer.zero_grad(set_to_none=True)
        loss_fn(forward(images), labels).backward()
        optimizer.step()
    else:
      model.eval()

      def step():
        with torch.inference_mode():
          forward(images)
    self._step = step
    self.model = model

  def _call(self):
    self._step()


def torch_mult_adds(model, image_size):
  """Forward multiply-adds of one image (convolutions and matmuls)."""
  import torch  # pylint: disable=g-import-not-at-top
  from torch.utils import flop_counter  # pylint: disable=g-import-not-at-top
  was_training = model.training
  model.eval()
  counter = flop_counter.FlopCounterMode(display=False)
  with counter, torch.no_grad():
    model(torch.zeros(1, 3, image_size, image_size))
  model.train(was_training)
  return counter.get_total_flops() / 2.0


def ours_net_fn(model_name, num_classes, precision='float32',
                data_format='NHWC'):
  """net_fn for our builder through the registry (weight decay off)."""
  def net_fn(images, is_training):
    network_fn = nets_factory.get_network_fn(
        model_name, num_classes, weight_decay=0.0, is_training=is_training,
        precision=precision, data_format=data_format)
    logits, _ = network_fn(images)
    return logits
  return net_fn


def slim_oracle_net_fn(model_name, num_classes, precision='float32'):
  """net_fn for the same network from tf_slim.nets (weight decay off)."""
  if model_name not in SLIM_ORACLE:
    raise ValueError('tf_slim.nets has no %r; it builds %s.'
                     % (model_name, ', '.join(SLIM_ORACLE)))
  from tf_slim.nets import resnet_v1 as slim_v1  # pylint: disable=g-import-not-at-top
  from tf_slim.nets import resnet_v2 as slim_v2  # pylint: disable=g-import-not-at-top
  module = slim_v1 if model_name.startswith('resnet_v1') else slim_v2
  builder = getattr(module, model_name)

  def net_fn(images, is_training):
    with slim.arg_scope(module.resnet_arg_scope(weight_decay=0.0)):
      with precision_lib.precision_scope(precision):
        images = tf.cast(images, precision_lib.compute_dtype(precision))
        logits, _ = builder(images, num_classes, is_training=is_training)
    return logits
  return net_fn


@contextlib.contextmanager
def closing_all(contenders):
  """Closes every contender on exit, whatever happened."""
  try:
    yield contenders
  finally:
    for contender in contenders:
      contender.close()
