"""Training and inference throughput of a network against its peers.

    python -m benchmarks.throughput --model resnet_v2_50 --mode train,infer \
        --batch_size 1,32 --json_out results.json

For each (mode, batch size) it builds, in this one process: our network
(graph mode, Session), the same network from the `tf_slim.nets` oracle,
the same network in its Keras 3 form (`nets.keras_nets`) and the same
architecture from Keras Applications, each with and without
`jit_compile`, any `--variants` of ours (XLA, bfloat16, NCHW, ...; for
inference also our exported graph, frozen and with its batch norms folded,
and our net served by TensorFlow Lite, float32 or int8), the optional
peers outside TensorFlow (torchvision's ResNet in PyTorch; our exported
graph run by ONNX Runtime and by OpenVINO), and a float32 matrix product
as the machine's practical arithmetic ceiling. It
warms each one up, then times them interleaved (see benchmarks/timing.py)
and prints, per contender: images/second (median and the lowest-highest
round), how many times faster ours is, graph/model build time and first
call, resident memory, and the achieved GFLOP/s as a fraction of the
matmul's. `--profile` adds the op-type breakdown of one traced step of ours.

All contenders see the same random images and labels, already resident, the
same thread settings, SGD with momentum, and no weight decay (Keras
Applications models have none), so they do the same work per image. The
serving contenders (frozen, folded, TFLite, ONNX Runtime, OpenVINO) are
fed the batch from numpy on every call, as a server is. torchvision's
ResNets have more multiply-adds per image than ours, so the report gives
ratios per multiply-add (GFLOP/s) beside those per image.

A peer whose package is missing is skipped with a note; PyTorch has to be
loaded before TensorFlow (`benchmarks.torch_first`), which the command
line does when --peers names torch.
"""

import os
import sys

from absl import app
from absl import flags

from slim_resnets import console

_VARIANT_PARTS = ('xla', 'float16', 'bfloat16', 'nchw')
PEERS = ('keras', 'keras_nets', 'tf_slim', 'torch', 'onnxruntime', 'openvino')
# Peers that run our exported graph outside TensorFlow (inference only).
_SERVING_PEERS = ('onnxruntime', 'openvino')
# Serving our net through TensorFlow Lite (inference only), by quantization.
_TFLITE_VARIANTS = {'tflite': 'float32', 'tflite_dynamic': 'dynamic_range',
                    'tflite_int8': 'full_integer'}
# Our exported graph in a Session (inference only): frozen, or also with
# its batch norms folded.
_GRAPH_VARIANTS = {'frozen': False, 'folded': True}
_SERVING_VARIANTS = tuple(_TFLITE_VARIANTS) + tuple(_GRAPH_VARIANTS)
_TORCH_LAYOUTS = ('nchw', 'channels_last')

flags.DEFINE_string('model', 'resnet_v2_50', 'Network from nets_factory.')
flags.DEFINE_list('mode', ['train'], 'train and/or infer.')
flags.DEFINE_list('batch_size', ['16'], 'Batch sizes, each measured apart.')
flags.DEFINE_integer('image_size', None, 'Input size; the model\'s default '
                     'when unset.')
flags.DEFINE_integer('num_classes', 1000, 'Logits.')
flags.DEFINE_list('peers', ['keras', 'keras_nets', 'tf_slim'],
                  'Peers to measure: keras (Keras Applications), keras_nets '
                  '(our net as a Keras 3 model), tf_slim; optional, with '
                  "pip install 'slim-resnets[bench]': torch (torchvision), "
                  'and for inference onnxruntime and openvino (our exported '
                  'graph).')
flags.DEFINE_enum('keras_jit', 'both', ['both', 'on', 'off'],
                  'Keras peers with jit_compile on, off or both.')
flags.DEFINE_list('torch_layouts', ['nchw', 'channels_last'],
                  'Memory layouts of the torch peer.')
flags.DEFINE_enum('torch_compile', 'off', ['both', 'on', 'off'],
                  'torch peer through torch.compile, eager, or both.')
flags.DEFINE_enum('precision', 'float32', ['float32', 'float16', 'bfloat16'],
                  'Compute precision of every contender.')
flags.DEFINE_enum('data_format', 'NHWC', ['NHWC', 'NCHW'],
                  'Layout of our network (peers stay NHWC).')
