"""Makes tf-slim's layer functions work on current TensorFlow.

Why this module exists
----------------------
tf-slim builds `slim.batch_norm` on `tensorflow.python.layers.normalization`,
which TensorFlow 2.16+ forwards lazily to the module
`tf_keras.legacy_tf_layers.normalization`.  The tf-keras releases that match
those TensorFlow versions ship that code as `tf_keras.src.legacy_tf_layers`
instead, so the lazy import fails with

    ModuleNotFoundError: No module named 'tf_keras.legacy_tf_layers'

the first time a graph calls `slim.batch_norm`.  Nothing else in tf-slim's
layer stack is affected: convolutions and pooling still come from
TensorFlow's own bundled legacy layers.

The fix here is the narrowest one that works: an import hook that answers for
exactly the missing module name (and its submodules) by returning the module
that tf-keras actually ships.  It is appended to the *end* of
`sys.meta_path`, so Python's normal import machinery always gets the first
try; should a future tf-keras provide `tf_keras.legacy_tf_layers` again, the
hook is simply never consulted.  No TensorFlow setting is changed: eager
execution, Keras version selection and every other import behave exactly as
before.
"""

import importlib
import importlib.abc
import importlib.util
import sys

# The name TensorFlow asks for, and where tf-keras keeps that code today.
MISSING_PACKAGE = 'tf_keras.legacy_tf_layers'
SHIPPED_PACKAGE = 'tf_keras.src.legacy_tf_layers'

# What to tell a user whose environment lacks tf-keras.
_INSTALL_HINT = (
    "The 'tf-keras' package is required: tf-slim's batch_norm is built on its "
    "legacy layers. Install the release that matches your TensorFlow, e.g. "
    "`pip install tf-keras==2.21.*` for tensorflow 2.21.")


class MissingTfKerasError(ImportError):
  """Raised when tf-keras, which slim.batch_norm needs, is not installed."""


class LegacyLayersAliasFinder(importlib.abc.MetaPathFinder,
                              importlib.abc.Loader):
  """Resolves `tf_keras.legacy_tf_layers[.x]` to `tf_keras.src.legacy_tf_layers[.x]`.

  The "loader" does not execute any code of its own: `create_module` imports
  the real module under its real name and hands that very object back, so
  both names refer to one module and its classes keep a single identity
  (isinstance checks and layer registries see no difference).
  """

  def _is_ours(self, fullname):
    return (fullname == MISSING_PACKAGE or
            fullname.startswith(MISSING_PACKAGE + '.'))

  def find_spec(self, fullname, path=None, target=None):
    del path, target  # Unused: we answer by name only.
    if not self._is_ours(fullname):
      return None
    real_name = SHIPPED_PACKAGE + fullname[len(MISSING_PACKAGE):]
    try:
      real_spec = importlib.util.find_spec(real_name)
    except ModuleNotFoundError:
      real_spec = None
    if real_spec is None:
      # Let Python report the original name as missing.
      return None
    return importlib.util.spec_from_loader(
        fullname, self, is_package=real_spec.submodule_search_locations
        is not None)

  def create_module(self, spec):
    real_name = SHIPPED_PACKAGE + spec.name[len(MISSING_PACKAGE):]
    return importlib.import_module(real_name)

  def exec_module(self, module):
    del module  # Already executed under its real name by create_module.


def _tf_keras_available():
  try:
    return importlib.util.find_spec('tf_keras') is not None
  except (ImportError, ValueError):
    return False


def install():
  """Installs the import hook once; safe to call any number of times.

  Raises:
    MissingTfKerasError: if tf-keras is not installed at all, naming the
      package and how to install it.
  """
  if not _tf_keras_available():
    raise MissingTfKerasError(_INSTALL_HINT)
  if not any(isinstance(f, LegacyLayersAliasFinder) for f in sys.meta_path):
    sys.meta_path.append(LegacyLayersAliasFinder())


def is_installed():
  """True when the hook is active in this interpreter."""
  return any(isinstance(f, LegacyLayersAliasFinder) for f in sys.meta_path)
