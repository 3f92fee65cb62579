"""Tests of `benchmarks.torch_first`: PyTorch beside TensorFlow."""

import importlib.util
import sys

import pytest

from benchmarks import torch_first

import subprocesses

_HAS_TORCH = importlib.util.find_spec('torchvision') is not None


def test_refusal_after_tensorflow():
  import tensorflow  # noqa: F401  pylint: disable=g-import-not-at-top
  if 'torchvision' in sys.modules:
    assert torch_first.refusal() is None
  else:
    assert 'TensorFlow was imported before PyTorch' in torch_first.refusal()


_LOAD_THEN_TENSORFLOW = '''
import sys
from benchmarks import torch_first
torch_first.load_if_asked(sys.argv, 'peers', default=False)
import tensorflow
print('loaded:', 'torchvision' in sys.modules, torch_first.refusal())
'''


@pytest.mark.slow
def test_load_if_asked_follows_the_flag():
  runs = subprocesses.run_together(
      [sys.executable, '-c', _LOAD_THEN_TENSORFLOW, '--peers=keras,torch'],
      [sys.executable, '-c', _LOAD_THEN_TENSORFLOW, '--peers=keras'])
  (asked_code, asked), (other_code, other) = runs
  assert asked_code == other_code == 0, asked + other
  assert 'loaded: False TensorFlow was imported before PyTorch' in other
  if _HAS_TORCH:
    assert 'loaded: True None' in asked
  else:  # nothing to load: the torch peer says it is not installed
    assert 'loaded: False TensorFlow was imported before PyTorch' in asked
