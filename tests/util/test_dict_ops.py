"""flatten_dict / unflatten_dict / merge_dicts on plain nested dicts."""

import pytest
from hypothesis import given, strategies as st

from brainstate.util import flatten_dict, merge_dicts, unflatten_dict


def test_flatten_joins_keys():
    assert flatten_dict({"a": {"b": 1, "c": {"d": 2}}, "e": 3}) == {"a.b": 1, "a.c.d": 2, "e": 3}


def test_flatten_with_prefix_and_separator():
    assert flatten_dict({"a": {"b": 1}}, parent_key="p", sep="/") == {"p/a/b": 1}


def test_flatten_keeps_empty_sub_dicts():
    assert flatten_dict({"a": {}}) == {"a": {}}


def test_unflatten_nests_keys():
    assert unflatten_dict({"a.b": 1, "a.c.d": 2, "e": 3}) == {"a": {"b": 1, "c": {"d": 2}}, "e": 3}


def test_unflatten_value_under_a_value_raises():
    with pytest.raises(ValueError, match="key 'a.b' needs 'a' to be a dict, but that key holds the value 1"):
        unflatten_dict({"a": 1, "a.b": 2})


def test_unflatten_value_over_sub_keys_raises():
    with pytest.raises(ValueError, match="key 'a' holds a value, but other keys lie under it \\(\\['b'\\]\\)"):
        unflatten_dict({"a.b": 2, "a": 1})


def test_unflatten_never_fills_a_dict_given_as_value():
    given_value = {"x": 1}
    with pytest.raises(ValueError, match="needs 'a' to be a dict"):
        unflatten_dict({"a": given_value, "a.b": 2})
    assert given_value == {"x": 1}


nested = st.recursive(st.integers(), lambda children: st.dictionaries(st.sampled_from("abc"), children, min_size=1),
                      max_leaves=8)


@given(st.dictionaries(st.sampled_from("xyz"), nested))
def test_flatten_unflatten_round_trip(d):
    assert unflatten_dict(flatten_dict(d)) == d


def test_merge_is_recursive_by_default():
    assert merge_dicts({"a": {"x": 1}, "b": 1}, {"a": {"y": 2}}) == {"a": {"x": 1, "y": 2}, "b": 1}


def test_merge_non_recursive_replaces_sub_dicts():
    assert merge_dicts({"a": {"x": 1}}, {"a": {"y": 2}}, recursive=False) == {"a": {"y": 2}}


def test_merge_does_not_modify_inputs():
    first, second = {"a": {"x": 1}}, {"a": {"y": 2}}
    out = merge_dicts(first, second)
    out["a"]["z"] = 3
    assert first == {"a": {"x": 1}} and second == {"a": {"y": 2}}


def test_merge_of_nothing_is_empty():
    assert merge_dicts() == {}
