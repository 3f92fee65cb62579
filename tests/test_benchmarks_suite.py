"""Tests of `benchmarks.suite`: its entries, commands and summary tables."""

import sys

import pytest

from benchmarks import suite
from benchmarks import throughput


def _contender(name, kind, rate, fraction=None):
  row = {'name': name, 'kind': kind,
         'images_per_second': {'median': rate, 'low': rate, 'high': rate}}
  if fraction is not None:
    row['fraction_of_matmul'] = fraction
  return row


def _report():
  return {
      'machine': {'cpu': 'Test CPU', 'cores': 2, 'python': '3.11.7',
                  'tensorflow': '2.21.0', 'keras': '3.15.1'},
      'configs': [{
          'model': 'resnet_v2_50', 'mode': 'train', 'batch_size': 32,
          'precision': 'float32',
          'contenders': [
              _contender('ours', 'graph', 6.0, 0.62),
              _contender('ours+bfloat16', 'graph', 10.5),
              _contender('ours+xla', 'graph', 4.0),
              _contender('tf_slim', 'graph', 5.0),
              _contender('keras', 'keras', 4.8),
              _contender('keras+jit', 'keras', 4.0),
              _contender('keras_nets', 'keras_nets', 5.2),
              _contender('keras_nets+jit', 'keras_nets', 5.5),
              {'name': 'matmul_float32', 'kind': 'matmul',
               'images_per_second': None},
          ],
          # As benchmarks.throughput.summarize_config writes it.
          'summary': {'keras_best': 'keras', 'ours_vs_keras_best': 6.0 / 4.8,
                      'keras_nets_best': 'keras_nets+jit',
                      'ours_vs_keras_nets_best': 6.0 / 5.5,
                      'keras_nets_vs_keras_best': 5.5 / 4.8}}]}


def test_throughput_rows_pick_best_peer_and_variant():
  (row,) = suite.throughput_rows(_report())
  assert row['ours'] == 6.0
  assert row['keras'] == 4.8 and row['keras_name'] == 'keras'
  assert row['ours_vs_keras'] == pytest.approx(6.0 / 4.8)
  assert row['keras_nets'] == 5.5 and row['keras_nets_name'] == (
      'keras_nets+jit')
  assert row['keras_nets_vs_keras'] == pytest.approx(5.5 / 4.8)
  assert row['ours_vs_tf_slim'] == pytest.approx(6.0 / 5.0)
  assert row['matmul_fraction'] == 0.62
  assert row['best_variant'] == 'ours+bfloat16'
  assert row['best_variant_speedup'] == pytest.approx(10.5 / 6.0)
  assert [name for name, _ in row['variants']] == ['bfloat16', 'xla']
  assert row['variants'][1][1] == pytest.approx(4.0 / 6.0)


def test_summary_table():
  tflite = {'contenders': [
      {'label': 'TF graph float32', 'latency_us': {'median': 2000.0},
       'speedup_vs_tf_graph': 1.0, 'top1_percent': 99.33,
       'top1_change_points': 0.0, 'size_bytes': 2048},
      {'label': 'TFLite full integer', 'latency_us': {'median': 100.0},
       'speedup_vs_tf_graph': 20.0, 'top1_percent': 99.0,
       'top1_change_points': -0.33, 'size_bytes': 1024}]}
  text = suite.format_summary({'resnet_v2_50_train': _report(),
                               'tflite_digits': tflite})
  assert 'Machine: Test CPU, 2 cores' in text
  assert ('| resnet_v2_50 | train | 32 | float32 | 6.0 | 5.0 | 4.8 (keras) | '
          '1.25x | 1.20x | 62% | ours+bfloat16 (10.5, 1.75x) | '
          '5.5 (keras_nets+jit) | 1.15x |') in text
  assert '| TFLite full integer | 100 | 20.00x | 99.00 | -0.33 | 1 |' in text
  other = dict(_report(), machine=dict(_report()['machine'], cpu='Other CPU'))
  text = suite.format_summary({'a': _report(), 'b': _report(), 'c': other})
  assert ('* Test CPU, 2 cores; Python 3.11.7, TensorFlow 2.21.0, Keras '
          '3.15.1: a, b.') in text
  assert '* Other CPU, 2 cores; Python 3.11.7' in text
  assert 'Machine:' not in text
  assert ('| resnet_v2_50 | train | 32 | float32 | bfloat16 1.75x, '
          'xla 0.67x |') in text


