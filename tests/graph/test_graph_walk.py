"""The walk and its views: states, nodes, iter_leaf, iter_node, hierarchy levels, update_states,
pop_states, register_graph_node_type, RefMap and Node printing."""

import collections

import jax.numpy as jnp
import numpy as np
import pytest

import brainstate
from brainstate import graph
from brainstate.graph import _node_types


class Inner(brainstate.nn.Module):
    def __init__(self):
        super().__init__()
        self.w = brainstate.ParamState(jnp.ones(2))


class Outer(brainstate.nn.Module):
    def __init__(self):
        super().__init__()
        self.inner = Inner()
        self.layers = [Inner(), {"k": brainstate.ShortTermState(jnp.zeros(1))}]
        self.h = brainstate.HiddenState(jnp.zeros(2))
        self.n = 7


def test_states_are_keyed_by_path_in_sorted_order():
    assert list(graph.states(Outer())) == [("h",), ("inner", "w"), ("layers", 0, "w"), ("layers", 1, "k")]


def test_states_with_filters_return_one_dict_per_filter():
    params, hidden = graph.states(Outer(), brainstate.ParamState, brainstate.HiddenState)
    assert set(params) == {("inner", "w"), ("layers", 0, "w")}
    assert set(hidden) == {("h",)}


def test_states_hold_the_live_objects():
    model = Outer()
    assert graph.states(model)[("inner", "w")] is model.inner.w


def test_states_assigned_after_init_are_found():
    model = Outer()
    model.extra = brainstate.State(jnp.zeros(1))
    assert ("extra",) in graph.states(model)


def test_states_hierarchy_zero_is_the_roots_own():
    assert set(graph.states(Outer(), allowed_hierarchy=(0, 0))) == {("h",), ("layers", 1, "k")}


def test_states_hierarchy_one_is_the_sub_modules():
    assert set(graph.states(Outer(), allowed_hierarchy=(1, 1))) == {("inner", "w"), ("layers", 0, "w")}


def test_bad_hierarchy_is_reported():
    with pytest.raises(ValueError, match=r"allowed_hierarchy must be a pair of integers.*got \(2, 1\)"):
        graph.states(Outer(), allowed_hierarchy=(2, 1))


def test_nodes_lists_children_before_parents_and_the_root_last():
    assert list(graph.nodes(Outer())) == [("inner",), ("layers", 0), ()]


def test_nodes_filter_by_type():
    model = Outer()
    inner = graph.nodes(model, Inner)
    assert list(inner.values()) == [model.inner, model.layers[0]]


def test_nodes_hierarchy_skips_the_root():
    assert list(graph.nodes(Outer(), allowed_hierarchy=(1, 1))) == [("inner",), ("layers", 0)]


def test_shared_node_is_reported_once_under_its_first_path():
    model = Outer()
    model.alias = model.inner
    assert list(graph.nodes(model, Inner)) == [("alias",), ("layers", 0)]


def test_a_direct_child_also_held_deeper_is_a_child():
    # `block` sorts before `encoder` and holds the same module: the depth limit keeps the walk
    # out of `block`'s children, so the module is reported as the direct child it also is
    class Block(brainstate.nn.Module):
        def __init__(self, enc):
            super().__init__()
            self.enc = enc

    class Model(brainstate.nn.Module):
        def __init__(self):
            super().__init__()
            enc = Inner()
            self.block = Block(enc)
            self.encoder = enc

    m = Model()
    assert [name for name, _ in m.named_children()] == ["block", "encoder"]
    assert list(graph.nodes(m, allowed_hierarchy=(1, 1))) == [("block",), ("encoder",)]
    assert [p for p, _ in graph.iter_node(m)] == [("block", "enc"), ("block",), ()]


def test_a_state_of_the_root_also_held_by_a_child_is_the_roots_own():
    model = Outer()
    model.z = model.inner.w  # `inner` sorts before `z`
    assert list(graph.states(model, allowed_hierarchy=(0, 0))) == [("h",), ("layers", 1, "k"), ("z",)]
    assert ("inner", "w") in graph.states(model)  # without a limit, its first path


def test_iter_leaf_skips_none_and_static_attributes():
    model = Outer()
    model.nothing = None
    model.fixed = graph.Static(3)
    assert [p for p, _ in graph.iter_leaf(model) if p[-1] in ("nothing", "fixed")] == []


