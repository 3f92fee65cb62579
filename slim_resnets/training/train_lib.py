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

from nets import nets_factory
from resnet_utils import checks
from resnet_utils import graph_building
from resnet_utils import precision as precision_lib
from slim_resnets.datasets import dataset_factory
from slim_resnets.datasets import input_pipeline
from slim_resnets.preprocessing import preprocessing_factory
from slim_resnets.training import checkpoints
from slim_resnets.training import clones
from slim_resnets.training import cluster as cluster_lib
from slim_resnets.training import config as config_lib
from slim_resnets.training import hooks as hooks_lib
from slim_resnets.training import optimization
from slim_resnets.training import performance
from slim_resnets.training import run_settings

TrainResult = collections.namedtuple(
    'TrainResult', ['global_step', 'loss', 'history', 'stop_signal',
                    'seconds'])


class TrainingDivergedError(ValueError):
  """The loss became NaN: the settings cannot train this model on this data."""


def check_config(config, task=None):
  """Fails fast, before any graph is built, on arguments that cannot work."""
  config_lib.check_finite(config)
  (task or ClassificationTask()).check(config)
  checks.check_choice(config.optimizer, optimization.OPTIMIZERS, 'optimizer')
  checks.check_choice(config.learning_rate_decay_type,
                      optimization.DECAY_TYPES, 'learning_rate_decay_type')
  precision_lib.check_precision(config.precision)
  optimization.check_loss_scale(config.loss_scale, config.precision)
  performance.check_threads(config.intra_op_threads, 'intra_op_threads')
  performance.check_threads(config.inter_op_threads, 'inter_op_threads')
  checks.check_int(config.batch_size, 'batch_size')
  checks.check_int(config.max_number_of_steps, 'max_number_of_steps',
                   minimum=0, allow_none=True)
  if not config.train_dir:
    raise ValueError('train_dir must name a directory for checkpoints.')
  if os.path.exists(config.train_dir) and not os.path.isdir(config.train_dir):
    raise ValueError('train_dir %s exists and is not a directory; it is left '
                     'untouched.' % config.train_dir)


def check_distribution(config, setup):
  """Checks clone and replica settings against this process's cluster."""
  clones.check_num_clones(config.num_clones, config.batch_size)
  if config.replicas_to_aggregate is not None:
    if not config.sync_replicas:
      raise ValueError('replicas_to_aggregate applies to synchronous '
                       'replicas only; got replicas_to_aggregate=%r with '
                       'sync_replicas off.' % (config.replicas_to_aggregate,))
    checks.check_int(config.replicas_to_aggregate, 'replicas_to_aggregate',
                     note='(unset: all workers)')
    num_workers = setup.num_workers if setup else 1
    if config.replicas_to_aggregate > num_workers:
      raise ValueError(
          'replicas_to_aggregate=%d exceeds the %d worker(s) of the cluster; '
          'a synchronous step would wait for gradients nobody sends.'
          % (config.replicas_to_aggregate, num_workers))
  checks.check_int(config.save_interval_steps, 'save_interval_steps',
                   allow_none=True, note='(unset: every save_interval_secs)')


def _uses_sync_replicas(config, setup):
  return bool(setup and config.sync_replicas and setup.num_workers > 1)


