"""A local cluster run from tests: the launcher in a subprocess, watched.

`ClusterRun` starts `python -m slim_resnets.distributed.local_cluster` with
training
flags, follows the launcher's own output (which task has which pid, what
it restarted) and the tasks' log files, and can kill a task to test what
happens next. Everything it started is killed when it is closed.
"""

import os
import re
import signal
import subprocess
import sys
import time

from slim_resnets.training import config as config_lib

import subprocesses

ROOT = subprocesses.ROOT
_STEP = re.compile(r'step (\d+): loss')
_STARTED = re.compile(r'started (\w+ \d+) \(pid (\d+)\)')


class ClusterRun(subprocesses.Watched):
  """One `slim_resnets.distributed.local_cluster` run (see the module doc)."""

  def __init__(self, config, log_dir, ps=1, workers=2, max_restarts=3,
               grace_secs=180, launcher_args=()):
    """`grace_secs`: how long the launcher lets the other workers finish
    after the chief has. Its wait ends as soon as they exit, so a generous
    bound costs nothing; it lets a worker that a busy machine started late
    (still importing TensorFlow when the chief is done) end on its own.
    """
    self.log_dir = str(log_dir)
    super().__init__(
        [sys.executable, '-m', 'slim_resnets.distributed.local_cluster',
         '--ps', str(ps),
         '--workers', str(workers), '--max_restarts', str(max_restarts),
         '--grace_secs', str(grace_secs), '--log_dir', self.log_dir] +
        list(launcher_args) + ['--'] + config_lib.to_flags(config))

  def pids(self):
    """{task name: pid of its latest start}, e.g. {'worker 1': 1234}."""
    return {name: int(pid) for name, pid in _STARTED.findall(self.output)}

  def task_log(self, task):
    path = os.path.join(self.log_dir, task.replace(' ', '_') + '.log')
    try:
      with open(path) as f:
        return f.read()
    except FileNotFoundError:
      return ''

  def last_step(self, task, start=None):
    """Latest step `task` logged (in its `start`-th start, default latest)."""
    log = self.task_log(task).split('==== local_cluster: starting')
    steps = _STEP.findall(log[-1] if start is None else log[start])
    return int(steps[-1]) if steps else -1

  def cluster_step(self):
    """The highest global step any worker has logged (-1: none yet).

    With replicas, one worker may take every step while another waits for
    its turn, so the cluster's progress is the most advanced log, not any
    particular worker's.
    """
    return max((self.last_step(task) for task in self.pids()
                if task.startswith('worker')), default=-1)

  def joined(self, task):
    """Whether `task` has started its server and is creating its session."""
    log = self.task_log(task).split('==== local_cluster: starting')[-1]
    return 'session target grpc://' in log

  def wait_for(self, condition, timeout, what):
    """Polls `condition()` until true; raises naming `what` otherwise."""
    deadline = time.time() + timeout
    while time.time() < deadline:
      if condition():
        return
      if self.process.poll() is not None:
        raise AssertionError('cluster ended before %s:\n%s'
                             % (what, self.output))
      time.sleep(0.2)
    raise AssertionError('no %s in %d s:\n%s' % (what, timeout, self.output))

  def wait_for_cluster_step(self, step, timeout):
    self.wait_for(lambda: self.cluster_step() >= step, timeout,
                  'step %d' % step)

  def kill_task(self, task, signum=signal.SIGKILL):
    os.kill(self.pids()[task], signum)

  def wait(self, timeout):
    """The launcher's exit status; raises if it runs past `timeout`."""
    try:
      return super().wait(timeout)
    except subprocess.TimeoutExpired:
      self.close()
      raise AssertionError('cluster still running after %d s:\n%s'
                           % (timeout, self.output)) from None

  def close(self):
    """Kills the launcher and every task it started."""
    self.kill()
    for pid in self.pids().values():
      try:
        os.kill(pid, signal.SIGKILL)
      except ProcessLookupError:
        pass
