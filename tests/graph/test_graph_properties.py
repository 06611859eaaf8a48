"""Property tests over generated graphs: round trips, sharing, filters, clone independence."""

import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import brainstate
from brainstate import graph
from brainstate.util import PathContains
from graph_corpus import all_states, describe, graphs, identities, objects

SETTINGS = settings(max_examples=60, deadline=None)

FILTER_POOL = [brainstate.ParamState, brainstate.ShortTermState, brainstate.LongTermState, brainstate.HiddenState,
               "tagA", PathContains("a0"), lambda path, x: len(path) > 2]


@SETTINGS
@given(graphs())
def test_split_merge_round_trip_is_structurally_equal(g):
    merged = graph.treefy_merge(*graph.treefy_split(g))
    assert describe(merged) == describe(g)


@SETTINGS
@given(graphs())
def test_split_merge_builds_new_objects(g):
    merged = graph.treefy_merge(*graph.treefy_split(g))
    assert not identities(merged) & identities(g)


@SETTINGS
@given(graphs())
def test_shared_states_stay_shared_after_merge(g):
    merged = graph.treefy_merge(*graph.treefy_split(g))
    # One state per distinct original state: two paths to one state give one object back.
    assert len(all_states(merged)) == len(all_states(g))


@SETTINGS
@given(graphs())
def test_flatten_unflatten_round_trip(g):
    graphdef, mapping = graph.flatten(g)
    assert describe(graph.unflatten(graphdef, mapping)) == describe(g)


@SETTINGS
@given(graphs())
def test_flatten_live_states_unflatten_reuses_them(g):
    graphdef, mapping = graph.flatten(g, treefy_state=False)
    rebuilt = graph.unflatten(graphdef, mapping)
    assert describe(rebuilt) == describe(g)
    assert set(all_states(rebuilt)) == set(all_states(g))


@SETTINGS
@given(graphs(), st.lists(st.sampled_from(FILTER_POOL), max_size=4))
def test_filters_place_every_state_exactly_once(g, filters):
    _, *mappings = graph.treefy_split(g, *filters, ...)
    paths = [p for m in mappings for p in m.to_flat()]
    assert len(paths) == len(set(paths)) == len(all_states(g))
    assert set(paths) == set(graph.states(g))


@SETTINGS
@given(graphs(), st.lists(st.sampled_from(FILTER_POOL), min_size=1, max_size=4))
def test_each_state_goes_to_its_first_matching_filter(g, filters):
    live = graph.states(g)
    groups = graph.states(g, *filters, ...)
    predicates = [brainstate.util.to_predicate(f) for f in filters] + [lambda p, x: True]
    for i, group in enumerate(groups):
        for path, state in group.items():
            assert predicates[i](path, state)
            assert not any(p(path, state) for p in predicates[:i])
            assert live[path] is state


@SETTINGS
@given(graphs())
def test_clone_preserves_sharing_and_is_independent(g):
    before = describe(g)
    cloned = graph.clone(g)
    assert describe(cloned) == before
    for state in all_states(cloned).values():
        state.value = state.value + 100
    assert describe(g) == before


@SETTINGS
@given(graphs())
def test_graphdef_is_equal_and_hashes_equal_for_a_clone(g):
    a, b = graph.graphdef(g), graph.graphdef(graph.clone(g))
    assert a == b and hash(a) == hash(b)


@SETTINGS
@given(graphs())
def test_graphdef_holds_no_state_values(g):
    text = repr(graph.graphdef(g))
    for state in all_states(g).values():
        assert repr(state.value) not in text


@SETTINGS
@given(graphs())
def test_update_states_from_a_split_restores_values(g):
    graphdef, mapping = graph.treefy_split(g)
    for state in all_states(g).values():
        state.value = jnp.zeros_like(state.value)
    graph.update_states(g, mapping)
    for path, ref in mapping.to_flat().items():
        np.testing.assert_allclose(graph.states(g)[path].value, ref.value)


@SETTINGS
@given(graphs())
def test_pop_states_removes_matching_states_everywhere(g):
    expected = {p for p, s in graph.states(g).items() if isinstance(s, brainstate.ShortTermState)}
    in_tuple = any(isinstance(x, brainstate.ShortTermState) for t in objects(g) if type(t) is tuple for x in t)
    if in_tuple:  # tuples cannot be changed in place: refused, and nothing is removed
        with pytest.raises(ValueError, match="sits in a tuple"):
            graph.pop_states(g, brainstate.ShortTermState)
        assert set(graph.states(g, brainstate.ShortTermState)) == expected
        return
    popped = graph.pop_states(g, brainstate.ShortTermState)
    assert set(popped.to_flat()) == expected
    assert not any(isinstance(s, brainstate.ShortTermState) for s in all_states(g).values())
