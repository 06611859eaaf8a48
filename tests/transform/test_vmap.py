"""vmap / vmap2 / StatefulMapping / unvmap: state semantics, composition, bad input.

Every numeric result is compared with the same computation in raw JAX, the state threaded by
hand.
"""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from numpy.testing import assert_allclose

import brainstate as bs
from brainstate.transform import StatefulMapping, grad, jit, unvmap, vmap, vmap2

TOL = dict(rtol=1e-5, atol=1e-5)


def xs(*shape):
    return jnp.arange(np.prod(shape), dtype=jnp.float32).reshape(shape) / 10.0


# -- state semantics -----------------------------------------------------------------------------
def test_read_only_state_is_broadcast():
    w = bs.ParamState(jnp.array([1.0, -2.0, 0.5]))
    out = vmap(lambda x: (w.value * x).sum())(xs(4, 3))
    raw = jax.vmap(lambda w, x: (w * x).sum(), in_axes=(None, 0))(w.value, xs(4, 3))
    assert_allclose(out, raw, **TOL)


def test_declared_state_is_threaded_and_written_back_batched():
    h = bs.HiddenState(xs(4, 3))
    h0 = h.value

    def step(x):
        h.value = jnp.tanh(h.value * 0.5 + x)
        return h.value.sum()

    out = vmap(step, in_states=h)(xs(4, 3) + 1)
    raw_h, raw_out = jax.vmap(lambda h, x: (jnp.tanh(h * 0.5 + x), jnp.tanh(h * 0.5 + x).sum()))(h0, xs(4, 3) + 1)
    assert_allclose(out, raw_out, **TOL)
    assert_allclose(h.value, raw_h, **TOL)


def test_declared_state_on_axis_one():
    h = bs.State(xs(3, 4))  # batch axis 1
    h0 = h.value

    def step(x):
        h.value = h.value + x
        return h.value

    out = vmap(step, in_states={1: h})(jnp.ones((4, 3)))
    assert h.value.shape == (3, 4)
    assert_allclose(h.value, h0 + 1, **TOL)
    assert_allclose(out, (h0 + 1).T, **TOL)


def test_out_states_only_stacks_the_written_value():
    s = bs.State(jnp.zeros(3))

    def f(x):
        s.value = s.value + x
        return x.sum()

    vmap(f, out_states=s)(xs(5, 3))
    assert s.value.shape == (5, 3)
    assert_allclose(s.value, xs(5, 3), **TOL)


def test_dict_of_states_declaration():
    a, b = bs.State(xs(2, 3)), bs.State(xs(2, 3) * 2)
    a0, b0 = a.value, b.value

    def f():
        a.value = a.value + b.value
        return a.value.sum()

    out = vmap(f, in_states={"a": a, "b": b})()
    assert_allclose(a.value, a0 + b0, **TOL)
    assert_allclose(out, (a0 + b0).sum(axis=1), **TOL)


def test_undeclared_state_written_with_unbatched_value_is_written():
    count = bs.State(jnp.array(0.0))

    def f(x):
        count.value = count.value + 1.0
        return x * 2

    out = vmap(f)(xs(4))
    assert_allclose(out, xs(4) * 2, **TOL)
    assert_allclose(count.value, 1.0)


def test_batched_write_to_undeclared_state_raises_and_leaves_it_unchanged():
    total = bs.State(jnp.zeros(3), name="total")

    def f(x):
        total.value = total.value + x
        return x

    with pytest.raises(bs.BatchAxisError, match=r"State 'total' .* not declared in out_states"):
        vmap(f)(xs(4, 3))
    assert_allclose(total.value, jnp.zeros(3))


def test_batch_axis_error_under_jit_leaves_state_unchanged():
    total = bs.State(jnp.zeros(3), name="acc")

    @jit
    @vmap
    def f(x):
        total.value = total.value + x
        return x

    with pytest.raises(bs.BatchAxisError, match="State 'acc'"):
        f(xs(4, 3))
    assert_allclose(total.value, jnp.zeros(3))


def test_states_created_inside_stay_local():
    w = bs.State(jnp.array(2.0))
    made = []

    def f(x):
        tmp = bs.State(x * w.value)
        tmp.value = tmp.value + 1
        made.append(tmp)
        return tmp.value

    mapped = vmap(f)
    out = mapped(xs(4))
    assert_allclose(out, xs(4) * 2 + 1, **TOL)
    assert all(id(s) != id(t) for s in mapped.stateful_fun.get_states(jax.ShapeDtypeStruct((), jnp.float32))
               for t in made)
    with pytest.raises(bs.TraceContextError, match="holds a JAX tracer"):
        made[-1].value


