"""Tests of `python -m benchmarks.throughput`: the report and its arithmetic.

The command is run end to end on a tiny network (neither Keras Applications
nor the oracle has it, so those peers are skipped; their contenders are
tested in test_benchmarks_contenders.py; our Keras form is there, without
XLA) with two variants and the matmul ceiling, and the JSON it writes is
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
                 '--variants=xla,bfloat16,tflite_int8', '--keras_jit=off',
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
  # TFLite serves inference only.
  expected = {'train': ['ours', 'ours+xla', 'ours+bfloat16', 'keras_nets',
                        'matmul_float32'],
              'infer': ['ours', 'ours+xla', 'ours+bfloat16',
                        'ours+tflite_int8', 'keras_nets', 'matmul_float32']}
  for config in data['configs']:
    assert [c['name'] for c in config['contenders']] == expected[
        config['mode']]
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


@pytest.mark.parametrize('overrides,message', [
    (dict(model='resnet_v9'), "model_name='resnet_v9' is unknown"),
    (dict(modes=['eval']), "mode must be one of train, infer; got 'eval'"),
    (dict(batch_sizes=['0']), 'batch_size must be a list of positive '
     'integers; got 0'),
    (dict(batch_sizes=['x']), 'batch_size must be a list of positive'),
    (dict(peers=['torch']), 'peers must be a subset of keras, keras_nets, '
                            'tf_slim'),
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
