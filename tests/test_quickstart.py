"""Tests of quickstart.py, the main job, end to end in subprocesses.

A short run (30 steps instead of 600) must convert the digits on first use,
train, evaluate and print its accuracy; run again, it must reuse the
converted data and the finished checkpoint, training no further.
"""

import os
import re
import subprocess
import sys

import pytest

# Every test here starts Python processes that load TensorFlow.
pytestmark = pytest.mark.slow

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_SCRIPT = os.path.join(_ROOT, 'quickstart.py')
_STEPS = 30
_ACCURACY = re.compile(
    r'Top-1 accuracy on 300 validation digits: ([\d.]+)% \(top-5 ([\d.]+)%\), '
    r'step (\d+)')


# Every line the classification job prints; anything else is foreign.
_OWN_LINE = re.compile(
    r'(Converting the digits to |Using the digits in |Training '
    r'resnet_v2_cifar_20 for |step \d+: loss = |train_dir .* is already at '
    r'step |Top-1 accuracy on |Writing digits/|Evaluating digits/)')


def _quickstart(dataset_dir, train_dir):
  """(exit code, output) of the job, in a user's environment."""
  env = {k: v for k, v in os.environ.items() if k != 'TF_CPP_MIN_LOG_LEVEL'}
  process = subprocess.run(
      [sys.executable, _SCRIPT, '--dataset_dir=%s' % dataset_dir,
       '--train_dir=%s' % train_dir, '--max_number_of_steps=%d' % _STEPS],
      cwd=_ROOT, env=env, capture_output=True, text=True, timeout=300)
  return process.returncode, process.stdout + process.stderr


def _foreign_lines(output):
  return [line for line in output.splitlines() if not _OWN_LINE.match(line)]


def _checkpoint_files(train_dir):
  """{name: bytes} of the checkpoint files (the eval results are rewritten)."""
  files = {}
  for name in os.listdir(train_dir):
    if name.startswith('model.ckpt') or name == 'checkpoint':
      with open(os.path.join(train_dir, name), 'rb') as f:
        files[name] = f.read()
  return files


@pytest.fixture(scope='module')
def first_run(tmp_path_factory):
  root = tmp_path_factory.mktemp('quickstart')
  dataset_dir, train_dir = root / 'data' / 'digits', root / 'runs' / 'digits'
  code, output = _quickstart(dataset_dir, train_dir)
  return dataset_dir, train_dir, code, output


def test_first_run_converts_trains_and_evaluates(first_run):
  dataset_dir, train_dir, code, output = first_run
  assert code == 0, output
  assert 'Converting the digits to %s' % dataset_dir in output
  assert 'Using the digits' not in output
  assert (dataset_dir / 'dataset_info.json').is_file()
  assert 'Training resnet_v2_cifar_20 for %d steps' % _STEPS in output
  match = _ACCURACY.search(output)
  assert match, output
  top1, top5, step = float(match[1]), float(match[2]), int(match[3])
  assert step == _STEPS
  assert 0 <= top1 <= top5 <= 100
  assert (train_dir / ('model.ckpt-%d.index' % _STEPS)).is_file()
  assert (train_dir / 'eval' / 'eval_results.json').is_file()
  assert not _foreign_lines(output), output


def test_second_run_reuses_data_and_checkpoint(first_run):
  """Same data, no further training, and so the very same accuracy."""
  dataset_dir, train_dir, _, first_output = first_run
  data_before = sorted(os.listdir(dataset_dir))
  checkpoints_before = _checkpoint_files(train_dir)
  code, output = _quickstart(dataset_dir, train_dir)
  assert code == 0, output
  assert 'Using the digits in %s' % dataset_dir in output
  assert 'Converting' not in output
  assert 'already at step %d' % _STEPS in output
  assert _ACCURACY.search(output).groups() == (
      _ACCURACY.search(first_output).groups())
  assert not _foreign_lines(output), output
  assert sorted(os.listdir(dataset_dir)) == data_before
  assert _checkpoint_files(train_dir) == checkpoints_before


_MEAN_IOU = re.compile(r'mean IoU on (\d+) validation scenes: ([\d.]+)%$')


def test_segmentation_job_trains_backbone_then_deeplab(tmp_path):
  """--task=segmentation: converts both datasets, trains the backbone
  classifier, then DeepLab from it, evaluates, draws panels, and ends with
  the mean IoU line."""
  scenes, backbone = tmp_path / 'scenes', tmp_path / 'backbone'
  process = subprocess.run(
      [sys.executable, _SCRIPT, '--task=segmentation',
       '--dataset_dir=%s' % scenes, '--train_dir=%s' % (tmp_path / 'seg'),
       '--backbone_dataset_dir=%s' % (tmp_path / 'digits'),
       '--backbone_train_dir=%s' % backbone, '--backbone_steps=10',
       '--max_number_of_steps=6'],
      cwd=_ROOT, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2'),
      capture_output=True, text=True, timeout=600)
  output = process.stdout + process.stderr
  assert process.returncode == 0, output
  assert 'Converting the digit scenes to %s' % scenes in output
  assert 'Training resnet_v2_cifar_20 for 10 steps into %s' % backbone in (
      output)
  assert ('Training DeepLab v3 on resnet_v2_cifar_20 for 6 steps into %s, '
          'the backbone from %s' % (tmp_path / 'seg', backbone)) in output
  match = _MEAN_IOU.search(process.stdout.strip().splitlines()[-1])
  assert match, process.stdout[-2000:]
  assert int(match[1]) == 200 and 0 <= float(match[2]) <= 100
  panels = sorted(os.listdir(tmp_path / 'seg' / 'vis'))
  assert len(panels) == 7 and all(p.endswith('.png') for p in panels)
  assert 'overview.png' in panels
  assert (tmp_path / 'seg' / 'eval' / 'eval_results.json').is_file()
  # The DeepLab run started from the backbone's weights.
  assert (backbone / 'model.ckpt-10.index').is_file()
  assert 'Traceback' not in output