def test_iter_leaf_yields_states_and_opaque_leaves():
    leaves = dict(graph.iter_leaf(Outer()))
    assert leaves[("n",)] == 7 and isinstance(leaves[("h",)], brainstate.HiddenState)


def test_iter_node_survives_a_cycle():
    model = Outer()
    model.inner.back = model
    assert [p for p, _ in graph.iter_node(model)] == [("inner",), ("layers", 0), ()]


def test_update_states_puts_popped_states_back():
    model = Outer()
    h, w = model.h, model.inner.w
    popped = graph.pop_states(model, lambda path, s: path in (("h",), ("inner", "w")))
    assert not hasattr(model, "h") and not hasattr(model.inner, "w")
    graph.update_states(model, popped)
    assert model.h is h and model.inner.w is w


def test_update_states_puts_a_snapshot_back_as_a_new_state():
    model = Outer()
    snapshot = graph.treefy_states(model, brainstate.HiddenState)
    graph.pop_states(model, brainstate.HiddenState)
    graph.update_states(model, snapshot)
    assert type(model.h) is brainstate.HiddenState
    np.testing.assert_allclose(model.h.value, np.zeros(2))


def test_update_states_refuses_a_plain_value_where_there_is_no_state():
    model = Outer()
    with pytest.raises(ValueError, match=r"no state at path \('inner', 'v'\)"):
        graph.update_states(model, {"inner": {"v": jnp.ones(2)}, "h": jnp.ones(2)})
    np.testing.assert_allclose(model.h.value, np.zeros(2))  # nothing written
    with pytest.raises(ValueError, match=r"no state at path \('nowhere', 'v'\)"):
        graph.update_states(model, {"nowhere": {"v": brainstate.State(jnp.ones(1))}})


def test_graph_invisible_attrs_are_not_edges():
    class Cached(brainstate.nn.Module):
        graph_invisible_attrs = ("cache",)

        def __init__(self):
            super().__init__()
            self.w = brainstate.ParamState(jnp.ones(2))
            self.cache = brainstate.State(jnp.zeros(2))  # not part of the model

    m = Cached()
    assert list(graph.states(m)) == [("w",)]
    assert [p for p, _ in graph.iter_leaf(m)] == [("w",)]
    clone = graph.clone(m)
    assert not hasattr(clone, "cache") and "cache" not in repr(m)


def test_update_states_writes_by_nested_path():
    model = Outer()
    graph.update_states(model, {"inner": {"w": jnp.full(2, 3.0)}})
    np.testing.assert_allclose(model.inner.w.value, np.full(2, 3.0))


def test_update_states_accepts_flat_dicts_and_snapshots():
    model = Outer()
    snapshot = brainstate.ParamState(jnp.full(2, 5.0)).to_state_ref()
    graph.update_states(model, brainstate.util.FlattedDict({("layers", 0, "w"): snapshot}))
    np.testing.assert_allclose(model.layers[0].w.value, np.full(2, 5.0))


def test_update_states_applies_several_dicts_in_order():
    model = Outer()
    graph.update_states(model, {"h": jnp.ones(2)}, {"h": jnp.full(2, 2.0)})
    np.testing.assert_allclose(model.h.value, np.full(2, 2.0))


def test_update_states_with_dict_valued_state_stops_at_the_state():
    model = brainstate.nn.Linear(2, 3)
    graph.update_states(model, {"weight": {"weight": jnp.zeros((2, 3)), "bias": jnp.ones(3)}})
    np.testing.assert_allclose(model.weight.value["bias"], np.ones(3))


def test_update_states_rejects_unknown_paths_and_writes_nothing():
    model = Outer()
    with pytest.raises(ValueError, match=r"Outer has no state at path \('nope',\).*state paths are"):
        graph.update_states(model, {"h": jnp.ones(2), "nope": jnp.ones(1)})
    np.testing.assert_allclose(model.h.value, np.zeros(2))


def test_pop_states_detaches_and_returns_live_states():
    model = Outer()
    short = model.layers[1]["k"]
    popped = graph.pop_states(model, brainstate.ShortTermState)
    assert popped.layers[1].k is short
    assert model.layers[1] == {} and not hasattr(model, "h")
    assert set(graph.states(model)) == {("inner", "w"), ("layers", 0, "w")}


