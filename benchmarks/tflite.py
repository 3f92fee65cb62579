"""The int8 serving path on the digits model: latency, accuracy and size.

    python -m benchmarks.tflite [--num_threads=2] [--json_out=tflite.json]

Uses the quick-start run (data/digits, runs/digits_resnet_v1_cifar_20;
converted and trained first if missing, 1-2 minutes on 2 cores), exports it
to TFLite as float32, dynamic-range and full-integer models in a new output
directory, and compares four ways of serving one preprocessed image:

* our float32 TF graph: the frozen inference graph the converter starts
  from, run by a tf.compat.v1 Session through `make_callable` (its leanest
  call path), intra-op threads = --num_threads and one op at a time, as
  TFLite runs;
* the three TFLite models on `tf.lite.Interpreter` with --num_threads.

TensorFlow's oneDNN kernels (on by default on x86) cost this small a graph
dearly at batch 1; the table's header says whether they were on, and
`TF_ENABLE_ONEDNN_OPTS=0 python -m benchmarks.tflite` measures the TF graph
without them.

Latency is measured interleaved (`benchmarks.timing.interleave`): median
and spread over rounds, and speed-ups against the TF graph and TFLite
float32 from the medians. Top-1 is over the 300 validation digits: the
checkpoint through `eval_lib.evaluate_checkpoint`, the TFLite models through
`tflite_lib.evaluate_tflite` (same pipeline, same scoring). The issue's
targets: full-integer at least 2x faster than the TF graph at batch 1, and
top-1 within 0.5 points of float32.

The report is built by pure functions (`build_report`, `format_table`) that
the tests call on made-up figures.
"""

import json
import os
import sys
import tempfile

from absl import app
from absl import flags

from slim_resnets import console


def define_flags():
  """The script's flags, defined only when it runs as a script.

  Importing the module (as the tests do, next to benchmarks.throughput,
  whose --rounds and --json_out share names) then defines nothing.
  """
  flags.DEFINE_string('dataset_dir', 'data/digits',
                      'Converted digits (created when missing).')
  flags.DEFINE_string('train_dir', 'runs/digits_resnet_v1_cifar_20',
                      'The quick-start run (trained when it has no '
                      'checkpoint).')
  flags.DEFINE_string('output_dir', None, 'New directory for the .tflite '
                      'files; a new temporary directory when unset.')
  flags.DEFINE_string('json_out', None, 'Also write the report here as JSON '
                      '(must be new).')
  flags.DEFINE_integer('num_threads', 2, 'Threads of the TF session '
                       '(intra-op) and of the TFLite interpreters.')
  flags.DEFINE_integer('num_calibration_examples', 200,
                       'Training images calibrating the full-integer model.')
  flags.DEFINE_integer('rounds', 30, 'Interleaved timing rounds.')
  flags.DEFINE_float('round_seconds', 0.1, 'Seconds each contender is timed '
                     'for in every round.')


FLAGS = flags.FLAGS

# (key, label) in table order; the keys of the TFLite models are their
# quantization names.
CONTENDERS = (('tf_graph', 'TF graph float32'),
              ('float32', 'TFLite float32'),
              ('dynamic_range', 'TFLite dynamic range'),
              ('full_integer', 'TFLite full integer'))
TARGET_SPEEDUP = 2.0
TARGET_TOP1_POINTS = 0.5


def build_report(latencies, top1, sizes, settings):
  """The benchmark's figures as one JSON-ready dict.

  Args:
    latencies: {key: timing.Stats of seconds per call} for every contender.
    top1: {key: top-1 accuracy in [0, 1]}; 'tf_graph' is the float32
      reference for the change in points.
    sizes: {key: model bytes} (the TF graph's is its frozen GraphDef).
    settings: descriptive fields copied into the report (model, threads,
      rounds, ...).

  Returns:
    dict with the settings, one 'contenders' entry per contender (latency
    in microseconds, speed-ups, top-1 in percent, change in points, size)
    and 'targets' with the issue's two targets and whether they are met.
  """
  tf_median = latencies['tf_graph'].median
  lite_median = latencies['float32'].median
  reference = top1['tf_graph']
  rows = []
  for key, label in CONTENDERS:
    s = latencies[key]
    rows.append({
        'key': key, 'label': label,
        'latency_us': {'median': 1e6 * s.median, 'low': 1e6 * s.low,
                       'high': 1e6 * s.high},
        'speedup_vs_tf_graph': tf_median / s.median,
        'speedup_vs_tflite_float32': lite_median / s.median,
        'top1_percent': 100.0 * top1[key],
        'top1_change_points': 100.0 * (top1[key] - reference),
        'size_bytes': int(sizes[key]),
    })
  by_key = {row['key']: row for row in rows}
  int8 = by_key['full_integer']
  targets = {
      'int8_speedup_vs_tf_graph': {
          'value': int8['speedup_vs_tf_graph'], 'target': TARGET_SPEEDUP,
          'met': int8['speedup_vs_tf_graph'] >= TARGET_SPEEDUP},
      'int8_top1_change_points': {
          'value': int8['top1_change_points'], 'target': -TARGET_TOP1_POINTS,
          'met': int8['top1_change_points'] >= -TARGET_TOP1_POINTS},
  }
  return dict(settings, contenders=rows, targets=targets)


