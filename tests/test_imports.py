"""The house's import order, read from the source (no TensorFlow needed).

Imports only ever point down this stack (STYLE.md, the map in
`slim_resnets/__init__.py`):

  scripts at the repository root, benchmarks/
  slim_resnets.serving, slim_resnets.distributed, slim_resnets.segmentation
  slim_resnets.training
  slim_resnets.datasets, slim_resnets.preprocessing
  slim_resnets (helpers at the package's root)
  nets
  resnet_utils

A module may import its own package's modules and anything below its
layer; never a layer above, nor a sibling package of its own layer. Imports
inside functions count the same as the ones at the top: a lazy import
against the direction is still a dependency against it. On top of that
the module graph has no cycles, and package `__init__`s do no work.
"""

import ast
import os
import shutil
import subprocess
import sys
import zipfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Package -> layer; a module belongs to the longest package prefix listed.
LAYERS = {
    'resnet_utils': 0,
    'nets': 1,
    # Modules at the package's own root: helpers any layer above may use.
    'slim_resnets': 1.5,
    'slim_resnets.datasets': 2,
    'slim_resnets.preprocessing': 2,
    'slim_resnets.training': 3,
    'slim_resnets.serving': 4,
    'slim_resnets.distributed': 4,
    'slim_resnets.segmentation': 4,
    '<scripts>': 5,
    'benchmarks': 5,
}
INSTALLED = ('resnet_utils', 'nets', 'slim_resnets')


def _module_name(path):
  rel = os.path.relpath(path, ROOT)[:-len('.py')].split(os.sep)
  if rel[-1] == '__init__':
    rel = rel[:-1]
  return '.'.join(rel)


def _sources():
  """{module name: path} of every project module and root script."""
  found = {}
  for top in INSTALLED + ('benchmarks',):
    for folder, _, files in os.walk(os.path.join(ROOT, top)):
      for name in files:
        if name.endswith('.py'):
          path = os.path.join(folder, name)
          found[_module_name(path)] = path
  for name in os.listdir(ROOT):
    if name.endswith('.py') and name != 'setup.py':
      found[name[:-len('.py')]] = os.path.join(ROOT, name)
  return found


SOURCES = _sources()


def _package(module):
  """The LAYERS key `module` belongs to (None: outside the map)."""
  if module in SOURCES and os.path.dirname(SOURCES[module]) == ROOT:
    return '<scripts>'
  matches = [p for p in LAYERS
             if module == p or module.startswith(p + '.')]
  return max(matches, key=len) if matches else None


def _project_imports(path):
  """[(line, imported project module)] of every import in the file."""
  with open(path) as f:
    tree = ast.parse(f.read(), path)
  found = []
  for node in ast.walk(tree):
    if isinstance(node, ast.Import):
      names = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
      # `from package import module` imports the module when there is one.
      names = [node.module + '.' + alias.name
               if node.module + '.' + alias.name in SOURCES else node.module
               for alias in node.names]
    else:
      continue
    for name in names:
      if name.split('.')[0] in INSTALLED + ('benchmarks',):
        found.append((node.lineno, name))
  return found


def _graph():
  return {module: sorted({name for _, name in _project_imports(path)
                          if name != module})
          for module, path in SOURCES.items()}


def test_every_module_has_a_layer():
  missing = [m for m in SOURCES if _package(m) is None]
  assert not missing, 'modules outside the layer map: %s' % missing


def test_imports_point_down_the_stack():
  wrong = []
  for module, path in sorted(SOURCES.items()):
    own = _package(module)
    for line, name in _project_imports(path):
      target = _package(name)
      if target is None:
        wrong.append('%s:%d imports %s, which does not exist'
                     % (path, line, name))
      elif target != own and LAYERS[target] >= LAYERS[own]:
        wrong.append('%s:%d (%s, layer %s) imports %s (%s, layer %s)'
                     % (os.path.relpath(path, ROOT), line, own, LAYERS[own],
                        name, target, LAYERS[target]))
  assert not wrong, '\n'.join(wrong)


def test_no_import_cycles():
  graph = _graph()
  state = {}
  cycles = []

  def visit(module, stack):
    state[module] = 'open'
    for target in graph.get(module, []):
      if target not in graph:
        continue
      if state.get(target) == 'open':
        cycles.append(stack[stack.index(target):] + [target])
      elif target not in state:
        visit(target, stack + [target])
    state[module] = 'done'

  for module in sorted(graph):
    if module not in state:
      visit(module, [module])
  assert not cycles, '\n'.join(' -> '.join(c) for c in cycles)


def test_package_inits_do_no_work():
  """Only a docstring, except where the compatibility fix is installed."""
  allowed = {'resnet_utils', 'nets'}
  busy = []
  for module, path in SOURCES.items():
    if not path.endswith('__init__.py') or module in allowed:
      continue
    with open(path) as f:
      body = ast.parse(f.read()).body
    if body and isinstance(body[0], ast.Expr) and isinstance(
        body[0].value, ast.Constant):
      body = body[1:]
    if body:
      busy.append(module)
  assert not busy, 'package __init__s with code: %s' % busy


def test_the_checker_sees_a_backwards_import(tmp_path):
  """The map itself: a training module importing serving is flagged."""
  assert _package('slim_resnets.training.eval_lib') == 'slim_resnets.training'
  assert _package('slim_resnets.serving.tflite_lib') == 'slim_resnets.serving'
  assert _package('train_image_classifier') == '<scripts>'
  assert LAYERS[_package('slim_resnets.serving.tflite_lib')] > LAYERS[
      _package('slim_resnets.training.eval_lib')]
  source = tmp_path / 'probe.py'
  source.write_text('def f():\n  from slim_resnets.serving import export_lib\n')
  assert _project_imports(str(source)) == [
      (2, 'slim_resnets.serving.export_lib')]


def test_wheel_installs_exactly_three_top_level_packages(tmp_path):
  """`pip install .` adds nets, resnet_utils and slim_resnets, nothing else
  (no `datasets`, `distributed` or `training` over other projects')."""
  # Built from a copy: setuptools leaves build/ behind where it builds.
  source = tmp_path / 'source'
  shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
      '.git', 'build', 'data', 'runs', '*.egg-info', '__pycache__'))
  subprocess.run(
      [sys.executable, '-m', 'pip', 'wheel', '--no-deps',
       '--no-build-isolation', '-q', '-w', str(tmp_path), str(source)],
      check=True, capture_output=True, timeout=300)
  wheels = list(tmp_path.glob('slim_resnets-*.whl'))
  assert len(wheels) == 1, wheels
  with zipfile.ZipFile(wheels[0]) as wheel:
    names = wheel.namelist()
  top = {n.split('/')[0] for n in names if '.dist-info/' not in n}
  assert top == set(INSTALLED)
  # Every package of the source tree made it in.
  for module, path in SOURCES.items():
    if module.split('.')[0] in INSTALLED:
      assert os.path.relpath(path, ROOT).replace(os.sep, '/') in names, path


@pytest.mark.parametrize('module', ['slim_resnets.training.config',
                                    'slim_resnets.datasets.errors'])
def test_light_modules_import_without_tensorflow(module):
  """Reading a config or an error class does not load TensorFlow."""
  code = ('import sys, %s; assert "tensorflow" not in sys.modules, '
          'sorted(m for m in sys.modules if m.startswith("tensorflow"))[:3]'
          % module)
  result = subprocess.run([sys.executable, '-c', code], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
  assert result.returncode == 0, result.stderr
