"""scan, for_loop, while_loop, bounded_while_loop and the checkpointed loops: state semantics,
errors, composition with jit/grad/cond (checked against raw JAX with the state threaded by
hand), numerical gradients, and an eager-vs-jit property test over random stateful programs."""

import jax
import jax.extend
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from jax.test_util import check_grads
from numpy.testing import assert_allclose

import brainstate as bs
from brainstate.transform import (StatefulFunction, bounded_while_loop, checkpointed_for_loop, checkpointed_scan,
                                  cond, for_loop, grad, jit, scan, while_loop)
from tests.conftest import TraceCounter


def scan_eqns(jaxpr):
    """Every scan equation of a (closed) jaxpr, nested ones included."""
    found = []

    def walk(j):
        for eqn in j.eqns:
            if eqn.primitive.name == "scan":
                found.append(eqn)
            for sub in jax.extend.core.jaxprs_in_params(eqn.params):
                walk(sub)

    walk(jaxpr.jaxpr)
    return found


# -- scan / for_loop: state semantics ------------------------------------------------------------

def test_scan_threads_written_state_and_returns_carry_and_ys():
    acc = bs.State(jnp.array(1.0), name="acc")
    xs = jnp.arange(1.0, 6.0)

    def body(c, x):
        acc.value = acc.value * 0.5 + x
        return c + acc.value, acc.value * 2

    carry, ys = scan(body, 0.0, xs)

    def raw(c, x):
        a, c = c
        a = a * 0.5 + x
        return (a, c + a), a * 2

    (a_ref, c_ref), ys_ref = jax.lax.scan(raw, (jnp.array(1.0), 0.0), xs)
    assert_allclose(carry, c_ref, rtol=1e-5)
    assert_allclose(ys, ys_ref, rtol=1e-5)
    assert_allclose(acc.value, a_ref, rtol=1e-5)


def test_read_only_state_is_a_loop_constant_not_carried():
    w = bs.ParamState(jnp.array([1.0, 2.0]), name="w")
    jaxpr = jax.make_jaxpr(lambda xs: for_loop(lambda x: w.value * x, xs))(jnp.arange(3.0))
    (eqn,) = scan_eqns(jaxpr)
    assert eqn.params["num_carry"] == 0
    assert eqn.params["num_consts"] >= 1
    assert_allclose(for_loop(lambda x: w.value * x, jnp.arange(3.0)), [[0, 0], [1, 2], [2, 4]])


def test_written_state_rides_in_the_carry():
    w = bs.ParamState(jnp.array(2.0), name="w")
    h = bs.State(jnp.array(0.0), name="h")

    def run(xs):
        def step(x):
            h.value = h.value + w.value * x

        return for_loop(step, xs)

    sf = StatefulFunction(run)
    (eqn,) = scan_eqns(sf.get_jaxpr(jnp.arange(3.0)))
    assert eqn.params["num_carry"] == 1
    assert sf.get_write_states(jnp.arange(3.0)) == (h,)
    assert sf.get_read_states(jnp.arange(3.0)) == (w,)


def test_states_created_inside_the_body_stay_local():
    h = bs.State(jnp.array(0.0), name="h")

    def run(xs):
        def step(x):
            tmp = bs.State(x * 2, name="tmp")
            tmp.value = tmp.value + 1
            h.value = h.value + tmp.value
            return tmp.value

        return for_loop(step, xs)

    sf = StatefulFunction(run)
    assert sf.get_states(jnp.arange(3.0)) == (h,)
    (eqn,) = scan_eqns(sf.get_jaxpr(jnp.arange(3.0)))
    assert eqn.params["num_carry"] == 1
    assert_allclose(run(jnp.arange(3.0)), [1.0, 3.0, 5.0])
    assert_allclose(h.value, 9.0)


def test_for_loop_with_length_and_no_inputs():
    n = bs.State(jnp.array(0), name="n")

    def tick():
        n.value += 1
        return n.value * 10

    assert_allclose(for_loop(tick, length=4), [10, 20, 30, 40])
    assert int(n.value) == 4


def test_for_loop_several_pytree_inputs():
    xs = {"a": jnp.arange(3.0), "b": jnp.ones((3, 2))}
    ys = for_loop(lambda d, k: d["a"] * d["b"] + k, xs, jnp.arange(3.0))
    assert_allclose(ys, np.arange(3.0)[:, None] * np.ones((3, 2)) + np.arange(3.0)[:, None])


