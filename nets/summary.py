"""A layer-by-layer table of a network: shapes, parameters, multiply-adds.

    python -m nets.summary resnet_v2_50 [--image_size 224]
        [--num_classes 1000] [--output_stride 16]

or from Python, `summarize('resnet_v2_50')` returns the rows.

One row per end point, in the order the network creates them. A row's
parameters are the trainable variables that belong to that end point and to
no deeper one (a unit's row holds its own `preact` batch norm, say, while its
convolutions have rows of their own); variables that belong to no end point
(V2's `postnorm`) get a row named after their scope. Multiply-adds count the
convolutions and matrix products, per image, assigned to rows the same way.
So the parameter column sums to exactly the trainable variables of the net.
"""

import collections
import sys

import numpy as np
import tensorflow.compat.v1 as tf

from nets import nets_factory
from resnet_utils import graph_building

Row = collections.namedtuple(
    'Row', ['name', 'shape', 'params', 'total_params', 'mult_adds'])
Summary = collections.namedtuple(
    'Summary', ['model_name', 'image_size', 'rows', 'trainable_params',
                'non_trainable_params', 'mult_adds', 'variables'])

COUNTED_OPS = ('Conv2D', 'DepthwiseConv2dNative', 'MatMul')


def op_mult_adds(op):
  """Multiply-adds of one conv/matmul op for its (batch-1) output."""
  output = op.outputs[0].get_shape()
  if not output.is_fully_defined():
    return 0
  out_elements = int(np.prod(output.as_list()))
  weights = op.inputs[1].get_shape().as_list()
  if op.type == 'Conv2D':
    per_output = weights[0] * weights[1] * weights[2]  # kh * kw * c_in
  elif op.type == 'DepthwiseConv2dNative':
    per_output = weights[0] * weights[1]
  else:  # MatMul: [n, k] x [k, m]
    per_output = weights[0]
  return out_elements * per_output


def _owner(name, keys):
  """The longest end point key that `name` lies under, else its scope.

  `keys` is a set: the keys `name` can lie under are its enclosing scopes,
  so those are looked up, innermost first (a deep net has thousands of ops
  and hundreds of end points; comparing every pair took longer than
  building the net).
  """
  scope = name
  while '/' in scope:
    scope = scope.rsplit('/', 1)[0]
    if scope in keys:
      return scope
  return name.rsplit('/', 1)[0]


def table_from_graph(graph, end_points):
  """Rows for an already built network (batch size 1 gives per-image counts).

  Args:
    graph: the graph holding the network and nothing else trainable.
    end_points: the dict returned by the builder.

  Returns:
    (rows, trainable_params, non_trainable_params, mult_adds).
  """
  keys = set(end_points)
  op_index = {op.name: i for i, op in enumerate(graph.get_operations())}
  order = {key: op_index[t.op.name] for key, t in end_points.items()}
  shapes = {key: t.get_shape().as_list() for key, t in end_points.items()}
  params = collections.Counter()
  mult_adds = collections.Counter()
  with graph.as_default():
    trainable = tf.trainable_variables()
    trainable_names = {v.op.name for v in trainable}
    non_trainable = sum(int(np.prod(v.get_shape().as_list()))
                        for v in tf.global_variables()
                        if v.op.name not in trainable_names)
  for var in trainable:
    owner = _owner(var.op.name, keys)
    params[owner] += int(np.prod(var.get_shape().as_list()))
    order.setdefault(owner, op_index[var.op.name])
  for op in graph.get_operations():
    if op.type in COUNTED_OPS:
      owner = _owner(op.name, keys)
      mult_adds[owner] += op_mult_adds(op)
      order.setdefault(owner, op_index[op.name])
  rows, running = [], 0
  for name in sorted(order, key=order.get):
    running += params[name]
    rows.append(Row(name, shapes.get(name), params[name], running,
                    mult_adds[name]))
  return rows, running, non_trainable, sum(mult_adds.values())


Built = collections.namedtuple(
    'Built', ['model_name', 'image_size', 'graph', 'images', 'net',
              'end_points'])


