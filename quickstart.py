"""The main job: convert the embedded digits, train a ResNet, evaluate it.

    python quickstart.py

Converts scikit-learn's handwritten digits to slim TFRecords under
./data/digits (first run only), trains resnet_v2_cifar_20 into
./runs/digits_resnet_v2_cifar_20 (resuming if that run was interrupted) and
prints the top-1 accuracy on the 300 held-out validation images. Needs the
`digits` extra: pip install '.[digits]'.
"""

import os

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

# pylint: disable=g-import-not-at-top,wrong-import-position
import time

from absl import app
from absl import flags

from slim_resnets.training import cli

flags.DEFINE_string('dataset_dir', 'data/digits', 'Converted digits.')
flags.DEFINE_string('train_dir', 'runs/digits_resnet_v2_cifar_20',
                    'Checkpoints and summaries of the run.')
flags.DEFINE_integer('max_number_of_steps', 600, 'Training steps.')
FLAGS = flags.FLAGS


def main(argv):
  del argv
  from slim_resnets.datasets import convert_digits  # pylint: disable=g-import-not-at-top
  from slim_resnets.datasets import dataset_factory  # pylint: disable=g-import-not-at-top
  from slim_resnets.training import eval_lib  # pylint: disable=g-import-not-at-top
  from slim_resnets.training import recipes  # pylint: disable=g-import-not-at-top
  from slim_resnets.training import train_lib  # pylint: disable=g-import-not-at-top

  def run():
    start = time.time()
    try:
      dataset_factory.get_split('digits', 'train', FLAGS.dataset_dir)
      print('Using the digits dataset in %s' % FLAGS.dataset_dir)
    except (ValueError, FileNotFoundError):
      print('Converting the digits to %s ...' % FLAGS.dataset_dir)
      convert_digits.convert(FLAGS.dataset_dir)
    train_config = recipes.digits_train_config(
        FLAGS.train_dir, FLAGS.dataset_dir, FLAGS.max_number_of_steps)
    print('Training %s for %d steps into %s ...'
          % (train_config.model_name, train_config.max_number_of_steps,
             train_config.train_dir))
    result = train_lib.train(train_config, log_fn=print)
    if result.stop_signal is not None:
      print('Stopped at step %d; run again to resume.' % result.global_step)
      return 1
    eval_config = recipes.digits_eval_config(
        train_config, os.path.join(train_config.train_dir, 'eval'))
    results = eval_lib.evaluate(eval_config, log_fn=lambda msg: None)
    print('Top-1 accuracy on %d validation digits: %.2f%% (top-5 %.2f%%), '
          'step %d, %.0f s in all; results in %s'
          % (results['num_examples'], 100 * results['top1_accuracy'],
             100 * results['top5_accuracy'], results['global_step'],
             time.time() - start, eval_config.eval_dir))
    return 0

  return cli.run_main(run, verbosity='WARN')


if __name__ == '__main__':
  app.run(main)
