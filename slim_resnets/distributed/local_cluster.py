"""Runs a whole training cluster as processes on this machine.

    python -m slim_resnets.distributed.local_cluster --ps 1 --workers 2 -- \\
        --train_dir=/tmp/digits_2w --dataset_dir=data/digits \\
        --model_name=resnet_v1_cifar_20 --max_number_of_steps=600

Everything after `--` goes to train_image_classifier.py, once per worker.
Each task gets a free localhost port and the standard TF_CONFIG naming the
whole cluster and its own place in it, exactly what a cluster manager gives
the processes of a real cluster; so this exercises the same code path as
many machines do, over gRPC on localhost.

With `--slim_flags` the trainers are told their place the way slim's
were instead (`--master=grpc://... --task --worker_replicas
--num_ps_tasks`), and each worker's gRPC server runs as a process of its
own (`python -m slim_resnets.distributed.server`) that the trainer connects to.

The launcher supervises the tasks:

* a worker (the chief included) that dies is started again, up to
  `--max_restarts` times per task: a restarted worker rejoins the running
  training, a restarted chief restores the last checkpoint in train_dir
  and carries on from there;
* a worker that exits with status 2 or 3 (a usage or data error, see
  `slim_resnets.console`; either would only repeat) or a server that
  dies (a ps task's variables are gone with it) ends the run;
  start it again and training resumes from the last checkpoint;
* once the chief has finished, the other workers get `--grace_secs` to
  finish too, then everything is stopped;
* Ctrl-C or SIGTERM stops the workers as a signal stops a single run (the
  chief writes a final checkpoint), then the ps tasks.

Every task's output goes to `<log_dir>/<job>_<index>.log`, appended across
restarts.
"""

import argparse
import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

from slim_resnets import console

# The repository: the training script lives at its root.
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
DEFAULT_SCRIPT = os.path.join(ROOT, 'train_image_classifier.py')
USAGE_ERROR = console.USAGE_ERROR
# Training flags that describe the cluster, which the launcher sets.
CLUSTER_FLAGS = ('master', 'task', 'worker_replicas', 'num_ps_tasks')


def free_ports(count, host='localhost'):
  """`count` distinct ports that were free a moment ago on `host`."""
  sockets = []
  try:
    for _ in range(count):
      s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
      s.bind((host, 0))
      sockets.append(s)
    return [s.getsockname()[1] for s in sockets]
  finally:
    for s in sockets:
      s.close()


def cluster_spec(num_ps, num_workers, host='localhost', ports=None):
  """{'ps': [...], 'worker': [...]} of host:port addresses."""
  ports = ports or free_ports(num_ps + num_workers, host)
  addresses = ['%s:%d' % (host, port) for port in ports]
  spec = {'worker': addresses[num_ps:num_ps + num_workers]}
  if num_ps:
    spec['ps'] = addresses[:num_ps]
  return spec


def tf_config(spec, task_type, task_index):
  """The TF_CONFIG value for one task of `spec`."""
  return json.dumps({'cluster': spec,
                     'task': {'type': task_type, 'index': task_index}})


@dataclasses.dataclass
class Task:
  """One process of the cluster and its history."""
  job: str
  index: int
  command: list
  env: dict
  log_path: str
  process: subprocess.Popen = None
  restarts: int = 0
  returncode: int = None

  @property
  def name(self):
    return '%s %d' % (self.job, self.index)

  @property
  def is_chief(self):
    return self.job == 'worker' and self.index == 0


