"""Training, evaluation and export of image classifiers built from `nets`.

The absl-flag scripts at the top level (`train_image_classifier.py`,
`eval_image_classifier.py`, `export_inference_graph.py`) only parse flags
into the config objects defined here and call these functions, so every
piece of logic can be tested without a command line.
"""

import nets  # noqa: F401  (installs the tf-slim compatibility fix)
