"""The tiny segmentation run shared by the segmentation test modules.

A narrow DeepLab v3+ head on resnet_v2_cifar_20, trained for a few dozen
steps on 25x25 crops of a few digit scenes: conftest's `segmenter` fixture
trains it once per session. The modules using it share the xdist group
'segmentation', so that one worker trains it once.
"""

from slim_resnets.segmentation import config as config_lib

MODEL = dict(model_name='resnet_v2_cifar_20', output_stride=4,
             atrous_rates=(1, 2), decoder_output_stride=(2,), aspp_depth=16,
             decoder_depth=16)
STEPS = 40
NUM_TRAIN, NUM_VALIDATION = 64, 12
GROUP = 'segmentation'


def train_config(train_dir, dataset_dir, **overrides):
  """A SegmentationTrainConfig that trains in seconds on 2 CPU cores."""
  values = dict(MODEL, train_dir=str(train_dir), dataset_dir=dataset_dir,
                train_crop_size=(25, 25), min_scale_factor=0.75,
                max_scale_factor=1.25, scale_factor_step_size=0.25,
                random_flip=False, batch_size=8, max_number_of_steps=STEPS,
                optimizer='momentum', learning_rate=0.05,
                learning_rate_decay_type='fixed', batch_norm_decay=0.9,
                log_every_n_steps=2, save_interval_secs=3600,
                save_summaries_secs=3600, num_readers=2,
                num_preprocessing_threads=2, seed=1)
  values.update(overrides)
  return config_lib.SegmentationTrainConfig(**values)


def eval_config(checkpoint_path, dataset_dir, eval_dir, **overrides):
  values = dict(MODEL, checkpoint_path=str(checkpoint_path),
                eval_dir=str(eval_dir), dataset_dir=dataset_dir,
                eval_batch_size=4)
  values.update(overrides)
  return config_lib.SegmentationEvalConfig(**values)
