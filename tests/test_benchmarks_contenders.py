"""Tests of `benchmarks.contenders` and `benchmarks.profile`.

A benchmark is only as honest as the work it times: these tests check that
a training call really trains (weights, momentum and batch norm statistics
move), that ours, the tf_slim oracle and Keras Applications do the same
arithmetic (equal multiply-adds, equal variables where the oracle exists),
and that the fast-path variants build what they say (bfloat16 convolutions,
NCHW inputs, XLA marks).
"""

import os
import sys

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from benchmarks import contenders as lib
from benchmarks import profile
from nets import nets_factory
from slim_resnets.training import performance

_CIFAR = 'resnet_v1_cifar_20'


def _ours(mode, batch_size=2, image_size=32, model=_CIFAR, num_classes=10,
          **options):
  data_format = options.pop('data_format', 'NHWC')
  precision = options.pop('precision', 'float32')
  return lib.SlimGraphContender(
      'ours', lib.ours_net_fn(model, num_classes, precision, data_format),
      mode, batch_size, image_size, num_classes, data_format=data_format,
      **options)


def _trainable_values(contender):
  with contender.graph.as_default():
    variables = tf.trainable_variables() + [
        v for v in tf.global_variables() if 'moving_mean' in v.op.name]
  return dict(zip([v.op.name for v in variables],
                  contender.session.run(variables)))


def _values_around_one_call(contender):
  """Builds `contender`; returns variable values before and after a call."""
  try:
    contender.build(warmup_calls=1)
    before = _trainable_values(contender)
    contender()
    return before, _trainable_values(contender)
  finally:
    contender.close()


def test_train_call_updates_weights_and_statistics():
  contender = _ours('train')
  before, after = _values_around_one_call(contender)
  moved = [name for name in before
           if not np.array_equal(before[name], after[name])]
  assert len(moved) == len(before), set(before) - set(moved)
  assert contender.session is None


def test_infer_call_leaves_variables_alone():
  before, after = _values_around_one_call(_ours('infer'))
  for name, value in before.items():
    np.testing.assert_array_equal(value, after[name])


@pytest.mark.parametrize('mode,factor', [('infer', 2), ('train', 6)])
def test_flops_follow_the_registry(mode, factor):
  """Forward multiply-adds of the batch equal the pinned per-image count.

  A multiply-add is two operations; training is three forward passes.
  """
  contender = _ours(mode, batch_size=3)
  try:
    contender.build(warmup_calls=1)
  finally:
    contender.close()
  per_image = nets_factory.get_model_info(_CIFAR).mult_adds
  assert contender.flops_per_call == factor * 3 * per_image
  assert contender.images_per_call == 3
  assert contender.build_seconds > 0
  assert contender.first_call_seconds > 0
  assert contender.peak_rss_delta >= 0  # 0 when freed memory is reused.


def test_bfloat16_variant_runs_convolutions_in_bfloat16():
  contender = _ours('train', precision='bfloat16')
  before, after = _values_around_one_call(contender)
  convs = [op for op in contender.graph.get_operations()
           if op.type == 'Conv2D']
  assert convs and all(op.get_attr('T') == tf.bfloat16 for op in convs)
  assert all(v.dtype == np.float32 for v in before.values())
  assert any(not np.array_equal(before[k], after[k]) for k in before)


def test_nchw_and_xla_variants_build_what_they_say():
  contender = _ours('infer', data_format='NCHW', xla=True)
  try:
    contender.build(warmup_calls=1)
  finally:
    contender.close()
  with contender.graph.as_default():
    images = [v for v in tf.local_variables()
              if v.op.name == 'bench_images'][0]
  assert images.shape.as_list() == [2, 3, 32, 32]
  convs = [op for op in contender.graph.get_operations()
           if op.type == 'Conv2D']
  assert all(op.get_attr('data_format') == b'NCHW' for op in convs)
  assert all(performance.is_xla_compiled(op) for op in convs)


