"""Mixed precision: low-precision compute on float32 master weights.

What must hold for `resnet_utils.precision` to be usable:

* a float16/bfloat16 build has exactly the float32 build's variables (names,
  shapes, float32 dtype, collections), so checkpoints go both ways;
* the convolutions really run in the compute dtype;
* on the same weights its logits are those of the float32 net up to the
  compute dtype's rounding, in training and inference mode;
* batch norm still updates its float32 moving statistics, through either of
  tf-slim's batch norm implementations;
* weight decay and `tf.losses.get_total_loss()` work, in float32;
* float16 training with loss scaling learns, and skips overflowing steps.

All nets are tiny (a few units of 4-8 channels on 16x16 images) and their
weights are set from the variable names, so that nets built in different
graphs or precisions can be compared on identical weights.
"""

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
import tf_slim as slim

from nets import nets_factory
from nets import resnet_v1
from nets import resnet_v2
from resnet_utils import graph_building
from resnet_utils import precision
from slim_resnets.training import optimization

import deterministic

LOW_PRECISIONS = ('bfloat16', 'float16')

# Machine epsilon (spacing of numbers just above 1) of each compute dtype:
# bfloat16 keeps 8 significant bits, float16 11. One rounding costs at most
# half of it, relatively.
EPSILON = {'bfloat16': 2.0 ** -7, 'float16': 2.0 ** -10}

# The logits of the tiny nets sit about ten roundings deep (root, two units,
# head), each rounding activations and weights to the compute dtype, with
# batch norm renormalizing in between so that errors do not grow
# geometrically. Their largest error, measured on these weights, is 0.25 to
# 1.2 epsilon of the largest logit (more in training mode, where batch norm
# divides by statistics of a batch of 4). Allowing 4 epsilon leaves a margin
# of 3 while still catching a layer that runs on wrong or missing weights
# (errors of the order of the logits themselves).
LOGIT_TOLERANCE_IN_EPSILON = 4

MODULES = {'v1': resnet_v1, 'v2': resnet_v2}
IMAGES = np.random.RandomState(0).rand(4, 16, 16, 3).astype(np.float32)
LABELS = np.array([0, 1, 2, 1])
NUM_CLASSES = 3


def _tiny_blocks(module):
  """A bottleneck unit and a basic unit: both unit kinds, two strides."""
  return [module.BLOCK_FNS['bottleneck']('block1', base_depth=4, num_units=1,
                                         stride=2),
          module.BLOCK_FNS['basic']('block2', base_depth=8, num_units=1,
                                    stride=2)]


def _build(module, precision_name, is_training=False, images=IMAGES,
           reuse=None, **scope_args):
  """Builds the tiny net of `module` in the current graph.

  Returns (float32 logits, end points). `scope_args` go to the family's
  `resnet_arg_scope`; the net's scope is 'net', its root the standard one
  (7x7 convolution and max pool, so pooling is covered too).
  """
  generator = getattr(module, module.__name__.split('.')[-1])
  with slim.arg_scope(module.resnet_arg_scope(**scope_args)):
    with precision.precision_scope(precision_name) as dtype:
      logits, end_points = generator(
          tf.cast(tf.constant(images), dtype), _tiny_blocks(module),
          num_classes=NUM_CLASSES, is_training=is_training, reuse=reuse,
          scope='net')
  return tf.cast(logits, tf.float32), end_points


def _variables(collection=tf.GraphKeys.GLOBAL_VARIABLES):
  """(name, shape, dtype) of each variable in `collection`, sorted."""
  return sorted((v.op.name, tuple(v.shape.as_list()), v.dtype.base_dtype.name)
                for v in tf.get_collection(collection))


def _logit_tolerance(precision_name, reference):
  return (LOGIT_TOLERANCE_IN_EPSILON * EPSILON[precision_name] *
          np.abs(reference).max())


# ---------------------------------------------------------------------------
# Arguments.


@pytest.mark.parametrize('value', ['fp16', 'half', None, 16, tf.float16])
def test_unknown_precision_names_argument_and_choices(value):
  with pytest.raises(ValueError) as info:
    precision.check_precision(value)
  message = str(info.value)
  assert message.startswith('precision must be one of')
  assert repr(value) in message
  for name in precision.PRECISIONS:
    assert name in message


def test_compute_dtypes():
  assert [precision.compute_dtype(p) for p in precision.PRECISIONS] == [
      tf.float32, tf.float16, tf.bfloat16]