@pytest.mark.parametrize("unroll", [1, 2, True])
def test_for_loop_reverse_and_unroll_match_lax_scan(unroll):
    v = bs.State(jnp.array(0.0), name="v")
    xs = jnp.arange(1.0, 6.0)

    def step(x):
        v.value = 0.7 * v.value + x
        return v.value

    ys = for_loop(step, xs, reverse=True, unroll=unroll)
    v_ref, ys_ref = jax.lax.scan(lambda c, x: (0.7 * c + x, 0.7 * c + x), jnp.array(0.0), xs, reverse=True)
    assert_allclose(ys, ys_ref, rtol=1e-6)
    assert_allclose(v.value, v_ref, rtol=1e-6)


def test_nested_for_loops_thread_state_through_both_levels():
    s = bs.State(jnp.array(0.0), name="s")

    def outer(i):
        def inner(j):
            s.value = s.value + i * j

        for_loop(inner, jnp.arange(3.0))
        return s.value

    ys = jit(lambda: for_loop(outer, jnp.arange(4.0)))()
    assert_allclose(ys, np.cumsum([i * 3.0 for i in range(4)]))
    assert_allclose(s.value, 18.0)


def test_body_runs_once_per_trace():
    counted = TraceCounter(lambda x: x * 2)
    for_loop(counted, jnp.arange(5.0))
    assert counted.count == 1  # traced once with one step's shapes; the scan replays the jaxpr


# -- scan / for_loop: errors ---------------------------------------------------------------------

def test_state_shape_change_in_loop_body_names_the_state():
    v = bs.State(jnp.zeros(3), name="membrane")

    def step(x):
        v.value = jnp.zeros(4)

    with pytest.raises(ValueError, match="State 'membrane'.*changes its shape") as info:
        for_loop(step, jnp.arange(3.0))
    assert "body of for_loop" in "".join(info.value.__notes__)
    assert v.value.shape == (3,)


def test_state_dtype_change_in_jitted_loop_body_names_the_state():
    v = bs.State(jnp.zeros(3, jnp.int32), name="count")

    def step(x):
        v.value = v.value + 0.5

    with pytest.raises(ValueError, match="State 'count'.*changes its dtype"):
        jit(lambda xs: for_loop(step, xs))(jnp.arange(3.0))


def test_inconsistent_leading_axes_name_the_inputs():
    with pytest.raises(ValueError, match=r"xs\[0\] has length 3 but xs\[1\] has length 4"):
        for_loop(lambda a, b: a + b, jnp.ones(3), jnp.ones(4))


def test_length_disagreeing_with_inputs():
    with pytest.raises(ValueError, match="length=5 but xs.* leading axis of 3"):
        scan(lambda c, x: (c, x), 0.0, jnp.ones(3), length=5)


def test_scalar_input_has_no_axis_to_loop_over():
    with pytest.raises(ValueError, match=r"xs\[0\] is a scalar"):
        for_loop(lambda x: x, jnp.array(1.0))


def test_nothing_to_loop_over():
    with pytest.raises(ValueError, match="needs something to loop over"):
        for_loop(lambda: 1.0)


def test_negative_length():
    with pytest.raises(ValueError, match="length must be a non-negative int"):
        for_loop(lambda: 1.0, length=-1)


@pytest.mark.parametrize("length", [np.int64(3), np.int32(3), jnp.array(3)], ids=["int64", "int32", "jax"])
def test_a_length_computed_with_numpy_or_jax_is_a_length(length):
    assert_allclose(np.asarray(scan(lambda c, _: (c + 1, c), 0, None, length=length)[1]), [0, 1, 2])
    assert for_loop(lambda: 1.0, length=length).shape == (3,)
    assert checkpointed_scan(lambda c, _: (c + 1, c), 0, None, length=length)[1].shape == (3,)
    assert checkpointed_for_loop(lambda x: x * 2, jnp.arange(3.0), length=length).shape == (3,)
    assert int(bounded_while_loop(lambda v: v < 100, lambda v: v + 1, 0, max_steps=length)) == 3
    assert bs.transform.map(lambda x: x * 2, jnp.arange(5.0), batch_size=np.int64(2)).shape == (5,)


