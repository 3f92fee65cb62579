"""Model clones: one training step spread over several local devices.

A clone is a copy of the network's computation on one device, sharing the
one set of variables. Each training batch is split along the batch axis
into `num_clones` equal parts; clone i computes the loss of part i on its
device, and the gradients of all clones are summed into the single update
the optimizer applies.

Why the sum is the right update: clone i's loss is its cross entropy (a mean
over its part) divided by `num_clones`, so the sum of the clones' losses is
the mean over the whole batch, and by linearity the sum of their gradients
is the gradient of that mean. Regularization losses belong to the variables,
not to the examples, so they are added once, to clone 0. A net without
batch-dependent layers therefore takes exactly the step one device would
take on the whole batch (`tests/test_clones.py` checks this).

Batch norm is the batch-dependent layer: in training each clone normalizes
by the statistics of its own part, as data-parallel replicas always have
(so the per-device batch, not the global one, is what batch norm sees).
Its moving averages are variables, updated once per step, from clone 0's
statistics: running every clone's update would move them `num_clones`
times per step.

Clone 0 keeps the network's own name scopes; clones 1.. are built under
name scopes `clone_1/`, ... with variable reuse, so variable names, and
therefore checkpoints, are the same for any number of clones.
"""

import contextlib

import tensorflow.compat.v1 as tf

from resnet_utils import checks


def check_num_clones(num_clones, batch_size):
  """`num_clones` must be a positive integer dividing `batch_size`."""
  checks.check_int(num_clones, 'num_clones')
  if batch_size % num_clones:
    raise ValueError(
        'num_clones=%d must divide batch_size=%d: each step splits the batch '
        'into equal parts, one per clone (batch_size is the global batch).'
        % (num_clones, batch_size))


def available_gpus():
  """Number of GPUs TensorFlow can see on this machine."""
  return len(tf.config.list_physical_devices('GPU'))


def clone_devices(num_clones, clone_on_cpu=False, num_gpus=None):
  """Device names of the clones: GPU i, or with `clone_on_cpu` CPU i.

  CPU clones run on virtual CPU devices, one per clone; the session must
  create them (`session_device_count`). They share the machine's cores, so
  they are for trying multi-device training without GPUs, not for speed.

  Raises:
    ValueError: when there are fewer GPUs than clones.
  """
  if num_clones == 1 and not clone_on_cpu:
    return ['']
  if clone_on_cpu:
    return ['/device:CPU:%d' % i for i in range(num_clones)]
  num_gpus = available_gpus() if num_gpus is None else num_gpus
  if num_clones > num_gpus:
    raise ValueError(
        'num_clones=%d needs %d GPUs and this machine has %d; pass '
        '--clone_on_cpu to run the clones on virtual CPU devices.'
        % (num_clones, num_clones, num_gpus))
  return ['/device:GPU:%d' % i for i in range(num_clones)]


def session_device_count(num_clones, clone_on_cpu):
  """The ConfigProto `device_count` the clones need ({} when none)."""
  if clone_on_cpu and num_clones > 1:
    return {'CPU': num_clones}
  return {}


def _clone_scope(index):
  """Name scope of clone `index`: none for clone 0, `clone_<i>` after."""
  if not index:
    return contextlib.nullcontext()
  return tf.name_scope('clone_%d' % index)


def build_clones(clone_fn, inputs, devices):
  """Calls `clone_fn` once per device on that device's part of `inputs`.

  Args:
    clone_fn: called as clone_fn(index, *parts) inside clone `index`'s
      device, name and variable scopes; returns anything.
    inputs: list of tensors whose first dimension is the batch.
    devices: from `clone_devices`; the batch is split in len(devices).

  Returns:
    list of clone_fn's results, in clone order.
  """
  num_clones = len(devices)
  if num_clones == 1:
    parts = [[tensor] for tensor in inputs]
  else:
    with tf.name_scope('split_batch'):
      parts = [tf.split(tensor, num_clones) for tensor in inputs]
  results = []
  for index, device in enumerate(devices):
    with _clone_scope(index), tf.device(device), tf.variable_scope(
        tf.get_variable_scope(), reuse=True if index else None):
      results.append(clone_fn(index, *[part[index] for part in parts]))
  return results


def clone_loss(index, num_clones, example_loss):
  """Clone `index`'s share of the total loss (see the module docstring).

  `example_loss` is the clone's mean loss over its part of the batch. Clone
  0 also carries the regularization losses.
  """
  loss = example_loss if num_clones == 1 else tf.div(
      example_loss, float(num_clones), name='scaled_loss')
  if index == 0:
    regularization = tf.losses.get_regularization_losses()
    if regularization:
      loss = tf.add_n([loss] + regularization, name='clone_loss')
  return loss


def sum_gradients(clone_grads_and_vars):
  """One (gradient, variable) list: each variable's gradients summed.

  Args:
    clone_grads_and_vars: per clone, the list from `compute_gradients`.
  """
  if len(clone_grads_and_vars) == 1:
    return list(clone_grads_and_vars[0])
  summed = []
  with tf.name_scope('sum_clone_gradients'):
    for pairs in zip(*clone_grads_and_vars):
      variable = pairs[0][1]
      grads = [grad for grad, _ in pairs if grad is not None]
      if not grads:
        summed.append((None, variable))
        continue
      if any(isinstance(grad, tf.IndexedSlices) for grad in grads):
        grad = tf.IndexedSlices(
            tf.concat([tf.convert_to_tensor(g.values) for g in grads], 0),
            tf.concat([g.indices for g in grads], 0), grads[0].dense_shape)
      else:
        grad = tf.add_n(grads) if len(grads) > 1 else grads[0]
      summed.append((grad, variable))
  return summed


def first_clone_update_ops(num_clones):
  """UPDATE_OPS of clone 0 only (batch norm moving averages, once a step).

  Clone 0 has no name scope of its own, so its ops are those outside every
  `clone_<i>/` scope.
  """
  update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
  if num_clones == 1:
    return update_ops
  others = tuple('clone_%d/' % i for i in range(1, num_clones))
  return [op for op in update_ops if not op.name.startswith(others)]
