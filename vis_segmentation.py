"""Writes pictures of a DeepLab checkpoint's segmentations as PNG files.

    python vis_segmentation.py --checkpoint_path=/tmp/deeplab \
        --vis_logdir=/tmp/deeplab/vis --dataset_dir=data/digit_scenes \
        --model_variant=resnet_v2_cifar_20 --output_stride=4 \
        --atrous_rates=1 --atrous_rates=2 --atrous_rates=3 \
        --decoder_output_stride=2 --num_images=8 --zoom=4

One PNG per image, named after it: the image, the ground truth and the
prediction side by side, the label maps in PASCAL VOC's colors laid over
the image (ignored pixels white).
"""


from absl import app
from absl import flags

from slim_resnets import console
from slim_resnets.segmentation import config as seg_config
from slim_resnets.training import cli
from slim_resnets.training import config as config_lib

config_lib.define_flags(seg_config.SegmentationEvalConfig, flags,
                        skip=('eval_dir',))
for alias, name in seg_config.DEEPLAB_EVAL_ALIASES.items():
  if name != 'eval_dir':
    flags.DEFINE_alias(alias, name)
flags.DEFINE_string('vis_logdir', '/tmp/deeplab/vis', 'Where the PNGs go.')
flags.DEFINE_integer('num_images', 8, 'Images to draw.')
flags.DEFINE_integer('zoom', 1, 'Enlarge the panels this many times.')
FLAGS = flags.FLAGS


def main(argv):
  del argv  # console.parse_flags refuses positional arguments
  from slim_resnets.segmentation import vis_lib  # pylint: disable=g-import-not-at-top
  config = config_lib.from_flags(seg_config.SegmentationEvalConfig, FLAGS,
                                 eval_dir=FLAGS.vis_logdir)
  paths = cli.run_main(lambda: vis_lib.visualize(
      config, FLAGS.vis_logdir, FLAGS.num_images, FLAGS.zoom,
      log_fn=console.say), verbosity='WARN')
  return console.OK if paths else console.DATA_ERROR


if __name__ == '__main__':
  app.run(main, flags_parser=console.parse_flags)
