"""Shared machinery of the ResNet families in `nets`.

Importing this package (or `nets`) also makes tf-slim's layer functions,
`slim.batch_norm` in particular, work on current TensorFlow; see
`resnet_utils.compat` for what is fixed and why.

Public API, compatible with the slim `nets.resnet_utils` module:
  Block, subsample, conv2d_same, stack_blocks_dense, resnet_arg_scope
and what this project adds on top:
  plan_strides, reachable_output_strides, classification_head, and the
  `layout` (NHWC/NCHW) and `precision` (mixed precision) modules.
"""

from resnet_utils import compat as _compat

_compat.install()

# pylint: disable=g-import-not-at-top,wrong-import-position
from resnet_utils import layout
from resnet_utils import precision
from resnet_utils.blocks import Block
from resnet_utils.blocks import BlockPlan
from resnet_utils.blocks import UnitPlan
from resnet_utils.blocks import conv2d_same
from resnet_utils.blocks import plan_strides
from resnet_utils.blocks import reachable_output_strides
from resnet_utils.blocks import stack_blocks_dense
from resnet_utils.blocks import subsample
from resnet_utils.blocks import uniform_block
from resnet_utils.blocks import unit_strides
from resnet_utils.heads import classification_head
from resnet_utils.scopes import resnet_arg_scope

__all__ = [
    'Block', 'BlockPlan', 'UnitPlan', 'classification_head', 'conv2d_same',
    'layout', 'precision',
    'plan_strides', 'reachable_output_strides', 'resnet_arg_scope',
    'stack_blocks_dense', 'subsample', 'uniform_block', 'unit_strides',
]
