"""Configuration of training and evaluation runs, one source for flags too.

Each run is described by a dataclass whose fields carry their help text. The
scripts turn the fields into absl flags of the same names and defaults
(`define_flags`) and read them back (`from_flags`); tests build the
dataclasses directly. The names and defaults are slim's, so existing command
lines keep working.
"""

import dataclasses
import math
import typing


def field(default, help_text):
  return dataclasses.field(default=default, metadata={'help': help_text})


@dataclasses.dataclass
class TrainConfig:
  """Everything `train_lib.train` needs."""
  train_dir: str = field(
      '/tmp/tfmodel/', 'Directory for checkpoints and event logs; a run '
      'started again resumes from the last checkpoint here.')
  dataset_name: str = field('digits', 'Dataset to train on.')
  dataset_split_name: str = field('train', 'Split to train on.')
  dataset_dir: typing.Optional[str] = field(
      None, 'Directory holding the converted dataset.')
  model_name: str = field('resnet_v2_50', 'Network from nets.nets_factory.')
  preprocessing_name: typing.Optional[str] = field(
      None, 'Preprocessing; the model\'s default when unset.')
  batch_size: int = field(32, 'Examples per training step.')
  train_image_size: typing.Optional[int] = field(
      None, 'Input size; the model\'s default size when unset.')
  random_flip: bool = field(
      True, 'Random left-right flips in training preprocessing; turn off for '
      'data whose mirror image is another thing (digits, text).')
  max_number_of_steps: typing.Optional[int] = field(
      None, 'Global step at which training stops; forever when unset.')
  labels_offset: int = field(
      0, 'Subtracted from dataset labels, e.g. 1 to train a 1000-class net '
      'on 1001-label ImageNet records (label 0 = background).')
  num_readers: int = field(4, 'Files read in parallel.')
  num_preprocessing_threads: int = field(4, 'Parallel preprocessing calls.')
  seed: typing.Optional[int] = field(None, 'Graph-level random seed.')
  # Speed (see training/performance.py and BENCHMARKS.md).
  precision: str = field(
      'float32', 'Compute precision: float32, or float16 / bfloat16 mixed '
      'precision (variables stay float32, so checkpoints are unchanged; '
      'float16 trains with loss scaling).')
  loss_scale: typing.Optional[float] = field(
      None, 'With --precision=float16: a fixed loss scale; dynamic loss '
      'scaling when unset.')
  xla: bool = field(False, 'Compile the model, its gradients and updates '
                     'with XLA.')
  intra_op_threads: int = field(
      0, 'Threads each op may use; 0 lets TensorFlow choose.')
  inter_op_threads: int = field(
      0, 'Ops run at the same time; 0 lets TensorFlow choose.')
  # Several devices and machines (see training/clones.py, distributed/).
  num_clones: int = field(
      1, 'Split each batch across this many local devices (GPUs, or virtual '
      'CPU devices with --clone_on_cpu); batch_size is the global batch.')
  clone_on_cpu: bool = field(False, 'Put the clones on CPU devices.')
  master: str = field(
      '', 'gRPC address of this worker\'s TensorFlow server (slim-style '
      'clusters whose servers run elsewhere); empty for in-process.')
  task: int = field(0, 'This worker\'s index; task 0 is the chief.')
  worker_replicas: int = field(1, 'Number of worker replicas.')
  num_ps_tasks: int = field(
      0, 'Parameter server tasks holding the variables; 0 keeps them local.')
  sync_replicas: bool = field(
      True, 'With several workers: aggregate their gradients into one '
      'synchronous update per step (else each worker updates on its own; '
      'slim\'s default was off).')
  replicas_to_aggregate: typing.Optional[int] = field(
      None, 'Gradients aggregated per synchronous step; all workers when '
      'unset (slim\'s default was 1).')
  # Optimization.
  optimizer: str = field(
      'rmsprop', 'One of adadelta, adagrad, adam, ftrl, momentum, rmsprop, '
      'sgd.')
  learning_rate: float = field(0.01, 'Initial learning rate.')
  learning_rate_decay_type: str = field(
      'exponential', 'One of exponential, fixed, polynomial.')
  learning_rate_decay_factor: float = field(0.94, 'Exponential decay factor.')
  end_learning_rate: float = field(
      0.0001, 'Final rate of polynomial decay.')
  num_epochs_per_decay: float = field(
      2.0, 'Epochs between decays (the polynomial decay length).')
  label_smoothing: float = field(0.0, 'Label smoothing amount.')
  weight_decay: float = field(0.00004, 'L2 weight decay of conv weights.')
  batch_norm_decay: typing.Optional[float] = field(
      None, 'Moving-average decay of batch norm statistics; the arg scope\'s '
      'default (0.997) when unset. Short runs on small data want ~0.9.')
  moving_average_decay: typing.Optional[float] = field(
      None, 'Keep exponential moving averages of the weights with this decay '
      '(evaluate with --moving_average_decay to use them).')
  adadelta_rho: float = field(0.95, 'Adadelta decay rate.')
  adagrad_initial_accumulator_value: float = field(
      0.1, 'Adagrad initial accumulator value.')
  adam_beta1: float = field(0.9, 'Adam first-moment decay.')
  adam_beta2: float = field(0.999, 'Adam second-moment decay.')
  opt_epsilon: float = field(1.0, 'Epsilon of adadelta, adam and rmsprop.')
  ftrl_learning_rate_power: float = field(-0.5, 'FTRL learning rate power.')
  ftrl_initial_accumulator_value: float = field(
      0.1, 'FTRL initial accumulator value.')
  ftrl_l1: float = field(0.0, 'FTRL L1 regularization.')
  ftrl_l2: float = field(0.0, 'FTRL L2 regularization.')
  momentum: float = field(0.9, 'Momentum of the momentum optimizer.')
  rmsprop_momentum: float = field(0.9, 'RMSProp momentum.')
  rmsprop_decay: float = field(0.9, 'RMSProp decay.')
  # Fine-tuning.
  checkpoint_path: typing.Optional[str] = field(
      None, 'Checkpoint (file or directory) to initialize from when train_dir '
      'has none.')
  checkpoint_exclude_scopes: typing.Optional[str] = field(
      None, 'Comma-separated scopes not restored from checkpoint_path, e.g. '
      'resnet_v2_50/logits.')
  trainable_scopes: typing.Optional[str] = field(
      None, 'Comma-separated scopes to train; all variables when unset.')
  ignore_missing_vars: bool = field(
      False, 'Skip model variables missing from checkpoint_path instead of '
      'failing.')
  # Logging and saving.
  log_every_n_steps: int = field(10, 'Steps between log lines.')
  save_summaries_secs: int = field(600, 'Seconds between summaries.')
  save_interval_secs: int = field(600, 'Seconds between checkpoints.')
  save_interval_steps: typing.Optional[int] = field(
      None, 'Steps between checkpoints, instead of save_interval_secs.')