def _peers_report():
  """A serving configuration with every peer outside TensorFlow."""
  def row(name, kind, rate, gflops, tf_serving=False):
    return dict(_contender(name, kind, rate), tf_serving=tf_serving,
                gflops={'median': gflops})
  return {'configs': [{
      'model': 'resnet_v2_50', 'mode': 'infer', 'batch_size': 1,
      'precision': 'float32',
      'contenders': [
          row('ours', 'graph', 30.0, 210.0, True),
          row('ours+folded', 'graph', 33.0, 231.0, True),
          row('ours+tflite', 'tflite', 36.0, 252.0, True),
          row('keras+jit', 'keras', 25.0, 175.0),
          row('torch+channels_last', 'torch', 24.0, 196.0),
          row('onnxruntime', 'onnxruntime', 45.0, 315.0),
          row('openvino', 'openvino', 40.0, 280.0)],
      'summary': {'best_tf_serving': 'ours+tflite',
                  'best_tf_serving_vs_keras_jit': 36.0 / 25.0,
                  'best_runtime': 'onnxruntime',
                  'best_tf_serving_vs_best_runtime': 36.0 / 45.0,
                  'torch_best': 'torch+channels_last',
                  'ours_vs_torch_best': 30.0 / 24.0,
                  'ours_vs_torch_best_per_mac': 210.0 / 196.0,
                  'onnxruntime_best': 'onnxruntime',
                  'openvino_best': 'openvino'}}]}


def _latency_report():
  def row(name, p50, p99):
    return {'runtime': name, 'contender': name, 'p50_ms': p50,
            'p99_ms': p99, 'requests_per_second': 1e3 / p50}
  return {'model': 'resnet_v2_50', 'threads': 2, 'levels': [
      {'concurrency': 1,
       'rows': [row('folded', 30.0, 34.0), row('onnxruntime', 22.0, 25.0)],
       'summary': {'best_tf_vs_best_runtime': 22.0 / 30.0}}]}


def test_peer_rows_and_tables():
  (row,) = suite.peer_rows(_peers_report())
  assert row['serving'] == 'ours+tflite' and row['serving_rate'] == 36.0
  assert row['peers'] == {'torch': ('torch+channels_last', 24.0),
                          'onnxruntime': ('onnxruntime', 45.0),
                          'openvino': ('openvino', 40.0)}
  assert suite.peer_rows(_report()) == []  # no peer outside TensorFlow
  text = suite.format_summary({'serving': _peers_report(),
                               'latency': _latency_report()})
  assert ('| resnet_v2_50 | infer | 1 | 30.0 | ours+tflite (36.0) | 24.0 '
          '(torch+channels_last) | 1.25x | 1.07x | 45.0 | 40.0 | 0.80x | '
          '1.44x |') in text
  assert ('Batch-1 latency, resnet_v2_50, 2 intra-op threads (`latency`)'
          in text)
  assert '| 1 | 30.0 / 34.0 | 22.0 / 25.0 | - | 0.73x |' in text


def test_entries_are_valid_commands():
  """Every entry's flags pass its benchmark's own checks."""
  from benchmarks import latency  # pylint: disable=g-import-not-at-top
  for name, (module, args) in suite.SUITE.items():
    argv = suite.command(name, '/out')
    assert argv[:3] == [sys.executable, '-m', module]
    assert argv[-1] == '--json_out=/out/%s.json' % name
    values = dict(a[2:].split('=', 1) for a in args if '=' in a)
    if module == 'benchmarks.latency':
      latency.make_settings(model=values['model'],
                            threads=int(values['threads']),
                            concurrency=values['concurrency'].split(','))
    if module != 'benchmarks.throughput':
      continue
    throughput.make_settings(
        model=values['model'], modes=values['mode'].split(','),
        batch_sizes=values['batch_size'].split(','),
        precision=values.get('precision', 'float32'),
        variants=[v for v in values.get('variants', '').split(',') if v],
        peers=[p for p in values.get(
            'peers', ','.join(throughput.PEERS)).split(',') if p],
        torch_layouts=values.get('torch_layouts',
                                 'nchw,channels_last').split(','),
        torch_compile=values.get('torch_compile', 'off'))


def test_unknown_entry():
  assert suite.check_entries([]) == list(suite.SUITE)
  with pytest.raises(ValueError, match='only: unknown entries nope; the '
                     'suite has resnet_v2_50_train'):
    suite.check_entries(['resnet_v2_50_train', 'nope'])