@pytest.mark.parametrize("length", [True, 3.0, jnp.array(3.0), "3"], ids=["bool", "float", "jax-float", "str"])
def test_a_length_that_is_not_an_integer_is_refused(length):
    with pytest.raises(ValueError, match="length must be a non-negative int"):
        scan(lambda c, _: (c, c), 0, None, length=length)
    with pytest.raises(ValueError, match="max_steps must be a non-negative int"):
        bounded_while_loop(lambda v: v < 1, lambda v: v + 1, 0, max_steps=length)


def test_bounded_while_loop_base_must_be_an_integer_of_at_least_two():
    with pytest.raises(ValueError, match="base must be an int >= 2, got 1"):
        bounded_while_loop(lambda v: v < 1, lambda v: v + 1, 0, max_steps=3, base=1)


def test_no_steps_of_a_bounded_while_loop_still_gives_arrays():
    out = bounded_while_loop(lambda v: v < 100, lambda v: v + 1, 0, max_steps=0)
    assert isinstance(out, jax.Array) and int(out) == 0


def test_a_looped_over_input_that_is_not_an_array_is_named():
    with pytest.raises(ValueError, match=r"for_loop: xs\[0\] is a str where an array is needed"):
        for_loop(lambda c: c, "abc")


def test_map_names_itself_in_its_errors():
    with pytest.raises(ValueError, match="^map: inconsistent leading axes"):
        bs.transform.map(lambda a, b: a + b, jnp.arange(5.0), jnp.ones(4))


def test_state_passed_as_loop_input():
    v = bs.State(jnp.zeros(3), name="v")
    with pytest.raises(bs.BrainStateError, match="State 'v'.*passed as an argument to for_loop"):
        for_loop(lambda x: x, v)


def test_scan_body_must_return_a_pair():
    with pytest.raises(TypeError, match="must return a pair"):
        scan(lambda c, x: c + x, 0.0, jnp.ones(3))


def test_scan_carry_must_keep_its_shape():
    with pytest.raises(TypeError, match=r"new carry float32\[2\] does not match the initial carry"):
        scan(lambda c, x: (jnp.ones(2), x), 0.0, jnp.ones(3))


# -- while loops ---------------------------------------------------------------------------------

def test_while_loop_carries_body_writes_and_cond_sees_current_value():
    n = bs.State(jnp.array(0), name="n")
    limit = bs.State(jnp.array(5), name="limit")

    def body(x):
        n.value += 1
        return x * 2.0

    out = while_loop(lambda x: n.value < limit.value, body, 1.0)
    assert_allclose(out, 32.0)
    assert int(n.value) == 5
    sf = StatefulFunction(lambda x: while_loop(lambda v: n.value < limit.value, body, x))
    assert set(map(id, sf.get_read_states(1.0))) == {id(limit)}
    assert sf.get_write_states(1.0) == (n,)


def test_while_loop_under_jit_matches_raw_jax():
    h = bs.State(jnp.array(1.0), name="h")

    def body(i):
        h.value = h.value * 1.5 + 0.1
        return i + 1

    steps = jit(lambda: while_loop(lambda i: h.value < 20.0, body, 0))()
    i_ref, h_ref = jax.lax.while_loop(lambda c: c[1] < 20.0, lambda c: (c[0] + 1, c[1] * 1.5 + 0.1),
                                      (0, jnp.array(1.0)))
    assert int(steps) == int(i_ref)
    assert_allclose(h.value, h_ref, rtol=1e-5)


def test_writing_a_state_in_while_cond_is_an_error():
    n = bs.State(jnp.array(0), name="n")

    def bad_cond(x):
        n.value += 1
        return x < 3

    with pytest.raises(bs.BrainStateError, match="cond_fun writes State 'n'.*move the write into body_fun"):
        while_loop(bad_cond, lambda x: x + 1, 0)
    assert int(n.value) == 0


def test_while_cond_must_return_a_boolean_scalar():
    with pytest.raises(TypeError, match="cond_fun must return a boolean scalar"):
        while_loop(lambda x: x, lambda x: x - 1.0, 3.0)


def test_while_body_must_keep_the_loop_value_shape():
    with pytest.raises(TypeError, match="body_fun returns .* but the loop value is"):
        while_loop(lambda x: x.sum() < 3, lambda x: jnp.ones(3), jnp.zeros(2))


