"""Restoring (parts of) checkpoints into a model, with clear mismatch reports.

Fine-tuning starts from a checkpoint of another task: the logits of a
1001-class ImageNet model cannot be loaded into a 10-class head, so they are
excluded by scope and trained from scratch. Anything else that does not
line up (a variable the checkpoint lacks, a shape that differs) is almost
always a wrong `--model_name` or checkpoint, and is reported by name rather
than surfacing as an opaque restore error halfway through.
"""

import tensorflow.compat.v1 as tf

from nets import checkpoint_fit
from nets.checkpoint_fit import CheckpointMismatchError
from nets.checkpoint_fit import resolve_checkpoint

# What the scripts that restore a whole model (evaluation, export) can change
# about it; training has its own flags for partial restores.
RESTORE_HINT = ('Check --model_name and --num_classes against the run that '
                'wrote the checkpoint.')
_TRAIN_HINT = ('Check --model_name; exclude replaced layers with '
               '--checkpoint_exclude_scopes (e.g. the logits) or pass '
               '--ignore_missing_vars.')


def split_scopes(scopes):
  """'a, b,' -> ['a', 'b']; None or '' -> []."""
  if not scopes:
    return []
  return [s.strip() for s in scopes.split(',') if s.strip()]


def variables_to_train(trainable_scopes=None):
  """Trainable variables under `trainable_scopes` (all when None or empty)."""
  scopes = split_scopes(trainable_scopes)
  variables = tf.trainable_variables()
  if not scopes:
    return variables
  chosen = [v for v in variables if checkpoint_fit.in_scopes(v.op.name, scopes)]
  if not chosen:
    raise ValueError('trainable_scopes=%r matches no trainable variable; '
                     'model scopes start with %s.'
                     % (trainable_scopes,
                        sorted({v.op.name.split('/')[0] for v in variables})))
  return chosen


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
  saved = checkpoint_fit.saved_shapes(checkpoint_path)
  wanted = {v.op.name: v for v in variables
            if not checkpoint_fit.in_scopes(v.op.name, excluded) and
            v.op.name != 'global_step'}
  missing, wrong_shape = checkpoint_fit.compare(saved, _shapes(wanted))
  if wrong_shape or (missing and not ignore_missing_vars):
    model_names = {v.op.name for v in variables}
    unexpected = [n for n in checkpoint_fit.unexpected(saved, model_names)
                  if not checkpoint_fit.in_scopes(n, excluded)]
    raise CheckpointMismatchError(checkpoint_fit.mismatch_message(
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
  checkpoint_fit.check_fit(checkpoint_path, _shapes(name_to_variable), hint)


def _shapes(name_to_variable):
  return {n: v.get_shape().as_list() for n, v in name_to_variable.items()}


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