def _latency(row):
  lat = row['latency_us']
  return '%.1f (%.1f-%.1f)' % (lat['median'], lat['low'], lat['high'])


def format_table(report):
  """A fixed-width text table of `build_report`'s dict."""
  header = ('%-22s %-26s %8s %14s %8s %12s %10s'
            % ('contender', 'latency us (low-high)', 'vs TF', 'vs TFLite f32',
               'top-1 %', 'change pts', 'size KiB'))
  lines = [
      'int8 serving path: %s on %s, %dx%d inputs, batch 1, num_threads=%d'
      % (report['model_name'], report['dataset'], report['image_size'],
         report['image_size'], report['num_threads']),
      'checkpoint %s (step %s); top-1 over %d validation images; '
      'calibration: %d %s images'
      % (report['checkpoint'], report['global_step'],
         report['num_eval_examples'], report['num_calibration_examples'],
         report['calibration_split']),
      'latency: median (lowest-highest round) of %d interleaved rounds, '
      '%.2f s per contender a round; TF_ENABLE_ONEDNN_OPTS=%s'
      % (report['rounds'], report['round_seconds'],
         report.get('tf_enable_onednn_opts') or 'unset (oneDNN on)'),
      '', header, '-' * len(header)]
  for row in report['contenders']:
    lines.append('%-22s %-26s %7.2fx %13.2fx %8.2f %+12.2f %10s'
                 % (row['label'], _latency(row), row['speedup_vs_tf_graph'],
                    row['speedup_vs_tflite_float32'], row['top1_percent'],
                    row['top1_change_points'],
                    '{:,.1f}'.format(row['size_bytes'] / 1024.0)))
  speed = report['targets']['int8_speedup_vs_tf_graph']
  accuracy = report['targets']['int8_top1_change_points']
  lines += [
      '',
      'target: full integer >= %.1fx faster than the TF graph: %.2fx (%s)'
      % (speed['target'], speed['value'], 'met' if speed['met'] else
         'NOT met'),
      'target: full integer top-1 within %.1f points of float32: %+.2f (%s)'
      % (-accuracy['target'], accuracy['value'], 'met' if accuracy['met']
         else 'NOT met')]
  return '\n'.join(lines)


def write_json(report, path):
  """Writes the report to a new file `path` (an existing one is refused)."""
  with open(path, 'x') as f:
    json.dump(report, f, indent=2, sort_keys=True)
    f.write('\n')


# The measuring parts.


def ensure_digits_run(dataset_dir, train_dir, log=print):
  """(train config, latest checkpoint) of the quick-start run, made if needed.

  Converts the digits when `dataset_dir` holds none, and trains the digits
  recipe in `train_dir` up to its 600 steps: from scratch when there is no
  checkpoint, resuming an interrupted run, and not at all when the run is
  complete (the usual case after `python quickstart.py`).
  """
  import tensorflow.compat.v1 as tf

  from slim_resnets.datasets import convert_digits
  from slim_resnets.datasets import dataset_factory
  from slim_resnets.datasets import errors
  from slim_resnets.training import checkpoints
  from slim_resnets.training import recipes
  from slim_resnets.training import train_lib
  try:
    dataset_factory.get_split('digits', 'validation', dataset_dir)
  except errors.DatasetNotFoundError:
    log('Converting the digits to %s ...' % dataset_dir)
    convert_digits.convert(dataset_dir)
  config = recipes.digits_train_config(train_dir, dataset_dir)
  step = (checkpoints.checkpoint_step(tf.train.latest_checkpoint(train_dir))
          if checkpoints.has_checkpoint(train_dir) else 0)
  if step < config.max_number_of_steps:
    log('Training %s into %s from step %d to %d (1-2 minutes) ...'
        % (config.model_name, train_dir, step, config.max_number_of_steps))
    train_lib.train(config, log_fn=lambda message: None)
  return config, tf.train.latest_checkpoint(train_dir)


