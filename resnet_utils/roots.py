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

import tf_slim as slim

from resnet_utils import checks
from resnet_utils.blocks import conv2d_same

ROOT_STRIDES = {'standard': 4, 'beta': 4, 'cifar': 1}


def _last_conv(preactivation):
  """arg_scope for the root's last conv: bare (v2) or as the scope says (v1)."""
  if preactivation:
    return slim.arg_scope([slim.conv2d], activation_fn=None,
                          normalizer_fn=None)
  return slim.arg_scope([])


def root_stride(kind):
  """Downsampling of root `kind`; a ValueError names the accepted kinds."""
  checks.check_choice(kind, sorted(ROOT_STRIDES), 'root')
  return ROOT_STRIDES[kind]


def root_block(net, kind, preactivation):
  """Builds the root block `kind` ('standard', 'beta' or 'cifar') on `net`."""
  root_stride(kind)
  if kind == 'standard':
    with _last_conv(preactivation):
      net = conv2d_same(net, 64, 7, stride=2, scope='conv1')
    return slim.max_pool2d(net, [3, 3], stride=2, scope='pool1')
  if kind == 'beta':
    net = conv2d_same(net, 64, 3, stride=2, scope='conv1_1')
    net = conv2d_same(net, 64, 3, stride=1, scope='conv1_2')
    with _last_conv(preactivation):
      net = conv2d_same(net, 128, 3, stride=1, scope='conv1_3')
    return slim.max_pool2d(net, [3, 3], stride=2, scope='pool1')
  with _last_conv(preactivation):
    return conv2d_same(net, 16, 3, stride=1, scope='conv1')
