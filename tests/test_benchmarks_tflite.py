"""Tests of the pure parts of `benchmarks.tflite`: report, table, JSON.

The figures are made up, chosen so that every derived number (speed-ups,
changes in points, targets) has one right value to check.
"""

import json

import pytest

from benchmarks import tflite as bench
from benchmarks import timing


def _latencies(tf_graph=1e-3, full_integer=2.5e-4):
  """Stats in seconds per call: TFLite float32 2x and dynamic 3x faster."""
  return {
      'tf_graph': timing.stats([tf_graph, 0.9 * tf_graph, 1.2 * tf_graph]),
      'float32': timing.stats([5e-4, 4e-4, 6e-4]),
      'dynamic_range': timing.stats([1e-3 / 3] * 3),
      'full_integer': timing.stats([full_integer, full_integer,
                                    2 * full_integer]),
  }


_TOP1 = {'tf_graph': 0.99, 'float32': 0.99, 'dynamic_range': 0.99,
         'full_integer': 0.9866666666666667}
_SIZES = {'tf_graph': 1100000, 'float32': 1106312, 'dynamic_range': 307624,
          'full_integer': 315328}
_SETTINGS = {
    'model_name': 'resnet_v1_cifar_20', 'dataset': 'digits',
    'image_size': 16, 'num_classes': 10, 'checkpoint': 'runs/x/model.ckpt-600',
    'global_step': 600, 'num_threads': 2, 'rounds': 30,
    'round_seconds': 0.1, 'calls_per_round': {'tf_graph': 100,
                                              'float32': 200},
    'num_eval_examples': 300, 'calibration_split': 'train',
    'num_calibration_examples': 200}


def _report(**kwargs):
  return bench.build_report(_latencies(**kwargs), _TOP1, _SIZES, _SETTINGS)


def test_report_rows():
  report = _report()
  rows = {row['key']: row for row in report['contenders']}
  assert [row['key'] for row in report['contenders']] == [
      'tf_graph', 'float32', 'dynamic_range', 'full_integer']
  assert rows['tf_graph']['latency_us'] == pytest.approx(
      {'median': 1000.0, 'low': 900.0, 'high': 1200.0})
  assert rows['tf_graph']['speedup_vs_tf_graph'] == pytest.approx(1.0)
  assert rows['tf_graph']['speedup_vs_tflite_float32'] == pytest.approx(0.5)
  assert rows['float32']['speedup_vs_tf_graph'] == pytest.approx(2.0)
  assert rows['dynamic_range']['speedup_vs_tf_graph'] == pytest.approx(3.0)
  assert rows['dynamic_range']['speedup_vs_tflite_float32'] == pytest.approx(
      1.5)
  assert rows['full_integer']['speedup_vs_tf_graph'] == pytest.approx(4.0)
  assert rows['full_integer']['top1_percent'] == pytest.approx(98.6666667)
  assert rows['full_integer']['top1_change_points'] == pytest.approx(
      -0.3333333)
  assert rows['float32']['top1_change_points'] == 0
  assert rows['dynamic_range']['size_bytes'] == 307624
  for key, value in _SETTINGS.items():
    assert report[key] == value


def test_targets_met_and_missed():
  report = _report()
  assert report['targets']['int8_speedup_vs_tf_graph'] == pytest.approx(
      {'value': 4.0, 'target': 2.0, 'met': True})
  assert report['targets']['int8_top1_change_points']['met']
  slow = _report(full_integer=6e-4)
  assert slow['targets']['int8_speedup_vs_tf_graph']['value'] == (
      pytest.approx(1e-3 / 6e-4))
  assert not slow['targets']['int8_speedup_vs_tf_graph']['met']
  worse = bench.build_report(_latencies(), dict(_TOP1, full_integer=0.98),
                             _SIZES, _SETTINGS)
  assert worse['targets']['int8_top1_change_points']['value'] == (
      pytest.approx(-1.0))
  assert not worse['targets']['int8_top1_change_points']['met']


def test_table():
  table = bench.format_table(_report()).splitlines()
  assert table[0] == ('int8 serving path: resnet_v1_cifar_20 on digits, '
                      '16x16 inputs, batch 1, num_threads=2')
  header = table.index(next(line for line in table
                            if line.startswith('contender')))
  rows = table[header + 2:header + 6]
  assert table[header + 1] == '-' * len(table[header])
  # Fixed width: the columns line up under the header.
  assert {len(row) for row in rows} == {len(table[header])}
  assert rows[0].split()[:4] == ['TF', 'graph', 'float32', '1000.0']
  assert '(900.0-1200.0)' in rows[0]
  assert rows[3].startswith('TFLite full integer')
  assert '4.00x' in rows[3] and '98.67' in rows[3] and '-0.33' in rows[3]
  assert '300.4' in rows[2]  # 307,624 bytes in KiB.
  assert table[-2].endswith('4.00x (met)')
  assert table[-1].endswith('-0.33 (met)')
  slow = bench.format_table(_report(full_integer=6e-4))
  assert slow.splitlines()[-2].endswith('1.67x (NOT met)')


def test_json_round_trip_refuses_existing(tmp_path):
  report = _report()
  path = tmp_path / 'report.json'
  bench.write_json(report, str(path))
  assert json.loads(path.read_text()) == json.loads(json.dumps(report))
  with pytest.raises(FileExistsError):
    bench.write_json(report, str(path))


def test_new_output_dir(tmp_path):
  made = bench.new_output_dir(str(tmp_path / 'out'))
  assert made == str(tmp_path / 'out') and (tmp_path / 'out').is_dir()
  with pytest.raises(FileExistsError, match='output_dir .* already exists'):
    bench.new_output_dir(made)
