"""Registry of every network: name -> builder, arg scope and metadata.

Slim users build a net by name:

    network_fn = nets_factory.get_network_fn('resnet_v2_50', num_classes=1001,
                                             weight_decay=4e-5,
                                             is_training=True)
    logits, end_points = network_fn(images)   # arg scope applied for you
    size = network_fn.default_image_size

Every entry also knows its own numbers (`get_model_info`): parameters and
multiply-adds at its default image size with its reference class count, as
measured by `nets.summary` and pinned by the tests, plus where its features
are for dense prediction (`get_feature_info`).
"""

import collections
import functools

import tensorflow.compat.v1 as tf
import tf_slim as slim

from nets import resnet_v1
from nets import resnet_v2
from resnet_utils import checks
from resnet_utils import features
from resnet_utils import layout
from resnet_utils import network
from resnet_utils import precision as precision_lib
from resnet_utils import roots

_FAMILIES = (resnet_v1, resnet_v2)

networks_map = {name: builder for module in _FAMILIES
                for name, builder in module.BUILDERS.items()}

arg_scopes_map = {name: module.resnet_arg_scope for module in _FAMILIES
                  for name in module.BUILDERS}

ModelInfo = collections.namedtuple('ModelInfo', [
    'name', 'family', 'unit', 'depth', 'root', 'units_per_block',
    'default_image_size', 'num_classes', 'params', 'mult_adds'])

# Trainable parameters and multiply-adds per image of each net at its default
# image size with `num_classes` logits (1000 for ImageNet nets, 10 for the
# CIFAR nets), measured with `python -m nets.summary NAME` and checked by
# tests/test_nets_factory.py. Multiply-adds count convolutions only.
_MEASURED = {
    'resnet_v1_101': (44549160, 7194476544),
    'resnet_v1_101_beta': (44672936, 8549629952),
    'resnet_v1_152': (60192808, 10906697728),
    'resnet_v1_18': (11689512, 1553960960),
    'resnet_v1_200': (64673832, 14400552960),
    'resnet_v1_34': (21797672, 3403649024),
    'resnet_v1_50': (25557032, 3482255360),
    'resnet_v1_50_beta': (25680808, 4837408768),
    'resnet_v1_cifar_110': (1730714, 249610880),
    'resnet_v1_cifar_20': (272474, 37274240),
    'resnet_v1_cifar_32': (466906, 65585792),
    'resnet_v1_cifar_44': (661338, 93897344),
    'resnet_v1_cifar_56': (855770, 122208896),
    'resnet_v2_101': (44577896, 7194476544),
    'resnet_v2_101_beta': (44701736, 8549629952),
    'resnet_v2_152': (60236904, 10906697728),
    'resnet_v2_18': (11690600, 1553960960),
    'resnet_v2_200': (64726120, 14400552960),
    'resnet_v2_34': (21800616, 3403649024),
    'resnet_v2_50': (25568360, 3482255360),
    'resnet_v2_50_beta': (25692200, 4837408768),
    'resnet_v2_cifar_110': (1732650, 249610880),
    'resnet_v2_cifar_20': (272730, 37274240),
    'resnet_v2_cifar_32': (467386, 65585792),
    'resnet_v2_cifar_44': (662042, 93897344),
    'resnet_v2_cifar_56': (856698, 122208896),
    'resnet_v2_cifar_164': (1711786, 239389184),
}


PublishedCheckpoint = collections.namedtuple('PublishedCheckpoint', [
    'archive', 'num_classes', 'preprocessing', 'eval_image_size', 'top1',
    'top5'])

_V1 = dict(num_classes=1000, preprocessing='vgg', eval_image_size=224)
_V2 = dict(num_classes=1001, preprocessing='inception', eval_image_size=299)

