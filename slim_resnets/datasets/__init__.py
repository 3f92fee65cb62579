"""Datasets in slim's TFRecord format: converters, registry, input pipeline.

Modules, in the order data flows through them:

  convert_digits, convert_cifar10, convert_image_folder
                     turn a source (scikit-learn's digits, the CIFAR-10
                     archive, a folder of class folders) into examples;
  convert            one entry point for them (download_and_convert_data.py);
  writer             writes shards, labels.txt and dataset_info.json
                     atomically, refusing to replace a dataset by accident;
  example_format     the slim tf.train.Example (image/encoded, ...);
  labels             labels.txt ('0:zero');
  dataset_info       dataset_info.json (split sizes and files);
  dataset_factory    name + split -> SplitInfo (files, sizes, classes);
  input_pipeline     SplitInfo -> tf.data batches of (images, labels);
  verify             reads a split end to end, naming any damaged record;
  errors             the exceptions, all derived from DatasetError.

Helpers: splitting (seeded stratified splits), image_codec (PNG encoding and
image checks), tfrecords (reading records outside tf.data), private_graph
(their common base: TensorFlow ops run from Python, in any execution mode).
"""
