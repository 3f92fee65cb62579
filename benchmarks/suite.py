"""The whole benchmark suite of BENCHMARKS.md, in one command.

    python -m benchmarks.suite --output_dir=benchmarks/results

runs every entry of `SUITE` (each `python -m benchmarks.throughput`,
`benchmarks.latency`, `benchmarks.tflite` or `benchmarks.distributed` in a
process of its own, so that no entry inherits another's memory or warm
caches), keeps each entry's JSON report and log in the output directory,
and writes `summary.md`: the headline figures of every configuration as
Markdown tables, computed from the JSON reports and nothing else, and the
plots of `benchmarks.plots` (PNG). `--only` runs some entries;
`--report_only` rebuilds summary.md and the plots from the reports already
there. The peers outside TensorFlow (PyTorch, ONNX Runtime, OpenVINO) are
optional: without `pip install 'slim-resnets[bench]'` their entries run
without them and say so. On a 2-core CPU the whole suite takes about an
hour and a half.
"""

import json
import os
import subprocess
import sys
import time

from absl import app
from absl import flags

from slim_resnets import console

# name -> (module, arguments). Training and inference at batch 1 and 32
# (and 16, the other training size, for resnet_v2_50), every fast
# path on resnet_v2_50, the winning ones on the other nets.
SUITE = {
    'resnet_v2_50_train': ('benchmarks.throughput', [
        '--model=resnet_v2_50', '--mode=train', '--batch_size=1,16,32',
        '--variants=xla,bfloat16', '--profile']),
    'resnet_v2_50_infer': ('benchmarks.throughput', [
        '--model=resnet_v2_50', '--mode=infer', '--batch_size=1,16,32',
        '--variants=xla,bfloat16,tflite,tflite_int8', '--profile']),
    'resnet_v2_101_train': ('benchmarks.throughput', [
        '--model=resnet_v2_101', '--mode=train', '--batch_size=1,32',
        '--variants=bfloat16']),
    'resnet_v2_101_infer': ('benchmarks.throughput', [
        '--model=resnet_v2_101', '--mode=infer', '--batch_size=1,32',
        '--variants=bfloat16,tflite,tflite_int8']),
    'resnet_v1_50_train': ('benchmarks.throughput', [
        '--model=resnet_v1_50', '--mode=train', '--batch_size=1,32',
        '--variants=bfloat16']),
    'resnet_v1_50_infer': ('benchmarks.throughput', [
        '--model=resnet_v1_50', '--mode=infer', '--batch_size=1,32',
        '--variants=bfloat16,tflite,tflite_int8']),
    # Every contender in bfloat16 (Keras with its mixed_bfloat16 policy).
    'resnet_v2_50_train_bfloat16': ('benchmarks.throughput', [
        '--model=resnet_v2_50', '--mode=train', '--batch_size=32',
        '--precision=bfloat16']),
    # Our nets' Keras 3 form (nets.keras_nets) against Keras Applications
    # and our graph, training and serving.
    'resnet_v2_50_keras_nets': ('benchmarks.throughput', [
        '--model=resnet_v2_50', '--mode=train,infer', '--batch_size=1,16',
        '--peers=keras,keras_nets']),
    # The fast paths meant for GPUs, measured on the CPU for what they cost.
    'resnet_v2_50_gpu_paths': ('benchmarks.throughput', [
        '--model=resnet_v2_50', '--mode=train,infer', '--batch_size=16',
        '--variants=nchw,float16', '--peers=']),
    # Serving: our exported graph in a Session (frozen; batch norms folded),
    # TFLite, ONNX Runtime and OpenVINO on the same graph, Keras with XLA,
    # PyTorch eager and compiled.
    'resnet_v2_50_serving': ('benchmarks.throughput', [
        '--model=resnet_v2_50', '--mode=infer', '--batch_size=1,16,32',
        '--variants=frozen,folded,tflite', '--keras_jit=on',
        '--peers=keras,torch,onnxruntime,openvino', '--torch_compile=both',
        '--round_seconds=3']),
    'serving_latency_1thread': ('benchmarks.latency', [
        '--model=resnet_v2_50', '--threads=1', '--concurrency=1,2']),
    'serving_latency_2threads': ('benchmarks.latency', [
        '--model=resnet_v2_50', '--threads=2', '--concurrency=1,2']),
    # Training against PyTorch (torchvision's resnet50 and resnet101).
    'resnet_v2_50_torch_train': ('benchmarks.throughput', [
        '--model=resnet_v2_50', '--mode=train', '--batch_size=16,32',
        '--peers=torch', '--torch_compile=both', '--round_seconds=3']),
    'resnet_v2_101_torch': ('benchmarks.throughput', [
        '--model=resnet_v2_101', '--mode=train,infer', '--batch_size=32',
        '--variants=folded', '--peers=torch,onnxruntime,openvino',
        '--torch_layouts=channels_last', '--round_seconds=3']),
    'tflite_digits': ('benchmarks.tflite', ['--rounds=30']),
    # Local clusters of 1, 2 and 4 workers against one process.
    'distributed_digits': ('benchmarks.distributed', []),
}

