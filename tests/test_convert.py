"""Tests of the converters (`slim_resnets.datasets.convert*`) and the writer.

Every source is real and local: scikit-learn's digits, image folders and a
CIFAR-10 archive in the exact python-version format, both written here with
a few tiny images. Nothing touches the network. Written datasets are read
back with TensorFlow's own TFRecord reader and image decoders.
"""

import io
import json
import os
import pickle
import sys
import tarfile

import numpy as np
import pytest
import sklearn.datasets
import tensorflow.compat.v1 as tf

from slim_resnets.datasets import convert
from slim_resnets.datasets import convert_cifar10
from slim_resnets.datasets import convert_digits
from slim_resnets.datasets import convert_image_folder
from slim_resnets.datasets import dataset_info
from slim_resnets.datasets import errors
from slim_resnets.datasets import example_format
from slim_resnets.datasets import image_codec
from slim_resnets.datasets import splitting
from slim_resnets.datasets import tfrecords
from slim_resnets.datasets import writer


def _read_records(dataset_dir, split_name):
  """Every serialized example of a split, in file order."""
  info = dataset_info.read_dataset_info(dataset_dir)
  records = []
  with tfrecords.RecordReader() as reader:
    for name in info['splits'][split_name]['files']:
      records.extend(record for _, record in
                     reader.records(os.path.join(dataset_dir, name)))
  return records


def _read_examples(dataset_dir, split_name):
  """Every example of a split, in file order, as ExampleFields."""
  return [example_format.check_example(r)
          for r in _read_records(dataset_dir, split_name)]


def _decode(encoded, channels=0):
  with tf.Graph().as_default(), tf.Session() as sess:
    return sess.run(tf.io.decode_image(encoded, channels=channels,
                                       expand_animations=False))


def _encode_jpeg(pixels):
  with tf.Graph().as_default(), tf.Session() as sess:
    return sess.run(tf.io.encode_jpeg(pixels, quality=95))


def _snapshot(directory):
  """{relative path: bytes} of every file under directory."""
  files = {}
  for root, _, names in os.walk(directory):
    for name in names:
      path = os.path.join(root, name)
      with open(path, 'rb') as f:
        files[os.path.relpath(path, directory)] = f.read()
  return files


def _hidden_entries(directory):
  return [n for n in os.listdir(directory) if n.startswith('.')]


def test_codec_leaves_the_callers_graph_alone(graph):
  with image_codec.ImageCodec() as codec:
    png = codec.encode_png(_gray(7, 2, 3))
    assert codec.inspect(png, 'x.png') == ('png', 2, 3)
  assert not graph.get_operations()
  with tf.Session(graph=graph):
    pass


# ---------------------------------------------------------------------------
# digits.


@pytest.fixture(scope='module')
def digits_dir(tmp_path_factory):
  path = str(tmp_path_factory.mktemp('digits') / 'data')
  convert_digits.convert(path)
  return path


def test_digits_has_1797_examples_split_1497_300(digits_dir):
  info = dataset_info.read_dataset_info(digits_dir)
  assert info['dataset_name'] == 'digits' and info['num_classes'] == 10
  assert info['image_format'] == 'png'
  assert {k: v['num_samples'] for k, v in info['splits'].items()} == {
      'train': 1497, 'validation': 300}
  assert len(_read_examples(digits_dir, 'train')) == 1497
  assert len(_read_examples(digits_dir, 'validation')) == 300
  assert info['splits']['train']['files'] == [
      'digits_train_00000-of-00002.tfrecord',
      'digits_train_00001-of-00002.tfrecord']
  assert info['splits']['train']['shard_sizes'] == [749, 748]


def test_digits_labels_txt_names_the_ten_digits(digits_dir):
  with open(os.path.join(digits_dir, 'labels.txt')) as f:
    assert f.read() == ('0:zero\n1:one\n2:two\n3:three\n4:four\n5:five\n'
                        '6:six\n7:seven\n8:eight\n9:nine\n')


