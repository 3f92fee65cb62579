"""Variable values that depend only on the variable's name.

Two graphs that build the same variables (NHWC and NCHW, float32 and
bfloat16, ours and an oracle) get identical weights this way without a
checkpoint, so their outputs can be compared directly. The ranges keep tiny
nets well-conditioned: variances positive, weights small enough that
activations neither vanish nor blow up over a few units.
"""

import numpy as np
import tensorflow.compat.v1 as tf


def deterministic_values(var):
  """float32 values for `var`, a function of its name and shape only."""
  seed = sum(ord(c) * (i + 1) for i, c in enumerate(var.op.name)) % 2**31
  values = np.random.RandomState(seed).uniform(
      -0.5, 0.5, var.shape.as_list()).astype(np.float32)
  if 'variance' in var.op.name:
    values = np.abs(values) + 0.5
  if 'weights' in var.op.name:
    values *= 0.3
  return values


def assign_deterministic(sess):
  """Gives every global variable its deterministic values, in one run."""
  sess.run(tf.group(*[var.assign(deterministic_values(var))
                      for var in tf.global_variables()]))