flags.DEFINE_bool('xla', False, 'Compile our network with XLA.')
flags.DEFINE_list('variants', [],
                  'Extra contenders of ours on top of the base settings, '
                  'each a "+"-joined set of: %s (e.g. xla,bfloat16,'
                  'xla+bfloat16); or, for inference only, our exported graph '
                  'served by a Session or TensorFlow Lite: %s.'
                  % (', '.join(_VARIANT_PARTS), ', '.join(_SERVING_VARIANTS)))
flags.DEFINE_integer('rounds', 5, 'Interleaved rounds.')
flags.DEFINE_float('round_seconds', 4.0, 'Target seconds per contender per '
                   'round (sets the number of calls per round).')
flags.DEFINE_integer('warmup', 2, 'Calls before timing (the first one is '
                     'reported apart).')
flags.DEFINE_integer('intra_op_threads', 0, '0: TensorFlow\'s choice.')
flags.DEFINE_integer('inter_op_threads', 0, '0: TensorFlow\'s choice.')
flags.DEFINE_integer('matmul_size', 2048, 'n of the n x n float32 matmul '
                     'ceiling; 0 to skip it.')
flags.DEFINE_bool('profile', False, 'Print the op-type breakdown of one '
                  'traced call of ours.')
flags.DEFINE_string('json_out', None, 'Also write the results here (JSON).')
FLAGS = flags.FLAGS


def parse_variant(text):
  """'xla+bfloat16' -> {'xla': True, 'precision': 'bfloat16'}.

  'tflite', 'tflite_dynamic' and 'tflite_int8' stand alone and give
  {'tflite': quantization}; 'frozen' and 'folded' give {'fold': bool}.
  """
  parts = [p.strip() for p in text.split('+') if p.strip()]
  if not parts:
    raise ValueError('variants entries must not be empty; got %r.' % text)
  if any(part in _SERVING_VARIANTS for part in parts):
    if len(parts) > 1:
      raise ValueError('variants: %s combine with nothing; got %r.'
                       % (', '.join(_SERVING_VARIANTS), text))
    if parts[0] in _GRAPH_VARIANTS:
      return {'fold': _GRAPH_VARIANTS[parts[0]]}
    return {'tflite': _TFLITE_VARIANTS[parts[0]]}
  settings = {}
  for part in parts:
    if part not in _VARIANT_PARTS:
      raise ValueError('variants: %r is not one of %s (join several with '
                       '"+").' % (part, ', '.join(_VARIANT_PARTS +
                                                  _SERVING_VARIANTS)))
    if part == 'xla':
      settings['xla'] = True
    elif part == 'nchw':
      settings['data_format'] = 'NCHW'
    else:
      if 'precision' in settings:
        raise ValueError('variants: %r names two precisions.' % text)
      settings['precision'] = part
  return settings


def skipped_peers(model, mode, settings):
  """{peer: why} for the requested peers this process cannot measure."""
  from benchmarks import contenders as lib
  skipped = {}
  for peer in settings['peers']:
    unavailable = lib.peer_unavailable(peer, model)
    if unavailable:
      skipped[peer] = unavailable
    elif peer in _SERVING_PEERS and mode != 'infer':
      skipped[peer] = 'it serves inference only'
    elif (peer in ('torch',) + _SERVING_PEERS and
          settings['precision'] != 'float32'):
      skipped[peer] = 'it is measured in float32 only'
  return skipped