def new_output_dir(path):
  """Creates `path`, which must not exist, or a new temporary directory."""
  if path is None:
    return tempfile.mkdtemp(prefix='tflite_benchmark_')
  if os.path.lexists(path):
    raise FileExistsError('output_dir %s already exists; it is left '
                          'untouched. Choose a new directory.' % path)
  os.makedirs(path)
  return path


def export_models(checkpoint, config, output_dir, num_calibration_examples):
  """{quantization: TFLiteExport} of the three models in output_dir."""
  from slim_resnets.serving import tflite_lib
  exports = {}
  for quantization in tflite_lib.QUANTIZATIONS:
    calibration = None
    if quantization == 'full_integer':
      calibration = tflite_lib.calibration_images(
          config.dataset_name, config.dataset_dir, config.model_name,
          config.train_image_size, split_name='train',
          num_examples=num_calibration_examples,
          preprocessing_name=config.preprocessing_name)
    exports[quantization] = tflite_lib.export_tflite(
        checkpoint, config.model_name, 10,
        os.path.join(output_dir, '%s.tflite' % quantization),
        image_size=config.train_image_size, quantization=quantization,
        representative_images=calibration)
  return exports


def tf_graph_call(graph_def, image, num_threads):
  """(fn running the frozen graph on `image`, its session to close)."""
  import tensorflow.compat.v1 as tf

  from slim_resnets.serving import tflite_lib
  graph = tf.Graph()
  with graph.as_default():
    tf.import_graph_def(graph_def, name='')
  session = tf.Session(graph=graph, config=tf.ConfigProto(
      intra_op_parallelism_threads=num_threads,
      inter_op_parallelism_threads=1))
  fn = session.make_callable(tflite_lib.OUTPUT_NAME + ':0',
                             [tflite_lib.INPUT_NAME + ':0'])
  return (lambda: fn(image)), session


def tflite_call(path, image, num_threads):
  """fn running the TFLite model at `path` on `image` (float I/O).

  Calls the interpreter directly, as the TF graph is called through
  make_callable: both contenders pay only their runtime's own overhead.
  """
  from slim_resnets.serving import tflite_lib
  classifier = tflite_lib.TFLiteClassifier(path, num_threads=num_threads)
  classifier.predict(image)  # Sizes the interpreter to batch 1.
  interpreter = classifier.interpreter
  inputs = interpreter.get_input_details()[0]['index']
  outputs = interpreter.get_output_details()[0]['index']

  def call():
    interpreter.set_tensor(inputs, image)
    interpreter.invoke()
    return interpreter.get_tensor(outputs)

  return call


def calls_per_round(calls_by_key, round_seconds, probe_calls=20):
  """{key: calls filling about `round_seconds`} from a short probe each.

  The TF graph is many times slower than the int8 model; with one call
  count for all, it would fill most of every round and the fast contenders
  would each be timed over a sliver of it.
  """
  from benchmarks import timing
  counts = {}
  for key, fn in calls_by_key.items():
    per_call = timing.time_calls(fn, probe_calls) / probe_calls
    counts[key] = max(1, int(round(round_seconds / per_call)))
  return counts


def measure_latency(calls_by_key, rounds, round_seconds, warmup=50):
  """({key: timing.Stats of seconds per call}, {key: calls per round}).

  Measured interleaved, each contender for about `round_seconds` a round.
  """
  from benchmarks import timing
  for _ in range(warmup):
    for fn in calls_by_key.values():
      fn()
  counts = calls_per_round(calls_by_key, round_seconds)
  measured = timing.interleave(list(calls_by_key.items()), rounds, counts)
  return {key: m.seconds_per_call for key, m in measured.items()}, counts


