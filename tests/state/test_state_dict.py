"""StateDictManager: only States, slicing by kind, reading and writing values by name."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import brainstate
from brainstate.util import DictManager


def make():
    w = brainstate.ParamState(jnp.ones(2))
    h = brainstate.ShortTermState(jnp.zeros(1))
    c = brainstate.State(jnp.zeros(()))
    return brainstate.StateDictManager(w=w, h=h, c=c), (w, h, c)


def test_is_a_dict_manager():
    assert isinstance(brainstate.StateDictManager(), DictManager)


@pytest.mark.parametrize("insert", [lambda d: d.__setitem__("x", 1), lambda d: d.update(x=jnp.ones(1)),
                                    lambda d: brainstate.StateDictManager(x=1)])
def test_holds_states_only(insert):
    with pytest.raises(TypeError, match="holds States only, got a"):
        insert(brainstate.StateDictManager())


def test_split_by_state_kind_plus_rest():
    states, (w, h, c) = make()
    params, short, rest = states.split(brainstate.ParamState, brainstate.ShortTermState)
    assert (params["w"], short["h"], rest["c"]) == (w, h, c) and type(params) is brainstate.StateDictManager


def test_collect_values_by_name():
    states, _ = make()
    values = states.collect_values()
    assert type(values) is DictManager
    np.testing.assert_allclose(values["w"], [1.0, 1.0])


def test_split_values_by_kind():
    states, _ = make()
    params, rest = states.split_values(brainstate.ParamState)
    assert list(params) == ["w"] and list(rest) == ["h", "c"]
    np.testing.assert_allclose(params["w"], [1.0, 1.0])


def test_to_dict_values_is_plain():
    states, _ = make()
    values = states.to_dict_values()
    assert type(values) is dict and list(values) == ["w", "h", "c"]


def test_assign_values_writes_in_order():
    states, (w, h, _) = make()
    states.assign_values({"w": jnp.zeros(2)}, {"h": jnp.ones(1), "w": jnp.full(2, 3.0)})
    np.testing.assert_allclose(w.value, [3.0, 3.0])
    np.testing.assert_allclose(h.value, [1.0])


def test_assign_values_unknown_name_writes_nothing():
    states, (w, _, _) = make()
    with pytest.raises(KeyError, match="no state named 'zz'.*Held names: \\['w', 'h', 'c'\\]"):
        states.assign_values({"w": jnp.zeros(2), "zz": 1})
    np.testing.assert_allclose(w.value, [1.0, 1.0])


def test_assign_values_goes_through_state_checks():
    states, _ = make()
    with pytest.raises(ValueError, match="Cannot write to ParamState .* changes its shape"):
        states.assign_values({"w": jnp.zeros(5)})


def test_is_a_pytree_of_states():
    states, (w, h, c) = make()
    assert jax.tree.leaves(states, is_leaf=lambda x: isinstance(x, brainstate.State)) == [w, h, c]
