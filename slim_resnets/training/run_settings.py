"""The settings a classifier was trained with, kept beside its checkpoints.

Evaluating, exporting or classifying with a checkpoint needs the settings
it was trained with: the net, its preprocessing, its input size, its number
of logits, the labels offset and the dataset. Repeating them on every
command line is slim's classic source of silent mistakes (a wrong size or
preprocessing still runs, only worse). So the trainer records them in
`<train_dir>/run_settings.json` when it starts, and the scripts that read a
checkpoint take them from there when given the train dir or a checkpoint in
it. A flag given explicitly still wins; where it contradicts the record,
the script says so.
"""

import json
import os

import tensorflow.compat.v1 as tf

from slim_resnets import publish

FILENAME = 'run_settings.json'
# The recorded settings, in the order they are reported.
SETTINGS = ('model_name', 'preprocessing_name', 'image_size', 'num_classes',
            'labels_offset', 'dataset_name', 'dataset_dir')


def of_training(config, preprocessing_name, image_size, num_classes):
  """The record of a classification TrainConfig (or keras_lib's config).

  The trainer passes the preprocessing, image size and number of logits as
  it resolved them, so the record holds what the run used, not what was
  left unset.
  """
  return {
      'model_name': config.model_name,
      'preprocessing_name': preprocessing_name,
      'image_size': int(image_size),
      'num_classes': int(num_classes),
      'labels_offset': config.labels_offset,
      'dataset_name': config.dataset_name,
      'dataset_dir': config.dataset_dir,
  }


def write(train_dir, settings):
  """Publishes `settings` as train_dir's record (replacing an older one)."""
  publish.write_file(os.path.join(train_dir, FILENAME),
                     json.dumps(settings, indent=2, sort_keys=True) + '\n',
                     argument='run settings', overwrite=True)


def read(checkpoint_path):
  """The record of the run that wrote `checkpoint_path`, or None.

  `checkpoint_path` is a train dir or a checkpoint prefix inside one.
  """
  if not checkpoint_path:
    return None
  path = _record_path(checkpoint_path)
  if not tf.io.gfile.exists(path):
    return None
  with tf.io.gfile.GFile(path) as f:
    return json.load(f)


def apply_to_flags(flag_values, checkpoint_path, renamed=None, log=print):
  """Fills unset flags from the record of `checkpoint_path`'s run.

  Each setting goes to the script's flag of the same name, if it has one.

  Args:
    flag_values: parsed absl FlagValues.
    checkpoint_path: the script's checkpoint flag value.
    renamed: {setting: flag name} where the script's flag has another
      name, e.g. {'image_size': 'eval_image_size'}.
    log: prints the report of what was taken and what contradicts it.

  Returns:
    The record, or None when the run left none (then nothing changes).
  """
  recorded = read(checkpoint_path)
  if recorded is None:
    return None
  run_dir = os.path.dirname(_record_path(checkpoint_path))
  taken = []
  for setting in SETTINGS:
    flag = (renamed or {}).get(setting, setting)
    value = recorded.get(setting)
    if flag not in flag_values or value is None:
      continue
    if flag_values[flag].present:
      if flag_values[flag].value != value:
        log('note: --%s=%s differs from %s=%s that the run in %s was trained '
            'with; using --%s=%s.' % (flag, flag_values[flag].value, setting,
                                      value, run_dir, flag,
                                      flag_values[flag].value))
    else:
      flag_values[flag].value = value
      taken.append('--%s=%s' % (flag, value))
  if taken:
    log('Settings of the run in %s: %s' % (run_dir, ' '.join(taken)))
  return recorded


def _record_path(checkpoint_path):
  directory = (checkpoint_path if tf.io.gfile.isdir(checkpoint_path)
               else os.path.dirname(checkpoint_path))
  return os.path.join(directory, FILENAME)
