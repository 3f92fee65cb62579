"""Tests of `slim_resnets.training.config`: dataclasses that are also flags.

The scripts define one absl flag per dataclass field and read the parsed
flags back; these tests use a fresh `flags.FlagValues()` each, so they
neither see nor disturb the process-wide FLAGS.
"""

import dataclasses
import typing

from absl import flags
import pytest

from slim_resnets.training import config as config_lib

_CONFIGS = [config_lib.TrainConfig, config_lib.EvalConfig]


class _Module:
  """Stands in for the absl `flags` module, defining into `flag_values`."""

  def __init__(self, flag_values):
    self.flag_values = flag_values

  def __getattr__(self, name):
    define = getattr(flags, name)

    def define_here(*args, **kwargs):
      return define(*args, flag_values=self.flag_values, **kwargs)

    return define_here


def _defined(config_class, skip=()):
  flag_values = flags.FlagValues()
  config_lib.define_flags(config_class, _Module(flag_values), skip=skip)
  return flag_values


@pytest.mark.parametrize('config_class', _CONFIGS)
def test_one_flag_per_field_with_same_default_and_help(config_class):
  """Existing command lines keep working: names and defaults are the fields'."""
  flag_values = _defined(config_class)
  fields = dataclasses.fields(config_class)
  assert sorted(flag_values) == sorted(f.name for f in fields)
  for field in fields:
    flag = flag_values[field.name]
    assert flag.default == field.default, field.name
    assert flag.help == field.metadata['help']
    assert field.metadata['help'], field.name


@pytest.mark.parametrize('config_class', _CONFIGS)
def test_flag_types_follow_field_types(config_class):
  """bool fields are boolean flags (--noX works); Optional[int] is an int."""
  flag_values = _defined(config_class)
  expected = {
      bool: flags.BooleanFlag,
      int: flags.Flag, typing.Optional[int]: flags.Flag,
      float: flags.Flag, typing.Optional[float]: flags.Flag,
      str: flags.Flag, typing.Optional[str]: flags.Flag,
  }
  parsers = {int: flags.IntegerParser, typing.Optional[int]:
             flags.IntegerParser, float: flags.FloatParser,
             typing.Optional[float]: flags.FloatParser}
  for field in dataclasses.fields(config_class):
    flag = flag_values[field.name]
    assert isinstance(flag, expected[field.type]), field.name
    if field.type in parsers:
      assert isinstance(flag.parser, parsers[field.type]), field.name
  if config_class is config_lib.TrainConfig:
    assert isinstance(flag_values['random_flip'], flags.BooleanFlag)
    assert isinstance(flag_values['ignore_missing_vars'], flags.BooleanFlag)
    assert flag_values['max_number_of_steps'].default is None


@pytest.mark.parametrize('config_class', _CONFIGS)
def test_defaults_round_trip(config_class):
  """Parsing no arguments gives exactly the dataclass defaults."""
  flag_values = _defined(config_class)
  flag_values(['prog'])
  assert config_lib.from_flags(config_class, flag_values) == config_class()


def test_parsed_flags_give_config():
  """Strings, Optional ints and --noX booleans parse into typed fields."""
  flag_values = _defined(config_lib.TrainConfig)
  flag_values(['prog', '--optimizer=adam', '--max_number_of_steps=7',
               '--norandom_flip', '--learning_rate=0.5',
               '--train_image_size=16', '--ignore_missing_vars',
               '--checkpoint_exclude_scopes=a/logits,b'])
  config = config_lib.from_flags(config_lib.TrainConfig, flag_values)
  assert config == dataclasses.replace(
      config_lib.TrainConfig(), optimizer='adam', max_number_of_steps=7,
      random_flip=False, learning_rate=0.5, train_image_size=16,
      ignore_missing_vars=True, checkpoint_exclude_scopes='a/logits,b')
  assert isinstance(config.max_number_of_steps, int)
  assert config.random_flip is False


def test_bad_flag_value_is_rejected_at_parse_time():
  flag_values = _defined(config_lib.TrainConfig)
  with pytest.raises(flags.IllegalFlagValueError):
    flag_values(['prog', '--max_number_of_steps=seven'])


def test_skip_and_overrides():
  """Skipped fields keep their dataclass default; overrides win over flags."""
  flag_values = _defined(config_lib.EvalConfig, skip=('eval_dir',))
  assert 'eval_dir' not in flag_values
  flag_values(['prog', '--batch_size=7', '--model_name=resnet_v1_18'])
  config = config_lib.from_flags(config_lib.EvalConfig, flag_values,
                                 model_name='resnet_v2_18')
  assert config.eval_dir == config_lib.EvalConfig().eval_dir
  assert config.batch_size == 7
  assert config.model_name == 'resnet_v2_18'


def test_unsupported_field_type_is_a_type_error():
  """A field no flag type fits fails at definition, naming the field."""

  @dataclasses.dataclass
  class Odd:
    sizes: list = dataclasses.field(default=None, metadata={'help': 'x'})

  with pytest.raises(TypeError, match='sizes'):
    _defined(Odd)
