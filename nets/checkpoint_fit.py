"""Whether a checkpoint fits a model, by slim variable name and shape.

Every consumer of slim checkpoints here (the trainer's partial restores,
evaluation and export, the Keras form of the nets) asks the same question
before restoring: does each of the model's variables have a tensor of the
same name and shape in the checkpoint? A resource variable silently takes
whatever shape a checkpoint holds, so the answer is checked up front and a
mismatch is reported by name (missing, different shapes, unexpected), with
the registered net the checkpoint looks like when it is another one. The
report is written once, here; callers only say which of their own options
could fix it.
"""

import collections

import tensorflow.compat.v1 as tf

from nets import nets_factory


class CheckpointMismatchError(ValueError):
  """The checkpoint does not fit the model; the message lists the variables."""


def resolve_checkpoint(path):
  """A checkpoint file prefix for `path` (a prefix, or a directory)."""
  if tf.io.gfile.isdir(path):
    latest = tf.train.latest_checkpoint(path)
    if latest is None:
      raise FileNotFoundError('checkpoint_path %s is a directory without any '
                              'checkpoint.' % path)
    return latest
  if not tf.io.gfile.exists(path + '.index') and not tf.io.gfile.exists(path):
    raise FileNotFoundError('checkpoint_path %s does not exist (expected a '
                            'checkpoint prefix with a .index file, or a '
                            'directory).' % path)
  return path


def in_scopes(name, scopes):
  """Whether variable `name` lies in one of the slim `scopes`."""
  return any(name == s or name.startswith(s.rstrip('/') + '/') for s in scopes)


def saved_shapes(checkpoint_path):
  """{name: shape list} of every tensor in checkpoint `checkpoint_path`."""
  return tf.train.load_checkpoint(checkpoint_path).get_variable_to_shape_map()


def compare(saved, model_shapes):
  """(names missing from `saved`, 'name: model .., checkpoint ..' lines).

  Args:
    saved: {name: shape} of the checkpoint.
    model_shapes: {name: shape list} of the model's variables.
  """
  missing = sorted(n for n in model_shapes if n not in saved)
  wrong_shape = sorted(
      '%s: model %s, checkpoint %s' % (n, list(shape), saved[n])
      for n, shape in model_shapes.items()
      if n in saved and list(shape) != list(saved[n]))
  return missing, wrong_shape


def unexpected(saved, model_names):
  """The checkpoint's model variables that `model_names` does not have.

  Left out: the bookkeeping of the run that wrote it, i.e. top-level
  scalars (the global step, Adam's beta powers) and slots stored under
  their variable's name (`<variable>/Momentum`, `.../ExponentialMovingAverage`).
  """
  return sorted(n for n in saved if n not in model_names and '/' in n and
                n.rsplit('/', 1)[0] not in saved)


def looks_like(saved_names):
  """Registered nets whose variables' top scope is the checkpoint's.

  Nets that share a default scope (a net and its width or depth variants)
  are all named; [] when the checkpoint's scope is nobody's default.
  """
  scopes = collections.Counter(n.split('/')[0] for n in saved_names
                               if '/' in n)
  if not scopes:
    return []
  scope = scopes.most_common(1)[0][0]
  return sorted(name for name, fn in nets_factory.networks_map.items()
                if fn.spec.default_scope == scope)


def mismatch_message(path, saved, missing, wrong_shape, unexpected_names,
                     hint, model_names, suggest='pass --model_name=%s',
                     limit=20):
  """The report of a checkpoint that does not fit, one fact per line.

  Args:
    path: the checkpoint prefix.
    saved: {name: shape} of the checkpoint.
    missing, wrong_shape, unexpected_names: what `compare` and `unexpected`
      found.
    hint: the caller's advice on which of its options to check.
    model_names: the model's variable names (to tell its net from the
      checkpoint's).
    suggest: how the caller's user picks another net, '%s' its name.
    limit: names shown per list.
  """
  def listing(title, items):
    shown = items[:limit]
    more = len(items) - len(shown)
    lines = ['  %s (%d):' % (title, len(items))]
    lines += ['    ' + i for i in shown]
    if more:
      lines.append('    ... and %d more' % more)
    return lines
  lines = ['checkpoint %s does not match the model.' % path]
  if missing:
    lines += listing('missing from the checkpoint', missing)
  if wrong_shape:
    lines += listing('different shapes', wrong_shape)
  if unexpected_names:
    lines += listing('in the checkpoint but not in the model',
                     unexpected_names)
  candidates = looks_like(saved)
  if candidates and not set(candidates) & set(looks_like(model_names)):
    lines.append('This checkpoint looks like %s (its variables are under '
                 '%s/): %s.'
                 % (' or '.join(candidates),
                    nets_factory.networks_map[candidates[0]].spec
                    .default_scope, suggest % candidates[0]))
  lines.append(hint)
  return '\n'.join(lines)


def check_fit(checkpoint_path, model_shapes, hint, saved=None,
              suggest='pass --model_name=%s'):
  """Raises CheckpointMismatchError unless every model variable fits.

  Args:
    checkpoint_path: checkpoint prefix (already resolved).
    model_shapes: {checkpoint name: shape list} the model will restore.
    hint: the caller's advice, the report's last line.
    saved: the checkpoint's {name: shape}, when the caller has read it.
    suggest: see `mismatch_message`.
  """
  if saved is None:
    saved = saved_shapes(checkpoint_path)
  missing, wrong_shape = compare(saved, model_shapes)
  if missing or wrong_shape:
    raise CheckpointMismatchError(mismatch_message(
        checkpoint_path, saved, missing, wrong_shape,
        unexpected(saved, model_shapes), hint, model_shapes, suggest))