def _contenders(model, mode, batch_size, image_size, num_classes, settings,
                skipped):
  """The contenders of one configuration, ours first.

  `skipped`: `skipped_peers` of the configuration, left out.
  """
  from benchmarks import contenders as lib
  from slim_resnets.training import performance
  session_config = performance.session_config(settings['intra_op_threads'],
                                              settings['inter_op_threads'])
  threads = settings['intra_op_threads'] or os.cpu_count()
  base = {'precision': settings['precision'],
          'data_format': settings['data_format'], 'xla': settings['xla']}

  def ours(name, overrides):
    options = dict(base, **overrides)
    contender = lib.SlimGraphContender(
        name, lib.ours_net_fn(model, num_classes, options['precision'],
                              options['data_format']),
        mode, batch_size, image_size, num_classes,
        data_format=options['data_format'], xla=options['xla'],
        session_config=session_config)
    contender.tf_serving = (mode == 'infer' and
                            options['precision'] == 'float32')
    return contender

  result = [ours('ours', {})]
  for variant in settings['variants']:
    options = parse_variant(variant)
    if 'tflite' not in options and 'fold' not in options:
      result.append(ours('ours+' + variant, options))
    elif mode != 'infer':
      continue
    elif 'fold' in options:
      contender = lib.FrozenGraphContender(
          'ours+' + variant, model, batch_size, image_size, num_classes,
          fold=options['fold'], session_config=session_config)
      contender.tf_serving = True
      result.append(contender)
    else:
      contender = lib.TFLiteContender(
          'ours+' + variant, model, batch_size, image_size, num_classes,
          options['tflite'], num_threads=threads)
      contender.tf_serving = options['tflite'] == 'float32'
      result.append(contender)
  if 'tf_slim' in settings['peers'] and model in lib.SLIM_ORACLE:
    result.append(lib.SlimGraphContender(
        'tf_slim', lib.slim_oracle_net_fn(model, num_classes,
                                          settings['precision']),
        mode, batch_size, image_size, num_classes,
        session_config=session_config))
  keras_peers = []
  if 'keras_nets' in settings['peers']:
    keras_peers.append(('keras_nets', lib.keras_nets_model(model)))
  if 'keras' in settings['peers'] and model in lib.KERAS_APPLICATIONS:
    keras_peers.append(
        ('keras', lib.keras_application(lib.KERAS_APPLICATIONS[model])))
  jits = {'both': (False, True), 'on': (True,), 'off': (False,)}
  for kind, make_model in keras_peers:
    for jit in jits[settings['keras_jit']]:
      result.append(lib.KerasContender(
          kind + '+jit' if jit else kind, make_model, mode, batch_size,
          image_size, num_classes, jit_compile=jit,
          precision=settings['precision'], kind=kind))
  if 'torch' in settings['peers'] and 'torch' not in skipped:
    for layout in settings['torch_layouts']:
      for compiled in jits[settings['torch_compile']]:
        name = 'torch' + ('+channels_last' if layout == 'channels_last'
                          else '') + ('+compile' if compiled else '')
        result.append(lib.TorchContender(
            name, lib.TORCH_PEERS[model], mode, batch_size, image_size,
            num_classes, channels_last=layout == 'channels_last',
            compile_model=compiled, num_threads=threads))
  serving = {'onnxruntime': lib.OnnxRuntimeContender,
             'openvino': lib.OpenVINOContender}
  for peer in _SERVING_PEERS:
    if peer in settings['peers'] and peer not in skipped:
      result.append(serving[peer](peer, model, batch_size, image_size,
                                  num_classes, num_threads=threads))
  if settings['matmul_size']:
    result.append(lib.MatmulContender(n=settings['matmul_size'],
                                      session_config=session_config))
  return result


def measure(model, mode, batch_size, image_size, num_classes, settings,
            log=print):
  """Builds, warms up and times the contenders of one configuration.

  Returns:
    The configuration's results dict (see `summarize_config`).
  """
  from benchmarks import contenders as lib
  from benchmarks import profile
  from benchmarks import timing
  calls, breakdown = {}, None
  skipped = skipped_peers(model, mode, settings)
  for peer, why in skipped.items():
    log('skipping peer %s: %s' % (peer, why))
  with lib.closing_all(_contenders(model, mode, batch_size, image_size,
                                   num_classes, settings,
                                   skipped)) as everything:
    for contender in everything:
      log('building %s ...' % contender.name)
      last = contender.build(settings['warmup'])
      # Every contender is timed for about round_seconds per round,
      # whatever its speed.
      calls[contender.name] = max(
          1, int(round(settings['round_seconds'] / max(last, 1e-6))))
      log('  built in %.1f s, first call %.2f s, then %.3f s per call; '
          '%d calls per round' % (contender.build_seconds,
                                  contender.first_call_seconds, last,
                                  calls[contender.name]))
    measurements = timing.interleave(
        [(c.name, c) for c in everything], settings['rounds'], calls)
    if settings['profile']:
      breakdown = profile.op_breakdown(everything[0].run_traced())
  return summarize_config(model, mode, batch_size, image_size, settings,
                          everything, measurements, breakdown, skipped)


def _stats_dict(s):
  return {'median': s.median, 'low': s.low, 'high': s.high}


