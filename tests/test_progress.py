"""Tests of `slim_resnets.progress`, with a clock the test moves by hand."""

import io
import logging

import numpy as np
import pytest

from slim_resnets import console
from slim_resnets import progress
from slim_resnets.datasets import example_format
from slim_resnets.datasets import image_codec
from slim_resnets.datasets import writer


class _Clock:

  def __init__(self):
    self.now = 100.0

  def __call__(self):
    return self.now


@pytest.fixture
def reports(caplog):
  caplog.set_level(logging.INFO, logger=progress.LOGGER.name)
  return lambda: [r.getMessage() for r in caplog.records
                  if r.name == progress.LOGGER.name]


def test_a_short_loop_says_nothing(reports):
  clock = _Clock()
  p = progress.Progress('Writing x/train', 10, 'records', clock=clock)
  for _ in range(10):
    clock.now += 0.1
    p.add()
  p.finish()
  assert reports() == []


def test_a_long_loop_reports_count_rate_and_time_left(reports):
  clock = _Clock()
  p = progress.Progress('Evaluating digits/validation', 300, 'examples',
                        clock=clock)
  for _ in range(30):  # 10 examples per second
    clock.now += 1.0
    p.add(10)
  p.finish()
  assert reports() == [
      # First at AFTER_SECS (5 s), then every EVERY_SECS (10 s), then the end.
      'Evaluating digits/validation: 50/300 examples (10.0/s, 25 s left)',
      'Evaluating digits/validation: 150/300 examples (10.0/s, 15 s left)',
      'Evaluating digits/validation: 250/300 examples (10.0/s, 5 s left)',
      'Evaluating digits/validation: 300 examples in 30 s']


def test_unknown_total_and_long_durations(reports):
  clock = _Clock()
  p = progress.Progress('Reading', None, 'records', clock=clock)
  clock.now += 4000
  p.add(8000)
  assert reports() == ['Reading: 8000 records (2.0/s)']
  p = progress.Progress('Writing', 100, 'records', clock=clock)
  clock.now += 125
  p.add(1)
  assert reports()[-1] == 'Writing: 1/100 records (0.0/s, 3 h 26 min left)'
  clock.now += 5
  p.finish()
  assert reports()[-1] == 'Writing: 1 records in 2 min 10 s'


def test_the_writer_reports_each_split(tmp_path, reports, monkeypatch):
  """Through the real writer: one report per record, then the end line."""
  monkeypatch.setattr(progress, 'AFTER_SECS', 0.0)
  monkeypatch.setattr(progress, 'EVERY_SECS', 0.0)
  with image_codec.ImageCodec() as codec:
    records = [example_format.encode_example(
        codec.encode_png(np.full((3, 2), i, np.uint8)), 'png', i % 2, 3, 2)
               for i in range(3)]
  writer.write_dataset(
      str(tmp_path / 'data'), 'image_folder',
      {'train': writer.SplitRecords(3, iter(records))}, {0: 'a', 1: 'b'},
      num_shards=1)
  lines = reports()
  assert [line.split(' (')[0] for line in lines[:3]] == [
      'Writing image_folder/train: %d/3 records' % n for n in (1, 2, 3)]
  assert lines[-1].startswith('Writing image_folder/train: 3 records in ')


def test_the_scripts_print_reports_on_stdout(monkeypatch):
  logger = logging.getLogger('test_progress.script')
  monkeypatch.setattr(progress, 'LOGGER', logger)
  stream = io.StringIO()
  console.show_progress(stream)
  try:
    clock = _Clock()
    p = progress.Progress('Writing', 2, 'records', clock=clock, logger=logger)
    clock.now += 6
    p.add()
    assert stream.getvalue() == 'Writing: 1/2 records (0.2/s, 6 s left)\n'
  finally:
    logger.handlers.clear()
