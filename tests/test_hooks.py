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


def _logged_rates(increment, every_n, tick, steps):
  """ProgressLoggingHook's history after `steps` steps of 10 images.

  Each step adds `increment` to the global step (read after the update,
  every time) and the hook's clock advances exactly `tick` seconds per
  step, so the rates are pinned by arithmetic.
  """
  step = tf.train.get_or_create_global_step()
  train_op = tf.assign_add(step, increment)
  with tf.control_dependencies([train_op]):
    step_after = tf.identity(step)
  ticks = iter(tick * i for i in range(100))
  progress = hooks.ProgressLoggingHook(
      {'step': step_after, 'loss': tf.constant(1.0),
       'learning_rate': tf.constant(0.1)}, batch_size=10, every_n=every_n,
      log_fn=lambda message: None, clock=lambda: next(ticks))
  with _session([progress]) as sess:
    for _ in range(steps):
      sess.run(train_op)
  return [(h[0], h[3]) for h in progress.history]


def test_rate_counts_own_steps_when_others_advance_the_global_step(graph):
  """Asynchronous replicas: the global step moves 3 per step of ours.

  10 images per 0.5 s tick is 20 images/s, not 60; the first step only
  starts the clock, each later one is logged.
  """
  del graph
  assert _logged_rates(increment=3, every_n=3, tick=0.5, steps=6) == [
      (6, 20.0), (9, 20.0), (12, 20.0), (15, 20.0), (18, 20.0)]


def test_rate_covers_the_steps_between_log_lines(graph):
  """Logging every 4 steps: 4 steps of 10 images over 4 ticks of 0.25 s."""
  del graph
  assert _logged_rates(increment=1, every_n=4, tick=0.25, steps=9) == [
      (5, 40.0), (9, 40.0)]


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
