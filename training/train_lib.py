"""The training loop behind train_image_classifier.py.

Built on `tf.train.MonitoredTrainingSession`: it owns initialization (from a
checkpoint in `train_dir` when there is one, else from `checkpoint_path` for
fine-tuning, else from scratch), periodic checkpoints and summaries, and the
chief/worker split that multi-machine training will need. What this module
adds is the model/input/loss/optimizer graph and its checks.
"""

import collections
import os
import time

import tensorflow.compat.v1 as tf
import tf_slim as slim

from datasets import dataset_factory
from datasets import input_pipeline
from nets import nets_factory
from preprocessing import preprocessing_factory
from resnet_utils import precision as precision_lib
from training import checkpoints
from training import hooks as hooks_lib
from training import optimization
from training import performance

TrainResult = collections.namedtuple(
    'TrainResult', ['global_step', 'loss', 'history', 'stop_signal',
                    'seconds'])


def check_image_size(size, argument):
  """Image sizes are positive integers (any size works: padding is SAME)."""
  if size is not None and (not isinstance(size, int) or size < 1):
    raise ValueError('%s must be a positive integer (pixels); got %r.'
                     % (argument, size))


def check_model_name(model_name):
  """A ValueError listing the known networks if `model_name` is not one."""
  if model_name not in nets_factory.networks_map:
    raise ValueError('model_name=%r is unknown; known networks: %s.'
                     % (model_name,
                        ', '.join(sorted(nets_factory.networks_map))))


def check_config(config):
  """Fails fast, before any graph is built, on arguments that cannot work."""
  check_model_name(config.model_name)
  optimization.check_choice(config.optimizer, optimization.OPTIMIZERS,
                            'optimizer')
  optimization.check_choice(config.learning_rate_decay_type,
                            optimization.DECAY_TYPES,
                            'learning_rate_decay_type')
  check_image_size(config.train_image_size, 'train_image_size')
  precision_lib.check_precision(config.precision)
  optimization.check_loss_scale(config.loss_scale, config.precision)
  performance.check_threads(config.intra_op_threads, 'intra_op_threads')
  performance.check_threads(config.inter_op_threads, 'inter_op_threads')
  if config.batch_size < 1:
    raise ValueError('batch_size must be >= 1; got %r.' % config.batch_size)
  if config.max_number_of_steps is not None and config.max_number_of_steps < 0:
    raise ValueError('max_number_of_steps must be >= 0; got %r.'
                     % config.max_number_of_steps)
  if not config.train_dir:
    raise ValueError('train_dir must name a directory for checkpoints.')
  if os.path.exists(config.train_dir) and not os.path.isdir(config.train_dir):
    raise ValueError('train_dir %s exists and is not a directory; it is left '
                     'untouched.' % config.train_dir)


def build_training_graph(config, split):
  """Creates inputs, network, loss and train op in the default graph.

  Returns:
    dict with 'train_op', 'loss', 'total_loss', 'learning_rate',
    'accuracy', 'global_step', 'images' and 'num_classes'.
  """
  num_classes = split.num_classes - config.labels_offset
  network_fn = nets_factory.get_network_fn(
      config.model_name, num_classes=num_classes,
      weight_decay=config.weight_decay, is_training=True,
      batch_norm_decay=config.batch_norm_decay, precision=config.precision)
  image_size = config.train_image_size or network_fn.default_image_size
  preprocess = preprocessing_factory.get_preprocessing(
      config.preprocessing_name or config.model_name, is_training=True,
      random_flip=config.random_flip)
  global_step = tf.train.get_or_create_global_step()

  with tf.device('/cpu:0'), tf.name_scope('inputs'):
    dataset = input_pipeline.make_dataset(
        split, config.batch_size, preprocess_fn=preprocess,
        image_size=image_size, is_training=True, num_epochs=None,
        labels_offset=config.labels_offset, seed=config.seed,
        num_readers=config.num_readers,
        num_parallel_calls=config.num_preprocessing_threads)
    images, labels = tf.data.make_one_shot_iterator(dataset).get_next()

  learning_rate = optimization.learning_rate(config, split.num_samples,
                                             global_step)
  optimizer = optimization.loss_scaled_optimizer(
      optimization.optimizer(config, learning_rate), config.precision,
      config.loss_scale)
  # With --xla the forward pass, the loss, the gradients and the updates are
  # compiled; the input pipeline and the learning rate schedule are not.
  with performance.xla_scope(config.xla):
    logits, _ = network_fn(images)
    if logits.get_shape().ndims != 2:
      logits = tf.reshape(logits, [-1, num_classes])
    one_hot = tf.one_hot(labels, num_classes)
    loss = tf.losses.softmax_cross_entropy(
        one_hot, logits, label_smoothing=config.label_smoothing)
    total_loss = tf.losses.get_total_loss(name='total_loss')
    train_vars = checkpoints.variables_to_train(config.trainable_scopes)
    # Batch norm statistics are updated with every step.
    update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS)
    with tf.control_dependencies(update_ops):
      train_op = optimizer.minimize(total_loss, global_step=global_step,
                                    var_list=train_vars)
  accuracy = tf.reduce_mean(tf.cast(
      tf.equal(tf.argmax(logits, 1, output_type=tf.int32), labels),
      tf.float32))
  if config.moving_average_decay:
    ema = tf.train.ExponentialMovingAverage(config.moving_average_decay,
                                            global_step)
    with tf.control_dependencies([train_op]):
      train_op = ema.apply(slim.get_model_variables())

  tf.summary.scalar('losses/cross_entropy', loss)
  tf.summary.scalar('losses/total_loss', total_loss)
  tf.summary.scalar('learning_rate', learning_rate)
  tf.summary.scalar('train_accuracy', accuracy)
  tf.summary.image('images', images, max_outputs=3)
  return {'train_op': train_op, 'loss': loss, 'total_loss': total_loss,
          'learning_rate': learning_rate, 'accuracy': accuracy,
          'global_step': global_step, 'images': images,
          'num_classes': num_classes}


