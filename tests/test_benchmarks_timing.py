"""Tests of `benchmarks.timing`: statistics, interleaving, memory readings."""

import numpy as np
import pytest

from benchmarks import timing


def test_stats_median_low_high():
  s = timing.stats([3.0, 1.0, 2.0, 10.0, 2.5])
  assert s.median == 2.5
  assert (s.low, s.high) == (1.0, 10.0)
  assert s.samples == [3.0, 1.0, 2.0, 10.0, 2.5]
  assert timing.spread_percent(s) == pytest.approx(50.0 * 9.0 / 2.5)
  with pytest.raises(ValueError, match='at least one sample'):
    timing.stats([])


def test_interleave_rotates_order_and_respects_calls():
  """Each round starts with the next runner; calls can differ per runner."""
  log = []
  runners = [(name, (lambda n=name: log.append(n))) for name in 'abc']
  result = timing.interleave(runners, rounds=3, calls={'a': 1, 'b': 2,
                                                       'c': 3})
  assert log == (['a'] + ['b'] * 2 + ['c'] * 3 +
                 ['b'] * 2 + ['c'] * 3 + ['a'] +
                 ['c'] * 3 + ['a'] + ['b'] * 2)
  assert sorted(result) == ['a', 'b', 'c']
  for m in result.values():
    assert len(m.seconds_per_call.samples) == 3
    assert m.peak_rss > 0


def test_interleave_measures_per_call_time():
  """Per-call times are the calls' own: each at least the 20 ms slept, and
  all together no more than the wall time around the whole measurement
  (bounds that hold however busy the machine is)."""
  import time
  start = time.perf_counter()
  result = timing.interleave([('sleep', lambda: time.sleep(0.02))],
                             rounds=2, calls=3)
  elapsed = time.perf_counter() - start
  samples = result['sleep'].seconds_per_call.samples
  assert len(samples) == 2
  assert all(s >= 0.02 for s in samples)
  assert sum(samples) * 3 <= elapsed


def test_interleave_rejects_zero_rounds_or_calls():
  with pytest.raises(ValueError, match='rounds and calls must be >= 1'):
    timing.interleave([('a', lambda: None)], rounds=0, calls=1)
  with pytest.raises(ValueError, match='rounds and calls must be >= 1'):
    timing.interleave([('a', lambda: None)], rounds=1, calls={'a': 0})


def test_peak_rss_sees_an_allocation_and_resets():
  if not timing.reset_peak_rss():
    pytest.skip('this kernel cannot reset the peak resident set')
  before = timing.peak_rss_bytes()
  block = np.ones(64 * 2**20 // 8)  # 64 MiB, touched.
  assert timing.peak_rss_bytes() >= before + 60 * 2**20
  del block
  assert timing.reset_peak_rss()
  assert timing.peak_rss_bytes() < before + 32 * 2**20
  assert timing.rss_bytes() <= timing.peak_rss_bytes()


def test_peak_sampler_sees_a_short_lived_allocation():
  """A block allocated and freed inside the context still counts."""
  with timing.PeakSampler() as sampler:
    start = sampler.peak
    block = np.ones(96 * 2**20 // 8)  # 96 MiB, touched.
    block.sum()
    del block
  assert sampler.peak >= start + 90 * 2**20
