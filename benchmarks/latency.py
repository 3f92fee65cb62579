"""Batch-1 serving latency of our exported net on every runtime, p50 and p99.

    python -m benchmarks.latency --model=resnet_v2_50 --threads=2 \
        --concurrency=1,2 --json_out=latency.json

A server answers one image at a time, often several at once, with a fixed
thread budget. This benchmark builds, in one process, our exported network
(`export_lib.build_network_graph`) served by: a Session on the frozen graph
(`frozen`) and on the graph with batch norms folded (`folded`), TensorFlow
Lite (`tflite`, XNNPACK), ONNX Runtime and OpenVINO (the exported graph
converted), and the peers a user would compare with: Keras Applications'
model of the same architecture under XLA (`keras+jit`) and torchvision's
ResNet in PyTorch (`torch`, channels_last). Each runtime gets --threads
intra-op threads (TensorFlow's inter-op pool gets as many as the machine has
cores, as TF Serving's does); PyTorch, ONNX Runtime and OpenVINO are
optional (skipped with a note when not installed).

For each --concurrency level, each round sends --requests requests to every
runtime in turn (interleaved, starting with a different one each round)
from that many client threads, each thread with its own caller (an
OpenVINO infer request, a TFLite interpreter; the others are shared), and
records every request's latency. Reported: p50 and p99 latency over all
rounds and requests per second. One process serves one thread setting,
since TensorFlow fixes its eager thread pools (Keras's) at start-up: the
suite runs --threads=1 and --threads=2 as two entries.
"""

import concurrent.futures
import os
import sys
import time

from absl import app
from absl import flags

from slim_resnets import console

RUNTIMES = ('frozen', 'folded', 'tflite', 'keras+jit', 'onnxruntime',
            'openvino', 'torch')
# Ours, served by TensorFlow itself: the paths the targets compare.
TF_RUNTIMES = ('frozen', 'folded', 'tflite')


def define_flags():
  """The script's flags, defined only when it runs as a script.

  Importing the module (as the tests do, next to benchmarks.throughput,
  whose flags share names) then defines nothing.
  """
  flags.DEFINE_string('model', 'resnet_v2_50', 'Network from nets_factory.')
  flags.DEFINE_integer('image_size', None, 'Input size; the model\'s default '
                       'when unset.')
  flags.DEFINE_integer('num_classes', 1000, 'Logits.')
  flags.DEFINE_list('runtimes', list(RUNTIMES), 'Runtimes to measure.')
  flags.DEFINE_integer('threads', 2, 'Intra-op threads of every runtime.')
  flags.DEFINE_list('concurrency', ['1', '2'], 'Client threads sending '
                    'requests at once, each level measured apart.')
  flags.DEFINE_integer('requests', 40, 'Requests per runtime per round.')
  flags.DEFINE_integer('rounds', 4, 'Interleaved rounds.')
  flags.DEFINE_string('json_out', None, 'Also write the results here (JSON).')


FLAGS = flags.FLAGS


def percentile(values, q):
  """The q-th percentile (0-100) of `values`, interpolated linearly."""
  import numpy as np  # pylint: disable=g-import-not-at-top
  return float(np.percentile(np.asarray(values, dtype=np.float64), q))


def serve(caller_factory, requests, concurrency):
  """Sends `requests` calls from `concurrency` threads.

  Returns:
    (latencies in seconds, one per request; wall seconds of the whole).
  """
  per_thread = [requests // concurrency + (i < requests % concurrency)
                for i in range(concurrency)]
  callers = [caller_factory() for _ in range(concurrency)]

  def client(caller, count):
    latencies = []
    for _ in range(count):
      start = time.perf_counter()
      caller()
      latencies.append(time.perf_counter() - start)
    return latencies

  start = time.perf_counter()
  if concurrency == 1:
    latencies = client(callers[0], per_thread[0])
  else:
    with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
      futures = [pool.submit(client, c, n)
                 for c, n in zip(callers, per_thread)]
      latencies = [t for f in futures for t in f.result()]
  return latencies, time.perf_counter() - start