def _check_resumable(train_dir):
  """The checkpoint in train_dir must fit the model we just built."""
  latest = tf.train.latest_checkpoint(train_dir)
  try:
    checkpoints.restore_map(latest)
  except checkpoints.CheckpointMismatchError as e:
    raise checkpoints.CheckpointMismatchError(
        'train_dir %s already holds checkpoints of a different model or '
        'configuration (it is left untouched; use another --train_dir):\n%s'
        % (train_dir, e)) from None


def train(config, log_fn=None, session_config=None):
  """Trains until `max_number_of_steps` (or a stop signal); returns a result.

  A run whose `train_dir` already has a checkpoint resumes from it: same
  global step, same optimizer state. Otherwise the model starts from
  `checkpoint_path` (minus `checkpoint_exclude_scopes`) or from scratch.
  `session_config` (a tf.ConfigProto) replaces the one built from the
  config's thread settings.

  Raises:
    ValueError: for unknown names, bad sizes or a missing dataset.
    CheckpointMismatchError: when a checkpoint does not fit the model.
  """
  check_config(config)
  if session_config is None:
    session_config = performance.session_config(config.intra_op_threads,
                                                config.inter_op_threads)
  split = dataset_factory.get_split(config.dataset_name,
                                    config.dataset_split_name,
                                    config.dataset_dir)
  graph = tf.Graph()
  with graph.as_default():
    if config.seed is not None:
      tf.set_random_seed(config.seed)
    ops = build_training_graph(config, split)
    resuming = checkpoints.has_checkpoint(config.train_dir)
    step = 0
    if resuming:
      _check_resumable(config.train_dir)
      step = checkpoints.checkpoint_step(
          tf.train.latest_checkpoint(config.train_dir))
    if (config.max_number_of_steps is not None and
        step >= config.max_number_of_steps):
      # The session would otherwise run one step before noticing.
      (log_fn or tf.logging.info)(
          'train_dir %s is already at step %d >= max_number_of_steps=%d; '
          'nothing to train.' % (config.train_dir, step,
                                 config.max_number_of_steps))
      return TrainResult(global_step=step, loss=float('nan'), history=[],
                         stop_signal=None, seconds=0.0)
    if resuming:
      init_fn = None
    elif config.checkpoint_path:
      init_fn = checkpoints.init_fn_from_checkpoint(
          config.checkpoint_path, config.checkpoint_exclude_scopes,
          config.ignore_missing_vars)
    else:
      init_fn = None
    scaffold = tf.train.Scaffold(init_fn=init_fn,
                                 saver=tf.train.Saver(max_to_keep=5))
    progress = hooks_lib.ProgressLoggingHook(
        {'step': ops['global_step'], 'loss': ops['total_loss'],
         'learning_rate': ops['learning_rate']},
        config.batch_size, config.log_every_n_steps, log_fn)
    stopper = hooks_lib.GracefulStopHook()
    run_hooks = [progress, stopper, tf.train.NanTensorHook(ops['total_loss'])]
    if config.max_number_of_steps is not None:
      run_hooks.append(
          tf.train.StopAtStepHook(last_step=config.max_number_of_steps))
    tf.io.gfile.makedirs(config.train_dir)
    start, loss = time.time(), float('nan')
    try:
      with tf.train.MonitoredTrainingSession(
          is_chief=True, checkpoint_dir=config.train_dir, scaffold=scaffold,
          hooks=run_hooks, save_checkpoint_secs=config.save_interval_secs,
          save_summaries_secs=config.save_summaries_secs,
          log_step_count_steps=None, config=session_config) as sess:
        while not sess.should_stop():
          _, loss = sess.run([ops['train_op'], ops['total_loss']])
    finally:
      stopper.restore_handlers()
    step = checkpoints.checkpoint_step(
        tf.train.latest_checkpoint(config.train_dir))
  return TrainResult(global_step=step, loss=float(loss),
                     history=progress.history,
                     stop_signal=stopper.stop_signal,
                     seconds=time.time() - start)
