"""Serving a trained classifier: what runs after training is done.

* `classify`: labels for image files from a checkpoint, in one call.
* `export_lib`: a SavedModel that takes raw uint8 images (preprocessing
  inside) and a frozen graph, published atomically.
* `tflite_lib`: TFLite models (float32, dynamic-range and full-integer
  int8) and their evaluation through the classification eval's pipeline.
"""
