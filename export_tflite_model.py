"""Exports a trained classifier as a TensorFlow Lite model.

    python export_tflite_model.py --model_name=resnet_v1_cifar_20 \
        --checkpoint_path=/tmp/train --num_classes=10 --image_size=16 \
        --output_file=/tmp/export/model_int8.tflite \
        --quantization=full_integer --dataset_name=digits \
        --dataset_dir=/tmp/digits --preprocessing_name=cifarnet

The model takes *preprocessed* float32 images [batch, size, size, 3] (the
evaluation preprocessing of the model's recipe, as the input pipeline
produces them) and returns softmax probabilities [batch, num_classes].
--quantization=full_integer calibrates its int8 activations on
--num_calibration_examples images of the --calibration_split_name split of
the dataset; its input and output stay float32 unless --int8_io.
"""


from absl import app
from absl import flags

from slim_resnets import console
from slim_resnets.training import cli

_QUANTIZATIONS = ('float32', 'dynamic_range', 'full_integer')

flags.DEFINE_string('model_name', 'resnet_v2_50', 'Network from nets_factory.')
flags.DEFINE_string('checkpoint_path', None,
                    'Checkpoint file, or a directory (its latest checkpoint).')
flags.DEFINE_integer('num_classes', None, 'Logits of the checkpoint; from the '
                     'published checkpoint of --model_name when unset.')
flags.DEFINE_integer('image_size', None, 'Network input size; model default '
                     'when unset.')
flags.DEFINE_string('output_file', None, 'The .tflite file (must be new).')
flags.DEFINE_enum('quantization', 'float32', _QUANTIZATIONS,
                  'float32; dynamic_range (int8 weights); full_integer (int8 '
                  'weights and activations, calibrated on --dataset_dir).')
flags.DEFINE_bool('int8_io', False, 'With full_integer: int8 input and '
                  'output tensors instead of float32.')
flags.DEFINE_string('dataset_name', 'digits', 'Calibration dataset.')
flags.DEFINE_string('dataset_dir', None, 'Calibration dataset directory '
                    '(needed for full_integer).')
flags.DEFINE_string('calibration_split_name', 'train', 'Calibration split.')
flags.DEFINE_integer('num_calibration_examples', 200,
                     'Calibration images.')
flags.DEFINE_string('preprocessing_name', None, 'Preprocessing of the '
                    'calibration images; the model\'s default when unset.')
flags.mark_flags_as_required(['checkpoint_path', 'output_file'])
FLAGS = flags.FLAGS


def export():
  """Checks the calibration flags, then exports; returns the TFLiteExport."""
  from absl import logging  # pylint: disable=g-import-not-at-top

  from nets import nets_factory  # pylint: disable=g-import-not-at-top
  from slim_resnets.serving import tflite_lib  # pylint: disable=g-import-not-at-top
  from slim_resnets.training import run_settings  # pylint: disable=g-import-not-at-top
  logging.set_verbosity(logging.WARNING)  # The converter's INFO lines.
  run_settings.apply_to_flags(FLAGS, FLAGS.checkpoint_path)
  num_classes, image_size = nets_factory.resolve_model_settings(
      FLAGS.model_name, FLAGS.num_classes, FLAGS.image_size)
  calibration = None
  if FLAGS.quantization == 'full_integer':
    if not FLAGS.dataset_dir:
      raise ValueError('--quantization=full_integer needs --dataset_dir (and '
                       '--dataset_name) for calibration images.')
    calibration = tflite_lib.calibration_images(
        FLAGS.dataset_name, FLAGS.dataset_dir, FLAGS.model_name, image_size,
        split_name=FLAGS.calibration_split_name,
        num_examples=FLAGS.num_calibration_examples,
        preprocessing_name=FLAGS.preprocessing_name)
  return tflite_lib.export_tflite(
      FLAGS.checkpoint_path, FLAGS.model_name, num_classes, FLAGS.output_file,
      image_size=image_size, quantization=FLAGS.quantization,
      representative_images=calibration, int8_io=FLAGS.int8_io)


def main(argv):
  del argv  # console.parse_flags refuses positional arguments
  result = cli.run_main(export, verbosity='WARN')
  print('Exported %s TFLite model to %s (%d bytes; input %dx%d, %d classes)'
        % (result.quantization, result.path, result.size_bytes,
           result.image_size, result.image_size, result.num_classes))


if __name__ == '__main__':
  app.run(main, flags_parser=console.parse_flags)