def test_while_functions_must_be_callable():
    with pytest.raises(TypeError, match="cond_fun must be callable"):
        while_loop(True, lambda x: x, 0)


def test_state_shape_change_in_while_body_names_the_state():
    v = bs.State(jnp.zeros(2), name="buffer")

    def body(x):
        v.value = jnp.zeros(5)
        return x + 1

    with pytest.raises(ValueError, match="State 'buffer'.*changes its shape"):
        while_loop(lambda x: x < 3, body, 0)


@pytest.mark.parametrize("max_steps,base", [(100, 16), (37, 4), (5, 2), (1, 16)])
def test_bounded_while_loop_matches_while_loop(max_steps, base):
    n = bs.State(jnp.array(0), name="n")

    def body(x):
        n.value += 1
        return x * 1.5

    out = bounded_while_loop(lambda x: x < 30.0, body, 1.0, max_steps=max_steps, base=base)
    steps = min(int(np.ceil(np.log(30.0) / np.log(1.5))), max_steps)
    assert int(n.value) == steps
    assert_allclose(out, 1.5 ** steps, rtol=1e-5)


def test_bounded_while_loop_stops_at_max_steps():
    out = jit(lambda: bounded_while_loop(lambda x: x < 1000, lambda x: x + 1, 0, max_steps=21, base=4))()
    assert int(out) == 21
    assert int(bounded_while_loop(lambda x: x < 1000, lambda x: x + 1, 0, max_steps=0)) == 0


def test_bounded_while_loop_is_reverse_differentiable_with_states():
    w = bs.ParamState(jnp.array(1.1), name="w")

    def loss(x):
        return bounded_while_loop(lambda v: v < 10.0, lambda v: v * w.value + 1.0, x, max_steps=50, base=4)

    g_state, g_x = grad(loss, grad_states=w, argnums=0)(1.0)

    steps, v = 0, 1.0  # the primal run's step count, then the same steps unrolled in raw JAX
    while v < 10.0:
        v, steps = v * 1.1 + 1.0, steps + 1

    def raw(w, x):
        for _ in range(steps):
            x = x * w + 1.0
        return x

    gw_ref, gx_ref = jax.grad(raw, argnums=(0, 1))(1.1, 1.0)
    assert_allclose(g_state, gw_ref, rtol=1e-5)
    assert_allclose(g_x, gx_ref, rtol=1e-5)


@pytest.mark.parametrize("loop", [while_loop, lambda c, b, x: bounded_while_loop(c, b, x, max_steps=5)])
@pytest.mark.parametrize("which", ["cond_fun", "body_fun"])
def test_while_loop_functions_must_be_callable(loop, which):
    fns = dict(cond_fun=lambda x: x < 3, body_fun=lambda x: x + 1)
    fns[which] = 3
    with pytest.raises(TypeError, match=f"while_loop: {which} must be callable, got int: 3"):
        loop(fns["cond_fun"], fns["body_fun"], 0)


def test_bounded_while_loop_argument_checks():
    with pytest.raises(ValueError, match="max_steps must be a non-negative int"):
        bounded_while_loop(lambda x: x < 3, lambda x: x + 1, 0, max_steps=-1)
    with pytest.raises(ValueError, match="bounded_while_loop: base must be an int >= 2, got 1"):
        bounded_while_loop(lambda x: x < 3, lambda x: x + 1, 0, max_steps=5, base=1)


# -- checkpointed loops --------------------------------------------------------------------------

@pytest.mark.parametrize("n", [0, 3, 16, 17, 40])
def test_checkpointed_scan_matches_scan(n):
    s = bs.State(jnp.array(0.5), name="s")
    xs = jnp.sin(jnp.arange(n, dtype=jnp.float32))

    def body(c, x):
        s.value = jnp.tanh(s.value + x)
        return c + s.value, s.value * x

    c1, ys1 = checkpointed_scan(body, 0.0, xs, base=4)
    s1 = s.value
    s.value = 0.5
    c2, ys2 = scan(body, 0.0, xs)
    assert_allclose(c1, c2, rtol=1e-6)
    assert_allclose(ys1, ys2, rtol=1e-6)
    assert_allclose(s1, s.value, rtol=1e-6)