class LocalCluster:
  """A ps/worker cluster of local processes (see the module docstring)."""

  def __init__(self, num_ps, num_workers, train_args, log_dir,
               script=DEFAULT_SCRIPT, max_restarts=3, grace_secs=60.0,
               host='localhost', slim_flags=False, log=None):
    # Checked here, not with resnet_utils.checks: importing resnet_utils
    # loads TensorFlow, which the launcher itself never needs.
    if num_workers < 1:
      raise ValueError('--workers must be a positive integer; got %d.'
                       % num_workers)
    if num_ps < 0:
      raise ValueError('--ps must be a non-negative integer; got %d.'
                       % num_ps)
    if num_workers > 1 and num_ps < 1:
      raise ValueError('--workers=%d needs --ps >= 1: the workers share '
                       'their variables through parameter servers.'
                       % num_workers)
    if max_restarts < 0:
      raise ValueError('--max_restarts must be a non-negative integer; got '
                       '%d.' % max_restarts)
    if not os.path.isfile(script):
      # The scripts live at the repository's root, not in an installed
      # package: from a wheel, --script must say where the trainer is.
      raise ValueError('--script %s is not a file; pass --script=<path to '
                       'train_image_classifier.py> (the scripts come with '
                       'the repository, not with the installed package).'
                       % script)
    self.spec = cluster_spec(num_ps, num_workers, host)
    self.log_dir = log_dir
    self.max_restarts = max_restarts
    self.grace_secs = grace_secs
    self._log = log or (lambda message: print('local_cluster: ' + message,
                                              flush=True))
    base_env = dict(os.environ, PYTHONUNBUFFERED='1')
    base_env.pop('TF_CONFIG', None)
    self.tasks = []

    def add(job, index, command, env):
      self.tasks.append(Task(job, index, command, env, os.path.join(
          log_dir, '%s_%d.log' % (job, index))))

    server = [sys.executable, '-m', 'slim_resnets.distributed.server']
    for index in range(num_ps):
      add('ps', index, server,
          dict(base_env, TF_CONFIG=tf_config(self.spec, 'ps', index)))
    for index in range(num_workers):
      trainer = [sys.executable, script] + list(train_args)
      if slim_flags:
        # The worker's server is a process of its own; the trainer only
        # connects to it, as trainers did on clusters run by slim's flags.
        add('server', index, server,
            dict(base_env, TF_CONFIG=tf_config(self.spec, 'worker', index)))
        trainer += ['--master=grpc://%s' % self.spec['worker'][index],
                    '--task=%d' % index, '--worker_replicas=%d' % num_workers,
                    '--num_ps_tasks=%d' % num_ps]
        add('worker', index, trainer, base_env)
      else:
        add('worker', index, trainer,
            dict(base_env, TF_CONFIG=tf_config(self.spec, 'worker', index)))
    self._stopping = None

  @property
  def workers(self):
    return [t for t in self.tasks if t.job == 'worker']

  @property
  def servers(self):
    """The ps tasks, and the workers' servers when they run on their own."""
    return [t for t in self.tasks if t.job in ('ps', 'server')]

  def _start(self, task):
    with open(task.log_path, 'a') as log_file:
      log_file.write('==== local_cluster: starting %s (start %d) ====\n'
                     % (task.name, task.restarts + 1))
      log_file.flush()
      task.process = subprocess.Popen(
          task.command, env=task.env, cwd=ROOT, stdout=log_file,
          stderr=subprocess.STDOUT, start_new_session=True)
    task.returncode = None
    self._log('started %s (pid %d), log %s'
              % (task.name, task.process.pid, task.log_path))

  def start(self):
    os.makedirs(self.log_dir, exist_ok=True)
    self._log('cluster %s' % json.dumps(self.spec))
    for task in self.tasks:
      self._start(task)

  def _signal(self, tasks, signum):
    for task in tasks:
      if task.process is not None and task.process.poll() is None:
        try:
          task.process.send_signal(signum)
        except ProcessLookupError:
          pass

  def _wait(self, tasks, seconds):
    """Waits until every task in `tasks` has exited, or `seconds` passed."""
    deadline = time.time() + seconds
    for task in tasks:
      if task.process is None:
        continue
      try:
        task.process.wait(max(0.0, deadline - time.time()))
      except subprocess.TimeoutExpired:
        return False
    return True

  def stop(self, tasks=None, term_secs=10.0):
    """SIGTERM, then SIGKILL after `term_secs`, to `tasks` (default all)."""
    tasks = self.tasks if tasks is None else tasks
    self._signal(tasks, signal.SIGTERM)
    if not self._wait(tasks, term_secs):
      self._signal(tasks, signal.SIGKILL)
      self._wait(tasks, term_secs)

  def _tail(self, task, lines=15):
    try:
      with open(task.log_path) as f:
        return ''.join(f.readlines()[-lines:])
    except OSError:
      return ''

  def _request_stop(self, signum, frame):
    del frame
    self._stopping = signum

  def run(self, poll_secs=0.2):
    """Starts the cluster and supervises it; returns an exit status."""
    previous = {s: signal.signal(s, self._request_stop)
                for s in (signal.SIGINT, signal.SIGTERM)}
    try:
      self.start()
      return self._supervise(poll_secs)
    finally:
      for signum, handler in previous.items():
        signal.signal(signum, handler)
      self.stop()

  def _supervise(self, poll_secs):
    while True:
      if self._stopping is not None:
        self._log('signal %d: stopping the workers, then the ps tasks'
                  % self._stopping)
        self.stop(self.workers, term_secs=self.grace_secs)
        self.stop(self.servers)
        return 128 + self._stopping
      for task in self.tasks:
        if task.process is None or task.returncode is not None:
          continue
        code = task.process.poll()
        if code is None:
          continue
        task.returncode = code
        status = self._on_exit(task, code)
        if status is not None:
          return status
      time.sleep(poll_secs)

  def _on_exit(self, task, code):
    """Reacts to `task` exiting with `code`; an exit status ends the run."""
    if code == 0 and task.job == 'worker':
      self._log('%s finished' % task.name)
      if task.is_chief:
        others = [t for t in self.workers
                  if not t.is_chief and t.returncode is None]
        self._wait(others, self.grace_secs)
        for other in others:
          code = other.process.poll()
          if code is None:
            self._log('%s still running %.0f s after the chief finished; '
                      'stopping it' % (other.name, self.grace_secs))
          else:
            other.returncode = code
            self._log('%s finished' % other.name if code == 0 else
                      '%s exited with status %d' % (other.name, code))
        self.stop(others)
        self.stop(self.servers)
        self._log('done')
        return 0
      return None
    if task.job in ('ps', 'server'):
      self._log('%s exited with status %d; the state it held is lost. '
                'Stopping the cluster; run it again to resume from the last '
                'checkpoint.\n%s' % (task.name, code, self._tail(task)))
      return 1
    if code in (console.USAGE_ERROR, console.DATA_ERROR):
      self._log('%s refused its %s; stopping the cluster.\n%s'
                % (task.name, 'flags' if code == console.USAGE_ERROR
                   else 'data', self._tail(task)))
      return code
    if task.restarts >= self.max_restarts:
      self._log('%s exited with status %d after %d restart(s); stopping the '
                'cluster.\n%s' % (task.name, code, task.restarts,
                                  self._tail(task)))
      return 1
    task.restarts += 1
    self._log('%s exited with status %d; restarting it (%d of %d)'
              % (task.name, code, task.restarts, self.max_restarts))
    self._start(task)
    return None