flags.DEFINE_string('output_dir', 'benchmarks/results',
                    'Where the JSON reports, logs and summary.md go.')
flags.DEFINE_list('only', [], 'Run only these entries (default: all).')
flags.DEFINE_bool('report_only', False, 'Only rebuild summary.md from the '
                  'reports in --output_dir.')
FLAGS = flags.FLAGS


def check_entries(names):
  """The entries `names` (all when empty); a ValueError for unknown ones."""
  unknown = [n for n in names if n not in SUITE]
  if unknown:
    raise ValueError('only: unknown entries %s; the suite has %s.'
                     % (', '.join(unknown), ', '.join(SUITE)))
  return list(names) or list(SUITE)


def command(name, output_dir):
  """The command line of entry `name`, writing <output_dir>/<name>.json."""
  module, args = SUITE[name]
  return [sys.executable, '-m', module] + args + [
      '--json_out=%s' % os.path.join(output_dir, name + '.json')]


def run_entry(name, output_dir, log=print):
  """Runs one entry; its output goes to <output_dir>/<name>.log."""
  report = os.path.join(output_dir, name + '.json')
  if os.path.exists(report):
    # The tflite benchmark refuses to overwrite its report; so does the suite.
    os.replace(report, report + '.previous')
  argv = command(name, output_dir)
  log('%s: %s' % (name, ' '.join(argv[1:])))
  start = time.time()
  with open(os.path.join(output_dir, name + '.log'), 'w') as out:
    process = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT,
                             check=False)
  log('  %s in %.0f s' % ('done' if process.returncode == 0 else
                          'FAILED (exit %d)' % process.returncode,
                          time.time() - start))
  return process.returncode == 0


def _rate(row):
  return row['images_per_second']['median'] if row.get(
      'images_per_second') else None


def throughput_rows(report):
  """Headline figures of each configuration of a throughput report.

  One dict per configuration: the model, mode and batch; images/s of ours,
  the tf_slim oracle and the faster Keras; ours' ratio to each; ours' share
  of the matmul rate; and the fastest of ours' variants with its speed-up
  over ours.
  """
  rows = []
  for config in report['configs']:
    by_name = {c['name']: c for c in config['contenders']}
    ours = by_name['ours']
    # The fastest of each Keras peer, as the throughput report chose it.
    summary = config['summary']
    best_keras = by_name.get(summary.get('keras_best'))
    best_keras_nets = by_name.get(summary.get('keras_nets_best'))
    variants = [c for c in config['contenders']
                if c['name'].startswith('ours+')]
    best_variant = max(variants, key=_rate) if variants else None
    rows.append({
        'model': config['model'], 'mode': config['mode'],
        'batch_size': config['batch_size'],
        'precision': config['precision'],
        'ours': _rate(ours),
        'tf_slim': _rate(by_name['tf_slim']) if 'tf_slim' in by_name
                   else None,
        'keras': _rate(best_keras) if best_keras else None,
        'keras_name': best_keras['name'] if best_keras else None,
        'ours_vs_keras': (_rate(ours) / _rate(best_keras)
                          if best_keras else None),
        'keras_nets': _rate(best_keras_nets) if best_keras_nets else None,
        'keras_nets_name': (best_keras_nets['name'] if best_keras_nets
                            else None),
        'keras_nets_vs_keras': summary.get('keras_nets_vs_keras_best'),
        'ours_vs_tf_slim': (_rate(ours) / _rate(by_name['tf_slim'])
                            if 'tf_slim' in by_name else None),
        'matmul_fraction': ours.get('fraction_of_matmul'),
        'best_variant': best_variant['name'] if best_variant else None,
        'best_variant_rate': _rate(best_variant) if best_variant else None,
        'best_variant_speedup': (_rate(best_variant) / _rate(ours)
                                 if best_variant else None),
        'variants': [(v['name'][len('ours+'):], _rate(v) / _rate(ours))
                     for v in variants],
    })
  return rows


def _cell(value, fmt):
  return '-' if value is None else fmt % value


