"""Tests of `training.hooks` that need no training run.

(Graceful stops on signals are tested on the real script in
test_train_lib.py; the synchronous-replicas hook on real clusters in
test_local_cluster.py.)
"""

import time

import tensorflow.compat.v1 as tf

from training import hooks


def _session(hook_list):
  return tf.train.MonitoredSession(
      session_creator=tf.train.ChiefSessionCreator(), hooks=hook_list)


def test_rate_counts_own_steps_when_others_advance_the_global_step(graph):
  """Asynchronous replicas: the global step moves 3 per step of ours."""
  del graph
  step = tf.train.get_or_create_global_step()
  train_op = tf.assign_add(step, 3)
  progress = hooks.ProgressLoggingHook(
      {'step': step, 'loss': tf.constant(1.0),
       'learning_rate': tf.constant(0.1)}, batch_size=10, every_n=3,
      log_fn=lambda message: None)
  pause = 0.05
  with _session([progress]) as sess:
    for _ in range(6):
      sess.run(train_op)
      time.sleep(pause)
  assert len(progress.history) == 5
  for _, _, _, rate in progress.history:
    # One step of 10 images per pause, not three.
    assert 0.5 * 10 / pause < rate <= 10 / pause * 1.05


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
