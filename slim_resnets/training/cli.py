"""Shared glue of the absl-flag scripts: refused inputs as one line and a code.

The exit codes and the console's rules are `slim_resnets.console`'s; this
module knows the errors of the layers below (datasets, checkpoints,
training) and which code each one ends with.
"""

import logging
import sys
import traceback

from slim_resnets import console


def run_main(fn, verbosity='INFO', dataset=None):
  """Runs fn(); a refused input prints one line and exits with its code.

  Args:
    fn: the script's work, no arguments.
    verbosity: TensorFlow's Python log level ('INFO', 'WARN', ...).
    dataset: (dataset_name, split_name, dataset_dir) that fn reads, if any,
      so that a damaged record is traced to its file.

  Returns:
    fn's result.

  Usage errors (a setting that cannot work: ValueError, an output that
  exists) exit with console.USAGE_ERROR; data errors (a missing or damaged
  input, a checkpoint that does not fit) with console.DATA_ERROR. Their
  messages say what to do; with --verbosity=debug the traceback comes
  first. Anything else is a bug and keeps its traceback (exit 1).
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
  except tf.errors.DataLossError as e:
    _refuse(console.DATA_ERROR, _damaged_input(e, dataset))
  except checkpoints.CheckpointMismatchError as e:  # a ValueError, but data
    _refuse(console.DATA_ERROR, e)
  except (ValueError, FileExistsError) as e:  # dataset and split names too
    _refuse(console.USAGE_ERROR, e)
  except (FileNotFoundError, errors.DatasetError) as e:
    _refuse(console.DATA_ERROR, e)


def _refuse(status, message):
  if console.is_debug():
    traceback.print_exc()
  console.fail(status, message)


def verify_command(dataset_name, dataset_dir):
  return ('python download_and_convert_data.py --verify_only '
          '--dataset_name=%s --dataset_dir=%s' % (dataset_name, dataset_dir))


def _damaged_input(error, dataset):
  """The message for a record TensorFlow could not read, naming its file.

  TensorFlow's DataLossError gives a byte offset, not the file; reading the
  split again with the dataset checker finds the file and the record.
  """
  first_line = error.message.splitlines()[0]
  if dataset is None:
    return ('an input file is truncated or damaged (%s).' % first_line)
  from slim_resnets.datasets import dataset_factory  # pylint: disable=g-import-not-at-top
  from slim_resnets.datasets import errors  # pylint: disable=g-import-not-at-top
  from slim_resnets.datasets import verify  # pylint: disable=g-import-not-at-top
  name, split_name, dataset_dir = dataset
  fix = ('Check every split with `%s`, then convert the dataset again '
         '(with --overwrite).' % verify_command(name, dataset_dir))
  print('A record could not be read (%s); finding the damaged file ...'
        % first_line, file=sys.stderr)
  try:
    verify.verify_split(dataset_factory.get_split(name, split_name,
                                                  dataset_dir))
  except errors.DatasetError as e:
    return '%s %s' % (e, fix)
  return ('a record of %s/%s in %s could not be read (%s). %s'
          % (name, split_name, dataset_dir, first_line, fix))


def report_training(result, train_dir):
  """Prints how a training run ended; returns the script's exit status.

  A run that a signal stopped saved its state: it says so and how to go
  on, and exits with console.interrupted_status, never claiming to have
  finished.
  """
  if result.stop_signal is not None:
    print('Stopped at step %d by signal %d; run the same command again to '
          'resume from %s.'
          % (result.global_step, result.stop_signal, train_dir))
    return console.interrupted_status(result.stop_signal)
  print('Finished at global step %d (loss %.4f) in %.1f s; checkpoints in %s'
        % (result.global_step, result.loss, result.seconds, train_dir))
  return console.OK
