"""Tests of `slim_resnets.training.optimization`: optimizers, rate schedules.

Each optimizer name is checked to build its tf.compat.v1 class *and* to use
the configured options: a couple of update steps on a variable with a known,
constant gradient are compared with the optimizer's documented update rule
in NumPy, with option values chosen away from the defaults so that an option
that is dropped or swapped shows up as a wrong number. The schedules are
evaluated at chosen global steps and compared with their closed forms.
`loss_scaled_optimizer` is checked to leave the steps unchanged, to skip
steps with non-finite gradients, and to rescue float16 gradients that
would underflow.
"""

import dataclasses

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from slim_resnets.training import config as config_lib
from slim_resnets.training import optimization

# The variable's start value and the constant gradient of the loss
# sum(_GRAD * v) with respect to it.
_START = np.array([0.5, -1.0, 2.0], np.float32)
_GRAD = np.array([0.3, -0.7, 1.2], np.float32)
_LR = 0.1


def _config(**kwargs):
  return config_lib.TrainConfig(**kwargs)


def _run_steps(config, num_steps, slot_names=()):
  """Applies `num_steps` updates; returns (optimizer, values, slot values).

  `values` holds the variable after each step; slots are read at the end.
  """
  with tf.Graph().as_default():
    var = tf.Variable(_START, name='v')
    loss = tf.reduce_sum(tf.constant(_GRAD) * var)
    opt = optimization.optimizer(config, tf.constant(_LR))
    train_op = opt.minimize(loss, var_list=[var])
    slots = {name: opt.get_slot(var, name) for name in slot_names}
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      values = []
      for _ in range(num_steps):
        sess.run(train_op)
        values.append(sess.run(var))
      slot_values = sess.run(slots)
  return opt, values, slot_values


def _assert_steps(values, expected):
  assert len(values) == len(expected)
  for got, want in zip(values, expected):
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_sgd_step_is_minus_lr_times_gradient():
  """Plain SGD: each step changes the variable by exactly -lr * grad."""
  opt, values, _ = _run_steps(_config(optimizer='sgd'), 2)
  assert type(opt) is tf.train.GradientDescentOptimizer  # pylint: disable=unidiomatic-typecheck
  _assert_steps(values, [_START - _LR * _GRAD, _START - 2 * _LR * _GRAD])


def test_momentum_uses_configured_momentum():
  """Momentum: the second step carries momentum * the first step's velocity.

  The first step equals SGD's whatever the momentum, so two steps are needed
  for the momentum value to show.
  """
  momentum = 0.5
  opt, values, slots = _run_steps(
      _config(optimizer='momentum', momentum=momentum), 2, ['momentum'])
  assert isinstance(opt, tf.train.MomentumOptimizer)
  accum1 = _GRAD
  v1 = _START - _LR * accum1
  accum2 = momentum * accum1 + _GRAD
  v2 = v1 - _LR * accum2
  _assert_steps(values, [v1, v2])
  np.testing.assert_allclose(slots['momentum'], accum2, rtol=1e-6)


def test_rmsprop_uses_decay_momentum_and_epsilon():
  """RMSProp: mean square (starting at 1 in TF1) decays by rmsprop_decay."""
  decay, momentum, eps = 0.8, 0.3, 0.25
  opt, values, slots = _run_steps(
      _config(optimizer='rmsprop', rmsprop_decay=decay,
              rmsprop_momentum=momentum, opt_epsilon=eps), 2,
      ['rms', 'momentum'])
  assert isinstance(opt, tf.train.RMSPropOptimizer)
  ms, mom, v = np.ones(3), np.zeros(3), _START.astype(np.float64)
  expected = []
  for _ in range(2):
    ms = decay * ms + (1 - decay) * _GRAD ** 2
    mom = momentum * mom + _LR * _GRAD / np.sqrt(ms + eps)
    v = v - mom
    expected.append(v)
  _assert_steps(values, expected)
  np.testing.assert_allclose(slots['rms'], ms, rtol=1e-5)
  np.testing.assert_allclose(slots['momentum'], mom, rtol=1e-5)


def test_adam_uses_betas_and_epsilon():
  """Adam with bias correction and the configured betas and epsilon."""
  beta1, beta2, eps = 0.8, 0.95, 0.01
  opt, values, slots = _run_steps(
      _config(optimizer='adam', adam_beta1=beta1, adam_beta2=beta2,
              opt_epsilon=eps), 3, ['m', 'v'])
  assert isinstance(opt, tf.train.AdamOptimizer)
  m, s, v = np.zeros(3), np.zeros(3), _START.astype(np.float64)
  expected = []
  for t in range(1, 4):
    lr_t = _LR * np.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
    m = beta1 * m + (1 - beta1) * _GRAD
    s = beta2 * s + (1 - beta2) * _GRAD ** 2
    v = v - lr_t * m / (np.sqrt(s) + eps)
    expected.append(v)
  _assert_steps(values, expected)
  np.testing.assert_allclose(slots['m'], m, rtol=1e-5)
  np.testing.assert_allclose(slots['v'], s, rtol=1e-5)


