"""Tests of `python -m benchmarks.throughput`: the report and its arithmetic.

The command is run end to end on a tiny network (neither Keras Applications,
the oracle nor torchvision has it, so those peers are skipped; their
contenders are tested in test_benchmarks_contenders.py; our Keras form is
there, without XLA, and ONNX Runtime and OpenVINO serve our exported graph)
with four variants and the matmul ceiling, and the JSON it writes is
checked for internal consistency: every ratio and fraction is recomputed
from the medians it reports.
"""

import json
import os
import re
import subprocess
import sys

import pytest

from benchmarks import throughput

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(*args):
  return subprocess.run(
      [sys.executable, '-m', 'benchmarks.throughput'] + list(args),
      cwd=_ROOT, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2'),
      capture_output=True, text=True, timeout=600)


@pytest.fixture(scope='module')
def report(tmp_path_factory):
  path = tmp_path_factory.mktemp('throughput') / 'report.json'
  process = _run('--model=resnet_v1_cifar_20', '--image_size=16',
                 '--num_classes=10', '--mode=train,infer', '--batch_size=2',
                 '--variants=xla,bfloat16,tflite_int8,folded',
                 '--keras_jit=off',
                 '--peers=keras_nets,torch,onnxruntime,openvino',
                 '--rounds=3',
                 '--round_seconds=0.05', '--warmup=1', '--matmul_size=128',
                 '--profile', '--json_out=%s' % path)
  assert process.returncode == 0, process.stdout + process.stderr
  with open(path) as f:
    return json.load(f), process.stdout


@pytest.mark.slow
def test_report_has_every_configuration_and_contender(report):
  data, _ = report
  assert [(c['mode'], c['batch_size']) for c in data['configs']] == [
      ('train', 2), ('infer', 2)]
  # TFLite, the folded graph, ONNX Runtime and OpenVINO serve inference
  # only; torchvision has no CIFAR ResNet.
  expected = {'train': ['ours', 'ours+xla', 'ours+bfloat16', 'keras_nets',
                        'matmul_float32'],
              'infer': ['ours', 'ours+xla', 'ours+bfloat16',
                        'ours+tflite_int8', 'ours+folded', 'keras_nets',
                        'onnxruntime', 'openvino', 'matmul_float32']}
  for config in data['configs']:
    assert [c['name'] for c in config['contenders']] == expected[
        config['mode']]
    skipped = config['skipped_peers']
    assert set(skipped) == ({'torch'} if config['mode'] == 'infer' else
                            {'torch', 'onnxruntime', 'openvino'})
    assert ('torchvision has no ResNet' in skipped['torch'] or
            'torch is not installed' in skipped['torch'])
    assert config['image_size'] == 16
    assert config['rounds'] == 3
  assert data['machine']['cores'] == os.cpu_count()
  assert data['machine']['tensorflow']


@pytest.mark.slow
def test_ratios_and_fractions_follow_from_the_medians(report):
  data, _ = report
  for config in data['configs']:
    rows = {c['name']: c for c in config['contenders']}
    ours = rows['ours']['images_per_second']['median']
    matmul = rows['matmul_float32']['gflops']['median']
    assert rows['ours']['ours_speedup'] == pytest.approx(1.0)
    for name in set(rows) - {'ours', 'matmul_float32'}:
      row = rows[name]
      ips = row['images_per_second']
      assert ips['low'] <= ips['median'] <= ips['high']
      assert row['ours_speedup'] == pytest.approx(ours / ips['median'])
      assert row['fraction_of_matmul'] == pytest.approx(
          row['gflops']['median'] / matmul)
      # GFLOP/s is images/s times the work per image, round by round.
      assert row['gflops']['median'] == pytest.approx(
          ips['median'] * row['gflop_per_image'], rel=1e-6)
    per_image = 2 * 37274240 / 1e9 * (3 if config['mode'] == 'train' else 1)
    for name in set(rows) - {'matmul_float32'}:
      assert rows[name]['gflop_per_image'] == pytest.approx(
          per_image * (16 / 32) ** 2, rel=0.02), name
    assert config['summary']['ours_fraction_of_matmul'] == pytest.approx(
        rows['ours']['fraction_of_matmul'])
    assert config['summary']['keras_nets_best'] == 'keras_nets'
    assert config['summary']['ours_vs_keras_nets_best'] == pytest.approx(
        rows['keras_nets']['ours_speedup'])
    assert 'keras_best' not in config['summary']
    assert rows['matmul_float32']['images_per_second'] is None
    assert all(row['peak_rss_mib'] > 0 for row in rows.values())
    # A peak over what was resident before: never negative (it may be 0
    # where a small contender fits in memory freed by earlier ones).
    assert all(row['peak_rss_delta_mib'] >= 0 for row in rows.values())
  first = data['configs'][0]['contenders'][0]
  assert first['peak_rss_delta_mib'] > 1


