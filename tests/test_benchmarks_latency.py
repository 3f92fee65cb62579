"""Tests of `python -m benchmarks.latency`: requests, percentiles, report.

The harness is checked with plain callables (counts, and that concurrent
clients really overlap: they meet at a barrier, which sequential calls
never would); the command end to end on a tiny network, in a process of its
own since it sets TensorFlow's eager thread pools, with the runtimes that
can serve it (Keras Applications and torchvision have no CIFAR ResNet).
"""

import json
import re
import sys
import threading

import pytest

from benchmarks import latency

import subprocesses


def test_serve_splits_requests_over_concurrent_clients():
  barrier = threading.Barrier(3, timeout=30)
  calls = []

  def factory():
    def call():
      calls.append(threading.get_ident())
      if len(calls) <= 3:
        barrier.wait()  # the first three calls are in flight together
    return call

  latencies, wall = latency.serve(factory, requests=8, concurrency=3)
  assert len(latencies) == 8 == len(calls)
  assert len(set(calls)) == 3
  assert all(0 <= t <= wall for t in latencies)


def test_percentile():
  values = list(range(1, 101))
  assert latency.percentile(values, 50) == pytest.approx(50.5)
  assert latency.percentile(values, 99) == pytest.approx(99.01)
  assert latency.percentile([7.0], 99) == 7.0


def test_summary_compares_the_fastest_tensorflow_path():
  rows = [{'runtime': 'frozen', 'p50_ms': 40.0},
          {'runtime': 'folded', 'p50_ms': 32.0},
          {'runtime': 'tflite', 'p50_ms': 35.0},
          {'runtime': 'keras+jit', 'p50_ms': 48.0},
          {'runtime': 'onnxruntime', 'p50_ms': 24.0},
          {'runtime': 'openvino', 'p50_ms': 26.0}]
  summary = latency.summarize(rows)
  assert summary['best_tf'] == 'folded'
  assert summary['best_tf_vs_keras_jit'] == pytest.approx(1.5)
  assert summary['best_runtime'] == 'onnxruntime'
  assert summary['best_tf_vs_best_runtime'] == pytest.approx(0.75)
  assert latency.summarize(rows[3:]) == {}


@pytest.mark.parametrize('overrides,message', [
    (dict(runtimes=['tensorrt']), 'runtimes must be one of frozen, folded'),
    (dict(runtimes=[]), 'runtimes must name at least one of'),
    (dict(threads=0), 'threads must be a positive integer; got 0'),
    (dict(concurrency=['0']), 'concurrency must be a list of positive'),
    (dict(concurrency=['two']), 'concurrency must be a list of positive'),
    (dict(model='resnet_v9'), "model='resnet_v9' is unknown"),
])
def test_bad_settings_name_the_argument(overrides, message):
  with pytest.raises(ValueError, match=re.escape(message)):
    latency.make_settings(**overrides)


@pytest.mark.slow
def test_command_reports_every_runtime_it_can_serve(tmp_path):
  path = tmp_path / 'latency.json'
  ((code, output),) = subprocesses.run_together(
      [sys.executable, '-m', 'benchmarks.latency',
       '--model=resnet_v1_cifar_20', '--image_size=16', '--num_classes=10',
       '--runtimes=frozen,folded,tflite,onnxruntime,openvino,keras+jit,'
       'torch', '--threads=1', '--concurrency=1,2', '--requests=4',
       '--rounds=2', '--json_out=%s' % path], timeout=600)
  assert code == 0, output
  report = json.loads(path.read_text())
  assert (report['threads'], report['image_size']) == (1, 16)
  assert [level['concurrency'] for level in report['levels']] == [1, 2]
  for level in report['levels']:
    rows = {row['runtime']: row for row in level['rows']}
    assert list(rows) == ['frozen', 'folded', 'tflite', 'onnxruntime',
                          'openvino']
    for row in rows.values():
      assert 0 < row['p50_ms'] <= row['p99_ms']
      assert row['requests_per_second'] > 0
    assert level['summary'] == latency.summarize(level['rows'])
    assert level['summary']['best_tf'] in ('frozen', 'folded', 'tflite')
  assert 'skipping keras+jit: Keras Applications has no' in output
  assert 'skipping torch:' in output
  assert 'Our fastest TensorFlow path at p50' in output
