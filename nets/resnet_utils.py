"""`from nets import resnet_utils` gives the top-level `resnet_utils` package.

Existing slim code imports the shared ResNet machinery from `nets`; this
module makes that name refer to the very same module object, so `arg_scope`
keys, `Block` and every function are identical whichever way they are
imported.
"""

import sys

import resnet_utils as _resnet_utils

sys.modules[__name__] = _resnet_utils
