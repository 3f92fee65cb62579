"""PyTorch beside TensorFlow in one benchmark process: load it first.

torchvision imports Triton (TorchInductor's kernel compiler), whose native
extension crashes the process with a segmentation fault when TensorFlow's
libraries are already loaded; the other order works, eager and with
`torch.compile`. The benchmarks' command lines call `load_if_asked` before
their flags are parsed (parsing sets TensorFlow up, importing it);
`refusal` says why the torch peer cannot run in this process, if it cannot.
"""

import importlib.util
import sys

_MODULES = ('torch', 'torchvision', 'triton')


def load():
  """Imports PyTorch, torchvision and Triton, those that are installed."""
  for name in _MODULES:
    if name not in sys.modules and importlib.util.find_spec(name):
      importlib.import_module(name)


def load_if_asked(argv, flag, default):
  """`load` when the command line's list flag `flag` names torch.

  `default`: whether the flag's default value names it.
  """
  asked = default
  for arg in argv[1:]:
    name, _, value = arg.partition('=')
    if name.lstrip('-') == flag:
      asked = 'torch' in value.split(',')
  if asked:
    load()


def refusal():
  """None when the torch peer may run here, else the reason it may not."""
  if 'torchvision' in sys.modules or 'tensorflow' not in sys.modules:
    return None
  return ('TensorFlow was imported before PyTorch in this process, and '
          'torchvision would crash it; run benchmarks.throughput or '
          'benchmarks.latency as a command, or call '
          'benchmarks.torch_first.load() before importing TensorFlow')
