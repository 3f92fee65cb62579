"""Preprocessing recipes by name, or by the name of the network they feed.

    preprocessing_fn = preprocessing_factory.get_preprocessing(
        'resnet_v2_50', is_training=True)
    image = preprocessing_fn(image, 299, 299)   # [-1, 1], Inception recipe

A network's default recipe is the one its published checkpoints (or, for
the CIFAR nets, its paper) were trained with, read off the network's
registry entry rather than its name:

* CIFAR-root nets (`resnet_v1_cifar_20`, ...): 'cifarnet';
* other ResNet V1 nets: 'vgg' (0-255 pixels minus the ImageNet means);
* other ResNet V2 nets: 'inception' (pixels in [-1, 1]).

A net fine-tuned from a checkpoint must be fed the checkpoint's recipe, so
the defaults are not a matter of taste: feeding a V1 checkpoint [-1, 1]
pixels silently costs most of its accuracy.
"""

import tensorflow.compat.v1 as tf

from nets import nets_factory
from slim_resnets.preprocessing import cifarnet_preprocessing
from slim_resnets.preprocessing import image_ops
from slim_resnets.preprocessing import inception_preprocessing
from slim_resnets.preprocessing import vgg_preprocessing

# Recipe name -> module with `preprocess_image`.
RECIPES = {
    'cifarnet': cifarnet_preprocessing,
    'inception': inception_preprocessing,
    'vgg': vgg_preprocessing,
}

# Each family's recipe is the one its published checkpoints were trained
# with (`nets_factory.PUBLISHED_CHECKPOINTS` records it): VGG for V1,
# Inception for V2.
_FAMILY_RECIPES = {
    nets_factory.get_model_info(name).family: published.preprocessing
    for name, published in nets_factory.PUBLISHED_CHECKPOINTS.items()}


def _recipe_of_network(name):
  info = nets_factory.get_model_info(name)
  if info.root == 'cifar':
    return 'cifarnet'
  return _FAMILY_RECIPES[info.family]


# Network name -> the name of its default recipe, for every registered net.
DEFAULTS = {name: _recipe_of_network(name)
            for name in sorted(nets_factory.networks_map)}


def _check_name(name):
  if name not in RECIPES and name not in DEFAULTS:
    raise ValueError(
        'Name of preprocessing unknown: %r; known names are the recipes %s '
        'and the networks %s.' % (name, ', '.join(sorted(RECIPES)),
                                  ', '.join(sorted(DEFAULTS))))


def default_preprocessing_name(name):
  """The recipe name for a network name; a recipe name maps to itself.

  Raises:
    ValueError: if `name` is neither (the message lists the known names).
  """
  _check_name(name)
  return name if name in RECIPES else DEFAULTS[name]


def to_grayscale_rgb(image):
  """`image` as float [0, 1] grey levels repeated in all three channels.

  For nets that must not rely on colour; they keep their 3-channel input,
  so the same checkpoints and recipes apply. Converting before the recipe
  keeps the channels equal through it, since its colour jitters change the
  three channels of a grey image alike; only VGG's mean subtraction sets
  them apart again, by the differences between the channel means.
  """
  image = image_ops.to_float(image_ops.check_image(image))
  return tf.image.grayscale_to_rgb(tf.image.rgb_to_grayscale(image))


def get_preprocessing(name, is_training=False, use_grayscale=False,
                      **options):
  """Returns `preprocessing_fn(image, output_height, output_width, **kwargs)`.

  Args:
    name: a recipe ('cifarnet', 'inception', 'vgg') or a network name from
      `nets.nets_factory.networks_map`, which selects its default recipe.
    is_training: the random training recipe, else the evaluation one.
    use_grayscale: turn images grey (still 3 channels) before the recipe.
    **options: keyword arguments of the recipe's `preprocess_image` fixed
      here, e.g. `random_flip=False` for digits, so that callers which pass
      only the image and size (input pipelines) still get them.

  Returns:
    A function of one uint8 (or [0, 1] float) [height, width, 3] image and
    the output size, returning float32 [output_height, output_width, 3];
    its keyword arguments go to the recipe's `preprocess_image` too (e.g.
    `fast_mode`, `resize_side_min`, `seed`) and override `options`.

  Raises:
    ValueError: if `name` is unknown (the message lists the known names).
  """
  recipe_name = default_preprocessing_name(name)
  recipe = RECIPES[recipe_name]

  def preprocessing_fn(image, output_height, output_width, **kwargs):
    if use_grayscale:
      image = to_grayscale_rgb(image)
    return recipe.preprocess_image(image, output_height, output_width,
                                   is_training=is_training,
                                   **dict(options, **kwargs))

  preprocessing_fn.recipe_name = recipe_name
  return preprocessing_fn
