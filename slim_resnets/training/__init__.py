"""Training and evaluation of image classifiers built from `nets`.

The absl-flag scripts at the repository root (`train_image_classifier.py`,
`eval_image_classifier.py`) only parse flags into the config objects
defined in `config` and call `train_lib.train` / `eval_lib.evaluate`, so
every piece of logic can be tested without a command line. `cluster`
describes where one training process sits in a cluster of them.
"""