def test_state_passed_as_argument_is_an_error():
    s = bs.State(jnp.ones(3))
    with pytest.raises(bs.BrainStateError, match="passed as an argument"):
        vmap(lambda x: x)(s)


# -- composition ---------------------------------------------------------------------------------
def test_jit_of_vmap_matches_raw_jax():
    w = bs.ParamState(jnp.array([[0.5, -0.2], [0.1, 0.3]]))
    h = bs.HiddenState(jnp.zeros((6, 2)))

    @jit
    @vmap(in_states=h)
    def step(x):
        h.value = jnp.tanh(h.value @ w.value + x)
        return h.value.sum()

    raw = jax.jit(jax.vmap(lambda w, h, x: (jnp.tanh(h @ w + x), jnp.tanh(h @ w + x).sum()), in_axes=(None, 0, 0)))
    hh = jnp.zeros((6, 2))
    for t in range(3):
        out = step(xs(6, 2) + t)
        hh, raw_out = raw(w.value, hh, xs(6, 2) + t)
        assert_allclose(out, raw_out, **TOL)
    assert_allclose(h.value, hh, **TOL)


def test_nested_vmap_matches_raw_jax():
    h = bs.State(xs(3, 4, 2))
    h0 = h.value
    scale = bs.State(jnp.array(1.5))

    def inner(x):
        h.value = h.value * scale.value + x
        return h.value.sum()

    out = vmap(vmap(inner, in_states=h), in_states=h)(xs(3, 4, 2))
    f = lambda h, x: (h * 1.5 + x, (h * 1.5 + x).sum())
    raw_h, raw_out = jax.vmap(jax.vmap(f))(h0, xs(3, 4, 2))
    assert_allclose(out, raw_out, **TOL)
    assert_allclose(h.value, raw_h, **TOL)


def test_nested_vmap_inner_write_batched_only_along_outer_axis():
    g = bs.State(xs(3, 2))
    g0 = g.value

    def inner(x):
        g.value = g.value * 2.0  # same in every inner lane, different per outer lane
        return x + g.value

    out = vmap(lambda x: vmap(inner)(x), in_states=g)(xs(3, 4, 2))
    assert_allclose(g.value, g0 * 2, **TOL)
    assert_allclose(out, xs(3, 4, 2) + (g0 * 2)[:, None, :], **TOL)


def test_per_example_gradients():
    w = bs.ParamState(jnp.array([0.3, -0.1, 0.2]))

    def loss(x, y):
        return (jnp.dot(w.value, x) - y) ** 2

    grads = vmap(grad(loss, grad_states=w))(xs(5, 3), jnp.arange(5.0))
    raw = jax.vmap(jax.grad(lambda w, x, y: (jnp.dot(w, x) - y) ** 2), in_axes=(None, 0, 0))(w.value, xs(5, 3),
                                                                                          jnp.arange(5.0))
    assert_allclose(grads, raw, **TOL)


def test_grad_through_vmap_with_declared_state():
    h = bs.State(xs(4, 2))
    h0 = h.value
    w = bs.ParamState(jnp.array(0.7))

    def step(x):
        h.value = h.value * w.value + x
        return h.value.sum()

    g = grad(lambda x: vmap(step, in_states=h)(x).sum(), grad_states=w)(xs(4, 2))
    raw = jax.grad(lambda w: (h0 * w + xs(4, 2)).sum())(0.7)
    assert_allclose(g, raw, **TOL)
    assert_allclose(h.value, h0 * 0.7 + xs(4, 2), **TOL)


def test_axis_name_collective():
    out = vmap(lambda x: x - jax.lax.pmean(x, "b"), axis_name="b")(xs(4, 2))
    assert_allclose(out, xs(4, 2) - xs(4, 2).mean(0), **TOL)


def test_in_axes_none_and_kwargs():
    def f(x, c, *, k):
        return x * c + k

    out = vmap(f, in_axes=(0, None))(xs(3, 2), 2.0, k=jnp.ones((3, 2)))
    assert_allclose(out, xs(3, 2) * 2 + 1, **TOL)


def test_out_axes():
    out = vmap(lambda x: x * 2, out_axes=1)(xs(3, 2))
    assert_allclose(out, (xs(3, 2) * 2).T, **TOL)


def test_axis_size_without_mapped_inputs():
    c = bs.State(jnp.array(2.0))
    out = vmap(lambda: c.value * jnp.ones(2), axis_size=3)()
    assert out.shape == (3, 2)