def parse_args(argv):
  """(launcher options, train flags) from argv (without the program name)."""
  if '--' in argv:
    split = argv.index('--')
    own, train_args = argv[:split], argv[split + 1:]
  else:
    own, train_args = argv, []
  parser = argparse.ArgumentParser(
      prog='python -m slim_resnets.distributed.local_cluster',
      description='Runs ps and worker tasks of train_image_classifier.py as '
      'local processes; flags after -- go to every worker.')
  parser.add_argument('--ps', type=int, default=1,
                      help='parameter server tasks (default 1)')
  parser.add_argument('--workers', type=int, default=2,
                      help='worker tasks; worker 0 is the chief (default 2)')
  parser.add_argument('--max_restarts', type=int, default=3,
                      help='restarts allowed per worker (default 3)')
  parser.add_argument('--grace_secs', type=float, default=60.0,
                      help='seconds the other workers get to finish after '
                      'the chief, and to stop after a signal (default 60)')
  parser.add_argument('--log_dir', default=None,
                      help='where task logs go (default: local_cluster_<pid> '
                      'in the temporary directory)')
  parser.add_argument('--slim_flags', action='store_true',
                      help='tell the trainers their place with slim\'s '
                      '--master/--task/--worker_replicas/--num_ps_tasks '
                      'instead of TF_CONFIG; each worker\'s server then runs '
                      'as a process of its own '
                      '(python -m slim_resnets.distributed.server)')
  parser.add_argument('--script', default=DEFAULT_SCRIPT,
                      help='the training script each worker runs')
  return parser.parse_args(own), train_args


def check_train_flags(train_args):
  """Parses the workers' flags as train_image_classifier.py will.

  A misspelt flag would otherwise only show when every worker has started
  TensorFlow and failed.

  Raises:
    ValueError: naming the flag that cannot be parsed.
  """
  # pylint: disable=g-import-not-at-top
  from absl import flags

  from slim_resnets.training import config as config_lib
  flag_values = flags.FlagValues()
  config_lib.define_flags(config_lib.TrainConfig, flags,
                          flag_values=flag_values)
  try:
    unparsed = flag_values(['train_image_classifier.py'] + list(train_args))
  except flags.Error as e:
    raise ValueError('flags after -- (for train_image_classifier.py): %s'
                     % e) from None
  if len(unparsed) > 1:
    raise ValueError('flags after -- (for train_image_classifier.py): '
                     'unexpected arguments %s' % ' '.join(unparsed[1:]))
  given = [name for name in CLUSTER_FLAGS
           if flag_values[name].value != flag_values[name].default]
  if given:
    raise ValueError('flags after -- (for train_image_classifier.py): the '
                     'launcher describes the cluster itself; drop --%s.'
                     % ', --'.join(given))


def main(argv=None):
  args, train_args = parse_args(sys.argv[1:] if argv is None else argv)
  log_dir = args.log_dir or os.path.join(tempfile.gettempdir(),
                                         'local_cluster_%d' % os.getpid())
  try:
    cluster = LocalCluster(args.ps, args.workers, train_args, log_dir,
                           script=args.script,
                           max_restarts=args.max_restarts,
                           grace_secs=args.grace_secs,
                           slim_flags=args.slim_flags)
    if args.script == DEFAULT_SCRIPT:
      check_train_flags(train_args)
  except ValueError as e:
    print('error: %s' % e, file=sys.stderr)
    return USAGE_ERROR
  return cluster.run()


if __name__ == '__main__':
  sys.exit(main())
