"""Evaluates a DeepLab checkpoint: mean IoU, per-class IoU, pixel accuracy.

    python eval_segmentation.py --checkpoint_path=/tmp/deeplab \
        --eval_dir=/tmp/deeplab/eval --dataset_dir=data/digit_scenes \
        --model_variant=resnet_v2_cifar_20 --output_stride=4 \
        --atrous_rates=1 --atrous_rates=2 --atrous_rates=3 \
        --decoder_output_stride=2 [--eval_scales=0.75 --eval_scales=1.0
        --eval_scales=1.25 --add_flipped_images]

The model flags must be those it was trained with. Results (the confusion
matrix included) go to <eval_dir>/eval_results.json.
"""

import json

from absl import app
from absl import flags

from slim_resnets import console
from slim_resnets.segmentation import config as seg_config
from slim_resnets.training import cli
from slim_resnets.training import config as config_lib

config_lib.define_flags(seg_config.SegmentationEvalConfig, flags)
for alias, name in seg_config.DEEPLAB_EVAL_ALIASES.items():
  flags.DEFINE_alias(alias, name)
FLAGS = flags.FLAGS


def main(argv):
  del argv  # console.parse_flags refuses positional arguments
  from slim_resnets.segmentation import eval_lib  # pylint: disable=g-import-not-at-top
  config = config_lib.from_flags(seg_config.SegmentationEvalConfig, FLAGS)
  results = cli.run_main(
      lambda: eval_lib.evaluate(config, log_fn=console.say), 'WARN', dataset=(
          config.dataset_name, config.dataset_split_name, config.dataset_dir))
  print(json.dumps({k: results[k] for k in (
      'global_step', 'num_images', 'mean_iou', 'pixel_accuracy',
      'per_class_iou')}, indent=2))
  return 0


if __name__ == '__main__':
  app.run(main, flags_parser=console.parse_flags)
