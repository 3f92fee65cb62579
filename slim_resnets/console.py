"""What the scripts print and how they end: one convention for all of them.

Exit status, the same in every script:

  0    done (also --help, which absl alone ends with 1)
  1    a bug: an exception nobody expected, with its traceback
  2    a usage error: a flag or argument refused; one line names it and
       what it accepts
  3    a data error: an input file, dataset or checkpoint that cannot be
       used; one line names it and the fix
  130  stopped by SIGINT (Ctrl-C), 143 by SIGTERM: 128 + the signal's
       number, as shells report a process a signal ended. The run saved
       its state; the same command resumes it.

The console: TensorFlow's start-up lines from C++ (the absl pre-init
warning, the oneDNN banner, 'Could not find cuda drivers', 'failed call to
cuInit' on machines without a GPU), its deprecation notices and the Python
warnings raised inside TensorFlow and Keras are hidden, so a script prints
its own lines only. absl's `--verbosity` (`-v`) brings them back: at
`--verbosity=debug` (or 1) everything TensorFlow says is shown, and the
refused inputs print their traceback too. The flag takes absl's numbers or
the names debug, info, warning, error.

Only the scripts call this module (through `parse_flags`, which they hand
to `absl.app.run`); importing the library never changes a user's logging.
This module imports nothing of TensorFlow before it has set TensorFlow's
environment, which is why it lives at the package's root.
"""

import importlib
import logging
import os
import sys
import warnings

OK = 0  # 1 is Python's own status for an uncaught exception
USAGE_ERROR = 2
DATA_ERROR = 3

VERBOSITY_NAMES = {'debug': 1, 'info': 0, 'warning': -1, 'error': -2}
_HELP_FLAGS = ('-h', '-?', '--help', '--helpshort', '--helpfull',
               '--helpxml')


def interrupted_status(signum):
  """The exit status of a run that signal `signum` stopped."""
  return 128 + int(signum)


def say(message):
  """Prints one of a script's own lines at once, even into a pipe."""
  print(message, flush=True)


def fail(status, message):
  """Prints 'error: message' as one block on stderr and exits with status."""
  sys.stderr.flush()
  print('error: %s' % message, file=sys.stderr)
  sys.exit(status)


def _accept_verbosity_names(flag_values):
  """Lets absl's integer `--verbosity` flag take level names as well."""
  flag = flag_values['verbosity']
  parse = flag.parser.parse

  def parse_name_or_number(argument):
    if isinstance(argument, str) and argument.lower() in VERBOSITY_NAMES:
      return VERBOSITY_NAMES[argument.lower()]
    try:
      return parse(argument)
    except ValueError:
      raise ValueError('must be an integer or one of %s'
                       % ', '.join(VERBOSITY_NAMES)) from None

  flag.parser.parse = parse_name_or_number


def parse_flags(argv):
  """An `absl.app.run` flags parser: flag errors are usage errors (exit 2).

  absl reports a refused flag with exit status 1, the status of a bug;
  here it is one line and status 2, like every other refused input. Once
  the flags are known, TensorFlow is set up as `--verbosity` asks.
  """
  from absl import flags  # pylint: disable=g-import-not-at-top
  flag_values = flags.FLAGS
  _accept_verbosity_names(flag_values)
  try:
    remaining = flag_values(argv)
  except flags.Error as e:
    fail(USAGE_ERROR, '%s (--helpfull lists the flags).' % e)
  except SystemExit:
    # absl prints the asked-for help and exits with 1, a bug's status here.
    if any(arg.split('=')[0] in _HELP_FLAGS for arg in argv[1:]):
      sys.exit(OK)
    raise
  if len(remaining) > 1:
    fail(USAGE_ERROR, 'unexpected arguments: %s (every input is a flag; '
         '--helpfull lists them).' % ' '.join(remaining[1:]))
  verbosity = flag_values['verbosity'].value
  # absl turns an unset verbosity (-1) into 0 only after parsing.
  quiet_tensorflow(debug=verbosity is not None and verbosity >= 1)
  show_progress()
  return remaining


def show_progress(stream=None):
  """Prints the library's progress reports (slim_resnets.progress) as lines."""
  from slim_resnets import progress  # pylint: disable=g-import-not-at-top
  if progress.LOGGER.handlers:
    return
  handler = logging.StreamHandler(stream or sys.stdout)
  handler.setFormatter(logging.Formatter('%(message)s'))
  progress.LOGGER.addHandler(handler)
  progress.LOGGER.setLevel(logging.INFO)
  progress.LOGGER.propagate = False


def is_debug():
  """Whether the script runs with --verbosity=debug."""
  from absl import flags  # pylint: disable=g-import-not-at-top
  flag_values = flags.FLAGS
  return (flag_values.is_parsed() and 'verbosity' in flag_values and
          flag_values.verbosity >= 1)


class _DropDeprecationNotices(logging.Filter):
  """Drops TensorFlow's 'From ...: X is deprecated' log records."""

  def filter(self, record):
    message = str(record.msg)
    return not (message.startswith('From ') and 'deprecated' in message)


def quiet_tensorflow(debug=False):
  """Imports TensorFlow with its start-up noise hidden, unless `debug`.

  TensorFlow prints its start-up lines from C++ while it is imported,
  before it reads TF_CPP_MIN_LOG_LEVEL, so the only way to keep them off
  the console is to point the process's stderr elsewhere during the
  import. An import that fails is imported again with stderr in place, so
  its error is never hidden. TF_CPP_MIN_LOG_LEVEL=3 keeps the later C++
  lines away (errors that matter raise Python exceptions the scripts
  report) and passes to every process a script starts. A user's own
  TF_CPP_MIN_LOG_LEVEL wins.
  """
  if debug:
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '0')
    importlib.import_module('tensorflow')
    return
  os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
  for package in ('tensorflow', 'tf_keras', 'keras', 'tf_slim'):
    warnings.filterwarnings('ignore', module=package + r'(\.|$)')
  if 'tensorflow' not in sys.modules:
    _import_tensorflow_muted()
  importlib.import_module('tensorflow').get_logger().addFilter(
      _DropDeprecationNotices())


def _import_tensorflow_muted():
  sys.stdout.flush()
  sys.stderr.flush()
  saved = os.dup(2)
  devnull = os.open(os.devnull, os.O_WRONLY)
  try:
    os.dup2(devnull, 2)
    try:
      importlib.import_module('tensorflow')
    except Exception:  # pylint: disable=broad-except
      failed = True
    else:
      failed = False
    sys.stderr.flush()
  finally:
    os.dup2(saved, 2)
    os.close(saved)
    os.close(devnull)
  if failed:
    for name in [m for m in sys.modules if m.split('.')[0] == 'tensorflow']:
      del sys.modules[name]
    # The same import again, its error on the console this time.
    importlib.import_module('tensorflow')
