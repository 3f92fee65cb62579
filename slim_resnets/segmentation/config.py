"""Configuration of segmentation runs; the scripts' flags come from here.

The fields are DeepLab's flags where DeepLab has them (`output_stride`,
`atrous_rates`, `decoder_output_stride`, `train_crop_size`, ...). Training
adds them to the classification trainer's `TrainConfig`, so the shared
loop (clones, replicas, resuming, signals) reads the same fields; the
scripts add DeepLab's names for the shared ones as aliases
(`--model_variant` for `--model_name`, `--tf_initial_checkpoint` for
`--checkpoint_path`, ...). The model's fields live once, in `ModelConfig`,
which train, eval, vis and export configs all extend.
"""

import dataclasses
import typing

from slim_resnets.training import config as config_lib

_field = config_lib.field

# DeepLab's flag names -> the fields they set here (the scripts define
# them as absl aliases), for training and for eval and vis.
DEEPLAB_ALIASES = {
    'model_variant': 'model_name',
    'tf_initial_checkpoint': 'checkpoint_path',
    'train_logdir': 'train_dir',
    'train_batch_size': 'batch_size',
    'training_number_of_steps': 'max_number_of_steps',
    'base_learning_rate': 'learning_rate',
    'dataset': 'dataset_name',
    'train_split': 'dataset_split_name',
}
DEEPLAB_EVAL_ALIASES = {
    'model_variant': 'model_name',
    'dataset': 'dataset_name',
    'eval_split': 'dataset_split_name',
    'eval_logdir': 'eval_dir',
}


@dataclasses.dataclass
class ModelConfig:
  """The DeepLab model: backbone, strides and head."""
  model_name: str = _field(
      'resnet_v2_50', 'Backbone from nets.nets_factory (DeepLab: '
      '--model_variant).')
  preprocessing_name: typing.Optional[str] = _field(
      None, 'Pixel normalization: vgg, inception or cifarnet; the '
      'backbone\'s classification recipe when unset.')
  output_stride: int = _field(
      16, 'Image-to-feature ratio of the backbone (DeepLab: 16 to train, 8 '
      'for the best evaluation).')
  atrous_rates: typing.Optional[typing.Tuple[int, ...]] = _field(
      None, 'ASPP rates, repeat the flag per rate; unset: 6, 12, 18 scaled '
      'by 16/output_stride.')
  multi_grid: typing.Optional[typing.Tuple[int, ...]] = _field(
      None, 'Unit rates of the last block, repeat the flag (e.g. 1, 2, 4).')
  decoder_output_stride: typing.Optional[typing.Tuple[int, ...]] = _field(
      None, 'DeepLab v3+: the stride(s), coarse to fine, of the backbone '
      'features the decoder adds; unset: DeepLab v3, no decoder.')
  image_pooling: bool = _field(True, 'Add the image-level ASPP branch.')
  aspp_depth: int = _field(256, 'Channels of each ASPP branch.')
  decoder_depth: int = _field(256, 'Channels of the decoder convs.')
  decoder_use_separable_conv: bool = _field(
      True, 'Depthwise + pointwise decoder convs (DeepLab\'s default).')


@dataclasses.dataclass
class SegmentationTrainConfig(ModelConfig, config_lib.TrainConfig):
  """Everything `segmentation.train_lib.train` needs."""
  dataset_name: str = _field('digit_scenes', 'Dataset to train on.')
  weight_decay: float = _field(0.0001, 'L2 weight decay of conv weights.')
  train_crop_size: typing.Tuple[int, ...] = _field(
      (513, 513), 'Height and width of the training crops (repeat the '
      'flag); k * output_stride + 1 aligns features and pixels exactly.')
  min_scale_factor: float = _field(0.5, 'Smallest random scale of an image.')
  max_scale_factor: float = _field(2.0, 'Largest random scale of an image.')
  scale_factor_step_size: float = _field(
      0.25, 'Step between random scales; 0 for any scale in the range.')
  fine_tune_batch_norm: bool = _field(
      True, 'Train batch norm (batch statistics); DeepLab\'s advice: only '
      'with 12 or more images per step.')
  dropout_keep_prob: float = _field(
      0.9, 'Keep probability of the dropout after the ASPP.')
  initialize_last_layer: bool = _field(
      True, 'Restore the head from --checkpoint_path too; off to start it '
      'afresh (other classes, or a classification checkpoint).')
  last_layers_contain_logits_only: bool = _field(
      False, 'With --noinitialize_last_layer: only the logits are the last '
      'layers; the ASPP and decoder are restored.')
  top_k_percent_pixels: float = _field(
      1.0, 'Hard example mining: only this share of the labelled pixels, '
      'those with the largest losses, count in the loss.')


@dataclasses.dataclass
class SegmentationEvalConfig(ModelConfig):
  """Everything `segmentation.eval_lib.evaluate` needs."""
  checkpoint_path: str = _field(
      '/tmp/deeplab/', 'Checkpoint file, or a train directory (its latest '
      'checkpoint).')
  eval_dir: str = _field('/tmp/deeplab/eval',
                         'Where results and overlays go.')
  dataset_name: str = _field('digit_scenes', 'Dataset to evaluate on.')
  dataset_split_name: str = _field('validation', 'Split to evaluate.')
  dataset_dir: typing.Optional[str] = _field(
      None, 'Directory holding the converted dataset.')
  eval_batch_size: int = _field(
      1, 'Images per step; more only when they all have one size.')
  eval_scales: typing.Tuple[float, ...] = _field(
      (1.0,), 'Scales to evaluate at, averaged (repeat the flag).')
  add_flipped_images: bool = _field(
      False, 'Also evaluate left-right flipped images, averaged.')
  max_num_batches: typing.Optional[int] = _field(
      None, 'Evaluate at most this many batches; the whole split when unset.')
  num_preprocessing_threads: int = _field(4, 'Parallel preprocessing calls.')