@pytest.mark.slow  # four full-depth ResNet-50s
def test_ours_oracle_and_keras_do_the_same_arithmetic():
  """resnet_v2_50: same variables as tf_slim.nets, same multiply-adds as
  Keras's ResNet50V2 (both place a stack's stride in its last unit) and as
  our Keras form."""
  built = [
      _ours('infer', 1, 64, 'resnet_v2_50', 1000),
      lib.SlimGraphContender(
          'tf_slim', lib.slim_oracle_net_fn('resnet_v2_50', 1000), 'infer',
          1, 64, 1000),
      lib.KerasContender('keras', lib.keras_application('ResNet50V2'),
                         'infer', 1, 64, 1000),
      lib.KerasContender('keras_nets', lib.keras_nets_model('resnet_v2_50'),
                         'infer', 1, 64, 1000, kind='keras_nets')]
  with lib.closing_all(built):
    for contender in built:
      contender.build(warmup_calls=1)
    variables = []
    for contender in built[:2]:
      with contender.graph.as_default():
        variables.append(sorted((v.op.name, tuple(v.shape.as_list()))
                                for v in tf.global_variables()))
  assert variables[0] == variables[1]
  assert len(variables[0]) == 272
  assert built[0].flops_per_call == built[1].flops_per_call
  assert built[0].flops_per_call == built[2].flops_per_call
  assert built[0].flops_per_call == built[3].flops_per_call


@pytest.mark.slow  # builds and trains Keras's full-depth ResNet50V2
def test_keras_train_call_updates_weights():
  contender = lib.KerasContender('keras', lib.keras_application('ResNet50V2'),
                                 'train', 2, 32, 10)
  contender.build(warmup_calls=1)
  before = [w.numpy().copy() for w in contender.model.trainable_weights]
  contender()
  after = [w.numpy() for w in contender.model.trainable_weights]
  assert all(not np.array_equal(b, a) for b, a in zip(before, after))


def test_keras_nets_train_call_updates_weights_and_statistics():
  contender = lib.KerasContender(
      'keras_nets', lib.keras_nets_model('resnet_v1_cifar_20'), 'train', 2,
      16, 10, kind='keras_nets')
  contender.build(warmup_calls=1)
  assert contender.kind == 'keras_nets'
  assert not contender.model.losses  # no weight decay, as the peers
  before = [w.numpy().copy() for w in contender.model.weights]
  contender()
  after = [w.numpy() for w in contender.model.weights]
  # Every weight moves: kernels and batch norm parameters by SGD, moving
  # averages by the training-mode call.
  assert all(not np.array_equal(b, a) for b, a in zip(before, after))


def test_matmul_flops_and_product():
  contender = lib.MatmulContender(n=64)
  try:
    contender.build(warmup_calls=1)
    assert contender.flops_per_call == 2 * 64 ** 3
    assert contender.images_per_call == 0
  finally:
    contender.close()


def test_unknown_oracle_and_mode_are_errors():
  with pytest.raises(ValueError, match="tf_slim.nets has no 'resnet_v2_18'"):
    lib.slim_oracle_net_fn('resnet_v2_18', 10)
  with pytest.raises(ValueError, match="mode must be one of train, infer; "
                     "got 'eval'"):
    _ours('eval')


def test_profile_breakdown_of_a_traced_training_call():
  contender = _ours('train')
  try:
    contender.build(warmup_calls=1)
    breakdown = profile.op_breakdown(contender.run_traced())
  finally:
    contender.close()
  assert sum(row.share for row in breakdown) == pytest.approx(1.0)
  times = [row.milliseconds for row in breakdown]
  assert times == sorted(times, reverse=True)
  conv = [row for row in breakdown if profile.is_convolution(row.op_type)]
  # Forward convolutions and both gradients ran (under whatever kernel
  # names TensorFlow's rewrites gave them).
  assert any('BackpropFilter' in row.op_type for row in conv)
  assert any('BackpropInput' in row.op_type for row in conv)
  assert sum(row.count for row in conv) >= 3 * 20
  text = profile.format_breakdown(breakdown, top=5)
  assert len(text.splitlines()) == 7
  assert 'convolutions and their gradients' in text


def test_tflite_int8_contender_serves_int8_with_our_flops():
  contender = lib.TFLiteContender('tflite', _CIFAR, 2, 16, 10,
                                  quantization='full_integer',
                                  num_threads=1)
  try:
    contender.build(warmup_calls=1)
    directory = contender._directory  # pylint: disable=protected-access
    assert os.path.exists(directory)
  finally:
    contender.close()
  assert not os.path.exists(directory)
  assert contender.classifier.quantization == 'full_integer'
  per_image = nets_factory.get_model_info(_CIFAR).mult_adds
  assert contender.flops_per_call == pytest.approx(
      2 * 2 * per_image / 4, rel=0.01)


