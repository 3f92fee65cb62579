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


def test_entries_are_valid_commands():
  """Every throughput entry's flags pass the benchmark's own checks."""
  for name, (module, args) in suite.SUITE.items():
    argv = suite.command(name, '/out')
    assert argv[:3] == [sys.executable, '-m', module]
    assert argv[-1] == '--json_out=/out/%s.json' % name
    if module != 'benchmarks.throughput':
      continue
    values = dict(a[2:].split('=', 1) for a in args if '=' in a)
    throughput.make_settings(
        model=values['model'], modes=values['mode'].split(','),
        batch_sizes=values['batch_size'].split(','),
        precision=values.get('precision', 'float32'),
        variants=[v for v in values.get('variants', '').split(',') if v],
        peers=[p for p in values.get(
            'peers', ','.join(throughput.PEERS)).split(',') if p])


def test_unknown_entry():
  assert suite.check_entries([]) == list(suite.SUITE)
  with pytest.raises(ValueError, match='only: unknown entries nope; the '
                     'suite has resnet_v2_50_train'):
    suite.check_entries(['resnet_v2_50_train', 'nope'])
