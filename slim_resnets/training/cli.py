"""Shared glue of the absl-flag scripts: errors as exit codes."""

import logging
import sys


def run_main(fn, verbosity='INFO'):
  """Runs fn(); user errors print one clear message and exit with status 2.

  `verbosity` is the TensorFlow log level ('INFO', 'WARN', ...).
  Programming errors still show their traceback; the errors turned into
  messages are the ones raised for bad arguments, missing files and
  mismatched checkpoints, whose messages already say what to do.
  """
  import tensorflow.compat.v1 as tf  # pylint: disable=g-import-not-at-top

  from slim_resnets.datasets import errors  # pylint: disable=g-import-not-at-top
  from slim_resnets.training import checkpoints  # pylint: disable=g-import-not-at-top
  tf.logging.set_verbosity(getattr(tf.logging, verbosity))
  logger = tf.get_logger()
  if not logger.handlers:
    # TensorFlow gives its logger a handler only when the logger is first
    # made before anything (absl's app.run) has configured the root logger;
    # the scripts import TensorFlow later than that. The same handler,
    # TensorFlow's format ('INFO:tensorflow:...'), whatever the order.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(logging.BASIC_FORMAT))
    logger.addHandler(handler)
  # Without this every line would also be printed a second time by absl's
  # root handler.
  logger.propagate = False
  try:
    return fn()
  except (ValueError, FileNotFoundError, FileExistsError,
          errors.DatasetError, checkpoints.CheckpointMismatchError) as e:
    print('error: %s' % e, file=sys.stderr)
    sys.exit(2)