def _serving_outputs(contender, images):
  """{output name: value} of one request to a serving contender."""
  contender.build(warmup_calls=1)
  try:
    values = contender.predict(images)
    if isinstance(contender, lib.OpenVINOContender):
      outputs = {}
      for output in contender.compiled.outputs:
        names = {name.split(':')[0] for name in output.get_names()}
        (name,) = names & {'probabilities', 'classes', 'scores'}
        outputs[name] = values[output]
    else:
      outputs = dict(zip(('probabilities', 'classes', 'scores'), values))
    # A second caller (another thread's) gives the same answer.
    contender.caller()()
    return outputs
  finally:
    contender.close()


def test_serving_contenders_run_the_same_exported_graph():
  """Frozen, folded, ONNX Runtime and OpenVINO: one network, one answer.

  resnet_v2_cifar_20, so that folding has V2's residual-sum batch norms to
  turn into a scale and bias.
  """
  model, images = 'resnet_v2_cifar_20', lib._random_inputs(2, 16, 10)[0]  # pylint: disable=protected-access
  outputs = {}
  for contender in (
      lib.FrozenGraphContender('frozen', model, 2, 16, 10, fold=False),
      lib.FrozenGraphContender('folded', model, 2, 16, 10, fold=True),
      lib.OnnxRuntimeContender('onnxruntime', model, 2, 16, 10,
                               num_threads=1),
      lib.OpenVINOContender('openvino', model, 2, 16, 10, num_threads=1)):
    outputs[contender.name] = _serving_outputs(contender, images)
    assert contender.flops_per_call == pytest.approx(
        2 * 2 * nets_factory.get_model_info(model).mult_adds / 4, rel=0.01)
  reference = outputs.pop('frozen')
  # Two images, two answers: the comparison means something.
  assert np.abs(reference['probabilities'][0] -
                reference['probabilities'][1]).max() > 1e-4
  for name, result in outputs.items():
    np.testing.assert_allclose(result['probabilities'],
                               reference['probabilities'], atol=1e-5,
                               err_msg=name)
    np.testing.assert_array_equal(result['classes'][:, 0],
                                  reference['classes'][:, 0], err_msg=name)
  graph_def, _ = lib.exported_graph(model, 2, 16, 10, True)
  assert not [n for n in graph_def.node if n.op.startswith('FusedBatchNorm')]


def test_missing_package_names_it(monkeypatch):
  monkeypatch.setitem(lib.PEER_PACKAGES, 'nothing',
                      ('numpy', 'no_such_package_here'))
  assert lib.missing_package('nothing') == 'no_such_package_here'
  assert lib.missing_package('keras') is None  # needs nothing optional


_TORCH_SCRIPT = '''
import numpy as np
from benchmarks import torch_first
torch_first.load()
from benchmarks import contenders as lib
train = lib.TorchContender('torch', 'resnet50', 'train', 2, 32, 10,
                           channels_last=True, num_threads=1)
train.build(warmup_calls=1)
before = [p.detach().clone() for p in train.model.parameters()]
stats = train.model.bn1.running_mean.clone()
train()
moved = [not bool((b == a).all()) for b, a in
         zip(before, train.model.parameters())]
infer = lib.TorchContender('torch', 'resnet101', 'infer', 2, 32, 10,
                           num_threads=1)
infer.build(warmup_calls=1)
print('moved', sum(moved), len(moved),
      bool((stats != train.model.bn1.running_mean).any()))
print('macs', lib.torch_mult_adds(train.model, 224) / 1e9,
      lib.torch_mult_adds(infer.model, 224) / 1e9)
print('flops', train.flops_per_call / (3 * 2 * 2 * lib.torch_mult_adds(
    train.model, 32)))
'''


@pytest.mark.slow
@pytest.mark.skipif(lib.missing_package('torch') is not None,
                    reason="torch is an optional peer ('bench' extra)")
def test_torch_contender_trains_and_counts_torchvisions_work():
  import subprocesses  # pylint: disable=g-import-not-at-top
  ((code, output),) = subprocesses.run_together(
      [sys.executable, '-c', _TORCH_SCRIPT], timeout=600)
  assert code == 0, output
  moved = output.split('moved ')[1].split()
  assert moved[0] == moved[1] and moved[2] == 'True'
  resnet50, resnet101 = (float(v) for v in
                         output.split('macs ')[1].split()[:2])
  # torchvision's published figures: 4.09 and 7.80 G multiply-adds.
  assert resnet50 == pytest.approx(4.09, rel=0.01)
  assert resnet101 == pytest.approx(7.80, rel=0.01)
  assert float(output.split('flops ')[1].split()[0]) == pytest.approx(1.0)
