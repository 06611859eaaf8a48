"""`inline_jit`, `eqns_to_jaxpr` and `eqns_to_closed_jaxpr`."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.extend.core import check_jaxpr

import brainstate as bs
from brainstate._compatible_import import ClosedJaxpr, Jaxpr, new_jaxpr, open_and_consts
from tests.transform.jaxpr_corpus import assert_same_values, evaluate

T = bs.transform
inner = jax.jit(lambda x: jnp.sin(x) + 1.0)
outer = jax.jit(lambda x: inner(x) * inner(x))


def prims(jaxpr):
    return [e.primitive.name for e in open_and_consts(jaxpr)[0].eqns]


def test_inline_jit_expands_every_level():
    closed = jax.make_jaxpr(lambda x: outer(x) - inner(x))(0.5)
    new = T.inline_jit(closed)
    assert prims(new) == ["sin", "add", "sin", "add", "mul", "sin", "add", "sub"]
    check_jaxpr(new.jaxpr)  # a body inlined three times still binds each variable once
    assert_same_values(evaluate(new, [0.5]), evaluate(closed, [0.5]))


def test_inline_jit_expands_only_what_the_predicate_accepts():
    closed = jax.make_jaxpr(lambda x: outer(x) - inner(x))(0.5)
    new = T.inline_jit(closed, lambda eqn: eqn.params["name"] == "<lambda>" and "mul" not in str(eqn))
    jit = prims(new)[0]
    assert prims(new) == [jit, "sin", "add", "sub"]
    assert [e.primitive.name for e in new.jaxpr.eqns[0].params["jaxpr"].jaxpr.eqns] == ["sin", "add", "sin", "add",
                                                                                        "mul"]
    assert_same_values(evaluate(new, [0.5]), evaluate(closed, [0.5]))


def test_inline_jit_reaches_into_loop_bodies():
    closed = jax.make_jaxpr(lambda xs: jax.lax.scan(lambda c, x: (c + inner(x), None), 0.0, xs)[0])(jnp.arange(3.0))
    new = T.inline_jit(closed)
    body = [e.primitive.name for e in new.jaxpr.eqns[-1].params["jaxpr"].jaxpr.eqns]
    assert body[:2] == ["sin", "add"] and not {"jit", "pjit"} & set(body)
    assert_same_values(evaluate(new, [jnp.arange(3.0)]), evaluate(closed, [jnp.arange(3.0)]))


def test_inline_jit_keeps_the_kind():
    closed = jax.make_jaxpr(inner)(1.0)
    assert isinstance(T.inline_jit(closed), ClosedJaxpr) and isinstance(T.inline_jit(closed.jaxpr), Jaxpr)
    assert T.inline_jit(jax.make_jaxpr(jnp.cos)(1.0)).jaxpr.eqns[0].primitive.name == "cos"


def test_inline_jit_keeps_a_call_whose_body_has_array_constants():
    closed = jax.make_jaxpr(inner)(1.0)
    call = closed.jaxpr.eqns[0]
    body = call.params["jaxpr"]
    c = jax.extend.core.Var(body.jaxpr.invars[0].aval)
    consts_body = new_jaxpr([c], body.jaxpr.invars, body.jaxpr.outvars, body.jaxpr.eqns, body.jaxpr.effects,
                            consts=[np.ones(3, np.float32)])
    jaxpr = closed.jaxpr.replace(eqns=[call.replace(params={**call.params, "jaxpr": consts_body})])
    assert prims(T.inline_jit(jaxpr)) == [call.primitive.name]


def test_inline_jit_validates_its_arguments():
    with pytest.raises(TypeError, match=r"inline_jit\(should_expand=...\) must be a predicate on jit equations or None, "
                                        r"got bool"):
        T.inline_jit(jax.make_jaxpr(inner)(1.0), True)
    with pytest.raises(TypeError, match=r"inline_jit\(\) takes a jax Jaxpr or ClosedJaxpr, got list"):
        T.inline_jit([])


# ----------------------------------------------------------------------------------------------
# eqns_to_jaxpr


def example():
    return jax.make_jaxpr(lambda x, y: (jnp.cos(jnp.sin(x) * y) + 1.0, x))(1.0, 2.0).jaxpr


def test_eqns_to_jaxpr_infers_inputs_and_outputs():
    jaxpr = example()
    sin, mul, cos, add = jaxpr.eqns
    part = T.eqns_to_jaxpr([mul, cos])
    assert part.invars == [sin.outvars[0], jaxpr.invars[1]] and part.outvars == [cos.outvars[0]]
    assert_same_values(evaluate(part, [np.float32(0.5), np.float32(2.0)]), [np.cos(np.float32(1.0))])


def test_eqns_to_jaxpr_uses_given_inputs_and_outputs():
    jaxpr = example()
    sin, mul, cos, add = jaxpr.eqns
    part = T.eqns_to_jaxpr(jaxpr.eqns, invars=jaxpr.invars, outvars=[mul.outvars[0], jaxpr.invars[0]])
    assert_same_values(evaluate(part, [np.float32(1.0), np.float32(2.0)]), [jnp.sin(jnp.float32(1.0)) * 2.0, np.float32(1.0)])


def test_eqns_to_jaxpr_treats_a_returned_unbound_variable_as_an_input():
    jaxpr = example()
    part = T.eqns_to_jaxpr(jaxpr.eqns[:1], outvars=[jaxpr.eqns[0].outvars[0], jaxpr.invars[1]])
    assert part.invars == [jaxpr.invars[0], jaxpr.invars[1]]


def test_eqns_to_jaxpr_collects_effects():
    jaxpr = jax.make_jaxpr(lambda x: jax.debug.print("{}", x) or x * 2.0)(1.0).jaxpr
    assert T.eqns_to_jaxpr(jaxpr.eqns).effects == jaxpr.effects != frozenset()


def test_eqns_to_closed_jaxpr_pairs_constants_with_constvars():
    jaxpr = example()
    x, y = jaxpr.invars
    closed = T.eqns_to_closed_jaxpr(jaxpr.eqns, invars=[y], outvars=jaxpr.outvars[:1], constvars=[x], consts=[0.0])
    assert open_and_consts(closed)[1] == [0.0]
    assert_same_values(jax.extend.core.jaxpr_as_fun(closed)(np.float32(3.0)), [np.float32(2.0)])


@pytest.mark.parametrize("kwargs, message", [
    (dict(eqns=[1]), r"eqns\[0\] is a int, not a JaxprEqn"),
])
def test_eqns_to_jaxpr_type_errors(kwargs, message):
    with pytest.raises(TypeError, match=message):
        T.eqns_to_jaxpr(**kwargs)


def test_eqns_to_jaxpr_value_errors():
    jaxpr = example()
    sin, mul, cos, add = jaxpr.eqns
    with pytest.raises(ValueError, match=r"eqns\[0\] \(mul\) reads .* which is neither an input nor defined by an "
                                         r"earlier equation. Add it to `invars`"):
        T.eqns_to_jaxpr([mul], invars=[jaxpr.invars[1]])
    with pytest.raises(ValueError, match=r"eqns\[1\] \(sin\) defines .* a jaxpr binds each variable once"):
        T.eqns_to_jaxpr([sin, sin])
    with pytest.raises(ValueError, match=r"a variable appears twice among constvars and invars"):
        T.eqns_to_jaxpr([sin], invars=[jaxpr.invars[0]], constvars=[jaxpr.invars[0]])
    with pytest.raises(ValueError, match=r"output .* is neither an input nor defined by an equation. Add it to"):
        T.eqns_to_jaxpr([sin], invars=[jaxpr.invars[0]], outvars=[mul.outvars[0]])
    with pytest.raises(ValueError, match=r"eqns_to_closed_jaxpr: 0 consts for 1 constvars"):
        T.eqns_to_closed_jaxpr([sin], constvars=[jaxpr.invars[0]])
