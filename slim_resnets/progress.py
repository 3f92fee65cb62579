"""Progress of long loops (conversion, evaluation): count, rate, time left.

A loop that runs longer than AFTER_SECS reports every EVERY_SECS, then once
more when it ends, through the standard logger `slim_resnets.progress` at
INFO level. The library only logs; a program decides whether it is shown
(the scripts print it, see `slim_resnets.console`), so importing the
library never adds output to a user's program. Short loops say nothing.
"""

import logging
import time

LOGGER = logging.getLogger('slim_resnets.progress')
AFTER_SECS = 5.0
EVERY_SECS = 10.0


def _duration(seconds):
  seconds = int(round(seconds))
  if seconds < 60:
    return '%d s' % seconds
  if seconds < 3600:
    return '%d min %02d s' % divmod(seconds, 60)
  hours, rest = divmod(seconds, 3600)
  return '%d h %02d min' % (hours, rest // 60)


class Progress:
  """Counts items of a loop and reports how far it is.

  Args:
    what: what the loop does, e.g. 'Evaluating digits/validation'.
    total: the number of items the loop will do (None: unknown).
    unit: the items' name, plural ('examples', 'records').
    clock: seconds as a float (tests inject their own).
    logger: where reports go.
  """

  def __init__(self, what, total, unit, clock=time.monotonic, logger=LOGGER):
    self.what, self.total, self.unit = what, total, unit
    self.count = 0
    self._clock, self._logger = clock, logger
    self._start = self._last = clock()
    self._reported = False

  def add(self, n=1):
    self.count += n
    now = self._clock()
    if (now - self._start >= AFTER_SECS and
        (not self._reported or now - self._last >= EVERY_SECS)):
      self._last, self._reported = now, True
      self._logger.info(self.message(now))

  def message(self, now=None):
    """'what: count/total unit (rate unit/s, time left left)'."""
    elapsed = (self._clock() if now is None else now) - self._start
    rate = self.count / elapsed if elapsed > 0 else 0.0
    if self.total:
      done = '%d/%d %s' % (self.count, self.total, self.unit)
      left = (', %s left' % _duration((self.total - self.count) / rate)
              if rate > 0 and self.count < self.total else '')
    else:
      done, left = '%d %s' % (self.count, self.unit), ''
    return '%s: %s (%.1f/s%s)' % (self.what, done, rate, left)

  def finish(self):
    """Reports the end, if the loop was long enough to report at all."""
    if self._reported:
      elapsed = self._clock() - self._start
      self._logger.info('%s: %d %s in %s' % (self.what, self.count,
                                             self.unit, _duration(elapsed)))
