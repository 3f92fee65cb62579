"""Shared fixtures: every test builds its nets in a fresh graph."""

import os

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

# pylint: disable=g-import-not-at-top,wrong-import-position
import numpy as np
import pytest
import tensorflow.compat.v1 as tf

import nets  # noqa: F401  (installs the tf-slim compatibility fix)


@pytest.fixture
def graph():
  """A fresh default graph for the duration of one test."""
  g = tf.Graph()
  with g.as_default():
    tf.set_random_seed(1234)
    yield g


@pytest.fixture
def rng():
  return np.random.RandomState(0)