def test_digits_split_is_stratified_by_class(digits_dir):
  _, labels = convert_digits.load_digits()
  per_class = np.bincount(labels)
  validation = np.bincount(
      [e.label for e in _read_examples(digits_dir, 'validation')],
      minlength=10)
  train = np.bincount([e.label for e in _read_examples(digits_dir, 'train')],
                      minlength=10)
  np.testing.assert_array_equal(train + validation, per_class)
  # Each class holds out its share of 300/1797, rounded one way or the other.
  share = per_class * 300 / 1797
  assert np.all(np.abs(validation - share) < 1)
  info = dataset_info.read_dataset_info(digits_dir)
  assert info['splits']['validation']['class_counts'] == {
      str(c): int(n) for c, n in enumerate(validation)}


def test_digits_pixels_are_sklearns_scaled_to_0_255(digits_dir):
  raw = sklearn.datasets.load_digits()
  expected = np.round(raw.images * 255.0 / 16.0).astype(np.uint8)
  assert raw.images.max() == 16 and expected.max() == 255
  # Records are written in the order of the seeded split.
  train, validation = splitting.stratified_split(raw.target, 300, seed=0)
  for split_name, order in (('train', train), ('validation', validation)):
    examples = _read_examples(digits_dir, split_name)
    for position in (0, 1, len(order) - 1):
      example = examples[position]
      index = order[position]
      assert example.label == raw.target[index]
      pixels = _decode(example.encoded)
      assert pixels.shape == (8, 8, 1)  # Stored as grayscale PNG.
      np.testing.assert_array_equal(pixels[:, :, 0], expected[index])


def test_digits_conversion_is_deterministic(digits_dir, tmp_path):
  again = str(tmp_path / 'again')
  convert_digits.convert(again)
  assert _snapshot(again) == _snapshot(digits_dir)


def test_converting_digits_again_needs_overwrite(digits_dir):
  before = _snapshot(digits_dir)
  with pytest.raises(errors.DatasetExistsError, match='--overwrite') as e:
    convert_digits.convert(digits_dir)
  assert digits_dir in str(e.value)
  assert _snapshot(digits_dir) == before


def test_digits_without_scikit_learn_says_how_to_install_it(monkeypatch,
                                                            tmp_path):
  monkeypatch.setitem(sys.modules, 'sklearn', None)
  with pytest.raises(errors.MissingDependencyError,
                     match=r'pip install .*scikit-learn') as e:
    convert_digits.convert(str(tmp_path / 'd'))
  assert isinstance(e.value, ImportError)
  assert not os.path.exists(tmp_path / 'd')


# ---------------------------------------------------------------------------
# image_folder.


def _gray(value, height=5, width=7):
  return np.full((height, width, 1), value, np.uint8)


def _rgb(seed, height=6, width=4):
  return np.random.RandomState(seed).randint(0, 256, (height, width, 3)
                                             ).astype(np.uint8)


@pytest.fixture
def image_folder(tmp_path):
  """birds: 2 PNG; cats: 3 PNG; dogs: 2 JPEG (.jpg, .JPEG) + a JPEG as .png."""
  root = tmp_path / 'images'
  with image_codec.ImageCodec() as codec:
    files = {
        'cats/c0.png': codec.encode_png(_gray(10)),
        'cats/c1.PNG': codec.encode_png(_gray(20)),
        'cats/c2.png': codec.encode_png(_rgb(1)),
        'birds/b0.png': codec.encode_png(_rgb(2, 3, 9)),
        'birds/b1.png': codec.encode_png(_gray(30)),
        'dogs/d0.jpg': _encode_jpeg(_rgb(3, 16, 8)),
        'dogs/d1.JPEG': _encode_jpeg(_rgb(4)),
        'dogs/really_a_jpeg.png': _encode_jpeg(_rgb(5)),
        'dogs/notes.txt': b'not an image, ignored',
        '.hidden/x.png': codec.encode_png(_gray(1)),
    }
  for name, data in files.items():
    (root / name).parent.mkdir(parents=True, exist_ok=True)
    (root / name).write_bytes(data)
  return str(root)


