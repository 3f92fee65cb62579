"""Tests of `slim_resnets.training.cluster`: reading a cluster, placing a graph.

Everything here runs in one process without servers; tests/
test_local_cluster.py runs real clusters of processes.
"""

import json

import pytest
import tensorflow.compat.v1 as tf

from slim_resnets.datasets import dataset_factory
from slim_resnets.training import cluster
from slim_resnets.training import train_lib

import digits_run


def _environ(spec, task_type, index):
  return {'TF_CONFIG': json.dumps({'cluster': spec,
                                   'task': {'type': task_type,
                                            'index': index}})}


_SPEC = {'ps': ['h0:1', 'h1:1'], 'worker': ['h2:1', 'h3:1', 'h4:1']}


def test_no_cluster_is_a_single_process():
  assert cluster.resolve(environ={}) is None
  assert cluster.resolve(environ={'TF_CONFIG': ''}) is None
  # A TF_CONFIG without a cluster (as some launchers set) is no cluster.
  assert cluster.resolve(environ={'TF_CONFIG': '{"task": {}}'}) is None
  assert cluster.resolve(master='grpc://h:1', environ={}) is None


def test_tf_config_worker():
  setup = cluster.resolve(environ=_environ(_SPEC, 'worker', 2))
  assert (setup.task_type, setup.task_index) == ('worker', 2)
  assert (setup.num_workers, setup.num_ps) == (3, 2)
  assert not setup.is_chief and not setup.is_ps
  assert setup.worker_index == 2
  assert setup.worker_device == '/job:worker/task:2'
  assert setup.cluster_spec.as_dict() == _SPEC
  assert cluster.session_filters(setup) == ['/job:ps', '/job:worker/task:2']


def test_tf_config_chief_is_worker_0_or_the_chief_job():
  assert cluster.resolve(environ=_environ(_SPEC, 'worker', 0)).is_chief
  assert cluster.resolve(environ=_environ(_SPEC, 'ps', 0)).is_ps
  with_chief = dict(_SPEC, chief=['h5:1'])
  chief = cluster.resolve(environ=_environ(with_chief, 'chief', 0))
  assert chief.is_chief and chief.worker_index == 0
  assert chief.num_workers == 4
  worker0 = cluster.resolve(environ=_environ(with_chief, 'worker', 0))
  assert not worker0.is_chief and worker0.worker_index == 1


@pytest.mark.parametrize('text, message', [
    ('{not json', 'TF_CONFIG is not valid JSON'),
    ('[1, 2]', 'TF_CONFIG must be a JSON object'),
    (json.dumps({'cluster': {'worker': ['a:1'], 'evaluator': ['b:1']},
                 'task': {'type': 'worker', 'index': 0}}),
     'names job.s. evaluator; the accepted jobs are chief, worker, ps'),
    (json.dumps({'cluster': {'worker': []}, 'task': {'type': 'worker'}}),
     "job 'worker' must list one \"host:port\" per task"),
    (json.dumps({'cluster': {'worker': ['a:1']}}), 'needs "task"'),
    (json.dumps({'cluster': _SPEC, 'task': {'type': 'chief', 'index': 0}}),
     "task type 'chief' is not a job of the cluster; it must be one of ps, "
     'worker'),
    (json.dumps({'cluster': _SPEC, 'task': {'type': 'worker', 'index': 3}}),
     "task index 3 is out of range: job 'worker' has 3 task"),
    (json.dumps({'cluster': {'ps': ['a:1']}, 'task': {'type': 'ps'}}),
     'has no "worker"'),
    (json.dumps({'cluster': {'worker': ['a:1', 'b:1']},
                 'task': {'type': 'worker', 'index': 0}}),
     'has 2 workers and no "ps" job'),
    (json.dumps({'cluster': dict(_SPEC, chief=['a:1', 'b:1']),
                 'task': {'type': 'worker', 'index': 0}}),
     'at most one chief'),
])
def test_bad_tf_config_is_refused(text, message):
  with pytest.raises(cluster.ClusterError, match=message):
    cluster.resolve(environ={'TF_CONFIG': text})


def test_tf_config_and_slim_flags_together_are_refused():
  with pytest.raises(cluster.ClusterError,
                     match='TF_CONFIG describes the cluster, and so do '
                     '--task, --worker_replicas; use one'):
    cluster.resolve(task=1, worker_replicas=3,
                    environ=_environ(_SPEC, 'worker', 1))


def test_slim_flags():
  setup = cluster.resolve(master='grpc://h3:1', task=1, worker_replicas=3,
                          num_ps_tasks=2, environ={})
  assert (setup.task_type, setup.task_index) == ('worker', 1)
  assert (setup.num_workers, setup.num_ps) == (3, 2)
  assert setup.master == 'grpc://h3:1' and setup.cluster_spec is None
  assert not setup.is_chief
  assert cluster.resolve(master='grpc://h2:1', worker_replicas=3,
                         num_ps_tasks=1, environ={}).is_chief
  # No own server to start: the setup comes back as it was.
  assert cluster.start_server(setup) == (None, setup)


