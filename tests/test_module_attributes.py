"""Packages that resolve some names lazily (`__getattr__`) still refuse unknown names with the
standard message, and `u` names brainunit where the reference re-exports it."""

import sys

import pytest

import brainstate
import brainstate._deprecated._forward  # noqa: F401  (the forwarding modules' __getattr__)
import brainstate.environ
import brainstate.interop
import brainstate.nn.init
import brainstate.typing

LAZY = [brainstate, brainstate.environ, brainstate.interop, brainstate.nn.init, brainstate.typing]


@pytest.mark.parametrize("module", LAZY, ids=lambda m: m.__name__)
def test_an_unknown_name_is_an_attribute_error(module):
    with pytest.raises(AttributeError, match=rf"module '{module.__name__}' has no attribute 'no_such_name'"):
        getattr(module, "no_such_name")


def test_a_deprecated_module_refuses_unknown_dunders_plainly():
    import brainstate.compile as compile_module

    with pytest.raises(AttributeError, match=r"module 'brainstate.compile' has no attribute '__no_such__'"):
        getattr(compile_module, "__no_such__")


@pytest.mark.parametrize("module", [brainstate.environ, brainstate.typing], ids=lambda m: m.__name__)
def test_u_is_brainunit_or_names_the_missing_package(module, monkeypatch):
    import brainunit

    assert module.u is brainunit
    monkeypatch.setitem(sys.modules, "brainunit", None)  # as if not installed
    with pytest.raises(ModuleNotFoundError, match=rf"{module.__name__}\.u is the optional package 'brainunit'"):
        module.u


def test_deprecated_modules_import_under_their_old_names():
    import brainstate.augment
    from brainstate.compile import ProgressBar  # noqa: F401  (an import statement, as old code writes)

    assert sys.modules["brainstate.augment"] is brainstate.augment
    with pytest.warns(DeprecationWarning, match=r"brainstate.augment.vmap is deprecated; use brainstate.transform.vmap"):
        assert brainstate.augment.vmap is brainstate.transform.vmap
