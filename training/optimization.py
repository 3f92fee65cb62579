"""Learning-rate schedules and optimizers, chosen by name as slim's flags do."""

import tensorflow.compat.v1 as tf

OPTIMIZERS = ('adadelta', 'adagrad', 'adam', 'ftrl', 'momentum', 'rmsprop',
              'sgd')
DECAY_TYPES = ('exponential', 'fixed', 'polynomial')


def check_choice(value, choices, argument):
  """Raises a ValueError naming `argument` and `choices` if value is not one."""
  if value not in choices:
    raise ValueError('%s must be one of %s; got %r.'
                     % (argument, ', '.join(choices), value))


def learning_rate(config, num_samples_per_epoch, global_step):
  """The learning-rate tensor for `config.learning_rate_decay_type`.

  Decay happens every `num_epochs_per_decay` epochs, counted in steps of
  `batch_size` examples: exponential decay multiplies the rate by
  `learning_rate_decay_factor` at each such boundary (staircase), polynomial
  decay falls linearly to `end_learning_rate` over one decay period and stays
  there, fixed keeps it constant.
  """
  check_choice(config.learning_rate_decay_type, DECAY_TYPES,
               'learning_rate_decay_type')
  decay_steps = max(1, int(num_samples_per_epoch * config.num_epochs_per_decay
                           / config.batch_size))
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
  check_choice(config.optimizer, OPTIMIZERS, 'optimizer')
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