@pytest.mark.parametrize('kwargs, message', [
    (dict(worker_replicas=0), 'worker_replicas must be >= 1'),
    (dict(task=-1), 'task must be an integer >= 0'),
    (dict(task=2, worker_replicas=2, num_ps_tasks=1, master='grpc://a:1'),
     'task=2 must be below worker_replicas=2'),
    (dict(worker_replicas=2, master='grpc://a:1'),
     'worker_replicas=2 needs num_ps_tasks >= 1'),
    (dict(worker_replicas=2, num_ps_tasks=1), 'needs --master'),
])
def test_bad_slim_flags_are_refused(kwargs, message):
  with pytest.raises(cluster.ClusterError, match=message):
    cluster.resolve(environ={}, **kwargs)


def _placed_graph(setup, tmp_path, digits, **overrides):
  config = digits_run.tiny_config(tmp_path, digits, **overrides)
  split = dataset_factory.get_split('digits', 'train', digits)
  graph = tf.Graph()
  placement = cluster.device_setter(setup) if setup else None
  with graph.as_default(), tf.device(placement):
    ops = train_lib.build_training_graph(config, split, setup)
  return graph, ops


def test_variables_on_ps_computation_on_worker(tmp_path, digits):
  setup = cluster.resolve(environ=_environ(
      {'ps': ['h0:1'], 'worker': ['h1:1', 'h2:1']}, 'worker', 1))
  graph, ops = _placed_graph(setup, tmp_path, digits)
  with graph.as_default():
    variables = tf.global_variables()
  assert variables
  assert {v.device for v in variables} == {'/job:ps/task:0'}
  convs = [op for op in graph.get_operations() if op.type == 'Conv2D']
  assert {op.device for op in convs} == {'/job:worker/task:1'}
  reader = [op for op in graph.get_operations()
            if op.type == 'IteratorGetNext']
  assert reader[0].device == '/job:worker/task:1/device:CPU:0'
  assert isinstance(ops['sync_optimizer'], tf.train.SyncReplicasOptimizer)


def test_sync_replicas_checkpoint_holds_the_single_process_variables(
    tmp_path, digits):
  """Distributed and single-process runs can resume each other's runs."""
  setup = cluster.resolve(environ=_environ(
      {'ps': ['h0:1'], 'worker': ['h1:1', 'h2:1']}, 'worker', 0))
  names = []
  for graph, _ in (_placed_graph(setup, tmp_path, digits),
                   _placed_graph(None, tmp_path, digits)):
    with graph.as_default():
      # What a default Saver saves: the global variables.
      names.append(sorted(v.op.name for v in tf.global_variables()))
  assert names[0] == names[1]


def test_async_replicas_have_no_sync_optimizer(tmp_path, digits):
  setup = cluster.resolve(environ=_environ(
      {'ps': ['h0:1'], 'worker': ['h1:1', 'h2:1']}, 'worker', 0))
  _, ops = _placed_graph(setup, tmp_path, digits, sync_replicas=False)
  assert ops['sync_optimizer'] is None


def test_two_ps_tasks_share_the_bytes(tmp_path, digits):
  setup = cluster.resolve(environ=_environ(_SPEC, 'worker', 0))
  graph, _ = _placed_graph(setup, tmp_path, digits)
  load = {}
  with graph.as_default():
    for v in tf.global_variables():
      size = v.shape.num_elements() * v.dtype.base_dtype.size
      load[v.device] = load.get(v.device, 0) + size
  assert sorted(load) == ['/job:ps/task:0', '/job:ps/task:1']
  small, large = sorted(load.values())
  # Greedy by size; optimizer slots follow their variables, so the loads
  # differ by up to twice the largest variable (147,456 bytes).
  assert large - small <= 2 * 64 * 64 * 9 * 4
  assert small / large > 0.8


def test_replicas_to_aggregate_is_checked(tmp_path, digits):
  config = digits_run.tiny_config(tmp_path / 'train', digits,
                                  replicas_to_aggregate=3)
  environ = _environ({'ps': ['h0:1'], 'worker': ['h1:1', 'h2:1']},
                     'worker', 0)
  with pytest.raises(ValueError, match='replicas_to_aggregate=3 exceeds the '
                     '2 worker'):
    train_lib.train(config, environ=environ)
  assert not (tmp_path / 'train').exists()


def test_bad_cluster_creates_no_train_dir(tmp_path, digits):
  config = digits_run.tiny_config(tmp_path / 'train', digits,
                                  worker_replicas=2, num_ps_tasks=1)
  with pytest.raises(ValueError, match='needs --master'):
    train_lib.train(config, environ={})
  assert not (tmp_path / 'train').exists()


def test_replicas_to_aggregate_needs_sync_replicas(tmp_path, digits):
  config = digits_run.tiny_config(tmp_path / 'train', digits,
                                  replicas_to_aggregate=1,
                                  sync_replicas=False)
  with pytest.raises(ValueError, match='replicas_to_aggregate applies to '
                     'synchronous replicas only'):
    train_lib.train(config, environ={})
  assert not (tmp_path / 'train').exists()
