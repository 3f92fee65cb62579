"""Learning-rate schedules and optimizers, chosen by name as slim's flags do."""

import math
import numbers

import tensorflow.compat.v1 as tf

from resnet_utils import checks
from resnet_utils import precision as precision_lib

OPTIMIZERS = ('adadelta', 'adagrad', 'adam', 'ftrl', 'momentum', 'rmsprop',
              'sgd')
DECAY_TYPES = ('exponential', 'fixed', 'polynomial')


def learning_rate(config, num_samples_per_epoch, global_step,
                  examples_per_step=None):
  """The learning-rate tensor for `config.learning_rate_decay_type`.

  Decay happens every `num_epochs_per_decay` epochs, counted in global
  steps of `examples_per_step` examples (default `batch_size`; synchronous
  replicas make one global step of `batch_size` times
  `replicas_to_aggregate`, so the schedule is the same per epoch however
  many workers share it): exponential decay multiplies the rate by
  `learning_rate_decay_factor` at each such boundary (staircase), polynomial
  decay falls linearly to `end_learning_rate` over one decay period and stays
  there, fixed keeps it constant.
  """
  checks.check_choice(config.learning_rate_decay_type, DECAY_TYPES,
               'learning_rate_decay_type')
  decay_steps = max(1, int(num_samples_per_epoch * config.num_epochs_per_decay
                           / (examples_per_step or config.batch_size)))
  if config.learning_rate_decay_type == 'exponential':
    return tf.train.exponential_decay(
        config.learning_rate, global_step, decay_steps,
        config.learning_rate_decay_factor, staircase=True,
        name='exponential_decay_learning_rate')
  if config.learning_rate_decay_type == 'fixed':
    return tf.constant(config.learning_rate, name='fixed_learning_rate')
  return tf.train.polynomial_decay(
      config.learning_rate, global_step, decay_steps,
      config.end_learning_rate, power=1.0, cycle=False,
      name='polynomial_decay_learning_rate')


def optimizer(config, lr):
  """The tf.compat.v1 optimizer `config.optimizer` with its options."""
  checks.check_choice(config.optimizer, OPTIMIZERS, 'optimizer')
  name = config.optimizer
  if name == 'adadelta':
    return tf.train.AdadeltaOptimizer(lr, rho=config.adadelta_rho,
                                      epsilon=config.opt_epsilon)
  if name == 'adagrad':
    return tf.train.AdagradOptimizer(
        lr, initial_accumulator_value=config.adagrad_initial_accumulator_value)
  if name == 'adam':
    return tf.train.AdamOptimizer(lr, beta1=config.adam_beta1,
                                  beta2=config.adam_beta2,
                                  epsilon=config.opt_epsilon)
  if name == 'ftrl':
    return tf.train.FtrlOptimizer(
        lr, learning_rate_power=config.ftrl_learning_rate_power,
        initial_accumulator_value=config.ftrl_initial_accumulator_value,
        l1_regularization_strength=config.ftrl_l1,
        l2_regularization_strength=config.ftrl_l2)
  if name == 'momentum':
    return tf.train.MomentumOptimizer(lr, momentum=config.momentum,
                                      name='Momentum')
  if name == 'rmsprop':
    return tf.train.RMSPropOptimizer(lr, decay=config.rmsprop_decay,
                                     momentum=config.rmsprop_momentum,
                                     epsilon=config.opt_epsilon)
  return tf.train.GradientDescentOptimizer(lr)


def check_loss_scale(loss_scale, precision='float16'):
  """Returns `loss_scale` (None, or a float); a ValueError if it is unusable.

  None asks for dynamic loss scaling, or for none at all outside float16.
  A number must be positive and finite, and is only accepted with 'float16':
  float32 and bfloat16 do not scale the loss, so a scale given with them
  would silently do nothing.
  """
  precision_lib.check_precision(precision)
  if loss_scale is None:
    return None
  if precision != 'float16':
    raise ValueError(
        'loss_scale applies to precision float16 only (bfloat16 has '
        "float32's exponent range); got loss_scale=%r with precision %r."
        % (loss_scale, precision))
  if (isinstance(loss_scale, bool) or
      not isinstance(loss_scale, numbers.Real) or
      not math.isfinite(loss_scale) or loss_scale <= 0):
    raise ValueError('loss_scale must be None (dynamic loss scaling) or a '
                     'positive finite number; got %r.' % (loss_scale,))
  return float(loss_scale)


def loss_scaled_optimizer(optimizer, precision, loss_scale=None):
  """`optimizer` with the loss scaling that training in `precision` needs.

  float16 gradients underflow: the gradients of small activations fall
  below float16's smallest numbers (about 6e-8) on their way back through
  the net. For 'float16' the tf.compat.v1 `optimizer` is therefore wrapped
  in TensorFlow's own
  `tf.compat.v1.mixed_precision.MixedPrecisionLossScaleOptimizer`, which
  multiplies the loss by the loss scale before differentiating and divides
  the gradients by it before applying them: the gradients the variables see
  are unchanged, the intermediate ones stay representable.

  With `loss_scale=None` the scale is dynamic: it starts high (2**15), is
  halved at every step whose gradients are not all finite, and that step is
  skipped (no variable changes, the global step does not advance); after
  2000 finite steps in a row it is doubled again. A number gives a fixed
  scale instead; a step with non-finite gradients is then applied as it is,
  so choose it with headroom.

  float32 needs no scaling, and neither does bfloat16, whose exponent range
  is float32's: for both the optimizer is returned unchanged.

  Call it in the graph the training op is built in: a dynamic scale keeps
  its state in two non-trainable variables ('current_loss_scale', float32,
  and 'good_steps', int64), which checkpoints then hold too.

  Args:
    optimizer: a `tf.compat.v1.train.Optimizer`.
    precision: one of `resnet_utils.precision.PRECISIONS`.
    loss_scale: None for dynamic loss scaling, or a fixed positive number;
      only accepted with 'float16'.

  Returns:
    A `tf.compat.v1.train.Optimizer` with `minimize`, `compute_gradients` and
    `apply_gradients` as usual.

  Raises:
    ValueError: for an unknown `precision`, or a `loss_scale` that
      `check_loss_scale` refuses.
  """
  loss_scale = check_loss_scale(loss_scale, precision)
  if precision != 'float16':
    return optimizer
  scale = 'dynamic' if loss_scale is None else loss_scale
  return tf.mixed_precision.MixedPrecisionLossScaleOptimizer(optimizer, scale)
