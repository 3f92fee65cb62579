"""Shared glue of the absl-flag scripts: errors as exit codes."""

import sys


def run_main(fn):
  """Runs fn(); user errors print one clear message and exit with status 2.

  Programming errors still show their traceback; the errors turned into
  messages are the ones raised for bad arguments, missing files and
  mismatched checkpoints, whose messages already say what to do.
  """
  import tensorflow.compat.v1 as tf  # pylint: disable=g-import-not-at-top
  from training import checkpoints  # pylint: disable=g-import-not-at-top
  tf.logging.set_verbosity(tf.logging.INFO)
  try:
    return fn()
  except (ValueError, FileNotFoundError, FileExistsError,
          checkpoints.CheckpointMismatchError) as e:
    print('error: %s' % e, file=sys.stderr)
    sys.exit(2)
