"""Image preprocessing for the ResNets: one module per published recipe.

A recipe turns one decoded image (uint8 [height, width, 3] of any size, or
float32 in [0, 1]) into the float32 [output_height, output_width, 3] tensor a
network was trained on. Every recipe has the same entry point,

    preprocess_image(image, output_height, output_width, is_training=False,
                     **options)

and builds TF1-style graph ops (`tf.compat.v1`), so it can sit inside a
`tf.data` map or a queue pipeline. Training mode adds the random
augmentation; evaluation mode is deterministic.

* `inception_preprocessing`: pixels in [-1, 1]; training crops a random box
  and jitters colour. The published ResNet V2 checkpoints expect it.
* `vgg_preprocessing`: pixels on the 0-255 scale minus the ImageNet channel
  means; aspect-preserving rescale and a crop. The published ResNet V1
  checkpoints expect it.
* `cifarnet_preprocessing`: for small images (CIFAR, upsampled digits): pad
  and crop, flip, per-image standardization.
* `preprocessing_factory`: a recipe by name, or by network name
  (`get_preprocessing('resnet_v2_50')` is Inception preprocessing).
* `image_ops`: the input checks, conversions and resize the recipes share.
"""
