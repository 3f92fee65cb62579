"""Tests of benchmarks/distributed.py's report, on made-up worker logs.

The clusters themselves are exercised by tests/test_local_cluster.py; here
the figures the benchmark reports are checked against hand-computed ones.
"""

from absl import flags
import pytest

from benchmarks import distributed
from benchmarks import suite
from slim_resnets.training import config as config_lib


def _log(rates):
  return ''.join('INFO:tensorflow:step %d: loss = 1.5, learning rate = '
                 '0.01, %.1f images/sec\n' % (10 * (i + 1), r)
                 for i, r in enumerate(rates))


def test_worker_rates_skip_warm_up():
  text = 'unrelated line\n' + _log([50.0, 300.0, 310.5, 305.0])
  assert distributed.worker_rates(text, skip=0) == [50.0, 300.0, 310.5, 305.0]
  assert distributed.worker_rates(text, skip=2) == [310.5, 305.0]
  assert distributed.worker_rates('no rates here', skip=0) == []


def test_summaries_against_the_single_process():
  single = distributed.summarize_run('single process', 1, 0, None, 32,
                                     [[800.0, 1000.0, 900.0]], 12.0)
  assert single['images_per_second'] == 900.0
  assert single['ms_per_worker_step'] == pytest.approx(1000 * 32 / 900)
  assert single['global_steps_per_second'] == pytest.approx(900 / 32)
  assert 'speedup_vs_single' not in single
  sync = distributed.summarize_run('2 workers, sync', 2, 1, 'sync', 32,
                                   [[400.0], [300.0]], 30.0, single)
  assert sync['images_per_second'] == 700.0
  # Synchronous: one global step per step of the slowest worker.
  assert sync['global_steps_per_second'] == pytest.approx(300 / 32)
  assert sync['speedup_vs_single'] == pytest.approx(700 / 900)
  step_ms = (1000 * 32 / 400 + 1000 * 32 / 300) / 2
  assert sync['ms_per_worker_step'] == pytest.approx(step_ms)
  assert sync['overhead_ms_per_step'] == pytest.approx(
      step_ms - 1000 * 32 / 900)
  asynchronous = distributed.summarize_run('2 workers, async', 2, 1, 'async',
                                           32, [[400.0], [300.0]], 30.0,
                                           single)
  # Asynchronous: every worker step is a global step.
  assert asynchronous['global_steps_per_second'] == pytest.approx(700 / 32)


def test_table():
  single = distributed.summarize_run('single process', 1, 0, None, 32,
                                     [[900.0]], 12.0)
  report = {'model': 'resnet_v1_cifar_20', 'steps': 100, 'batch_size': 32,
            'ps': 1, 'runs': [single, distributed.summarize_run(
                '2 workers + 1 ps, sync', 2, 1, 'sync', 32,
                [[400.0], [300.0]], 30.0, single)]}
  text = distributed.format_table(report)
  assert '100 global steps of 32 examples per worker, ps tasks: 1.' in text
  assert '| single process | 900 | 900 | 1.00x | 28.12 | 36 | - | 12 |' in text
  assert ('| 2 workers + 1 ps, sync | 400, 300 | 700 | 0.78x | 9.38 | 93 | '
          '+58 | 30 |') in text
  summary = suite.format_summary({'distributed_digits': report})
  assert '| 2 workers + 1 ps, sync | 400, 300 | 700 |' in summary


def test_train_flags_give_the_recipe_back(tmp_path):
  args = distributed.train_flags(str(tmp_path / 'run'), '/data/digits',
                                 steps=100, batch_size=16, log_every=5)
  flag_values = flags.FlagValues()
  config_lib.define_flags(config_lib.TrainConfig, flags,
                          flag_values=flag_values)
  flag_values(['train'] + args)
  config = config_lib.from_flags(config_lib.TrainConfig, flag_values)
  assert config.model_name == 'resnet_v2_cifar_20'  # The quick start's.
  assert config.train_image_size == 16
  assert (config.max_number_of_steps, config.batch_size) == (100, 16)
  assert config.log_every_n_steps == 5
  assert config.save_interval_secs == 3600
  assert config.dataset_dir == '/data/digits'