@pytest.mark.parametrize('call', [
    lambda: precision.compute_dtype('float64'),
    lambda: precision.precision_scope('float64').__enter__(),
    lambda: nets_factory.get_network_fn('resnet_v1_cifar_20', 10,
                                        precision='float64'),
], ids=['compute_dtype', 'precision_scope', 'get_network_fn'])
def test_every_entry_point_checks_precision(call):
  with pytest.raises(ValueError, match=r"precision must be one of float32, "
                     r"float16, bfloat16; got 'float64'"):
    call()


# ---------------------------------------------------------------------------
# Variables and dtypes.


def _graph_summary(module, precision_name):
  """Variables of every collection that holds them, and op dtypes."""
  with tf.Graph().as_default() as graph, graph_building.fast_graph_building():
    _build(module, precision_name, is_training=True)
    ops = graph.get_operations()
    return {
        'global': _variables(),
        'trainable': _variables(tf.GraphKeys.TRAINABLE_VARIABLES),
        'model': _variables(tf.GraphKeys.MODEL_VARIABLES),
        'num_updates': len(tf.get_collection(tf.GraphKeys.UPDATE_OPS)),
        'conv': {op.get_attr('T') for op in ops if op.type == 'Conv2D'},
        'batch_norm': {(op.get_attr('T'), op.get_attr('U')) for op in ops
                       if op.type == 'FusedBatchNormV3'},
    }


@pytest.fixture(scope='module')
def summaries():
  """`summaries(family, precision)`, each built once for this module."""
  cache = {}

  def get(family, precision_name):
    key = (family, precision_name)
    if key not in cache:
      cache[key] = _graph_summary(MODULES[family], precision_name)
    return cache[key]

  return get


@pytest.mark.parametrize('family', sorted(MODULES))
@pytest.mark.parametrize('precision_name', LOW_PRECISIONS)
def test_variables_are_those_of_the_float32_net(summaries, family,
                                                precision_name):
  """Same names, shapes and float32 dtype in every variable collection."""
  reference = summaries(family, 'float32')
  mixed = summaries(family, precision_name)
  assert len(reference['global']) > 30
  for collection in ('global', 'trainable', 'model'):
    assert mixed[collection] == reference[collection], collection
  assert {dtype for _, _, dtype in mixed['global']} == {'float32'}
  assert mixed['num_updates'] == reference['num_updates'] > 0


@pytest.mark.parametrize('family', sorted(MODULES))
@pytest.mark.parametrize('precision_name', LOW_PRECISIONS)
def test_convolutions_and_batch_norm_run_in_the_compute_dtype(
    summaries, family, precision_name):
  """Conv2D in the compute dtype; fused batch norm with float32 parameters."""
  dtype = precision.compute_dtype(precision_name)
  assert summaries(family, 'float32')['conv'] == {tf.float32}
  assert summaries(family, precision_name)['conv'] == {dtype}
  assert summaries(family, precision_name)['batch_norm'] == {
      (dtype, tf.float32)}


def test_low_precision_requests_get_float32_masters(graph):
  """Directly through tf.get_variable: weights cast, batch norm kept.

  Also checks what the nets do not exercise: a regularizer that reaches the
  getter is applied to the float32 master, and a tensor initializer in the
  compute dtype initializes the float32 master.
  """
  with precision.precision_scope('bfloat16'):
    weights = tf.get_variable(
        'layer/weights', [3], tf.bfloat16,
        initializer=tf.constant_initializer([1.0, 2.0, 3.0]),
        regularizer=lambda w: tf.reduce_sum(w * w))
    gamma = tf.get_variable('layer/gamma', [3], tf.bfloat16,
                            initializer=tf.ones_initializer())
    bias = tf.get_variable(
        'layer/bias', dtype=tf.bfloat16,
        initializer=tf.constant([0.1, 0.2, 0.3], tf.bfloat16))
    double = tf.get_variable('layer/double', [1], tf.float64)
  assert weights.dtype == tf.bfloat16 and bias.dtype == tf.bfloat16
  assert weights.op.type == 'Cast'
  assert weights.op.name == 'layer/weights/to_bfloat16'
  assert any(gamma is v for v in tf.global_variables())  # Not a cast.
  assert gamma.dtype.base_dtype == tf.float32
  assert double.dtype.base_dtype == tf.float64  # Other dtypes untouched.
  assert _variables() == [('layer/bias', (3,), 'float32'),
                          ('layer/double', (1,), 'float64'),
                          ('layer/gamma', (3,), 'float32'),
                          ('layer/weights', (3,), 'float32')]
  (loss,) = tf.losses.get_regularization_losses()
  assert loss.dtype == tf.float32
  with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    np.testing.assert_allclose(sess.run(loss), 14.0)
    (master,) = [v for v in tf.global_variables() if v.op.name == 'layer/bias']
    np.testing.assert_allclose(sess.run(master), [0.1, 0.2, 0.3],
                               rtol=EPSILON['bfloat16'])


