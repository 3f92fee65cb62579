"""Reading TFRecord files record by record, outside any input pipeline.

Used to check shards (`slim_resnets.datasets.verify`) and to count the
records of files
no dataset_info.json describes; it works the same with eager execution on
or off (see `private_graph`). Records are fetched in batches (a session call
per record would be a hundred times slower); when a batch hits a damaged
record, the batch is re-read one record at a time to report the exact index
of the first bad one.
"""

import tensorflow.compat.v1 as tf

from slim_resnets.datasets import errors
from slim_resnets.datasets import private_graph

_BATCH_SIZE = 256


class RecordReader(private_graph.PrivateGraph):
  """Iterates over the records of TFRecord files; use as a context."""

  def _build(self):
    self._path = tf.placeholder(tf.string, [])
    self._skip = tf.placeholder(tf.int64, [])
    self._batch_size = tf.placeholder(tf.int64, [])
    dataset = tf.data.TFRecordDataset(self._path).skip(self._skip).batch(
        self._batch_size)
    self._iterator = tf.data.make_initializable_iterator(dataset)
    self._next = self._iterator.get_next()

  def _start(self, path, skip, batch_size):
    self._run(self._iterator.initializer, {
        self._path: path, self._skip: skip, self._batch_size: batch_size})

  def _first_bad_index(self, path, start):
    """Index of the first record at or after `start` that cannot be read."""
    self._start(path, start, 1)
    index = start
    while True:
      try:
        self._run(self._next)
      except tf.errors.OpError:  # Includes the end of a truncated file.
        return index
      index += 1

  def records(self, path):
    """Yields (index, serialized record) for every record of `path`.

    Raises:
      CorruptRecordError: naming the file and the index of the first record
        that is truncated or fails its checksum.
      DatasetNotFoundError: if the file does not exist.
    """
    if not tf.io.gfile.exists(path):
      raise errors.DatasetNotFoundError('%s does not exist.' % path)
    self._start(path, 0, _BATCH_SIZE)
    index = 0
    while True:
      try:
        batch = self._run(self._next)
      except tf.errors.OutOfRangeError:
        return
      except tf.errors.OpError as e:
        bad = self._first_bad_index(path, index)
        raise errors.CorruptRecordError(
            '%s: record %d cannot be read (%s); the file is truncated or '
            'damaged.'
            % (path, bad, e.message.splitlines()[0]), path, bad) from e
      for record in batch:
        yield index, record
        index += 1

  def count(self, path):
    """The number of records in `path` (reading it to the end)."""
    return sum(1 for _ in self.records(path))
