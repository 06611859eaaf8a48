import jax
import jax.numpy as jnp
import numpy as np
import pytest
from numpy.testing import assert_allclose

import brainstate as bs


def test_discovers_closure_module_attribute_and_global():
    global GLOBAL_STATE
    GLOBAL_STATE = bs.State(jnp.ones(2), name="g")
    closure = bs.State(jnp.ones(2), name="c")

    class M:
        def __init__(self):
            self.attr = bs.State(jnp.ones(2), name="m")

    m = M()

    def f(x):
        return GLOBAL_STATE.value + closure.value + m.attr.value + x

    sf = bs.transform.StatefulFunction(f)
    assert [s.name for s in sf.get_states(1.0)] == ["g", "c", "m"]


def test_pure_function_is_pure():
    s = bs.State(jnp.zeros(2))

    def f(x):
        s.value = s.value + x
        return s.value * 2

    sf = bs.transform.StatefulFunction(f)
    written, out = sf.jaxpr_call([jnp.ones(2)], 3.0)
    assert_allclose(written[0], 4 * np.ones(2))
    assert_allclose(out, 8 * np.ones(2))
    assert_allclose(s.value, np.zeros(2))  # untouched


def test_jaxpr_call_auto_writes_back():
    s = bs.State(jnp.zeros(2))
    sf = bs.transform.StatefulFunction(lambda x: setattr(s, "value", s.value + x))
    sf.jaxpr_call_auto(1.0)
    assert_allclose(s.value, np.ones(2))


def test_get_jaxpr_inputs_are_args_then_states():
    s = bs.State(jnp.zeros(3))
    sf = bs.transform.StatefulFunction(lambda x: setattr(s, "value", s.value * x))
    jaxpr = sf.get_jaxpr(2.0)
    assert [v.aval.shape for v in jaxpr.jaxpr.invars] == [(), (3,)]
    assert [v.aval.shape for v in jaxpr.jaxpr.outvars] == [(3,)]  # no output, then the written state


def test_out_shapes():
    s = bs.State(jnp.zeros(4))
    r = bs.State(jnp.zeros(()))

    def f(x):
        s.value = s.value + r.value
        return x, x.sum()

    out, states = bs.transform.StatefulFunction(f).get_out_shapes(jnp.ones((2, 3)))
    assert out[0].shape == (2, 3) and out[1].shape == ()
    assert states[0].shape == (4,) and states[1] is None  # written state, then a read-only one


def test_discovery_cached_per_signature():
    calls = []
    sf = bs.transform.StatefulFunction(lambda x: calls.append(1) or x)
    sf.get_states(jnp.ones(2))
    sf.get_states(jnp.zeros(2))
    assert len(calls) == 1
    sf.get_states(jnp.ones(3))
    assert len(calls) == 2


def test_unhashable_static_arg_is_clear_error():
    sf = bs.transform.StatefulFunction(lambda x, k: x, static_argnums=1)
    with pytest.raises(TypeError, match="static argument .* not hashable"):
        sf.get_states(1.0, [1, 2])


def test_not_callable():
    with pytest.raises(TypeError, match="needs a callable"):
        bs.transform.StatefulFunction(None)


def test_make_jaxpr_returns_states():
    a = bs.State(jnp.ones(2))
    b = bs.State(jnp.zeros(2))

    def f(x):
        b.value = a.value * x
        return x

    jaxpr, states = bs.transform.make_jaxpr(f)(2.0)
    assert states == (a, b)
    assert len(jaxpr.out_avals) == 3  # the output, then every state
    only_written, states = bs.transform.make_jaxpr(f, return_only_write=True)(2.0)
    assert states == (a, b) and len(only_written.out_avals) == 2  # the output, then b
    _, _, shapes = bs.transform.make_jaxpr(f, return_shape=True)(2.0)
    assert shapes.shape == ()


def test_state_finder():
    a = bs.ParamState(jnp.ones(2))
    b = bs.State(jnp.zeros(2))

    def f(x):
        b.value = a.value * x

    assert bs.transform.StateFinder(f)(1.0) == {0: a, 1: b}
    assert bs.transform.StateFinder(f, usage="read", return_type="list")(1.0) == [a]
    assert bs.transform.StateFinder(f, bs.ParamState, return_type="tuple")(1.0) == (a,)
    both = bs.transform.StateFinder(f, usage="both", return_type="list")(1.0)
    assert both == {"read": [a], "write": [b]}


def test_state_finder_bad_usage():
    with pytest.raises(ValueError, match="usage must be"):
        bs.transform.StateFinder(lambda: None, usage="sometimes")
    with pytest.raises(ValueError, match="return_type must be"):
        bs.transform.StateFinder(lambda: None, return_type="set")


def test_describe_states():
    a = bs.ParamState(jnp.ones((2, 3)), name="w")
    sf = bs.transform.StatefulFunction(lambda: a.value)
    assert "read  ParamState w float32[2,3]" in sf.describe_states()


