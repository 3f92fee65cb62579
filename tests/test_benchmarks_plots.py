"""Tests of `benchmarks.plots`: the PNGs the suite draws from its reports."""

import numpy as np
from PIL import Image

from benchmarks import plots


def _throughput_report(with_peer):
  def row(name, kind, rate):
    return {'name': name, 'kind': kind,
            'images_per_second': {'median': rate},
            'gflops': {'median': 7.0 * rate}}
  contenders = [row('ours', 'graph', 30.0), row('keras', 'keras', 25.0),
                {'name': 'matmul_float32', 'kind': 'matmul',
                 'images_per_second': None, 'gflops': {'median': 300.0}}]
  if with_peer:
    contenders.append(row('onnxruntime', 'onnxruntime', 45.0))
  return {'machine': {'cpu': 'Test CPU', 'cores': 2},
          'configs': [{'model': 'resnet_v2_50', 'mode': 'infer',
                       'batch_size': batch, 'contenders': contenders}
                      for batch in (1, 16)]}


def _latency_report():
  rows = [{'contender': name, 'p50_ms': p50, 'p99_ms': p50 * 1.2}
          for name, p50 in (('folded', 30.0), ('onnxruntime', 22.0))]
  return {'machine': {'cpu': 'Test CPU', 'cores': 2},
          'model': 'resnet_v2_50', 'threads': 2,
          'levels': [{'concurrency': 1, 'rows': rows},
                     {'concurrency': 2, 'rows': rows}]}


def test_write_all_draws_reports_with_peers_and_latency(tmp_path):
  written = plots.write_all({'serving': _throughput_report(True),
                             'keras_only': _throughput_report(False),
                             'latency': _latency_report()}, str(tmp_path))
  assert sorted(written) == [str(tmp_path / 'latency.png'),
                             str(tmp_path / 'serving.png')]
  for path, size in ((tmp_path / 'serving.png', (1400, 550)),
                     (tmp_path / 'latency.png', (1100, 500))):
    with Image.open(path) as image:
      assert image.format == 'PNG' and image.size == size
      pixels = np.asarray(image.convert('RGB')).reshape(-1, 3)
    # Bars in several colours, not a blank canvas.
    assert len(np.unique(pixels, axis=0)) > 50