@dataclasses.dataclass
class EvalConfig:
  """Everything `eval_lib.evaluate` needs."""
  checkpoint_path: str = field(
      '/tmp/tfmodel/', 'Checkpoint file, or a directory (its latest '
      'checkpoint, or every new one with --eval_interval_secs).')
  tflite_model: typing.Optional[str] = field(
      None, 'Evaluate this TensorFlow Lite model (from '
      'export_tflite_model.py) instead of a checkpoint.')
  eval_dir: str = field('/tmp/tfmodel/', 'Where results and summaries go.')
  dataset_name: str = field('digits', 'Dataset to evaluate on.')
  dataset_split_name: str = field('validation', 'Split to evaluate.')
  dataset_dir: typing.Optional[str] = field(
      None, 'Directory holding the converted dataset.')
  model_name: str = field('resnet_v2_50', 'Network from nets.nets_factory.')
  preprocessing_name: typing.Optional[str] = field(
      None, 'Preprocessing; the model\'s default when unset.')
  batch_size: int = field(100, 'Examples per evaluation step.')
  eval_image_size: typing.Optional[int] = field(
      None, 'Input size. When unset: the published checkpoint\'s evaluation '
      'size for ImageNet (299 for ResNet V2), else the model\'s default.')
  labels_offset: typing.Optional[int] = field(
      None, 'Subtracted from dataset labels. When unset: the dataset\'s '
      'classes minus the published checkpoint\'s for ImageNet (1 for the '
      '1000-class ResNet V1 checkpoints), else 0.')
  num_classes: typing.Optional[int] = field(
      None, 'Logits of the checkpoint. When unset: the published '
      'checkpoint\'s for ImageNet, else dataset classes minus labels_offset.')
  moving_average_decay: typing.Optional[float] = field(
      None, 'Evaluate the moving averages of the weights kept with this '
      'decay.')
  max_num_batches: typing.Optional[int] = field(
      None, 'Evaluate at most this many batches; the whole split when unset.')
  eval_interval_secs: typing.Optional[int] = field(
      None, 'Evaluate every new checkpoint in checkpoint_path, polling this '
      'often; evaluate once when unset.')
  eval_timeout_secs: typing.Optional[int] = field(
      None, 'Stop waiting for new checkpoints after this long.')
  num_preprocessing_threads: int = field(4, 'Parallel preprocessing calls.')
  # Speed (see training/performance.py and BENCHMARKS.md).
  precision: str = field(
      'float32', 'Compute precision: float32, float16 or bfloat16 (the '
      'checkpoint is float32 either way).')
  xla: bool = field(False, 'Compile the model with XLA.')
  intra_op_threads: int = field(
      0, 'Threads each op may use; 0 lets TensorFlow choose.')
  inter_op_threads: int = field(
      0, 'Ops run at the same time; 0 lets TensorFlow choose.')


_FLOAT_TYPES = (float, typing.Optional[float], typing.Tuple[float, ...],
                typing.Optional[typing.Tuple[float, ...]])


