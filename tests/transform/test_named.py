"""named_call / named_scope: names visible in jaxprs and lowered text; states still threaded."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import brainstate
from brainstate import transform as T


def _name_stacks(jaxpr):
    return {str(eqn.source_info.name_stack) for eqn in jaxpr.eqns}


def test_named_call_names_equations():
    block = T.named_call(lambda x: jnp.sin(x) * 2, name="my_block")
    assert _name_stacks(jax.make_jaxpr(block)(1.0).jaxpr) == {"my_block"}


def test_named_call_defaults_to_function_name():
    @T.named_call
    def encoder(x):
        return x + 1

    assert _name_stacks(jax.make_jaxpr(encoder)(1.0).jaxpr) == {"encoder"}


def test_named_call_name_in_lowered_text():
    block = T.named_call(lambda x: jnp.sin(x), name="my_block")
    assert "my_block" in jax.jit(block).lower(1.0).as_text(debug_info=True)


def test_named_call_threads_states_under_jit():
    s = brainstate.State(jnp.array(1.0))

    @T.named_call(name="update")
    def update(x):
        s.value = s.value * x
        return s.value

    f = T.jit(update)
    f(3.0)
    np.testing.assert_allclose(f(2.0), 6.0)
    np.testing.assert_allclose(s.value, 6.0)


def test_named_call_rejects_non_string_name():
    with pytest.raises(TypeError, match="`name` to be a string"):
        T.named_call(name=3)


def test_named_scope_names_the_compiled_call():
    @T.named_scope("dense_layer")
    def layer(x):
        return jnp.tanh(x)

    jaxpr = jax.make_jaxpr(layer)(jnp.ones(2))
    assert jaxpr.eqns[0].params["name"] == "dense_layer"
    assert "dense_layer" in str(jaxpr)


def test_named_scope_threads_states():
    count = brainstate.State(jnp.array(0))

    @T.named_scope("tick")
    def tick():
        count.value += 1
        return count.value

    tick()
    assert int(tick()) == 2
    assert int(count.value) == 2


def test_named_scope_static_argnums():
    @T.named_scope("power", static_argnums=1)
    def power(x, n):
        return x ** n

    np.testing.assert_allclose(power(3.0, 2), 9.0)
    np.testing.assert_allclose(power(2.0, 3), 8.0)


def test_named_scope_static_argnums_from_arguments():
    @T.named_scope("scaled", static_argnums=lambda *args, **kwargs: (1,))
    def scaled(x, mode):
        return x * 2 if mode == "double" else x

    np.testing.assert_allclose(scaled(3.0, "double"), 6.0)
    np.testing.assert_allclose(scaled(3.0, "same"), 3.0)


def test_named_scope_on_method_with_static_self():
    class Model:
        def __init__(self):
            self.w = brainstate.ParamState(jnp.array(2.0))

        @T.named_scope("forward", static_argnums=0)
        def __call__(self, x):
            self.w.value = self.w.value + 1
            return self.w.value * x

    m = Model()
    np.testing.assert_allclose(m(1.0), 3.0)
    np.testing.assert_allclose(m(1.0), 4.0)


def test_named_scope_rejects_empty_name():
    with pytest.raises(TypeError, match="non-empty string name"):
        T.named_scope("")


def test_named_call_rejects_non_callable():
    with pytest.raises(TypeError, match="named_call expects a callable"):
        T.named_call(5)


def test_named_scope_rejects_non_callable():
    with pytest.raises(TypeError, match=r"named_scope\('x'\) decorates a callable"):
        T.named_scope("x")(5)
