"""Small segmentation sources in the layouts users have, written with Pillow
(and SciPy for SBD's .mat files): a folder of images and masks, a PASCAL VOC
2012 tree or tar, an SBD tree or tgz.

Each image is a few flat rectangles whose colours follow their class, so a
test can check that a converted mask lines up with its image."""

import io
import os
import tarfile

import numpy as np
from PIL import Image
from scipy import io as scipy_io

VOC_ROOT = 'VOCdevkit/VOC2012/'
SBD_ROOT = 'benchmark_RELEASE/'


def scene(seed, height=20, width=28, num_classes=3, ignore_border=False):
  """(uint8 RGB image [H, W, 3], uint8 ids [H, W]) of random rectangles."""
  rng = np.random.RandomState(seed)
  ids = np.zeros((height, width), np.uint8)
  for _ in range(3):
    top, left = rng.randint(0, height - 4), rng.randint(0, width - 4)
    ids[top:top + rng.randint(3, 8), left:left + rng.randint(3, 10)] = (
        rng.randint(1, num_classes))
  image = np.stack([ids * 60, 255 - ids * 60, np.full_like(ids, 90)], -1)
  if ignore_border:  # VOC marks object outlines as ignored
    edges = np.zeros_like(ids, bool)
    edges[:, 1:] |= ids[:, 1:] != ids[:, :-1]
    edges[1:, :] |= ids[1:, :] != ids[:-1, :]
    ids = np.where(edges, 255, ids).astype(np.uint8)
  return image.astype(np.uint8), ids


def png(array, palette=False):
  """PNG bytes of uint8 pixels: RGB for [H, W, 3]; for [H, W] ids a
  1-channel PNG, or with `palette` a palette PNG whose indices are the ids
  (as VOC's masks; its colours are arbitrary)."""
  if palette:
    height, width = array.shape
    image = Image.frombytes('P', (width, height), array.tobytes())
    image.putpalette([(i * c) % 256 for i in range(256) for c in (1, 3, 7)])
  else:
    image = Image.fromarray(array)
  out = io.BytesIO()
  image.save(out, format='PNG')
  return out.getvalue()


def jpeg(array):
  out = io.BytesIO()
  Image.fromarray(array).save(out, format='JPEG', quality=95)
  return out.getvalue()


def write(path, data):
  os.makedirs(os.path.dirname(path), exist_ok=True)
  with open(path, 'wb') as f:
    f.write(data)


def segmentation_folder(root, num_pairs=6, class_names=('bg', 'a', 'b')):
  """class_names.txt, images/ and palette masks/; returns {stem: ids}."""
  write(os.path.join(root, 'class_names.txt'),
        ('\n'.join(class_names) + '\n').encode())
  masks = {}
  for i in range(num_pairs):
    image, ids = scene(i, num_classes=len(class_names))
    stem = 'pair_%02d' % i
    write(os.path.join(root, 'images', stem + '.png'), png(image))
    write(os.path.join(root, 'masks', stem + '.png'), png(ids, palette=True))
    masks[stem] = ids
  return masks


def voc_tree(root, train_ids, val_ids, masked_ids=None):
  """A VOC 2012 tree: the two id lists, a JPEG for each id and a palette
  mask (with ignored outlines) for each of `masked_ids` (default all).
  Returns {id: (image, ids)}."""
  base = os.path.join(root, VOC_ROOT)
  write(base + 'ImageSets/Segmentation/train.txt',
        ''.join(i + '\n' for i in train_ids).encode())
  write(base + 'ImageSets/Segmentation/val.txt',
        ''.join(i + '\n' for i in val_ids).encode())
  pairs = {}
  for n, image_id in enumerate(sorted(set(train_ids) | set(val_ids) |
                                      set(masked_ids or ()))):
    image, ids = scene(n, height=18 + n % 3, width=24, num_classes=21,
                       ignore_border=True)
    write(base + 'JPEGImages/%s.jpg' % image_id, jpeg(image))
    if masked_ids is None or image_id in masked_ids:
      write(base + 'SegmentationClass/%s.png' % image_id,
            png(ids, palette=True))
    pairs[image_id] = (image, ids)
  return pairs


def sbd_tree(root, train_ids, val_ids, shapes):
  """SBD's dataset/{train,val}.txt and cls/<id>.mat (GTcls.Segmentation)
  for every id, with `shapes[id]` = (H, W); returns {id: ids}."""
  base = os.path.join(root, SBD_ROOT, 'dataset')
  write(os.path.join(base, 'train.txt'),
        ''.join(i + '\n' for i in train_ids).encode())
  write(os.path.join(base, 'val.txt'),
        ''.join(i + '\n' for i in val_ids).encode())
  labels = {}
  for n, image_id in enumerate(sorted(set(train_ids) | set(val_ids))):
    ids = np.zeros(shapes[image_id], np.uint8)
    ids[2:6, 3:9] = 1 + n % 20
    out = io.BytesIO()
    scipy_io.savemat(out, {'GTcls': {'Segmentation': ids,
                                      'Boundaries': np.zeros(1)}})
    write(os.path.join(base, 'cls', image_id + '.mat'), out.getvalue())
    labels[image_id] = ids
  return labels


def tar(directory, path, mode='w'):
  """Packs everything under `directory` into the tar at `path`."""
  with tarfile.open(path, mode) as archive:
    for name in sorted(os.listdir(directory)):
      archive.add(os.path.join(directory, name), arcname=name)
  return path