def _all_examples(dataset_dir):
  info = dataset_info.read_dataset_info(dataset_dir)
  return [e for split in info['splits'] for e in _read_examples(dataset_dir,
                                                                split)]


def test_image_folder_class_ids_follow_sorted_folder_names(image_folder,
                                                           tmp_path):
  out = str(tmp_path / 'out')
  info = convert_image_folder.convert(out, image_folder,
                                      validation_fraction=0.25)
  with open(os.path.join(out, 'labels.txt')) as f:
    assert f.read() == '0:birds\n1:cats\n2:dogs\n'
  assert info['num_classes'] == 3 and info['image_format'] == 'mixed'
  # 8 images, round(8 * 0.25) = 2 for validation.
  assert info['splits']['train']['num_samples'] == 6
  assert info['splits']['validation']['num_samples'] == 2
  examples = _all_examples(out)
  assert sorted(e.label for e in examples) == [0, 0, 1, 1, 1, 2, 2, 2]


def test_image_folder_stores_original_bytes_format_and_size(image_folder,
                                                            tmp_path):
  out = str(tmp_path / 'out')
  convert_image_folder.convert(out, image_folder, validation_fraction=0)
  assert list(dataset_info.read_dataset_info(out)['splits']) == ['train']
  by_bytes = {e.encoded: e for e in _all_examples(out)}
  for class_id, class_name in enumerate(['birds', 'cats', 'dogs']):
    folder = os.path.join(image_folder, class_name)
    for name in os.listdir(folder):
      if name.endswith('.txt'):
        continue
      with open(os.path.join(folder, name), 'rb') as f:
        example = by_bytes[f.read()]
      assert example.label == class_id
      expected_format = 'png' if class_name != 'dogs' else 'jpeg'
      assert example.image_format == expected_format
  # Height and width are those of the decoded image.
  for record in _read_records(out, 'train'):
    feature = tf.train.Example.FromString(record).features.feature
    image = _decode(feature['image/encoded'].bytes_list.value[0])
    assert (feature['image/height'].int64_list.value[0],
            feature['image/width'].int64_list.value[0]) == image.shape[:2]
    class_id = feature['image/class/label'].int64_list.value[0]
    assert feature['image/class/text'].bytes_list.value[0] == [
        b'birds', b'cats', b'dogs'][class_id]


