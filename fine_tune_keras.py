"""Fine-tunes a slim checkpoint as a Keras 3 model with `fit`, saves slim.

    python fine_tune_keras.py --checkpoint_path=runs/digits_resnet_v2_50 \
        --train_dir=runs/digits_keras --dataset_name=digits \
        --dataset_dir=data/digits \
        --checkpoint_exclude_scopes=resnet_v2_50/logits

The net is `nets.keras_nets`'s form of --model_name (by default the one the
checkpoint's run recorded), loaded from the checkpoint by slim variable
name; training is Keras's `fit` on the project's input pipeline and
preprocessing. The result is a slim checkpoint in --train_dir with the run's
settings beside it, for eval_image_classifier.py, the export scripts, or
another run of either trainer.
"""

from absl import app
from absl import flags

from slim_resnets import console
from slim_resnets.training import cli
from slim_resnets.training import config as config_lib

config_lib.define_flags(config_lib.KerasFineTuneConfig, flags)
FLAGS = flags.FLAGS


def main(argv):
  del argv  # console.parse_flags refuses positional arguments
  from slim_resnets.training import keras_lib  # pylint: disable=g-import-not-at-top
  config = config_lib.from_flags(config_lib.KerasFineTuneConfig, FLAGS)
  result = cli.run_main(lambda: keras_lib.fine_tune(config, log=print),
                        'WARN', dataset=(config.dataset_name, 'train',
                                         config.dataset_dir))
  print('Validation accuracy %.2f%% after %d epochs, %.0f s in all; slim '
        'checkpoint %s' % (100 * result['validation_accuracy'],
                           config.epochs, result['seconds'],
                           result['checkpoint']))


if __name__ == '__main__':
  app.run(main, flags_parser=console.parse_flags)
