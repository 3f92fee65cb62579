"""The main jobs: convert embedded data, train a ResNet, evaluate it.

    python quickstart.py                      # classification (the default)
    python quickstart.py --task=segmentation  # DeepLab v3 on digit scenes

Classification converts scikit-learn's handwritten digits to slim
TFRecords under ./data/digits (first run only), trains resnet_v2_cifar_20
into ./runs/digits_resnet_v2_cifar_20 (resuming if that run was
interrupted) and prints the top-1 accuracy on the 300 held-out validation
images.

Segmentation converts the digit scenes (`datasets.convert_digit_scenes`)
under ./data/digit_scenes, starts the backbone from the classification
run above (training it first when it is not there), trains DeepLab v3
(`segmentation.recipes`) into ./runs/digit_scenes_deeplab, writes a few
prediction panels (image | truth | prediction) as PNGs into its vis/
folder (and all of them on vis/overview.png), and ends with the line
`mean IoU on N validation scenes: XX.X%`.

Both need the `digits` extra: pip install '.[digits]'. A run stopped by
Ctrl-C or SIGTERM says so and exits with status 130 or 143 (128 + the
signal, see slim_resnets/console.py); run it again to resume.
"""

import os
import time

from absl import app
from absl import flags

from slim_resnets import console
from slim_resnets.training import cli

TASKS = ('classification', 'segmentation')
# task -> (dataset_dir, train_dir) defaults.
_DEFAULT_DIRS = {
    'classification': ('data/digits', 'runs/digits_resnet_v2_cifar_20'),
    'segmentation': ('data/digit_scenes', 'runs/digit_scenes_deeplab'),
}

flags.DEFINE_enum('task', 'classification', TASKS, 'The main job to run.')
flags.DEFINE_string('dataset_dir', None,
                    'Converted data (default: data/digits, or '
                    'data/digit_scenes for segmentation).')
flags.DEFINE_string('train_dir', None,
                    'Checkpoints and summaries of the run (default: '
                    'runs/digits_resnet_v2_cifar_20, or '
                    'runs/digit_scenes_deeplab for segmentation).')
flags.DEFINE_integer('max_number_of_steps', None,
                     'Training steps (default: 600).')
flags.DEFINE_string('backbone_dataset_dir', _DEFAULT_DIRS['classification'][0],
                    'Segmentation: the digits for the backbone classifier.')
flags.DEFINE_string('backbone_train_dir', _DEFAULT_DIRS['classification'][1],
                    'Segmentation: the classification run the backbone '
                    'starts from; trained first if it has no finished '
                    'checkpoint.')
flags.DEFINE_integer('backbone_steps', None,
                     'Segmentation: training steps of the backbone '
                     'classifier (default: the classification job\'s 600).')
FLAGS = flags.FLAGS


def _stopped(result):
  print('Stopped at step %d by signal %d; run again to resume.'
        % (result.global_step, result.stop_signal))
  return console.interrupted_status(result.stop_signal)


def _converted(dataset_name, what, dataset_dir, convert_fn):
  """Converts the embedded `dataset_name` into dataset_dir on first use."""
  from slim_resnets.datasets import dataset_factory
  try:
    dataset_factory.get_split(dataset_name, 'train', dataset_dir)
    print('Using the %s in %s' % (what, dataset_dir))
  except (ValueError, FileNotFoundError):
    print('Converting the %s to %s ...' % (what, dataset_dir))
    convert_fn(dataset_dir)


def _train_classifier(dataset_dir, train_dir, max_number_of_steps):
  """Returns (train config, result) of the digits classification recipe."""
  from slim_resnets.datasets import convert_digits
  from slim_resnets.training import recipes
  from slim_resnets.training import train_lib
  _converted('digits', 'digits', dataset_dir, convert_digits.convert)
  train_config = recipes.digits_train_config(train_dir, dataset_dir,
                                             max_number_of_steps)
  print('Training %s for %d steps into %s ...'
        % (train_config.model_name, train_config.max_number_of_steps,
           train_config.train_dir))
  return train_config, train_lib.train(train_config, log_fn=print)