def test_image_folder_undecodable_image_is_an_error_naming_it(image_folder,
                                                              tmp_path):
  bad = os.path.join(image_folder, 'cats', 'c1.PNG')
  with open(bad, 'rb') as f:
    data = f.read()
  with open(bad, 'wb') as f:
    f.write(data[:len(data) // 2])
  out = str(tmp_path / 'out')
  with pytest.raises(errors.SourceDataError, match='skip_undecodable') as e:
    convert_image_folder.convert(out, image_folder)
  assert bad in str(e.value)
  assert not os.path.exists(out)
  # Only when asked, such a file is left out.
  info = convert_image_folder.convert(out, image_folder,
                                      validation_fraction=0,
                                      skip_undecodable=True)
  assert info['splits']['train']['num_samples'] == 7


def test_image_folder_rejects_files_that_are_no_png_or_jpeg(image_folder,
                                                            tmp_path):
  gif = os.path.join(image_folder, 'birds', 'b2.jpg')
  with open(gif, 'wb') as f:
    f.write(b'GIF89a\x01\x00\x01\x00')
  with pytest.raises(errors.SourceDataError, match='not a PNG or JPEG') as e:
    convert_image_folder.convert(str(tmp_path / 'out'), image_folder)
  assert gif in str(e.value)


def test_image_folder_empty_class_is_an_error_naming_it(image_folder,
                                                        tmp_path):
  empty = os.path.join(image_folder, 'eels')
  os.mkdir(empty)
  with open(os.path.join(empty, 'readme.md'), 'w') as f:
    f.write('no images yet')
  with pytest.raises(errors.SourceDataError, match='has no images') as e:
    convert_image_folder.convert(str(tmp_path / 'out'), image_folder)
  assert empty in str(e.value)


def test_image_folder_missing_source_dir_is_an_error(tmp_path):
  with pytest.raises(errors.SourceDataError, match='does not exist'):
    convert_image_folder.convert(str(tmp_path / 'out'),
                                 str(tmp_path / 'nowhere'))


def test_failed_conversion_leaves_the_previous_dataset_untouched(
    image_folder, tmp_path):
  out = tmp_path / 'out'
  convert_image_folder.convert(str(out), image_folder)
  (out / 'train').mkdir()
  (out / 'train' / 'model.ckpt').write_bytes(b'weights')
  before = _snapshot(str(out))
  # A corrupt image in the last class: found after the earlier ones passed.
  last = os.path.join(image_folder, 'dogs', 'zz_last.jpg')
  with open(last, 'wb') as f:
    f.write(_encode_jpeg(_rgb(6))[:40])
  with pytest.raises(errors.SourceDataError) as e:
    convert_image_folder.convert(str(out), image_folder, overwrite=True)
  assert last in str(e.value)
  assert _snapshot(str(out)) == before
  assert not _hidden_entries(str(out))


# ---------------------------------------------------------------------------
# cifar10.


def _pickle_member(tar, name, obj):
  data = pickle.dumps(obj, protocol=2)
  member = tarfile.TarInfo('cifar-10-batches-py/' + name)
  member.size = len(data)
  tar.addfile(member, io.BytesIO(data))


def _write_cifar_archive(path, batches, test, label_names, extra=None):
  """A cifar-10-python.tar.gz: data_batch_<i> for each batch, test_batch."""
  with tarfile.open(path, 'w:gz') as tar:
    for i, (data, labels) in enumerate(batches, start=1):
      _pickle_member(tar, 'data_batch_%d' % i,
                     {b'batch_label': b'training batch %d of 5' % i,
                      b'labels': list(labels), b'data': data,
                      b'filenames': [b'x.png'] * len(labels)})
    if test is not None:
      _pickle_member(tar, 'test_batch', {b'labels': list(test[1]),
                                         b'data': test[0]})
    _pickle_member(tar, 'batches.meta', {
        b'label_names': [n.encode() for n in label_names],
        b'num_cases_per_batch': 10000, b'num_vis': 3072})
    for name, obj in (extra or {}).items():
      _pickle_member(tar, name, obj)


_CIFAR_NAMES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog',
                'frog', 'horse', 'ship', 'truck']


@pytest.fixture
def cifar_archive(tmp_path):
  rng = np.random.RandomState(0)
  batches = [(rng.randint(0, 256, (n, 3072)).astype(np.uint8),
              rng.randint(0, 10, n)) for n in (3, 2)]
  test = (rng.randint(0, 256, (2, 3072)).astype(np.uint8), [9, 0])
  path = str(tmp_path / convert_cifar10.ARCHIVE_NAME)
  _write_cifar_archive(path, batches, test, _CIFAR_NAMES)
  return path, batches, test


def test_cifar10_pixels_are_channel_major_rows_as_rgb(cifar_archive,
                                                      tmp_path):
  archive, batches, test = cifar_archive
  out = str(tmp_path / 'out')
  info = convert_cifar10.convert(out, archive=archive)
  assert {k: v['num_samples'] for k, v in info['splits'].items()} == {
      'train': 5, 'test': 2}
  rows = np.concatenate([data for data, _ in batches])
  labels = np.concatenate([lbl for _, lbl in batches])
  train = _read_examples(out, 'train')
  for row, label, example in zip(rows, labels, train):
    assert example.label == label and example.image_format == 'png'
    image = _decode(example.encoded)
    assert image.shape == (32, 32, 3)
    # Row layout: all red values (row-major), then green, then blue.
    for y, x in ((0, 0), (0, 1), (5, 17), (31, 31)):
      assert tuple(image[y, x]) == (row[32 * y + x], row[1024 + 32 * y + x],
                                    row[2048 + 32 * y + x])
    np.testing.assert_array_equal(image, row.reshape(3, 32, 32).transpose(
        1, 2, 0))
  test_examples = _read_examples(out, 'test')
  assert [e.label for e in test_examples] == [9, 0]
  np.testing.assert_array_equal(_decode(test_examples[1].encoded),
                                convert_cifar10.to_images(test[0])[1])
  with open(os.path.join(out, 'labels.txt')) as f:
    assert f.read().splitlines() == ['%d:%s' % (i, n)
                                     for i, n in enumerate(_CIFAR_NAMES)]


def test_cifar10_archive_without_test_batch_is_an_error(tmp_path):
  path = str(tmp_path / 'partial.tar.gz')
  _write_cifar_archive(
      path, [(np.zeros((1, 3072), np.uint8), [0])], None, _CIFAR_NAMES)
  with pytest.raises(errors.SourceDataError,
                     match='cifar-10-batches-py/test_batch') as e:
    convert_cifar10.convert(str(tmp_path / 'out'), archive=path)
  assert path in str(e.value)
  assert not os.path.exists(tmp_path / 'out')


def test_cifar10_archive_cannot_run_code_when_unpickled(tmp_path):
  path = str(tmp_path / 'evil.tar.gz')
  batch = {b'data': np.zeros((1, 3072), np.uint8), b'labels': [0],
           b'trap': os.system}
  _write_cifar_archive(path, [], (np.zeros((1, 3072), np.uint8), [0]),
                       _CIFAR_NAMES, extra={'data_batch_1': batch})
  with pytest.raises(errors.SourceDataError, match='not allowed'):
    convert_cifar10.convert(str(tmp_path / 'out'), archive=path)


def test_cifar10_download_failure_says_to_pass_archive(tmp_path):
  out = tmp_path / 'out'
  # Port 9 (discard) on the loopback interface: refused at once, offline.
  with pytest.raises(errors.DownloadError, match='--archive=') as e:
    convert_cifar10.convert(str(out), url='http://127.0.0.1:9/cifar.tar.gz')
  assert '127.0.0.1:9' in str(e.value)
  assert not out.exists()


# ---------------------------------------------------------------------------
# The writer: sharding, overwrite protection, atomicity.


def _records(labels, fail_at=None):
  """Serialized 2x2 examples with the given labels; raises at fail_at."""
  with image_codec.ImageCodec() as codec:
    for i, label in enumerate(labels):
      if i == fail_at:
        raise RuntimeError('source broke at record %d' % i)
      yield example_format.encode_example(
          codec.encode_png(_gray(i, 2, 2)), 'png', label, 2, 2)


def _write(dataset_dir, labels, num_shards, fail_at=None, **kwargs):
  return writer.write_dataset(
      dataset_dir, 'tiny',
      {'train': writer.SplitRecords(len(labels), _records(labels, fail_at))},
      {0: 'a', 1: 'b'}, num_shards, **kwargs)


def test_shard_sizes_are_even_and_never_empty():
  assert writer.shard_sizes(10, 3) == [4, 3, 3]
  assert writer.shard_sizes(2, 5) == [1, 1]
  assert writer.shard_sizes(7, 1) == [7]
  assert writer.shard_sizes(0, 4) == []


def test_writer_names_shards_and_describes_them(tmp_path):
  info = _write(str(tmp_path), [0, 1, 1, 0, 1], 2)
  assert info['splits']['train'] == {
      'num_samples': 5,
      'files': ['tiny_train_00000-of-00002.tfrecord',
                'tiny_train_00001-of-00002.tfrecord'],
      'shard_sizes': [3, 2], 'class_counts': {'0': 2, '1': 3}}
  with open(tmp_path / 'dataset_info.json') as f:
    assert json.load(f) == info
  assert sorted(os.listdir(tmp_path)) == sorted(
      ['dataset_info.json', 'labels.txt'] + info['splits']['train']['files'])


def test_existing_dataset_is_kept_without_overwrite(tmp_path):
  _write(str(tmp_path), [0, 1, 0], 3)
  before = _snapshot(str(tmp_path))
  with pytest.raises(errors.DatasetExistsError) as e:
    _write(str(tmp_path), [1, 1], 1)
  assert str(tmp_path) in str(e.value) and '--overwrite' in str(e.value)
  assert _snapshot(str(tmp_path)) == before
  assert not _hidden_entries(str(tmp_path))


def test_overwrite_replaces_the_dataset_and_keeps_other_files(tmp_path):
  _write(str(tmp_path), [0, 1, 0], 3)
  (tmp_path / 'train').mkdir()
  (tmp_path / 'train' / 'checkpoint').write_text('keep me')
  (tmp_path / 'notes.md').write_text('keep me too')
  (tmp_path / 'mine.tfrecord').write_bytes(b'not described, so not ours')
  info = _write(str(tmp_path), [1, 1], 1, overwrite=True)
  assert sorted(os.listdir(tmp_path)) == [
      'dataset_info.json', 'labels.txt', 'mine.tfrecord', 'notes.md',
      'tiny_train_00000-of-00001.tfrecord', 'train']
  assert (tmp_path / 'train' / 'checkpoint').read_text() == 'keep me'
  assert info['splits']['train']['num_samples'] == 2
  assert [e.label for e in _read_examples(str(tmp_path), 'train')] == [1, 1]


def test_failure_mid_write_leaves_nothing_behind(tmp_path):
  fresh = tmp_path / 'fresh'
  with pytest.raises(RuntimeError, match='record 4'):
    _write(str(fresh), [0, 1, 0, 1, 0, 1], 3, fail_at=4)
  assert not fresh.exists()  # The call created it, and removed it again.

  kept = tmp_path / 'kept'
  _write(str(kept), [0, 0], 1)
  before = _snapshot(str(kept))
  with pytest.raises(RuntimeError, match='record 4'):
    _write(str(kept), [0, 1, 0, 1, 0, 1], 3, fail_at=4, overwrite=True)
  assert _snapshot(str(kept)) == before
  assert not _hidden_entries(str(kept))


def test_failed_commit_puts_the_old_dataset_back(tmp_path, monkeypatch):
  _write(str(tmp_path), [0, 1, 0], 3)
  before = _snapshot(str(tmp_path))
  real_replace = os.replace
  calls = []

  def flaky_replace(src, dst):
    calls.append(src)
    if len(calls) == 7:  # 5 old files moved aside, then the 2nd new one.
      raise OSError('disk went away')
    real_replace(src, dst)

  monkeypatch.setattr(os, 'replace', flaky_replace)
  with pytest.raises(OSError, match='disk went away'):
    _write(str(tmp_path), [1, 1, 1, 1], 2, overwrite=True)
  monkeypatch.setattr(os, 'replace', real_replace)
  assert _snapshot(str(tmp_path)) == before
  assert not _hidden_entries(str(tmp_path))


# ---------------------------------------------------------------------------
# convert: the dispatcher behind the command line.


def test_convert_rejects_options_of_other_converters(tmp_path):
  with pytest.raises(errors.InvalidOptionError,
                     match='--source_dir does not apply to digits'):
    convert.convert('digits', str(tmp_path), source_dir='x')
  with pytest.raises(errors.InvalidOptionError,
                     match='image_folder needs --source_dir'):
    convert.convert('image_folder', str(tmp_path))
  with pytest.raises(errors.InvalidOptionError, match='validation_fraction'):
    convert.convert('digits', str(tmp_path), validation_fraction=1.5)
  with pytest.raises(errors.InvalidOptionError, match='num_shards'):
    convert.convert('digits', str(tmp_path), num_shards=0)
  with pytest.raises(errors.UnknownDatasetError, match='build_imagenet_data'):
    convert.convert('imagenet', str(tmp_path))
  with pytest.raises(errors.UnknownDatasetError,
                     match='cifar10, digit_scenes, digits'):
    convert.convert('mnist', str(tmp_path))
  assert os.listdir(tmp_path) == []


def test_convert_passes_options_to_the_converter(image_folder, tmp_path):
  info = convert.convert('image_folder', str(tmp_path / 'out'),
                         source_dir=image_folder, num_shards=1, seed=None,
                         validation_fraction=0.5, archive=None)
  assert info['splits']['validation']['num_samples'] == 4
  assert 'validation  ' in convert.describe(info, str(tmp_path / 'out'))
