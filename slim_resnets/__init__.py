"""slim-resnets: everything around the ResNet builders, in one package.

The builders themselves stay where slim code imports them from, the
top-level packages `nets` and `resnet_utils`. This package holds the rest,
layered so that imports only ever point down:

  serving, distributed,   deploy (classify, SavedModel, TFLite), run on
  segmentation            many machines, DeepLab-style dense prediction
  training                the train and eval loops, their config, how one
                          process plays its part in a cluster
  datasets, preprocessing data in, pixels ready
  console, progress,      helpers at the package's root: the scripts'
  publish                 console and exit codes, progress reports,
                          atomic publishing of outputs
  nets, resnet_utils      the builders (outside this package)

`tests/test_imports.py` enforces that order. Importing a subpackage does no
work of its own; modules that build graphs import `nets` or
`resnet_utils`, which install the tf-slim compatibility fix.
"""
