"""treefy_split / treefy_merge, flatten / unflatten, graphdef, clone and NodeStates."""

import collections

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import brainstate
from brainstate import graph
from brainstate.util import FlattedDict, NestedDict


class Net(brainstate.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = brainstate.nn.Linear(2, 3)
        self.h = brainstate.ShortTermState(jnp.zeros(3))


class Child(graph.Node):
    def __init__(self, parent):
        self.parent = parent
        self.s = brainstate.State(jnp.ones(2))


class Parent(graph.Node):
    def __init__(self):
        self.child = Child(self)


def test_split_returns_one_mapping_per_filter():
    graphdef, params, rest = graph.treefy_split(Net(), brainstate.ParamState, ...)
    assert isinstance(graphdef, graph.GraphDef)
    assert isinstance(params, NestedDict) and set(params.to_flat()) == {("linear", "weight")}
    assert set(rest.to_flat()) == {("h",)}


def test_split_holds_treefy_state_snapshots():
    net = Net()
    _, mapping = graph.treefy_split(net)
    ref = mapping.linear.weight
    assert isinstance(ref, brainstate.TreefyState) and ref.type is brainstate.ParamState
    np.testing.assert_allclose(ref.value["weight"], net.linear.weight.value["weight"])


def test_split_without_covering_filters_lists_leftover_paths():
    with pytest.raises(ValueError, match=r"treefy_split: no filter matches the entries at paths \[\('h',\)\].*`...`"):
        graph.treefy_split(Net(), brainstate.ParamState)


def test_split_of_a_bare_state_is_refused():
    with pytest.raises(TypeError, match="treefy_split: the root is a State itself"):
        graph.treefy_split(brainstate.State(jnp.zeros(1)))


def test_merge_builds_a_new_graph_with_the_same_values():
    net = Net()
    new = graph.treefy_merge(*graph.treefy_split(net, brainstate.ParamState, ...))
    assert type(new) is Net and new is not net and new.linear.weight is not net.linear.weight
    np.testing.assert_allclose(new.linear.weight.value["weight"], net.linear.weight.value["weight"])
    assert new.linear.in_size == (2,)


def test_merge_restores_a_cycle():
    parent = graph.treefy_merge(*graph.treefy_split(Parent()))
    assert parent.child.parent is parent


def test_merge_restores_a_shared_state_as_one_object():
    s = brainstate.State(jnp.ones(2))
    new = graph.treefy_merge(*graph.treefy_split({"a": s, "b": [s]}))
    assert new["a"] is new["b"][0]


def test_shared_state_is_recorded_under_its_first_sorted_path():
    s = brainstate.State(jnp.ones(2))
    _, mapping = graph.treefy_split({"b": s, "a": [s]})
    assert set(mapping.to_flat()) == {("a", 0)}


def test_merge_restores_tuples_and_namedtuples():
    Point = collections.namedtuple("Point", ["x", "y"])
    s = brainstate.State(jnp.ones(1))
    new = graph.treefy_merge(*graph.treefy_split([Point(s, 3), (s, "k")]))
    assert type(new[0]) is Point and new[0].y == 3 and new[1] == (new[0].x, "k")


def test_namedtuple_fields_are_path_keys():
    Point = collections.namedtuple("Point", ["x", "y"])
    assert set(graph.states([Point(brainstate.State(jnp.ones(1)), 1)])) == {(0, "x")}


def test_merge_reports_a_missing_state():
    graphdef, params, rest = graph.treefy_split(Net(), brainstate.ParamState, ...)
    with pytest.raises(ValueError, match=r"state at path \('h',\) but no mapping has an entry there"):
        graph.treefy_merge(graphdef, params)


def test_merge_takes_a_state_in_two_mappings_from_the_last():
    graphdef, mapping = graph.treefy_split(Net())
    other = Net()
    other.linear.weight.value = jax.tree.map(lambda w: jnp.full_like(w, 5.0), other.linear.weight.value)
    new_params = graph.treefy_states(other, brainstate.ParamState)
    merged = graph.treefy_merge(graphdef, mapping, new_params)  # the params overridden, as dict.update
    assert all(np.all(w == 5.0) for w in jax.tree.leaves(merged.linear.weight.value))
    np.testing.assert_allclose(merged.h.value, mapping["h"].value)


def test_a_graphdef_is_a_static_jit_argument():
    graphdef, mapping = graph.treefy_split(Net())
    def total(gd, st):
        return sum(x.sum() for s in graph.states(graph.treefy_merge(gd, st)).values() for x in jax.tree.leaves(s.value))

    np.testing.assert_allclose(jax.jit(total)(graphdef, mapping), total(graphdef, mapping), rtol=1e-6)
    assert jax.tree_util.tree_leaves(graphdef) == []


def test_merge_reports_entries_with_no_place_in_the_graph():
    graphdef, mapping = graph.treefy_split(Net())
    extra = mapping.merge({"extra": brainstate.State(jnp.ones(1)).to_state_ref()})
    with pytest.raises(ValueError, match=r"entries at paths \[\('extra',\)\] where the graphdef has no state"):
        graph.treefy_merge(graphdef, extra)


def test_merge_rejects_plain_values():
    graphdef, mapping = graph.treefy_split(Net())
    with pytest.raises(TypeError, match=r"entry at path \('h',\) is a .*not a TreefyState.*update_states"):
        graph.treefy_merge(graphdef, {"h": jnp.zeros(3), "linear": mapping.linear})


def test_merge_rejects_a_non_graphdef():
    with pytest.raises(TypeError, match="expected a GraphDef as first argument, got dict"):
        graph.treefy_merge({}, {})


def test_merge_accepts_flat_mappings():
    graphdef, mapping = graph.treefy_split(Net())
    new = graph.treefy_merge(graphdef, mapping.to_flat())
    assert isinstance(new.h, brainstate.ShortTermState)


def test_flatten_returns_a_nested_dict_of_snapshots():
    graphdef, mapping = graph.flatten(Net())
    assert isinstance(mapping.h, brainstate.TreefyState)


def test_flatten_of_a_bare_state_is_refused():
    with pytest.raises(TypeError, match="flatten: the root is a State itself"):
        graph.flatten(brainstate.State(jnp.zeros(1)))


def test_flatten_fills_ref_index_and_unflatten_uses_index_ref():
    net = Net()
    refs = graph.RefMap()
    graphdef, mapping = graph.flatten(net, ref_index=refs)
    assert refs[net] == 0 and net.h in refs
    outer = graph.RefMap({net.linear: 0})
    graphdef, mapping = graph.flatten(net, ref_index=outer)
    assert set(mapping.to_flat()) == {("h",)}
    rebuilt = graph.unflatten(graphdef, mapping, index_ref={0: net.linear})
    assert rebuilt.linear is net.linear


def test_unflatten_reports_an_unknown_outer_reference():
    net = Net()
    graphdef, mapping = graph.flatten(net, ref_index=graph.RefMap({net.linear: 0}))
    with pytest.raises(ValueError, match=r"refers to object #0 at path \('linear',\).*index_ref"):
        graph.unflatten(graphdef, mapping)


def test_unflatten_with_index_ref_cache_updates_the_earlier_objects_in_place():
    graphdef, mapping = graph.flatten(Net())
    built_ref: dict = {}
    built = graph.unflatten(graphdef, mapping, index_ref=built_ref)
    weight, h = built.linear.weight, built.h
    other = Net()
    other.h.value = jnp.full(3, 7.0)
    graphdef2, mapping2 = graph.flatten(other)
    again = graph.unflatten(graphdef2, mapping2, index_ref_cache=built_ref)
    # the same objects (the root, the sub-module, each state), holding the new values
    assert again is built and again.linear is built.linear
    assert again.linear.weight is weight and again.h is h
    np.testing.assert_allclose(np.asarray(h.value), 7.0)
    np.testing.assert_allclose(np.asarray(weight.value["weight"]), np.asarray(other.linear.weight.value["weight"]))
    assert set(graph.states(again)) == set(graph.states(other))


def test_unflatten_with_index_ref_cache_keeps_a_compiled_function_current():
    graphdef, mapping = graph.flatten(Net())
    ref: dict = {}
    built = graph.unflatten(graphdef, mapping, index_ref=ref)
    read = brainstate.transform.jit(lambda: built.h.value.sum())
    assert float(read()) == 0.0
    other = Net()
    other.h.value = jnp.ones(3)
    graph.unflatten(*graph.flatten(other), index_ref_cache=ref)
    assert float(read()) == 3.0


def test_unflatten_refuses_an_index_ref_cache_of_another_structure():
    graphdef, mapping = graph.flatten(Net())
    ref: dict = {}
    graph.unflatten(graphdef, mapping, index_ref=ref)
    node_index = next(i for i, obj in ref.items() if isinstance(obj, Net))
    with pytest.raises(ValueError, match=r"index_ref_cache\[\d+\] is a list, but the graphdef has a Net at path \(\)"):
        graph.unflatten(graphdef, mapping, index_ref_cache={node_index: []})
    state_index = next(i for i, obj in ref.items() if obj is ref[node_index].h)
    with pytest.raises(ValueError, match=r"index_ref_cache\[\d+\] is a ndarray, but the graphdef has a state at "
                                         r"path \('h',\)"):
        graph.unflatten(graphdef, mapping, index_ref_cache={state_index: np.zeros(3)})


def test_graphdef_is_hashable_and_equal_for_equal_structures():
    a, b = graph.graphdef(Net()), graph.graphdef(Net())
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1


def test_graphdef_differs_for_different_structures():
    assert graph.graphdef(Net()) != graph.graphdef(brainstate.nn.Linear(2, 3))
    assert graph.graphdef([1]) != graph.graphdef([True])


def test_graphdef_with_an_unhashable_leaf_compares_by_identity():
    mask = jnp.ones(3)
    a, b = graph.graphdef([mask]), graph.graphdef([mask])
    assert a == b and hash(a) == hash(b)
    assert graph.graphdef([jnp.ones(3)]) != graph.graphdef([jnp.ones(3)])


def test_graphdef_can_key_a_jit_cache():
    net = Net()
    graphdef, mapping = graph.treefy_split(net)
    traces = []

    @brainstate.transform.jit
    def f(mapping):
        traces.append(1)
        model = graph.treefy_merge(graphdef, mapping)
        return model.linear(jnp.ones(2))

    f(mapping)
    f(graph.treefy_split(net)[1])
    assert len(traces) == 1


def test_clone_is_independent_of_the_original():
    net = Net()
    copy = graph.clone(net)
    copy.h.value = jnp.ones(3)
    np.testing.assert_allclose(net.h.value, np.zeros(3))


def test_clone_keeps_a_cycle():
    parent = graph.clone(Parent())
    assert parent.child.parent is parent


def test_node_states_round_trip_through_a_pytree():
    net = Net()
    packed = graph.NodeStates.from_split(net, brainstate.ParamState, ...)
    leaves, treedef = jax.tree_util.tree_flatten(packed)
    rebuilt = jax.tree_util.tree_unflatten(treedef, leaves).to_node()
    np.testing.assert_allclose(rebuilt.linear.weight.value["bias"], net.linear.weight.value["bias"])


def test_node_states_state_requires_exactly_one_mapping():
    packed = graph.NodeStates.from_split(Net(), brainstate.ParamState, ...)
    with pytest.raises(ValueError, match=r"there are 2 mappings, not one.*\.states\[i\]"):
        packed.state
    assert graph.NodeStates.from_split(Net()).state.h.type is brainstate.ShortTermState


def test_node_states_without_graphdef_cannot_rebuild():
    packed = graph.NodeStates.from_states(NestedDict())
    with pytest.raises(ValueError, match="carries no graphdef.*from_split"):
        packed.to_node()


def test_flatted_states_nest_back():
    flat = graph.states(Net())
    assert isinstance(flat, FlattedDict) and isinstance(flat.to_nest().linear.weight, brainstate.ParamState)
