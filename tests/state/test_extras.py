import jax
import jax.numpy as jnp
import numpy as np
import pytest
from numpy.testing import assert_allclose

import brainstate as bs


def test_hidden_group_state():
    g = bs.HiddenGroupState(jnp.zeros((4, 3)), name="g")
    assert g.num_state == 3 and g.varshape == (4,)
    g.set_value({"1": jnp.ones(4)})
    assert_allclose(g.get_value(1), np.ones(4))
    assert_allclose(g.get_value(0), np.zeros(4))


def test_hidden_group_state_errors():
    with pytest.raises(ValueError, match=r"HiddenGroupState needs an array of shape \(\*varshape, num_state\) "
                                         r"with at least 2 dimensions, got shape \(3,\)"):
        bs.HiddenGroupState(jnp.zeros(3))
    g = bs.HiddenGroupState(jnp.zeros((4, 2)), name="g")
    with pytest.raises(IndexError, match="has 2 hidden variables; index 5"):
        g.get_value(5)
    with pytest.raises(ValueError, match="hidden variable 0 has shape \\(4,\\), got \\(3,\\)"):
        g.set_value({0: jnp.ones(3)})
    with pytest.raises(TypeError, match="set_value takes a dict"):
        g.set_value(jnp.ones(4))


def test_hidden_tree_state():
    t = bs.HiddenTreeState({"v": jnp.zeros(3), "w": jnp.ones(3)})
    assert_allclose(t.get_value("w"), np.ones(3))
    t.set_value({"v": jnp.full(3, 2.0)})
    assert_allclose(t.value[..., 0], np.full(3, 2.0))
    seq = bs.HiddenTreeState([jnp.zeros(2), jnp.ones(2)])
    assert_allclose(seq.get_value("1"), np.ones(2))


def test_hidden_tree_state_errors():
    with pytest.raises(ValueError, match="arrays of one shape"):
        bs.HiddenTreeState({"a": jnp.zeros(2), "b": jnp.zeros(3)})
    with pytest.raises(TypeError, match="takes a dict or a sequence"):
        bs.HiddenTreeState(jnp.zeros((2, 2)))
    t = bs.HiddenTreeState({"v": jnp.zeros(3)})
    with pytest.raises(KeyError, match="no hidden variable 'u'"):
        t.get_value("u")


def test_hidden_group_under_jit():
    g = bs.HiddenGroupState(jnp.zeros((2, 2)))

    @bs.transform.jit
    def f():
        g.set_value({0: g.get_value(0) + 1})

    f()
    f()
    assert_allclose(g.get_value(0), 2 * np.ones(2))


def test_fake_state_not_tracked():
    fake = bs.FakeState(jnp.ones(2), name="c")
    sf = bs.transform.StatefulFunction(lambda: fake.value * 2)
    assert sf.get_states() == ()
    assert "name='c'" in repr(fake)


def test_check_state_value_tree_off_allows_reshape():
    s = bs.State(jnp.zeros(2))
    with bs.check_state_value_tree(False):
        s.value = jnp.zeros(5)
    assert s.value.shape == (5,)
    with pytest.raises(ValueError, match="shape"):
        s.value = jnp.zeros(2)


def test_check_state_jax_tracer_off():
    s = bs.State(jnp.zeros(()))
    with bs.check_state_jax_tracer(False):
        jax.jit(lambda: setattr(s, "value", s.value + 1))()
    s.restore_value(jnp.zeros(()))  # put a concrete value back
    with pytest.raises(bs.TraceContextError, match=r"Writing a JAX tracer into State .* outside a state-aware"):
        jax.jit(lambda: setattr(s, "value", s.value + 1))()


def test_state_trace_stack_public():
    a, b = bs.State(jnp.ones(2)), bs.State(jnp.zeros(2))
    with bs.StateTraceStack() as trace:
        b.value = a.value * 2
    assert trace.get_read_states() == (a,) and trace.get_write_states() == (b,)
    assert_allclose(trace.get_write_state_values()[0], 2 * np.ones(2))
    trace.recovery_original_values()
    assert_allclose(b.value, np.zeros(2))


def test_hidden_tree_state_keeps_variables_with_units():
    import brainunit as u

    t = bs.HiddenTreeState({"V": jnp.full(3, -65.0) * u.mV, "a": jnp.ones(3)})
    assert t.value.shape == (3, 2) and t.name2unit == {"V": u.mV, "a": None}
    assert_allclose(t.value[:, 0], [-65.0] * 3)  # stored as mantissas
    assert u.get_unit(t.get_value("V")) == u.mV and t.get_value("a").tolist() == [1.0] * 3
    t.set_value({"V": jnp.full(3, -0.07) * u.volt, "a": jnp.zeros(3)})  # converted into mV
    assert_allclose(u.get_mantissa(t.get_value("V")), [-70.0] * 3, rtol=1e-6)
    with pytest.raises(ValueError, match=r"hidden variable 'V' is in mV, got a plain value"):
        t.set_value({"V": jnp.zeros(3)})
    with pytest.raises(ValueError, match=r"hidden variable 'a' has no unit, got a value in mV"):
        t.set_value({"a": jnp.zeros(3) * u.mV})
    with pytest.raises(ValueError, match=r"hidden variable 0 is in mV, got a plain value"):
        t.set_value([jnp.zeros(3)])  # a list: the variables in order


def test_hidden_group_set_value_takes_a_list_in_order():
    h = bs.HiddenGroupState(jnp.zeros((3, 2)))
    h.set_value([jnp.ones(3), jnp.full(3, 2.0)])
    np.testing.assert_allclose(h.value, np.tile([1.0, 2.0], (3, 1)))
    h.set_value((jnp.full(3, 5.0),))  # the first variable only
    np.testing.assert_allclose(h.value[:, 0], 5.0)
    with pytest.raises(TypeError, match="a dict .* or a list of values, got int"):
        h.set_value(3)


def test_state_replace_keeps_or_changes_value_and_metadata():
    s = bs.ParamState(jnp.ones(2), name="w")
    same = s.replace()
    assert same is not s and type(same) is bs.ParamState and same.name == "w" and same.value is s.value
    renamed = s.replace(name="v")
    assert renamed.name == "v" and s.name == "w"
    grown = s.replace(jnp.zeros(3))
    assert grown.value.shape == (3,) and grown.name == "w"
    other = bs.ParamState(jnp.zeros(1))
    assert s.replace(other) is other
    with pytest.raises(ValueError, match="can only be replaced by one of its own kind"):
        s.replace(bs.State(jnp.zeros(1)))


def test_catcher_is_a_small_sequence_of_the_new_states():
    with bs.catch_new_states("init", state_to_exclude=bs.ParamState) as catcher:
        a = bs.State(jnp.zeros(2))
        bs.ParamState(jnp.ones(1))  # excluded
        b = bs.ShortTermState(jnp.ones(3))
    assert catcher.states == [a, b] and catcher[1] is b and len(catcher) == 2
    assert catcher.state_ids == {id(a), id(b)} and catcher.get_by_tag("init") == [a, b]
    assert [v.shape for v in catcher.values] == [(2,), (3,)]
    catcher.append(a)  # already caught: once only
    catcher.remove(a)
    assert catcher.states == [b] and id(a) not in catcher.state_ids
    catcher.clear()
    assert len(catcher) == 0 and list(catcher) == []
