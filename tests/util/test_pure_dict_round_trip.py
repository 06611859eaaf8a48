"""`NestedDict.to_pure_dict` → `replace_by_pure_dict` round trips, including States whose value is a dict."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import brainstate
from brainstate.util import NestedDict


def _layers():
    return [
        brainstate.nn.Linear(2, 3, b_init=brainstate.nn.init.Constant(0.5)),
        brainstate.nn.LayerNorm(4),
        brainstate.nn.Conv1d((5, 2), 3, 3, b_init=brainstate.nn.init.Constant(0.1)),
        brainstate.nn.Sequential(brainstate.nn.Linear(2, 3), brainstate.nn.Linear(3, 1)),
    ]


@pytest.mark.parametrize("layer", _layers(), ids=lambda m: type(m).__name__)
def test_round_trip_restores_changed_values_exactly(layer):
    trees = layer.state_trees()
    pure = trees.to_pure_dict()
    shifted = jax.tree.map(lambda a: a + 1.0, pure)
    trees.replace_by_pure_dict(shifted)
    got = trees.to_pure_dict()
    assert jax.tree.structure(got) == jax.tree.structure(pure)
    for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(pure), strict=True):
        np.testing.assert_array_equal(a, np.asarray(b) + 1.0)
    trees.replace_by_pure_dict(pure)  # and back
    for a, b in zip(jax.tree.leaves(trees.to_pure_dict()), jax.tree.leaves(pure), strict=True):
        np.testing.assert_array_equal(a, b)


def test_linear_dict_state_is_replaced_whole():
    trees = brainstate.nn.Linear(2, 3).state_trees()
    new = {"weight": {"weight": jnp.arange(6.0).reshape(2, 3), "bias": jnp.array([7.0, 8.0, 9.0])}}
    trees.replace_by_pure_dict(new)
    value = trees["weight"].value
    assert set(value) == {"weight", "bias"}
    np.testing.assert_array_equal(value["weight"], np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(value["bias"], [7.0, 8.0, 9.0])
    assert type(trees["weight"]).__name__ == "TreefyState"


def test_unknown_path_next_to_a_dict_state_is_refused():
    trees = brainstate.nn.Linear(2, 3).state_trees()
    before = trees.to_pure_dict()
    pure = dict(before, extra={"w": jnp.zeros(1)})
    with pytest.raises(ValueError, match=r"replace_by_pure_dict: the paths \[\('extra', 'w'\)\] of pure_dict are not"):
        trees.replace_by_pure_dict(pure)
    np.testing.assert_array_equal(trees["weight"].value["weight"], before["weight"]["weight"])


def test_nested_plain_leaves_are_still_reached_through_sub_dicts():
    d = NestedDict({"a": NestedDict({"b": 1, "c": {"x": 2}})})
    d.replace_by_pure_dict({"a": {"b": 10, "c": {"x": 20}}})
    assert d.to_dict() == {"a": {"b": 10, "c": {"x": 20}}}
