"""NestedDict / FlattedDict: attribute access, PyTree behaviour, filter/split/merge, conversions."""

import copy
import pickle

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import brainstate
from brainstate.util import FlattedDict, NestedDict, PathContains, flat_mapping, nest_mapping


def make_nested():
    return nest_mapping({
        ("layer", "weight"): brainstate.ParamState(jnp.ones(2)).to_state_ref(),
        ("layer", "h"): brainstate.ShortTermState(jnp.zeros(3)).to_state_ref(),
        ("count",): brainstate.State(jnp.zeros(())).to_state_ref(),
    })


def test_attribute_access_reads_present_keys():
    d = NestedDict({"layer": NestedDict({"weight": 1})})
    assert d.layer.weight == 1


def test_missing_attribute_raises_attribute_error():
    d = NestedDict({"a": 1})
    with pytest.raises(AttributeError, match="no key or attribute 'b'.*Present keys: \\['a'\\]"):
        d.b


def test_hasattr_and_getattr_default_work():
    d = FlattedDict({("a",): 1})
    assert not hasattr(d, "a")
    assert getattr(d, "missing", 5) == 5


def test_attribute_assignment_is_refused():
    with pytest.raises(AttributeError, match=r"'NestedDict' object has no attribute 'x'"):
        NestedDict().x = 1


def test_copy_deepcopy_and_pickle_keep_the_class():
    d = NestedDict({"a": NestedDict({"b": 1})})
    for other in (d.copy(), copy.copy(d), copy.deepcopy(d), pickle.loads(pickle.dumps(d))):
        assert type(other) is NestedDict and other == d


def test_to_flat_and_to_nest_round_trip():
    d = make_nested()
    flat = d.to_flat()
    assert isinstance(flat, FlattedDict)
    assert set(flat) == {("layer", "weight"), ("layer", "h"), ("count",)}
    assert flat.to_nest() == d


def test_nested_dict_is_a_pytree_with_sorted_keys():
    d = NestedDict({"b": 2.0, "a": 1.0})
    leaves, treedef = jax.tree_util.tree_flatten(d)
    assert leaves == [1.0, 2.0]
    rebuilt = jax.tree_util.tree_unflatten(treedef, leaves)
    assert type(rebuilt) is NestedDict and rebuilt == d


def test_flatted_dict_sorts_mixed_path_keys():
    d = FlattedDict({("lst", "x"): 3.0, ("lst", 1): 2.0, ("lst", 0): 1.0, ("a",): 0.0})
    assert jax.tree_util.tree_leaves(d) == [0.0, 1.0, 2.0, 3.0]


def test_pytree_key_paths_name_the_dict_keys():
    d = NestedDict({"w": jnp.ones(1)})
    (path, _), = jax.tree_util.tree_flatten_with_path(d)[0]
    assert path == (jax.tree_util.DictKey("w"),)


def test_tree_map_over_treefy_states_passes_through_jit():
    d = make_nested()
    out = jax.jit(lambda x: jax.tree_util.tree_map(lambda v: v + 1, x))(d)
    assert type(out) is NestedDict
    np.testing.assert_allclose(out.layer.weight.value, np.full(2, 2.0))


def test_filter_by_type_first_match_wins():
    d = make_nested()
    params, short = d.filter(brainstate.ParamState, brainstate.State)
    assert set(params.to_flat()) == {("layer", "weight")}
    assert set(short.to_flat()) == {("layer", "h"), ("count",)}


def test_filter_with_one_filter_returns_one_dict_and_drops_the_rest():
    params = make_nested().filter(brainstate.ParamState)
    assert isinstance(params, NestedDict)
    assert set(params.to_flat()) == {("layer", "weight")}


def test_filter_sees_the_full_path():
    flat = make_nested().to_flat().filter(PathContains("layer"))
    assert set(flat) == {("layer", "weight"), ("layer", "h")}


def test_split_with_ellipsis_collects_the_rest():
    params, rest = make_nested().split(brainstate.ParamState, ...)
    assert set(rest.to_flat()) == {("layer", "h"), ("count",)}
    assert set(params.to_flat()) == {("layer", "weight")}


