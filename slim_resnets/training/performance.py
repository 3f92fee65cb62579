"""Speed settings shared by training, evaluation and the benchmarks.

Two knobs that change how fast a graph runs but never what it computes:

* Threads. TensorFlow runs each op on a pool of `intra_op` threads and up to
  `inter_op` independent ops at once. 0 lets TensorFlow pick (one thread per
  core for both). On a small CPU, two ops running concurrently each with
  every core oversubscribes the cores; on a big one, capping the threads of
  a job that shares the machine keeps it from starving its neighbours.
* XLA. `xla_scope(True)` marks every op built inside it for compilation by
  XLA, which fuses element-wise work into the surrounding kernels and
  removes per-op dispatch. The marking is explicit (TensorFlow's `jit_scope`)
  rather than the session-wide auto-clustering, so it behaves the same on
  CPUs and GPUs and covers exactly the model (and, for training, its
  gradients and updates), never the input pipeline. Whether it is faster
  depends on the device: BENCHMARKS.md has the measurements.
"""

import contextlib

import tensorflow.compat.v1 as tf

from resnet_utils import checks


def check_threads(value, argument):
  """Thread counts are integers >= 0 (0: TensorFlow's choice)."""
  checks.check_int(value, argument, minimum=0,
                   note='(0 lets TensorFlow choose)')
  return value


def session_config(intra_op_threads=0, inter_op_threads=0):
  """A `tf.ConfigProto` with the given thread pools (0: TensorFlow's choice)."""
  check_threads(intra_op_threads, 'intra_op_threads')
  check_threads(inter_op_threads, 'inter_op_threads')
  return tf.ConfigProto(intra_op_parallelism_threads=intra_op_threads,
                        inter_op_parallelism_threads=inter_op_threads,
                        allow_soft_placement=True)


def xla_scope(enabled):
  """A context in which built ops are compiled with XLA when `enabled`."""
  if not enabled:
    return contextlib.nullcontext()
  return tf.xla.experimental.jit_scope(compile_ops=True,
                                       separate_compiled_gradients=False)


def is_xla_compiled(op):
  """Whether `op` was built inside an active `xla_scope`."""
  try:
    return bool(op.get_attr('_XlaCompile'))
  except ValueError:
    return False
