"""Parameters and multiply-adds of every named net, counted by hand.

A second description of the architectures, written from the papers and
slim's conventions rather than from the builders, so that the tests can
pin a deep net's figures without building it: a build of resnet_v1_200
runs the same code as one of resnet_v1_50, with more units. The tests
check this arithmetic against real builds of one net of every kind
(family, unit and root), and then use it for the rest.

Conventions (those of slim's ResNets):
* Batch norm has two trainable vectors (gamma and beta); a convolution
  followed by batch norm has no biases, one without it has biases.
* V1 normalizes every convolution but the identity shortcut. V2 normalizes a
  unit's input ('preact'), the convolutions inside the unit but the last, and
  the body's output ('postnorm'); the root's last convolution, a unit's last
  convolution and its projection shortcut have biases instead.
* A block strides in its last unit: bottlenecks on their 3x3 conv, basic
  units on their second conv, projection shortcuts on their 1x1 conv.
* Multiply-adds count convolutions (kernel_h * kernel_w * c_in per output
  element, per image) and the 1x1 logits convolution on the pooled features.
"""

import collections

# params: trainable parameters; variables: all variables, batch norm's
# moving averages included; mult_adds: per image.
Counts = collections.namedtuple('Counts', ['params', 'variables',
                                           'mult_adds'])

IMAGENET_DEPTHS = (64, 128, 256, 512)
IMAGENET_STRIDES = (2, 2, 2, 1)
CIFAR_DEPTHS = (16, 32, 64)
CIFAR_STRIDES = (2, 2, 1)


class _Tally:
  """Adds up one net, keeping the spatial size and channels as it goes."""

  def __init__(self, size, channels):
    self.size, self.channels = size, channels
    self.params = self.variables = self.mult_adds = 0

  def conv(self, kernel, out, stride=1, norm=True, channels=None,
           size=None):
    """A kernel x kernel conv; returns its output size (not applied)."""
    channels = self.channels if channels is None else channels
    size = self.size if size is None else size
    out_size = -(-size // stride)  # 'SAME' (and conv2d_same): ceil
    self.params += kernel * kernel * channels * out + (2 * out if norm
                                                       else out)
    self.variables += 1 + (4 if norm else 1)  # weights; norm or biases
    self.mult_adds += out_size * out_size * kernel * kernel * channels * out
    return out_size

  def norm(self):
    self.params += 2 * self.channels
    self.variables += 4  # gamma, beta and the two moving averages


def _root(tally, root, v1):
  if root == 'cifar':
    tally.conv(3, 16, norm=v1)
    tally.channels = 16
  elif root == 'standard':
    tally.size = tally.conv(7, 64, stride=2, norm=v1)
    tally.channels = 64
    tally.size = -(-tally.size // 2)  # 3x3/2 max pool
  else:  # beta: three 3x3 convs, the first strided, then the max pool
    tally.size = tally.conv(3, 64, stride=2)
    tally.channels = 64
    tally.conv(3, 64)
    tally.conv(3, 128, norm=v1)
    tally.channels = 128
    tally.size = -(-tally.size // 2)


def _unit(tally, kind, v1, depth, stride):
  """One unit of base depth `depth`; advances the tally past it."""
  out = depth * 4 if kind == 'bottleneck' else depth
  size_in, channels_in = tally.size, tally.channels
  out_size = -(-size_in // stride)
  if not v1:
    tally.norm()  # preact
  if channels_in != out:
    tally.conv(1, out, stride=stride, norm=v1, size=size_in)
  if kind == 'bottleneck':
    tally.conv(1, depth)
    tally.conv(3, depth, stride=stride, channels=depth)
    tally.conv(1, out, norm=v1, channels=depth, size=out_size)
  else:
    tally.conv(3, depth)
    tally.conv(3, out, stride=stride, norm=v1, channels=depth)
  tally.size, tally.channels = out_size, out


def counts(family, unit, root, units_per_block, image_size, num_classes):
  """`Counts` of a net at `image_size` with `num_classes` logits."""
  v1 = family == 'resnet_v1'
  cifar = root == 'cifar'
  tally = _Tally(image_size, 3)
  _root(tally, root, v1)
  depths, strides = ((CIFAR_DEPTHS, CIFAR_STRIDES) if cifar else
                     (IMAGENET_DEPTHS, IMAGENET_STRIDES))
  for depth, num_units, stride in zip(depths, units_per_block, strides):
    for index in range(num_units):
      _unit(tally, unit, v1, depth,
            stride if index == num_units - 1 else 1)
  if not v1:
    tally.norm()  # postnorm
  tally.conv(1, num_classes, norm=False, size=1)  # logits on pooled features
  return Counts(tally.params, tally.variables, tally.mult_adds)


def counts_of(info):
  """`Counts` of a `nets_factory.ModelInfo` at its default size and classes."""
  return counts(info.family, info.unit, info.root, info.units_per_block,
                info.default_image_size, info.num_classes)
