"""Trains a DeepLab v3/v3+ segmentation model on a ResNet backbone.

    python train_segmentation.py --train_logdir=/tmp/deeplab \
        --dataset=digit_scenes --dataset_dir=data/digit_scenes \
        --model_variant=resnet_v2_cifar_20 --output_stride=4 \
        --atrous_rates=1 --atrous_rates=2 --atrous_rates=3 \
        --decoder_output_stride=2 --train_crop_size=33 \
        --training_number_of_steps=600

DeepLab's flag names work (--model_variant, --tf_initial_checkpoint,
--train_logdir, --train_batch_size, --training_number_of_steps,
--base_learning_rate, --dataset, --train_split) beside this project's
(--model_name, --checkpoint_path, ...; see
slim_resnets/segmentation/config.py for all of them). Everything the
classification trainer does works here too: stop with Ctrl-C and run the
same command to resume, --num_clones, clusters through TF_CONFIG or
slim's --master/--task flags.

Fine-tuning from a classification checkpoint:
--tf_initial_checkpoint=<ckpt> --noinitialize_last_layer.
"""


from absl import app
from absl import flags

from slim_resnets import console
from slim_resnets.segmentation import config as seg_config
from slim_resnets.training import cli
from slim_resnets.training import config as config_lib

config_lib.define_flags(seg_config.SegmentationTrainConfig, flags)
for alias, name in seg_config.DEEPLAB_ALIASES.items():
  flags.DEFINE_alias(alias, name)
FLAGS = flags.FLAGS


def main(argv):
  del argv  # console.parse_flags refuses positional arguments
  from slim_resnets.segmentation import train_lib  # pylint: disable=g-import-not-at-top
  config = config_lib.from_flags(seg_config.SegmentationTrainConfig, FLAGS)
  result = cli.run_main(lambda: train_lib.train(config), dataset=(
      config.dataset_name, config.dataset_split_name, config.dataset_dir))
  return cli.report_training(result, config.train_dir)

if __name__ == '__main__':
  app.run(main, flags_parser=console.parse_flags)
