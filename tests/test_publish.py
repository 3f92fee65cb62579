"""Tests of `slim_resnets.publish`: whole outputs or none, never over data."""

import os

import pytest
import tensorflow.compat.v1 as tf

from slim_resnets import publish


def _listing(folder):
  return sorted(os.listdir(folder))


def test_write_file_publishes_and_leaves_no_temporary(tmp_path):
  target = tmp_path / 'deep' / 'model.bin'
  publish.write_file(str(target), b'\x00\x01', 'output')
  assert target.read_bytes() == b'\x00\x01'
  assert _listing(tmp_path / 'deep') == ['model.bin']


def test_existing_target_is_refused_and_untouched(tmp_path):
  target = tmp_path / 'results.json'
  target.write_text('keep me')
  with pytest.raises(FileExistsError,
                     match='output_file .*results.json already exists'):
    publish.write_file(str(target), 'new', 'output_file')
  assert target.read_text() == 'keep me'
  assert _listing(tmp_path) == ['results.json']


def test_overwrite_replaces(tmp_path):
  target = tmp_path / 'results.json'
  target.write_text('old')
  publish.write_file(str(target), 'new', overwrite=True)
  assert target.read_text() == 'new'
  assert _listing(tmp_path) == ['results.json']


def test_a_failed_write_leaves_nothing(tmp_path):
  target = tmp_path / 'saved_model'
  with pytest.raises(RuntimeError, match='interrupted'):
    with publish.staged(str(target), 'output_dir') as staging:
      tf.io.gfile.makedirs(staging + '/variables')
      with tf.io.gfile.GFile(staging + '/saved_model.pb', 'w') as f:
        f.write('partial')
      raise RuntimeError('interrupted')
  assert _listing(tmp_path) == []


def test_a_directory_is_published_whole(tmp_path):
  target = tmp_path / 'export' / 'saved_model'
  with publish.staged(str(target), 'output_dir') as staging:
    tf.io.gfile.makedirs(staging + '/variables')
    with tf.io.gfile.GFile(staging + '/saved_model.pb', 'w') as f:
      f.write('graph')
    assert not target.exists()  # Nothing visible before the block ends.
  assert sorted(os.listdir(target)) == ['saved_model.pb', 'variables']
  assert _listing(tmp_path / 'export') == ['saved_model']


def test_a_target_taken_while_writing_is_not_replaced(tmp_path):
  target = tmp_path / 'model.tflite'
  with pytest.raises(FileExistsError):
    with publish.staged(str(target), 'output_path') as staging:
      with tf.io.gfile.GFile(staging, 'w') as f:
        f.write('ours')
      target.write_text('someone else\'s')
  assert target.read_text() == 'someone else\'s'
  assert _listing(tmp_path) == ['model.tflite']


def test_file_system_urls_publish_through_gfile():
  """A URL target (TensorFlow's in-memory file system here, as gs:// would
  be) goes through tf.io.gfile, never through os."""
  target = 'ram://publish_test/run/eval_results.json'
  publish.write_file(target, '{"top1": 1.0}', 'eval results')
  with tf.io.gfile.GFile(target) as f:
    assert f.read() == '{"top1": 1.0}'
  assert tf.io.gfile.listdir('ram://publish_test/run') == [
      'eval_results.json']
  with pytest.raises(FileExistsError):
    publish.write_file(target, 'again', 'eval results')
