"""The examples in docstrings run (house style: examples that run as doctests)."""

import doctest
import importlib
import inspect
import pkgutil

import pytest

import brainstate

MODULES = sorted(m.name for m in pkgutil.walk_packages(brainstate.__path__, "brainstate."))
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _tests_of(module):
    """Doctests of everything defined in `module`'s file (public objects may carry another
    `__module__`, e.g. 'brainstate', which `doctest.testmod` would skip)."""
    finder = doctest.DocTestFinder(exclude_empty=True)
    tests = list(finder.find(module))
    seen = {t.name for t in tests}
    path = getattr(module, "__file__", None)
    for name, obj in vars(module).items():
        if not (inspect.isclass(obj) or inspect.isfunction(obj)) or getattr(obj, "__module__", None) == module.__name__:
            continue
        try:
            if inspect.getsourcefile(obj) != path:
                continue
        except TypeError:
            continue
        for test in finder.find(obj, f"{module.__name__}.{name}", globs=dict(vars(module))):
            if test.name not in seen:
                seen.add(test.name)
                tests.append(test)
    return tests


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    for test in _tests_of(module):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name} (see output above)"
