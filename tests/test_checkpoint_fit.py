"""Tests of `nets.checkpoint_fit`: the shared checkpoint-fit report.

The report's use by the trainer, evaluation and export is tested with them
(test_checkpoints, test_eval_lib, test_export_lib) and by the Keras nets
(test_keras_nets); here are its parts that stand on their own.
"""

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from nets import checkpoint_fit
from nets import nets_factory


def test_looks_like_names_the_nets_of_the_checkpoints_scope():
  names = ['resnet_v2_50/conv1/weights', 'resnet_v2_50/logits/biases',
           'resnet_v2_50/conv1/weights/Momentum', 'global_step']
  found = checkpoint_fit.looks_like(names)
  assert 'resnet_v2_50' in found
  assert all(nets_factory.networks_map[n].spec.default_scope ==
             'resnet_v2_50' for n in found)
  assert checkpoint_fit.looks_like(['my_net/conv/weights', 'global_step']) == []
  assert checkpoint_fit.looks_like(['global_step']) == []


def test_compare_lists_missing_names_and_differing_shapes():
  saved = {'a': [2, 3], 'b': [4]}
  missing, wrong = checkpoint_fit.compare(saved, {'a': [3, 2], 'b': [4],
                                                  'c': [1]})
  assert missing == ['c']
  assert wrong == ['a: model [3, 2], checkpoint [2, 3]']


def test_unexpected_leaves_out_slots_and_top_level_bookkeeping():
  saved = {'net/w': [1], 'net/w/Momentum': [1], 'global_step': [],
           'net/old': [2]}
  assert checkpoint_fit.unexpected(saved, {'net/w'}) == ['net/old']


def test_check_fit_names_the_net_and_uses_the_callers_suggestion(tmp_path):
  prefix = str(tmp_path / 'model.ckpt')
  with tf.Graph().as_default():
    tf.Variable(np.zeros([3, 3, 3, 16], np.float32),
                name='resnet_v1_cifar_20/conv1/weights')
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      tf.train.Saver().save(sess, prefix)
  with pytest.raises(checkpoint_fit.CheckpointMismatchError) as error:
    checkpoint_fit.check_fit(
        prefix, {'resnet_v2_cifar_20/conv1/weights': [3, 3, 3, 16]},
        'my hint', suggest='build %s instead')
  message = str(error.value)
  assert 'missing from the checkpoint (1)' in message
  assert 'in the checkpoint but not in the model (1)' in message
  assert 'build resnet_v1_cifar_20 instead.' in message
  assert message.endswith('my hint')
