import threading

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from numpy.testing import assert_allclose

import brainstate as bs


def test_read_write():
    s = bs.State(jnp.zeros(3))
    s.value = s.value + 1
    assert_allclose(s.value, np.ones(3))


def test_pytree_value():
    s = bs.State({"a": jnp.zeros(2), "b": (jnp.ones(()), jnp.ones(3))})
    s.value = jax.tree.map(lambda x: x + 1, s.value)
    assert_allclose(s.value["b"][1], 2 * np.ones(3))


@pytest.mark.parametrize("kind", [bs.State, bs.ShortTermState, bs.LongTermState, bs.ParamState, bs.BatchState,
                                  bs.HiddenState, bs.DelayState])
def test_kinds_share_machinery(kind):
    s = kind(jnp.zeros(2))
    s.value = jnp.ones(2)
    assert_allclose(s.value, np.ones(2))
    assert isinstance(s, bs.State)


def test_kind_hierarchy():
    assert issubclass(bs.ParamState, bs.LongTermState)
    assert issubclass(bs.BatchState, bs.LongTermState)
    assert issubclass(bs.HiddenState, bs.ShortTermState)
    assert issubclass(bs.DelayState, bs.ShortTermState)


def test_user_kind():
    class Count(bs.State):
        pass

    c = Count(jnp.array(0))
    c.value += 1
    assert int(c.value) == 1


def test_identity_equality_and_hash():
    a, b = bs.State(jnp.zeros(1)), bs.State(jnp.zeros(1))
    assert a != b and a == a
    assert len({a, b, a}) == 2


def test_not_a_pytree():
    s = bs.State(jnp.zeros(2))
    assert jax.tree_util.tree_leaves([s]) == [s]


def test_metadata_and_tag():
    s = bs.ParamState(jnp.zeros(2), name="w", tag="layer", unit="mV")
    assert s.name == "w" and s.tag == {"layer"} and s.unit == "mV"
    s2 = bs.State(1.0, tag=["a", "b"])
    assert s2.tag == {"a", "b"}
    s2.add_tag("c")
    assert s2.tag == {"a", "b", "c"}


def test_repr_shows_kind_shape_and_metadata():
    s = bs.ParamState(jnp.zeros((10, 20)), name="w")
    text = repr(s)
    assert "ParamState" in text and "float32[10,20]" in text and "name='w'" in text


def test_write_shape_mismatch_names_state_and_keeps_value():
    s = bs.ParamState(jnp.zeros(3), name="w")
    with pytest.raises(ValueError, match=r"ParamState 'w' \(created at .*test_state.py:\d+\).*shape"):
        s.value = jnp.zeros(4)
    assert_allclose(s.value, np.zeros(3))


def test_write_dtype_mismatch():
    s = bs.State(jnp.zeros(3, jnp.float32), name="v")
    with pytest.raises(ValueError, match=r"dtype.*\n.*float32\[3\]\n.*int32\[3\]"):
        s.value = jnp.zeros(3, jnp.int32)


def test_numpy_float64_counts_as_float32_without_x64():
    # an eager SGD step on a state made from NumPy data: JAX computes in float32 either way
    assert not jax.config.jax_enable_x64
    w = bs.ParamState(np.linspace(0.0, 1.0, 3))  # float64
    w.value = w.value - 0.1 * jnp.ones(3)
    assert w.value.dtype == jnp.float32
    assert_allclose(w.value, np.linspace(0.0, 1.0, 3) - 0.1, rtol=1e-6)
    w.value = np.zeros(3)  # and back to a NumPy float64 array
    with pytest.raises(ValueError, match="dtype"):
        w.value = np.zeros(3, np.int64)


def test_write_tree_mismatch():
    s = bs.State({"a": jnp.zeros(2)}, name="d")
    with pytest.raises(ValueError, match="tree structure"):
        s.value = {"a": jnp.zeros(2), "b": jnp.zeros(2)}
    assert set(s.value) == {"a"}


def test_python_scalar_write_is_cast():
    s = bs.State(jnp.float32(1.0))
    s.value = 2
    assert s.value.dtype == jnp.float32 and float(s.value) == 2.0


def test_weak_int_into_float_ok_but_float_into_int_fails():
    s = bs.State(jnp.zeros((), jnp.int32), name="n")
    with pytest.raises(ValueError, match="dtype"):
        s.value = jnp.float32(1.5)


def test_restore_value_changes_signature():
    s = bs.State(jnp.zeros(3))
    s.restore_value(jnp.zeros((2, 2)))
    assert s.value.shape == (2, 2)
    s.value = jnp.ones((2, 2))


def test_state_in_state_is_error():
    a = bs.State(jnp.zeros(1))
    with pytest.raises(bs.BrainStateError, match="holding another State"):
        bs.State(a)
    b = bs.State(jnp.zeros(1))
    with pytest.raises(bs.BrainStateError, match="Cannot write a State into"):
        b.value = a
    with pytest.raises(bs.BrainStateError, match="holding a State inside its value"):
        bs.State([a])
    with pytest.raises(bs.BrainStateError, match="Cannot restore"):
        b.restore_value(a)


def test_hidden_state_single_array():
    with pytest.raises(TypeError, match="HiddenState\\('h'\\) holds a single array"):
        bs.HiddenState({"a": jnp.zeros(1)}, name="h")


def test_maybe_state():
    s = bs.State(jnp.ones(1))
    assert bs.maybe_state(s) is s.value
    assert bs.maybe_state(3) == 3


