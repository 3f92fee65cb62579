"""Scaling of multi-worker training on one machine: throughput and overhead.

    python -m benchmarks.distributed [--workers=1,2,4] [--modes=sync,async]
        [--steps=100] [--json_out=distributed.json]

Trains the digits model (the quick-start recipe: resnet_v1_cifar_20 at
16x16, batch --batch_size per worker) as one plain process, then as local
clusters (`slim_resnets.distributed.local_cluster`) of --ps parameter
servers and 1, 2,
4... workers, synchronous and asynchronous, and reads the images/second
every worker logs (the first --skip_logs log lines of each are warm-up and
dropped; the median of the rest is the worker's rate).

For each run the table gives the per-worker rate, the cluster's total, the
global steps per second, the time of one worker step, and two comparisons
with the single process measured in the same invocation: the total's ratio
to it, and the extra milliseconds each step costs. The one-worker cluster
isolates the distributed runtime's own cost (variables fetched from and
updates sent to the ps over gRPC every step); more workers on a machine
with few cores mostly measure the workers sharing those cores.

The report is built by pure functions (`worker_rates`, `summarize_run`,
`format_table`) that the tests call on made-up logs.
"""

import dataclasses
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

from absl import app
from absl import flags

from slim_resnets import console

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_RATE = re.compile(r'step (\d+): loss = \S+, learning rate = \S+, '
                   r'([0-9.]+) images/sec')


def define_flags():
  """The script's flags, defined only when it runs as a script."""
  flags.DEFINE_list('workers', ['1', '2', '4'], 'Cluster sizes to run.')
  flags.DEFINE_list('modes', ['sync', 'async'], 'sync and/or async.')
  flags.DEFINE_integer('ps', 1, 'Parameter server tasks of every cluster.')
  flags.DEFINE_integer('steps', 100, 'Global steps of every run.')
  flags.DEFINE_integer('batch_size', 32, 'Examples per worker step.')
  flags.DEFINE_integer('log_every_n_steps', 10, 'Steps per rate sample.')
  flags.DEFINE_integer('skip_logs', 2, 'Warm-up rate samples dropped.')
  flags.DEFINE_string('dataset_dir', 'data/digits',
                      'Converted digits (created when missing).')
  flags.DEFINE_string('work_dir', None, 'Where the runs go; a new temporary '
                      'directory when unset.')
  flags.DEFINE_string('json_out', None, 'Also write the report here as JSON.')


def worker_rates(log_text, skip):
  """images/s samples a worker logged, minus the first `skip`."""
  return [float(rate) for _, rate in _RATE.findall(log_text)][skip:]


def summarize_run(name, workers, ps, mode, batch_size, rates_per_worker,
                  wall_seconds, single=None):
  """One row of the report.

  Args:
    name: label of the run.
    workers, ps, mode: the cluster (0 ps and mode None: the single process).
    batch_size: examples per worker step.
    rates_per_worker: per worker, its images/s samples.
    wall_seconds: launch to exit, start-up included.
    single: the single process's row, for the comparisons.
  """
  medians = [statistics.median(r) for r in rates_per_worker]
  total = sum(medians)
  ms_per_step = statistics.mean(1000.0 * batch_size / m for m in medians)
  # Synchronous workers take a global step together; asynchronous ones each
  # take their own.
  steps_per_second = (min(medians) / batch_size if mode == 'sync'
                      else total / batch_size)
  row = {'name': name, 'workers': workers, 'ps': ps, 'mode': mode,
         'per_worker_images_per_second': medians,
         'images_per_second': total,
         'global_steps_per_second': steps_per_second,
         'ms_per_worker_step': ms_per_step, 'wall_seconds': wall_seconds,
         'samples_per_worker': [len(r) for r in rates_per_worker]}
  if single is not None:
    row['speedup_vs_single'] = total / single['images_per_second']
    row['overhead_ms_per_step'] = ms_per_step - single['ms_per_worker_step']
  return row


def format_table(report):
  """The report as a Markdown table."""
  lines = ['%s; %d global steps of %d examples per worker, ps tasks: %d.'
           % (report['model'], report['steps'], report['batch_size'],
              report['ps']), '',
           '| run | img/s per worker | img/s total | x single | global '
           'steps/s | ms per worker step | + ms vs single | wall s |',
           '|---|---:|---:|---:|---:|---:|---:|---:|']
  for row in report['runs']:
    lines.append('| %s | %s | %.0f | %s | %.2f | %.0f | %s | %.0f |' % (
        row['name'],
        ', '.join('%.0f' % r for r in row['per_worker_images_per_second']),
        row['images_per_second'],
        '%.2fx' % row['speedup_vs_single'] if 'speedup_vs_single' in row
        else '1.00x',
        row['global_steps_per_second'], row['ms_per_worker_step'],
        '%+.0f' % row['overhead_ms_per_step'] if 'overhead_ms_per_step' in row
        else '-', row['wall_seconds']))
  return '\n'.join(lines) + '\n'