def summarize_config(model, mode, batch_size, image_size, settings,
                     contenders, measurements, breakdown=None,
                     skipped=None):
  """The results of one configuration as a JSON-ready dict.

  Rates are computed per round, then summarized, so 'low' and 'high' are
  real rounds. `ours_speedup` is ours' median images/s over the
  contender's; `fraction_of_matmul` the contender's median GFLOP/s over the
  matmul's median in the same run. The summary names the fastest of each
  peer kind with ours' ratio to it per image and per multiply-add, and for
  inference the fastest float32 TensorFlow serving path of ours (graph,
  frozen, folded, TFLite) against Keras with XLA and against the fastest of
  ONNX Runtime and OpenVINO.
  """
  from benchmarks import timing
  rows, matmul = [], None
  for contender in contenders:
    seconds = measurements[contender.name].seconds_per_call
    row = {'name': contender.name, 'kind': contender.kind,
           'seconds_per_call': _stats_dict(seconds),
           'build_seconds': contender.build_seconds,
           'first_call_seconds': contender.first_call_seconds,
           'peak_rss_delta_mib': (None if contender.peak_rss_delta is None
                                  else contender.peak_rss_delta / 2.0**20),
           'peak_rss_mib': measurements[contender.name].peak_rss / 2.0**20,
           'images_per_second': None, 'gflops': None,
           'tf_serving': getattr(contender, 'tf_serving', False)}
    if contender.images_per_call:
      row['images_per_second'] = _stats_dict(timing.stats(
          contender.images_per_call / s for s in seconds.samples))
    if contender.flops_per_call:
      row['gflops'] = _stats_dict(timing.stats(
          contender.flops_per_call / s / 1e9 for s in seconds.samples))
      if contender.images_per_call:
        row['gflop_per_image'] = (contender.flops_per_call / 1e9 /
                                  contender.images_per_call)
    if contender.kind == 'matmul':
      matmul = row
    rows.append(row)
  ours = rows[0]['images_per_second']['median']
  for row in rows:
    if row['images_per_second']:
      row['ours_speedup'] = ours / row['images_per_second']['median']
    if matmul and row['gflops'] and row is not matmul:
      row['fraction_of_matmul'] = (row['gflops']['median'] /
                                   matmul['gflops']['median'])
  summary = {}

  def rate(row):
    return row['images_per_second']['median']

  def per_mac(row, other):
    if row['gflops'] and other['gflops']:
      return row['gflops']['median'] / other['gflops']['median']
    return None

  for kind in ('keras', 'keras_nets', 'torch') + _SERVING_PEERS:
    kind_rows = [r for r in rows if r['kind'] == kind]
    if kind_rows:
      best = max(kind_rows, key=rate)
      summary[kind + '_best'] = best['name']
      summary['ours_vs_%s_best' % kind] = best['ours_speedup']
      if kind == 'torch':
        summary['ours_vs_torch_best_per_mac'] = per_mac(rows[0], best)
  serving = [r for r in rows if r['tf_serving']]
  if serving:
    best = max(serving, key=rate)
    summary['best_tf_serving'] = best['name']
    for row in rows:
      if row['name'] == 'keras+jit':
        summary['best_tf_serving_vs_keras_jit'] = rate(best) / rate(row)
    runtimes = [r for r in rows if r['kind'] in _SERVING_PEERS]
    if runtimes:
      fastest = max(runtimes, key=rate)
      summary['best_runtime'] = fastest['name']
      summary['best_tf_serving_vs_best_runtime'] = rate(best) / rate(fastest)
  if 'keras_best' in summary and 'keras_nets_best' in summary:
    # How our Keras form compares with Keras Applications, both at their
    # best (jit or not) in this run.
    summary['keras_nets_vs_keras_best'] = (
        summary['ours_vs_keras_best'] / summary['ours_vs_keras_nets_best'])
  for row in rows:
    if row['name'] == 'tf_slim':
      summary['ours_vs_tf_slim'] = row['ours_speedup']
  if 'fraction_of_matmul' in rows[0]:
    summary['ours_fraction_of_matmul'] = rows[0]['fraction_of_matmul']
  result = {'model': model, 'mode': mode, 'batch_size': batch_size,
            'image_size': image_size, 'precision': settings['precision'],
            'data_format': settings['data_format'], 'xla': settings['xla'],
            'intra_op_threads': settings['intra_op_threads'],
            'inter_op_threads': settings['inter_op_threads'],
            'rounds': settings['rounds'], 'contenders': rows,
            'summary': summary, 'skipped_peers': skipped or {}}
  if breakdown is not None:
    result['profile'] = [row._asdict() for row in breakdown]
  return result


def _fmt_range(stats, fmt):
  if not stats:
    return '-'
  return (fmt + ' [' + fmt + '-' + fmt + ']') % (
      stats['median'], stats['low'], stats['high'])


