"""cond, switch and ifelse: states touched by any branch are threaded, only the taken branch's
writes take effect; branch and condition errors; composition with jit, grad and for_loop."""

import jax
import jax.numpy as jnp
import pytest
from numpy.testing import assert_allclose

import brainstate as bs
from brainstate.transform import StatefulFunction, cond, for_loop, grad, ifelse, jit, switch


def two_counters():
    a = bs.State(jnp.array(0.0), name="a")
    b = bs.State(jnp.array(0.0), name="b")

    def write_a(x):
        a.value = a.value + x
        return x * 2

    def write_b(x):
        b.value = b.value - x
        return x * 3

    return a, b, write_a, write_b


@pytest.mark.parametrize("use_jit", [False, True])
@pytest.mark.parametrize("pred", [True, False])
def test_cond_only_the_taken_branch_writes(pred, use_jit):
    a, b, write_a, write_b = two_counters()
    run = lambda p, x: cond(p, write_a, write_b, x)
    out = (jit(run) if use_jit else run)(jnp.array(pred), 5.0)
    assert_allclose(out, 10.0 if pred else 15.0)
    assert_allclose(a.value, 5.0 if pred else 0.0)
    assert_allclose(b.value, 0.0 if pred else -5.0)


def test_states_from_every_branch_are_threaded():
    a, b, write_a, write_b = two_counters()
    w = bs.ParamState(jnp.array(2.0), name="w")
    sf = StatefulFunction(lambda p, x: cond(p, write_a, lambda x: write_b(x * w.value), x))
    args = (jnp.array(True), 1.0)
    assert {id(s) for s in sf.get_write_states(*args)} == {id(a), id(b)}
    assert sf.get_read_states(*args) == (w,)


def test_read_only_state_in_a_branch():
    w = bs.ParamState(jnp.array([1.0, 2.0]), name="w")
    out = jit(lambda p: cond(p, lambda: w.value * 2, lambda: -w.value))(jnp.array(False))
    assert_allclose(out, [-1.0, -2.0])
    assert_allclose(w.value, [1.0, 2.0])


def test_states_created_in_a_branch_stay_local():
    a = bs.State(jnp.array(1.0), name="a")

    def branch():
        tmp = bs.State(a.value * 3, name="tmp")
        tmp.value = tmp.value + 1
        return tmp.value

    sf = StatefulFunction(lambda p: cond(p, branch, lambda: a.value))
    assert sf.get_states(jnp.array(True)) == (a,)
    assert_allclose(cond(jnp.array(True), branch, lambda: a.value), 4.0)


@pytest.mark.parametrize("index,expected", [(-3, 0), (0, 0), (1, 1), (2, 2), (9, 2)])
def test_switch_clamps_the_index(index, expected):
    hits = [bs.State(jnp.array(0), name=f"hit{k}") for k in range(3)]

    def make(k):
        def branch(x):
            hits[k].value += 1
            return x + k

        return branch

    out = jit(lambda i, x: switch(i, [make(k) for k in range(3)], x))(index, 10)
    assert int(out) == 10 + expected
    assert [int(h.value) for h in hits] == [int(k == expected) for k in range(3)]


def test_switch_with_a_single_branch():
    assert_allclose(switch(3, [lambda x: x + 1.0], 1.0), 2.0)


def test_ifelse_first_true_condition_wins_without_check():
    x = jnp.array(7.0)
    branches = [lambda: 0.0, lambda: 1.0, lambda: 2.0]
    assert_allclose(ifelse([x > 5, x > 0, x <= 0], branches, check_cond=False), 0.0)
    assert_allclose(ifelse([x > 9, x > 0, x <= 0], branches, check_cond=False), 1.0)
    assert_allclose(ifelse([x > 9, x > 8, x > 10], branches, check_cond=False), 2.0)


@pytest.mark.parametrize("value,expected", [(7.0, 2.0), (3.0, 1.0), (-1.0, 0.0)])
def test_ifelse_explicit_else_under_jit(value, expected):
    taken = bs.State(jnp.array(-1), name="taken")

    def branch(k):
        def run(x):
            taken.value = jnp.array(k)
            return jnp.float32(2 - k)

        return run

    f = jit(lambda x: ifelse([x > 5, (x > 0) & (x <= 5)], [branch(0), branch(1), branch(2)], x))
    assert_allclose(f(value), expected)
    assert int(taken.value) == 2 - int(expected)


def test_ifelse_check_cond_rejects_overlapping_concrete_conditions():
    with pytest.raises(bs.BrainStateError, match="2 of the conditions .* exactly one may be"):
        ifelse([True, True], [lambda: 1.0, lambda: 2.0])


