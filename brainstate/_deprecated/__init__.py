"""Deprecated spellings of older releases, kept so code written for them still runs.

Every module here only forwards: it holds a table of names and a module-level `__getattr__`
that warns with a `DeprecationWarning` naming the replacement, then returns the real object.
None of them is imported by `import brainstate`; `brainstate.<old name>` loads one on first use.

- `brainstate.compile` → `brainstate.transform` (`jit`, `for_loop`, `cond`, ...);
- `brainstate.augment` → `brainstate.transform` (`grad`, `vmap`, ...);
- `brainstate.functional` → `brainstate.nn` (`relu`, `softmax`, `weight_standardization`, ...);
- `brainstate.init`, `brainstate.surrogate` → `braintools.init`, `braintools.surrogate` (the
  optional `braintools` package, which needs Python >= 3.12).
"""

import importlib
import importlib.abc
import importlib.machinery
import sys

MODULES = ("compile", "augment", "functional")


class _AliasFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Lets `import brainstate.compile` (and `from brainstate.augment import vmap`) load the
    forwarding module of this package under the old name, without importing it eagerly."""

    def find_spec(self, fullname, path=None, target=None):
        package, _, name = fullname.rpartition(".")
        if package == "brainstate" and name in MODULES:
            return importlib.machinery.ModuleSpec(fullname, self)
        return None

    def create_module(self, spec):
        return importlib.import_module(f"brainstate._deprecated.{spec.name.rpartition('.')[2]}")

    def exec_module(self, module):
        pass  # the forwarding module is already executed


def install_aliases() -> None:
    """Register the old module names with the import system (once)."""
    if not any(isinstance(f, _AliasFinder) for f in sys.meta_path):
        sys.meta_path.append(_AliasFinder())