def build(model_name, image_size=None, num_classes=None, output_stride=None,
          global_pool=True):
  """Builds `model_name` in a graph of its own on a batch of one image.

  What `summarize` measures, kept whole (`Built`: the graph, the input
  placeholder, the output and the end points) for callers that also want to
  look at the graph itself.

  Args:
    model_name: a name from `nets_factory.networks_map`.
    image_size: input height and width; the model's default when None.
    num_classes: logits; the model's reference class count when None.
    output_stride: passed to the builder (None for the nominal stride).
    global_pool: passed to the builder; False for a dense summary.
  """
  info = nets_factory.get_model_info(model_name)
  image_size = image_size or info.default_image_size
  num_classes = info.num_classes if num_classes is None else num_classes
  graph = tf.Graph()
  with graph.as_default():
    images = tf.placeholder(tf.float32, [1, image_size, image_size, 3])
    network_fn = nets_factory.get_network_fn(model_name, num_classes)
    kwargs = {'global_pool': global_pool}
    if output_stride is not None:
      kwargs['output_stride'] = output_stride
    if num_classes and not global_pool:
      kwargs['spatial_squeeze'] = False
    with graph_building.fast_graph_building():
      net, end_points = network_fn(images, **kwargs)
  return Built(model_name, image_size, graph, images, net, end_points)


def summary_of(built):
  """The `Summary` of a `Built` net."""
  with built.graph.as_default():
    variables = [(v.op.name, v.get_shape().as_list(), v.trainable)
                 for v in tf.global_variables()]
  rows, trainable, non_trainable, mult_adds = table_from_graph(
      built.graph, built.end_points)
  return Summary(built.model_name, built.image_size, rows, trainable,
                 non_trainable, mult_adds, variables)


def summarize(model_name, image_size=None, num_classes=None,
              output_stride=None, global_pool=True):
  """Builds `model_name` on a batch of one image and returns its `Summary`.

  The summary also lists the variables created, as (name, shape,
  trainable) in creation order. Arguments as for `build`.
  """
  return summary_of(build(model_name, image_size, num_classes, output_stride,
                          global_pool))


def format_summary(summary):
  """The summary as a fixed-width text table."""
  width = max(len(r.name) for r in summary.rows)
  header = '%-*s  %-18s %12s %13s %15s' % (width, 'end point', 'output shape',
                                          'params', 'total params',
                                          'mult-adds')
  lines = ['%s at %dx%d' % (summary.model_name, summary.image_size,
                            summary.image_size), header, '-' * len(header)]
  for r in summary.rows:
    shape = 'x'.join('?' if d is None else str(d) for d in (r.shape or [])[1:])
    lines.append('%-*s  %-18s %12s %13s %15s' % (
        width, r.name, shape or '-', '{:,}'.format(r.params),
        '{:,}'.format(r.total_params), '{:,}'.format(r.mult_adds)))
  lines.append('-' * len(header))
  lines.append('trainable params:     {:,}'.format(summary.trainable_params))
  lines.append('non-trainable params: {:,}'.format(
      summary.non_trainable_params))
  lines.append('total params:         {:,}'.format(
      summary.trainable_params + summary.non_trainable_params))
  lines.append('mult-adds per image:  {:,} ({:.2f} G)'.format(
      summary.mult_adds, summary.mult_adds / 1e9))
  return '\n'.join(lines)


def main(argv=None):
  # Imported here so that `import nets.summary` does not define flags.
  from absl import app  # pylint: disable=g-import-not-at-top
  from absl import flags  # pylint: disable=g-import-not-at-top

  flags.DEFINE_integer('image_size', None,
                       'Input size; model default if unset.')
  flags.DEFINE_integer('num_classes', None,
                       'Logits; the model\'s reference class count if unset.')
  flags.DEFINE_integer('output_stride', None, 'Output stride (dense nets).')
  flags.DEFINE_bool('global_pool', True, 'Global average pooling.')

  def run(args):
    if len(args) != 2:
      raise app.UsageError(
          'usage: python -m nets.summary MODEL_NAME [--image_size N] '
          '[--num_classes N] [--output_stride N]; MODEL_NAME is one of %s'
          % ', '.join(sorted(nets_factory.networks_map)))
    try:
      summary = summarize(args[1], flags.FLAGS.image_size,
                          flags.FLAGS.num_classes, flags.FLAGS.output_stride,
                          flags.FLAGS.global_pool)
    except ValueError as e:
      print('error: %s' % e, file=sys.stderr)
      return 2
    print(format_summary(summary))
    return 0

  app.run(run, argv=argv)


if __name__ == '__main__':
  main()
