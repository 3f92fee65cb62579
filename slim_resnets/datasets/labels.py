"""The `labels.txt` file: class id -> human-readable class name.

Slim keeps one `labels.txt` next to the TFRecord shards, one class per line
as `<id>:<name>` (`0:airplane`). Names may themselves contain colons (WordNet
glosses do), so a line is split at its first colon only. Lines are written
in id order; ids need not be contiguous (slim's ImageNet file starts at 0 =
background, but a subset may skip ids).
"""

import os

from slim_resnets.datasets import errors

LABELS_FILENAME = 'labels.txt'


def _check_name(class_id, name):
  if not isinstance(name, str) or '\n' in name or '\r' in name:
    raise errors.SourceDataError(
        'class %r: a class name must be a one-line string to fit in %s; got '
        '%r.' % (class_id, LABELS_FILENAME, name))


def format_labels(labels_to_names):
  """The text of a labels file for a dict {int id: str name}."""
  lines = []
  for class_id in sorted(labels_to_names):
    name = labels_to_names[class_id]
    _check_name(class_id, name)
    lines.append('%d:%s\n' % (class_id, name))
  return ''.join(lines)


def write_labels(labels_to_names, dataset_dir, filename=LABELS_FILENAME):
  """Writes `labels_to_names` to dataset_dir/filename; returns the path."""
  path = os.path.join(dataset_dir, filename)
  text = format_labels(labels_to_names)
  with open(path, 'w', encoding='utf-8') as f:
    f.write(text)
  return path


def has_labels(dataset_dir, filename=LABELS_FILENAME):
  return os.path.isfile(os.path.join(dataset_dir, filename))


def parse_labels(text, source='labels'):
  """Parses labels-file text into {int id: str name}.

  Blank lines are ignored. `source` names the file in error messages.

  Raises:
    DatasetError: naming the source and line of a malformed or repeated id.
  """
  labels_to_names = {}
  for line_number, line in enumerate(text.splitlines(), start=1):
    if not line.strip():
      continue
    class_id, colon, name = line.partition(':')
    try:
      class_id = int(class_id)
    except ValueError:
      class_id = None
    if not colon or class_id is None:
      raise errors.DatasetError(
          '%s, line %d: expected "<integer id>:<name>", got %r.'
          % (source, line_number, line))
    if class_id in labels_to_names:
      raise errors.DatasetError('%s, line %d: class id %d appears twice.'
                                % (source, line_number, class_id))
    labels_to_names[class_id] = name
  return labels_to_names


def read_labels(dataset_dir, filename=LABELS_FILENAME):
  """Reads dataset_dir/filename into {int id: str name}."""
  path = os.path.join(dataset_dir, filename)
  with open(path, encoding='utf-8') as f:
    return parse_labels(f.read(), source=path)