def define_flags(config_class, flags_module, skip=(), flag_values=None):
  """Defines one absl flag per field of `config_class`, same name and default.

  Into `flag_values` (an absl FlagValues) when given, else the global FLAGS.
  """
  extra = {} if flag_values is None else {'flag_values': flag_values}
  for field in dataclasses.fields(config_class):
    if field.name in skip:
      continue
    kind = field.type
    if kind in (typing.Optional[str], str):
      define = flags_module.DEFINE_string
    elif kind in (typing.Optional[int], int):
      define = flags_module.DEFINE_integer
    elif kind in (typing.Optional[float], float):
      define = flags_module.DEFINE_float
    elif kind is bool:
      define = flags_module.DEFINE_bool
    elif kind in (typing.Optional[typing.Tuple[int, ...]],
                  typing.Tuple[int, ...]):
      define = flags_module.DEFINE_multi_integer
    elif kind in (typing.Optional[typing.Tuple[float, ...]],
                  typing.Tuple[float, ...]):
      define = flags_module.DEFINE_multi_float
    else:
      raise TypeError('no flag type for %s: %r' % (field.name, kind))
    define(field.name, field.default, field.metadata['help'], **extra)
    if kind in _FLOAT_TYPES:
      flags_module.register_validator(field.name, _finite, _NOT_FINITE,
                                      **extra)


_NOT_FINITE = 'must be a finite number'


def _finite(value):
  """Whether a float field's value (None, a number or a tuple) is finite."""
  values = value if isinstance(value, (tuple, list)) else (value,)
  return all(v is None or math.isfinite(v) for v in values)


def check_finite(config):
  """Raises a ValueError naming the first float field set to NaN or inf.

  absl's float flags take 'nan' and 'inf'; no setting here means anything
  with them, and a NaN learning rate would only show as a NaN loss later.
  """
  for field in dataclasses.fields(config):
    if field.type in _FLOAT_TYPES and not _finite(getattr(config, field.name)):
      raise ValueError('%s %s; got %r.'
                       % (field.name, _NOT_FINITE, getattr(config, field.name)))


def from_flags(config_class, flag_values, **overrides):
  """Builds `config_class` from parsed flags of the same names.

  Repeated flags (tuple fields) come back as tuples, None when not given.
  """
  values = {}
  for field in dataclasses.fields(config_class):
    if field.name in flag_values:
      value = getattr(flag_values, field.name)
      values[field.name] = tuple(value) if isinstance(value, list) else value
  values.update(overrides)
  return config_class(**values)


def to_flags(config):
  """Command-line flags that give `config` back (None fields left unset)."""
  args = []
  for field in dataclasses.fields(config):
    value = getattr(config, field.name)
    if isinstance(value, bool):
      args.append('--%s%s' % ('' if value else 'no', field.name))
    elif isinstance(value, tuple):
      args.extend('--%s=%s' % (field.name, item) for item in value)
    elif value is not None:
      args.append('--%s=%s' % (field.name, value))
  return args


@dataclasses.dataclass
class KerasFineTuneConfig:
  """Everything `keras_lib.fine_tune` needs (fine_tune_keras.py's flags)."""
  checkpoint_path: typing.Optional[str] = field(
      None, 'Slim checkpoint to start from: a prefix, or a directory (its '
      'latest checkpoint, and the settings its run recorded).')
  train_dir: typing.Optional[str] = field(
      None, 'New directory for the fine-tuned slim checkpoint and its '
      'run_settings.json.')
  dataset_name: str = field('digits', 'Dataset to fine-tune on (its train '
                            'split).')
  validation_split_name: str = field(
      'validation', 'Split measured after every epoch (cifar10: test).')
  dataset_dir: typing.Optional[str] = field(
      None, 'Directory holding the converted dataset.')
  model_name: typing.Optional[str] = field(
      None, 'Network from nets.nets_factory; the checkpoint run\'s when '
      'unset.')
  preprocessing_name: typing.Optional[str] = field(
      None, 'Preprocessing; the checkpoint run\'s, else the model\'s '
      'default, when unset.')
  image_size: typing.Optional[int] = field(
      None, 'Input size; the checkpoint run\'s, else the model\'s default, '
      'when unset.')
  checkpoint_exclude_scopes: typing.Optional[str] = field(
      None, 'Comma-separated scopes not loaded from the checkpoint, e.g. '
      '<scope>/logits for a head with other classes.')
  labels_offset: int = field(0, 'Subtracted from dataset labels.')
  random_flip: bool = field(
      True, 'Random left-right flips in training preprocessing.')
  epochs: int = field(3, 'Passes over the training split.')
  batch_size: int = field(32, 'Examples per step.')
  learning_rate: float = field(
      0.01, 'Initial learning rate of momentum SGD; a cosine decay takes it '
      'to zero over the run.')
  momentum: float = field(0.9, 'Momentum.')
  weight_decay: float = field(0.00004, 'L2 regularization of the convolution '
                              'weights, as resnet_arg_scope applies it.')
  batch_norm_decay: float = field(0.9, 'Decay of the moving statistics.')
  seed: int = field(1, 'Seed of shuffling and of the layers not loaded.')