class ClassificationTask:
  """What training an image classifier adds to the shared loop.

  `build_training_graph` and `train` own what every task shares: clones,
  replicas, the optimizer, checkpoints, resuming, signals, clusters. A task
  supplies the three things that differ: its checks, its input batches, and
  its model and loss for one clone. `slim_resnets.segmentation.train_lib`
  has the segmentation task.
  """

  dataset_task = dataset_factory.CLASSIFICATION

  def check(self, config):
    nets_factory.check_name(config.model_name)
    nets_factory.check_image_size(config.train_image_size,
                                  'train_image_size', config.model_name)

  @staticmethod
  def image_size(config):
    """The side of the training crops: the flag, else the net's default."""
    return (config.train_image_size or
            nets_factory.networks_map[config.model_name].default_image_size)

  @staticmethod
  def preprocessing_name(config):
    """The preprocessing recipe: the flag, else the model's own."""
    return config.preprocessing_name or config.model_name

  def inputs(self, config, split):
    """(images, labels) batches of `split`, preprocessed for training."""
    preprocess = preprocessing_factory.get_preprocessing(
        self.preprocessing_name(config), is_training=True,
        random_flip=config.random_flip)
    dataset = input_pipeline.make_dataset(
        split, config.batch_size, preprocess_fn=preprocess,
        image_size=self.image_size(config), is_training=True, num_epochs=None,
        labels_offset=config.labels_offset, seed=config.seed,
        num_readers=config.num_readers,
        num_parallel_calls=config.num_preprocessing_threads)
    return tf.data.make_one_shot_iterator(dataset).get_next()

  def num_classes(self, config, split):
    return split.num_classes - config.labels_offset

  def run_settings(self, config, split):
    """What eval, export and classify need to know of this run."""
    return run_settings.of_training(
        config, self.preprocessing_name(config), self.image_size(config),
        self.num_classes(config, split))

  def model_and_loss(self, config, num_classes, images, labels):
    """(logits [batch, classes], cross-entropy) of one clone's batch."""
    network_fn = nets_factory.get_network_fn(
        config.model_name, num_classes=num_classes,
        weight_decay=config.weight_decay, is_training=True,
        batch_norm_decay=config.batch_norm_decay,
        precision=config.precision)
    logits, _ = network_fn(images)
    if logits.get_shape().ndims != 2:
      logits = tf.reshape(logits, [-1, num_classes])
    cross_entropy = tf.losses.softmax_cross_entropy(
        tf.one_hot(labels, num_classes), logits,
        label_smoothing=config.label_smoothing, loss_collection=None)
    return logits, cross_entropy

  def accuracy(self, outputs, labels):
    """Share of the batch classified right (a training summary)."""
    return tf.reduce_mean(tf.cast(
        tf.equal(tf.argmax(outputs, -1, output_type=tf.int32), labels),
        tf.float32))

  def summarize(self, images):
    tf.summary.image('images', images, max_outputs=3)


def build_training_graph(config, split, setup=None, task=None):
  """Creates inputs, network, loss and train op in the default graph.

  With `config.num_clones` > 1 the batch is split across clones (see
  training/clones.py); with a `setup` of several workers and
  `config.sync_replicas` the optimizer aggregates the workers' gradients
  (tf.train.SyncReplicasOptimizer). The caller places the graph (the
  replica device setter) around this call. `task` (default: a
  `ClassificationTask`) supplies the inputs, the model and its loss.

  Returns:
    dict with 'train_op', 'loss', 'total_loss', 'learning_rate',
    'accuracy', 'global_step', 'images', 'num_classes' and
    'sync_optimizer' (the tf.train.SyncReplicasOptimizer, or None).
  """
  task = task or ClassificationTask()
  num_classes = task.num_classes(config, split)
  devices = clones.clone_devices(config.num_clones, config.clone_on_cpu)
  global_step = tf.train.get_or_create_global_step()

  with tf.device('/cpu:0'), tf.name_scope('inputs'):
    images, labels = task.inputs(config, split)

  sync = _uses_sync_replicas(config, setup)
  replicas_to_aggregate = (config.replicas_to_aggregate or
                           setup.num_workers) if sync else 1
  learning_rate = optimization.learning_rate(
      config, split.num_samples, global_step,
      examples_per_step=config.batch_size * replicas_to_aggregate)
  optimizer = optimization.loss_scaled_optimizer(
      optimization.optimizer(config, learning_rate), config.precision,
      config.loss_scale)
  ema = None
  if config.moving_average_decay:
    ema = tf.train.ExponentialMovingAverage(config.moving_average_decay,
                                            global_step)
  num_clones = len(devices)
  train_vars = []

  def clone_fn(index, clone_images, clone_labels):
    logits, cross_entropy = task.model_and_loss(config, num_classes,
                                                clone_images, clone_labels)
    if index == 0:
      train_vars.extend(checkpoints.variables_to_train(
          config.trainable_scopes))
    loss = clones.clone_loss(index, num_clones, cross_entropy)
    grads = optimizer.compute_gradients(
        loss, var_list=train_vars,
        colocate_gradients_with_ops=num_clones > 1)
    return logits, cross_entropy, loss, grads

  # With --xla the forward pass, the loss, the gradients and the updates are
  # compiled; the input pipeline and the learning rate schedule are not.
  with performance.xla_scope(config.xla):
    results = clones.build_clones(clone_fn, [images, labels], devices)
    logits = tf.concat([r[0] for r in results], 0) if num_clones > 1 else (
        results[0][0])
    loss = tf.add_n([r[1] for r in results]) / num_clones if (
        num_clones > 1) else results[0][1]
    total_loss = tf.add_n([r[2] for r in results], name='total_loss')
    grads = clones.sum_gradients([r[3] for r in results])
    sync_optimizer = None
    if sync:
      # Gradients go to accumulators on the ps; the chief applies their
      # mean once `replicas_to_aggregate` have arrived, then the weight
      # averages, so those move once per global step, not per worker step.
      sync_optimizer = optimizer = tf.train.SyncReplicasOptimizer(
          optimizer,
          replicas_to_aggregate=replicas_to_aggregate,
          total_num_replicas=setup.num_workers, variable_averages=ema,
          variables_to_average=slim.get_model_variables() if ema else None)
    # Batch norm statistics are updated once per global step: from clone
    # 0, and with synchronous replicas from the chief's batch only (every
    # worker updating them would move them once per worker step).
    update_ops = clones.first_clone_update_ops(num_clones)
    if sync and not setup.is_chief:
      update_ops = []
    with tf.control_dependencies(update_ops):
      train_op = optimizer.apply_gradients(grads, global_step=global_step)
  accuracy = task.accuracy(logits, labels)
  if ema is not None and sync_optimizer is None:
    with tf.control_dependencies([train_op]):
      train_op = ema.apply(slim.get_model_variables())

  tf.summary.scalar('losses/cross_entropy', loss)
  tf.summary.scalar('losses/total_loss', total_loss)
  tf.summary.scalar('learning_rate', learning_rate)
  tf.summary.scalar('train_accuracy', accuracy)
  task.summarize(images)
  return {'train_op': train_op, 'loss': loss, 'total_loss': total_loss,
          'learning_rate': learning_rate, 'accuracy': accuracy,
          'global_step': global_step, 'images': images,
          'num_classes': num_classes, 'sync_optimizer': sync_optimizer}


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


