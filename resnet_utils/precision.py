"""Mixed precision: float16 or bfloat16 compute on float32 master weights.

Why
---
Convolutions and the activations between them dominate a ResNet's time and
memory. Run in float16 or bfloat16 they take half the memory traffic, and on
GPUs with tensor cores (and CPUs with AVX512-BF16 or AMX) much less time.
The weights themselves, though, must stay float32: an SGD update is often
smaller than the spacing between neighbouring low-precision numbers (float16
has 11 significant bits, bfloat16 only 8), so updates applied to a
low-precision copy would round away and training would stall. Keeping float32
"master weights" also means the variables of a mixed-precision net are
exactly those of a float32 net, same names, shapes and dtype, so published
float32 checkpoints load unchanged and checkpoints written from
mixed-precision training are ordinary float32 checkpoints.

What runs in which precision
----------------------------
Under `precision_scope('float16')` (or 'bfloat16') the builders see a
variable scope whose custom getter creates every variable requested in the
compute dtype as float32, under the same name and in the same collections,
and hands the layer a cast of it. Feed the net images in the compute dtype
(`nets_factory.get_network_fn(..., precision=...)` does) and everything
downstream follows: convolutions, biases, ReLUs, pooling, the logits layer
and the softmax all run in low precision, while the gradients flow back
through the casts and arrive at the master weights in float32.

Batch norm is the exception. Its parameters (beta, gamma, moving mean and
variance) stay float32 even when requested in low precision: TensorFlow's
fused batch norm takes float16/bfloat16 activations together with float32
scale, offset and statistics, and computes the batch moments in float32.
Moving averages are what low precision cannot hold: bfloat16 cannot even
represent the default decay of 0.997 (its neighbours are 0.996 and 1), and
an update moves a statistic by 0.3% of its distance to the batch's value,
often less than the rounding step of a bfloat16 statistic (0.4% of it).

Regularization losses are made float32. tf-slim's conv2d (tf_keras' legacy
layers underneath) applies `weights_regularizer` to what the getter returns,
that is to the low-precision cast, so the L2 losses come out in the compute
dtype, and `tf.losses.get_total_loss()` cannot add them to float32 losses.
On leaving the scope each such loss is cast to float32. Its value then
carries the compute dtype's rounding (measured on small nets: 0.3-0.6% for
bfloat16, about 0.01% for float16), a negligible error on a weight decay
term. Regularizers that reach the getter itself (`slim.model_variable`)
are applied to the float32 master directly. Those layers also decide
whether a variable is new, and so needs a regularizer, by looking at what
the getter returned; a cast never is an existing variable, so a reusing
tower would add a second loss per weight: those duplicates are dropped.

Kernels. On the CPU, TensorFlow 2.21 runs bfloat16 in both layouts (oneDNN)
but float16 convolutions and max pooling in NHWC only; float16 NCHW is for
GPUs.

Loss scaling
------------
float16 has a narrow exponent range: numbers below about 6e-8 flush to zero
and above 65504 overflow. Small gradients of activations underflow on their
way back through the net unless the loss is multiplied by a large factor
first (and the gradients divided by it at the end), which is what
`slim_resnets.training.optimization.loss_scaled_optimizer` arranges.
bfloat16 has
float32's exponent range, so it needs no loss scaling; it pays for that with
fewer significant bits.

Usage
-----
    with slim.arg_scope(resnet_v2.resnet_arg_scope()):
      with precision.precision_scope('bfloat16') as dtype:
        logits, end_points = resnet_v2.resnet_v2_50(tf.cast(images, dtype))
    logits = tf.cast(logits, tf.float32)
"""

import contextlib
import functools

import tensorflow.compat.v1 as tf

from resnet_utils import checks

PRECISIONS = ('float32', 'float16', 'bfloat16')

_COMPUTE_DTYPES = {
    'float32': tf.float32,
    'float16': tf.float16,
    'bfloat16': tf.bfloat16,
}

# Variables that batch norm keeps in float32 whatever its inputs are.
BATCH_NORM_PARAMETERS = ('beta', 'gamma', 'moving_mean', 'moving_variance')


def check_precision(precision):
  """Returns `precision`; a ValueError naming the accepted values otherwise."""
  checks.check_choice(precision, PRECISIONS, 'precision')
  return precision


def compute_dtype(precision):
  """The tf.DType convolutions and activations run in under `precision`."""
  return _COMPUTE_DTYPES[check_precision(precision)]


def is_batch_norm_parameter(name):
  """True for a variable name whose last component is a batch norm parameter."""
  return name.rsplit('/', 1)[-1] in BATCH_NORM_PARAMETERS


def _as_float32_initializer(initializer):
  """A tensor initializer in float32, for a master created in float32.

  Initializer functions and objects are called by the variable store with
  the variable's (float32) dtype and need nothing; only a ready-made tensor
  carries its own dtype.
  """
  if isinstance(initializer, tf.Tensor) and initializer.dtype != tf.float32:
    return tf.cast(initializer, tf.float32)
  return initializer


def _was_created(variable, num_existing):
  """False if `variable` was among the first `num_existing` global variables."""
  existing = tf.get_collection(tf.GraphKeys.GLOBAL_VARIABLES)[:num_existing]
  return not any(v is variable for v in existing)


