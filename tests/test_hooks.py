"""Tests of `slim_resnets.training.hooks` that need no training run.

(Graceful stops on signals are tested on the real script in
test_train_lib.py; the synchronous-replicas hook on real clusters in
test_local_cluster.py.)
"""

import tensorflow.compat.v1 as tf

from slim_resnets.training import hooks


def _session(hook_list):
  return tf.train.MonitoredSession(
      session_creator=tf.train.ChiefSessionCreator(), hooks=hook_list)


def test_rate_counts_own_steps_when_others_advance_the_global_step(graph):
  """Asynchronous replicas: the global step moves 3 per step of ours.

  The hook reads a clock that advances exactly 0.5 s per step, so the rate
  is pinned by arithmetic: 10 images per 0.5 s, not 30.
  """
  del graph
  step = tf.train.get_or_create_global_step()
  train_op = tf.assign_add(step, 3)
  with tf.control_dependencies([train_op]):
    step_after = tf.identity(step)  # Read after the update, every time.
  ticks = iter(0.5 * i for i in range(100))
  progress = hooks.ProgressLoggingHook(
      {'step': step_after, 'loss': tf.constant(1.0),
       'learning_rate': tf.constant(0.1)}, batch_size=10, every_n=3,
      log_fn=lambda message: None, clock=lambda: next(ticks))
  with _session([progress]) as sess:
    for _ in range(6):
      sess.run(train_op)
  # The first step only starts the clock; each later one is logged.
  assert [h[0] for h in progress.history] == [6, 9, 12, 15, 18]
  assert [h[3] for h in progress.history] == [20.0] * 5


def test_rate_covers_the_steps_between_log_lines(graph):
  """Logging every 4 steps: 4 steps of 10 images over 4 ticks of 0.25 s."""
  del graph
  step = tf.train.get_or_create_global_step()
  train_op = tf.assign_add(step, 1)
  with tf.control_dependencies([train_op]):
    step_after = tf.identity(step)
  ticks = iter(0.25 * i for i in range(100))
  progress = hooks.ProgressLoggingHook(
      {'step': step_after, 'loss': tf.constant(1.0),
       'learning_rate': tf.constant(0.1)}, batch_size=10, every_n=4,
      log_fn=lambda message: None, clock=lambda: next(ticks))
  with _session([progress]) as sess:
    for _ in range(9):
      sess.run(train_op)
  assert [h[0] for h in progress.history] == [5, 9]
  assert [h[3] for h in progress.history] == [40.0, 40.0]


def test_stop_at_step_before_the_first_step_when_already_there(graph):
  del graph
  step = tf.train.get_or_create_global_step()
  train_op = tf.assign_add(step, 1)
  with _session([hooks.StopAtStepHook(last_step=0)]) as sess:
    assert sess.should_stop()
  runs = 0
  with _session([hooks.StopAtStepHook(last_step=2)]) as sess:
    while not sess.should_stop():
      sess.run(train_op)
      runs += 1
  assert runs == 2
