"""Tests of `slim_resnets.training.performance` and the speed flags.

The speed settings (threads, XLA, mixed precision) must change how a run
executes and never what it means: the graph is marked for XLA exactly where
promised (model, loss, gradients and updates, not the input pipeline), the
session gets the thread pools asked for, mixed-precision training writes
the same float32 variables as a float32 run, and evaluating one checkpoint
in another precision or with XLA gives (nearly) the same accuracy.
"""

import dataclasses

import pytest
import tensorflow.compat.v1 as tf

from resnet_utils import graph_building
from slim_resnets.datasets import dataset_factory
from slim_resnets.training import config as config_lib
from slim_resnets.training import eval_lib
from slim_resnets.training import performance
from slim_resnets.training import train_lib

import digits_run


def test_session_config_sets_thread_pools():
  config = performance.session_config(intra_op_threads=3, inter_op_threads=1)
  assert config.intra_op_parallelism_threads == 3
  assert config.inter_op_parallelism_threads == 1
  default = performance.session_config()
  assert default.intra_op_parallelism_threads == 0
  assert default.inter_op_parallelism_threads == 0


@pytest.mark.parametrize('value', [-1, 1.5, True, '2'])
def test_bad_thread_counts_name_the_argument(value):
  with pytest.raises(ValueError, match=r'intra_op_threads must be a '
                     r'non-negative integer \(0 lets TensorFlow choose\); '
                     r'got'):
    performance.session_config(intra_op_threads=value)
  with pytest.raises(ValueError, match='inter_op_threads must be'):
    performance.session_config(inter_op_threads=value)


def test_xla_scope_marks_only_ops_inside(graph):
  outside = tf.constant(1.0, name='outside')
  with performance.xla_scope(True):
    inside = tf.square(outside, name='inside')
  with performance.xla_scope(False):
    plain = tf.square(outside, name='plain')
  assert performance.is_xla_compiled(inside.op)
  assert not performance.is_xla_compiled(outside.op)
  assert not performance.is_xla_compiled(plain.op)


def _training_graph(config):
  split = dataset_factory.get_split(config.dataset_name,
                                    config.dataset_split_name,
                                    config.dataset_dir)
  graph = tf.Graph()
  with graph.as_default(), graph_building.fast_graph_building():
    ops = train_lib.build_training_graph(config, split)
  return graph, ops


def test_xla_training_graph_compiles_model_gradients_and_updates(
    tmp_path, digits):
  config = digits_run.tiny_config(tmp_path / 'train', digits, xla=True)
  graph, _ = _training_graph(config)
  by_type = {}
  for op in graph.get_operations():
    by_type.setdefault(op.type, []).append(op)
  for op_type in ('Conv2D', 'Conv2DBackpropFilter', 'Conv2DBackpropInput',
                  'FusedBatchNormV3', 'ResourceApplyMomentum'):
    assert by_type[op_type], op_type
    assert all(performance.is_xla_compiled(op) for op in by_type[op_type]), (
        op_type)
  assert not any(performance.is_xla_compiled(op)
                 for op in by_type['IteratorGetNext'])
  plain, _ = _training_graph(dataclasses.replace(config, xla=False))
  assert not any(performance.is_xla_compiled(op)
                 for op in plain.get_operations())


@pytest.mark.slow  # XLA compiles a whole training step: 15-30 s.
def test_xla_and_thread_settings_train(tmp_path, digits):
  """A run with XLA on one thread per pool trains and checkpoints."""
  config = digits_run.tiny_config(tmp_path / 'train', digits, xla=True,
                                  intra_op_threads=1, inter_op_threads=1,
                                  max_number_of_steps=3)
  result = train_lib.train(config)
  assert result.global_step == 3
  assert result.loss == result.loss  # not NaN
  assert tf.train.latest_checkpoint(config.train_dir).endswith('-3')


def _variables(path):
  reader = tf.train.load_checkpoint(path)
  return {name: (tuple(shape), reader.get_variable_to_dtype_map()[name])
          for name, shape in reader.get_variable_to_shape_map().items()}


@pytest.mark.parametrize('precision', ['bfloat16', 'float16'])
def test_mixed_precision_run_writes_float32_checkpoint(precision, tmp_path,
                                                       digits, shared_run):
  """Same variable names, shapes and float32 dtypes as the float32 run.

  float16 adds the loss scaler's own state and nothing else.
  """
  config = digits_run.tiny_config(tmp_path / 'train', digits,
                                  precision=precision, max_number_of_steps=3)
  result = train_lib.train(config)
  assert result.global_step == 3
  assert result.loss == result.loss
  mixed = _variables(tf.train.latest_checkpoint(config.train_dir))
  reference = _variables(tf.train.latest_checkpoint(shared_run[0].train_dir))
  # The shared run keeps moving averages of the weights; this one does not.
  reference = {k: v for k, v in reference.items()
               if 'ExponentialMovingAverage' not in k}
  extra = set(mixed) - set(reference)
  assert all('loss_scale' in name.lower() or 'good_steps' in name.lower()
             for name in extra), extra
  if precision == 'bfloat16':
    assert not extra
  for name, (shape, dtype) in reference.items():
    assert mixed[name] == (shape, dtype), name
    if dtype.is_floating:
      assert dtype == tf.float32, name


def _eval(shared_run, digits, tmp_path, **overrides):
  train_config = shared_run[0]
  config = config_lib.EvalConfig(
      checkpoint_path=train_config.train_dir, eval_dir=str(tmp_path),
      dataset_name='digits', dataset_split_name='validation',
      dataset_dir=digits, model_name=train_config.model_name,
      preprocessing_name='cifarnet',
      eval_image_size=train_config.train_image_size, batch_size=100,
      num_preprocessing_threads=2)
  return eval_lib.evaluate(dataclasses.replace(config, **overrides))


def test_eval_precision_and_xla_agree_with_float32(shared_run, digits,
                                                   tmp_path):
  """One checkpoint, four ways: accuracy within a couple of images.

  XLA computes the same float32 function (other kernels, other rounding);
  bfloat16 keeps about 3 significant digits, enough to move only the
  predictions whose top two logits almost tie.
  """
  base = _eval(shared_run, digits, tmp_path / 'f32')
  assert 0.2 < base['top1_accuracy'] < 1.0
  for name, overrides, images in [
      ('xla', dict(xla=True), 1),
      ('threads', dict(intra_op_threads=1, inter_op_threads=1), 0),
      ('bf16', dict(precision='bfloat16'), 6),
      ('f16', dict(precision='float16'), 2)]:
    result = _eval(shared_run, digits, tmp_path / name, **overrides)
    assert result['num_examples'] == 300
    assert abs(result['top1_accuracy'] - base['top1_accuracy']) <= (
        images / 300.0 + 1e-9), name


def test_eval_bad_precision_names_argument(shared_run, digits, tmp_path):
  with pytest.raises(ValueError, match=r"precision must be one of float32, "
                     r"float16, bfloat16; got 'int8'"):
    _eval(shared_run, digits, tmp_path, precision='int8')
  with pytest.raises(ValueError, match='inter_op_threads must be'):
    _eval(shared_run, digits, tmp_path, inter_op_threads=-2)