@pytest.mark.parametrize("n_conditions, n_branches", [(3, 2), (1, 3), (0, 2), (0, 0)])
def test_ifelse_needs_one_condition_per_branch_or_one_fewer(n_conditions, n_branches):
    with pytest.raises(ValueError, match=rf"ifelse got {n_conditions} condition\(s\) for {n_branches} branch\(es\)\. "
                                         rf"Give one condition per branch, or one fewer"):
        ifelse([True] * n_conditions, [lambda: 1.0] * n_branches)


@pytest.mark.parametrize("conditions", [[jnp.array([True, False]), False], [False, jnp.ones((1,), bool)]])
def test_ifelse_conditions_must_be_scalars(conditions):
    bad = next(k for k, c in enumerate(conditions) if jnp.ndim(c))
    with pytest.raises(ValueError, match=rf"ifelse: condition {bad} has shape \((1|2),\); each condition must be "
                                         rf"a boolean scalar"):
        ifelse(conditions, [lambda: 1.0, lambda: 2.0, lambda: 3.0])


def test_ifelse_check_cond_rejects_no_true_condition_without_else():
    with pytest.raises(bs.BrainStateError, match="0 of the conditions .* exactly one may be"):
        ifelse([False, False], [lambda: 1.0, lambda: 2.0])


def test_ifelse_check_cond_runs_inside_compiled_code():
    f = jit(lambda x: ifelse([x > 0, x > 1, x > 2], [lambda: 1.0, lambda: 2.0, lambda: 3.0, lambda: 4.0]))
    assert_allclose(f(0.5), 1.0)
    with pytest.raises(Exception, match="3 of the conditions .* at most one may be"):
        jax.block_until_ready(f(5.0))


def test_ifelse_condition_count_must_match():
    with pytest.raises(ValueError, match="3 condition.*for 1 branch"):
        ifelse([True, False, False], [lambda: 1.0])


def test_ifelse_conditions_must_be_scalars():
    with pytest.raises(ValueError, match="condition 0 has shape \\(2,\\)"):
        ifelse([jnp.array([True, False])], [lambda: 1.0, lambda: 2.0])


def test_branches_returning_different_structures_name_the_branch():
    def pair():
        return 1.0, 2.0

    def single():
        return 1.0

    with pytest.raises(TypeError, match=r"branch 1 \(single\) returns .* but branch 0 \(pair\) returns"):
        cond(jnp.array(True), pair, single)


def test_branches_returning_different_shapes():
    with pytest.raises(TypeError, match=r"switch: branch 2 .* float32\[3\]"):
        switch(0, [lambda: jnp.zeros(2), lambda: jnp.ones(2), lambda: jnp.zeros(3)])


def test_branch_must_be_callable():
    with pytest.raises(TypeError, match="branch 1 is not callable"):
        switch(0, [lambda: 1.0, 2.0])


def test_switch_needs_a_branch():
    with pytest.raises(ValueError, match="switch needs at least one branch"):
        switch(0, [])


def test_state_passed_as_operand():
    a = bs.State(jnp.zeros(2), name="a")
    with pytest.raises(bs.BrainStateError, match="State 'a'.*passed as an argument to cond"):
        cond(True, lambda s: 1.0, lambda s: 2.0, a)


def test_grad_through_cond_with_a_state_matches_raw_jax():
    w = bs.ParamState(jnp.array([0.5, -1.5]), name="w")
    count = bs.State(jnp.array(0), name="count")

    def loss(x):
        def big():
            count.value += 1
            return jnp.sum(w.value ** 2 * x)

        return cond(x > 1.0, big, lambda: jnp.sum(jnp.sin(w.value) * x))

    for x in (0.5, 2.0):
        g = grad(loss, grad_states=w)(x)
        g_ref = jax.grad(lambda w: jax.lax.cond(x > 1.0, lambda: jnp.sum(w ** 2 * x),
                                                lambda: jnp.sum(jnp.sin(w) * x)))(w.value)
        assert_allclose(g, g_ref, rtol=1e-5)
    assert int(count.value) == 1


def test_cond_inside_for_loop_under_jit_threads_both_branch_states():
    up = bs.State(jnp.array(0.0), name="up")
    down = bs.State(jnp.array(0.0), name="down")

    def step(x):
        def inc():
            up.value += x

        def dec():
            down.value -= x

        cond(x > 2, inc, dec)

    jit(lambda xs: for_loop(step, xs))(jnp.arange(6.0))
    assert_allclose(up.value, 3.0 + 4.0 + 5.0)
    assert_allclose(down.value, -(0.0 + 1.0 + 2.0))


def test_a_single_branch_gives_arrays_as_several_do():
    for out in (switch(3, [lambda: 5.0]), ifelse([True], [lambda: 5.0])):
        assert isinstance(out, jax.Array) and float(out) == 5.0
    assert isinstance(switch(0, [lambda x: (x, x * 2)], 1.0)[1], jax.Array)
