"""eval_shape: output (and state) shapes without running the function or changing states."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import brainstate
from brainstate.transform import eval_shape


def test_reports_output_shapes():
    out = eval_shape(lambda x: (x * 2, x.sum()), jnp.ones((3, 2)))
    assert out == (jax.ShapeDtypeStruct((3, 2), jnp.float32), jax.ShapeDtypeStruct((), jnp.float32))


def test_leaves_written_states_unchanged():
    s = brainstate.State(jnp.zeros(3))

    def step(x):
        s.value = s.value + x
        return s.value

    eval_shape(step, jnp.ones(3))
    np.testing.assert_array_equal(s.value, np.zeros(3))


def test_does_not_run_the_computation():
    calls = []

    def f(x):
        jax.debug.callback(lambda: calls.append(1))
        return x

    eval_shape(f, jnp.ones(2))
    assert calls == []


def test_accepts_shape_dtype_structs():
    w = brainstate.State(jnp.ones((4, 5)))
    out = eval_shape(lambda x: x @ w.value, jax.ShapeDtypeStruct((7, 4), jnp.float32))
    assert out.shape == (7, 5)


def test_state_shapes_cover_read_and_written_states():
    h = brainstate.State(jnp.zeros(4))
    w = brainstate.State(jnp.ones(2, dtype=jnp.int32))
    unused = brainstate.State(jnp.ones(5))

    def step(x):
        h.value = h.value + x.sum() * w.value.sum()
        return h.value.sum()

    states, out = eval_shape(step, jnp.ones(2), return_state_shapes=True)
    assert states == {h: jax.ShapeDtypeStruct((4,), jnp.float32), w: jax.ShapeDtypeStruct((2,), jnp.int32)}
    assert unused not in states
    assert out == jax.ShapeDtypeStruct((), jnp.float32)
    np.testing.assert_array_equal(h.value, np.zeros(4))


def test_inside_jit_changes_nothing():
    s = brainstate.State(jnp.zeros(2))

    def step(x):
        s.value = s.value + x
        return s.value

    @brainstate.transform.jit
    def f(x):
        return eval_shape(step, x).shape[0] * x

    np.testing.assert_allclose(f(jnp.ones(2)), [2.0, 2.0])
    np.testing.assert_array_equal(s.value, np.zeros(2))


def test_rejects_non_callable():
    with pytest.raises(TypeError, match="eval_shape expects a callable"):
        eval_shape(3, jnp.ones(2))


def test_eval_shape_builds_a_model_abstractly():
    model = eval_shape(lambda: brainstate.nn.Linear(3, 4))
    assert isinstance(model, brainstate.nn.Linear)
    params = model.weight.value
    assert params["weight"] == jax.ShapeDtypeStruct((3, 4), jnp.float32)
    assert params["bias"] == jax.ShapeDtypeStruct((4,), jnp.float32)


def test_eval_shape_takes_a_module_argument_and_leaves_it_alone():
    lin = brainstate.nn.Linear(3, 4)
    before = jax.tree.map(np.asarray, lin.weight.value)
    out = eval_shape(lambda m, x: m(x), lin, jnp.ones((2, 3)))
    assert out == jax.ShapeDtypeStruct((2, 4), jnp.float32)
    jax.tree.map(np.testing.assert_array_equal, lin.weight.value, before)
    assert isinstance(lin.weight.value["weight"], jax.Array)
