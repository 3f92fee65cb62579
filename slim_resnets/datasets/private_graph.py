"""A base for helpers that run TensorFlow ops from plain Python loops.

The converters and `verify` encode, decode and read one item at a time, in
programs that may have switched eager execution off (the training scripts
do) or may be inside some other default graph. A `PrivateGraph` builds its
ops once, in a graph of its own, and runs them in its own session: its
methods behave the same in every execution mode and never add ops to the
caller's graph. Use it as a context manager, so the session is closed.
"""

import tensorflow.compat.v1 as tf


class PrivateGraph:
  """Owns a graph (built by `_build`) and a session to run it."""

  def __init__(self):
    self._graph = tf.Graph()
    with self._graph.as_default():
      self._build()
    self._session = tf.Session(graph=self._graph)

  def _build(self):
    """Creates the ops (placeholders and results) in self._graph."""
    raise NotImplementedError

  def _run(self, fetches, feed_dict=None):
    return self._session.run(fetches, feed_dict)

  def close(self):
    self._session.close()

  def __enter__(self):
    return self

  def __exit__(self, *unused_exc_info):
    self.close()