def _contenders(settings, log):
  """The runtimes of `settings` that can run here, built (name, contender)."""
  from benchmarks import contenders as lib
  from slim_resnets.training import performance
  model, size = settings['model'], settings['image_size']
  classes, threads = settings['num_classes'], settings['threads']
  session_config = performance.session_config(threads, os.cpu_count())
  lib.fix_thread_pools(session_config)
  result = []
  for name in settings['runtimes']:
    unavailable = lib.peer_unavailable(name, model)
    if unavailable:
      log('skipping %s: %s' % (name, unavailable))
      continue
    if name in ('frozen', 'folded'):
      contender = lib.FrozenGraphContender(
          name, model, 1, size, classes, fold=name == 'folded',
          session_config=session_config)
    elif name == 'tflite':
      contender = lib.TFLiteContender(name, model, 1, size, classes,
                                      num_threads=threads)
    elif name == 'keras+jit':
      if model not in lib.KERAS_APPLICATIONS:
        log('skipping keras+jit: Keras Applications has no %s' % model)
        continue
      contender = lib.KerasContender(
          name, lib.keras_application(lib.KERAS_APPLICATIONS[model]),
          'infer', 1, size, classes, jit_compile=True)
    elif name == 'torch':
      contender = lib.TorchContender(
          'torch+channels_last', lib.TORCH_PEERS[model], 'infer', 1, size,
          classes, channels_last=True, num_threads=threads)
    elif name == 'onnxruntime':
      contender = lib.OnnxRuntimeContender(name, model, 1, size, classes,
                                           num_threads=threads)
    else:
      contender = lib.OpenVINOContender(name, model, 1, size, classes,
                                        num_threads=threads)
    log('building %s ...' % contender.name)
    contender.build(warmup_calls=3)
    result.append((name, contender))
  return result


def measure(settings, log=print):
  """The latency report of `settings` (see `make_settings`)."""
  import tensorflow as tf2

  from benchmarks import contenders as lib
  from benchmarks import timing
  # Keras runs eagerly: its pools are set before any op runs.
  tf2.config.threading.set_intra_op_parallelism_threads(settings['threads'])
  tf2.config.threading.set_inter_op_parallelism_threads(os.cpu_count())
  report = {'machine': timing.machine_info(), 'command': ' '.join(sys.argv),
            'model': settings['model'], 'image_size': settings['image_size'],
            'threads': settings['threads'], 'requests': settings['requests'],
            'rounds': settings['rounds'], 'levels': []}
  everything = _contenders(settings, log)
  if not everything:
    raise ValueError('runtimes: none of %s can run here (see the lines '
                     'above).' % ', '.join(settings['runtimes']))
  with lib.closing_all([c for _, c in everything]):
    for concurrency in settings['concurrency']:
      latencies = {name: [] for name, _ in everything}
      walls = {name: 0.0 for name, _ in everything}
      for r in range(settings['rounds']):
        shift = r % len(everything)
        for name, contender in everything[shift:] + everything[:shift]:
          samples, wall = serve(contender.caller, settings['requests'],
                                concurrency)
          latencies[name] += samples
          walls[name] += wall
      rows = []
      for name, contender in everything:
        rows.append({
            'runtime': name, 'contender': contender.name,
            'p50_ms': 1e3 * percentile(latencies[name], 50),
            'p99_ms': 1e3 * percentile(latencies[name], 99),
            'requests_per_second': len(latencies[name]) / walls[name],
            'build_seconds': contender.build_seconds})
      level = {'concurrency': concurrency, 'rows': rows,
               'summary': summarize(rows)}
      report['levels'].append(level)
      log('')
      log(format_level(report, level))
  return report


