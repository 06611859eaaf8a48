"""`restore_value` inside raw JAX transforms: the way libraries (braintrace) bring values into a
raw `jax.lax.scan` / `jax.jit` body. Allowed, readable in that body, and refused with a clear
error once the raw transform has ended if nobody restored a value of the enclosing code."""

import jax
import jax.numpy as jnp
import numpy as np
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


# -- states created inside a raw JAX transform are local to it -----------------------------------
def _ref_scan(xs):
    return jax.lax.scan(lambda c, x: (c * 0.5 + x,) * 2, jnp.ones(2), xs)[1]


@pytest.mark.parametrize("outer, oracle", [
    (bs.transform.jit, _ref_scan),
    (lambda f: lambda xs: bs.transform.for_loop(lambda i: f(xs), jnp.arange(2))[1], _ref_scan),
    (lambda f: bs.transform.grad(lambda xs: f(xs).sum()), jax.grad(lambda xs: _ref_scan(xs).sum())),
], ids=["jit", "for_loop", "grad"])
def test_a_state_made_in_a_raw_scan_body_nested_in_a_state_aware_transform_is_writable_there(outer, oracle):
    # braintrace's pattern: a random stream made from the scan's carry inside the body
    def body(carry, x):
        s = bs.State(carry)  # holds the raw scan's tracer
        s.value = s.value * 0.5 + x  # a write from that same raw trace
        return s.value, s.value

    def step(xs):
        return jax.lax.scan(body, jnp.ones(2), xs)[1]

    xs = jnp.arange(6.0).reshape(3, 2)
    assert_allclose(outer(step)(xs), oracle(xs), rtol=1e-6)


def test_a_concrete_state_made_in_a_raw_scan_body_takes_the_bodys_tracers():
    def body(carry, x):
        s = bs.State(np.zeros(2, np.float32))  # concrete at creation
        s.value = carry + x  # then the raw trace's tracer
        return s.value, s.value.sum()

    ys = bs.transform.jit(lambda xs: jax.lax.scan(body, jnp.zeros(2), xs)[1])(jnp.ones((3, 2)))
    assert_allclose(ys, [2.0, 4.0, 6.0])


def test_a_model_built_under_raw_grad_runs_state_aware_loops_there():
    # a model made inside a loss function (concrete init), then stepped by a state-aware loop:
    # the loop writes the raw grad's tracers into the model's own states
    def loss(w):
        h = bs.HiddenState(jnp.zeros(2))

        def step(x):
            h.value = jnp.tanh(h.value * w + x)
            return h.value

        return bs.transform.for_loop(step, jnp.ones((4, 2))).sum()

    def ref(w):
        def step(c, x):
            c = jnp.tanh(c * w + x)
            return c, c
        return jax.lax.scan(step, jnp.zeros(2), jnp.ones((4, 2)))[1].sum()

    assert_allclose(jax.grad(loss)(0.3), jax.grad(ref)(0.3), rtol=1e-6)
    assert_allclose(jax.jit(jax.grad(loss))(0.3), jax.grad(ref)(0.3), rtol=1e-6)


def test_a_concrete_state_made_in_a_raw_jit_holds_its_tracer_there_and_is_refused_after():
    holder = {}

    @jax.jit
    def f(x):
        s = holder["s"] = bs.State(np.zeros((), np.float32))  # concrete (jnp.zeros would be traced)
        s.value = x * 2
        return s.value + 1

    assert_allclose(f(1.0), 3.0)
    with pytest.raises(bs.TraceContextError, match="escaped"):
        holder["s"].value


def test_a_state_made_by_the_state_aware_transform_is_still_refused_a_nested_raw_write():
    def step(x):
        s = bs.State(jnp.zeros(2))  # owned by jit's trace, not by the raw vmap below

        def lane(v):
            s.value = v  # a vmap lane's tracer cannot be carried out of the vmap
            return v

        jax.vmap(lane)(jnp.ones((3, 2)))
        return s.value

    with pytest.raises(bs.TraceContextError, match=r"Writing into State .* from inside a raw JAX transform"):
        bs.transform.jit(step)(jnp.ones(2))
