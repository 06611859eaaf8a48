"""`optimize_jaxpr`: pass selection, iteration to a fixed point, validation, and the engine hook."""

import jax
import jax.numpy as jnp
import pytest
from jax.extend.core import jaxpr_as_fun

import brainstate as bs
from brainstate._compatible_import import ClosedJaxpr, Jaxpr, open_and_consts
from tests.transform.jaxpr_corpus import assert_same_values, evaluate

T = bs.transform


def prims(closed):
    return [e.primitive.name for e in open_and_consts(closed)[0].eqns]


def messy(x):
    dead = jnp.cos(x)
    return jnp.sin(x) * jax.lax.mul(2.0, 3.0) + jnp.sin(x) * 1.0


def test_optimize_applies_every_pass_by_default():
    closed = jax.make_jaxpr(messy)(1.0)
    new = T.optimize_jaxpr(closed)
    assert prims(new) == ["sin", "mul", "add"]
    assert_same_values(evaluate(new, [0.7]), evaluate(closed, [0.7]))


@pytest.mark.parametrize("names, expected", [
    (["dce"], ["sin", "mul", "mul", "sin", "mul", "add"]),
    ("dead_code_elimination", ["sin", "mul", "mul", "sin", "mul", "add"]),
    (["cse", "dce"], ["sin", "mul", "mul", "mul", "add"]),
    (["common_subexpression_elimination", "algebraic_simplification", "dce"], ["sin", "mul", "mul", "add"]),
    ([], ["cos", "sin", "mul", "mul", "sin", "mul", "add"]),
])
def test_optimize_runs_only_the_named_passes(names, expected):
    closed = jax.make_jaxpr(messy)(1.0)
    assert prims(closed) == ["cos", "sin", "mul", "mul", "sin", "mul", "add"]
    assert prims(T.optimize_jaxpr(closed, optimizations=names)) == expected


def test_optimize_iterates_until_nothing_changes():
    # CSE makes the two select cases one variable; only the next round's simplification sees it.
    closed = jax.make_jaxpr(lambda p, x: jax.lax.select_n(p, jnp.sin(x), jnp.sin(x)))(True, 1.0)
    order = ["algebraic_simplification", "cse", "dce"]
    assert prims(T.optimize_jaxpr(closed, max_iterations=1, optimizations=order)) == ["sin", "select_n"]
    assert prims(T.optimize_jaxpr(closed, max_iterations=2, optimizations=order)) == ["sin"]


def test_optimize_keeps_the_kind_and_returns_an_optimal_jaxpr_itself():
    closed = jax.make_jaxpr(jnp.sin)(1.0)
    assert T.optimize_jaxpr(closed) is closed
    assert isinstance(T.optimize_jaxpr(jax.make_jaxpr(messy)(1.0)), ClosedJaxpr)
    assert isinstance(T.optimize_jaxpr(jax.make_jaxpr(messy)(1.0).jaxpr), Jaxpr)


def test_optimize_verbose_reports_each_changing_pass(capsys):
    T.optimize_jaxpr(jax.make_jaxpr(messy)(1.0), verbose=True)
    out = capsys.readouterr().out
    assert "optimize_jaxpr: 7 equations" in out and "iteration 1, constant_fold: 7 -> 6 equations" in out
    assert "iteration 1, cse: 5 -> 4 equations" in out and "converged after 2 iteration(s), 3 equations" in out


def test_optimize_is_a_one_call_hook_for_stateful_jaxprs():
    layer, seen = bs.nn.Linear(3, 2), bs.State(jnp.zeros(()))

    def step(x):
        seen.value = seen.value + 1.0
        return layer(x) + layer(x) * 1.0

    closed, states = T.make_jaxpr(step)(jnp.ones(3))
    new = T.optimize_jaxpr(closed, optimizations=("cse", "algebraic_simplification", "dce"))
    assert len(new.jaxpr.eqns) < len(closed.jaxpr.eqns)
    assert new.in_avals == closed.in_avals and new.out_avals == closed.out_avals and len(new.consts) == len(closed.consts)
    args = [jnp.array([1.0, -2.0, 0.5])] + jax.tree_util.tree_leaves([s.value for s in states])
    assert_same_values(jax.jit(jaxpr_as_fun(new))(*args), evaluate(closed, args))


def test_optimize_rejects_unknown_names():
    with pytest.raises(ValueError, match=r"unknown optimization\(s\) \['fold'\]; use names from: "
                                         r"algebraic_simplification, constant_fold, copy_propagation, cse, dce"):
        T.optimize_jaxpr(jax.make_jaxpr(jnp.sin)(1.0), optimizations=["fold", "dce"])


def test_optimize_rejects_a_non_jaxpr():
    with pytest.raises(TypeError, match=r"optimize_jaxpr\(\) takes a jax Jaxpr or ClosedJaxpr, got int"):
        T.optimize_jaxpr(3)


@pytest.mark.parametrize("value, error, message", [
    (0, ValueError, r"max_iterations=0\) must be at least 1"),
    (-2, ValueError, r"max_iterations=-2\) must be at least 1"),
    (2.0, TypeError, r"max_iterations=...\) must be an int, got float"),
    (True, TypeError, r"max_iterations=...\) must be an int, got bool"),
])
def test_optimize_validates_max_iterations(value, error, message):
    with pytest.raises(error, match=message):
        T.optimize_jaxpr(jax.make_jaxpr(jnp.sin)(1.0), max_iterations=value)
