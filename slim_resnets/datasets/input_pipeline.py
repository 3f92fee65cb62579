"""The tf.data input pipeline: TFRecord shards -> batches of images, labels.

    split = dataset_factory.get_split('cifar10', 'train', dataset_dir)
    dataset = input_pipeline.make_dataset(
        split, batch_size=128, preprocess_fn=preprocess, image_size=32,
        is_training=True, seed=1)
    images, labels = tf.data.make_one_shot_iterator(dataset).get_next()

The stages, in order, and why:

1. the file list, shuffled when training, so each epoch visits shards in a
   new order;
2. `interleave` reads `num_readers` files at once, one record from each in
   turn: reading overlaps, and consecutive examples come from different
   shards;
3. a shuffle buffer mixes records within and across those shards (a seed
   makes the order reproducible; without one it differs per run);
4. `repeat(num_epochs)`: None repeats forever (training until a step
   count); 1 gives exactly one pass (evaluation), after which the iterator
   raises OutOfRangeError;
5. a parallel `map` parses each example, decodes the image to uint8
   [H, W, 3] (grayscale repeated to three channels) and applies the
   preprocessing function;
6. `batch`, then `prefetch` so the next batch is prepared while the model
   runs on this one.

Everything is built from TF ops, so it works in TF1 graphs (tf.compat.v1,
as the networks here are built) and eagerly alike.
"""

import numbers

import tensorflow.compat.v1 as tf

from resnet_utils import checks
from slim_resnets.datasets import example_format
from slim_resnets.datasets import segmentation_format

DEFAULT_SHUFFLE_BUFFER = 10000


def _records(split_info, shuffle, seed, num_readers, num_epochs,
             shuffle_buffer_size, deterministic):
  """Stages 1-4 above: the serialized records of a split, in their order."""
  files = tf.data.Dataset.from_tensor_slices(list(split_info.files))
  if shuffle:
    files = files.shuffle(len(split_info.files), seed=seed,
                          reshuffle_each_iteration=True)
  cycle_length = min(num_readers, len(split_info.files))
  records = files.interleave(
      tf.data.TFRecordDataset, cycle_length=cycle_length, block_length=1,
      num_parallel_calls=cycle_length,
      deterministic=deterministic)
  if shuffle:
    buffer_size = max(1, min(shuffle_buffer_size,
                             split_info.num_samples or shuffle_buffer_size))
    records = records.shuffle(buffer_size, seed=seed,
                              reshuffle_each_iteration=True)
  return records.repeat(num_epochs)


def _check_reading(split_info, batch_size, num_epochs, num_readers):
  if not split_info.files:
    raise ValueError('split %s of %s has no files to read.'
                     % (split_info.split_name, split_info.name))
  checks.check_int(batch_size, 'batch_size')
  checks.check_int(num_epochs, 'num_epochs', allow_none=True)
  checks.check_int(num_readers, 'num_readers')


def _check_arguments(split_info, batch_size, preprocess_fn, image_size,
                     num_epochs, labels_offset, num_readers):
  _check_reading(split_info, batch_size, num_epochs, num_readers)
  checks.check_int(image_size, 'image_size', allow_none=True)
  if preprocess_fn is not None and image_size is None:
    raise ValueError('preprocess_fn needs image_size: it is called as '
                     'preprocess_fn(image, image_size, image_size).')
  if (isinstance(labels_offset, bool) or
      not isinstance(labels_offset, numbers.Integral) or
      not 0 <= labels_offset < split_info.num_classes):
    raise ValueError(
        'labels_offset must be an integer in [0, %d) (num_classes of %s); '
        'got %r.' % (split_info.num_classes, split_info.name, labels_offset))


