"""Tests of the `download_and_convert_data.py` command line, in subprocesses.

Each run starts a fresh interpreter that imports TensorFlow (several seconds
on a small machine), so the runs are few, started together in one fixture
and checked by the tests afterwards. What the command line calls (the
converters, overwrite protection, verification) is tested in-process in
test_convert.py and test_datasets.py.
"""

import os
import subprocess
import sys

import numpy as np
import pytest

from slim_resnets import console
from slim_resnets.datasets import dataset_factory
from slim_resnets.datasets import example_format
from slim_resnets.datasets import image_codec
from slim_resnets.datasets import verify
from slim_resnets.datasets import writer

# Every test here starts Python processes that load TensorFlow.
pytestmark = pytest.mark.slow

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_SCRIPT = os.path.join(_REPO, 'download_and_convert_data.py')


def _write_small_dataset(dataset_dir, name='digits'):
  with image_codec.ImageCodec() as codec:
    records = [example_format.encode_example(
        codec.encode_png(np.full((8, 8), i, np.uint8)), 'png', i, 8, 8)
               for i in range(4)]
  writer.write_dataset(dataset_dir, name,
                       {'train': writer.SplitRecords(4, iter(records))},
                       {i: str(i) for i in range(10)}, num_shards=2)


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
  """Starts every command line at once; returns {case: (rc, out, err)}."""
  root = tmp_path_factory.mktemp('cli')
  damaged = str(root / 'damaged')
  _write_small_dataset(damaged)
  shard = os.path.join(damaged, 'digits_train_00001-of-00002.tfrecord')
  with open(shard, 'rb') as f:
    data = f.read()
  with open(shard, 'wb') as f:
    f.write(data[:-10])
  cases = {
      'digits': ['--dataset_name=digits', '--dataset_dir=%s' % (root / 'new'),
                 '--num_shards=1'],
      'unknown_name': ['--dataset_name=mnist', '--dataset_dir=%s' % root],
      'verify_damaged': ['--dataset_name=digits',
                         '--dataset_dir=%s' % damaged, '--verify_only'],
  }
  processes = {
      case: subprocess.Popen([sys.executable, _SCRIPT] + args, cwd=_REPO,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
      for case, args in cases.items()}
  results = {}
  for case, process in processes.items():
    out, err = process.communicate(timeout=300)
    results[case] = (process.returncode, out, err)
  results['paths'] = {'root': str(root), 'shard': shard}
  return results


def test_converts_digits(runs):
  rc, out, err = runs['digits']
  assert rc == 0, err
  assert 'train         1497 examples in 1 files' in out
  assert 'validation     300 examples in 1 files' in out
  dataset_dir = os.path.join(runs['paths']['root'], 'new')
  assert verify.verify_dataset('digits', dataset_dir) == {
      'train': 1497, 'validation': 300}
  split = dataset_factory.get_split('digits', 'train', dataset_dir)
  assert len(split.files) == 1 and split.num_classes == 10


def test_unknown_dataset_name_fails_listing_the_choices(runs):
  rc, _, err = runs['unknown_name']
  assert rc == console.USAGE_ERROR
  assert 'mnist' in err
  assert '<%s>' % '|'.join(dataset_factory.DATASETS) in err


def test_verify_only_names_the_damaged_file(runs):
  rc, _, err = runs['verify_damaged']
  assert rc == console.DATA_ERROR
  assert 'error: %s: record 1 cannot be read' % runs['paths']['shard'] in err