# -- random streams ------------------------------------------------------------------------------
@pytest.fixture
def rng():
    random = pytest.importorskip("brainstate.random")
    return random.RandomState(7)


def test_random_draws_differ_per_lane(rng):
    before = np.asarray(jax.random.key_data(rng.value))
    out = vmap(lambda x: x + rng.normal(size=2))(jnp.zeros((4, 2)))
    assert len({tuple(np.asarray(r).round(6)) for r in out}) == 4
    assert rng.value.shape == ()  # still one typed key
    assert not np.array_equal(np.asarray(jax.random.key_data(rng.value)), before)


def test_random_draws_differ_per_lane_under_jit(rng):
    f = jit(vmap(lambda x: x + rng.uniform(size=3)))
    a, b = f(jnp.zeros((4, 3))), f(jnp.zeros((4, 3)))
    assert len({tuple(np.asarray(r).round(6)) for r in a}) == 4
    assert not np.allclose(a, b)


def test_vmap2_always_splits_random_streams(rng):
    out = vmap2(lambda x: x + rng.normal(), state_in_axes=...)(jnp.zeros(5))
    assert len(set(np.asarray(out).round(6).tolist())) == 5


# -- bad input -----------------------------------------------------------------------------------
def test_wrong_in_axes_length():
    with pytest.raises(ValueError, match=r"in_axes has 3 entries .* 2 positional"):
        vmap(lambda a, b: a + b, in_axes=(0, 0, 0))(xs(3), xs(3))


def test_inconsistent_argument_sizes_name_the_argument():
    with pytest.raises(ValueError, match=r"vmap: inconsistent sizes for the mapped axis: args\[0\] has size 3 .* "
                                         r"args\[1\] has size 4 .*\. Every mapped argument and batched state "
                                         r"needs the same size along its mapped axis"):
        vmap(lambda a, b: a)(xs(3), xs(4))


def test_inconsistent_state_size_names_the_state():
    h = bs.State(jnp.zeros((5, 2)), name="hidden")
    with pytest.raises(ValueError, match=r"State 'hidden' .* has size 5"):
        vmap(lambda x: h.value + x, in_states=h)(xs(3, 2))


def test_axis_size_disagreeing_with_arguments():
    with pytest.raises(ValueError, match=r"axis_size=2 but args\[0\] has size 3"):
        vmap(lambda a: a, axis_size=2)(xs(3))


def test_nothing_mapped_needs_axis_size():
    with pytest.raises(ValueError, match="cannot tell the size of the mapped axis"):
        vmap(lambda a: a, in_axes=None)(xs(3))


def test_axis_out_of_range():
    with pytest.raises(ValueError, match=r"vmap: cannot map args\[0\] over axis 2: it has shape \(3, 2\)\. Use an "
                                         r"axis it has, or None to give every lane the whole value"):
        vmap(lambda a: a, in_axes=2)(xs(3, 2))


def test_in_axes_structure_mismatch():
    with pytest.raises(ValueError, match=r"in_axes entry for args\[0\]"):
        vmap(lambda a: a["x"], in_axes=({"y": 0},))({"x": xs(3)})


def test_bad_in_axes_type():
    with pytest.raises(TypeError, match="in_axes must be an int, None, or a tuple"):
        vmap(lambda a: a, in_axes="zero")


def test_in_states_must_hold_states():
    with pytest.raises(TypeError, match="in_states must hold States"):
        vmap(lambda a: a, in_states=[jnp.ones(2)])


def test_axis_size_must_be_positive():
    with pytest.raises(ValueError, match="vmap: axis_size must be a positive int, got 0"):
        vmap(lambda a: a, axis_size=0)


def test_non_callable():
    with pytest.raises(TypeError, match="expects a callable"):
        vmap(3)


# -- vmap2 and StatefulMapping -------------------------------------------------------------------
def test_vmap2_filter_selects_batched_states():
    h = bs.ShortTermState(xs(3, 2))
    w = bs.ParamState(jnp.array([1.0, 2.0]))
    h0 = h.value

    def f(x):
        h.value = h.value * w.value + x
        return h.value

    out = vmap2(f, state_in_axes={0: bs.ShortTermState})(jnp.ones((3, 2)))
    assert_allclose(h.value, h0 * w.value + 1, **TOL)
    assert_allclose(out, h0 * w.value + 1, **TOL)