def test_scope_reentered_by_object_is_caught(graph):
  """TensorFlow gives a scope re-entered by its object that object's getter.

  The enclosing precision scope's getter is then bypassed and a bfloat16
  variable would be created, silently breaking checkpoints; the scope must
  refuse on exit instead.
  """
  with tf.variable_scope('net') as outer:
    pass
  with pytest.raises(ValueError, match=r"precision_scope\('bfloat16'\) "
                     r"created variables in bfloat16 instead of float32: "
                     r"net/w\. Was a variable scope re-entered by its object"):
    with precision.precision_scope('bfloat16'):
      with tf.variable_scope(outer):
        tf.get_variable('w', [2], tf.bfloat16)
  assert tf.get_variable_scope().custom_getter is None  # Restored.
  with tf.variable_scope(outer):
    with precision.precision_scope('bfloat16'):  # The way that works.
      tf.get_variable('v', [2], tf.bfloat16)
  assert tf.global_variables()[-1].dtype.base_dtype == tf.float32


def test_float32_scope_changes_nothing(graph):
  scope = tf.get_variable_scope()
  with precision.precision_scope('float32') as dtype:
    assert dtype == tf.float32
    assert scope.custom_getter is None
    assert tf.get_variable('v', [2]).dtype.base_dtype == tf.float32


def test_outer_custom_getter_sees_float32_requests(graph):
  """The scope composes with an enclosing custom getter, which still rules."""
  seen = []

  def renaming_getter(getter, name, *args, **kwargs):
    seen.append((name, kwargs['dtype']))
    return getter('outer/' + name, *args, **kwargs)

  with tf.variable_scope(tf.get_variable_scope(),
                         custom_getter=renaming_getter):
    _build(resnet_v2, 'bfloat16')
    # Restored on exit.
    assert tf.get_variable_scope().custom_getter is renaming_getter
  names = [name for name, _, _ in _variables()]
  assert names and all(name.startswith('outer/net/') for name in names)
  assert len(seen) == len(names)
  assert {dtype for _, dtype in seen} == {tf.float32}


def test_reuse_adds_no_variables_and_no_losses(graph):
  """A reusing tower is what it is in float32: nothing new to regularize.

  tf_keras' legacy layers decide whether to regularize by asking whether
  the getter returned an existing variable; a cast never is one, so without
  the scope's bookkeeping each reusing tower would add a second weight decay.
  """
  _build(resnet_v1, 'float32')
  variables = _variables()
  num_losses = len(tf.losses.get_regularization_losses())
  assert num_losses > 5
  for precision_name in LOW_PRECISIONS:
    _build(resnet_v1, precision_name, reuse=True)
  assert _variables() == variables
  assert len(tf.losses.get_regularization_losses()) == num_losses


def test_default_scope_names_count_as_in_float32(graph):
  """Two unnamed nets become 'resnet_v2' and 'resnet_v2_1', not a collision."""
  for _ in range(2):
    with precision.precision_scope('bfloat16') as dtype:
      resnet_v2.resnet_v2(tf.cast(tf.constant(IMAGES), dtype),
                          _tiny_blocks(resnet_v2)[:1], num_classes=2)
  roots = {v.op.name.split('/')[0] for v in tf.global_variables()}
  assert roots == {'resnet_v2', 'resnet_v2_1'}


# ---------------------------------------------------------------------------
# Numerics.


@pytest.mark.parametrize('family', sorted(MODULES))
@pytest.mark.parametrize('is_training', [False, True],
                         ids=['inference', 'training'])
