"""Runs one TensorFlow gRPC server task until it is stopped.

    TF_CONFIG='{"cluster": {"ps": ["host0:2222"], "worker": ["host1:2222",
        "host2:2222"]}, "task": {"type": "ps", "index": 0}}' \\
        python -m slim_resnets.distributed.server

For clusters driven by slim's flags, whose trainers only connect to a
server (`--master=grpc://host1:2222 --task=0 --worker_replicas=2
--num_ps_tasks=1`): start one of these per task, ps and worker alike. With
TF_CONFIG the trainer starts its own server, and a ps task may run either
this or train_image_classifier.py.
"""

import signal

from absl import app

from slim_resnets import console


def serve(environ=None):
  """Starts the TF_CONFIG task's server and blocks until a signal."""
  # Imported here, after console.parse_flags has quieted TensorFlow.
  from slim_resnets.training import cluster as cluster_lib  # pylint: disable=g-import-not-at-top
  setup = cluster_lib.resolve(environ=environ)
  if setup is None or setup.cluster_spec is None:
    raise cluster_lib.ClusterError(
        '%s must describe the cluster and this task to start a server.'
        % cluster_lib.TF_CONFIG)
  server, setup = cluster_lib.start_server(setup)
  print('%s: serving at %s' % (setup.describe(), server.target), flush=True)
  # server.join() cannot be interrupted from Python; wait for a signal
  # instead (blocked first, so that it is queued for sigwait, not handled).
  stop = {signal.SIGINT, signal.SIGTERM}
  signal.pthread_sigmask(signal.SIG_BLOCK, stop)
  signum = signal.sigwait(stop)
  print('%s: stopped by signal %d' % (setup.describe(), signum), flush=True)


def main(argv):
  del argv  # console.parse_flags refuses positional arguments
  from slim_resnets.training import cluster as cluster_lib  # pylint: disable=g-import-not-at-top
  try:
    serve()
  except cluster_lib.ClusterError as e:
    console.fail(console.USAGE_ERROR, e)


if __name__ == '__main__':
  app.run(main, flags_parser=console.parse_flags)
