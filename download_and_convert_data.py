"""Converts a dataset to slim TFRecords, or checks a converted one.

    python download_and_convert_data.py --dataset_name=digits \
        --dataset_dir=/tmp/digits
    python download_and_convert_data.py --dataset_name=cifar10 \
        --dataset_dir=/tmp/cifar10 [--archive=cifar-10-python.tar.gz]
    python download_and_convert_data.py --dataset_name=image_folder \
        --dataset_dir=/tmp/flowers --source_dir=flower_photos \
        [--validation_fraction=0.1] [--skip_undecodable]
    python download_and_convert_data.py --dataset_name=imagenet \
        --dataset_dir=/data/imagenet --verify_only

An existing dataset is only replaced with --overwrite, and only once the
new one is complete; other files in --dataset_dir are never touched.
--verify_only reads every record of every split of an existing dataset and
reports the first damaged one. See the `datasets` package for the details.
"""



from absl import app
from absl import flags

from slim_resnets import console
from slim_resnets.datasets import dataset_factory
from slim_resnets.training import cli

FLAGS = flags.FLAGS
flags.DEFINE_enum('dataset_name', None, list(dataset_factory.DATASETS),
                  'The dataset to convert (or, with --verify_only, check).')
flags.DEFINE_string('dataset_dir', None,
                    'Directory for the TFRecord shards, labels.txt and '
                    'dataset_info.json; created if missing.')
flags.DEFINE_bool('overwrite', False,
                  'Replace a dataset already in --dataset_dir.')
flags.DEFINE_string('archive', None,
                    'cifar10: path of cifar-10-python.tar.gz; downloaded '
                    'into --dataset_dir when omitted. pascal_voc_seg: '
                    'VOCtrainval_11-May-2012.tar, read in place.')
flags.DEFINE_string('source_dir', None,
                    'image_folder: a directory with one sub-folder of '
                    'JPEG/PNG images per class. segmentation_folder: a '
                    'directory with class_names.txt, images/ and masks/. '
                    'pascal_voc_seg: the extracted VOCdevkit (instead of '
                    '--archive).')
flags.DEFINE_string('sbd_archive', None,
                    "pascal_voc_seg: SBD's benchmark.tgz (or its extracted "
                    "folder), to add DeepLab's 'train_aug' split.")
flags.DEFINE_float('validation_fraction', None,
                   'digits, image_folder, segmentation_folder: share of the '
                   "images held out as 'validation' (default: 300 images "
                   'for digits, 0.1 for the folders).')
flags.DEFINE_integer('num_shards', None,
                     'TFRecord files per split (default depends on the '
                     'dataset).')
flags.DEFINE_integer('seed', None,
                     'digits, digit_scenes, image_folder, '
                     'segmentation_folder: seed of the train/validation '
                     'split (default 0).')
flags.DEFINE_bool('skip_undecodable', False,
                  'image_folder: leave out images that do not decode, with a '
                  'warning, instead of failing.')
flags.DEFINE_bool('verify_only', False,
                  'Convert nothing: read every record of the dataset in '
                  '--dataset_dir and report damaged ones.')
flags.DEFINE_bool('check_images', False,
                  'With --verify_only, also decode every image (slow).')
flags.mark_flags_as_required(['dataset_name', 'dataset_dir'])


def main(argv):
  del argv  # console.parse_flags refuses positional arguments
  if FLAGS.check_images and not FLAGS.verify_only:
    console.fail(console.USAGE_ERROR,
                 '--check_images only works with --verify_only.')
  # Imported once the flags are known to be good: these load TensorFlow,
  # which takes seconds, and --help or a mistyped flag should not wait.
  from slim_resnets.datasets import convert  # pylint: disable=g-import-not-at-top
  from slim_resnets.datasets import verify  # pylint: disable=g-import-not-at-top

  def work():
    if FLAGS.verify_only:
      counts = verify.verify_dataset(FLAGS.dataset_name, FLAGS.dataset_dir,
                                     check_images=FLAGS.check_images)
      for split_name, count in counts.items():
        print('%s/%s: %d records, all readable.'
              % (FLAGS.dataset_name, split_name, count))
      return
    info = convert.convert(
        FLAGS.dataset_name, FLAGS.dataset_dir, overwrite=FLAGS.overwrite,
        archive=FLAGS.archive, source_dir=FLAGS.source_dir,
        sbd_archive=FLAGS.sbd_archive,
        validation_fraction=FLAGS.validation_fraction,
        num_shards=FLAGS.num_shards, seed=FLAGS.seed,
        skip_undecodable=FLAGS.skip_undecodable or None)
    print(convert.describe(info, FLAGS.dataset_dir))

  cli.run_main(work, verbosity='WARN')

if __name__ == '__main__':
  app.run(main, flags_parser=console.parse_flags)
