"""Tests of `slim_resnets.training.checkpoints`: partial restores, mismatches.

A small checkpoint is written with distinctive values; models that differ
from it in known ways (a replaced head, a missing variable, a changed shape,
a variable the model no longer has) are built against it, and the restore
map, the error messages and the restored values are checked by name and
number.
"""

import os

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from slim_resnets.training import checkpoints

# The checkpoint: name -> value.
_SAVED = {
    'net/a': np.arange(6, dtype=np.float32).reshape(2, 3) + 0.5,
    'net/b': np.array([10., 11., 12., 13.], np.float32),
    'head/w': np.full((3, 5), 7., np.float32),
    'extra/x': np.array([42.], np.float32),
}


@pytest.fixture(scope='module')
def saved(tmp_path_factory):
  """(directory, prefix) of a checkpoint of _SAVED plus global_step 17."""
  directory = str(tmp_path_factory.mktemp('ckpt'))
  with tf.Graph().as_default():
    for name, value in _SAVED.items():
      tf.Variable(value, name=name)
    global_step = tf.train.get_or_create_global_step()
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      sess.run(global_step.assign(17))
      prefix = tf.train.Saver().save(sess, os.path.join(directory, 'model'),
                                     global_step=global_step)
  return directory, prefix


def _variables(shapes, trainable=True):
  """Zero-initialized float variables by name and shape, in the graph."""
  return {name: tf.Variable(tf.zeros(shape), name=name, trainable=trainable)
          for name, shape in shapes.items()}


def test_exact_model_maps_every_variable(graph, saved):
  del graph
  model = _variables({n: v.shape for n, v in _SAVED.items()})
  tf.train.get_or_create_global_step()
  var_map = checkpoints.restore_map(saved[1])
  assert var_map == model  # global_step is the session's, not restored.


def test_mismatch_lists_missing_shapes_and_unexpected(graph, saved):
  """Each kind of mismatch is listed by name, with both shapes."""
  del graph
  _variables({'net/a': [2, 3], 'net/b': [4], 'head/w': [3, 7],
              'net/c': [2]})
  with pytest.raises(checkpoints.CheckpointMismatchError) as info:
    checkpoints.restore_map(saved[1])
  message = str(info.value)
  assert saved[1] in message
  assert 'missing from the checkpoint (1):\n    net/c' in message
  assert 'head/w: model [3, 7], checkpoint [3, 5]' in message
  assert 'in the checkpoint but not in the model (1):\n    extra/x' in message
  assert 'net/a' not in message and 'global_step' not in message
  assert isinstance(info.value, ValueError)


def test_exclude_scopes_and_ignore_missing(graph, saved):
  """Excluding the replaced head, ignoring new variables: the rest restores."""
  del graph
  model = _variables({'net/a': [2, 3], 'net/b': [4], 'head/w': [3, 7],
                      'net/c': [2], 'extra/x': [1]})
  var_map = checkpoints.restore_map(saved[1], exclude_scopes='head, ',
                                    ignore_missing_vars=True)
  assert var_map == {'net/a': model['net/a'], 'net/b': model['net/b'],
                     'extra/x': model['extra/x']}


def test_missing_still_fails_without_ignore(graph, saved):
  """Excluding the head fixes the shape, but a missing variable still fails."""
  del graph
  _variables({'net/a': [2, 3], 'net/b': [4], 'head/w': [3, 7],
              'net/c': [2], 'extra/x': [1]})
  with pytest.raises(checkpoints.CheckpointMismatchError) as info:
    checkpoints.restore_map(saved[1], exclude_scopes='head')
  message = str(info.value)
  assert 'net/c' in message
  assert 'different shapes' not in message and 'head/w' not in message


def test_ignore_missing_does_not_excuse_shapes(graph, saved):
  del graph
  _variables({'net/a': [2, 3], 'head/w': [3, 7]})
  with pytest.raises(checkpoints.CheckpointMismatchError,
                     match=r'head/w: model \[3, 7\], checkpoint \[3, 5\]'):
    checkpoints.restore_map(saved[1], ignore_missing_vars=True)


def test_scopes_match_whole_name_components(graph, saved):
  """Excluding 'net/a' must not exclude 'net/ab'; 'ne' excludes nothing."""
  del graph
  _variables({'net/a': [2, 3], 'net/ab': [1], 'net/b': [4],
              'head/w': [3, 5], 'extra/x': [1]})
  with pytest.raises(checkpoints.CheckpointMismatchError,
                     match='net/ab') as info:
    checkpoints.restore_map(saved[1], exclude_scopes='net/a')
  assert 'missing from the checkpoint (1)' in str(info.value)
  var_map = checkpoints.restore_map(saved[1], exclude_scopes='ne',
                                    ignore_missing_vars=True)
  assert sorted(var_map) == ['extra/x', 'head/w', 'net/a', 'net/b']


