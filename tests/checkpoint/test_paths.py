"""The key table and its views: keys are text on demand, equal to the joined graph paths."""

import os
import tempfile

import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import brainstate
from brainstate import checkpoint
from brainstate.checkpoint import _layout
from brainstate.checkpoint._paths import PathList, PathMap, PathTable


def table_of(*keys):
    table = PathTable()
    return table, [table.state_node(table.add_text(0, key)) for key in keys]


def test_keys_round_trip_through_the_table():
    keys = ["layers.0.weight", "layers.0.bias", "layers.10", "", "a..b", "x."]
    table, nodes = table_of(*keys)
    assert [table.key(n) for n in nodes] == keys
    assert [table.find(k) for k in keys] == nodes
    assert table.find("layers.0") == table.parent[nodes[0]] == table.parent[nodes[1]]
    assert table.find("layers.1") is None and table.find("layers.0.weight.x") is None


def test_shared_prefixes_are_stored_once():
    table, _ = table_of("a.b.c", "a.b.d", "a.e")
    assert len(table) == 6  # '', a, a.b, a.b.c, a.b.d, a.e
    assert table.length[table.find("a.b.c")] == len("a.b.c")


def test_rows_rebuild_the_same_table():
    table, nodes = table_of("m.next.next.w", "m.next.w", "m.w")
    again = PathTable.from_rows(table.rows())
    assert [again.key(n) for n in nodes] == ["m.next.next.w", "m.next.w", "m.w"]


def test_a_lone_empty_part_is_the_empty_key():
    table, (empty, dotted) = table_of("", ".w")
    assert empty == 0 and table.key(dotted) == ".w" and dotted != 0


def test_path_list_reads_like_a_tuple():
    table, nodes = table_of("b", "a.x", "c")
    keys = PathList(table, nodes)
    assert keys == ("b", "a.x", "c") and ["b", "a.x", "c"] == keys and keys != ("b", "a.x")
    assert keys != "b" and len(keys) == 3 and keys[1] == "a.x" and keys[-1] == "c"
    assert keys[1:] == ("a.x", "c") and isinstance(keys[1:], PathList)
    assert "a.x" in keys and "a" not in keys and 3 not in keys
    assert repr(keys) == "('b', 'a.x', 'c')" and hash(keys) == hash(("b", "a.x", "c"))


def test_path_map_reads_like_a_dict():
    table, nodes = table_of("b", "a.x")
    values = PathMap(table, nodes, [1, 2])
    assert values == {"b": 1, "a.x": 2} and list(values) == ["b", "a.x"] and len(values) == 2
    assert values["a.x"] == 2 and values.get("a") is None and "b" in values
    assert repr(values) == "{'b': 1, 'a.x': 2}"
    with pytest.raises(KeyError, match="'a'"):
        values["a"]
    with pytest.raises(KeyError, match="3"):
        values[3]


def test_path_map_needs_one_value_per_node():
    table, nodes = table_of("a", "b")
    with pytest.raises(ValueError, match=r"PathMap: 2 nodes but 1 values"):
        PathMap(table, nodes, [1])


# -- keys of random graphs, in both layouts -----------------------------------------------------------
_KEYS = st.one_of(st.sampled_from(["a", "b", "weight", "x_1"]), st.integers(0, 3))


def _graphs(depth: int):
    leaf = st.builds(lambda v: brainstate.State(jnp.asarray(v, jnp.float32)), st.floats(-4, 4, width=32))
    if depth == 0:
        return leaf
    return st.one_of(leaf, st.dictionaries(_KEYS, _graphs(depth - 1), max_size=3))


@settings(max_examples=40)
@given(graph=st.dictionaries(_KEYS, _graphs(3), max_size=4), indexed=st.booleans())
def test_keys_are_the_joined_graph_paths(graph, indexed):
    old = _layout.MAX_NAMED_TEXT
    _layout.MAX_NAMED_TEXT = 0 if indexed else old
    try:
        path = os.path.join(tempfile.mkdtemp(), "ckpt.safetensors")
        checkpoint.save(path, graph)
    finally:
        _layout.MAX_NAMED_TEXT = old
    states = brainstate.graph.states(graph)
    joined = [".".join(map(str, p)) for p in states]
    values = checkpoint.load(path).values
    assert sorted(values) == sorted(joined)
    for key, state in zip(joined, states.values()):
        np.testing.assert_array_equal(values[key], state.value)
    report = checkpoint.restore(path, graph)
    assert report.ok and report.restored == joined
