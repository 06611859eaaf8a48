"""checkpoint / remat: states threaded through jax.checkpoint, gradients equal to raw JAX,
rematerialisation present in the program, decorator forms and options."""

import jax
import jax.numpy as jnp
import pytest
from numpy.testing import assert_allclose

import brainstate as bs
from brainstate.transform import checkpoint, for_loop, grad, jit, remat
from tests.conftest import TraceCounter


def test_checkpoint_threads_written_state_and_returns_the_value():
    n = bs.State(jnp.array(0.0), name="n")

    @checkpoint
    def f(x):
        n.value = n.value + x
        return n.value * 2

    assert_allclose(f(3.0), 6.0)
    assert_allclose(jit(f)(1.0), 8.0)
    assert_allclose(n.value, 4.0)


def test_grad_of_checkpoint_matches_raw_jax_and_applies_writes():
    w = bs.ParamState(jnp.array([0.3, -0.7]), name="w")
    calls = bs.State(jnp.array(0), name="calls")

    def block(x):
        calls.value += 1
        return jnp.sum(jnp.sin(w.value * x) ** 2)

    g = grad(checkpoint(block), grad_states=w)(1.5)
    g_ref = jax.grad(lambda w: jnp.sum(jnp.sin(w * 1.5) ** 2))(w.value)
    assert_allclose(g, g_ref, rtol=1e-5)
    assert int(calls.value) == 1


def test_checkpoint_inside_grad_of_a_loop_matches_raw_jax():
    w = bs.ParamState(jnp.array(0.8), name="w")
    h = bs.State(jnp.array(0.1), name="h")
    xs = jnp.linspace(0, 1, 8)

    @checkpoint
    def cell(x):
        h.value = jnp.tanh(w.value * h.value + x)
        return h.value

    g = grad(lambda xs: for_loop(cell, xs).sum(), grad_states=w)(xs)

    def raw(w):
        step = jax.checkpoint(lambda h, x: (jnp.tanh(w * h + x),) * 2)
        return jax.lax.scan(step, jnp.array(0.1), xs)[1].sum()

    assert_allclose(g, jax.grad(raw)(w.value), rtol=1e-5)


def test_checkpoint_appears_in_the_program():
    w = bs.ParamState(jnp.ones(3), name="w")
    f = checkpoint(lambda x: jnp.sum(jnp.sin(w.value * x)))
    assert "remat" in str(jax.make_jaxpr(f)(1.0))


def test_policy_and_prevent_cse_are_passed_to_jax():
    w = bs.ParamState(jnp.ones(3), name="w")
    f = checkpoint(lambda x: jnp.sum(jnp.sin(w.value * x)), prevent_cse=False,
                   policy=jax.checkpoint_policies.nothing_saveable)
    text = str(jax.make_jaxpr(f)(1.0))
    assert "prevent_cse=False" in text and "nothing_saveable" in text


def test_decorator_with_options_and_static_argnums():
    w = bs.ParamState(jnp.array(2.0), name="w")

    @remat(static_argnums=1)
    def f(x, power):
        return w.value * x ** power

    assert_allclose(f(3.0, 2), 18.0)
    assert_allclose(grad(lambda x: f(x, 3), grad_states=w)(3.0), 27.0)


def test_remat_is_checkpoint():
    assert remat is checkpoint


def test_discovery_is_cached_per_call_signature():
    w = bs.ParamState(jnp.ones(2), name="w")
    counted = TraceCounter(lambda x: w.value * x)
    f = checkpoint(counted)
    f(1.0)
    first = counted.count
    f(2.0)
    assert counted.count == first  # the same signature reuses the traced jaxpr


def test_checkpoint_needs_a_callable():
    with pytest.raises(TypeError, match="checkpoint expects a callable"):
        checkpoint(3)