def peer_rows(report):
  """Headline figures against the runtimes outside TensorFlow.

  One dict per configuration that measured any of them: images/s of ours,
  of our fastest float32 TensorFlow serving path, and of the fastest of
  each of PyTorch, ONNX Runtime and OpenVINO, with ours' ratios (PyTorch
  also per multiply-add), all as the throughput report's summary chose
  them.
  """
  rows = []
  for config in report.get('configs', []):
    summary = config['summary']
    by_name = {c['name']: c for c in config['contenders']}
    peers = {kind: by_name[summary[kind + '_best']]
             for kind in ('torch', 'onnxruntime', 'openvino')
             if kind + '_best' in summary}
    if not peers:
      continue
    serving = by_name.get(summary.get('best_tf_serving'))
    rows.append({
        'model': config['model'], 'mode': config['mode'],
        'batch_size': config['batch_size'], 'ours': _rate(by_name['ours']),
        'serving': serving['name'] if serving else None,
        'serving_rate': _rate(serving) if serving else None,
        'peers': {kind: (row['name'], _rate(row))
                  for kind, row in peers.items()},
        'ours_vs_torch': summary.get('ours_vs_torch_best'),
        'ours_vs_torch_per_mac': summary.get('ours_vs_torch_best_per_mac'),
        'serving_vs_keras_jit': summary.get('best_tf_serving_vs_keras_jit'),
        'serving_vs_runtime': summary.get('best_tf_serving_vs_best_runtime'),
    })
  return rows


def _format_peers(reports):
  lines = []
  rows = [row for report in reports.values() for row in peer_rows(report)]
  if rows:
    lines += ['', 'Against the runtimes outside TensorFlow (images/s; '
              'ratios > 1: ours faster):', '',
              '| model | mode | batch | ours | best TF serving path | '
              'PyTorch (best) | ours/PyTorch | per multiply-add | '
              'ONNX Runtime | OpenVINO | best TF / best other runtime | '
              'best TF / keras+jit |',
              '|---|---|---:|---:|---|---|---:|---:|---:|---:|---:|---:|']
    for row in rows:
      peers = row['peers']
      lines.append('| %s | %s | %d | %.1f | %s | %s | %s | %s | %s | %s | '
                   '%s | %s |' % (
                       row['model'], row['mode'], row['batch_size'],
                       row['ours'],
                       '-' if row['serving'] is None else '%s (%.1f)'
                       % (row['serving'], row['serving_rate']),
                       '%.1f (%s)' % (peers['torch'][1], peers['torch'][0])
                       if 'torch' in peers else '-',
                       _cell(row['ours_vs_torch'], '%.2fx'),
                       _cell(row['ours_vs_torch_per_mac'], '%.2fx'),
                       _cell(peers.get('onnxruntime', (0, None))[1], '%.1f'),
                       _cell(peers.get('openvino', (0, None))[1], '%.1f'),
                       _cell(row['serving_vs_runtime'], '%.2fx'),
                       _cell(row['serving_vs_keras_jit'], '%.2fx')))
  latency = [(name, report) for name, report in reports.items()
             if 'levels' in report]
  for name, report in latency:
    runtimes = [row['contender'] for row in report['levels'][0]['rows']]
    lines += ['', 'Batch-1 latency, %s, %d intra-op threads (`%s`), p50 / '
              'p99 ms:' % (report['model'], report['threads'], name), '',
              '| concurrent requests | %s | best TF / keras+jit | best TF / '
              'best other runtime |' % ' | '.join(runtimes),
              '|---:|%s---:|---:|' % ('---:|' * len(runtimes))]
    for level in report['levels']:
      summary = level['summary']
      lines.append('| %d | %s | %s | %s |' % (
          level['concurrency'],
          ' | '.join('%.1f / %.1f' % (row['p50_ms'], row['p99_ms'])
                     for row in level['rows']),
          _cell(summary.get('best_tf_vs_keras_jit'), '%.2fx'),
          _cell(summary.get('best_tf_vs_best_runtime'), '%.2fx')))
  return lines