def classification():
  from slim_resnets.training import eval_lib
  from slim_resnets.training import recipes
  start = time.time()
  train_config, result = _train_classifier(
      FLAGS.dataset_dir or _DEFAULT_DIRS['classification'][0],
      FLAGS.train_dir or _DEFAULT_DIRS['classification'][1],
      FLAGS.max_number_of_steps or 600)
  if result.stop_signal is not None:
    return _stopped(result)
  eval_config = recipes.digits_eval_config(
      train_config, os.path.join(train_config.train_dir, 'eval'))
  results = eval_lib.evaluate(eval_config, log_fn=lambda msg: None)
  print('Top-1 accuracy on %d validation digits: %.2f%% (top-5 %.2f%%), '
        'step %d, %.0f s in all; results in %s'
        % (results['num_examples'], 100 * results['top1_accuracy'],
           100 * results['top5_accuracy'], results['global_step'],
           time.time() - start, eval_config.eval_dir))
  return 0


def segmentation():
  from slim_resnets.datasets import convert_digit_scenes
  from slim_resnets.segmentation import eval_lib
  from slim_resnets.segmentation import recipes
  from slim_resnets.segmentation import train_lib
  from slim_resnets.segmentation import vis_lib
  start = time.time()
  dataset_dir = FLAGS.dataset_dir or _DEFAULT_DIRS['segmentation'][0]
  _converted('digit_scenes', 'digit scenes', dataset_dir,
             convert_digit_scenes.convert)
  backbone = recipes.backbone_train_config(FLAGS.backbone_train_dir,
                                           FLAGS.backbone_dataset_dir)
  _, result = _train_classifier(
      backbone.dataset_dir, backbone.train_dir,
      FLAGS.backbone_steps or backbone.max_number_of_steps)
  if result.stop_signal is not None:
    return _stopped(result)
  print('Backbone at step %d (%.0f s of training in this run).'
        % (result.global_step, result.seconds))
  train_config = recipes.digit_scenes_train_config(
      FLAGS.train_dir or _DEFAULT_DIRS['segmentation'][1], dataset_dir,
      backbone.train_dir,
      FLAGS.max_number_of_steps or recipes.DEFAULT_STEPS)
  print('Training DeepLab v3 on %s for %d steps into %s, the backbone '
        'from %s ...' % (train_config.model_name,
                         train_config.max_number_of_steps,
                         train_config.train_dir, backbone.train_dir))
  result = train_lib.train(train_config, log_fn=print)
  if result.stop_signal is not None:
    return _stopped(result)
  print('DeepLab at step %d (%.0f s of training in this run).'
        % (result.global_step, result.seconds))
  eval_config = recipes.digit_scenes_eval_config(
      train_config, os.path.join(train_config.train_dir, 'eval'))
  results = eval_lib.evaluate(eval_config, log_fn=lambda msg: None)
  vis_dir = os.path.join(train_config.train_dir, 'vis')
  panels = vis_lib.visualize(eval_config, vis_dir, num_images=6, zoom=4,
                             log_fn=lambda msg: None, sheet_name='overview')
  print('Per-class IoU: %s' % ', '.join(
      '%s %.1f%%' % (name, 100 * iou)
      for name, iou in results['per_class_iou'].items()))
  print('Pixel accuracy %.2f%%, step %d, %.0f s in all; results in %s, '
        'prediction panels (image | truth | prediction) in %s, all on %s'
        % (100 * results['pixel_accuracy'], results['global_step'],
           time.time() - start, eval_config.eval_dir, vis_dir, panels[-1]))
  print('mean IoU on %d validation scenes: %.1f%%'
        % (results['num_images'], 100 * results['mean_iou']))
  return 0


def main(argv):
  del argv
  job = classification if FLAGS.task == 'classification' else segmentation
  return cli.run_main(job, verbosity='WARN')


if __name__ == '__main__':
  app.run(main, flags_parser=console.parse_flags)
