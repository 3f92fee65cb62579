"""Shared glue of the absl-flag scripts: errors as exit codes."""

import sys


def run_main(fn, verbosity='INFO'):
  """Runs fn(); user errors print one clear message and exit with status 2.

  `verbosity` is the TensorFlow log level ('INFO', 'WARN', ...).
  Programming errors still show their traceback; the errors turned into
  messages are the ones raised for bad arguments, missing files and
  mismatched checkpoints, whose messages already say what to do.
  """
  import tensorflow.compat.v1 as tf  # pylint: disable=g-import-not-at-top
  from datasets import errors  # pylint: disable=g-import-not-at-top
  from training import checkpoints  # pylint: disable=g-import-not-at-top
  tf.logging.set_verbosity(getattr(tf.logging, verbosity))
  # TensorFlow's logger has a handler of its own; without this every line
  # would also be printed a second time by absl's root handler.
  tf.get_logger().propagate = False
  try:
    return fn()
  except (ValueError, FileNotFoundError, FileExistsError,
          errors.DatasetError, checkpoints.CheckpointMismatchError) as e:
    print('error: %s' % e, file=sys.stderr)
    sys.exit(2)
