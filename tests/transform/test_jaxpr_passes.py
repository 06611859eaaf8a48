"""Each jaxpr pass does its job, keeps what it must keep, and recurses into sub-jaxprs."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.experimental import io_callback

import brainstate as bs
from brainstate._compatible_import import ClosedJaxpr, DropVar, Jaxpr, Literal, open_and_consts
from tests.transform.jaxpr_corpus import assert_same_values, evaluate

T = bs.transform
PASSES = [T.constant_fold, T.dead_code_elimination, T.common_subexpression_elimination, T.copy_propagation,
          T.algebraic_simplification]


def prims(closed):
    return [e.primitive.name for e in open_and_consts(closed)[0].eqns]


def body_of(closed, key="jaxpr"):
    return open_and_consts(open_and_consts(closed)[0].eqns[-1].params[key])[0]


def check_same(new, old, *args):
    assert_same_values(evaluate(new, args), evaluate(old, args))


# ----------------------------------------------------------------------------------------------
# common contract


@pytest.mark.parametrize("pass_", PASSES, ids=lambda p: p.__name__)
def test_pass_rejects_non_jaxpr(pass_):
    with pytest.raises(TypeError, match=rf"{pass_.__name__}\(\) takes a jax Jaxpr or ClosedJaxpr, got function"):
        pass_(lambda x: x)


@pytest.mark.parametrize("pass_", PASSES, ids=lambda p: p.__name__)
def test_pass_keeps_the_kind_and_interface(pass_):
    closed = jax.make_jaxpr(lambda x: (jnp.sin(x) + jnp.sin(x)) * 1.0 + jax.lax.mul(2.0, 3.0))(jnp.ones(2))
    new = pass_(closed)
    assert isinstance(new, ClosedJaxpr)
    assert isinstance(pass_(closed.jaxpr), Jaxpr)
    jaxpr, old = open_and_consts(new)[0], closed.jaxpr
    assert jaxpr.invars == old.invars and jaxpr.constvars == old.constvars
    assert [v.aval for v in jaxpr.outvars] == [v.aval for v in old.outvars]
    check_same(new, closed, jnp.array([0.5, -2.0]))


@pytest.mark.parametrize("pass_", PASSES, ids=lambda p: p.__name__)
def test_pass_returns_an_unchanged_jaxpr_itself(pass_):
    closed = jax.make_jaxpr(lambda x: jnp.cos(x))(1.0)
    assert pass_(closed) is closed
    assert pass_(closed.jaxpr) is closed.jaxpr


# ----------------------------------------------------------------------------------------------
# constant folding


def test_constant_fold_folds_two_times_three():
    closed = jax.make_jaxpr(lambda x: x * jax.lax.mul(2.0, 3.0))(jnp.ones(3))
    folded = T.constant_fold(closed)
    assert prims(closed) == ["mul", "convert_element_type", "mul"] and prims(folded) == ["mul"]
    literal = folded.jaxpr.eqns[0].invars[1]
    assert isinstance(literal, Literal) and literal.val == 6.0
    check_same(folded, closed, jnp.arange(3.0))


def test_constant_fold_chains_and_keeps_the_weak_type():
    closed = jax.make_jaxpr(lambda x: x + jnp.sin(jax.lax.add(1.0, 2.0)) * 1.5)(1.0)
    folded = T.constant_fold(closed)
    assert prims(folded) == ["add"]
    literal = folded.jaxpr.eqns[0].invars[1]
    assert literal.aval.weak_type and literal.val == pytest.approx(np.sin(3.0) * 1.5)
    check_same(folded, closed, 2.0)


def test_constant_fold_keeps_the_equation_of_an_output():
    closed = jax.make_jaxpr(lambda: (jax.lax.add(1.0, 2.0), jax.lax.add(1.0, 2.0) * 2.0))()
    folded = T.constant_fold(closed)
    assert prims(folded) == ["add", "mul"] and isinstance(folded.jaxpr.eqns[1].invars[0], Literal)
    check_same(folded, closed)


def test_constant_fold_keeps_array_results():
    closed = jax.make_jaxpr(lambda x: x + jnp.full((3,), 2.0))(jnp.ones(3))
    assert "broadcast_in_dim" in prims(T.constant_fold(closed))


def test_constant_fold_leaves_collectives():
    closed = jax.make_jaxpr(lambda x: jax.lax.psum(x, "i") * 2.0, axis_env=[("i", 4)])(1.0)
    psum, mul = closed.jaxpr.eqns
    literal_psum = psum.replace(invars=[Literal(1.0, psum.invars[0].aval)])
    jaxpr = closed.jaxpr.replace(eqns=[literal_psum, mul])
    assert [e.primitive.name for e in T.constant_fold(jaxpr).eqns] == ["psum", "mul"]


def test_constant_fold_leaves_effects():
    closed = jax.make_jaxpr(lambda x: jax.debug.print("{}", 1.0) or x)(1.0)
    assert prims(T.constant_fold(closed)) == ["debug_print"]


def test_constant_fold_folds_inside_a_scan_body():
    closed = jax.make_jaxpr(lambda xs: jax.lax.scan(lambda c, x: (c + x * jax.lax.mul(2.0, 3.0), None), 0.0, xs)[0])(
        jnp.arange(4.0))
    folded = T.constant_fold(closed)
    assert [e.primitive.name for e in body_of(closed).eqns].count("mul") == 2
    assert [e.primitive.name for e in body_of(folded).eqns].count("mul") == 1
    check_same(folded, closed, jnp.arange(4.0))


def test_constant_fold_evaluates_while_an_outer_function_is_traced():
    closed = jax.make_jaxpr(lambda x: x * jax.lax.mul(2.0, 3.0))(1.0)
    inside = jax.jit(lambda x: len(T.constant_fold(closed).jaxpr.eqns) + x)(0)
    assert int(inside) == 1


# ----------------------------------------------------------------------------------------------
# dead code elimination


def test_dce_removes_an_unused_cos():
    def f(x):
        unused = jnp.cos(x)
        return jnp.sin(x)

    closed = jax.make_jaxpr(f)(1.0)
    assert prims(T.dead_code_elimination(closed)) == ["sin"] and prims(closed) == ["cos", "sin"]


def test_dce_keeps_effectful_equations_whose_results_are_unused():
    calls = []

    def record(v):
        calls.append(float(v))
        return np.float32(v)

    def f(x):
        io_callback(record, jax.ShapeDtypeStruct((), jnp.float32), x)
        jax.debug.print("x={}", x)
        return x + 1.0

    closed = jax.make_jaxpr(f)(1.0)
    new = T.dead_code_elimination(closed)
    assert prims(new) == prims(closed)
    evaluate(new, [jnp.float32(2.0)])
    assert calls == [2.0]


def test_dce_removes_dead_code_inside_a_cond_branch():
    def branch(x):
        unused = jnp.exp(x)
        return x * 2.0

    closed = jax.make_jaxpr(lambda p, x: jax.lax.cond(p, branch, lambda x: x, x))(True, 1.0)
    new = T.dead_code_elimination(closed)
    branches = new.jaxpr.eqns[-1].params["branches"]
    assert [e.primitive.name for e in branches[1].jaxpr.eqns] == ["mul"]
    check_same(new, closed, True, 3.0)


# ----------------------------------------------------------------------------------------------
# common subexpression elimination


def test_cse_merges_a_duplicated_sin():
    closed = jax.make_jaxpr(lambda x: jnp.sin(x) * jnp.sin(x))(1.0)
    new = T.common_subexpression_elimination(closed)
    assert prims(closed) == ["sin", "sin", "mul"] and prims(new) == ["sin", "mul"]
    mul = new.jaxpr.eqns[1]
    assert mul.invars[0] is mul.invars[1] is new.jaxpr.eqns[0].outvars[0]


def test_cse_merges_chains_in_one_sweep():
    closed = jax.make_jaxpr(lambda x: jnp.exp(jnp.sin(x)) + jnp.exp(jnp.sin(x)))(1.0)
    assert prims(T.common_subexpression_elimination(closed)) == ["sin", "exp", "add"]


def test_cse_merges_calls_of_the_same_jitted_function():
    inner = jax.jit(lambda x: jnp.sin(x) + 1.0)
    closed = jax.make_jaxpr(lambda x: inner(x) * inner(x))(1.0)
    new = T.common_subexpression_elimination(closed)
    assert prims(new).count(prims(closed)[0]) == 1
    check_same(new, closed, 0.5)


@pytest.mark.parametrize("f", [lambda x: x * 2.0 + x * 3.0, lambda x: jnp.sum(x, 0) + jnp.sum(x, 1),
                               lambda x: x.astype(jnp.int32).astype(jnp.float32) + x.astype(jnp.int16).astype(
                                   jnp.float32)], ids=["literals", "params", "dtypes"])
def test_cse_keeps_equations_that_differ(f):
    closed = jax.make_jaxpr(f)(jnp.ones((2, 2)))
    new = T.common_subexpression_elimination(closed)
    assert new is closed
    check_same(new, closed, jnp.arange(4.0).reshape(2, 2))


def test_cse_never_merges_effects():
    closed = jax.make_jaxpr(lambda x: [jax.debug.print("{}", x), jax.debug.print("{}", x), x][-1])(1.0)
    assert prims(T.common_subexpression_elimination(closed)) == ["debug_print", "debug_print"]


def test_cse_does_not_forward_to_a_dropped_output():
    closed = jax.make_jaxpr(lambda x: jax.lax.top_k(x, 2)[1] + jax.lax.top_k(x, 2)[1])(jnp.arange(3.0))
    first, second, add = closed.jaxpr.eqns
    values, indices = second.outvars
    first = first.replace(outvars=[first.outvars[0], DropVar(indices.aval)])
    jaxpr = closed.jaxpr.replace(eqns=[first, second, add.replace(invars=[indices, indices])])
    new = T.common_subexpression_elimination(jaxpr)
    assert [e.primitive.name for e in new.eqns] == ["top_k", "top_k", "add"]
    assert_same_values(evaluate(new, [jnp.array([1.0, 3.0, 2.0])]), [np.array([2, 4], np.int32)])


# ----------------------------------------------------------------------------------------------
# copy propagation


@pytest.mark.parametrize("f", [jnp.copy, lambda x: jax.lax.convert_element_type(x, jnp.float16),
                               lambda x: jax.lax.reshape(x, (2, 2), dimensions=None),
                               lambda x: jax.lax.transpose(x, (0, 1)), lambda x: jax.lax.reduce_sum(x, ()),
                               lambda x: jax.lax.squeeze(x, ())],
                         ids=["copy", "convert", "reshape", "transpose", "reduce", "squeeze"])
def test_copy_propagation_removes_identity_operations(f):
    x = jnp.arange(4.0, dtype=jnp.float16).reshape(2, 2)
    closed = jax.make_jaxpr(lambda x: jnp.sin(f(x)))(x)
    new = T.copy_propagation(closed)
    assert prims(new) == ["sin"]
    assert new.jaxpr.eqns[0].invars[0] is new.jaxpr.invars[0]
    check_same(new, closed, x)


@pytest.mark.parametrize("f", [lambda x: x.astype(jnp.int32), lambda x: jnp.reshape(x, (4,)),
                               lambda x: jax.lax.convert_element_type(x, jnp.float32) + x])
def test_copy_propagation_keeps_operations_that_change_the_type(f):
    closed = jax.make_jaxpr(f)(jnp.ones((2, 2)))
    assert prims(T.copy_propagation(closed)) == prims(closed)


def test_copy_propagation_forwards_to_an_output():
    closed = jax.make_jaxpr(lambda x: jnp.copy(x))(jnp.ones(2))
    new = T.copy_propagation(closed)
    assert new.jaxpr.eqns == [] and new.jaxpr.outvars == new.jaxpr.invars


# ----------------------------------------------------------------------------------------------
# algebraic simplification


SIMPLIFIED = {
    "x*1": lambda x, i: x * 1.0, "1*x": lambda x, i: 1.0 * x, "x/1": lambda x, i: x / 1.0,
    "x-0": lambda x, i: x - 0.0, "x+(-0.0)": lambda x, i: x + (-0.0), "int+0": lambda x, i: i + 0,
    "negneg": lambda x, i: -(-x), "notnot": lambda x, i: ~~(i > 0), "select_same": lambda x, i: jax.lax.select_n(i > 0, x, x),
    "max_same": lambda x, i: jnp.maximum(x, x), "pow1": lambda x, i: jax.lax.integer_pow(x, 1),
    "x*ones": lambda x, i: x * jnp.ones(3),
}


@pytest.mark.parametrize("name", sorted(SIMPLIFIED))
def test_algebraic_simplification_removes_identities(name):
    f = SIMPLIFIED[name]
    x, i = jnp.array([-0.0, np.inf, np.nan]), jnp.array([1, -2, 0])
    closed = jax.make_jaxpr(f)(x, i)
    new = T.dead_code_elimination(T.algebraic_simplification(closed))
    assert len(new.jaxpr.eqns) < len(closed.jaxpr.eqns)
    assert not {"mul", "div", "sub", "neg", "select_n", "max", "integer_pow"} & set(prims(new))
    check_same(new, closed, x, i)


KEPT = {
    "x+0.0": lambda x: x + 0.0,  # -0.0 + 0.0 is +0.0
    "x*0": lambda x: x * 0.0,  # nan * 0 is nan, inf * 0 is nan
    "x-x": lambda x: x - x,  # inf - inf is nan
    "scalar*ones": lambda x: x[0] * jnp.ones(3),  # the result is broadcast: not x's type
    "x*2": lambda x: x * 2.0,
}


@pytest.mark.parametrize("name", sorted(KEPT))
def test_algebraic_simplification_keeps_what_is_not_an_identity(name):
    closed = jax.make_jaxpr(KEPT[name])(jnp.ones(3))
    new = T.algebraic_simplification(closed)
    assert prims(new) == prims(closed)
    check_same(new, closed, jnp.array([-0.0, np.inf, np.nan]))