def test_vmap2_filter_state_written_first_without_read():
    h = bs.ShortTermState(jnp.ones((3, 2)))
    vmap2(lambda x: h.__setattr__("value", x * 0), state_in_axes=bs.ShortTermState)(xs(3, 2))
    assert_allclose(h.value, jnp.zeros((3, 2)))


def test_vmap2_auto_writes_undeclared_batched_state_with_batch_axis():
    s = bs.ShortTermState(jnp.zeros(2))

    def f(x):
        s.value = s.value + x
        return x

    m = vmap2(f)
    m(jnp.ones((3, 2)))
    assert s.value.shape == (3, 2)
    m(jnp.ones((3, 2)))  # now fed per lane: leading size matches
    assert_allclose(s.value, jnp.full((3, 2), 2.0))


class _Cell(bs.nn.Module):
    def __init__(self):
        super().__init__()
        self.w = bs.ParamState(jnp.full(2, 0.5))
        self.h = bs.HiddenState(jnp.zeros((3, 2)))  # already one row per lane

    def update(self, x):
        self.h.value = self.h.value * self.w.value + x
        return self.h.value


@pytest.mark.parametrize("wrap", [lambda f: f, jit], ids=["eager", "jit"])
def test_vmap2_auto_feeds_a_state_that_already_has_the_lanes_per_lane_from_the_first_call(wrap):
    x = jnp.arange(6.0).reshape(3, 2)
    cell = _Cell()
    expected = np.asarray(cell.h.value) * 0.5 + np.asarray(x)  # lane i: its own row of h
    assert_allclose(wrap(vmap2(cell.update))(x), expected)
    assert_allclose(cell.h.value, expected)
    for _ in range(2):  # a new vmap2 object each time: the state keeps its shape
        expected = expected * 0.5 + np.asarray(x)
        assert_allclose(wrap(vmap2(cell.update))(x), expected)
    assert cell.h.value.shape == (3, 2)


def test_vmap2_raise_policy():
    s = bs.ShortTermState(jnp.zeros(2), name="buf")

    def f(x):
        s.value = s.value + x
        return x

    with pytest.raises(bs.BatchAxisError, match=r"'buf' .* not declared in state_out_axes"):
        vmap2(f, unexpected_out_state_mapping="raise")(jnp.ones((3, 2)))
    assert_allclose(s.value, jnp.zeros(2))


def test_vmap2_warn_policy():
    s = bs.ShortTermState(jnp.zeros(2))

    def f(x):
        s.value = s.value + x
        return x

    with pytest.warns(UserWarning, match="written inside vmap2 with a batched value"):
        vmap2(f, unexpected_out_state_mapping="warn")(jnp.ones((3, 2)))
    assert s.value.shape == (3, 2)


def test_vmap2_ignore_policy_is_silent():
    s = bs.ShortTermState(jnp.zeros(2))

    def f(x):
        s.value = s.value + x
        return x

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        vmap2(f, unexpected_out_state_mapping="ignore")(jnp.ones((3, 2)))
    assert s.value.shape == (3, 2)


def test_vmap2_bad_policy():
    with pytest.raises(ValueError, match="unexpected_out_state_mapping must be one of"):
        vmap2(lambda x: x, unexpected_out_state_mapping="sometimes")


def test_vmap2_bad_filter():
    with pytest.raises(TypeError, match="is not a filter"):
        vmap2(lambda x: x, state_in_axes=3.5)


def test_stateful_mapping_static_argnums():
    h = bs.State(jnp.zeros((3, 2)))

    def f(x, scale):
        h.value = h.value + x * scale
        return h.value

    m = StatefulMapping(f, in_axes=(0, None), state_in_axes=h, static_argnums=1)
    m(jnp.ones((3, 2)), 2.0)
    assert_allclose(h.value, jnp.full((3, 2), 2.0))


# -- unvmap --------------------------------------------------------------------------------------
@pytest.mark.parametrize("op, expected", [("all", False), ("any", True), ("max", 3.0), ("sum", 6.0)])
def test_unvmap_reduces_over_the_batch(op, expected):
    x = jnp.array([0.0, 1.0, 2.0, 3.0])
    out = jax.vmap(lambda v: unvmap(v, op=op))(x)
    assert out.shape == (4,)
    assert_allclose(out, jnp.full(4, expected))


def test_unvmap_outside_vmap_is_the_plain_reduction():
    assert bool(unvmap(jnp.array([True, False]), op="any"))
    assert not bool(unvmap(jnp.array([True, False]), op="all"))