def summarize(rows):
  """Our fastest TensorFlow path's p50 against Keras+XLA and the others."""
  by_name = {row['runtime']: row for row in rows}
  ours = [row for row in rows if row['runtime'] in TF_RUNTIMES]
  if not ours:
    return {}
  best = min(ours, key=lambda row: row['p50_ms'])
  summary = {'best_tf': best['runtime'], 'best_tf_p50_ms': best['p50_ms']}
  if 'keras+jit' in by_name:
    summary['best_tf_vs_keras_jit'] = (by_name['keras+jit']['p50_ms'] /
                                       best['p50_ms'])
  runtimes = [by_name[n] for n in ('onnxruntime', 'openvino')
              if n in by_name]
  if runtimes:
    fastest = min(runtimes, key=lambda row: row['p50_ms'])
    summary['best_runtime'] = fastest['runtime']
    summary['best_tf_vs_best_runtime'] = fastest['p50_ms'] / best['p50_ms']
  return summary


def format_level(report, level):
  """One concurrency level as a text table (ratios > 1: ours faster)."""
  lines = ['%s, batch 1, %dx%d, %d intra-op threads, %d concurrent '
           'request(s), %d requests x %d rounds per runtime'
           % (report['model'], report['image_size'], report['image_size'],
              report['threads'], level['concurrency'], report['requests'],
              report['rounds']),
           '%-22s %9s %9s %12s' % ('runtime', 'p50 ms', 'p99 ms',
                                   'requests/s')]
  lines.append('-' * len(lines[-1]))
  for row in level['rows']:
    lines.append('%-22s %9.1f %9.1f %12.1f' % (
        row['contender'], row['p50_ms'], row['p99_ms'],
        row['requests_per_second']))
  summary = level['summary']
  if 'best_tf' in summary:
    notes = []
    if 'best_tf_vs_keras_jit' in summary:
      notes.append('%.2fx faster than keras+jit'
                   % summary['best_tf_vs_keras_jit'])
    if 'best_runtime' in summary:
      notes.append('%.2fx the speed of %s' % (
          summary['best_tf_vs_best_runtime'], summary['best_runtime']))
    if notes:
      lines.append('Our fastest TensorFlow path at p50 (%s) is %s.'
                   % (summary['best_tf'], ', '.join(notes)))
  return '\n'.join(lines)


def make_settings(model='resnet_v2_50', image_size=None, num_classes=1000,
                  runtimes=RUNTIMES, threads=2, concurrency=(1, 2),
                  requests=40, rounds=4):
  """The settings dict `measure` takes, every argument checked."""
  from nets import nets_factory
  from resnet_utils import checks
  nets_factory.check_name(model, 'model')
  checks.check_choices(runtimes, RUNTIMES, 'runtimes')
  checks.check_int(threads, 'threads')
  concurrency = checks.positive_ints(concurrency, 'concurrency')
  checks.check_int(requests, 'requests')
  checks.check_int(rounds, 'rounds')
  image_size = image_size or nets_factory.networks_map[model].default_image_size
  checks.check_int(image_size, 'image_size', note='(pixels)')
  return {'model': model, 'image_size': image_size,
          'num_classes': num_classes, 'runtimes': list(runtimes),
          'threads': threads, 'concurrency': concurrency,
          'requests': requests, 'rounds': rounds}


def main(argv):
  del argv  # console.parse_flags refuses positional arguments
  from slim_resnets.training import cli

  def go():
    settings = make_settings(FLAGS.model, FLAGS.image_size, FLAGS.num_classes,
                             FLAGS.runtimes, FLAGS.threads, FLAGS.concurrency,
                             FLAGS.requests, FLAGS.rounds)
    report = measure(settings)
    from benchmarks import timing
    timing.write_report(report, FLAGS.json_out)
    return report

  cli.run_main(go, verbosity='WARN')


if __name__ == '__main__':
  from benchmarks import torch_first
  torch_first.load_if_asked(sys.argv, 'runtimes', default=True)
  define_flags()
  app.run(main, flags_parser=console.parse_flags)