def format_config(result):
  """A configuration's results as a fixed-width text table."""
  head = ('%s %s, batch %d, %dx%d, %s, %s%s, threads intra %d inter %d, '
          '%d rounds' % (result['model'], result['mode'],
                         result['batch_size'], result['image_size'],
                         result['image_size'], result['precision'],
                         result['data_format'],
                         ', xla' if result['xla'] else '',
                         result['intra_op_threads'],
                         result['inter_op_threads'], result['rounds']))
  columns = ('%-27s %-24s %8s %-24s %8s %8s %9s %9s %9s'
             % ('contender', 'images/s [low-high]', 'ours/x',
                'GFLOP/s [low-high]', 'matmul%', 'build s', 'first s',
                'peak +MiB', 'peak MiB'))
  lines = [head, columns, '-' * len(columns)]
  for row in result['contenders']:
    lines.append('%-27s %-24s %8s %-24s %8s %8.1f %9.2f %9s %9.0f' % (
        row['name'], _fmt_range(row['images_per_second'], '%.1f'),
        '%.2fx' % row['ours_speedup'] if 'ours_speedup' in row else '-',
        _fmt_range(row['gflops'], '%.0f'),
        '%.0f%%' % (100 * row['fraction_of_matmul'])
        if 'fraction_of_matmul' in row else '-',
        row['build_seconds'], row['first_call_seconds'],
        '-' if row['peak_rss_delta_mib'] is None
        else '%.0f' % row['peak_rss_delta_mib'],
        row['peak_rss_mib']))
  summary = result['summary']
  notes = []
  if 'ours_vs_keras_best' in summary:
    notes.append('%.2fx the fastest Keras (%s)'
                 % (summary['ours_vs_keras_best'], summary['keras_best']))
  if 'ours_vs_keras_nets_best' in summary:
    notes.append('%.2fx our Keras form (%s)'
                 % (summary['ours_vs_keras_nets_best'],
                    summary['keras_nets_best']))
  if 'keras_nets_vs_keras_best' in summary:
    notes.append('which is %.2fx the fastest Keras'
                 % summary['keras_nets_vs_keras_best'])
  if 'ours_vs_tf_slim' in summary:
    notes.append('%.2fx tf_slim' % summary['ours_vs_tf_slim'])
  if 'ours_vs_torch_best' in summary:
    notes.append('%.2fx the fastest PyTorch (%s; %.2fx per multiply-add)'
                 % (summary['ours_vs_torch_best'], summary['torch_best'],
                    summary['ours_vs_torch_best_per_mac']))
  if 'ours_fraction_of_matmul' in summary:
    notes.append('at %.0f%% of the matmul rate'
                 % (100 * summary['ours_fraction_of_matmul']))
  if notes:
    lines.append('ours is ' + ', '.join(notes) + '.')
  if 'best_tf_serving' in summary:
    against = []
    if 'best_tf_serving_vs_keras_jit' in summary:
      against.append('%.2fx keras+jit'
                     % summary['best_tf_serving_vs_keras_jit'])
    if 'best_runtime' in summary:
      against.append('%.2fx the fastest other runtime (%s)'
                     % (summary['best_tf_serving_vs_best_runtime'],
                        summary['best_runtime']))
    if against:
      lines.append('Our fastest float32 TensorFlow serving path (%s) is %s.'
                   % (summary['best_tf_serving'], ', '.join(against)))
  for peer, why in sorted(result.get('skipped_peers', {}).items()):
    lines.append('Skipped peer %s: %s.' % (peer, why))
  if result.get('profile'):
    from benchmarks import profile
    lines.append('')
    lines.append('op breakdown of one traced call of ours:')
    lines.append(profile.format_breakdown(
        [profile.OpTime(**row) for row in result['profile']]))
  return '\n'.join(lines)


