"""Where this process sits in a training cluster, and what follows from it.

The design is TensorFlow's own between-graph replication, the one slim's
`train_image_classifier.py` used: every worker builds the whole training
graph, `tf.train.replica_device_setter` puts its variables on the parameter
server (ps) tasks and everything else on the worker, and the workers talk
to the ps tasks through TensorFlow's gRPC servers. Worker 0 (or a task of
job `chief`, when the cluster has one) is the chief: it initializes the
variables or restores them from `train_dir`, writes checkpoints and
summaries, and, with synchronous replicas, applies the aggregated update.

The cluster is described in one of two ways:

* `TF_CONFIG`, the environment variable every TensorFlow cluster manager
  sets: {"cluster": {"ps": [...], "worker": [...]}, "task": {"type":
  "worker", "index": 0}}. The process starts its own gRPC server for its
  task; a ps task then just serves variables until it is killed.
* slim's flags: `--master` (the gRPC address of this worker's server),
  `--task`, `--worker_replicas` and `--num_ps_tasks`, for clusters whose
  servers are started by something else
  (`python -m slim_resnets.distributed.server`).
"""

import dataclasses
import json
import os
import typing

import numpy as np
import tensorflow.compat.v1 as tf

TF_CONFIG = 'TF_CONFIG'
JOBS = ('chief', 'worker', 'ps')
_SLIM_FLAG_DEFAULTS = (('master', ''), ('task', 0), ('worker_replicas', 1),
                       ('num_ps_tasks', 0))


class ClusterError(ValueError):
  """A cluster description that cannot work; the message says why."""


@dataclasses.dataclass(frozen=True)
class ClusterSetup:
  """This process's place in a training cluster.

  Attributes:
    task_type: 'chief', 'worker' or 'ps'.
    task_index: index of the task within its job.
    num_workers: training replicas: the chief (if any) and the workers.
    num_ps: parameter server tasks.
    cluster_spec: a tf.train.ClusterSpec when this process starts its own
      server (TF_CONFIG), else None (slim flags: the server runs elsewhere).
    master: gRPC target of the session; '' until `start_server` for
      TF_CONFIG setups.
    source: 'TF_CONFIG' or 'flags', for messages.
  """
  task_type: str
  task_index: int
  num_workers: int
  num_ps: int
  cluster_spec: typing.Optional[tf.train.ClusterSpec] = None
  master: str = ''
  source: str = 'flags'

  @property
  def is_chief(self):
    if self.task_type == 'chief':
      return True
    has_chief = (self.cluster_spec is not None and
                 'chief' in self.cluster_spec.jobs)
    return self.task_type == 'worker' and self.task_index == 0 and not has_chief

  @property
  def is_ps(self):
    return self.task_type == 'ps'

  @property
  def worker_index(self):
    """This replica's index among all replicas, the chief first."""
    if self.task_type == 'chief':
      return 0
    has_chief = (self.cluster_spec is not None and
                 'chief' in self.cluster_spec.jobs)
    return self.task_index + (1 if has_chief else 0)

  @property
  def worker_device(self):
    return '/job:%s/task:%d' % (self.task_type, self.task_index)

  def describe(self):
    return ('%s task %d of a cluster with %d worker(s) and %d ps task(s) '
            '(from %s)' % (self.task_type, self.task_index, self.num_workers,
                           self.num_ps, self.source))


def _task_config(environ):
  """The parsed TF_CONFIG, or None when it is unset or names no cluster."""
  text = environ.get(TF_CONFIG, '').strip()
  if not text:
    return None
  try:
    parsed = json.loads(text)
  except ValueError as e:
    raise ClusterError('%s is not valid JSON (%s): %r'
                       % (TF_CONFIG, e, text)) from None
  if not isinstance(parsed, dict):
    raise ClusterError('%s must be a JSON object with "cluster" and "task"; '
                       'got %r.' % (TF_CONFIG, text))
  if not parsed.get('cluster'):
    return None
  return parsed


