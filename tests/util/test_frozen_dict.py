"""FrozenDict: immutability, hashing, PyTree behaviour; freeze/unfreeze/copy/pop; pretty_repr."""

import copy as pycopy
import pickle

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from brainstate.util import FrozenDict, copy, freeze, pop, pretty_repr, struct, unfreeze


def test_nested_dicts_are_frozen():
    assert isinstance(FrozenDict({"a": {"b": 1}})["a"], FrozenDict)


def test_setting_an_item_raises():
    with pytest.raises(TypeError, match="immutable, so key 'x' cannot be set.*d.copy"):
        FrozenDict(a=1)["x"] = 2


def test_deleting_an_item_raises():
    with pytest.raises(TypeError, match="immutable, so key 'a' cannot be deleted.*d.pop"):
        del FrozenDict(a=1)["a"]


def test_setting_an_attribute_raises():
    with pytest.raises(AttributeError, match="attribute 'y' cannot be set"):
        FrozenDict(a=1).y = 2


def test_equal_and_same_hash_regardless_of_key_order():
    a, b = FrozenDict(a=1, b=2), FrozenDict(b=2, a=1)
    assert a == b and hash(a) == hash(b)


def test_equals_a_plain_dict():
    assert FrozenDict({"a": {"b": 1}}) == {"a": {"b": 1}}


def test_unhashable_value_gives_clear_error():
    with pytest.raises(TypeError, match="cannot be hashed because one of its values is not hashable"):
        hash(FrozenDict(x=[1]))


def test_pytree_children_in_sorted_key_order():
    leaves = jax.tree_util.tree_flatten_with_path(FrozenDict(b=2, a=1))[0]
    assert [(path[0].key, leaf) for path, leaf in leaves] == [("a", 1), ("b", 2)]


def test_works_under_jit():
    out = jax.jit(lambda d: jax.tree.map(lambda x: x + 1, d))(FrozenDict(w=jnp.ones(2)))
    assert isinstance(out, FrozenDict)
    np.testing.assert_allclose(out["w"], [2.0, 2.0])


def test_method_copy_adds_or_replaces():
    d = FrozenDict(a=1)
    assert d.copy({"a": 2, "b": 3}) == {"a": 2, "b": 3} and d == {"a": 1}


def test_method_pop_returns_rest_and_value():
    rest, value = FrozenDict(a=1, b=2).pop("a")
    assert (rest, value) == ({"b": 2}, 1) and isinstance(rest, FrozenDict)


def test_method_pop_missing_key_raises():
    with pytest.raises(KeyError, match="no key 'z'"):
        FrozenDict(a=1).pop("z")


def test_pickle_and_deepcopy_round_trip():
    d = FrozenDict({"a": {"b": 1}})
    assert pickle.loads(pickle.dumps(d)) == d and pycopy.deepcopy(d) == d


def test_freeze_and_unfreeze_round_trip():
    plain = {"a": {"b": 1}, "c": 2}
    back = unfreeze(freeze(plain))
    assert back == plain and type(back["a"]) is dict


def test_unfreeze_copies_plain_dicts():
    plain = {"a": {"b": 1}}
    out = unfreeze(plain)
    out["a"]["b"] = 2
    assert plain["a"]["b"] == 1


@pytest.mark.parametrize("x", [{"a": 1}, FrozenDict(a=1)])
def test_copy_keeps_the_kind(x):
    out = copy(x, {"b": 2})
    assert type(out) is type(x) and out == {"a": 1, "b": 2}


@pytest.mark.parametrize("x", [{"a": 1, "b": 2}, FrozenDict(a=1, b=2)])
def test_pop_keeps_the_kind_and_leaves_input(x):
    rest, value = pop(x, "a")
    assert type(rest) is type(x) and rest == {"b": 2} and value == 1 and "a" in x


def test_pop_missing_key_of_dict_raises():
    with pytest.raises(KeyError, match="no key 'z'"):
        pop({"a": 1}, "z")


@pytest.mark.parametrize("fn", [copy, lambda x: pop(x, "a")])
def test_copy_and_pop_reject_non_dicts(fn):
    with pytest.raises(TypeError, match="expected a FrozenDict or dict, got list"):
        fn([("a", 1)])


def test_pretty_repr_nests_with_indent():
    assert pretty_repr({"a": {"b": 1}, "e": {}}, indent=4) == "{\n    'a': {\n        'b': 1\n    },\n    'e': {}\n}"


def test_repr_of_frozen_dict_names_it():
    assert repr(FrozenDict(a=1)) == "FrozenDict({\n  'a': 1\n})"


def test_pretty_repr_of_self_containing_dict_is_cut():
    d = {}
    d["me"] = d
    assert pretty_repr(d) == "{\n  'me': {...}\n}"


def test_struct_module_exports_the_same_objects():
    assert struct.FrozenDict is FrozenDict and struct.freeze is freeze


def test_tree_flatten_with_keys_sorts_keys_and_names_them():
    children, keys = FrozenDict(b=2, a=1).tree_flatten_with_keys()
    assert keys == ("a", "b")
    assert [(k.key, v) for k, v in children] == [("a", 1), ("b", 2)]


def test_tree_unflatten_rebuilds_the_dict():
    d = FrozenDict.tree_unflatten(("a", "b"), [10, 20])
    assert isinstance(d, FrozenDict) and dict(d) == {"a": 10, "b": 20}


def test_tree_unflatten_checks_lengths():
    with pytest.raises(ValueError, match="FrozenDict.tree_unflatten: 2 keys but 1 values"):
        FrozenDict.tree_unflatten(("a", "b"), [1])
