"""Exports a DeepLab checkpoint as a SavedModel for serving.

    python export_segmentation_model.py --checkpoint_path=/tmp/deeplab \
        --output_dir=/tmp/deeplab_savedmodel --num_classes=11 \
        --model_variant=resnet_v2_cifar_20 --output_stride=4 \
        --atrous_rates=2 --atrous_rates=4 --atrous_rates=6 \
        --decoder_output_stride=2

The SavedModel's 'serving_default' signature takes uint8 images of any size
('images', [batch, height, width, 3]) and returns 'labels' (int32, one class
per pixel) and 'probabilities', at the images' own size. --eval_scales and
--add_flipped_images are baked in when given.
"""


from absl import app
from absl import flags

from slim_resnets import console
from slim_resnets.segmentation import config as seg_config
from slim_resnets.training import cli
from slim_resnets.training import config as config_lib

config_lib.define_flags(
    seg_config.SegmentationEvalConfig, flags,
    skip=('eval_dir', 'dataset_name', 'dataset_split_name', 'dataset_dir',
          'eval_batch_size', 'max_num_batches', 'num_preprocessing_threads'))
flags.DEFINE_alias('model_variant', 'model_name')
flags.DEFINE_string('output_dir', None, 'Where the SavedModel goes (must not '
                    'exist).')
flags.DEFINE_integer('num_classes', None, 'Classes the model was trained '
                     'with (background included).')
flags.mark_flags_as_required(['output_dir', 'num_classes'])
FLAGS = flags.FLAGS


def main(argv):
  del argv  # console.parse_flags refuses positional arguments
  from slim_resnets.segmentation import export_lib  # pylint: disable=g-import-not-at-top
  config = config_lib.from_flags(seg_config.SegmentationEvalConfig, FLAGS,
                                 eval_dir=FLAGS.output_dir)
  result = cli.run_main(lambda: export_lib.export(config, FLAGS.num_classes,
                                                  FLAGS.output_dir),
                        verbosity='WARN')
  print('SavedModel of %d classes in %s' % (result.num_classes,
                                           result.saved_model_dir))
  return 0


if __name__ == '__main__':
  app.run(main, flags_parser=console.parse_flags)
