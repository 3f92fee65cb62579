"""Evaluates a classifier checkpoint: top-1, top-5 and per-class recall.

    python eval_image_classifier.py --checkpoint_path=/tmp/train \
        --eval_dir=/tmp/eval --dataset_name=digits --dataset_dir=/tmp/digits \
        --dataset_split_name=validation --model_name=resnet_v1_cifar_20

--checkpoint_path may be a checkpoint or a directory (its latest); with
--eval_interval_secs every new checkpoint there is evaluated. With
--tflite_model=model.tflite (from export_tflite_model.py) that model is
evaluated instead, on the same preprocessed images. Results are printed and
written to <eval_dir>/eval_results.json.
"""

import json

from absl import app
from absl import flags

from slim_resnets import console
from slim_resnets.training import cli
from slim_resnets.training import config as config_lib

config_lib.define_flags(config_lib.EvalConfig, flags)
FLAGS = flags.FLAGS


def main(argv):
  del argv  # console.parse_flags refuses positional arguments
  # pylint: disable=g-import-not-at-top
  from slim_resnets.training import run_settings
  run_settings.apply_to_flags(FLAGS, FLAGS.checkpoint_path,
                              renamed={'image_size': 'eval_image_size'})
  config = config_lib.from_flags(config_lib.EvalConfig, FLAGS)
  if config.tflite_model:
    from slim_resnets.serving import tflite_lib as evaluator
  else:
    from slim_resnets.training import eval_lib as evaluator
  results = cli.run_main(
      lambda: evaluator.evaluate(config, log_fn=console.say), 'WARN', dataset=(
          config.dataset_name, config.dataset_split_name, config.dataset_dir))
  if results is None:
    print('No checkpoint appeared in %s within --eval_timeout_secs=%s.'
          % (config.checkpoint_path, config.eval_timeout_secs))
    return console.DATA_ERROR
  summary = {k: results[k] for k in ('global_step', 'num_examples',
                                     'top1_accuracy', 'top5_accuracy',
                                     'mean_per_class_recall')}
  print(json.dumps(summary, indent=2))


if __name__ == '__main__':
  app.run(main, flags_parser=console.parse_flags)