def _session_config(config, setup, session_config):
  """The ConfigProto: threads, clone devices, and the cluster's filters."""
  if session_config is None:
    session_config = performance.session_config(config.intra_op_threads,
                                                config.inter_op_threads)
  for device, count in clones.session_device_count(
      config.num_clones, config.clone_on_cpu).items():
    session_config.device_count[device] = count
  if setup is not None:
    session_config.device_filters[:] = cluster_lib.session_filters(setup)
  return session_config


def _serve_parameters(server, setup, log):
  """A ps task: serves variables to the workers until it is killed."""
  log('%s: serving variables at %s until stopped.'
      % (setup.describe(), server.target))
  server.join()


def train(config, log_fn=None, session_config=None, environ=None, task=None):
  """Trains until `max_number_of_steps` (or a stop signal); returns a result.

  A run whose `train_dir` already has a checkpoint resumes from it: same
  global step, same optimizer state. Otherwise the model starts from
  `checkpoint_path` (minus `checkpoint_exclude_scopes`) or from scratch.
  `session_config` (a tf.ConfigProto) replaces the one built from the
  config's thread settings.

  In a cluster (TF_CONFIG in `environ`, default os.environ, or slim's
  --master/--task/--worker_replicas/--num_ps_tasks; see
  distributed/cluster.py) this process plays its task: a ps task serves
  variables and never returns; the chief does everything above; another
  worker waits for the chief's initialization, trains, and leaves
  checkpoints and summaries to the chief.

  The model is built under `resnet_utils.graph_building.fast_graph_building`
  (the same graph, built several times faster for deep nets): no other
  thread should run eager TensorFlow code while `train` builds its graph.

  `task` (default: a `ClassificationTask`) supplies the inputs, the model
  and its loss; everything else above is the same for every task.

  Raises:
    ValueError: for unknown names, bad sizes, a missing dataset or a
      cluster description that cannot work.
    CheckpointMismatchError: when a checkpoint does not fit the model.
  """
  task = task or ClassificationTask()
  check_config(config, task)
  log = log_fn or tf.logging.info
  setup = cluster_lib.resolve(config.master, config.task,
                              config.worker_replicas, config.num_ps_tasks,
                              environ=environ)
  check_distribution(config, setup)
  session_config = _session_config(config, setup, session_config)
  if setup is not None and setup.is_ps:
    server, setup = cluster_lib.start_server(setup, session_config)
    _serve_parameters(server, setup, log)
  split = dataset_factory.get_split(config.dataset_name,
                                    config.dataset_split_name,
                                    config.dataset_dir,
                                    task=task.dataset_task)
  is_chief = setup is None or setup.is_chief
  graph = tf.Graph()
  with graph.as_default():
    if config.seed is not None:
      # Workers of one cluster draw different batches from the same seed.
      tf.set_random_seed(config.seed + (setup.worker_index if setup else 0))
    placement = (cluster_lib.device_setter(setup) if setup is not None
                 else None)
    with tf.device(placement), graph_building.fast_graph_building():
      ops = build_training_graph(config, split, setup, task)
      saver = tf.train.Saver(max_to_keep=5)
    step = 0
    resuming = is_chief and checkpoints.has_checkpoint(config.train_dir)
    if resuming:
      _check_resumable(config.train_dir)
      step = checkpoints.checkpoint_step(
          tf.train.latest_checkpoint(config.train_dir))
    if (is_chief and config.max_number_of_steps is not None and
        step >= config.max_number_of_steps):
      # The session would otherwise run one step before noticing.
      log('train_dir %s is already at step %d >= max_number_of_steps=%d; '
          'nothing to train.' % (config.train_dir, step,
                                 config.max_number_of_steps))
      return TrainResult(global_step=step, loss=float('nan'), history=[],
                         stop_signal=None, seconds=0.0)
    init_fn = None
    if resuming:
      log('Resuming from %s (global step %d).'
          % (tf.train.latest_checkpoint(config.train_dir), step))
    elif is_chief and config.checkpoint_path:
      init_fn = checkpoints.init_fn_from_checkpoint(
          config.checkpoint_path, config.checkpoint_exclude_scopes,
          config.ignore_missing_vars)
    scaffold = tf.train.Scaffold(init_fn=init_fn, saver=saver)
    progress = hooks_lib.ProgressLoggingHook(
        {'step': ops['global_step'], 'loss': ops['total_loss'],
         'learning_rate': ops['learning_rate']},
        config.batch_size, config.log_every_n_steps, log_fn)
    stopper = hooks_lib.GracefulStopHook()
    run_hooks = [progress, stopper, tf.train.NanTensorHook(ops['total_loss'])]
    if config.max_number_of_steps is not None:
      run_hooks.append(hooks_lib.StopAtStepHook(config.max_number_of_steps))
    sync_hook = None
    if ops['sync_optimizer'] is not None:
      sync_hook = hooks_lib.SyncReplicasHook(ops['sync_optimizer'], is_chief,
                                             setup.num_workers)
      run_hooks.append(sync_hook)
    if setup is not None:
      server, setup = cluster_lib.start_server(setup, session_config)
      log('%s: training, session target %s.'
          % (setup.describe(), setup.master))
    if is_chief:
      tf.io.gfile.makedirs(config.train_dir)
      settings = task.run_settings(config, split)
      if settings is not None:
        run_settings.write(config.train_dir, settings)
      save_secs = (None if config.save_interval_steps
                   else config.save_interval_secs)
      session = tf.train.MonitoredTrainingSession(
          master=setup.master if setup else '', is_chief=True,
          checkpoint_dir=config.train_dir, scaffold=scaffold,
          hooks=run_hooks, save_checkpoint_secs=save_secs,
          save_checkpoint_steps=config.save_interval_steps,
          save_summaries_secs=config.save_summaries_secs,
          log_step_count_steps=None, config=session_config,
          # With synchronous replicas the update thread ends waiting for
          # gradients; waiting the default 120 s for it would gain nothing.
          stop_grace_period_secs=2 if ops['sync_optimizer'] else 120)
    else:
      session = tf.train.MonitoredSession(
          session_creator=cluster_lib.WorkerSessionCreator(
              scaffold, setup.master, session_config),
          hooks=run_hooks)
    start, loss = time.time(), float('nan')
    try:
      with session as sess:
        while not sess.should_stop():
          _, loss, step = sess.run([ops['train_op'], ops['total_loss'],
                                    ops['global_step']])
    except tf.train.NanLossDuringTrainingError:
      raise TrainingDivergedError(
          'the loss became NaN at step %d of the run in %s, with '
          '--learning_rate=%g (%s decay). Lower --learning_rate, or look '
          'for bad labels or images; the checkpoints saved before are kept.'
          % (step + 1, config.train_dir, config.learning_rate,
             config.learning_rate_decay_type)) from None
    finally:
      stopper.restore_handlers()
      if sync_hook is not None:
        sync_hook.join()
    if is_chief:
      step = checkpoints.checkpoint_step(
          tf.train.latest_checkpoint(config.train_dir))
  return TrainResult(global_step=int(step), loss=float(loss),
                     history=progress.history,
                     stop_signal=stopper.stop_signal,
                     seconds=time.time() - start)