def test_split_lists_the_paths_no_filter_matches():
    with pytest.raises(ValueError, match=r"no filter matches the entries at paths \[\('count',\)\]"):
        make_nested().split(brainstate.ParamState, brainstate.ShortTermState)


def test_flatted_split_lists_the_paths_no_filter_matches():
    with pytest.raises(ValueError, match="FlattedDict.split: no filter matches.*Add a filter"):
        make_nested().to_flat().split(brainstate.ParamState)


def test_ellipsis_before_the_last_filter_is_an_error():
    with pytest.raises(ValueError, match="filter #0 is `...`.*would never match.*Put `...` last"):
        make_nested().split(..., brainstate.ParamState)


def test_merge_is_deep_and_later_values_win():
    a = NestedDict({"x": NestedDict({"p": 1, "q": 2})})
    b = {"x": {"q": 3}, "y": 4}
    merged = a.merge(b)
    assert merged == {"x": {"p": 1, "q": 3}, "y": 4}
    assert a.x.q == 2


def test_split_then_merge_restores_the_dict():
    d = make_nested()
    assert NestedDict().merge(*d.split(brainstate.ParamState, ...)) == d


def test_flatted_merge_overrides_by_path():
    a = FlattedDict({("a",): 1, ("b",): 2})
    assert a.merge({("b",): 3}) == {("a",): 1, ("b",): 3}


def test_to_dict_gives_plain_dicts():
    plain = make_nested().to_dict()
    assert type(plain) is dict and type(plain["layer"]) is dict


def test_to_pure_dict_unwraps_state_values():
    pure = make_nested().to_pure_dict()
    assert type(pure["layer"]) is dict
    np.testing.assert_allclose(pure["layer"]["weight"], np.ones(2))


def test_flatted_to_pure_dict_unwraps_live_states():
    s = brainstate.State(jnp.arange(2.0))
    pure = FlattedDict({("s",): s}).to_pure_dict()
    np.testing.assert_allclose(pure[("s",)], np.arange(2.0))


def test_flat_mapping_with_separator():
    assert flat_mapping({"a": {"b": 1}}, sep="/") == {"a/b": 1}


def test_nest_mapping_with_separator():
    assert nest_mapping({"a/b": 1}, sep="/") == {"a": {"b": 1}}


def test_flat_mapping_keeps_empty_nodes_on_request():
    assert flat_mapping({"a": {}, "b": 1}) == {("b",): 1}
    assert flat_mapping({"a": {}, "b": 1}, keep_empty_nodes=True) == {("a",): {}, ("b",): 1}


def test_flat_mapping_is_leaf_stops_descent():
    flat = flat_mapping({"w": {"weight": 1, "bias": 2}}, is_leaf=lambda path, x: path == ("w",))
    assert flat == {("w",): {"weight": 1, "bias": 2}}


def test_nest_mapping_rejects_the_empty_path():
    with pytest.raises(ValueError, match=r"empty path \(\) cannot be nested"):
        FlattedDict({(): 1}).to_nest()


def test_nest_mapping_rejects_a_path_under_a_leaf():
    with pytest.raises(ValueError, match=r"path \('a', 'b'\) lies under \('a',\), which already holds a leaf"):
        nest_mapping({("a",): 1, ("a", "b"): 2})


def test_nest_mapping_rejects_a_leaf_over_a_subdict():
    with pytest.raises(ValueError, match=r"path \('a',\) holds a leaf but other paths lie under it"):
        nest_mapping({("a", "b"): 2, ("a",): 1})


def test_from_flat_and_from_nest_are_inverses():
    flat = FlattedDict({("a", "b"): 1})
    assert FlattedDict.from_nest(NestedDict.from_flat(flat)) == flat


# -- members released libraries call -------------------------------------------------------------
@pytest.mark.parametrize("cls", [FlattedDict, NestedDict])
def test_subset_is_filter(cls):
    d = cls({("a",): 1, ("b",): 2}) if cls is FlattedDict else NestedDict({"a": 1, "b": 2})
    keep = PathContains("a")
    assert d.subset(keep) == d.filter(keep)