@pytest.mark.slow
def test_serving_summary_follows_from_the_medians(report):
  """The fastest float32 TF serving path against ONNX Runtime/OpenVINO."""
  data, stdout = report
  infer = data['configs'][1]
  rows = {c['name']: c for c in infer['contenders']}

  def rate(name):
    return rows[name]['images_per_second']['median']

  serving = [name for name, row in rows.items() if row['tf_serving']]
  # bfloat16 and int8 are not float32 serving; the peers are not ours.
  assert sorted(serving) == ['ours', 'ours+folded', 'ours+xla']
  summary = infer['summary']
  assert summary['best_tf_serving'] == max(serving, key=rate)
  assert summary['best_runtime'] == max(['onnxruntime', 'openvino'],
                                        key=rate)
  assert summary['best_tf_serving_vs_best_runtime'] == pytest.approx(
      rate(summary['best_tf_serving']) / rate(summary['best_runtime']))
  for kind in ('onnxruntime', 'openvino'):
    assert summary['ours_vs_%s_best' % kind] == pytest.approx(
        rate('ours') / rate(kind))
  # Same network, same multiply-adds: TF and the other runtimes.
  assert rows['onnxruntime']['gflop_per_image'] == pytest.approx(
      rows['ours']['gflop_per_image'])
  assert 'best_tf_serving_vs_keras_jit' not in summary  # no keras+jit
  assert 'Our fastest float32 TensorFlow serving path (%s)' % summary[
      'best_tf_serving'] in stdout
  assert 'Skipped peer torch:' in stdout


def test_torch_is_refused_after_tensorflow_in_this_process():
  """pytest imported TensorFlow first: the torch peer is skipped, saying why.

  (Where torch is installed, the command line loads it first;
  test_benchmarks_torch_first.py runs that.)
  """
  import tensorflow  # noqa: F401  pylint: disable=g-import-not-at-top
  settings = throughput.make_settings(model='resnet_v2_50',
                                      peers=['torch', 'onnxruntime'])
  skipped = throughput.skipped_peers('resnet_v2_50', 'train', settings)
  assert skipped['onnxruntime'] == 'it serves inference only'
  assert ('imported before PyTorch' in skipped['torch'] or
          "torch is not installed (pip install 'slim-resnets[bench]')"
          in skipped['torch'])
  settings = throughput.make_settings(model='resnet_v2_50',
                                      peers=['openvino'],
                                      precision='bfloat16')
  assert throughput.skipped_peers('resnet_v2_50', 'infer', settings) == {
      'openvino': 'it is measured in float32 only'}


@pytest.mark.slow
def test_table_and_profile_printed(report):
  data, stdout = report
  assert 'resnet_v1_cifar_20 train, batch 2, 16x16, float32, NHWC' in stdout
  assert 'resnet_v1_cifar_20 infer, batch 2, 16x16' in stdout
  assert stdout.count('ours+bfloat16') >= 2
  assert 'convolutions and their gradients' in stdout
  profile = data['configs'][0]['profile']
  assert sum(row['share'] for row in profile) == pytest.approx(1.0)


def test_parse_variant():
  assert throughput.parse_variant('xla') == {'xla': True}
  assert throughput.parse_variant('nchw+bfloat16') == {
      'data_format': 'NCHW', 'precision': 'bfloat16'}
  with pytest.raises(ValueError, match="'int8' is not one of xla, float16, "
                     "bfloat16, nchw"):
    throughput.parse_variant('xla+int8')
  with pytest.raises(ValueError, match='names two precisions'):
    throughput.parse_variant('float16+bfloat16')
  assert throughput.parse_variant('tflite_int8') == {
      'tflite': 'full_integer'}
  assert throughput.parse_variant('tflite') == {'tflite': 'float32'}
  with pytest.raises(ValueError, match='combine with nothing'):
    throughput.parse_variant('tflite+xla')
  assert throughput.parse_variant('folded') == {'fold': True}
  assert throughput.parse_variant('frozen') == {'fold': False}
  with pytest.raises(ValueError, match='tflite, tflite_dynamic, tflite_int8, '
                     'frozen, folded combine with nothing'):
    throughput.parse_variant('folded+bfloat16')


@pytest.mark.parametrize('overrides,message', [
    (dict(model='resnet_v9'), "model_name='resnet_v9' is unknown"),
    (dict(modes=['eval']), "mode must be one of train, infer; got 'eval'"),
    (dict(batch_sizes=['0']), 'batch_size must be a list of positive '
     'integers; got 0'),
    (dict(batch_sizes=['x']), 'batch_size must be a list of positive'),
    (dict(peers=['pytorch']), 'peers must be a subset of keras, keras_nets, '
                              'tf_slim, torch, onnxruntime, openvino'),
    (dict(torch_compile='maybe'),
     "torch_compile must be one of both, on, off; got 'maybe'"),
    (dict(torch_layouts=['nhwc']),
     "torch_layouts must be one of nchw, channels_last; got 'nhwc'"),
    (dict(torch_layouts=[]), 'torch_layouts must name at least one of'),
    (dict(precision='int8'), 'precision must be one of float32'),
    (dict(data_format='CHWN'), 'data_format must be one of NHWC, NCHW'),
    (dict(variants=['fast']), "'fast' is not one of"),
    (dict(rounds=0), 'rounds must be a positive integer; got 0'),
    (dict(round_seconds=0), 'round_seconds must be a finite number > 0; got 0'),
    (dict(intra_op_threads=-1),
     'intra_op_threads must be a non-negative integer'),
    (dict(image_size=-2), 'image_size must be a positive integer'),
])
def test_bad_settings_name_the_argument(overrides, message):
  with pytest.raises(ValueError, match=re.escape(message)):
    throughput.make_settings(**overrides)


def test_default_settings_use_the_model_size():
  settings = throughput.make_settings(model='resnet_v1_cifar_20',
                                      batch_sizes=['1', '32'])
  assert settings['image_size'] == 32
  assert settings['batch_sizes'] == [1, 32]


@pytest.mark.slow
def test_bad_flag_exits_2_with_message():
  process = _run('--model=resnet_v9')
  assert process.returncode == 2
  assert "model_name='resnet_v9' is unknown" in process.stderr
  assert 'Traceback' not in process.stderr