def _from_tf_config(parsed):
  cluster = parsed['cluster']
  if not isinstance(cluster, dict):
    raise ClusterError('%s "cluster" must map job names to address lists; '
                       'got %r.' % (TF_CONFIG, cluster))
  unknown = sorted(set(cluster) - set(JOBS))
  if unknown:
    raise ClusterError('%s names job(s) %s; the accepted jobs are %s.'
                       % (TF_CONFIG, ', '.join(unknown), ', '.join(JOBS)))
  for job, addresses in cluster.items():
    if (not isinstance(addresses, list) or not addresses or
        not all(isinstance(a, str) and a for a in addresses)):
      raise ClusterError('%s job %r must list one "host:port" per task; got '
                         '%r.' % (TF_CONFIG, job, addresses))
  if len(cluster.get('chief', [])) > 1:
    raise ClusterError('%s may have at most one chief; got %d.'
                       % (TF_CONFIG, len(cluster['chief'])))
  task = parsed.get('task')
  if not isinstance(task, dict):
    raise ClusterError('%s needs "task": {"type": ..., "index": ...} saying '
                       'which task this process is.' % TF_CONFIG)
  task_type, task_index = task.get('type'), task.get('index', 0)
  if task_type not in cluster:
    raise ClusterError('%s task type %r is not a job of the cluster; it '
                       'must be one of %s.' % (TF_CONFIG, task_type,
                                               ', '.join(sorted(cluster))))
  if (isinstance(task_index, bool) or not isinstance(task_index, int) or
      not 0 <= task_index < len(cluster[task_type])):
    raise ClusterError('%s task index %r is out of range: job %r has %d '
                       'task(s).' % (TF_CONFIG, task_index, task_type,
                                     len(cluster[task_type])))
  num_workers = len(cluster.get('chief', [])) + len(cluster.get('worker', []))
  if not num_workers:
    raise ClusterError('%s cluster has no "worker" (or "chief") job: nobody '
                       'would train.' % TF_CONFIG)
  num_ps = len(cluster.get('ps', []))
  if num_workers > 1 and not num_ps:
    raise ClusterError('%s cluster has %d workers and no "ps" job; '
                       'replicas share their variables through parameter '
                       'servers, so list at least one.'
                       % (TF_CONFIG, num_workers))
  return ClusterSetup(task_type=task_type, task_index=task_index,
                      num_workers=num_workers, num_ps=num_ps,
                      cluster_spec=tf.train.ClusterSpec(cluster),
                      source=TF_CONFIG)


def _from_flags(master, task, worker_replicas, num_ps_tasks):
  for name, value in (('task', task), ('worker_replicas', worker_replicas),
                      ('num_ps_tasks', num_ps_tasks)):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
      raise ClusterError('%s must be an integer >= 0; got %r.'
                         % (name, value))
  if worker_replicas < 1:
    raise ClusterError('worker_replicas must be >= 1; got %d.'
                       % worker_replicas)
  if task >= worker_replicas:
    raise ClusterError('task=%d must be below worker_replicas=%d (tasks are '
                       'numbered from 0).' % (task, worker_replicas))
  if worker_replicas > 1 and not num_ps_tasks:
    raise ClusterError('worker_replicas=%d needs num_ps_tasks >= 1: '
                       'replicas share their variables through parameter '
                       'servers.' % worker_replicas)
  if (worker_replicas > 1 or num_ps_tasks) and not master:
    raise ClusterError('worker_replicas=%d with num_ps_tasks=%d needs '
                       '--master, the grpc:// address of this worker\'s '
                       'server (or describe the cluster in %s).'
                       % (worker_replicas, num_ps_tasks, TF_CONFIG))
  return ClusterSetup(task_type='worker', task_index=task,
                      num_workers=worker_replicas, num_ps=num_ps_tasks,
                      master=master, source='flags')