def test_checkpointed_for_loop_gradient_matches_for_loop_and_remats():
    w = bs.ParamState(jnp.array([0.3, -0.2]), name="w")
    h = bs.State(jnp.zeros(2), name="h")
    xs = jnp.linspace(-1, 1, 11)

    def run(loop, xs):
        h.value = jnp.zeros(2)

        def step(x):
            h.value = jnp.tanh(h.value * w.value + x)
            return h.value.sum()

        return loop(step, xs).sum()

    g1 = grad(lambda xs: run(lambda f, xs: checkpointed_for_loop(f, xs, base=3), xs), grad_states=w)(xs)
    g2 = grad(lambda xs: run(for_loop, xs), grad_states=w)(xs)
    assert_allclose(g1, g2, rtol=1e-5)
    jaxpr = StatefulFunction(lambda xs: run(lambda f, xs: checkpointed_for_loop(f, xs, base=3), xs)).get_jaxpr(xs)
    assert "remat" in str(jaxpr)


def test_checkpointed_for_loop_with_length_only():
    n = bs.State(jnp.array(0), name="n")

    def tick():
        n.value += 1
        return n.value

    assert_allclose(checkpointed_for_loop(tick, length=9, base=2), np.arange(1, 10))


def test_checkpointed_loop_base_check():
    with pytest.raises(ValueError, match="base must be an int >= 2"):
        checkpointed_scan(lambda c, x: (c, x), 0.0, jnp.ones(3), base=1)


# -- composition, checked against raw JAX ------------------------------------------------------

def test_jit_for_loop_cond_matches_raw_jax():
    v = bs.State(jnp.array(0.0), name="v")
    spikes = bs.State(jnp.array(0), name="spikes")
    xs = jnp.abs(jnp.sin(jnp.arange(30.0))) * 0.6

    def step(x):
        v.value = 0.9 * v.value + x

        def fire():
            v.value = jnp.zeros_like(v.value)
            spikes.value += 1
            return 1.0

        return cond(v.value > 1.0, fire, lambda: 0.0)

    out = jit(lambda xs: for_loop(step, xs))(xs)

    def raw(c, x):
        v, k = c
        v = 0.9 * v + x
        fired = v > 1.0
        return (jnp.where(fired, 0.0, v), k + fired.astype(jnp.int32)), fired.astype(jnp.float32)

    (v_ref, k_ref), out_ref = jax.jit(lambda xs: jax.lax.scan(raw, (jnp.array(0.0), jnp.array(0)), xs))(xs)
    assert_allclose(out, out_ref, atol=1e-5)
    assert_allclose(v.value, v_ref, atol=1e-5)
    assert int(spikes.value) == int(k_ref) > 0


def test_grad_of_for_loop_matches_raw_jax():
    w = bs.ParamState(jnp.array([[0.5, -0.3], [0.2, 0.4]]), name="w")
    h = bs.State(jnp.zeros(2), name="h")
    xs = jnp.cos(jnp.arange(12.0).reshape(6, 2))

    def loss(xs):
        def step(x):
            h.value = jnp.tanh(h.value @ w.value + x)
            return h.value

        return (for_loop(step, xs) ** 2).sum()

    g = grad(loss, grad_states=w)(xs)
    h_after = h.value

    def raw_loss(w, h0, xs):
        hT, ys = jax.lax.scan(lambda h, x: (jnp.tanh(h @ w + x),) * 2, h0, xs)
        return (ys ** 2).sum(), hT

    g_ref, hT_ref = jax.grad(raw_loss, has_aux=True)(w.value, jnp.zeros(2), xs)
    assert_allclose(g, g_ref, rtol=1e-5, atol=1e-6)
    assert_allclose(h_after, hT_ref, rtol=1e-5)


def test_check_grads_of_a_recurrent_model_run_through_for_loop():
    xs = jnp.sin(jnp.arange(10.0)).reshape(5, 2)

    def model(w, b, xs):
        h = bs.State(jnp.zeros(2), name="h")  # local to the jitted function

        def step(x):
            h.value = jnp.tanh(h.value @ w + x + b)
            return h.value

        return jnp.sum(for_loop(step, xs) ** 2)

    f = jit(model)
    w0 = jnp.array([[0.4, -0.2], [0.1, 0.3]])
    b0 = jnp.array([0.05, -0.1])
    check_grads(f, (w0, b0, xs), order=1, modes=["rev", "fwd"], atol=1e-2, rtol=1e-2)