def test_logits_match_float32_on_the_same_weights(family, is_training):
  """float32, bfloat16 and float16 towers on shared variables (reuse)."""
  module = MODULES[family]
  with tf.Graph().as_default(), graph_building.fast_graph_building():
    logits = {'float32': _build(module, 'float32', is_training)[0]}
    for precision_name in LOW_PRECISIONS:
      logits[precision_name] = _build(module, precision_name, is_training,
                                      reuse=True)[0]
    with tf.Session() as sess:
      deterministic.assign_deterministic(sess)
      values = sess.run(logits)
  reference = values['float32']
  for precision_name in LOW_PRECISIONS:
    error = np.abs(values[precision_name] - reference).max()
    assert 0 < error <= _logit_tolerance(precision_name, reference), (
        precision_name)


def _cpu_runs_bfloat16_nchw():
  """Whether this CPU has bfloat16 channels-first conv and max-pool kernels.

  TensorFlow's own CPU kernels take NHWC only; oneDNN's take NCHW, but its
  bfloat16 kernels are registered only on CPUs with AVX-512 (an AMD Zen 3,
  AVX2 only, has none). The answer is a property of the machine, asked of
  TensorFlow itself.
  """
  with tf.Graph().as_default():
    images = tf.zeros([1, 2, 4, 4], tf.bfloat16)
    pooled = tf.nn.max_pool2d(images, 2, 2, 'VALID', data_format='NCHW')
    convolved = tf.nn.conv2d(images, tf.zeros([1, 1, 2, 2], tf.bfloat16), 1,
                             'VALID', data_format='NCHW')
    with tf.Session() as sess:
      try:
        sess.run([pooled, convolved])
      except (tf.errors.InvalidArgumentError, tf.errors.UnimplementedError,
              tf.errors.NotFoundError):
        return False
  return True


@pytest.mark.skipif(not _cpu_runs_bfloat16_nchw(),
                    reason='this CPU has no bfloat16 NCHW kernels (oneDNN '
                    'registers them with AVX-512 only)')
def test_nchw_bfloat16_matches_nhwc_float32():
  """bfloat16 channels-first runs on the CPU (oneDNN); float16 NCHW does not.

  TensorFlow's CPU Conv2D and MaxPool kernels take float16 in NHWC only, so
  float16 NCHW (the GPU layout) is not checked here; bfloat16 NCHW only
  where the CPU has the kernels (`_cpu_runs_bfloat16_nchw`).
  """
  with tf.Graph().as_default(), graph_building.fast_graph_building():
    reference, _ = _build(resnet_v2, 'float32', is_training=True)
    nchw, end_points = _build(resnet_v2, 'bfloat16', is_training=True,
                              images=IMAGES.transpose(0, 3, 1, 2), reuse=True,
                              data_format='NCHW')
    assert end_points['net/block2'].shape.as_list()[1] == 8
    with tf.Session() as sess:
      deterministic.assign_deterministic(sess)
      reference, nchw = sess.run([reference, nchw])
  error = np.abs(nchw - reference).max()
  assert 0 < error <= _logit_tolerance('bfloat16', reference)


# ---------------------------------------------------------------------------
# Checkpoints.


def _save_and_restore(tmp_path, save_precision, restore_precision):
  """Saves the tiny net built in one precision, restores it in the other.

  Returns (logits of the saver, logits of the restorer, variables in the
  checkpoint, variables of the restoring graph).
  """
  path = str(tmp_path / 'model.ckpt')
  with tf.Graph().as_default(), graph_building.fast_graph_building():
    logits, _ = _build(resnet_v1, save_precision)
    saver = tf.train.Saver()
    with tf.Session() as sess:
      deterministic.assign_deterministic(sess)
      saved_logits = sess.run(logits)
      saver.save(sess, path)
  in_checkpoint = sorted((name, tuple(shape))
                         for name, shape in tf.train.list_variables(path))
  with tf.Graph().as_default(), graph_building.fast_graph_building():
    logits, _ = _build(resnet_v1, restore_precision)
    in_graph = [(name, shape) for name, shape, _ in _variables()]
    with tf.Session() as sess:
      tf.train.Saver().restore(sess, path)
      restored_logits = sess.run(logits)
  return saved_logits, restored_logits, in_checkpoint, in_graph


@pytest.mark.parametrize('save_precision,restore_precision', [
    ('float32', 'bfloat16'), ('float16', 'float32')])