def format_summary(reports):
  """summary.md: one Markdown table for throughput, one for the int8 path.

  Args:
    reports: dict entry name -> parsed JSON report.
  """
  lines = ['# Benchmark summary', '',
           'Generated by `python -m benchmarks.suite` from the JSON reports '
           'beside this file; images/s are medians over interleaved rounds.',
           '']
  # Entries may come from different machines (a report is rerun alone):
  # each machine is named with the entries measured on it, since only
  # ratios within one report compare.
  machines = {}
  for name, report in reports.items():
    if 'machine' in report:
      machine = report['machine']
      key = ('%s, %d cores; Python %s, TensorFlow %s, Keras %s'
             % (machine['cpu'], machine['cores'], machine['python'],
                machine['tensorflow'], machine['keras']))
      machines.setdefault(key, []).append(name)
  if len(machines) == 1:
    lines += ['Machine: %s.' % next(iter(machines)), '']
  elif machines:
    lines += ['Machines:', '']
    lines += ['* %s: %s.' % (key, ', '.join(names))
              for key, names in machines.items()]
    lines.append('')
  lines += ['| model | mode | batch | precision | ours img/s | tf_slim | '
            'Keras (best) | ours/Keras | ours/tf_slim | ours % of matmul | '
            'fastest variant (img/s, x ours) | keras_nets (best) | '
            'keras_nets/Keras |',
            '|---|---|---:|---|---:|---:|---:|---:|---:|---:|---|---:|---:|']
  for report in reports.values():
    if 'configs' not in report:
      continue
    for row in throughput_rows(report):
      variant = ('-' if row['best_variant'] is None else '%s (%.1f, %.2fx)'
                 % (row['best_variant'], row['best_variant_rate'],
                    row['best_variant_speedup']))
      keras_nets = ('-' if row['keras_nets'] is None else '%.1f (%s)'
                    % (row['keras_nets'], row['keras_nets_name']))
      lines.append('| %s | %s | %d | %s | %s | %s | %s | %s | %s | %s | %s '
                   '| %s | %s |'
                   % (row['model'], row['mode'], row['batch_size'],
                      row['precision'], _cell(row['ours'], '%.1f'),
                      _cell(row['tf_slim'], '%.1f'),
                      '-' if row['keras'] is None else '%.1f (%s)'
                      % (row['keras'], row['keras_name']),
                      _cell(row['ours_vs_keras'], '%.2fx'),
                      _cell(row['ours_vs_tf_slim'], '%.2fx'),
                      _cell(None if row['matmul_fraction'] is None
                            else 100 * row['matmul_fraction'], '%.0f%%'),
                      variant, keras_nets,
                      _cell(row['keras_nets_vs_keras'], '%.2fx')))
  lines += ['', 'Each fast path of ours, as images/s relative to ours in the '
            'same run:', '', '| model | mode | batch | precision | fast paths '
            '(x ours) |', '|---|---|---:|---|---|']
  for report in reports.values():
    for row in throughput_rows(report) if 'configs' in report else []:
      if row['variants']:
        lines.append('| %s | %s | %d | %s | %s |' % (
            row['model'], row['mode'], row['batch_size'], row['precision'],
            ', '.join('%s %.2fx' % v for v in row['variants'])))
  lines += _format_peers(reports)
  tflite = reports.get('tflite_digits')
  if tflite and 'contenders' in tflite:
    lines += ['', '| digits, batch 1 | latency us | x TF graph | top-1 % | '
              'change (points) | size KiB |', '|---|---:|---:|---:|---:|---:|']
    for row in tflite['contenders']:
      lines.append('| %s | %.0f | %.2fx | %.2f | %+.2f | %.0f |'
                   % (row['label'], row['latency_us']['median'],
                      row['speedup_vs_tf_graph'], row['top1_percent'],
                      row['top1_change_points'], row['size_bytes'] / 1024.0))
  distributed = reports.get('distributed_digits')
  if distributed and 'runs' in distributed:
    # pylint: disable=g-import-not-at-top
    from benchmarks import distributed as distributed_lib
    lines += ['', 'Training on local clusters (`python -m '
              'benchmarks.distributed`): ' + distributed_lib.format_table(
                  distributed).rstrip('\n')]
  return '\n'.join(lines) + '\n'


def load_reports(output_dir, names):
  reports = {}
  for name in names:
    path = os.path.join(output_dir, name + '.json')
    if os.path.exists(path):
      with open(path) as f:
        reports[name] = json.load(f)
  return reports


def main(argv):
  del argv  # console.parse_flags refuses positional arguments
  from slim_resnets.training import cli  # pylint: disable=g-import-not-at-top

  def go():
    names = check_entries(FLAGS.only)
    os.makedirs(FLAGS.output_dir, exist_ok=True)
    failed = []
    if not FLAGS.report_only:
      failed = [n for n in names if not run_entry(n, FLAGS.output_dir)]
    reports = load_reports(FLAGS.output_dir, list(SUITE))
    summary = format_summary(reports)
    path = os.path.join(FLAGS.output_dir, 'summary.md')
    with open(path, 'w') as f:
      f.write(summary)
    print(summary)
    print('wrote %s' % path)
    from benchmarks import plots  # pylint: disable=g-import-not-at-top
    for written in plots.write_all(reports, FLAGS.output_dir):
      print('wrote %s' % written)
    if failed:
      print('failed entries (see their .log): %s' % ', '.join(failed))
      return 1
    return 0

  return cli.run_main(go, verbosity='WARN')


if __name__ == '__main__':
  app.run(main, flags_parser=console.parse_flags)
