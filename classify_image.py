"""Classify images with any net of nets_factory, from a checkpoint.

    python classify_image.py                       # built-in demo batch
    python classify_image.py --checkpoint_path=resnet_v2_50.ckpt \
        --images=cat.jpg,dog.png
    python classify_image.py --checkpoint_path=runs/digits_resnet_v2_cifar_20 \
        --images=digit.png

Given a train dir (or a checkpoint in one), the net, its preprocessing,
input size and classes default to the settings the run was trained with
(its run_settings.json). Without --checkpoint_path the weights are freshly
initialized: the output then only shows that the graph builds and runs.
"""

import os

from absl import app
from absl import flags
import numpy as np

from slim_resnets import console
from slim_resnets.training import cli

FLAGS = flags.FLAGS
flags.DEFINE_string('model_name', 'resnet_v2_50',
                    'Which network to build (any of nets_factory).')
flags.DEFINE_string('checkpoint_path', None,
                    'Slim checkpoint to restore (file prefix, or a train dir '
                    'for its latest); fresh weights when omitted.')
flags.DEFINE_list('images', [], 'JPEG/PNG files to classify; a built-in demo '
                  'batch when empty.')
flags.DEFINE_integer('num_classes', None, 'Classes of the checkpoint; the '
                     'published checkpoint\'s when unset.')
flags.DEFINE_integer('image_size', None, 'Network input size; the published '
                     'checkpoint\'s evaluation size (else the network\'s '
                     'default) when unset.')
flags.DEFINE_integer('top_k', 5, 'Classes to print per image.')
flags.DEFINE_string('preprocessing_name', None,
                    'Preprocessing; the model\'s default when unset.')


def _load_images(paths, size):
  """uint8 [len(paths), size, size, 3]: each file decoded and resized."""
  import tensorflow.compat.v1 as tf  # pylint: disable=g-import-not-at-top
  for p in paths:
    if not os.path.isfile(p):
      raise FileNotFoundError('--images: no such file: %s' % p)
  images = []
  with tf.Graph().as_default(), tf.Session() as sess:
    path = tf.placeholder(tf.string)
    decoded = tf.image.resize(
        tf.image.decode_image(tf.io.read_file(path), channels=3,
                              expand_animations=False), [size, size])
    for p in paths:
      images.append(sess.run(decoded, {path: p}))
  return np.clip(np.stack(images), 0, 255).astype(np.uint8)


def main(argv):
  del argv
  # Imported once console.parse_flags has quieted TensorFlow.
  # pylint: disable=g-import-not-at-top
  from nets import nets_factory
  from slim_resnets.serving import classify
  from slim_resnets.training import run_settings
  run_settings.apply_to_flags(FLAGS, FLAGS.checkpoint_path)

  def work():
    if FLAGS.images:
      # Decoded at the network's input size: the evaluation preprocessing
      # of every recipe then sees the whole picture.
      _, size = nets_factory.resolve_model_settings(
          FLAGS.model_name, FLAGS.num_classes, FLAGS.image_size)
      images, names = _load_images(FLAGS.images, size), FLAGS.images
    else:
      images = classify.demo_images()
      names = ['demo_%d' % i for i in range(len(images))]
    return names, classify.classify(
        images, FLAGS.model_name, FLAGS.checkpoint_path, FLAGS.num_classes,
        FLAGS.image_size, FLAGS.top_k, FLAGS.preprocessing_name)

  names, (prediction, info) = cli.run_main(work)
  weights = FLAGS.checkpoint_path or 'freshly initialized weights'
  print('%s (%s): graph built in %.1f s, batch of %d classified in %.2f s'
        % (FLAGS.model_name, weights, info['build_seconds'], len(names),
           info['run_seconds']))
  for name, shape in info['block_shapes'].items():
    print('  %-28s %s' % (name, 'x'.join(str(d) for d in shape)))
  for name, classes, probs in zip(names, prediction.classes,
                                  prediction.probabilities):
    top = ', '.join('%d (%.3f)' % (c, p) for c, p in zip(classes, probs))
    print('%s: %s' % (name, top))

if __name__ == '__main__':
  app.run(main, flags_parser=console.parse_flags)