def make_settings(model='resnet_v2_50', modes=('train',), batch_sizes=(16,),
                  image_size=None, num_classes=1000,
                  peers=('keras', 'keras_nets', 'tf_slim'), keras_jit='both',
                  precision='float32', data_format='NHWC', xla=False,
                  variants=(), rounds=5, round_seconds=4.0, warmup=2,
                  intra_op_threads=0, inter_op_threads=0, matmul_size=2048,
                  profile=False, torch_layouts=_TORCH_LAYOUTS,
                  torch_compile='off'):
  """The settings dict `run` takes, every argument checked.

  Arguments are the flags of the same names (`modes` and `batch_sizes` are
  --mode and --batch_size); see the flag help.
  """
  from benchmarks import contenders as lib
  from nets import nets_factory
  from resnet_utils import checks
  from resnet_utils import layout
  from resnet_utils import precision as precision_lib
  from slim_resnets.training import performance
  nets_factory.check_name(model, 'model_name')
  for mode in modes:
    lib.check_mode(mode)
  batch_sizes = checks.positive_ints(batch_sizes, 'batch_size')
  for peer in peers:
    if peer not in PEERS:
      raise ValueError('peers must be a subset of %s; got %r.'
                       % (', '.join(PEERS), peer))
  for argument, value in (('keras_jit', keras_jit),
                          ('torch_compile', torch_compile)):
    checks.check_choice(value, ('both', 'on', 'off'), argument)
  checks.check_choices(torch_layouts, _TORCH_LAYOUTS, 'torch_layouts')
  precision_lib.check_precision(precision)
  layout.check_data_format(data_format)
  for variant in variants:
    parse_variant(variant)
  checks.check_int(rounds, 'rounds')
  checks.check_positive_number(round_seconds, 'round_seconds')
  checks.check_int(warmup, 'warmup')
  performance.check_threads(intra_op_threads, 'intra_op_threads')
  performance.check_threads(inter_op_threads, 'inter_op_threads')
  checks.check_int(matmul_size, 'matmul_size', minimum=0,
                   note='(0 skips the matmul)')
  image_size = image_size or nets_factory.networks_map[model].default_image_size
  checks.check_int(image_size, 'image_size', allow_none=True, note='(pixels)')
  return {'model': model, 'modes': list(modes), 'batch_sizes': batch_sizes,
          'image_size': image_size, 'num_classes': num_classes,
          'peers': list(peers), 'keras_jit': keras_jit,
          'precision': precision, 'data_format': data_format, 'xla': xla,
          'variants': list(variants), 'rounds': rounds,
          'round_seconds': round_seconds, 'warmup': warmup,
          'intra_op_threads': intra_op_threads,
          'inter_op_threads': inter_op_threads, 'matmul_size': matmul_size,
          'profile': profile, 'torch_layouts': list(torch_layouts),
          'torch_compile': torch_compile}


def settings_from_flags():
  """`make_settings` of the command-line flags."""
  return make_settings(
      FLAGS.model, FLAGS.mode, FLAGS.batch_size, FLAGS.image_size,
      FLAGS.num_classes, FLAGS.peers, FLAGS.keras_jit, FLAGS.precision,
      FLAGS.data_format, FLAGS.xla, FLAGS.variants, FLAGS.rounds,
      FLAGS.round_seconds, FLAGS.warmup, FLAGS.intra_op_threads,
      FLAGS.inter_op_threads, FLAGS.matmul_size, FLAGS.profile,
      FLAGS.torch_layouts, FLAGS.torch_compile)


def run(settings, log=print):
  """Measures every (mode, batch size) of `settings`; returns the report."""
  import tensorflow as tf2

  from benchmarks import contenders as lib
  from benchmarks import timing
  from slim_resnets.training import performance
  # Keras runs eagerly: its thread pools are set once, before any op runs.
  if settings['intra_op_threads']:
    tf2.config.threading.set_intra_op_parallelism_threads(
        settings['intra_op_threads'])
  if settings['inter_op_threads']:
    tf2.config.threading.set_inter_op_parallelism_threads(
        settings['inter_op_threads'])
  lib.fix_thread_pools(performance.session_config(
      settings['intra_op_threads'], settings['inter_op_threads']))
  report = {'machine': timing.machine_info(), 'command': ' '.join(sys.argv),
            'configs': []}
  for mode in settings['modes']:
    for batch_size in settings['batch_sizes']:
      result = measure(settings['model'], mode, batch_size,
                       settings['image_size'], settings['num_classes'],
                       settings, log)
      report['configs'].append(result)
      log('')
      log(format_config(result))
      log('')
  return report


def main(argv):
  del argv  # console.parse_flags refuses positional arguments
  from slim_resnets.training import cli

  def go():
    settings = settings_from_flags()
    report = run(settings)
    from benchmarks import timing
    timing.write_report(report, FLAGS.json_out)
    return report

  cli.run_main(go, verbosity='WARN')


if __name__ == '__main__':
  from benchmarks import torch_first
  torch_first.load_if_asked(sys.argv, 'peers', default=False)
  app.run(main, flags_parser=console.parse_flags)