def test_checkpoints_move_between_precisions(tmp_path, save_precision,
                                             restore_precision):
  """No missing or extra variables, and the restored net computes the same."""
  saved, restored, in_checkpoint, in_graph = _save_and_restore(
      tmp_path, save_precision, restore_precision)
  assert in_checkpoint == in_graph
  low = (restore_precision if restore_precision != 'float32'
         else save_precision)
  reference = saved if save_precision == 'float32' else restored
  assert np.abs(restored - saved).max() <= _logit_tolerance(low, reference)


# ---------------------------------------------------------------------------
# Batch norm statistics.


def _moving_statistics(sess):
  return sess.run({v.op.name: v for v in tf.global_variables()
                   if 'moving_' in v.op.name})


@pytest.mark.parametrize('updates_collections', [tf.GraphKeys.UPDATE_OPS,
                                                 None],
                         ids=['update_ops', 'in_place'])
@pytest.mark.parametrize('precision_name', LOW_PRECISIONS)
def test_training_step_updates_float32_moving_statistics(updates_collections,
                                                         precision_name):
  """Each moving mean/variance moves toward its batch's moments, in float32.

  With UPDATE_OPS the updates come from tf_keras' legacy BatchNormalization
  and must be run with the train op; with None slim's own fused batch norm
  applies them in place during the forward pass. Either way every moving
  statistic must end up at decay * old + (1 - decay) * batch moment, where
  the batch moments are recomputed here from the batch norm's
  low-precision input (unbiased variance, as the fused kernel reports).
  """
  decay = 0.9
  with tf.Graph().as_default() as graph, graph_building.fast_graph_building():
    logits, _ = _build(resnet_v2, precision_name, is_training=True,
                       batch_norm_decay=decay,
                       batch_norm_updates_collections=updates_collections)
    loss = tf.losses.sparse_softmax_cross_entropy(LABELS, logits)
    with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
      train_op = tf.train.GradientDescentOptimizer(0.01).minimize(loss)
    assert bool(tf.get_collection(tf.GraphKeys.UPDATE_OPS)) == (
        updates_collections is not None)
    norms = [op for op in graph.get_operations()
             if op.type == 'FusedBatchNormV3']
    with tf.Session() as sess:
      deterministic.assign_deterministic(sess)
      before = _moving_statistics(sess)
      _, inputs = sess.run([train_op, [op.inputs[0] for op in norms]])
      after = _moving_statistics(sess)
  assert len(norms) == len(before) // 2 > 5
  for op, x in zip(norms, inputs):
    assert x.dtype != np.float32  # The activations were low precision.
    x = x.astype(np.float64)
    layer = op.name.rsplit('/', 1)[0]
    for name, moment in (('moving_mean', x.mean(axis=(0, 1, 2))),
                         ('moving_variance', x.var(axis=(0, 1, 2), ddof=1))):
      key = '%s/%s' % (layer, name)
      assert after[key].dtype == np.float32
      expected = decay * before[key] + (1 - decay) * moment
      np.testing.assert_allclose(after[key], expected, rtol=1e-4,
                                 atol=1e-6, err_msg=key)
      assert np.all(after[key] != before[key]), key


# ---------------------------------------------------------------------------
# Losses.


def _total_loss(precision_name):
  """(total loss, regularization loss) of the tiny net with weight decay."""
  with tf.Graph().as_default(), graph_building.fast_graph_building():
    logits, _ = _build(resnet_v1, precision_name, is_training=True,
                       weight_decay=1e-2)
    tf.losses.sparse_softmax_cross_entropy(LABELS, logits)
    regularization = tf.losses.get_regularization_losses()
    assert len(regularization) == 9  # One per convolution.
    assert {loss.dtype for loss in regularization} == {tf.float32}
    total = tf.losses.get_total_loss()
    with tf.Session() as sess:
      deterministic.assign_deterministic(sess)
      return sess.run([total, tf.add_n(regularization)])


@pytest.fixture(scope='module')
def float32_total_loss():
  return _total_loss('float32')


@pytest.mark.parametrize('precision_name', LOW_PRECISIONS)
def test_total_loss_with_weight_decay_matches_float32(float32_total_loss,
                                                      precision_name):
  """get_total_loss adds float32 regularization losses, close to float32's.

  The L2 losses are computed by the layers on the weights rounded to the
  compute dtype, in that dtype, and then cast: a few roundings of at most
  half an epsilon each (weights, weight decay factor, result), that is
  within 2 epsilon relative. The cross entropy follows the logits.
  """
  total32, regularization32 = float32_total_loss
  total, regularization = _total_loss(precision_name)
  assert regularization > 0.1 * total32
  np.testing.assert_allclose(regularization, regularization32,
                             rtol=2 * EPSILON[precision_name])
  np.testing.assert_allclose(total, total32, rtol=4 * EPSILON[precision_name])


