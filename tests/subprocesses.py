"""Running the project's scripts from tests, several at once.

Each script pays TensorFlow's start-up (several seconds on 2 cores); tests
that need a few runs start them together and wait for all.
"""

import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_together(*commands, timeout=300):
  """Runs the argv lists in parallel from the repository root.

  Returns:
    [(returncode, stdout and stderr together)] in the order given. Any
    process still running when this returns (on a timeout) is killed.
  """
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