def test_assign_dict_values_writes_states_and_replaces_other_entries():
    w = brainstate.ParamState(jnp.zeros(2))
    d = FlattedDict({("w",): w, ("n",): 0})
    d.assign_dict_values({("w",): jnp.ones(2), ("n",): 5, ("extra",): 9})
    np.testing.assert_allclose(w.value, [1.0, 1.0])
    assert d[("w",)] is w and d[("n",)] == 5 and ("extra",) not in d


def test_assign_dict_values_missing_path_raises_and_assigns_nothing():
    w = brainstate.ParamState(jnp.zeros(2))
    d = FlattedDict({("w",): w, ("n",): 0})
    with pytest.raises(KeyError, match=r"FlattedDict.assign_dict_values: no value for the paths \[\('n',\)\]"):
        d.assign_dict_values({("w",): jnp.ones(2)})
    np.testing.assert_allclose(w.value, [0.0, 0.0])


def test_replace_by_pure_dict_replaces_only_mentioned_leaves():
    d = make_nested()
    d.replace_by_pure_dict({"layer": {"weight": jnp.full(2, 7.0)}})
    np.testing.assert_allclose(d.layer.weight.value, [7.0, 7.0])
    assert type(d.layer.weight).__name__ == "TreefyState"  # snapshots are replaced, not unwrapped
    np.testing.assert_allclose(d.layer.h.value, np.zeros(3))


def test_replace_by_pure_dict_with_replace_fn():
    d = NestedDict({"a": 1, "b": NestedDict({"c": 2})})
    d.replace_by_pure_dict({"b": {"c": 5}}, replace_fn=lambda old, new: old + new)
    assert d.to_dict() == {"a": 1, "b": {"c": 7}}


def test_replace_by_pure_dict_unknown_path_raises_and_changes_nothing():
    d = NestedDict({"a": 1})
    with pytest.raises(ValueError, match=r"replace_by_pure_dict: the paths \[\('z',\)\] of pure_dict are not"):
        d.replace_by_pure_dict({"a": 2, "z": 3})
    assert d.to_dict() == {"a": 1}


# -- | and - ------------------------------------------------------------------------------------

def test_union_of_nested_dicts_merges_by_path():
    a = NestedDict({"a": NestedDict({"x": 1}), "b": 1})
    b = NestedDict({"a": NestedDict({"y": 2, "x": 3})})
    merged = a | b
    assert type(merged) is NestedDict
    assert merged.to_flat() == {("a", "x"): 3, ("a", "y"): 2, ("b",): 1}
    assert a.to_flat() == {("a", "x"): 1, ("b",): 1}  # a itself unchanged
    a |= b
    assert a.to_flat() == merged.to_flat()


def test_union_of_flat_dicts_keeps_the_class():
    merged = FlattedDict({("a",): 1}) | FlattedDict({("b",): 2, ("a",): 3})
    assert type(merged) is FlattedDict and merged == {("a",): 3, ("b",): 2}


def test_difference_drops_the_paths_of_the_other_dict():
    a = NestedDict({"a": NestedDict({"x": 1, "y": 2}), "b": 3})
    rest = a - NestedDict({"a": NestedDict({"x": 0})})
    assert type(rest) is NestedDict and rest.to_flat() == {("a", "y"): 2, ("b",): 3}
    flat = FlattedDict({("a",): 1, ("b",): 2}) - FlattedDict({("a",): 0})
    assert type(flat) is FlattedDict and flat == {("b",): 2}
    nodes = a.to_flat()
    nodes -= nodes.filter(lambda path, v: v > 1)  # the idiom `all -= all.filter(...)`
    assert nodes == {("a", "x"): 1}


def test_treefy_state_snapshots_the_states():
    w = brainstate.ParamState(jnp.ones(2))
    d = NestedDict({"layer": NestedDict({"w": w, "n": 2})}).treefy_state()
    assert type(d) is NestedDict and type(d.layer.w).__name__ == "TreefyState" and d.layer.n == 2
    np.testing.assert_allclose(d.layer.w.value, 1.0)
    flat = FlattedDict({("w",): w}).treefy_state()
    assert type(flat) is FlattedDict and flat[("w",)].value is w.value