# The ImageNet checkpoints published with the slim models, with what they
# expect and the accuracy reported for them. The V1 nets were converted from
# the original Caffe models: 1000 classes, VGG preprocessing (0-255 pixels
# minus the RGB means), 224x224. The V2 nets were trained in TensorFlow with
# Inception preprocessing (pixels in [-1, 1]), 299x299, and 1001 classes of
# which 0 is "background". Evaluating a V1 checkpoint on 1001-label ImageNet
# records therefore needs labels_offset=1, which the scripts derive from here.
PUBLISHED_CHECKPOINTS = {
    'resnet_v1_50': PublishedCheckpoint('resnet_v1_50_2016_08_28.tar.gz',
                                        top1=75.2, top5=92.2, **_V1),
    'resnet_v1_101': PublishedCheckpoint('resnet_v1_101_2016_08_28.tar.gz',
                                         top1=76.4, top5=92.9, **_V1),
    'resnet_v1_152': PublishedCheckpoint('resnet_v1_152_2016_08_28.tar.gz',
                                         top1=76.8, top5=93.2, **_V1),
    'resnet_v2_50': PublishedCheckpoint('resnet_v2_50_2017_04_14.tar.gz',
                                        top1=75.6, top5=92.8, **_V2),
    'resnet_v2_101': PublishedCheckpoint('resnet_v2_101_2017_04_14.tar.gz',
                                         top1=77.0, top5=93.7, **_V2),
    'resnet_v2_152': PublishedCheckpoint('resnet_v2_152_2017_04_14.tar.gz',
                                         top1=77.8, top5=94.1, **_V2),
}


def resolve_model_settings(name, num_classes=None, image_size=None):
  """(num_classes, image_size) to serve or export network `name` with.

  The one place where the published checkpoints' defaults are applied
  outside evaluation (which also depends on the dataset's labels; see
  `slim_resnets.training.eval_lib.resolve_settings`): without
  `num_classes` the net's published checkpoint supplies it and its
  evaluation size (resnet_v2_50: 1001 classes at 299); with it, the size
  defaults to the net's own. Export, TFLite export and classification all
  resolve through here, so the three can never disagree.

  Raises:
    ValueError: for an unknown name, a bad size or class count, or no
      `num_classes` for a net without a published checkpoint.
  """
  check_name(name)
  check_image_size(image_size, 'image_size', name)
  if num_classes is None:
    published = PUBLISHED_CHECKPOINTS.get(name)
    if published is None:
      raise ValueError('num_classes is required: %s has no published '
                       'checkpoint to take it from.' % name)
    return published.num_classes, image_size or published.eval_image_size
  checks.check_int(num_classes, 'num_classes')
  return num_classes, image_size or networks_map[name].default_image_size


def get_published_checkpoint(name):
  """The `PublishedCheckpoint` of network `name`, or None if there is none."""
  check_name(name, 'name')
  return PUBLISHED_CHECKPOINTS.get(name)


def _reference_classes(spec):
  return 10 if spec.root == 'cifar' else 1000


def check_name(name, argument='model_name'):
  """Raises a ValueError naming `argument` and listing every known network.

  The one check (and message) for a network name, wherever one comes in:
  the registry's functions, the scripts' --model_name, the benchmarks.
  """
  if name not in networks_map:
    raise ValueError('%s=%r is unknown; known networks: %s.'
                     % (argument, name, ', '.join(sorted(networks_map))))


def get_model_info(name):
  """The `ModelInfo` of network `name`; ValueError listing names if unknown."""
  check_name(name, 'name')
  spec = networks_map[name].spec
  params, mult_adds = _MEASURED.get(name, (None, None))
  return ModelInfo(name=name, family=spec.family, unit=spec.unit,
                   depth=spec.depth, root=spec.root,
                   units_per_block=spec.units_per_block,
                   default_image_size=spec.default_image_size,
                   num_classes=_reference_classes(spec), params=params,
                   mult_adds=mult_adds)