def test_unvmap_nested_vmaps_and_jit():
    x = jnp.arange(6.0).reshape(2, 3)
    out = jax.jit(vmap(vmap(lambda v: unvmap(v > 4.0, op="any"))))(x)
    assert out.shape == (2, 3) and bool(out.all())


def test_unvmap_none_returns_the_whole_batch():
    x = jnp.arange(6.0).reshape(2, 3)
    out = jax.vmap(lambda v: unvmap(v, op="none"))(x)
    assert_allclose(out, jnp.broadcast_to(x, (2, 2, 3)))


def test_unvmap_bad_op():
    with pytest.raises(ValueError, match="unvmap: op must be one of"):
        unvmap(jnp.ones(2), op="median")


def test_declared_state_without_the_axis():
    h = bs.State(jnp.zeros(3), name="flat")
    with pytest.raises(ValueError, match=r"cannot map State 'flat' .* over axis 1"):
        vmap(lambda x: h.value + x, in_states={1: h})(xs(3, 3))


def test_discovery_sees_one_lane_of_a_declared_state():
    h = bs.State(xs(4, 3))
    h0 = h.value

    def f(x):
        h.value = h.value.reshape(3, 1)[:, 0] + x  # only valid for one lane's shape
        return h.value

    vmap(f, in_states=h)(jnp.ones((4, 3)))
    assert_allclose(h.value, h0 + 1, **TOL)


def test_vmap2_state_out_axis_differs_from_input_axis():
    h = bs.ShortTermState(xs(4, 3))
    h0 = h.value

    def f(x):
        h.value = h.value + x
        return x

    vmap2(f, state_in_axes={0: bs.ShortTermState}, state_out_axes={1: bs.ShortTermState})(jnp.ones((4, 3)))
    assert h.value.shape == (3, 4)
    assert_allclose(h.value, (h0 + 1).T, **TOL)


def test_inner_transform_inside_vmap_sees_one_lane():
    """A grad/jit/for_loop nested in vmap(in_states=...) sees the per-lane value of the state."""
    w = bs.ParamState(jnp.arange(6.0).reshape(3, 2))
    x = jnp.ones((5, 2))

    def loss():
        return jnp.sum((x + w.value) ** 2)

    grads = bs.transform.vmap(lambda: bs.transform.grad(loss, grad_states=[w])()[0], in_states=[w])()
    expected = jax.vmap(jax.grad(lambda wi: jnp.sum((x + wi) ** 2)))(jnp.arange(6.0).reshape(3, 2))
    np.testing.assert_allclose(grads, expected, rtol=1e-6)
    sums = bs.transform.vmap(lambda: bs.transform.jit(loss)(), in_states=[w])()
    np.testing.assert_allclose(sums, jax.vmap(lambda wi: jnp.sum((x + wi) ** 2))(jnp.arange(6.0).reshape(3, 2)),
                               rtol=1e-6)


def test_vmap_splits_a_single_key_stream_declared_in_in_states():
    # the usual idiom: every state of a module declared, a RandomState among them
    class Noisy(bs.nn.Module):
        def __init__(self):
            super().__init__()
            self.rng = bs.random.RandomState(0)
            self.h = bs.HiddenState(jnp.zeros((3, 2)))

        def __call__(self, x):
            self.h.value = self.h.value + x * self.rng.rand(2)
            return self.h.value

    m = Noisy()
    key = m.rng.value
    out = vmap(m, in_states=m.states(), out_states=m.states())(jnp.ones((3, 2)))
    assert out.shape == (3, 2) and m.h.value.shape == (3, 2)
    assert len({tuple(np.round(np.asarray(row), 6)) for row in out}) == 3  # each lane its own draws
    assert np.all((np.asarray(out) >= 0) & (np.asarray(out) < 1))
    assert m.rng.value.shape == key.shape and not np.array_equal(m.rng.value, key)  # one key, advanced


@pytest.mark.parametrize("mapping", [vmap, vmap2])
def test_the_default_stream_after_a_vmap_is_where_the_reference_leaves_it(mapping):
    # its n lane keys (split_key(n)), then one more split whose fresh key becomes the stream
    bs.random.seed(5)
    lane_keys = bs.random.split_key(4)
    bs.random.DEFAULT.value = bs.random.split_key()
    expected_next = np.asarray(bs.random.rand(2))
    assert lane_keys.shape == (4,)
    bs.random.seed(5)
    lanes = mapping(lambda i: bs.random.rand())(jnp.arange(4))
    assert_allclose(np.asarray(bs.random.rand(2)), expected_next)
    assert lanes.shape == (4,) and len(set(np.asarray(lanes).tolist())) == 4