def resolve(master='', task=0, worker_replicas=1, num_ps_tasks=0,
            environ=None):
  """This process's ClusterSetup, or None for a single-process run.

  TF_CONFIG (from `environ`, default os.environ) wins when it names a
  cluster; giving slim's cluster flags as well is refused rather than
  guessing which one was meant. A `master` alone (no replicas, no ps) is a
  single-process run on a remote server.

  Raises:
    ClusterError: for a description that cannot work.
  """
  environ = os.environ if environ is None else environ
  parsed = _task_config(environ)
  given = dict(master=master, task=task, worker_replicas=worker_replicas,
               num_ps_tasks=num_ps_tasks)
  if parsed is not None:
    clashing = [name for name, default in _SLIM_FLAG_DEFAULTS
                if given[name] != default]
    if clashing:
      raise ClusterError('%s describes the cluster, and so do --%s; use one '
                         'or the other.' % (TF_CONFIG, ', --'.join(clashing)))
    return _from_tf_config(parsed)
  setup = _from_flags(**given)
  if setup.num_workers == 1 and not setup.num_ps:
    return None
  return setup


def start_server(setup, config=None):
  """Starts this task's gRPC server; returns (server, setup with master).

  Only for setups from TF_CONFIG: with slim's flags the servers are
  somebody else's, and the setup is returned unchanged with server None.
  """
  if setup.cluster_spec is None:
    return None, setup
  server = tf.distribute.Server(setup.cluster_spec, job_name=setup.task_type,
                                task_index=setup.task_index, config=config,
                                start=True)
  return server, dataclasses.replace(setup, master=server.target)


def session_filters(setup):
  """Devices a worker's session may talk to: the ps tasks and itself.

  Without the filter a session waits for every task of the cluster, so one
  dead worker would stop the others from (re)connecting.
  """
  return ['/job:ps', setup.worker_device]


def _variable_bytes(op):
  """Bytes of the variable `op` creates (the ps load-balancing weight)."""
  attrs = op.node_def.attr
  if 'shape' not in attrs or 'dtype' not in attrs:
    return 0
  shape = tf.TensorShape(op.get_attr('shape'))
  if not shape.is_fully_defined():
    return 0
  return int(np.prod(shape.as_list(), dtype=np.int64)) * tf.as_dtype(
      op.get_attr('dtype')).size


class GreedyBySize:
  """A ps strategy: each variable to the ps task holding the fewest bytes.

  Called by `tf.train.replica_device_setter` once per variable op, in
  creation order; returns the ps task index.
  """

  def __init__(self, num_tasks):
    self.loads = [0] * num_tasks

  def __call__(self, op):
    task = self.loads.index(min(self.loads))
    self.loads[task] += _variable_bytes(op)
    return task


def device_setter(setup):
  """`tf.train.replica_device_setter` for this worker.

  Variables go to the ps tasks, each to the one holding the fewest bytes so
  far (greedy by size: a ResNet's variables differ in size by four orders of
  magnitude, so round-robin would load one ps with most of the weights);
  every other op stays on this worker.
  """
  strategy = None
  if setup.num_ps > 1:
    strategy = GreedyBySize(setup.num_ps)
  return tf.train.replica_device_setter(
      ps_tasks=setup.num_ps, worker_device=setup.worker_device,
      cluster=setup.cluster_spec, ps_strategy=strategy)


class WorkerSessionCreator(tf.train.SessionCreator):
  """Session of a non-chief worker: waits for the chief's initialization.

  Like `tf.train.WorkerSessionCreator`, but checking every `poll_secs`
  instead of every 30 s, so a worker that starts (or restarts) moments
  before the chief has initialized the variables joins within a second.
  """

  def __init__(self, scaffold, master, config, poll_secs=1.0,
               max_wait_secs=30 * 60):
    self._scaffold = scaffold
    self._master = master
    self._config = config
    self._poll_secs = poll_secs
    self._max_wait_secs = max_wait_secs

  def create_session(self):
    self._scaffold.finalize()
    manager = tf.train.SessionManager(
        local_init_op=self._scaffold.local_init_op,
        local_init_feed_dict=self._scaffold.local_init_feed_dict,
        ready_op=self._scaffold.ready_op,
        ready_for_local_init_op=self._scaffold.ready_for_local_init_op,
        graph=tf.get_default_graph(), recovery_wait_secs=self._poll_secs)
    return manager.wait_for_session(self._master, config=self._config,
                                    max_wait_secs=self._max_wait_secs)