def get_network_fn(name, num_classes, weight_decay=0.0, is_training=False,
                   batch_norm_decay=None, precision='float32',
                   data_format='NHWC'):
  """Returns `network_fn(images, **kwargs) -> (logits, end_points)`.

  The function enters the network's arg scope (with `weight_decay`, and
  `batch_norm_decay` unless None keeps the scope's default) and calls
  its builder with `num_classes` and `is_training`; further keyword arguments
  (output_stride, global_pool, reuse, scope, ...) go to the builder. It has
  the builder's `default_image_size`.

  With `precision` 'float16' or 'bfloat16' the net computes in that dtype on
  float32 master weights (see `resnet_utils.precision`): float images are
  cast to the compute dtype, the net is built under `precision_scope`, and
  the returned logits (or features, without `num_classes`) are cast back to
  float32 so that losses and metrics are computed in float32. The end points,
  'predictions' included, stay in the compute dtype. The variables are
  those of the float32 net, so the same checkpoints load either way.

  With `data_format='NCHW'` the images and every end point are
  channels-first (see `resnet_utils.layout`); the variables are the same.

  Raises:
    ValueError: if `name` is unknown (the message lists the known names),
      `precision` is not one of `resnet_utils.precision.PRECISIONS` or
      `data_format` not one of 'NHWC', 'NCHW'.
  """
  check_name(name, 'name')
  precision_lib.check_precision(precision)
  layout.check_data_format(data_format)
  builder = networks_map[name]
  arg_scope_fn = arg_scopes_map[name]

  scope_args = {'weight_decay': weight_decay, 'data_format': data_format}
  if batch_norm_decay is not None:
    scope_args['batch_norm_decay'] = batch_norm_decay

  @functools.wraps(builder)
  def network_fn(images, **kwargs):
    with slim.arg_scope(arg_scope_fn(**scope_args)):
      with precision_lib.precision_scope(precision) as dtype:
        net, end_points = builder(_to_compute_dtype(images, dtype),
                                  num_classes=num_classes,
                                  is_training=is_training, **kwargs)
    if net.dtype != tf.float32:
      net = tf.cast(net, tf.float32, name='to_float32')
    return net, end_points

  network_fn.default_image_size = builder.default_image_size
  return network_fn


def _to_compute_dtype(images, dtype):
  """Float `images` cast to `dtype`; anything else (and float32) as it is."""
  if dtype == tf.float32:
    return images
  images = tf.convert_to_tensor(images)
  if images.dtype.is_floating and images.dtype != dtype:
    return tf.cast(images, dtype, name='images_%s' % dtype.name)
  return images


def make_blocks(name, depth_multiplier=1, min_base_depth=8, multi_grid=None):
  """The list of `resnet_utils.Block`s network `name` is built from.

  The same blocks its builder makes with these arguments (see
  `resnet_utils.network.make_blocks`); a ValueError lists the known names.
  """
  check_name(name, 'name')
  spec = networks_map[name].spec
  module = resnet_v1 if spec.family == 'resnet_v1' else resnet_v2
  return network.make_blocks(spec, module.BLOCK_FNS, depth_multiplier,
                             min_base_depth, multi_grid)


def get_feature_info(name, output_stride=None,
                     store_non_strided_activations=False, scope=None,
                     depth_multiplier=1, min_base_depth=8, multi_grid=None):
  """Where network `name` keeps its features at each stride.

  Returns a list of `resnet_utils.features.FeatureInfo` (block, end_point,
  stride, channels): one for the root conv, then one per block naming the
  deepest end point at that block's input resolution. Pass the same
  arguments as to the builder. For example, for 'resnet_v1_50' the stride-4
  features are 'resnet_v1_50/block1/unit_2/bottleneck_v1' with 256 channels.
  """
  blocks = make_blocks(name, depth_multiplier, min_base_depth, multi_grid)
  spec = networks_map[name].spec
  scope = scope or spec.default_scope
  root_conv = roots.ROOT_CONVS[spec.root][-1]
  return features.describe_features(
      blocks, scope, '%s/%s' % (scope, root_conv.scope), root_conv.depth,
      roots.root_stride(spec.root), output_stride,
      store_non_strided_activations)


def total_stride(name):
  """How many times network `name` reduces its input (output_stride unset).

  An input smaller than this leaves the last block a single pixel computed
  mostly from padding; the scripts refuse such image sizes.
  """
  return max(info.stride for info in get_feature_info(name))


def check_image_size(image_size, argument, name):
  """Raises a ValueError unless image_size is None or >= total_stride(name)."""
  stride = total_stride(name)
  checks.check_int(image_size, argument, minimum=stride, allow_none=True,
                   note='(pixels; %s has a total stride of %d)'
                   % (name, stride))


def end_point_at_stride(name, stride, **kwargs):
  """The deepest end point of `name` at `stride` (e.g. 4 for a decoder).

  Keyword arguments are those of `get_feature_info`. Raises a ValueError
  listing the available strides if there is none at `stride`.
  """
  infos = get_feature_info(name, **kwargs)
  matching = [i for i in infos if i.stride == stride]
  if not matching:
    raise ValueError('%s has no features at stride %r; available strides: %s.'
                     % (name, stride, sorted({i.stride for i in infos})))
  return matching[-1].end_point
