"""graph_to_tree / tree_to_graph: PyTrees holding graph nodes, as pure PyTrees and back."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import brainstate
from brainstate import graph
from graph_corpus import Box, describe, graphs, identities


class Holder(graph.Node):
    def __init__(self, state):
        self.s = state


def test_nodes_become_node_states_and_other_leaves_stay():
    h = Holder(brainstate.ParamState(jnp.ones(2)))
    tree, _ = graph.graph_to_tree({"model": h, "n": 3})
    assert isinstance(tree["model"], graph.NodeStates) and tree["n"] == 3


def test_pure_tree_has_array_leaves_only():
    tree, _ = graph.graph_to_tree([Holder(brainstate.State(jnp.ones(2)))])
    assert all(isinstance(x, jax.Array) for x in jax.tree.leaves(tree))


def test_found_states_are_keyed_by_tree_path_then_state_path():
    a, b = brainstate.State(jnp.zeros(1)), brainstate.State(jnp.ones(1))
    _, found = graph.graph_to_tree({"x": [Holder(a), Holder(b)], "y": Holder(a)})
    assert list(found) == [("x", 0, "s"), ("x", 1, "s")] and found[("x", 0, "s")] is a


def test_round_trip_builds_new_nodes_with_same_values():
    h = Holder(brainstate.State(jnp.arange(3.0)))
    back = graph.tree_to_graph(graph.graph_to_tree([h])[0])[0]
    assert back is not h and back.s is not h.s
    np.testing.assert_allclose(back.s.value, [0.0, 1.0, 2.0])


def test_node_shared_between_leaves_stays_shared():
    h = Holder(brainstate.State(jnp.zeros(1)))
    back = graph.tree_to_graph(graph.graph_to_tree({"a": h, "b": [h]})[0])
    assert back["a"] is back["b"][0]


def test_state_shared_between_nodes_stays_shared():
    s = brainstate.State(jnp.zeros(1))
    a, b = graph.tree_to_graph(graph.graph_to_tree((Holder(s), Holder(s)))[0])
    assert a.s is b.s


def test_pure_tree_passes_through_jit():
    h = Holder(brainstate.State(jnp.ones(2)))
    tree, _ = graph.graph_to_tree((h, h))
    a, b = graph.tree_to_graph(jax.jit(lambda t: jax.tree.map(lambda x: x * 2, t))(tree))
    assert a is b
    np.testing.assert_allclose(a.s.value, [2.0, 2.0])


def test_prefix_is_broadcast_to_split_fn():
    seen = []
    graph.graph_to_tree({"a": Holder(brainstate.State(1.0)), "b": [Holder(brainstate.State(2.0))]},
                        prefix={"a": 0, "b": None},
                        split_fn=lambda ctx, kp, prefix, leaf: seen.append((jax.tree_util.keystr(kp), prefix)))
    assert seen == [("['a']", 0), ("['b'][0]", None)]


def test_map_non_graph_nodes_calls_split_fn_on_every_leaf():
    tree, _ = graph.graph_to_tree([1, 2], split_fn=lambda ctx, kp, p, leaf: leaf * 10, map_non_graph_nodes=True)
    assert tree == [10, 20]


def test_default_split_fn_leaves_non_nodes_alone():
    tree, _ = graph.graph_to_tree([1, Holder(brainstate.State(1.0))], map_non_graph_nodes=True)
    assert tree[0] == 1 and isinstance(tree[1], graph.NodeStates)


def test_bad_prefix_raises():
    with pytest.raises(ValueError, match="graph_to_tree: prefix \\(0, 1, 2\\) is not a tree prefix of the input"):
        graph.graph_to_tree([Holder(brainstate.State(1.0))], prefix=(0, 1, 2))


def test_shared_object_with_two_prefixes_raises():
    s = brainstate.State(jnp.zeros(1))
    with pytest.raises(ValueError, match="the same State is reached from \\[0\\] with prefix 0 and from \\[1\\] "
                                         "\\(at \\('s',\\)\\) with prefix 1"):
        graph.graph_to_tree([Holder(s), Holder(s)], prefix=[0, 1])


def test_aliasing_check_can_be_turned_off():
    s = brainstate.State(jnp.zeros(1))
    tree, _ = graph.graph_to_tree([Holder(s), Holder(s)], prefix=[0, 1], check_aliasing=False)
    assert len(tree) == 2


def test_same_prefix_for_shared_object_is_fine():
    s = brainstate.State(jnp.zeros(1))
    tree, _ = graph.graph_to_tree([Holder(s), Holder(s)], prefix=[0, 0])
    assert len(tree) == 2


def test_tree_to_graph_prefix_and_custom_merge_fn():
    out = graph.tree_to_graph({"a": 1, "b": 2}, prefix={"a": "x", "b": "y"}, map_non_graph_nodes=True,
                              merge_fn=lambda ctx, kp, prefix, leaf: (prefix, leaf))
    assert out == {"a": ("x", 1), "b": ("y", 2)}


def test_tree_to_graph_bad_prefix_raises():
    with pytest.raises(ValueError, match="tree_to_graph: prefix \\[0\\] is not a tree prefix"):
        graph.tree_to_graph({"a": 1}, prefix=[0])


def test_node_states_without_graphdef_cannot_be_rebuilt():
    with pytest.raises(ValueError, match="the NodeStates at \\['m'\\] carries no graphdef"):
        graph.tree_to_graph({"m": graph.NodeStates.from_states(brainstate.util.NestedDict())})


@settings(max_examples=40, deadline=None)
@given(st.lists(graphs(max_ops=8), min_size=1, max_size=3), st.data())
def test_round_trip_preserves_structure_and_sharing_across_the_tree(roots, data):
    # Leaves: the roots, some of them repeated, plus sub-modules reached inside other roots.
    pool = list(roots) + [m for r in roots for m in vars(r).values() if isinstance(m, Box)]
    leaves = data.draw(st.lists(st.sampled_from(pool), min_size=1, max_size=5))
    tree = {"first": leaves[0], "rest": leaves[1:], "n": 7}
    back = graph.tree_to_graph(graph.graph_to_tree(tree)[0])
    # `describe` numbers shared objects by first visit, so equal descriptions mean the same
    # sharing (and cycles) across all leaves, not only within each one.
    original = [tree["first"], *tree["rest"]]
    rebuilt = [back["first"], *back["rest"]]
    assert describe(rebuilt) == describe(original)
    assert not identities(rebuilt) - {id(rebuilt)} & identities(original)
    assert back["n"] == 7