def test_raw_jit_write_raises_and_keeps_value():
    s = bs.State(jnp.array(0), name="n")

    def inc():
        s.value += 1
        return s.value

    with pytest.raises(bs.TraceContextError, match="outside a state-aware transform.*brainstate.transform.jit"):
        jax.jit(inc)()
    assert int(s.value) == 0


@pytest.mark.parametrize("raw", [
    lambda f: jax.vmap(f)(jnp.ones(3)),
    lambda f: jax.grad(f)(1.0),
    lambda f: jax.lax.scan(lambda c, x: (f(x), None), 0.0, jnp.ones(2)),
])
def test_raw_transforms_write_raises(raw):
    s = bs.State(jnp.float32(0.0))

    def f(x):
        s.value = s.value + x
        return s.value

    with pytest.raises(bs.TraceContextError, match=r"Writing a JAX tracer into State .* raw JAX transform"):
        raw(f)
    assert float(s.value) == 0.0


def test_raw_transform_nested_in_state_aware_raises():
    s = bs.State(jnp.zeros(3))

    @bs.transform.jit
    def f(x):
        def body(v):
            s.value = s.value + v
            return v
        return jax.vmap(body)(x)

    with pytest.raises(bs.TraceContextError, match=r"Writing into State .* from inside a raw JAX transform "
                                                   r"\(`jax.vmap`, .* nested in a state-aware one"):
        f(jnp.ones((2, 3)))
    assert_allclose(s.value, np.zeros(3))


def test_leaked_tracer_read_raises_until_assigned():
    holder = {}

    @bs.transform.jit
    def f(x):
        holder["s"] = bs.State(x * 2)
        return x

    f(jnp.ones(2))
    s = holder["s"]
    with pytest.raises(bs.TraceContextError, match="escaped"):
        s.value
    s.restore_value(jnp.zeros(2))
    assert_allclose(s.value, np.zeros(2))


def test_treefy_state_round_trip():
    s = bs.ParamState(jnp.arange(3.0), name="w", tag="t")
    ref = s.to_state_ref()
    assert ref.type is bs.ParamState and ref.name == "w"
    leaves, treedef = jax.tree_util.tree_flatten(ref)
    assert len(leaves) == 1
    back = jax.tree_util.tree_unflatten(treedef, leaves).to_state()
    assert isinstance(back, bs.ParamState) and back is not s
    assert_allclose(back.value, s.value)
    assert back.tag == {"t"} and back.name == "w"


def test_treefy_state_immutable():
    ref = bs.State(jnp.zeros(1)).to_state_ref()
    with pytest.raises(AttributeError, match="immutable"):
        ref.value = 1
    with pytest.raises(AttributeError, match="no attribute 'missing'"):
        ref.missing


def test_copy_is_independent():
    s = bs.State(jnp.zeros(2), name="x")
    c = s.copy()
    c.value = jnp.ones(2)
    assert_allclose(s.value, np.zeros(2))
    assert c.name == "x"


def test_catch_new_states():
    with bs.catch_new_states("new") as catcher:
        a = bs.State(jnp.zeros(1))
        b = bs.ParamState(jnp.zeros(1))
    assert catcher.get_states() == [a, b]
    assert a.tag == {"new"}
    c = bs.State(jnp.zeros(1))
    assert c not in catcher.get_states()


def test_catch_new_states_exclude():
    with bs.catch_new_states(state_to_exclude=bs.ParamState) as catcher:
        a = bs.State(jnp.zeros(1))
        bs.ParamState(jnp.zeros(1))
    assert catcher.get_states() == [a]


def test_thread_isolation_of_traces():
    """Two threads tracing different functions do not see each other's states."""
    a, b = bs.State(jnp.zeros(2)), bs.State(jnp.zeros(2))
    barrier = threading.Barrier(2)
    hang_limit = 600  # seconds; only a deadlock comes near it, however loaded the machine
    found = {}

    def make(state, key):
        def f(x):
            barrier.wait(timeout=hang_limit)
            state.value = state.value + x
            barrier.wait(timeout=hang_limit)
            return x
        return f

    def run(state, key):
        found[key] = bs.transform.StatefulFunction(make(state, key)).get_states(jnp.ones(2))

    threads = [threading.Thread(target=run, args=(a, "a")), threading.Thread(target=run, args=(b, "b"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert found["a"] == (a,) and found["b"] == (b,)


def test_state_created_inside_raw_jit_usable_there():
    """Split outside, merge inside raw jax.jit (the Flax pattern): local states work."""
    model = bs.nn.Linear(2, 2)
    graphdef, params = bs.graph.treefy_split(model)

    @jax.jit
    def forward(params, x):
        local = bs.graph.treefy_merge(graphdef, params)
        local.weight.value = jax.tree.map(lambda w: w * 2, local.weight.value)
        return local(x), bs.graph.treefy_split(local)[1]

    out, new_params = forward(params, jnp.ones(2))
    ref = jnp.ones(2) @ (2 * model.weight.value["weight"]) + 2 * model.weight.value["bias"]
    assert_allclose(out, ref, rtol=1e-6)


def test_state_from_finished_raw_trace_still_raises():
    holder = {}

    @jax.jit
    def f(x):
        holder["s"] = bs.State(x)
        return x

    f(1.0)
    with pytest.raises(bs.TraceContextError, match="escaped"):
        holder["s"].value