def one_image(config):
  """The first validation digit, preprocessed, as float32 [1, H, W, 3]."""
  from slim_resnets.serving import tflite_lib
  images = tflite_lib.calibration_images(
      config.dataset_name, config.dataset_dir, config.model_name,
      config.train_image_size, split_name='validation', num_examples=1,
      preprocessing_name=config.preprocessing_name)
  return next(iter(images))[None]


def run_benchmark(dataset_dir, train_dir, output_dir=None, num_threads=2,
                  num_calibration_examples=200, rounds=30, round_seconds=0.1,
                  log=print):
  """Everything: the run, the exports, the figures; returns the report."""
  import numpy as np
  import tensorflow.compat.v1 as tf

  from slim_resnets.serving import tflite_lib
  from slim_resnets.training import checkpoints
  from slim_resnets.training import eval_lib
  from slim_resnets.training import recipes
  config, checkpoint = ensure_digits_run(dataset_dir, train_dir, log)
  output_dir = new_output_dir(output_dir)
  log('Exporting %s to %s ...' % (checkpoint, output_dir))
  exports = export_models(checkpoint, config, output_dir,
                          num_calibration_examples)
  graph_def = tflite_lib.frozen_inference_graph(
      checkpoint, config.model_name, 10, config.train_image_size)

  log('Evaluating on the validation digits ...')
  eval_config = recipes.digits_eval_config(
      config, os.path.join(output_dir, 'eval'))
  reference = eval_lib.evaluate_checkpoint(eval_config, checkpoint)
  top1 = {'tf_graph': reference['top1_accuracy']}
  for key, export in exports.items():
    results = tflite_lib.evaluate_tflite(eval_config, export.path,
                                         num_threads=num_threads)
    assert results['quantization'] == key, (results['quantization'], key)
    assert results['num_examples'] == reference['num_examples']
    top1[key] = results['top1_accuracy']

  log('Timing batch-1 calls, %d rounds of %.2f s per contender ...'
      % (rounds, round_seconds))
  image = np.ascontiguousarray(one_image(config), dtype=np.float32)
  tf_fn, session = tf_graph_call(graph_def, image, num_threads)
  try:
    runners = {'tf_graph': tf_fn}
    for key, export in exports.items():
      runners[key] = tflite_call(export.path, image, num_threads)
    # Same weights, same input: the float models must agree before timing.
    np.testing.assert_allclose(runners['float32'](), tf_fn(), atol=1e-5)
    latencies, counts = measure_latency(runners, rounds, round_seconds)
  finally:
    session.close()

  sizes = {key: export.size_bytes for key, export in exports.items()}
  sizes['tf_graph'] = len(graph_def.SerializeToString())
  settings = {
      'model_name': config.model_name, 'dataset': 'digits',
      'image_size': config.train_image_size, 'num_classes': 10,
      'checkpoint': checkpoint,
      'global_step': checkpoints.checkpoint_step(checkpoint),
      'num_threads': num_threads, 'rounds': rounds,
      'round_seconds': round_seconds, 'calls_per_round': counts,
      'num_eval_examples': reference['num_examples'],
      'calibration_split': 'train',
      'num_calibration_examples': num_calibration_examples,
      'output_dir': output_dir, 'tensorflow': tf.__version__,
      'cpu_count': os.cpu_count(),
      'tf_enable_onednn_opts': os.environ.get('TF_ENABLE_ONEDNN_OPTS'),
  }
  return build_report(latencies, top1, sizes, settings)


def main(argv):
  del argv  # console.parse_flags refuses positional arguments
  from absl import logging

  from slim_resnets.training import cli

  def run():
    logging.set_verbosity(logging.WARNING)  # The converter's INFO lines.
    if FLAGS.json_out and os.path.lexists(FLAGS.json_out):
      raise FileExistsError('json_out %s already exists; it is left '
                            'untouched.' % FLAGS.json_out)
    report = run_benchmark(
        FLAGS.dataset_dir, FLAGS.train_dir, FLAGS.output_dir,
        FLAGS.num_threads, FLAGS.num_calibration_examples, FLAGS.rounds,
        FLAGS.round_seconds, log=lambda line: print(line, file=sys.stderr))
    print(format_table(report))
    if FLAGS.json_out:
      write_json(report, FLAGS.json_out)
      print('\nwrote %s' % FLAGS.json_out)
    return 0

  return cli.run_main(run, verbosity='WARN')


if __name__ == '__main__':
  define_flags()
  app.run(main, flags_parser=console.parse_flags)
