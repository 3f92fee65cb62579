"""Makes tf-slim's layer functions work on current TensorFlow.

Why this module exists
----------------------
tf-slim 1.1.0 was written against TensorFlow 2.2. On TensorFlow 2.16+ two
things it relies on have moved:

1. `slim.batch_norm` is built on `tensorflow.python.layers.normalization`,
   which TensorFlow now forwards lazily to `tf_keras.legacy_tf_layers`. The
   matching tf-keras releases ship that code as `tf_keras.src.legacy_tf_layers`,
   so the first `slim.batch_norm` call fails with
   `ModuleNotFoundError: No module named 'tf_keras.legacy_tf_layers'`.
2. Several tf-slim helpers test `isinstance(x, ops.Tensor)` with
   `ops = tensorflow.python.framework.ops`, which no longer has a `Tensor`
   attribute (the class lives in `tensorflow.python.framework.tensor`). That
   path is taken by `slim.batch_norm(updates_collections=None)`, by batch
   norm on rank-2 inputs and by `zero_debias_moving_mean`, and fails with an
   AttributeError.

The fixes are as narrow as they can be:

1. An import hook answers for exactly the missing name
   `tf_keras.legacy_tf_layers` (and names below it) and hands out the modules
   tf-keras really ships. It sits at the *end* of `sys.meta_path`, so the
   normal import machinery always gets the first try: should a tf-keras
   release provide the package again, the hook is never consulted. Each
   aliased submodule is the very object imported under its real name, so
   classes keep a single identity.
2. Inside the few tf-slim modules that use `ops.Tensor`, the name `ops` is
   rebound to a thin view of TensorFlow's `ops` module that adds `Tensor`.
   TensorFlow's own module is not modified.

No TensorFlow setting is changed: eager execution, Keras version selection and
every other import behave exactly as before.

Separately, and only when asked (`enable_v1_layers`), `tf.compat.v1.layers`
can be pointed at the TF1 layers tf-keras ships, for client code written
with them (DeepLab-style heads); see that function.
"""

import importlib
import importlib.abc
import importlib.util
import sys
import types

# The name TensorFlow asks for, and where tf-keras keeps that code today.
MISSING_PACKAGE = 'tf_keras.legacy_tf_layers'
SHIPPED_PACKAGE = 'tf_keras.src.legacy_tf_layers'

# tf-slim modules, and the name under which each imported TensorFlow's `ops`.
_SLIM_MODULES_USING_OPS_TENSOR = (
    ('tf_slim.layers.utils', 'ops'),
    ('tf_slim.layers.optimizers', 'ops'),
    ('tf_slim.layers.rev_block_lib', 'framework_ops'),
    ('tf_slim.learning', 'ops'),
)

# What to tell a user whose environment lacks tf-keras.
_INSTALL_HINT = (
    "The 'tf-keras' package is required: tf-slim's batch_norm is built on its "
    "legacy layers. Install the release that matches your TensorFlow, e.g. "
    "`pip install tf-keras==2.21.*` for tensorflow 2.21.")


class MissingTfKerasError(ImportError):
  """Raised when tf-keras, which slim.batch_norm needs, is not installed."""


def _real_name(alias):
  return SHIPPED_PACKAGE + alias[len(MISSING_PACKAGE):]


class LegacyLayersAliasFinder(importlib.abc.MetaPathFinder,
                              importlib.abc.Loader):
  """Serves `tf_keras.legacy_tf_layers[.x]` from its `tf_keras.src` home.

  The package itself is served as a small stand-in module that forwards
  attribute access to the real package and has an empty `__path__`: the
  normal finders then find no files below it, so every submodule import comes
  back to this hook, which returns the real submodule object. (Returning the
  real package instead would let Python's file finder execute the
  submodules' files a second time under the alias names, giving two copies
  of every class.)
  """

  def find_spec(self, fullname, path=None, target=None):
    del path, target  # Unused: we answer by name only.
    if not (fullname == MISSING_PACKAGE or
            fullname.startswith(MISSING_PACKAGE + '.')):
      return None
    try:
      real_spec = importlib.util.find_spec(_real_name(fullname))
    except ModuleNotFoundError:
      real_spec = None
    if real_spec is None:
      return None  # Python then reports the alias name as missing.
    return importlib.util.spec_from_loader(
        fullname, self, is_package=fullname == MISSING_PACKAGE)

  def create_module(self, spec):
    real = importlib.import_module(_real_name(spec.name))
    if spec.name != MISSING_PACKAGE:
      return real
    stand_in = types.ModuleType(spec.name, real.__doc__)
    stand_in.__getattr__ = lambda name: getattr(real, name)
    return stand_in

  def exec_module(self, module):
    if module.__name__ == MISSING_PACKAGE:
      module.__path__ = []  # Submodules are found by name, by this hook.


