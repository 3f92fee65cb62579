"""Publishing outputs whole or not at all, and never over the user's data.

Every file or directory this project writes for users to keep (evaluation
results, SavedModels, frozen graphs, TFLite models) is written under a
temporary name beside its target and renamed into place once complete.
A reader then sees the old state or the new one, never half a file, and an
interrupted write leaves nothing behind but its temporary name, which is
removed. Everything goes through `tf.io.gfile`, so a local path and a file
system URL (`gs://bucket/models/v2`) publish the same way.

Converted datasets are a set of files replaced together, with a rollback;
`slim_resnets.datasets.writer` does that on top of the same idea.
"""

import contextlib
import os
import secrets

import tensorflow.compat.v1 as tf


def _is_url(path):
  return '://' in path


def _parent(path):
  if _is_url(path):
    return path.rstrip('/').rsplit('/', 1)[0]
  return os.path.dirname(os.path.abspath(path))


def check_fresh(target, argument):
  """Raises FileExistsError, naming `argument`, if `target` exists."""
  if tf.io.gfile.exists(target):
    raise FileExistsError(
        '%s %s already exists; it is left untouched. Choose a new path or '
        'remove it first.' % (argument, target))


def _remove(path):
  if not tf.io.gfile.exists(path):
    return
  if tf.io.gfile.isdir(path):
    tf.io.gfile.rmtree(path)
  else:
    tf.io.gfile.remove(path)


@contextlib.contextmanager
def staged(target, argument='output', overwrite=False):
  """Yields a temporary path beside `target`; publishes it there on success.

  Write the file, or build the directory, at the yielded path. When the
  block ends normally the result is renamed to `target`; when it raises,
  the partial result is removed and `target` is untouched.

  Args:
    target: the path (or URL) to publish to.
    argument: the name the user knows `target` by, for error messages.
    overwrite: replace an existing `target` (for results that are
      regenerated, like eval_results.json); by default an existing target
      is refused, before anything is written and again just before the
      rename.

  Raises:
    FileExistsError: `target` exists and `overwrite` is False.
  """
  if not overwrite:
    check_fresh(target, argument)
  parent = _parent(target)
  tf.io.gfile.makedirs(parent)
  name = target.rstrip('/').rsplit('/', 1)[-1]
  temporary = '%s/.%s.%s.tmp' % (parent, name, secrets.token_hex(4))
  try:
    yield temporary
    if not overwrite:
      check_fresh(target, argument)
    tf.io.gfile.rename(temporary, target, overwrite=overwrite)
  finally:
    _remove(temporary)


def write_file(target, content, argument='output', overwrite=False):
  """Publishes `content` (bytes or str) as the file `target`."""
  with staged(target, argument, overwrite) as temporary:
    with tf.io.gfile.GFile(temporary, 'wb' if isinstance(content, bytes)
                           else 'w') as f:
      f.write(content)
