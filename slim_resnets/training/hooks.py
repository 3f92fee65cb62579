"""Session hooks for the training loop: progress logs and graceful stops."""

import signal
import time

import tensorflow.compat.v1 as tf


class ProgressLoggingHook(tf.train.SessionRunHook):
  """Logs step, loss, learning rate and images/second every `every_n` steps.

  Throughput is measured over the steps since the previous log line, from
  wall time around the training steps themselves, so input pipeline stalls
  count against it, as they would in practice. It counts this process's
  own steps, not the global step's progress: with asynchronous replicas
  the global step also advances with every other worker's steps.
  """

  def __init__(self, tensors, batch_size, every_n, log_fn=None,
               clock=time.time):
    """tensors: dict with 'step', 'loss' and 'learning_rate' tensors.

    `clock` returns the current time in seconds; tests pass their own to
    pin the arithmetic without depending on how fast the machine is.
    """
    self._tensors = tensors
    self._batch_size = batch_size
    self._every_n = max(1, every_n)
    self._log = log_fn or tf.logging.info
    self._clock = clock
    self._last_time = None
    self._last_step = None
    self._local_steps = 0
    self.history = []  # (step, loss, learning_rate, images_per_second)

  def begin(self):
    self._last_time = None

  def before_run(self, run_context):
    return tf.train.SessionRunArgs(self._tensors)

  def after_run(self, run_context, run_values):
    values = run_values.results
    step = int(values['step'])
    now = self._clock()
    if self._last_time is None:
      self._last_time, self._last_step, self._local_steps = now, step, 0
      return
    self._local_steps += 1
    if step - self._last_step < self._every_n:
      return
    rate = self._local_steps * self._batch_size / max(
        now - self._last_time, 1e-9)
    self._local_steps = 0
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


class StopAtStepHook(tf.train.SessionRunHook):
  """Stops when the global step reaches `last_step`, read after each step.

  Two differences from `tf.train.StopAtStepHook`, both for clusters:

  * It stops a session created too late. TensorFlow's hook only looks at
    the global step after a step has run, so a worker that (re)joins a
    cluster whose chief has already reached `last_step` would run one more
    step, and with synchronous replicas that step waits forever for an
    update nobody will apply; this one stops before the first step.
  * It reads the global step after every step. TensorFlow's hook reads it
    during the step and only looks again when that value is one short; with
    asynchronous replicas the value read during the step can be several
    short (other workers' updates land meanwhile), and the worker then
    runs an extra step. Here the run ends at most one step (in flight) per
    other worker past `last_step`.
  """

  def __init__(self, last_step):
    self._last_step = last_step
    self._global_step = None

  def begin(self):
    self._global_step = tf.train.get_global_step()
    if self._global_step is None:
      raise RuntimeError('StopAtStepHook needs a global step in the graph.')

  def _reached(self, session):
    return session.run(self._global_step) >= self._last_step

  def after_create_session(self, session, coord):
    if self._reached(session):
      coord.request_stop()

  def after_run(self, run_context, run_values):
    del run_values
    if self._reached(run_context.session):
      run_context.request_stop()


class SyncReplicasHook(tf.train.SessionRunHook):
  """Sets up and winds down `tf.train.SyncReplicasOptimizer` on one worker.

  It does what the optimizer's own hook does at start: the chief
  initializes the gradient accumulators, hands out the first tokens and
  starts the thread that applies each aggregated update; another worker
  initializes its local step. Two things differ, both at the end:

  * Every worker step ends by taking a token that the chief hands out after
    each aggregated update. When the chief stops (last step, or a signal),
    the other workers wait for tokens that will never come, so the chief
    hands each of them one more: their step returns, they see the final
    global step and stop.
  * The chief's update thread is then waiting for gradients nobody will
    send; closing the session cancels that wait, which this thread treats
    as the end it is (TensorFlow's own reports it as an error).
  """

  def __init__(self, sync_optimizer, is_chief, num_workers):
    self._optimizer = sync_optimizer
    self._is_chief = is_chief
    self._num_workers = num_workers
    self._local_init_op = None
    self._queue_runner = None
    self._init_tokens_op = None
    self._release_op = None
    self._threads = []

  def begin(self):
    optimizer = self._optimizer
    if not self._is_chief:
      self._local_init_op = optimizer.local_step_init_op
      return
    self._local_init_op = optimizer.chief_init_op
    runner = optimizer.get_chief_queue_runner()
    self._queue_runner = tf.train.QueueRunner(
        runner.queue, runner.enqueue_ops,
        queue_closed_exception_types=(tf.errors.OutOfRangeError,
                                      tf.errors.CancelledError))
    self._init_tokens_op = optimizer.get_init_tokens_op()
    self._release_op = optimizer.get_init_tokens_op(self._num_workers)

  def after_create_session(self, session, coord):
    not_ready = session.run(self._optimizer.ready_for_local_init_op)
    if len(not_ready):
      raise RuntimeError('variables not initialized before the synchronous '
                         'replicas\' local init: %s' % not_ready)
    session.run(self._local_init_op)
    if self._is_chief:
      session.run(self._init_tokens_op)
      self._threads = self._queue_runner.create_threads(
          session, coord=coord, daemon=True, start=True)

  def end(self, session):
    if self._release_op is not None:
      session.run(self._release_op)

  def join(self, timeout=30.0):
    """Waits for the update thread, which ends when the session closes.

    Call it after closing the session: a daemon thread still inside
    TensorFlow when the interpreter exits aborts the process.
    """
    for thread in self._threads:
      thread.join(timeout)
