"""One entry point for every converter: `convert(dataset_name, ...)`.

`download_and_convert_data.py` passes its flags here. Each converter takes
only the options that mean something for it; passing another (say
--source_dir for digits) is an error rather than silently ignored, because
it usually means the wrong dataset name was typed.
"""

from slim_resnets.datasets import convert_cifar10
from slim_resnets.datasets import convert_digit_scenes
from slim_resnets.datasets import convert_digits
from slim_resnets.datasets import convert_image_folder
from slim_resnets.datasets import convert_pascal_voc_seg
from slim_resnets.datasets import convert_segmentation_folder
from slim_resnets.datasets import dataset_factory
from slim_resnets.datasets import errors

# name -> (convert function, the options it accepts besides dataset_dir and
# overwrite, the options it requires).
CONVERTERS = {
    'digits': (convert_digits.convert,
               ('validation_fraction', 'num_shards', 'seed'), ()),
    'cifar10': (convert_cifar10.convert, ('archive', 'num_shards'), ()),
    'digit_scenes': (convert_digit_scenes.convert, ('num_shards', 'seed'), ()),
    'image_folder': (convert_image_folder.convert,
                     ('source_dir', 'validation_fraction', 'num_shards',
                      'seed', 'skip_undecodable'), ('source_dir',)),
    'segmentation_folder': (convert_segmentation_folder.convert,
                            ('source_dir', 'validation_fraction',
                             'num_shards', 'seed'), ('source_dir',)),
    'pascal_voc_seg': (convert_pascal_voc_seg.convert,
                       ('archive', 'source_dir', 'sbd_archive',
                        'num_shards'), ()),
}


def _check_options(dataset_name, options):
  _, accepted, required = CONVERTERS[dataset_name]
  for option in sorted(options):
    if option not in accepted:
      users = sorted(n for n, c in CONVERTERS.items() if option in c[1])
      raise errors.InvalidOptionError(
          '--%s does not apply to %s (it is an option of %s).'
          % (option, dataset_name, ', '.join(users) or 'no converter'))
  for option in required:
    if option not in options:
      raise errors.InvalidOptionError('%s needs --%s.'
                                      % (dataset_name, option))


def convert(dataset_name, dataset_dir, overwrite=False, **options):
  """Converts dataset `dataset_name` into dataset_dir.

  Args:
    dataset_name: a key of CONVERTERS.
    dataset_dir: target directory (created if missing).
    overwrite: replace a dataset already there.
    **options: converter options; those that are None are left at the
      converter's defaults.

  Returns:
    The dataset description written to dataset_info.json.

  Raises:
    UnknownDatasetError: for a name without converter.
    InvalidOptionError: for options the converter does not take or needs.
    DatasetError: whatever the conversion reports (see the converters).
  """
  if dataset_name not in CONVERTERS:
    if dataset_name in dataset_factory.DATASETS:
      spec = dataset_factory.DATASETS[dataset_name]
      raise errors.UnknownDatasetError(
          '%s has no converter here; create it with %s.'
          % (dataset_name, spec.how_to_get.format(dataset_dir=dataset_dir)))
    raise errors.UnknownDatasetError(
        'no converter for dataset %r; converters exist for: %s.'
        % (dataset_name, ', '.join(sorted(CONVERTERS))))
  options = {k: v for k, v in options.items() if v is not None}
  _check_options(dataset_name, options)
  convert_fn = CONVERTERS[dataset_name][0]
  return convert_fn(dataset_dir, overwrite=overwrite, **options)


def describe(info, dataset_dir):
  """A few lines for people: what a dataset_info dict says was written."""
  lines = ['%s in %s: %d classes, %s images.'
           % (info['dataset_name'], dataset_dir, info['num_classes'],
              info['image_format'])]
  for split_name, split in info['splits'].items():
    lines.append('  %-10s %7d examples in %d files' % (
        split_name, split['num_samples'], len(split['files'])))
  return '\n'.join(lines)
