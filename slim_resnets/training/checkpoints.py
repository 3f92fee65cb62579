"""Restoring (parts of) checkpoints into a model, with clear mismatch reports.

Fine-tuning starts from a checkpoint of another task: the logits of a
1001-class ImageNet model cannot be loaded into a 10-class head, so they are
excluded by scope and trained from scratch. Anything else that does not
line up (a variable the checkpoint lacks, a shape that differs) is almost
always a wrong `--model_name` or checkpoint, and is reported by name rather
than surfacing as an opaque restore error halfway through.
"""

import collections

import tensorflow.compat.v1 as tf

from nets import nets_factory

# What the scripts that restore a whole model (evaluation, export) can change
# about it; training has its own flags for partial restores.
RESTORE_HINT = ('Check --model_name and --num_classes against the run that '
                'wrote the checkpoint.')
_TRAIN_HINT = ('Check --model_name; exclude replaced layers with '
               '--checkpoint_exclude_scopes (e.g. the logits) or pass '
               '--ignore_missing_vars.')


class CheckpointMismatchError(ValueError):
  """The checkpoint does not fit the model; the message lists the variables."""


def split_scopes(scopes):
  """'a, b,' -> ['a', 'b']; None or '' -> []."""
  if not scopes:
    return []
  return [s.strip() for s in scopes.split(',') if s.strip()]


def _in_scopes(name, scopes):
  return any(name == s or name.startswith(s.rstrip('/') + '/') for s in scopes)


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


def variables_to_train(trainable_scopes=None):
  """Trainable variables under `trainable_scopes` (all when None or empty)."""
  scopes = split_scopes(trainable_scopes)
  variables = tf.trainable_variables()
  if not scopes:
    return variables
  chosen = [v for v in variables if _in_scopes(v.op.name, scopes)]
  if not chosen:
    raise ValueError('trainable_scopes=%r matches no trainable variable; '
                     'model scopes start with %s.'
                     % (trainable_scopes,
                        sorted({v.op.name.split('/')[0] for v in variables})))
  return chosen


def _compare(saved, name_to_variable):
  """(names missing from `saved`, 'name: model .., checkpoint ..' lines)."""
  missing = sorted(n for n in name_to_variable if n not in saved)
  wrong_shape = sorted(
      '%s: model %s, checkpoint %s' % (n, v.get_shape().as_list(), saved[n])
      for n, v in name_to_variable.items()
      if n in saved and v.get_shape().as_list() != list(saved[n]))
  return missing, wrong_shape


def restore_map(checkpoint_path, exclude_scopes=None, ignore_missing_vars=False,
                variables=None):
  """Maps checkpoint names to this graph's variables for a partial restore.

  Args:
    checkpoint_path: checkpoint prefix (already resolved).
    exclude_scopes: comma-separated scopes that are not restored.
    ignore_missing_vars: skip model variables absent from the checkpoint
      instead of failing.
    variables: candidates; all global variables by default.

  Returns:
    dict {checkpoint name: variable}.

  Raises:
    CheckpointMismatchError: listing model variables missing from the
      checkpoint (unless ignored), shape mismatches, and the checkpoint's
      variables this model does not have.
  """
  excluded = split_scopes(exclude_scopes)
  if variables is None:
    variables = tf.global_variables()
  reader = tf.train.load_checkpoint(checkpoint_path)
  saved = reader.get_variable_to_shape_map()
  wanted = {v.op.name: v for v in variables
            if not _in_scopes(v.op.name, excluded) and
            v.op.name != 'global_step'}
  missing, wrong_shape = _compare(saved, wanted)
  if wrong_shape or (missing and not ignore_missing_vars):
    model_names = {v.op.name for v in variables}
    unexpected = [n for n in _unexpected(saved, model_names)
                  if not _in_scopes(n, excluded)]
    raise CheckpointMismatchError(_mismatch_message(
        checkpoint_path, saved, [] if ignore_missing_vars else missing,
        wrong_shape, unexpected, _TRAIN_HINT, model_names))
  for name in missing:
    tf.logging.warning('Variable %s is not in checkpoint %s; it keeps its '
                       'initial value.', name, checkpoint_path)
  return {n: v for n, v in wanted.items() if n in saved}


def check_restore(checkpoint_path, name_to_variable, hint=RESTORE_HINT):
  """Checks that a Saver map {checkpoint name: variable} fits the checkpoint.

  A resource variable silently takes whatever shape the checkpoint holds, so
  a wrong class count would otherwise restore "fine" and give wrong numbers.
  `hint` says which of the caller's flags could fix a mismatch.

  Raises:
    CheckpointMismatchError: listing missing names, differing shapes and
      the checkpoint's own variables the model lacks, and naming the
      registered net the checkpoint looks like when that is another one.
  """
  saved = tf.train.load_checkpoint(checkpoint_path).get_variable_to_shape_map()
  missing, wrong_shape = _compare(saved, name_to_variable)
  if missing or wrong_shape:
    raise CheckpointMismatchError(_mismatch_message(
        checkpoint_path, saved, missing, wrong_shape,
        _unexpected(saved, name_to_variable), hint, name_to_variable))


def _unexpected(saved, model_names):
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


def _mismatch_message(path, saved, missing, wrong_shape, unexpected, hint,
                      model_names, limit=20):
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
  if unexpected:
    lines += listing('in the checkpoint but not in the model', unexpected)
  candidates = looks_like(saved)
  if candidates and not set(candidates) & set(looks_like(model_names)):
    lines.append('This checkpoint looks like %s (its variables are under '
                 '%s/): pass --model_name=%s.'
                 % (' or '.join(candidates),
                    nets_factory.networks_map[candidates[0]].spec
                    .default_scope, candidates[0]))
  lines.append(hint)
  return '\n'.join(lines)


def init_fn_from_checkpoint(checkpoint_path, exclude_scopes=None,
                            ignore_missing_vars=False):
  """A Scaffold init_fn restoring `checkpoint_path` after initialization.

  Only the model's variables (weights, biases, batch norm parameters and
  statistics: the MODEL_VARIABLES collection) are restored: the optimizer's
  slots and the global step of the run that wrote the checkpoint describe
  that run, and a fine-tuning run starts its own (with any optimizer). The
  map is built (and checked) right away, so a mismatch fails before any
  session starts.
  """
  path = resolve_checkpoint(checkpoint_path)
  var_map = restore_map(path, exclude_scopes, ignore_missing_vars,
                        variables=tf.model_variables())
  if not var_map:
    raise CheckpointMismatchError(
        'checkpoint %s has none of the model\'s variables.' % path)
  saver = tf.train.Saver(var_map)

  def init_fn(unused_scaffold, session):
    tf.logging.info('Initializing %d variables from %s', len(var_map), path)
    saver.restore(session, path)

  return init_fn


def has_checkpoint(directory):
  """True when `directory` holds a checkpoint to resume from."""
  return (tf.io.gfile.isdir(directory) and
          tf.train.latest_checkpoint(directory) is not None)


def checkpoint_step(path):
  """The global step recorded in checkpoint `path` (0 if none)."""
  reader = tf.train.load_checkpoint(path)
  if reader.has_tensor('global_step'):
    return int(reader.get_tensor('global_step'))
  return 0


__all__ = ['CheckpointMismatchError', 'check_restore', 'checkpoint_step',
           'has_checkpoint',
           'init_fn_from_checkpoint', 'resolve_checkpoint', 'restore_map',
           'split_scopes', 'variables_to_train']