def test_adagrad_uses_initial_accumulator_value():
  """Adagrad: the accumulator starts at the configured value."""
  init = 0.5
  opt, values, slots = _run_steps(
      _config(optimizer='adagrad', adagrad_initial_accumulator_value=init),
      2, ['accumulator'])
  assert isinstance(opt, tf.train.AdagradOptimizer)
  accum, v = np.full(3, init), _START.astype(np.float64)
  expected = []
  for _ in range(2):
    accum = accum + _GRAD ** 2
    v = v - _LR * _GRAD / np.sqrt(accum)
    expected.append(v)
  _assert_steps(values, expected)
  np.testing.assert_allclose(slots['accumulator'], accum, rtol=1e-5)


def test_adadelta_uses_rho_and_epsilon():
  """Adadelta: both accumulators decay with adadelta_rho."""
  rho, eps = 0.5, 0.1
  opt, values, _ = _run_steps(
      _config(optimizer='adadelta', adadelta_rho=rho, opt_epsilon=eps), 2)
  assert isinstance(opt, tf.train.AdadeltaOptimizer)
  accum, accum_update = np.zeros(3), np.zeros(3)
  v = _START.astype(np.float64)
  expected = []
  for _ in range(2):
    accum = rho * accum + (1 - rho) * _GRAD ** 2
    update = np.sqrt(accum_update + eps) / np.sqrt(accum + eps) * _GRAD
    accum_update = rho * accum_update + (1 - rho) * update ** 2
    v = v - _LR * update
    expected.append(v)
  _assert_steps(values, expected)


def test_ftrl_uses_power_accumulator_and_regularization():
  """FTRL-proximal with the configured power, accumulator, L1 and L2."""
  init, l1, l2 = 0.2, 0.05, 0.3
  opt, values, slots = _run_steps(
      _config(optimizer='ftrl', ftrl_learning_rate_power=-0.5,
              ftrl_initial_accumulator_value=init, ftrl_l1=l1, ftrl_l2=l2),
      2, ['accum', 'linear'])
  assert isinstance(opt, tf.train.FtrlOptimizer)
  accum, linear = np.full(3, init), np.zeros(3)
  v = _START.astype(np.float64)
  expected = []
  for _ in range(2):
    new_accum = accum + _GRAD ** 2
    linear = linear + _GRAD - (np.sqrt(new_accum) - np.sqrt(accum)) / _LR * v
    quadratic = np.sqrt(new_accum) / _LR + 2 * l2
    v = np.where(np.abs(linear) > l1,
                 (np.sign(linear) * l1 - linear) / quadratic, 0.0)
    accum = new_accum
    expected.append(v)
  _assert_steps(values, expected)
  np.testing.assert_allclose(slots['accum'], accum, rtol=1e-5)
  np.testing.assert_allclose(slots['linear'], linear, rtol=1e-5)


def test_every_listed_optimizer_builds():
  """OPTIMIZERS is the accepted set: each builds a distinct class."""
  classes = set()
  with tf.Graph().as_default():
    for name in optimization.OPTIMIZERS:
      opt = optimization.optimizer(_config(optimizer=name), 0.1)
      assert isinstance(opt, tf.train.Optimizer)
      classes.add(type(opt))
  assert len(classes) == len(optimization.OPTIMIZERS)


def _learning_rates(config, num_samples, steps):
  """The schedule's value at each global step in `steps`."""
  with tf.Graph().as_default():
    global_step = tf.train.get_or_create_global_step()
    lr = optimization.learning_rate(config, num_samples, global_step)
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      values = []
      for step in steps:
        sess.run(global_step.assign(step))
        values.append(float(sess.run(lr)))
  return values


