"""Ready-made configurations: the digit-scenes segmentation main job.

DeepLab v3 on the CIFAR-style pre-activation ResNet-20
(`resnet_v2_cifar_20`), trained on the embedded 48x48 digit scenes
(`datasets.convert_digit_scenes`), as `quickstart.py --task=segmentation`
runs it. What makes it work in a few minutes on 2 CPU cores:

* The backbone starts from the digits classifier of the classification
  main job (`training.recipes`), as DeepLab starts from ImageNet: that
  classifier saw the digits at 16x16, the size of the scenes' small digits,
  so its features already tell the digits apart, and the head mostly has
  to learn where they are. Started from scratch, 600 steps of the same
  model learnt ink against background but not which digit (mean IoU 0.08).
* Its batch norm stays as the classifier left it (`fine_tune_batch_norm`
  off): scenes are mostly empty canvas, so their batch statistics are far
  from the classifier's, and in our runs training batch norm on them (with
  or without the image pooling branch) again learnt no digit at all in 300
  steps (mean IoU 0.08-0.10), against 0.66 with it frozen. The head's
  batch norms then keep their initial statistics.
* Adam at 0.005 (epsilon 0.001; slim's default of 1.0 would make it plain
  gradient descent), falling linearly to 1% over 600 steps: 0.89 mean IoU
  on the validation scenes, against 0.66 after 300 steps at 0.003 and 0.58
  at 0.01.
* Whole scenes, no random scale and no flips: a scene is already small and
  a mirrored 2 is not a 2. Stride 4 (the CIFAR nets' nominal stride), ASPP
  rates 1, 2, 3 over the 12x12 feature map (rate 3 spans the largest
  digit), image pooling, and the logits upsampled to the scene.
"""

from slim_resnets.segmentation import config as config_lib
from slim_resnets.training import recipes as classification_recipes

MODEL = dict(model_name='resnet_v2_cifar_20', preprocessing_name='cifarnet',
             output_stride=4, atrous_rates=(1, 2, 3),
             decoder_output_stride=None, aspp_depth=64)
DIGIT_SCENES_TRAIN_EXAMPLES = 1000
DEFAULT_STEPS = 600


def backbone_train_config(train_dir, dataset_dir):
  """The digits classifier the backbone starts from (the classification
  main job's recipe and model)."""
  return classification_recipes.digits_train_config(
      train_dir, dataset_dir, model_name=MODEL['model_name'])


def digit_scenes_train_config(train_dir, dataset_dir, backbone_checkpoint,
                              max_number_of_steps=DEFAULT_STEPS,
                              batch_size=16, learning_rate=0.005, seed=1):
  """The SegmentationTrainConfig of the segmentation main job."""
  epochs = max_number_of_steps * batch_size / DIGIT_SCENES_TRAIN_EXAMPLES
  return config_lib.SegmentationTrainConfig(
      train_dir=train_dir, dataset_name='digit_scenes',
      dataset_split_name='train', dataset_dir=dataset_dir,
      checkpoint_path=backbone_checkpoint, initialize_last_layer=False,
      fine_tune_batch_norm=False, batch_norm_decay=0.9,
      train_crop_size=(48, 48), min_scale_factor=1.0, max_scale_factor=1.0,
      scale_factor_step_size=0.0, random_flip=False, batch_size=batch_size,
      max_number_of_steps=max_number_of_steps, optimizer='adam',
      opt_epsilon=1e-3, learning_rate=learning_rate,
      learning_rate_decay_type='polynomial', num_epochs_per_decay=epochs,
      end_learning_rate=learning_rate * 0.01, weight_decay=1e-4,
      log_every_n_steps=50, save_interval_secs=60, save_summaries_secs=60,
      seed=seed, **MODEL)


def digit_scenes_eval_config(train_config, eval_dir):
  """The SegmentationEvalConfig that evaluates `train_config`'s run on the
  validation scenes."""
  return config_lib.SegmentationEvalConfig(
      checkpoint_path=train_config.train_dir, eval_dir=eval_dir,
      dataset_name='digit_scenes', dataset_split_name='validation',
      dataset_dir=train_config.dataset_dir, eval_batch_size=50, **MODEL)