def make_dataset(split_info, batch_size, preprocess_fn=None, image_size=None,
                 is_training=False, num_epochs=None, labels_offset=0,
                 seed=None, num_readers=4,
                 num_parallel_calls=tf.data.AUTOTUNE, shuffle=None,
                 shuffle_buffer_size=DEFAULT_SHUFFLE_BUFFER,
                 drop_remainder=None):
  """A tf.data.Dataset of (images, labels) batches from one split.

  Args:
    split_info: a dataset_factory.SplitInfo.
    batch_size: examples per batch.
    preprocess_fn: fn(image, height, width) -> float image, applied to each
      decoded uint8 [H, W, 3] image with height = width = image_size (the
      signature of slim's preprocessing functions with is_training bound).
      None: images are the decoded pixels as float32 in [0, 255], resized
      (bilinearly) to image_size when it is given.
    image_size: side of the square images preprocess_fn should produce.
      Needed with preprocess_fn; without it and without preprocess_fn all
      images of the split must share one size to be batched.
    is_training: the default for `shuffle` and `drop_remainder`.
    num_epochs: passes over the data; None repeats forever.
    labels_offset: subtracted from every label, e.g. 1 to train a 1000-class
      network on ImageNet's 1001 labels (0 = background).
    seed: makes shuffling reproducible: the same seed (and the same
      graph-level seed, if one is set) gives the same order of files and
      examples in every run. None shuffles differently each run and lets
      parallel stages deliver out of order, for speed.
    num_readers: files read in parallel.
    num_parallel_calls: parallelism of decoding and preprocessing
      (tf.data.AUTOTUNE lets tf.data choose).
    shuffle: shuffle files and examples; defaults to is_training.
    shuffle_buffer_size: examples in the shuffle buffer (capped at the
      split's size).
    drop_remainder: drop a last, smaller batch, so every batch has a static
      batch dimension; defaults to is_training.

  Returns:
    A dataset of (float32 images [batch, H, W, 3], int32 labels [batch]).

  Raises:
    ValueError: for arguments that cannot work, naming the argument.
  """
  _check_arguments(split_info, batch_size, preprocess_fn, image_size,
                   num_epochs, labels_offset, num_readers)
  if shuffle is None:
    shuffle = is_training
  if drop_remainder is None:
    drop_remainder = is_training
  # Order only needs to be kept where someone can rely on it.
  deterministic = seed is not None or not shuffle

  records = _records(split_info, shuffle, seed, num_readers, num_epochs,
                     shuffle_buffer_size, deterministic)

  def decode_and_preprocess(serialized):
    image, label = example_format.parse_example(serialized)
    if preprocess_fn is not None:
      image = preprocess_fn(image, image_size, image_size)
    elif image_size is not None:
      image = tf.image.resize(tf.cast(image, tf.float32),
                              [image_size, image_size])
    image = tf.cast(image, tf.float32)
    label = tf.cast(label - labels_offset, tf.int32)
    return image, label

  examples = records.map(decode_and_preprocess,
                         num_parallel_calls=num_parallel_calls,
                         deterministic=deterministic)
  batches = examples.batch(batch_size, drop_remainder=drop_remainder)
  return batches.prefetch(tf.data.AUTOTUNE)


def make_segmentation_dataset(split_info, batch_size, preprocess_fn,
                              is_training=False, num_epochs=None, seed=None,
                              num_readers=4,
                              num_parallel_calls=tf.data.AUTOTUNE,
                              shuffle=None,
                              shuffle_buffer_size=DEFAULT_SHUFFLE_BUFFER):
  """A tf.data.Dataset of segmentation batches from one split.

  The records are read, shuffled and repeated as for classification (stages
  1-4 above); each is parsed as DeepLab's example (`segmentation_format`).

  Args:
    split_info: a dataset_factory.SplitInfo of a segmentation dataset.
    batch_size: examples per batch. The preprocessed images of a batch must
      share one size (training crops them to one; evaluating images of
      different sizes takes batch_size=1).
    preprocess_fn: fn(uint8 image [H, W, 3], uint8 label [H, W, 1]) ->
      (float32 image, int32 label [h, w, 1]).
    is_training: the default for `shuffle`; a training batch that would be
      smaller than batch_size is dropped.
    num_epochs, seed, num_readers, num_parallel_calls, shuffle,
    shuffle_buffer_size: as for `make_dataset`.

  Returns:
    A dataset of {'image': float32 [batch, h, w, 3], 'label': int32
    [batch, h, w, 1], 'filename': string [batch]}.
  """
  _check_reading(split_info, batch_size, num_epochs, num_readers)
  if shuffle is None:
    shuffle = is_training
  deterministic = seed is not None or not shuffle
  records = _records(split_info, shuffle, seed, num_readers, num_epochs,
                     shuffle_buffer_size, deterministic)

  def decode_and_preprocess(serialized):
    image, label, filename = segmentation_format.parse_example(serialized)
    image, label = preprocess_fn(image, label)
    return {'image': tf.cast(image, tf.float32),
            'label': tf.cast(label, tf.int32), 'filename': filename}

  examples = records.map(decode_and_preprocess,
                         num_parallel_calls=num_parallel_calls,
                         deterministic=deterministic)
  batches = examples.batch(batch_size, drop_remainder=is_training)
  return batches.prefetch(tf.data.AUTOTUNE)