# ---------------------------------------------------------------------------
# Through nets_factory.


def _factory_build(precision_name):
  """resnet_v1_cifar_20 from get_network_fn, on 16x16 images, in training."""
  with tf.Graph().as_default() as graph, graph_building.fast_graph_building():
    network_fn = nets_factory.get_network_fn(
        'resnet_v1_cifar_20', num_classes=10, weight_decay=1e-4,
        is_training=True, precision=precision_name)
    logits, end_points = network_fn(tf.constant(IMAGES))
    return {
        'variables': _variables(),
        'num_losses': len(tf.losses.get_regularization_losses()),
        'total_loss': tf.losses.get_total_loss().dtype,
        'conv': {op.get_attr('T') for op in graph.get_operations()
                 if op.type == 'Conv2D'},
        'logits': logits,
        'end_points': end_points,
    }


@pytest.fixture(scope='module')
def float32_factory_build():
  return _factory_build('float32')


@pytest.mark.parametrize('precision_name', LOW_PRECISIONS)
def test_network_fn_builds_in_precision(float32_factory_build,
                                        precision_name):
  """resnet_v1_cifar_20: float32 variables and logits, low-precision net."""
  dtype = precision.compute_dtype(precision_name)
  reference = float32_factory_build
  built = _factory_build(precision_name)
  assert len(reference['variables']) == 107
  for key in ('variables', 'num_losses', 'total_loss'):
    assert built[key] == reference[key], key
  assert reference['conv'] == {tf.float32} and built['conv'] == {dtype}
  assert built['logits'].dtype == tf.float32
  assert built['logits'].shape.as_list() == [4, 10]
  assert built['end_points']['predictions'].dtype == dtype
  assert built['end_points']['resnet_v1_cifar_20/block3'].dtype == dtype


def test_network_fn_keeps_float32_unchanged(float32_factory_build):
  """The default precision passes images through and adds no casts."""
  logits = float32_factory_build['logits']
  assert logits.op.type != 'Cast'
  assert not [op for op in logits.graph.get_operations()
              if op.type == 'Cast']


# ---------------------------------------------------------------------------
# Training in float16 with loss scaling.


def _loss_scale():
  (scale,) = [v for v in tf.global_variables()
              if 'current_loss_scale' in v.op.name]
  return scale


def test_float16_training_with_loss_scaling():
  """The loss falls over a few steps; an overflowing step changes nothing.

  Multiplying the loss by 1e6 is harmless in float32 but, times the loss
  scale (2**15 at first), makes the gradients flowing back into the float16
  logits overflow float16's 65504: the dynamic loss scale must then skip the
  step, weights and global step unchanged, and halve itself.
  """
  with tf.Graph().as_default(), graph_building.fast_graph_building():
    tf.set_random_seed(0)
    logits, _ = _build(resnet_v2, 'float16', is_training=True,
                       weight_decay=1e-4)
    multiplier = tf.placeholder_with_default(1.0, [])
    tf.losses.sparse_softmax_cross_entropy(LABELS, logits)
    loss = tf.losses.get_total_loss()
    global_step = tf.train.get_or_create_global_step()
    opt = optimization.loss_scaled_optimizer(
        tf.train.MomentumOptimizer(0.05, 0.9), 'float16')
    with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
      train_op = opt.minimize(loss * multiplier, global_step=global_step)
    scale = _loss_scale()
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      losses = [sess.run([train_op, loss])[1] for _ in range(8)]
      steps, scale_before = sess.run([global_step, scale])
      weights = sess.run(tf.trainable_variables())
      sess.run(train_op, {multiplier: 1e6})
      weights_after = sess.run(tf.trainable_variables())
      steps_after, scale_after = sess.run([global_step, scale])
  assert np.all(np.isfinite(losses))
  assert losses[-1] < 0.5 * losses[0]
  # Early steps may overflow at the initial scale of 2**15: each one that
  # did was skipped (no global step) and halved the scale.
  assert 2 ** 15 / scale_before == 2 ** (8 - steps)
  assert steps_after == steps
  assert scale_after == scale_before / 2
  for before, after in zip(weights, weights_after):
    np.testing.assert_array_equal(after, before)
