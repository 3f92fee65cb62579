"""Root blocks: the layers in front of the first residual unit.

Three roots are in use:

* 'standard' (ImageNet ResNets): a 7x7/2 convolution to 64 channels, then a
  3x3/2 max pool; stride 4.
* 'beta' (DeepLab's variant): three 3x3 convolutions, 64-64-128 channels,
  the first with stride 2, then the same max pool; stride 4. Three small
  kernels see the same 7x7 window with more non-linearity and fewer
  multiply-adds per output than one large kernel.
* 'cifar' (He et al.'s 32x32 nets): one 3x3 convolution to 16 channels at
  stride 1 and no pooling, since a 32x32 image has no resolution to spare.

Pre-activation (v2) nets leave the root's last convolution without batch
norm or ReLU and give it biases instead: the first unit's `preact` batch
norm normalizes that output, and normalizing twice in a row would be
redundant. Post-activation (v1) nets normalize and rectify every root conv.
"""

import collections

import tf_slim as slim

from resnet_utils import checks
from resnet_utils.blocks import conv2d_same

# One convolution of a root block: scope, output channels, kernel side and
# stride. Every root conv is padded as `conv2d_same` pads.
RootConv = collections.namedtuple('RootConv',
                                  ['scope', 'depth', 'kernel_size', 'stride'])

# Each root as data, read by the graph builders here and by the Keras form
# of the nets (`nets.keras_nets`): its convolutions in order, and whether a
# 3x3/2 'SAME' max pool ('pool1') follows them.
ROOT_CONVS = {
    'standard': (RootConv('conv1', 64, 7, 2),),
    'beta': (RootConv('conv1_1', 64, 3, 2), RootConv('conv1_2', 64, 3, 1),
             RootConv('conv1_3', 128, 3, 1)),
    'cifar': (RootConv('conv1', 16, 3, 1),),
}
POOLED = {'standard': True, 'beta': True, 'cifar': False}
POOL_SIZE, POOL_STRIDE = 3, 2


def root_stride(kind):
  """Downsampling of root `kind`; a ValueError names the accepted kinds."""
  checks.check_choice(kind, sorted(ROOT_CONVS), 'root')
  stride = POOL_STRIDE if POOLED[kind] else 1
  for conv in ROOT_CONVS[kind]:
    stride *= conv.stride
  return stride


def _last_conv(preactivation):
  """arg_scope for the root's last conv: bare (v2) or as the scope says (v1)."""
  if preactivation:
    return slim.arg_scope([slim.conv2d], activation_fn=None,
                          normalizer_fn=None)
  return slim.arg_scope([])


def root_block(net, kind, preactivation):
  """Builds the root block `kind` ('standard', 'beta' or 'cifar') on `net`."""
  root_stride(kind)
  convs = ROOT_CONVS[kind]
  for i, conv in enumerate(convs):
    with _last_conv(preactivation and i == len(convs) - 1):
      net = conv2d_same(net, conv.depth, conv.kernel_size, stride=conv.stride,
                        scope=conv.scope)
  if POOLED[kind]:
    net = slim.max_pool2d(net, [POOL_SIZE, POOL_SIZE], stride=POOL_STRIDE,
                          scope='pool1')
  return net
