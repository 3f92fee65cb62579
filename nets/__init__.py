"""ResNet graph builders in the TF-Slim tradition.

    from nets import resnet_v2
    logits, end_points = resnet_v2.resnet_v2_50(images, num_classes=1001)

The same nets as Keras 3 models, on the same checkpoints:

    from nets import keras_nets
    model = keras_nets.resnet_v2_50(num_classes=1001, weights=checkpoint)

Importing `nets` installs the tf-slim compatibility fix (see
`resnet_utils.compat`), so slim layers work on current TensorFlow; it
imports neither `keras_nets` nor anything else.
"""

import resnet_utils as _resnet_utils  # noqa: F401  (installs the fix)