# -- property: random stateful programs give the same states eagerly and under jit -------------

N_STATES = 3

leaf_op = st.one_of(
    st.tuples(st.just("axpy"), st.integers(0, N_STATES - 1), st.integers(0, N_STATES - 1),
              st.floats(-1, 1, width=32)),
    st.tuples(st.just("addx"), st.integers(0, N_STATES - 1)),
)


def nest(programs):
    """Programs whose ops may be loops and conds over smaller programs."""
    return st.lists(st.one_of(
        leaf_op,
        st.tuples(st.just("loop"), st.integers(0, 3), programs),
        st.tuples(st.just("cond"), st.integers(0, N_STATES - 1), st.floats(-1, 1, width=32), programs, programs),
    ), min_size=1, max_size=3)


# Each loop or cond is an XLA compilation when run eagerly, which is most of an example's cost;
# bounding the size keeps an example cheap enough for hundreds of them, nesting included.
program = st.recursive(st.lists(leaf_op, min_size=1, max_size=3), nest, max_leaves=4)


def run_program(prog, states, x):
    """Execute a program with the state-aware transforms."""
    for item in prog:
        kind = item[0]
        if kind == "axpy":
            _, i, j, c = item
            states[i].value = states[i].value * 0.9 + c * states[j].value
        elif kind == "addx":
            states[item[1]].value = states[item[1]].value + 0.1 * x
        elif kind == "loop":
            _, n, body = item
            for_loop(lambda xi: run_program(body, states, xi), jnp.arange(n, dtype=jnp.float32) + x)
        else:
            _, i, t, yes, no = item
            cond(states[i].value > t, lambda: run_program(yes, states, x), lambda: run_program(no, states, x))
    return None


def interpret(prog, vals, x):
    """The same program in numpy float32 scalars."""
    for item in prog:
        kind = item[0]
        if kind == "axpy":
            _, i, j, c = item
            vals[i] = vals[i] * np.float32(0.9) + np.float32(c) * vals[j]
        elif kind == "addx":
            vals[item[1]] += np.float32(0.1) * x
        elif kind == "loop":
            for k in range(item[1]):
                interpret(item[2], vals, np.float32(k) + x)
        else:
            _, i, t, yes, no = item
            interpret(yes if vals[i] > np.float32(t) else no, vals, x)


@settings(max_examples=200, deadline=None)
@given(program)
def test_random_stateful_programs_same_eagerly_and_under_jit(prog):
    init = [0.3, -0.5, 0.8]
    states = [bs.State(jnp.array(v), name=f"s{k}") for k, v in enumerate(init)]
    run_program(prog, states, jnp.float32(1.0))
    eager = [np.asarray(s.value) for s in states]
    for s, v in zip(states, init):
        s.value = jnp.array(v)
    jit(lambda x: run_program(prog, states, x))(jnp.float32(1.0))
    jitted = [np.asarray(s.value) for s in states]
    expected = [np.float32(v) for v in init]
    interpret(prog, expected, np.float32(1.0))
    assert_allclose(jitted, eager, rtol=1e-6, atol=1e-6)
    assert_allclose(eager, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("loop", [
    lambda c, b, x: bs.transform.while_loop(c, b, x),
    lambda c, b, x: bs.transform.bounded_while_loop(c, b, x, max_steps=10),
], ids=["while_loop", "bounded_while_loop"])
def test_while_loops_promote_a_weak_loop_value_as_lax_does(loop):
    # `0` is a weak int; the body makes it a float: the loop runs in float32 from the start
    expected = jax.lax.while_loop(lambda c: c < 3, lambda c: c + 1.0, 0)
    out = loop(lambda c: c < 3, lambda c: c + 1.0, 0)
    assert out.dtype == expected.dtype == jnp.float32 and float(out) == float(expected) == 3.0
    n = bs.State(jnp.zeros((), jnp.float32))

    def body(c):
        n.value = n.value + c
        return c + 0.5

    assert float(loop(lambda c: c < 2, body, 0)) == 2.0
    assert float(n.value) == 0.0 + 0.5 + 1.0 + 1.5