def train_flags(train_dir, dataset_dir, steps, batch_size, log_every):
  """train_image_classifier.py flags of the quick-start recipe, timed."""
  # pylint: disable=g-import-not-at-top
  from slim_resnets.training import config as config_lib
  from slim_resnets.training import recipes
  config = recipes.digits_train_config(train_dir, dataset_dir,
                                       max_number_of_steps=steps,
                                       batch_size=batch_size)
  # Checkpoints and summaries only at the end: they are not what is timed.
  config = dataclasses.replace(config, log_every_n_steps=log_every,
                               save_interval_secs=3600,
                               save_summaries_secs=3600)
  return config_lib.to_flags(config)


def _run(command, log_path):
  start = time.time()
  with open(log_path, 'w') as log:
    code = subprocess.run(command, cwd=ROOT, stdout=log,
                          stderr=subprocess.STDOUT, check=False).returncode
  if code:
    raise RuntimeError('%s failed (exit %d); see %s'
                       % (' '.join(command[:4]), code, log_path))
  return time.time() - start


def run_single(work_dir, args, skip):
  log = os.path.join(work_dir, 'single.log')
  seconds = _run([sys.executable, 'train_image_classifier.py'] + args, log)
  with open(log) as f:
    return [worker_rates(f.read(), skip)], seconds


def run_cluster(work_dir, name, workers, ps, mode, args, skip):
  log_dir = os.path.join(work_dir, name + '_logs')
  command = [sys.executable, '-m', 'slim_resnets.distributed.local_cluster',
             '--workers=%d' % workers, '--ps=%d' % ps, '--log_dir', log_dir,
             '--max_restarts=0', '--'] + args + [
                 '--%ssync_replicas' % ('' if mode == 'sync' else 'no')]
  seconds = _run(command, os.path.join(work_dir, name + '.log'))
  rates = []
  for index in range(workers):
    with open(os.path.join(log_dir, 'worker_%d.log' % index)) as f:
      rates.append(worker_rates(f.read(), skip))
  return rates, seconds


def main(argv):
  del argv  # console.parse_flags refuses positional arguments
  options = flags.FLAGS
  workers = [int(w) for w in options.workers]
  for mode in options.modes:
    if mode not in ('sync', 'async'):
      raise app.UsageError('--modes: sync and/or async; got %r' % mode)
  from slim_resnets.datasets import convert_digits  # pylint: disable=g-import-not-at-top
  from slim_resnets.datasets import dataset_factory  # pylint: disable=g-import-not-at-top
  from slim_resnets.datasets import errors  # pylint: disable=g-import-not-at-top
  try:
    dataset_factory.get_split('digits', 'train', options.dataset_dir)
  except errors.DatasetNotFoundError:
    convert_digits.convert(options.dataset_dir)
  work_dir = options.work_dir or tempfile.mkdtemp(prefix='distributed_bench_')
  os.makedirs(work_dir, exist_ok=True)
  dataset_dir = os.path.abspath(options.dataset_dir)

  def flags_for(name):
    return train_flags(os.path.join(work_dir, name), dataset_dir,
                       options.steps, options.batch_size,
                       options.log_every_n_steps)

  rates, seconds = run_single(work_dir, flags_for('single'),
                              options.skip_logs)
  single = summarize_run('single process', 1, 0, None, options.batch_size,
                         rates, seconds)
  runs = [single]
  print(format_table({'model': 'resnet_v1_cifar_20', 'steps': options.steps,
                      'batch_size': options.batch_size, 'ps': options.ps,
                      'runs': runs}), flush=True)
  for mode in options.modes:
    for count in workers:
      if count == 1 and mode == 'async' and 'sync' in options.modes:
        continue  # one worker: sync and async are the same run
      name = '%d_workers_%s' % (count, mode)
      rates, seconds = run_cluster(work_dir, name, count, options.ps, mode,
                                   flags_for(name), options.skip_logs)
      label = '%d worker%s + %d ps, %s' % (count, 's' if count > 1 else '',
                                           options.ps, mode)
      runs.append(summarize_run(label, count, options.ps, mode,
                                options.batch_size, rates, seconds, single))
      print(runs[-1]['name'], 'done', flush=True)
  from benchmarks import timing  # pylint: disable=g-import-not-at-top
  report = {'model': 'resnet_v1_cifar_20', 'steps': options.steps,
            'batch_size': options.batch_size, 'ps': options.ps,
            'machine': timing.machine_info(), 'runs': runs,
            'command': ' '.join(['python -m benchmarks.distributed'] +
                                sys.argv[1:])}
  print(format_table(report))
  if options.json_out:
    with open(options.json_out, 'w') as f:
      json.dump(report, f, indent=1)
    print('wrote %s' % options.json_out)


if __name__ == '__main__':
  define_flags()
  app.run(main, flags_parser=console.parse_flags)