def test_exponential_decay_is_staircase():
  """lr * factor ** floor(step / decay_steps), decay_steps in whole steps.

  1000 samples, 2.5 epochs per decay and batches of 100 give 25 steps.
  """
  config = _config(learning_rate=0.1, learning_rate_decay_factor=0.5,
                   num_epochs_per_decay=2.5, batch_size=100)
  steps = [0, 1, 24, 25, 49, 50, 130]
  got = _learning_rates(config, 1000, steps)
  expected = [0.1 * 0.5 ** (s // 25) for s in steps]
  np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_decay_steps_are_truncated_not_rounded():
  """decay_steps = int(1497 * 2 / 64) = int(46.78) = 46, not 47."""
  config = _config(learning_rate=1.0, learning_rate_decay_factor=0.5,
                   num_epochs_per_decay=2.0, batch_size=64)
  got = _learning_rates(config, 1497, [45, 46, 91, 92])
  np.testing.assert_allclose(got, [1.0, 0.5, 0.5, 0.25], rtol=1e-6)


def test_decay_steps_at_least_one():
  """A decay period shorter than a step decays every step (no division by 0)."""
  config = _config(learning_rate=1.0, learning_rate_decay_factor=0.5,
                   num_epochs_per_decay=0.01, batch_size=32)
  got = _learning_rates(config, 10, [0, 1, 3])
  np.testing.assert_allclose(got, [1.0, 0.5, 0.125], rtol=1e-6)


def test_polynomial_decay_reaches_end_and_stays():
  """Linear from learning_rate to end_learning_rate over decay_steps (25)."""
  config = _config(learning_rate_decay_type='polynomial', learning_rate=0.1,
                   end_learning_rate=0.001, num_epochs_per_decay=2.5,
                   batch_size=100)
  steps = [0, 10, 20, 25, 26, 1000]
  got = _learning_rates(config, 1000, steps)
  expected = [0.1 - (0.1 - 0.001) * min(s, 25) / 25 for s in steps]
  np.testing.assert_allclose(got, expected, rtol=1e-5)
  assert got[3] == pytest.approx(0.001) and got[-1] == pytest.approx(0.001)


def test_fixed_learning_rate_is_constant():
  config = _config(learning_rate_decay_type='fixed', learning_rate=0.03,
                   num_epochs_per_decay=0.01)
  got = _learning_rates(config, 10, [0, 1, 5, 10000])
  np.testing.assert_allclose(got, [0.03] * 4, rtol=1e-6)


@pytest.mark.parametrize('argument,choices,call', [
    ('optimizer', optimization.OPTIMIZERS,
     lambda c: optimization.optimizer(c, 0.1)),
    ('learning_rate_decay_type', optimization.DECAY_TYPES,
     lambda c: optimization.learning_rate(
         c, 100, tf.train.get_or_create_global_step())),
])
def test_unknown_name_names_argument_and_choices(argument, choices, call):
  """A typo fails with the argument's name and every valid choice."""
  config = dataclasses.replace(_config(), **{argument: 'bogus'})
  with tf.Graph().as_default():
    with pytest.raises(ValueError) as info:
      call(config)
  message = str(info.value)
  assert argument in message and "'bogus'" in message
  for choice in choices:
    assert choice in message


# ---------------------------------------------------------------------------
# Loss scaling for float16 training.


def _scale_variable():
  (scale,) = [v for v in tf.global_variables()
              if 'current_loss_scale' in v.op.name]
  return scale


@pytest.mark.parametrize('precision', ['float32', 'bfloat16'])
def test_no_loss_scaling_outside_float16(precision):
  """float32 and bfloat16 (float32's exponent range) get the optimizer back."""
  with tf.Graph().as_default():
    opt = tf.train.GradientDescentOptimizer(0.1)
    assert optimization.loss_scaled_optimizer(opt, precision) is opt
    assert not tf.global_variables()


@pytest.mark.parametrize('precision', ['float32', 'bfloat16'])
def test_loss_scale_outside_float16_is_an_error(precision):
  """A scale that would silently do nothing is refused, naming the argument."""
  with pytest.raises(ValueError, match='loss_scale applies to precision '
                     'float16 only') as info:
    optimization.loss_scaled_optimizer(tf.train.GradientDescentOptimizer(0.1),
                                       precision, loss_scale=128.0)
  assert repr(precision) in str(info.value)


@pytest.mark.parametrize('loss_scale', [0, -1.0, float('inf'), float('nan'),
                                        '128', True])
def test_loss_scale_must_be_a_positive_finite_number(loss_scale):
  with tf.Graph().as_default():
    with pytest.raises(ValueError) as info:
      optimization.loss_scaled_optimizer(
          tf.train.GradientDescentOptimizer(0.1), 'float16', loss_scale)
  message = str(info.value)
  assert message.startswith('loss_scale must be None')
  assert repr(loss_scale) in message


def test_check_loss_scale_returns_what_the_wrapper_uses():
  """The up-front check (for configs) accepts what the wrapper accepts."""
  assert optimization.check_loss_scale(None, 'float32') is None
  assert optimization.check_loss_scale(None, 'bfloat16') is None
  assert optimization.check_loss_scale(None) is None
  scale = optimization.check_loss_scale(128, 'float16')
  assert scale == 128.0 and isinstance(scale, float)
  with pytest.raises(ValueError, match='loss_scale applies to precision '
                     'float16 only'):
    optimization.check_loss_scale(128, 'bfloat16')


def test_unknown_precision_names_argument_and_choices():
  with pytest.raises(ValueError, match=r"precision must be one of float32, "
                     r"float16, bfloat16; got 'half'"):
    optimization.loss_scaled_optimizer(tf.train.GradientDescentOptimizer(0.1),
                                       'half')


def _scaled_sgd_steps(loss_scale, multipliers):
  """SGD through the float16 wrapper on the module's linear loss.

  The loss is `multiplier * sum(_GRAD * v)` with `multiplier` fed per step
  (from `multipliers`); `minimize` gets a global step and a var_list that
  leaves out a second variable. Returns (optimizer, [(v, other, global step,
  loss scale)] after each step).
  """
  with tf.Graph().as_default():
    var = tf.Variable(_START, name='v')
    other = tf.Variable(_START, name='other')
    multiplier = tf.placeholder(tf.float32, [])
    loss = multiplier * tf.reduce_sum(tf.constant(_GRAD) * (var + other))
    global_step = tf.train.get_or_create_global_step()
    opt = optimization.loss_scaled_optimizer(
        tf.train.GradientDescentOptimizer(_LR), 'float16', loss_scale)
    train_op = opt.minimize(loss, global_step=global_step, var_list=[var])
    scale = (_scale_variable() if loss_scale is None
             else tf.constant(float(loss_scale)))
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      states = []
      for value in multipliers:
        sess.run(train_op, {multiplier: value})
        states.append(sess.run([var, other, global_step, scale]))
  return opt, states


def test_float16_wraps_in_tensorflows_loss_scale_optimizer():
  """Dynamic scaling by default; the update is plain SGD's, on var_list only.

  Scaling by 2**15 and unscaling are exact in float32 (powers of two), so
  the steps equal unscaled SGD's exactly; `other`, not in var_list, stays.
  """
  opt, states = _scaled_sgd_steps(None, [1.0, 1.0])
  assert isinstance(opt, tf.mixed_precision.MixedPrecisionLossScaleOptimizer)
  for step, (var, other, global_step, scale) in enumerate(states, 1):
    np.testing.assert_allclose(var, _START - step * _LR * _GRAD, rtol=1e-6)
    np.testing.assert_array_equal(other, _START)
    assert global_step == step
    assert scale == 2 ** 15


def test_non_finite_gradients_skip_the_step_and_lower_the_scale():
  """An infinite loss changes nothing but the (halved) scale; then training
  resumes from where it was, at the lower scale."""
  _, states = _scaled_sgd_steps(None, [1.0, np.inf, 1.0])
  (v1, _, step1, scale1), (v2, _, step2, scale2), (v3, _, step3, scale3) = (
      states)
  np.testing.assert_array_equal(v2, v1)
  assert (step1, step2, step3) == (1, 1, 2)
  assert (scale1, scale2, scale3) == (2 ** 15, 2 ** 14, 2 ** 14)
  np.testing.assert_allclose(v3, _START - 2 * _LR * _GRAD, rtol=1e-6)


def test_fixed_loss_scale_gives_the_same_steps():
  """A number gives a fixed scale, and SGD's steps on var_list."""
  opt, states = _scaled_sgd_steps(1024, [1.0])
  assert isinstance(opt, tf.mixed_precision.MixedPrecisionLossScaleOptimizer)
  np.testing.assert_allclose(states[0][0], _START - _LR * _GRAD, rtol=1e-6)
  np.testing.assert_array_equal(states[0][1], _START)
  assert states[0][2] == 1


@pytest.mark.parametrize('loss_scale', [None, 2.0 ** 16],
                         ids=['dynamic', 'fixed'])
def test_loss_scale_keeps_float16_gradients_from_underflowing(loss_scale):
  """What loss scaling is for, on a loss with a float16 segment.

  The gradient entering the float16 part is 2**-32, below float16's
  smallest number (2**-24): unscaled it flushes to zero, and so does every
  gradient behind it. Scaled by 2**15 (dynamic) or 2**16 (fixed) it is a
  float16 power of two, the coefficients chosen below multiply it exactly,
  and the unscaled float32 gradients come out exact.
  """
  coefficients = np.array([0.5, -0.75, 1.25], np.float32)
  with tf.Graph().as_default():
    var = tf.Variable(_START, name='v')
    half = tf.reduce_sum(tf.cast(var, tf.float16) *
                         tf.constant(coefficients, tf.float16))
    loss = 2.0 ** -32 * tf.cast(half, tf.float32)
    plain = tf.train.GradientDescentOptimizer(_LR)
    scaled = optimization.loss_scaled_optimizer(plain, 'float16', loss_scale)
    ((unscaled_grad, _),) = plain.compute_gradients(loss, [var])
    ((scaled_grad, _),) = scaled.compute_gradients(loss, [var])
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      unscaled_grad, scaled_grad = sess.run([unscaled_grad, scaled_grad])
  np.testing.assert_array_equal(unscaled_grad, 0.0)
  np.testing.assert_array_equal(scaled_grad, 2.0 ** -32 * coefficients)
