"""The public names of GraphDef edges, and `Static` as a leafless PyTree."""

import jax
import jax.numpy as jnp

import brainstate
from brainstate import graph


class Pair(graph.Node):
    def __init__(self):
        self.w = brainstate.ParamState(jnp.ones(2))
        self.same = self.w
        self.t = (1, 2)
        self.n = 3


def test_graphdef_is_built_from_the_public_edge_types():
    root = graph.graphdef(Pair()).root
    assert isinstance(root, graph.NodeSpec) and root.type is Pair and root.metadata is Pair
    fields = dict(root.fields)
    assert isinstance(fields["n"], graph.StaticEdge) and fields["n"].value == 3
    assert isinstance(fields["same"], graph.StateEdge) and fields["same"].type is brainstate.ParamState
    assert isinstance(fields["w"], graph.NodeEdge) and fields["w"].index == fields["same"].index
    assert isinstance(fields["t"], graph.PytreeEdge) and fields["t"].metadata is tuple


def test_static_is_a_pytree_without_leaves():
    s = graph.Static("config")
    assert jax.tree.leaves(s) == [] and jax.tree.map(lambda x: x, s) == s


def test_static_value_is_part_of_the_tree_structure():
    assert jax.tree.structure(graph.Static(1)) != jax.tree.structure(graph.Static(2))


def test_static_passes_through_jit_as_static_data():
    out = jax.jit(lambda x, s: x * s.value)(2.0, graph.Static(3))
    assert float(out) == 6.0


def test_state_leaf_edge_is_a_frozen_record():
    edge = graph.StateLeafEdge(("a", 0))
    assert edge.path == ("a", 0) and edge == graph.StateLeafEdge(("a", 0)) and hash(edge)
