"""Deprecated spellings (`brainstate.compile`, `.augment`, `.functional`, `.init`, `.surrogate`)."""

import subprocess
import sys
import types

import jax.numpy as jnp
import pytest
from numpy.testing import assert_allclose

import brainstate
from brainstate._deprecated import augment as old_augment, compile as old_compile, functional as old_functional

FORWARDED = [("compile", name, "transform") for name in old_compile.NAMES] + \
            [("augment", name, "transform") for name in old_augment.NAMES] + \
            [("functional", name, "nn") for name in old_functional.NAMES]


@pytest.mark.parametrize("old, name, new", FORWARDED, ids=lambda v: v if isinstance(v, str) else None)
def test_each_kept_name_forwards_with_a_warning(old, name, new):
    with pytest.warns(DeprecationWarning, match=rf"brainstate\.{old}\.{name} is deprecated; use "
                                                rf"brainstate\.{new}\.{name} instead"):
        got = getattr(getattr(brainstate, old), name)
    assert got is getattr(getattr(brainstate, new), name)


def test_the_warning_points_at_the_callers_line():
    with pytest.warns(DeprecationWarning) as record:
        brainstate.compile.jit  # noqa: B018
    assert record[0].filename == __file__


def test_old_code_runs_through_the_forwarded_names():
    state = brainstate.State(jnp.zeros(()))

    def step(x):
        state.value += x
        return brainstate.functional.relu(x - 1.0)

    with pytest.warns(DeprecationWarning):
        ys = brainstate.compile.jit(lambda xs: brainstate.compile.for_loop(step, xs))(jnp.arange(4.0))
        g = brainstate.augment.grad(lambda x: jnp.sum(brainstate.functional.softplus(x)))(jnp.zeros(3))
    assert_allclose(ys, [0.0, 0.0, 1.0, 2.0])
    assert_allclose(state.value, 6.0)
    assert_allclose(g, [0.5, 0.5, 0.5])


@pytest.mark.parametrize("old, missing, new", [("compile", "grad", "brainstate.transform"),
                                               ("functional", "Linear", "brainstate.nn")])
def test_names_the_old_module_never_had_are_errors(old, missing, new):
    with pytest.raises(AttributeError, match=rf"module 'brainstate.{old}' has no attribute '{missing}'. "
                                             rf"brainstate.{old} is deprecated and keeps only .*look for "
                                             rf"'{missing}' in {new}"):
        getattr(getattr(brainstate, old), missing)


def test_dir_lists_the_kept_names():
    assert dir(brainstate.augment) == sorted(old_augment.NAMES)


def test_dunder_probes_are_silent_attribute_errors():
    assert not hasattr(brainstate.compile, "__wrapped__")


def test_import_brainstate_is_warning_free_and_does_not_load_the_shims():
    # Only the package itself (its import finder for the old module names) is loaded.
    code = ("import sys, warnings; warnings.simplefilter('error'); import brainstate; "
            "print(sorted(m for m in sys.modules if m.startswith('brainstate._deprecated')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['brainstate._deprecated']"


@pytest.mark.parametrize("name", ["init", "surrogate"])
def test_braintools_modules_without_braintools(name, monkeypatch):
    monkeypatch.setitem(sys.modules, "braintools", None)  # as if it were not installed
    with pytest.warns(DeprecationWarning, match=rf"brainstate\.{name} is deprecated; use braintools\.{name}"), \
            pytest.raises(ModuleNotFoundError, match=rf"brainstate\.{name} moved to the braintools package "
                                                     rf"\(braintools\.{name}\), which is not installed. Install it "
                                                     rf"with `pip install braintools` \(it needs Python >= 3\.12\)"):
        getattr(brainstate, name)


@pytest.mark.parametrize("name", ["init", "surrogate"])
def test_braintools_modules_forward_when_installed(name, monkeypatch):
    package = types.ModuleType("braintools")
    package.__path__ = []
    sub = types.ModuleType(f"braintools.{name}")
    monkeypatch.setitem(sys.modules, "braintools", package)
    monkeypatch.setitem(sys.modules, f"braintools.{name}", sub)
    with pytest.warns(DeprecationWarning, match=rf"brainstate\.{name} is deprecated; use braintools\.{name}"):
        assert getattr(brainstate, name) is sub


def test_a_broken_braintools_is_not_reported_as_missing(monkeypatch):
    package = types.ModuleType("braintools")
    package.__path__ = []
    monkeypatch.setitem(sys.modules, "braintools", package)

    def broken_import(name, *args, **kwargs):
        raise ModuleNotFoundError("No module named 'scipy'", name="scipy")

    monkeypatch.setattr("importlib.import_module", broken_import)
    with pytest.warns(DeprecationWarning), pytest.raises(ModuleNotFoundError, match="No module named 'scipy'"):
        brainstate.init  # noqa: B018


def test_unknown_top_level_names_are_still_attribute_errors():
    with pytest.raises(AttributeError, match="module 'brainstate' has no attribute 'functionals'"):
        brainstate.functionals  # noqa: B018
