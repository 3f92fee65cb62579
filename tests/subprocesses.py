"""Running the project's scripts from tests, several at once, or watched.

Each script pays TensorFlow's start-up (several seconds on 2 cores); tests
that need a few runs start them together and wait for all. `Watched` runs
one in the background and collects its output as it comes, for tests that
act on a run while it goes (signal it, kill it, wait for a step).
"""

import os
import subprocess
import threading

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_together(*commands, timeout=300, env=None):
  """Runs the argv lists in parallel from the repository root.

  `env` replaces the environment, which is otherwise this one with
  TensorFlow's C++ log level at 2.

  Returns:
    [(returncode, stdout and stderr together)] in the order given. Any
    process still running when this returns (on a timeout) is killed.
  """
  if env is None:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2')
  processes = [subprocess.Popen(command, cwd=ROOT, env=env,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
               for command in commands]
  try:
    outputs = [p.communicate(timeout=timeout)[0] for p in processes]
  finally:
    for process in processes:
      if process.poll() is None:
        process.kill()
  return [(p.returncode, out) for p, out in zip(processes, outputs)]


class Watched:
  """A process started from the repository root, its output collected."""

  def __init__(self, command):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2', PYTHONUNBUFFERED='1')
    self.process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    self._lines = []
    self._reader = threading.Thread(target=self._read, daemon=True)
    self._reader.start()

  def _read(self):
    for line in self.process.stdout:
      self._lines.append(line)

  @property
  def output(self):
    """Everything printed so far (stdout and stderr together)."""
    return ''.join(self._lines)

  def wait(self, timeout):
    """Exit code; the output is complete afterwards.

    Raises:
      subprocess.TimeoutExpired: still running after `timeout` seconds.
    """
    code = self.process.wait(timeout=timeout)
    self._reader.join(timeout=10)
    return code

  def kill(self):
    if self.process.poll() is None:
      self.process.kill()
      self.process.wait()