class _OpsWithTensor(types.ModuleType):
  """TensorFlow's `ops` module as tf-slim expects it, with `Tensor` added."""

  def __init__(self, ops_module, tensor_class):
    super().__init__(ops_module.__name__, ops_module.__doc__)
    self.__dict__['_ops'] = ops_module
    self.Tensor = tensor_class

  def __getattr__(self, name):
    return getattr(self.__dict__['_ops'], name)


def _restore_ops_tensor_in_tf_slim():
  """Gives tf-slim's modules an `ops` view with `Tensor` where it is missing."""
  from tensorflow.python.framework import ops  # pylint: disable=g-import-not-at-top
  if hasattr(ops, 'Tensor'):
    return
  from tensorflow.python.framework import tensor  # pylint: disable=g-import-not-at-top
  view = _OpsWithTensor(ops, tensor.Tensor)
  for module_name, attribute in _SLIM_MODULES_USING_OPS_TENSOR:
    module = importlib.import_module(module_name)
    if getattr(module, attribute, None) is ops:
      setattr(module, attribute, view)


def _tf_keras_available():
  try:
    return importlib.util.find_spec('tf_keras') is not None
  except (ImportError, ValueError):
    return False


def install():
  """Applies both fixes once; safe to call any number of times.

  Raises:
    MissingTfKerasError: if tf-keras is not installed at all, naming the
      package and how to install it.
  """
  if not _tf_keras_available():
    raise MissingTfKerasError(_INSTALL_HINT)
  if not is_installed():
    sys.meta_path.append(LegacyLayersAliasFinder())
  _restore_ops_tensor_in_tf_slim()


def is_installed():
  """True when the import hook is active in this interpreter."""
  return any(isinstance(f, LegacyLayersAliasFinder) for f in sys.meta_path)


# `tf.compat.v1.layers` (conv2d, batch_normalization, dropout, dense, ...):
# with Keras 3 TensorFlow routes the name to Keras 3, which has no TF1
# layers, and every call raises "`conv2d` is not available with Keras 3".
# tf-keras still ships them, here.
V1_LAYERS_MODULE = 'tf_keras.api._v1.keras.__internal__.legacy.layers'
_replaced_v1_layers = {}  # id(module) -> (module, its `layers` before)


def _compat_v1_modules():
  """Every module a user reaches as `...compat.v1`: `tensorflow.compat.v1`
  (`import tensorflow as tf; tf.compat.v1`) and the `compat.v1` seen from
  inside the v1 and v2 APIs (`tf.compat.v1.compat.v1`, ...)."""
  top = importlib.import_module('tensorflow.compat.v1')
  found = {id(top): top}
  for api in ('tensorflow.compat.v1', 'tensorflow.compat.v2'):
    module = getattr(getattr(importlib.import_module(api), 'compat', None),
                     'v1', None)
    if isinstance(module, types.ModuleType):
      found[id(module)] = module
  return list(found.values())


def enable_v1_layers():
  """Opt-in: makes `tf.compat.v1.layers` tf-keras's TF1 layers again.

  DeepLab-style client code builds its heads with `tf.compat.v1.layers`
  (`conv2d`, `batch_normalization`, `dropout`), which fails on TensorFlow
  2.16+ with Keras 3. After this call `tf.compat.v1.layers` is the module
  tf-keras ships, with the same functions, variable scopes and UPDATE_OPS
  as in TensorFlow 1. It changes a TensorFlow attribute for the whole
  process, so importing this package never does it: call it yourself, once,
  before building such a graph. `disable_v1_layers` undoes it.

  Returns:
    The module now at `tf.compat.v1.layers`.

  Raises:
    MissingTfKerasError: if tf-keras is not installed.
  """
  if not _tf_keras_available():
    raise MissingTfKerasError(_INSTALL_HINT)
  layers = importlib.import_module(V1_LAYERS_MODULE)
  for module in _compat_v1_modules():
    if module.__dict__.get('layers') is not layers:
      _replaced_v1_layers[id(module)] = (module, module.__dict__.get('layers'))
      module.layers = layers
  return layers


def disable_v1_layers():
  """Puts back what `enable_v1_layers` replaced (TensorFlow's own loader)."""
  for module, layers in _replaced_v1_layers.values():
    module.layers = layers
  _replaced_v1_layers.clear()