def _master_weight_getter(dtype, reused_reads):
  """A custom getter creating float32 masters for `dtype` requests.

  The cast op of each master that already existed (reuse) is added to
  `reused_reads` (operations hash in every mode, tensors do not), so that
  regularization losses computed on it can be told apart from those of the
  first creation (see `_fix_regularization_losses`).
  """

  def master_weight_getter(getter, name, *args, **kwargs):
    requested = kwargs.get('dtype')
    if requested is None or tf.as_dtype(requested).base_dtype != dtype:
      return getter(name, *args, **kwargs)
    kwargs['dtype'] = tf.float32
    if 'initializer' in kwargs:
      kwargs['initializer'] = _as_float32_initializer(kwargs['initializer'])
    num_existing = len(tf.get_collection(tf.GraphKeys.GLOBAL_VARIABLES))
    master = getter(name, *args, **kwargs)
    if is_batch_norm_parameter(name):
      return master
    # Custom getters run in the root name scope; name the cast after the
    # variable (e.g. 'net/conv1/weights/to_bfloat16'), as its reads are.
    with tf.name_scope(name + '/'):
      read = tf.cast(master, dtype, name='to_' + dtype.name)
    if not _was_created(master, num_existing):
      reused_reads.add(read.op)
    return read

  return master_weight_getter


def _compose(inner_getter, outer_getter):
  """`inner_getter` first, then `outer_getter`, as nested variable scopes do.

  Custom getters are called with the next getter as the keyword `getter`.
  """
  if outer_getter is None:
    return inner_getter

  def composed(getter, *args, **kwargs):
    return inner_getter(functools.partial(outer_getter, getter), *args,
                        **kwargs)

  return composed


def _depends_on(tensor, ops):
  """True if `tensor` is computed by or from any operation in `ops`."""
  pending, seen = [tensor.op], set()
  while pending:
    op = pending.pop()
    if op in ops:
      return True
    if op not in seen:
      seen.add(op)
      pending.extend(t.op for t in op.inputs)
  return False


def _fix_regularization_losses(graph, start, reused_reads):
  """Makes the losses added since `start` float32, without duplicates.

  The legacy layers skip the regularizer of a reused variable by checking
  whether what the getter returned is an existing variable; a cast never is,
  so on reuse they add a second loss for the same weights. Those are
  dropped, as a float32 build never adds them. The others are cast to
  float32 where needed, in their own name scope so that they still sort
  under their layer.
  """
  losses = graph.get_collection_ref(tf.GraphKeys.REGULARIZATION_LOSSES)
  fixed = []
  for loss in losses[start:]:
    if reused_reads and _depends_on(loss, reused_reads):
      continue
    if loss.dtype.base_dtype != tf.float32:
      with graph.as_default(), tf.name_scope(loss.op.name + '/'):
        loss = tf.cast(loss, tf.float32, name='to_float32')
    fixed.append(loss)
  losses[start:] = fixed


def _check_no_low_precision_variables(graph, start, dtype):
  """Raises a ValueError if a variable created since `start` is in `dtype`.

  That happens when a variable scope is re-entered by its object
  (`tf.variable_scope(scope)` rather than by name): TensorFlow then gives it
  that object's custom getter, not the enclosing one. The resulting
  low-precision variables would break checkpoint compatibility silently.
  """
  created = graph.get_collection(tf.GraphKeys.GLOBAL_VARIABLES)[start:]
  low = [v.op.name for v in created if v.dtype.base_dtype == dtype]
  if low:
    raise ValueError(
        'precision_scope(%r) created variables in %s instead of float32: %s. '
        'Was a variable scope re-entered by its object? Such a scope does '
        'not inherit the enclosing custom getter; enter it by name, or enter '
        'precision_scope inside it.' % (dtype.name, dtype.name,
                                         ', '.join(low)))


@contextlib.contextmanager
def precision_scope(precision):
  """Builds what is inside in `precision` on float32 master weights.

  For 'float32' nothing changes. For 'float16' and 'bfloat16' the current
  variable scope gets (for the duration of the block) a custom getter that
  creates variables requested in that dtype as float32 and returns them cast
  to it; batch norm parameters stay float32 uncast. An outer custom getter
  still applies, and sees the float32 requests; `reuse` works as without
  the scope. On exit the regularization losses added inside are made float32.

  The getter is installed on the current variable scope object for the
  duration of the block (so build in one thread at a time), and scopes
  opened inside by name inherit it. A scope re-entered by its object
  (`tf.variable_scope(scope_object)`) does not, in TensorFlow; variables it
  would create in low precision make the block raise on exit.

  The inputs are not cast: pass the builder tensors in the compute dtype
  (the block's `as` target).

  Args:
    precision: one of PRECISIONS.

  Yields:
    The compute dtype (tf.float32, tf.float16 or tf.bfloat16).

  Raises:
    ValueError: for a precision not in PRECISIONS, or on exit if a variable
      was created in the compute dtype after all.
  """
  dtype = compute_dtype(precision)
  if dtype == tf.float32:
    yield dtype
    return
  graph = tf.get_default_graph()
  start = len(graph.get_collection(tf.GraphKeys.REGULARIZATION_LOSSES))
  reused_reads = set()
  # The getter is set on the current scope object rather than by re-entering
  # it with tf.variable_scope: re-entering resets the counters behind
  # default scope names on exit, so two nets built with default names would
  # both be named e.g. 'resnet_v2' and collide.
  scope = tf.get_variable_scope()
  outer_getter = scope.custom_getter
  scope.set_custom_getter(
      _compose(_master_weight_getter(dtype, reused_reads), outer_getter))
  num_variables = len(graph.get_collection(tf.GraphKeys.GLOBAL_VARIABLES))
  try:
    yield dtype
  finally:
    scope.set_custom_getter(outer_getter)
  _check_no_low_precision_variables(graph, num_variables, dtype)
  _fix_regularization_losses(graph, start, reused_reads)
