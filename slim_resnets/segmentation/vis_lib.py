"""Pictures of segmentations: color-coded labels and overlays, as PNG files.

People judge a segmentation by looking at it. `visualize` runs a checkpoint
on a split and writes, per image, one PNG panel: the image, the ground
truth and the prediction, each label map color-coded and laid over the
image, side by side. Colors are PASCAL VOC's palette (class 0, the
background, stays the image itself; ignored pixels are white), so VOC
users see the colors they know.
"""

import os

import numpy as np
import tensorflow.compat.v1 as tf

from resnet_utils import checks
from slim_resnets import publish
from slim_resnets.datasets import dataset_factory
from slim_resnets.datasets import image_codec
from slim_resnets.datasets import input_pipeline
from slim_resnets.datasets import segmentation_format
from slim_resnets.preprocessing import segmentation_preprocessing
from slim_resnets.segmentation import eval_lib
from slim_resnets.segmentation import train_lib
from slim_resnets.training import checkpoints

_SEPARATOR = 2  # pixels of white between the panel's parts


def colormap(num_colors=256):
  """PASCAL VOC's palette: uint8 [num_colors, 3], class c -> its color.

  Each class id's bits are spread over the three channels, most
  significant first, so neighbouring ids get clearly different colors.
  """
  colors = np.zeros((num_colors, 3), np.int64)
  for index in range(num_colors):
    value = index
    for shift in range(7, -1, -1):
      for channel in range(3):
        colors[index, channel] |= ((value >> channel) & 1) << shift
      value >>= 3
  return colors.astype(np.uint8)


def colorize(labels):
  """uint8 [H, W, 3] colors of a label map; ignored pixels white."""
  labels = np.asarray(labels)
  colors = colormap()[np.minimum(labels, 255)]
  colors[labels == segmentation_format.IGNORE_LABEL] = 255
  return colors


def overlay(image, labels, alpha=0.6):
  """The label colors blended over `image` (uint8 [H, W, 3]); background
  pixels (class 0) show the image unchanged."""
  image = np.asarray(image, np.float64)
  colors = colorize(labels).astype(np.float64)
  blended = np.where((np.asarray(labels) > 0)[..., None],
                     (1 - alpha) * image + alpha * colors, image)
  return np.round(blended).astype(np.uint8)


def panel(image, truth, prediction, zoom=1):
  """image | truth overlaid | prediction overlaid, each `zoom` times larger
  (nearest neighbour, so pixels stay crisp)."""
  parts = [np.asarray(image, np.uint8), overlay(image, truth),
           overlay(image, prediction)]
  parts = [np.repeat(np.repeat(p, zoom, 0), zoom, 1) for p in parts]
  gap = np.full((parts[0].shape[0], _SEPARATOR, 3), 255, np.uint8)
  return np.concatenate([parts[0], gap, parts[1], gap, parts[2]], 1)


def sheet(pictures, columns=2):
  """The pictures (uint8 [H, W, 3], any sizes) on one white sheet, in rows
  of `columns`, each cell as large as the largest picture."""
  checks.check_int(columns, 'columns')
  if not pictures:
    raise ValueError('sheet needs at least one picture.')
  height = max(p.shape[0] for p in pictures) + _SEPARATOR
  width = max(p.shape[1] for p in pictures) + _SEPARATOR
  rows = -(-len(pictures) // columns)
  out = np.full((rows * height - _SEPARATOR,
                 min(columns, len(pictures)) * width - _SEPARATOR, 3), 255,
                np.uint8)
  for index, picture in enumerate(pictures):
    top, left = (index // columns) * height, (index % columns) * width
    out[top:top + picture.shape[0], left:left + picture.shape[1]] = picture
  return out


def visualize(config, vis_dir, num_images=4, zoom=1, log_fn=None,
              sheet_name=None):
  """Writes one panel PNG per image for the first `num_images` of the split.

  Args:
    config: a `config.SegmentationEvalConfig` (checkpoint, data, model).
    vis_dir: where the PNGs go (created); files are named after the
      images, `<filename>.png`, and replaced atomically.
    num_images: how many images.
    zoom: enlargement of the panels.
    sheet_name: if set, all panels are also written on one sheet (two
      columns), `<vis_dir>/<sheet_name>.png`, the last path returned.

  Returns:
    The paths written.
  """
  log = log_fn or tf.logging.info
  eval_lib.check_config(config)
  checks.check_int(num_images, 'num_images')
  checks.check_int(zoom, 'zoom')
  split = dataset_factory.get_split(config.dataset_name,
                                    config.dataset_split_name,
                                    config.dataset_dir,
                                    task=dataset_factory.SEGMENTATION)
  path = checkpoints.resolve_checkpoint(config.checkpoint_path)
  written, pictures = [], []
  graph = tf.Graph()
  with graph.as_default():
    # Batches of one, undecorated, so the panels show the pixels as stored
    # and images of any size pass; the model gets them normalized.
    raw = tf.data.make_one_shot_iterator(
        input_pipeline.make_segmentation_dataset(
            split, 1, lambda image, label: (image, label), num_epochs=1,
            num_readers=1)).get_next()
    image = segmentation_preprocessing.normalize(
        raw['image'][0], train_lib.preprocessing_name(config))
    predictions = eval_lib.build_predictions(config, image[tf.newaxis],
                                             split.num_classes)
    saver = tf.train.Saver()
    with tf.Session() as sess, image_codec.ImageCodec() as codec:
      saver.restore(sess, path)
      while len(written) < num_images:
        try:
          values, labels = sess.run([raw, predictions['semantic']])
        except tf.errors.OutOfRangeError:
          break
        name = os.path.basename(values['filename'][0].decode('utf-8'))
        name = os.path.splitext(name)[0] or 'image_%05d' % len(written)
        picture = panel(values['image'][0].astype(np.uint8),
                        values['label'][0, ..., 0], labels[0], zoom)
        target = os.path.join(vis_dir, name + '.png')
        publish.write_file(target, codec.encode_png(picture), 'vis',
                           overwrite=True)
        written.append(target)
        pictures.append(picture)
      if sheet_name and pictures:
        target = os.path.join(vis_dir, sheet_name + '.png')
        publish.write_file(target, codec.encode_png(sheet(pictures)), 'vis',
                           overwrite=True)
        written.append(target)
  log('wrote %d panels (image | truth | prediction) to %s'
      % (len(written), vis_dir))
  return written
