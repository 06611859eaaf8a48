"""Small members of the graph model that released libraries call: GraphDef.index/type,
NodeStates.graphdef/from_prefixes/replace and the reference's from_split form,
Node.check_valid_context."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import brainstate
from brainstate import graph


class Net(brainstate.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = brainstate.nn.Linear(2, 3)
        self.h = brainstate.ShortTermState(jnp.zeros(3))


class Cell(graph.Node):
    def __init__(self, value):
        self.h = brainstate.State(value)


# -- GraphDef ----------------------------------------------------------------------------------
@pytest.mark.parametrize("root,expected", [
    (lambda: Net(), Net),
    (lambda: [brainstate.State(1.0)], list),
    (lambda: {"a": brainstate.State(1.0)}, dict),
    (lambda: (brainstate.State(1.0),), tuple),
])
def test_graphdef_type_is_the_root_type(root, expected):
    assert graph.graphdef(root()).type is expected


def test_graphdef_index_of_a_split_root_is_zero():
    assert graph.graphdef(Net()).index == 0


def test_graphdef_index_of_a_shared_root_is_its_walk_index():
    shared = Net()
    refs = graph.RefMap()
    graph.flatten([brainstate.State(1.0), shared], ref_index=refs)  # `shared` is met at index > 0
    fresh = brainstate.nn.Linear(1, 1)
    graphdef, _ = graph.flatten(fresh, ref_index=refs)
    assert graphdef.index == refs[fresh] > 0


def test_graphdef_type_of_a_tuple_root_with_only_leaves():
    assert graph.graphdef((1, 2)).type is tuple and graph.graphdef((1, 2)).index == 0


# -- NodeStates --------------------------------------------------------------------------------
def test_node_states_from_prefixes_carries_any_values_without_graphdef():
    ns = graph.NodeStates.from_prefixes([0, None], metadata="axes")
    assert ns.states == (0, None) and ns.graphdef is None and ns.metadata == "axes"


def test_node_states_graphdef_property():
    net = Net()
    graphdef, state = graph.treefy_split(net)
    assert graph.NodeStates.from_split(net).graphdef == graphdef
    assert graph.NodeStates(_graphdef=graphdef, states=(state,)).graphdef is graphdef


def test_node_states_from_split_accepts_the_reference_form():
    net = Net()
    graphdef, params, rest = graph.treefy_split(net, brainstate.ParamState, ...)
    packed = graph.NodeStates.from_split(graphdef, params, rest, metadata="m")
    assert packed.graphdef is graphdef and packed.states == (params, rest) and packed.metadata == "m"
    rebuilt = packed.to_node()
    np.testing.assert_allclose(rebuilt.linear.weight.value["weight"], net.linear.weight.value["weight"])


def test_node_states_from_split_with_a_graphdef_needs_a_mapping():
    graphdef, _ = graph.treefy_split(Net())
    with pytest.raises(TypeError, match=r"from_split\(graphdef, state, \*states\): give at least one state"):
        graph.NodeStates.from_split(graphdef)


def test_node_states_replace_returns_a_copy():
    graphdef, state = graph.treefy_split(Net())
    ns = graph.NodeStates.from_prefixes([1])
    new = ns.replace(graphdef=graphdef, states=[state], metadata=2)
    assert (new.graphdef, new.states, new.metadata) == (graphdef, (state,), 2)
    assert (ns.graphdef, ns.states, ns.metadata) == (None, (1,), None)


def test_node_states_replace_unknown_field_raises():
    with pytest.raises(TypeError, match=r"NodeStates.replace: unknown field\(s\) \['shape'\]"):
        graph.NodeStates.from_prefixes([1]).replace(shape=3)


def test_node_states_replaced_still_a_pytree():
    graphdef, state = graph.treefy_split(Net())
    ns = graph.NodeStates.from_prefixes([]).replace(graphdef=graphdef, states=(state,))
    leaves, treedef = jax.tree_util.tree_flatten(ns)
    assert jax.tree_util.tree_unflatten(treedef, leaves).graphdef is graphdef


# -- Node.check_valid_context ------------------------------------------------------------------
def test_check_valid_context_passes_for_concrete_states():
    calls = []
    Cell(jnp.zeros(2)).check_valid_context(lambda: calls.append(1) or "unused")
    assert calls == []  # the message is built only on failure


def test_check_valid_context_raises_the_given_message_for_a_leaked_tracer():
    box = []

    def leak(x):
        box.append(Cell(x))  # a state created inside a raw jax.jit keeps the tracer
        return x

    jax.jit(leak)(jnp.ones(2))
    with pytest.raises(brainstate.TraceContextError, match="^Cell was used outside its transform$") as info:
        box[0].check_valid_context(lambda: "Cell was used outside its transform")
    assert isinstance(info.value.__cause__, brainstate.TraceContextError)


def test_check_valid_context_inside_a_transform_passes():
    cell = Cell(jnp.zeros(2))

    @brainstate.transform.jit
    def f(x):
        cell.check_valid_context(lambda: "bad")
        return x + cell.h.value

    np.testing.assert_allclose(f(jnp.ones(2)), [1.0, 1.0])