def test_pop_states_removes_list_items_from_the_back():
    a, b, c = (brainstate.State(jnp.full(1, float(i))) for i in range(3))
    holder = [a, b, c]
    graph.pop_states(holder, lambda path, s: s is not b)
    assert holder == [b]


def test_pop_states_needs_a_filter():
    with pytest.raises(ValueError, match="pop_states: no filter given.*`...` to remove all"):
        graph.pop_states(Outer())


def test_pop_states_refuses_states_in_tuples():
    model = Outer()
    model.pair = (brainstate.ShortTermState(jnp.ones(1)), 1)
    with pytest.raises(ValueError, match=r"state at path \('pair', 0\) sits in a tuple"):
        graph.pop_states(model, brainstate.ShortTermState)
    assert hasattr(model, "h")


def test_states_in_dict_subclasses_are_found_and_rebuilt():
    s = brainstate.State(jnp.ones(1))
    holder = Outer()
    holder.od = collections.OrderedDict(b=s)
    holder.dd = collections.defaultdict(list, a=s)
    holder.fd = brainstate.util.FlattedDict({("p", 0): brainstate.State(jnp.zeros(1))})
    assert {("dd", "a"), ("fd", ("p", 0))} <= set(graph.states(holder))
    new = graph.clone(holder)
    assert type(new.od) is collections.OrderedDict and new.od["b"] is new.dd["a"]
    assert new.dd.default_factory is list and type(new.fd) is brainstate.util.FlattedDict


class Bag:
    """A user container made into a graph node."""

    def __init__(self, **items):
        self.items = dict(items)


def _register_bag():
    graph.register_graph_node_type(
        Bag,
        flatten=lambda bag: (sorted(bag.items.items()), None),
        set_key=lambda bag, k, v: bag.items.__setitem__(k, v),
        pop_key=lambda bag, k: bag.items.pop(k),
        create_empty=lambda aux: Bag(),
        clear=lambda bag: bag.items.clear(),
    )


def test_registered_type_is_walked_and_rebuilt():
    _register_bag()
    s = brainstate.State(jnp.ones(1))
    bag = Bag(a=s, b=s)
    assert list(graph.states(bag)) == [("a",)]
    new = graph.clone(bag)
    assert type(new) is Bag and new.items["a"] is new.items["b"] and new.items["a"] is not s


def test_registered_type_counts_as_a_hierarchy_level():
    _register_bag()
    holder = Outer()
    holder.bag = Bag(x=brainstate.State(jnp.ones(1)))
    assert ("bag", "x") in graph.states(holder, allowed_hierarchy=(1, 1))


def test_unflatten_of_an_unregistered_type_is_reported():
    _register_bag()
    graphdef, mapping = graph.treefy_split(Bag())
    saved = _node_types._REGISTRY.pop(Bag)
    try:
        with pytest.raises(TypeError, match=r"unflatten: the graphdef has a Bag at path \(\), which is not a graph "
                                             r"node type\. Register it with graph\.register_graph_node_type"):
            graph.treefy_merge(graphdef, mapping)
    finally:
        _node_types._REGISTRY[Bag] = saved


def test_register_rejects_non_classes():
    with pytest.raises(TypeError, match="`type` must be a class"):
        graph.register_graph_node_type(Bag(), None, None, None, None, None)


def test_register_rejects_built_in_kinds():
    with pytest.raises(ValueError, match="ParamState is already handled by the graph walk"):
        graph.register_graph_node_type(brainstate.ParamState, None, None, None, None, None)


def test_refmap_compares_keys_by_identity():
    a, b = [1], [1]
    refs = graph.RefMap({id: 0}.items())
    refs[a] = 1
    assert a in refs and b not in refs and len(refs) == 2
    del refs[a]
    assert list(refs) == [id]


def test_refmap_missing_key_raises_key_error():
    with pytest.raises(KeyError, match=r"^\[\]$"):  # KeyError shows the key that is missing
        graph.RefMap()[[]]


def test_node_repr_shows_public_attributes_and_cuts_cycles():
    model = Outer()
    model.inner.back = model
    text = repr(model)
    assert "inner=Inner(" in text and "back=Outer(...)" in text and "n=7" in text
