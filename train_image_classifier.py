"""Trains an image classifier from `nets` on a converted dataset.

    python train_image_classifier.py --train_dir=/tmp/train \
        --dataset_name=digits --dataset_dir=/tmp/digits \
        --model_name=resnet_v1_cifar_20 --max_number_of_steps=1000

Flags are slim's (see slim_resnets/training/config.py for all of them).
Fine-tune a
published checkpoint with --checkpoint_path and
--checkpoint_exclude_scopes=<scope>/logits; stop with Ctrl-C and start the
same command again to resume from the last checkpoint.

Several devices: --num_clones (--clone_on_cpu without GPUs). Several
processes or machines: run it once per task with TF_CONFIG set (or slim's
--master/--task/--worker_replicas/--num_ps_tasks), or on one machine
through
`python -m slim_resnets.distributed.local_cluster --ps 1 --workers 2 -- ...`.
"""


from absl import app
from absl import flags

from slim_resnets import console
from slim_resnets.training import cli
from slim_resnets.training import config as config_lib

config_lib.define_flags(config_lib.TrainConfig, flags)
FLAGS = flags.FLAGS


def main(argv):
  del argv  # console.parse_flags refuses positional arguments
  from slim_resnets.training import train_lib  # pylint: disable=g-import-not-at-top
  config = config_lib.from_flags(config_lib.TrainConfig, FLAGS)
  result = cli.run_main(lambda: train_lib.train(config), dataset=(
      config.dataset_name, config.dataset_split_name, config.dataset_dir))
  return cli.report_training(result, config.train_dir)


if __name__ == '__main__':
  app.run(main, flags_parser=console.parse_flags)
