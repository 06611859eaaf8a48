"""`restore_value` inside raw JAX transforms: the way libraries (braintrace) bring values into a
raw `jax.lax.scan` / `jax.jit` body. Allowed, readable in that body, and refused with a clear
error once the raw transform has ended if nobody restored a value of the enclosing code."""

import jax
import jax.numpy as jnp
import pytest
from numpy.testing import assert_allclose

import brainstate as bs


def _scan_with_restore(h, restore_after: bool):
    def body(carry, x):
        h.restore_value(carry)  # the raw scan's tracer, on purpose
        h.value = h.value * 0.5 + x  # a later write in the same raw transform is allowed
        return h.value, h.value

    def step(xs):
        before = h.value
        last, ys = jax.lax.scan(body, before, xs)
        if restore_after:
            h.restore_value(last)  # back to a value of the enclosing function
        return ys

    return step


def test_restore_inside_a_raw_scan_nested_in_jit_matches_plain_jax():
    h = bs.HiddenState(jnp.ones(2))
    xs = jnp.arange(6.0).reshape(3, 2)
    ys = bs.transform.jit(_scan_with_restore(h, restore_after=True))(xs)

    def ref(c, x):
        c = c * 0.5 + x
        return c, c

    last, want = jax.lax.scan(ref, jnp.ones(2), xs)
    assert_allclose(ys, want)
    assert_allclose(h.value, last)


def test_a_raw_scan_value_left_in_a_state_is_refused_by_name():
    h = bs.HiddenState(jnp.ones(2), name="h")
    f = bs.transform.jit(_scan_with_restore(h, restore_after=False))
    with pytest.raises(bs.TraceContextError, match="HiddenState 'h' .*still holds a value of a raw JAX transform"):
        f(jnp.ones((3, 2)))
    assert_allclose(h.value, jnp.ones(2))  # nothing was written


def test_plain_writes_from_a_nested_raw_transform_are_still_refused():
    h = bs.HiddenState(jnp.ones(2), name="h")

    def body(carry, x):
        h.value = carry + x
        return carry, x

    f = bs.transform.jit(lambda xs: jax.lax.scan(body, jnp.zeros(2), xs)[1])
    with pytest.raises(bs.TraceContextError, match="from inside a raw JAX transform .* `state.restore_value"):
        f(jnp.ones((3, 2)))


def test_restore_under_a_top_level_raw_jit_is_readable_there_and_after():
    h = bs.HiddenState(jnp.zeros(2), name="h")

    def f(x):
        h.restore_value(x)
        return h.value * 2.0

    assert_allclose(jax.jit(f)(jnp.ones(2)), 2.0 * jnp.ones(2))
    # as the reference: the stale value can be inspected (libraries read its dtype) ...
    assert h.value.shape == (2,) and h.value.dtype == jnp.float32
    with pytest.raises(jax.errors.UnexpectedTracerError, match="Encountered an unexpected tracer"):  # ... not computed with
        h.value + 1.0
    h.restore_value(jnp.full(2, 3.0))  # a concrete value makes the state usable again
    assert_allclose(h.value, jnp.full(2, 3.0))


def test_a_plain_write_in_a_raw_trace_after_a_restore_is_still_refused_afterwards():
    h = bs.HiddenState(jnp.zeros(2), name="h")
    created = {}

    def f(x):
        created["s"] = bs.State(x)  # created in the raw trace: may hold its tracers
        return x

    jax.jit(f)(jnp.ones(2))
    with pytest.raises(bs.TraceContextError, match="holds a JAX tracer from a transform that has finished"):
        created["s"].value
    assert_allclose(h.value, jnp.zeros(2))


@pytest.mark.parametrize("outer", [jax.grad, lambda f: jax.jit(jax.grad(f))], ids=["grad", "jit-grad"])
@pytest.mark.parametrize("inner", [bs.transform.jit, bs.transform.vmap], ids=["jit", "vmap"])
def test_a_model_rebuilt_inside_a_raw_trace_works_through_nested_state_aware_transforms(outer, inner):
    layer = bs.nn.Linear(4, 3, w_init=jnp.ones((4, 3)) * 0.5)
    graphdef, params, others = bs.graph.treefy_split(layer, bs.ParamState, ...)
    x = jnp.arange(8.0).reshape(2, 4)

    def loss(params):
        model = bs.graph.treefy_merge(graphdef, params, others)  # its states hold the raw trace's tracers
        return inner(lambda a: model(a))(x).sum()

    grads = outer(loss)(params)
    want = jax.grad(lambda w: (x @ w).sum())(jnp.ones((4, 3)) * 0.5)
    assert_allclose(grads["weight"].value["weight"], want, rtol=1e-6)
