"""Faster construction of deep graphs, for programs that only build graphs.

Why building a deep net is slow
-------------------------------
Every weight a slim layer creates goes through tf-keras's legacy layer code,
which first collects *all* global variables of the graph into a Python set
(to decide whether the new weight still needs its regularizer). Putting a
variable into a set hashes it, and with TensorFlow 2's tensor equality on
(the default) each hash first asks TensorFlow whether it executes eagerly
outside functions: a walk over its context stacks, tens of microseconds. So
the n-th weight costs n such walks and a net's construction grows with the
square of its variable count, and the deep nets spend most of their build
in those hashes.

Why switching equality off changes nothing here
-----------------------------------------------
In a graph (not eager) context, variables and tensors hash and compare by
identity whether TensorFlow's tensor equality is on or off: the flag only
matters when code executes eagerly outside functions. So inside a
`with graph.as_default():` block the flag can be off without changing any
result, and each hash is then a plain `id()`.

The catch is that the flag is process-wide, not per thread: while the block
runs, *another* thread executing eagerly would see tensors compare by
identity. Hence an explicit context manager for graph-only programs (the
scripts, `nets.summary`, tests), never switched on behind a builder's back.
"""

import contextlib

import tensorflow.compat.v1 as tf
from tensorflow.python.framework import ops
from tensorflow.python.framework import tensor as tensor_lib


@contextlib.contextmanager
def fast_graph_building():
  """Context: identity hashing while this thread builds a graph.

  Enter it inside `with graph.as_default():`. Where TensorFlow executes
  eagerly outside functions (no graph is the default) it does nothing, as
  equality matters there. The previous setting is restored on exit, also
  when the block raises.

  Use it only where no other thread runs eager TensorFlow code meanwhile
  (see the module docstring).

  Yields:
    True when identity hashing is in effect, False when nothing changed.
  """
  previous = tensor_lib.Tensor._USE_EQUALITY  # pylint: disable=protected-access
  if not previous or ops.executing_eagerly_outside_functions():
    yield False
    return
  tf.disable_tensor_equality()
  try:
    yield True
  finally:
    tf.enable_tensor_equality()
