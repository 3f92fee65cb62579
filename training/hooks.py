"""Session hooks for the training loop: progress logs and graceful stops."""

import signal
import time

import tensorflow.compat.v1 as tf


class ProgressLoggingHook(tf.train.SessionRunHook):
  """Logs step, loss, learning rate and images/second every `every_n` steps.

  Throughput is measured over the steps since the previous log line, from
  wall time around the training steps themselves, so input pipeline stalls
  count against it, as they would in practice.
  """

  def __init__(self, tensors, batch_size, every_n, log_fn=None):
    """tensors: dict with 'step', 'loss' and 'learning_rate' tensors."""
    self._tensors = tensors
    self._batch_size = batch_size
    self._every_n = max(1, every_n)
    self._log = log_fn or tf.logging.info
    self._last_time = None
    self._last_step = None
    self.history = []  # (step, loss, learning_rate, images_per_second)

  def begin(self):
    self._last_time = None

  def before_run(self, run_context):
    return tf.train.SessionRunArgs(self._tensors)

  def after_run(self, run_context, run_values):
    values = run_values.results
    step = int(values['step'])
    now = time.time()
    if self._last_time is None:
      self._last_time, self._last_step = now, step
      return
    if step - self._last_step < self._every_n:
      return
    rate = (step - self._last_step) * self._batch_size / max(
        now - self._last_time, 1e-9)
    self.history.append((step, float(values['loss']),
                         float(values['learning_rate']), rate))
    self._log('step %d: loss = %.4f, learning rate = %.6g, %.1f images/sec'
              % (step, values['loss'], values['learning_rate'], rate))
    self._last_time, self._last_step = now, step


class GracefulStopHook(tf.train.SessionRunHook):
  """Turns SIGINT and SIGTERM into a clean stop of the training loop.

  A stop requested this way ends the session normally, so the checkpoint
  saver's `end` writes a final checkpoint at the current step and a restarted
  run resumes exactly there. A second signal falls back to the default
  behaviour (KeyboardInterrupt / termination) for a user in a hurry.
  """

  SIGNALS = (signal.SIGINT, signal.SIGTERM)

  def __init__(self):
    self._requested = None
    self._previous = {}

  @property
  def stop_signal(self):
    return self._requested

  def _handle(self, signum, frame):
    del frame
    if self._requested is not None:
      self.restore_handlers()
      signal.raise_signal(signum)
      return
    self._requested = signum
    tf.logging.warning('Received signal %d: stopping after this step and '
                       'saving a checkpoint (send it again to abort).',
                       signum)

  def restore_handlers(self):
    """Puts the previous signal handlers back (safe to call repeatedly)."""
    for signum, handler in self._previous.items():
      signal.signal(signum, handler)
    self._previous = {}

  def begin(self):
    try:
      for signum in self.SIGNALS:
        self._previous[signum] = signal.signal(signum, self._handle)
    except ValueError:
      # Not in the main thread: signals cannot be caught here; skip.
      self._previous = {}

  def after_run(self, run_context, run_values):
    if self._requested is not None:
      run_context.request_stop()

  def end(self, session):
    self.restore_handlers()
