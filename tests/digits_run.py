"""The tiny digits training run shared by the training, eval and export tests.

One definition, imported by the test modules and used by the `digits` and
`shared_run` fixtures in conftest.py, so the three test files train the
shared checkpoint once per session and cannot drift apart.
"""

import dataclasses

from slim_resnets.training import config as config_lib

MODEL = 'resnet_v1_cifar_20'
SHARED_STEPS = 60
SIZE = 12


def tiny_config(train_dir, dataset_dir, **overrides):
  """A TrainConfig that trains in a few seconds on 2 CPU cores."""
  config = config_lib.TrainConfig(
      train_dir=str(train_dir), dataset_name='digits',
      dataset_split_name='train', dataset_dir=dataset_dir, model_name=MODEL,
      preprocessing_name='cifarnet', random_flip=False, train_image_size=SIZE,
      batch_size=16, max_number_of_steps=4, optimizer='momentum',
      learning_rate=0.1, learning_rate_decay_type='fixed',
      batch_norm_decay=0.9, seed=1, num_readers=2,
      num_preprocessing_threads=2, log_every_n_steps=1,
      save_interval_secs=3600, save_summaries_secs=3600)
  return dataclasses.replace(config, **overrides)


def shared_config(train_dir, dataset_dir):
  """The session's longer run, with a falling learning rate.

  The learning rate falls linearly from 0.1 towards 0.001 over
  int(1497 * 1.5 / 32) = 70 steps: ending at a lower rate makes the
  half-trained net's accuracy far less erratic from run to run.
  """
  return tiny_config(train_dir, dataset_dir, batch_size=32,
                     max_number_of_steps=SHARED_STEPS, log_every_n_steps=2,
                     learning_rate_decay_type='polynomial',
                     end_learning_rate=0.001, num_epochs_per_decay=1.5,
                     moving_average_decay=0.9)


def shared_rate(step):
  """The learning rate `shared_config` gives at `step`."""
  return 0.1 - (0.1 - 0.001) * min(step, 70) / 70
