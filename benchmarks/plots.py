"""The suite's comparisons as pictures (PNG), drawn from its JSON reports.

`write_all` draws, in the suite's output directory:
  * `<entry>.png` for each throughput report that measured a peer outside
    TensorFlow: images/s of every contender at every batch size (left) and
    GFLOP/s, the same per multiply-add (right), as grouped bars;
  * `<entry>.png` for each latency report: p50 latency of every runtime at
    each concurrency level, with a whisker up to p99.
Only the figures of one report share a picture, since only ratios within a
run compare. Needs matplotlib (the `bench` extra); without it, nothing is
drawn and `write_all` says so.
"""

import os

import numpy as np


def _pyplot():
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use('Agg')
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  return plt


def _machine(report):
  machine = report.get('machine', {})
  return '%s, %s cores' % (machine.get('cpu', '?'), machine.get('cores', '?'))


def _grouped_bars(axis, groups, series, values, ylabel):
  """Bars of values[s][g] for each series s, grouped by g."""
  import matplotlib  # pylint: disable=g-import-not-at-top
  colors = matplotlib.colormaps['tab20']  # distinct for up to 20 series
  width = 0.8 / max(len(series), 1)
  positions = np.arange(len(groups))
  for i, name in enumerate(series):
    heights = [values[name].get(group, 0.0) for group in groups]
    axis.bar(positions + (i - (len(series) - 1) / 2.0) * width, heights,
             width, label=name, color=colors(i % 20))
  axis.set_xticks(positions)
  axis.set_xticklabels(groups)
  axis.set_ylabel(ylabel)
  axis.grid(axis='y', alpha=0.3)


def throughput_figure(report, path):
  """Images/s and GFLOP/s per contender and configuration; writes `path`."""
  plt = _pyplot()
  configs = report['configs']
  groups = ['%s %d' % (c['mode'], c['batch_size']) for c in configs]
  series, images, gflops = [], {}, {}
  for config, group in zip(configs, groups):
    for row in config['contenders']:
      if not row.get('images_per_second'):
        continue  # the matmul ceiling has no images
      if row['name'] not in images:
        series.append(row['name'])
        images[row['name']], gflops[row['name']] = {}, {}
      images[row['name']][group] = row['images_per_second']['median']
      if row.get('gflops'):
        gflops[row['name']][group] = row['gflops']['median']
  figure, axes = plt.subplots(1, 2, figsize=(14, 5.5))
  _grouped_bars(axes[0], groups, series, images, 'images / second')
  _grouped_bars(axes[1], groups, series, gflops,
                'GFLOP/s (work per multiply-add)')
  axes[0].set_title('images/s (median of rounds)')
  axes[1].set_title('GFLOP/s: the same per multiply-add')
  axes[1].legend(fontsize=8, loc='upper left', bbox_to_anchor=(1.0, 1.0))
  figure.suptitle('%s, float32 - %s' % (configs[0]['model'],
                                        _machine(report)))
  figure.tight_layout()
  figure.savefig(path, dpi=100)
  plt.close(figure)
  return path


def latency_figure(report, path):
  """p50 latency (bar) to p99 (whisker) per runtime and concurrency."""
  plt = _pyplot()
  levels = report['levels']
  runtimes = [row['contender'] for row in levels[0]['rows']]
  figure, axis = plt.subplots(figsize=(11, 5))
  width = 0.8 / len(levels)
  positions = np.arange(len(runtimes))
  for i, level in enumerate(levels):
    p50 = [row['p50_ms'] for row in level['rows']]
    p99 = [row['p99_ms'] for row in level['rows']]
    errors = [np.zeros(len(p50)), np.maximum(np.subtract(p99, p50), 0)]
    axis.bar(positions + (i - (len(levels) - 1) / 2.0) * width, p50, width,
             yerr=errors, capsize=3,
             label='%d concurrent request(s)' % level['concurrency'])
  axis.set_xticks(positions)
  axis.set_xticklabels(runtimes, rotation=15)
  axis.set_ylabel('latency, ms (bar: p50, whisker: p99)')
  axis.grid(axis='y', alpha=0.3)
  axis.legend()
  axis.set_title('%s batch-1 latency, %d intra-op threads - %s'
                 % (report['model'], report['threads'], _machine(report)))
  figure.tight_layout()
  figure.savefig(path, dpi=100)
  plt.close(figure)
  return path


def _has_peers(report):
  return any(row.get('kind') in ('torch', 'onnxruntime', 'openvino')
             for config in report.get('configs', [])
             for row in config['contenders'])


def write_all(reports, output_dir, log=print):
  """Draws every picture `reports` ({entry: report}) allow; returns paths."""
  try:
    _pyplot()
  except ImportError:
    log("no plots: matplotlib is not installed (pip install "
        "'slim-resnets[bench]')")
    return []
  written = []
  for name, report in reports.items():
    path = os.path.join(output_dir, name + '.png')
    if 'levels' in report and report['levels']:
      written.append(latency_figure(report, path))
    elif _has_peers(report):
      written.append(throughput_figure(report, path))
  return written