def test_long_listings_are_shortened(graph, saved):
  del graph
  _variables({'new/v%02d' % i: [1] for i in range(25)})
  _variables({n: v.shape for n, v in _SAVED.items()})
  with pytest.raises(checkpoints.CheckpointMismatchError) as info:
    checkpoints.restore_map(saved[1])
  message = str(info.value)
  assert 'missing from the checkpoint (25)' in message
  assert 'new/v19' in message and 'new/v20' not in message
  assert '... and 5 more' in message


def test_resolve_checkpoint(saved, tmp_path):
  directory, prefix = saved
  assert checkpoints.resolve_checkpoint(directory) == prefix
  assert checkpoints.resolve_checkpoint(prefix) == prefix
  assert prefix.endswith('model-17')
  with pytest.raises(FileNotFoundError, match='without any checkpoint'):
    checkpoints.resolve_checkpoint(str(tmp_path))
  missing = os.path.join(directory, 'model-99')
  with pytest.raises(FileNotFoundError, match='model-99 does not exist'):
    checkpoints.resolve_checkpoint(missing)


def test_checkpoint_step_and_has_checkpoint(saved, tmp_path, graph):
  directory, prefix = saved
  assert checkpoints.checkpoint_step(prefix) == 17
  assert checkpoints.has_checkpoint(directory)
  assert not checkpoints.has_checkpoint(str(tmp_path))
  assert not checkpoints.has_checkpoint(str(tmp_path / 'nope'))
  tf.Variable(1.0, name='w')
  with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    stepless = tf.train.Saver().save(sess, str(tmp_path / 'stepless'))
  assert checkpoints.checkpoint_step(stepless) == 0


def test_variables_to_train(graph):
  del graph
  made = _variables({'net/a': [1], 'net/b': [1], 'head/w': [1],
                     'header/v': [1]})
  _variables({'head/moving': [1]}, trainable=False)
  assert checkpoints.variables_to_train() == list(made.values())
  assert checkpoints.variables_to_train('') == list(made.values())
  assert checkpoints.variables_to_train('head') == [made['head/w']]
  assert checkpoints.variables_to_train(' head/, net/b ') == [
      made['net/b'], made['head/w']]


def test_unmatched_trainable_scope_lists_model_scopes(graph):
  del graph
  _variables({'net/a': [1], 'head/w': [1]})
  with pytest.raises(ValueError) as info:
    checkpoints.variables_to_train('resnet_v1_50/logits')
  message = str(info.value)
  assert 'resnet_v1_50/logits' in message
  assert "['head', 'net']" in message


def _model_variable(initial_value, name):
  """A variable in MODEL_VARIABLES, as slim's layers make them."""
  variable = tf.Variable(initial_value, name=name)
  tf.add_to_collection(tf.GraphKeys.MODEL_VARIABLES, variable)
  return variable


def test_init_fn_restores_all_but_excluded(graph, saved):
  """Restored values are the checkpoint's; the excluded head keeps its init,
  and so does a variable that is not the model's (an optimizer slot)."""
  del graph
  a = _model_variable(tf.zeros([2, 3]), 'net/a')
  b = _model_variable(tf.zeros([4]), 'net/b')
  head = _model_variable(tf.fill([3, 7], -1.0), 'head/w')
  fresh = _model_variable(tf.fill([2], 3.0), 'net/c')
  slot_like = tf.Variable(tf.fill([4], 5.0), name='net/b/Momentum')
  init_fn = checkpoints.init_fn_from_checkpoint(
      saved[0], exclude_scopes='head', ignore_missing_vars=True)
  with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    init_fn(None, sess)
    got_a, got_b, got_head, got_fresh, got_slot = sess.run(
        [a, b, head, fresh, slot_like])
  np.testing.assert_array_equal(got_a, _SAVED['net/a'])
  np.testing.assert_array_equal(got_b, _SAVED['net/b'])
  np.testing.assert_array_equal(got_head, np.full([3, 7], -1.0))
  np.testing.assert_array_equal(got_fresh, [3.0, 3.0])
  np.testing.assert_array_equal(got_slot, [5.0] * 4)


def test_init_fn_checks_before_any_session(graph, saved):
  """A mismatch fails when the init_fn is made, not when a session starts."""
  del graph
  _model_variable(tf.zeros([3, 7]), 'head/w')
  with pytest.raises(checkpoints.CheckpointMismatchError, match='head/w'):
    checkpoints.init_fn_from_checkpoint(saved[1])
  with pytest.raises(checkpoints.CheckpointMismatchError,
                     match='none of the model'):
    checkpoints.init_fn_from_checkpoint(saved[1], exclude_scopes='head')


def test_split_scopes():
  assert checkpoints.split_scopes(None) == []
  assert checkpoints.split_scopes('') == []
  assert checkpoints.split_scopes(' a/b , c,,') == ['a/b', 'c']
