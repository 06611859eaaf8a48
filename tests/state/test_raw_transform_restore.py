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


def _cell_restoring_in_its_vjp_rule(h):
    """braintrace's pattern: the forward rule of a `jax.custom_vjp` keeps a hidden state in step
    with the forward pass by restoring its (traced) value. JAX runs that rule while a state-aware
    `grad` differentiates its function, outside any trace of ours."""
    def primal(w, hv, x):
        return jnp.tanh(w * x + hv)

    @jax.custom_vjp
    def cell(w, hv, x):
        return primal(w, hv, x)

    def fwd(w, hv, x):
        out = primal(w, hv, x)
        h.restore_value(out)
        fwd.runs += 1
        return out, (w, hv, x)

    def bwd(res, g):
        return jax.vjp(primal, *res)[1](g)

    fwd.runs = 0
    cell.defvjp(fwd, bwd)
    return cell, primal, fwd


def test_a_restore_in_a_custom_vjp_rule_does_not_contend_with_the_grad_commit():
    h, w = bs.HiddenState(jnp.zeros(3)), bs.ParamState(jnp.array([0.5, -1.0, 2.0]))
    cell, primal, fwd = _cell_restoring_in_its_vjp_rule(h)
    x = jnp.array([1.0, 2.0, 3.0])

    def loss(x):
        h.value = cell(w.value, h.value, x)
        return (h.value ** 2).sum()

    grads = bs.transform.grad(loss, grad_states={"w": w})(x)
    want = jax.grad(lambda wv: (primal(wv, jnp.zeros(3), x) ** 2).sum())(w.value)
    assert_allclose(grads["w"], want, rtol=1e-6)
    # The commit went through at once (no second run reading the rule's stale tracer), and the
    # state holds the committed value, not the tracer the rule put in.
    assert fwd.runs == 1
    assert_allclose(h.value, primal(w.value, jnp.zeros(3), x), rtol=1e-6)
    grads = bs.transform.grad(loss, grad_states={"w": w})(x)  # and again, from that value
    want = jax.grad(lambda wv: (primal(wv, primal(w.value, jnp.zeros(3), x), x) ** 2).sum())(w.value)
    assert_allclose(grads["w"], want, rtol=1e-6)
