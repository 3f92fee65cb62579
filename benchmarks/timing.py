"""Timing and memory measurement shared by the benchmarks.

Two habits make figures from a small, shared, noisy machine worth quoting:

* Contenders are measured *interleaved*: round after round, each one runs a
  few calls in turn (the order rotating every round), so a slow spell of the
  machine hits all of them instead of whichever happened to run then. Ratios
  between contenders of the same run are what we quote; absolute figures
  drift from run to run.
* Every figure is a median over rounds, reported with its spread (the lowest
  and highest round), never a single best or a mean pulled by one outlier.

Memory is the process's resident set, read from /proc. The kernel's own
peak (VmHWM, resettable by writing 5 to /proc/self/clear_refs) misses
memory that is returned with madvise rather than unmapped, so a
`PeakSampler` thread also reads the current resident set every few
milliseconds while a contender builds or runs; the peak is the higher of
the two.
"""

import collections
import json
import os
import platform
import resource
import sys
import threading
import time

import numpy as np

Stats = collections.namedtuple('Stats', ['median', 'low', 'high', 'samples'])


def stats(samples):
  """Median, lowest and highest of `samples` (a non-empty sequence)."""
  values = np.asarray(list(samples), dtype=np.float64)
  if values.size == 0:
    raise ValueError('stats needs at least one sample.')
  return Stats(float(np.median(values)), float(values.min()),
               float(values.max()), [float(v) for v in values])


def spread_percent(s):
  """Half the (high - low) range as a percentage of the median."""
  if not s.median:
    return 0.0
  return 50.0 * (s.high - s.low) / s.median


def _proc_status_kib(field):
  try:
    with open('/proc/self/status') as f:
      for line in f:
        if line.startswith(field + ':'):
          return int(line.split()[1])
  except OSError:
    pass
  return None


def rss_bytes():
  """Current resident set size of this process, in bytes (None if unknown)."""
  kib = _proc_status_kib('VmRSS')
  return None if kib is None else kib * 1024


def peak_rss_bytes():
  """Peak resident set size since start or the last `reset_peak_rss`."""
  kib = _proc_status_kib('VmHWM')
  if kib is None:  # Not Linux: the lifetime peak is all there is.
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
  return kib * 1024


def reset_peak_rss():
  """Resets the peak to the current RSS; False where the kernel cannot."""
  try:
    with open('/proc/self/clear_refs', 'w') as f:
      f.write('5')
    return True
  except OSError:
    return False


class PeakSampler(object):
  """Context manager: the peak resident set while its block runs.

  `peak` (bytes) is the highest of: a reading at entry, readings every
  `interval` seconds from a background thread, and the kernel's peak
  (reset at entry) at exit. Reading /proc costs microseconds, so the
  sampling does not disturb what is being timed.
  """

  def __init__(self, interval=0.005):
    self.interval = interval
    self.peak = 0
    self._stop = threading.Event()
    self._thread = None

  def _sample(self):
    while not self._stop.wait(self.interval):
      self.peak = max(self.peak, rss_bytes() or 0)

  def __enter__(self):
    reset_peak_rss()
    self.peak = rss_bytes() or 0
    self._thread = threading.Thread(target=self._sample, daemon=True)
    self._thread.start()
    return self

  def __exit__(self, *exc_info):
    self._stop.set()
    self._thread.join()
    self.peak = max(self.peak, rss_bytes() or 0, peak_rss_bytes())
    return False


def time_calls(fn, calls):
  """Seconds taken by `calls` consecutive calls of `fn`."""
  start = time.perf_counter()
  for _ in range(calls):
    fn()
  return time.perf_counter() - start


Measurement = collections.namedtuple(
    'Measurement', ['name', 'seconds_per_call', 'peak_rss'])


def interleave(runners, rounds, calls):
  """Measures several callables round-robin; returns {name: Measurement}.

  Args:
    runners: list of (name, fn) pairs; each fn must already be warmed up
      (graphs built, compiled, first calls done).
    rounds: number of rounds; each round times `calls` calls of every
      runner, starting with a different runner each round.
    calls: calls per runner per round: one number for all, or a dict from
      name to number (so that fast and slow runners are each timed for a
      similar stretch of every round).

  Returns:
    dict name -> Measurement: Stats of seconds per call over the rounds,
    and the highest peak resident set seen while that runner ran.
  """
  if not isinstance(calls, dict):
    calls = {name: calls for name, _ in runners}
  if rounds < 1 or min(calls.values()) < 1:
    raise ValueError('rounds and calls must be >= 1; got %r and %r.'
                     % (rounds, calls))
  seconds = {name: [] for name, _ in runners}
  peaks = {name: 0 for name, _ in runners}
  for r in range(rounds):
    shift = r % len(runners)
    for name, fn in runners[shift:] + runners[:shift]:
      with PeakSampler() as sampler:
        seconds[name].append(time_calls(fn, calls[name]) / calls[name])
      peaks[name] = max(peaks[name], sampler.peak)
  return {name: Measurement(name, stats(seconds[name]), peaks[name])
          for name, _ in runners}


def machine_info():
  """What the figures were measured on."""
  import keras
  import tensorflow as tf2
  cpu = platform.processor() or platform.machine()
  try:
    with open('/proc/cpuinfo') as f:
      for line in f:
        if line.startswith('model name'):
          cpu = line.split(':', 1)[1].strip()
          break
  except OSError:
    pass
  info = {'cpu': cpu, 'cores': os.cpu_count(),
          'python': platform.python_version(),
          'tensorflow': tf2.__version__, 'keras': keras.__version__,
          'onednn': os.environ.get('TF_ENABLE_ONEDNN_OPTS', 'default')}
  # The optional peers' versions, where this process loaded them.
  for name in ('torch', 'onnxruntime', 'openvino'):
    if name in sys.modules:
      info[name] = getattr(sys.modules[name], '__version__', 'unknown')
  return info


def write_report(report, path, log=print):
  """Writes a benchmark's report as JSON to `path` (when set)."""
  if path:
    with open(path, 'w') as f:
      json.dump(report, f, indent=2)
    log('wrote %s' % path)
