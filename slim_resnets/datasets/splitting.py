"""Deterministic, class-stratified train/validation splits.

Converters that carve a validation split out of one pool of images (digits,
image folders) use `stratified_split`, so that:

* the split depends only on the labels and the seed: converting twice gives
  byte-identical datasets, and a validation image never leaks into train;
* every class is represented in proportion to its size, which matters for
  small datasets where a purely random split can starve a class.
"""

import numpy as np

from slim_resnets.datasets import errors


def check_validation_fraction(validation_fraction):
  """Raises InvalidOptionError unless 0 <= validation_fraction < 1."""
  if not 0.0 <= validation_fraction < 1.0:
    raise errors.InvalidOptionError(
        'validation_fraction must be in [0, 1); got %r.'
        % (validation_fraction,))


def validation_count(num_examples, validation_fraction):
  """round(num_examples * validation_fraction), leaving some for training.

  Raises:
    InvalidOptionError: if validation_fraction is outside [0, 1) or would
      take every example.
  """
  check_validation_fraction(validation_fraction)
  count = int(round(num_examples * validation_fraction))
  if count >= num_examples:
    raise errors.InvalidOptionError(
        'validation_fraction=%r of %d examples leaves none for training.'
        % (validation_fraction, num_examples))
  return count


def _allocate(class_sizes, num_validation):
  """Validation examples per class, summing exactly to num_validation.

  Each class gets the floor of its proportional share; the examples left
  over go to the classes with the largest remainders (ties to the lower
  class id), the largest-remainder method used to apportion seats.
  """
  total = sum(class_sizes)
  shares = [num_validation * size / total for size in class_sizes]
  counts = [int(np.floor(s)) for s in shares]
  left = num_validation - sum(counts)
  by_remainder = sorted(range(len(shares)),
                        key=lambda c: (-(shares[c] - counts[c]), c))
  for c in by_remainder[:left]:
    counts[c] += 1
  return counts


def stratified_split(labels, num_validation, seed):
  """Splits example indices into shuffled train and validation index arrays.

  Args:
    labels: int array-like [N] of class ids.
    num_validation: how many examples go to validation, 0 <= it < N.
    seed: integer; the same labels and seed always give the same split.

  Returns:
    (train_indices, validation_indices): int64 arrays, each in a seeded
    random order so that shards mix the classes.
  """
  labels = np.asarray(labels)
  if not 0 <= num_validation < len(labels):
    raise ValueError('num_validation must be in [0, %d); got %d.'
                     % (len(labels), num_validation))
  rng = np.random.RandomState(seed)
  classes = np.unique(labels)
  members = [np.flatnonzero(labels == c) for c in classes]
  counts = _allocate([len(m) for m in members], num_validation)
  train, validation = [], []
  for indices, count in zip(members, counts):
    indices = rng.permutation(indices)
    validation.append(indices[:count])
    train.append(indices[count:])
  train = rng.permutation(np.concatenate(train)).astype(np.int64)
  validation = rng.permutation(np.concatenate(validation)).astype(np.int64)
  return train, validation
