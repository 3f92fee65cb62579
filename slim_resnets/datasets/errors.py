"""Errors raised by the `datasets` package.

Every error the package raises on purpose derives from `DatasetError`, so a
command-line tool can print the message (which always names the file,
directory or flag involved) instead of a traceback. Errors about a name the
caller got wrong are also `ValueError`s, and a missing dataset directory is
also a `FileNotFoundError`, so generic handlers keep working.
"""


class DatasetError(Exception):
  """Base class of every error in this package."""


class UnknownDatasetError(DatasetError, ValueError):
  """A dataset name that is not registered in `dataset_factory`."""


class UnknownSplitError(DatasetError, ValueError):
  """A split name the dataset does not have."""


class DatasetNotFoundError(DatasetError, FileNotFoundError):
  """The dataset directory, or the converted dataset inside it, is missing."""


class EmptySplitError(DatasetError):
  """A split whose files are missing or hold no records."""


class CorruptRecordError(DatasetError):
  """A TFRecord file with a truncated, garbled or unparsable record.

  Attributes:
    path: the file.
    record_index: 0-based index of the first bad record in that file.
  """

  def __init__(self, message, path, record_index):
    super().__init__(message)
    self.path = path
    self.record_index = record_index


class DatasetExistsError(DatasetError):
  """Conversion would replace an existing dataset without --overwrite."""


class SourceDataError(DatasetError):
  """The data to convert is unusable (undecodable image, empty class, ...)."""


class DownloadError(DatasetError):
  """A source archive could not be downloaded."""


class MissingDependencyError(DatasetError, ImportError):
  """An optional package a converter needs is not installed."""


class InvalidOptionError(DatasetError, ValueError):
  """A converter option that is missing, out of range or not applicable."""
