"""Where a step's time goes: TensorFlow's own trace, summed per op type.

A Session run with `trace_level=FULL_TRACE` returns, in its RunMetadata,
the start and duration of every kernel it executed. Summing them per op
type shows what bounds a network: for ResNets on a CPU, the convolutions
and their two gradients, and how much is left for everything else. The
op types are the kernels that actually ran, after TensorFlow's graph
rewrites (on x86, oneDNN's `_MklNative*` convolutions and fused batch
norms), which is exactly what a profile should show.

Kernel times overlap when ops run concurrently (inter-op parallelism), so
the shares are of summed kernel time, not of wall-clock time.
"""

import collections

OpTime = collections.namedtuple('OpTime', ['op_type', 'milliseconds', 'share',
                                           'count'])


def _op_type(node_stats):
  # timeline_label reads 'name = OpType(inputs)' for executed kernels.
  label = node_stats.timeline_label
  if ' = ' in label:
    return label.split(' = ', 1)[1].split('(', 1)[0]
  return node_stats.node_name.split(':')[0]


def op_breakdown(run_metadata):
  """[OpTime] per op type, most expensive first, from one traced run."""
  micros = collections.Counter()
  counts = collections.Counter()
  for device in run_metadata.step_stats.dev_stats:
    for node in device.node_stats:
      if node.node_name in ('_SOURCE', '_SINK'):
        continue
      op_type = _op_type(node)
      micros[op_type] += node.op_end_rel_micros
      counts[op_type] += 1
  total = float(sum(micros.values())) or 1.0
  return [OpTime(op_type, us / 1000.0, us / total, counts[op_type])
          for op_type, us in micros.most_common()]


def is_convolution(op_type):
  """Whether `op_type` is a convolution kernel or one of its gradients."""
  return 'Conv2D' in op_type


def format_breakdown(breakdown, top=12):
  """Fixed-width text of the `top` op types plus the convolutions' share."""
  lines = ['%-36s %10s %7s %6s' % ('op type', 'ms', 'share', 'count')]
  for row in breakdown[:top]:
    lines.append('%-36s %10.1f %6.1f%% %6d' % (row.op_type, row.milliseconds,
                                              100 * row.share, row.count))
  conv = sum(r.share for r in breakdown if is_convolution(r.op_type))
  lines.append('convolutions and their gradients: %.1f%% of kernel time'
               % (100 * conv))
  return '\n'.join(lines)
