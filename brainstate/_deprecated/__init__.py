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
