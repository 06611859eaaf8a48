"""Graphs hundreds and thousands of levels deep: every walk works under the default recursion limit.

A chain of modules, each holding the next one, is the deepest graph a model can build. Every
graph operation (split/merge, flatten/unflatten, state and node queries, printing, grads, jit's
fingerprint, the path dicts and their PyTree flattening, checkpoints) is run on such a chain
with `sys.getrecursionlimit()` at Python's default, and its results are checked against values
computed independently: a shallow reference, the level values the chain was built with, or the
recursive definition the walk replaces (on shallow random graphs).
"""

import os
import re
import sys
import tempfile

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import brainstate
from brainstate import checkpoint, graph
from brainstate.graph import _watch
from brainstate.graph._graphdef import Static, flatten_graph
from brainstate.graph._node import MAX_INDENT
from brainstate.graph._node_types import is_tuple_like, node_type, tuple_items
from brainstate.graph._walk import MAX_LEVEL, Kind, walk
from brainstate.util import FlattedDict, NestedDict, flat_mapping, nest_mapping
from graph_corpus import graphs

# The depths the brief asks for: 500 (fast) and 2000 (twice Python's default recursion limit).
DEPTHS = [500, 2000]
# Python's default recursion limit; the tests run under it whatever the runner set.
DEFAULT_RECURSION_LIMIT = 1000


@pytest.fixture(autouse=True)
def default_recursion_limit():
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(DEFAULT_RECURSION_LIMIT)
    yield
    sys.setrecursionlimit(old)


class Chain(brainstate.nn.Module):
    """One level of a chain: a parameter, a short-term state and the next level (or None)."""

    def __init__(self, level: int, next=None):
        super().__init__()
        # `+ 0.25` makes every printed value unique as a token: `[1.25,` is not part of `[11.25,`.
        self.w = brainstate.ParamState(jnp.full((2,), level + 0.25))
        self.h = brainstate.ShortTermState(jnp.asarray(float(level)))
        self.next = next


def make_chain(depth: int) -> Chain:
    """A chain `depth` levels deep, built bottom-up: the root holds `depth`, the deepest 1."""
    chain = None
    for level in range(1, depth + 1):
        chain = Chain(level, chain)
    return chain


def levels(chain: Chain) -> list:
    out = []
    while chain is not None:
        out.append(chain)
        chain = chain.next
    return out


def deep_path(k: int, leaf: str) -> tuple:
    """The path of `leaf` at the k-th level (the root is level 0)."""
    return ("next",) * k + (leaf,)


def walk_order(depth: int) -> list:
    """The paths of a chain's states in depth-first order, fields sorted: `h`, `next`, `w`."""
    return [deep_path(k, "h") for k in range(depth)] + [deep_path(k, "w") for k in reversed(range(depth))]


def chain_loss(chain: Chain):
    """sum over levels of h * |w|²: each level's gradient is 2 h w, distinct per level."""
    total = 0.0
    for level in levels(chain):
        total = total + jnp.sum(level.w.value ** 2) * level.h.value
    return total


def stacked_loss(chain: Chain):
    """The same loss with the levels stacked (one XLA op per level costs a long compile)."""
    ws = jnp.stack([level.w.value for level in levels(chain)])
    hs = jnp.stack([level.h.value for level in levels(chain)])
    return jnp.sum(jnp.sum(ws ** 2, axis=1) * hs)


def reference_grads(chain: Chain) -> np.ndarray:
    """d chain_loss / d w per level (one row each), from a shallow structure: the levels stacked."""
    hs = jnp.stack([level.h.value for level in levels(chain)])

    def loss(ws):
        return jnp.sum(jnp.sum(ws ** 2, axis=1) * hs)

    return np.asarray(jax.grad(loss)(jnp.asarray(w_values(chain))))


def w_values(chain: Chain) -> np.ndarray:
    return np.stack([np.asarray(level.w.value) for level in levels(chain)])


# -- split / merge, flatten / unflatten ----------------------------------------------------------
@pytest.mark.parametrize("depth", DEPTHS)
def test_treefy_split_merge_round_trip(depth):
    chain = make_chain(depth)
    graphdef, params, rest = graph.treefy_split(chain, brainstate.ParamState, ...)
    flat = params.to_flat()
    assert list(flat) == [deep_path(k, "w") for k in reversed(range(depth))]
    np.testing.assert_allclose(flat[deep_path(depth - 1, "w")].value, [1.25, 1.25])
    merged = graph.treefy_merge(graphdef, params, rest)
    assert merged is not chain and len(levels(merged)) == depth
    np.testing.assert_allclose(w_values(merged), w_values(chain))
    np.testing.assert_allclose(chain_loss(merged), chain_loss(chain))
    assert graph.graphdef(merged) == graphdef


@pytest.mark.parametrize("depth", DEPTHS)
@pytest.mark.parametrize("treefy_state", [True, False])
def test_flatten_unflatten_round_trip(depth, treefy_state):
    chain = make_chain(depth)
    graphdef, state = graph.flatten(chain, treefy_state=treefy_state)
    assert list(state.to_flat()) == walk_order(depth)
    rebuilt = graph.unflatten(graphdef, state)
    np.testing.assert_allclose(w_values(rebuilt), w_values(chain))
    deepest = levels(rebuilt)[-1]
    # Live states (treefy_state=False) are reused as they are; snapshots become new states.
    assert (deepest.w is levels(chain)[-1].w) is (not treefy_state)


@pytest.mark.parametrize("depth", DEPTHS)
def test_split_and_merge_contexts(depth):
    chain = make_chain(depth)
    with graph.split_context() as (ctx, _):
        graphdef, state = ctx.treefy_split(chain)
    with graph.merge_context() as (ctx, _):
        merged = ctx.treefy_merge(graphdef, state)
    np.testing.assert_allclose(w_values(merged), w_values(chain))


@pytest.mark.parametrize("depth", DEPTHS)
def test_graphdefs_of_equal_chains_are_equal_and_hash_equal(depth):
    a, b = graph.graphdef(make_chain(depth)), graph.graphdef(make_chain(depth))
    assert a == b and hash(a) == hash(b)


@pytest.mark.parametrize("depth", DEPTHS)
def test_graphdefs_differ_when_the_deepest_level_differs(depth):
    other = make_chain(depth)
    levels(other)[-1].extra = 1
    assert graph.graphdef(make_chain(depth)) != graph.graphdef(other)


@pytest.mark.parametrize("depth", DEPTHS)
def test_graphdef_repr_names_every_level(depth):
    text = repr(graph.graphdef(make_chain(depth)))
    assert text.startswith("GraphDef(root=NodeDef(") and text.count("NodeDef(") == depth


@pytest.mark.parametrize("depth", DEPTHS)
def test_clone_is_equal_and_independent(depth):
    chain = make_chain(depth)
    copy = graph.clone(chain)
    np.testing.assert_allclose(w_values(copy), w_values(chain))
    levels(copy)[-1].w.value = jnp.zeros(2)
    np.testing.assert_allclose(levels(chain)[-1].w.value, [1.25, 1.25])


# -- state and node queries ----------------------------------------------------------------------
@pytest.mark.parametrize("depth", DEPTHS)
def test_module_states_in_walk_order(depth):
    chain = make_chain(depth)
    states = chain.states()
    assert isinstance(states, FlattedDict) and list(states) == walk_order(depth)
    np.testing.assert_allclose(states[deep_path(depth - 1, "w")].value, [1.25, 1.25])
    np.testing.assert_allclose(states[deep_path(depth - 1, "h")].value, 1.0)


@pytest.mark.parametrize("depth", DEPTHS)
def test_graph_states_with_filters(depth):
    chain = make_chain(depth)
    params, short = graph.states(chain, brainstate.ParamState, brainstate.ShortTermState)
    assert list(params) == [deep_path(k, "w") for k in reversed(range(depth))]
    assert list(short) == [deep_path(k, "h") for k in range(depth)]
    assert all(params[deep_path(k, "w")] is level.w for k, level in enumerate(levels(chain)))


@pytest.mark.parametrize("depth", DEPTHS)
def test_nodes_in_walk_order(depth):
    chain = make_chain(depth)
    nodes = chain.nodes()
    assert list(nodes) == [("next",) * k for k in reversed(range(depth))]  # children first
    assert list(nodes.values()) == levels(chain)[::-1]


@pytest.mark.parametrize("depth", DEPTHS)
def test_allowed_hierarchy_selects_the_deepest_level(depth):
    chain = make_chain(depth)
    deepest = levels(chain)[-1]
    assert list(graph.nodes(chain, allowed_hierarchy=(depth - 1, depth - 1)).values()) == [deepest]
    assert list(graph.states(chain, allowed_hierarchy=(depth - 1, depth - 1)).values()) == [deepest.h, deepest.w]


@pytest.mark.parametrize("depth", DEPTHS)
def test_update_states_writes_the_deepest_state(depth):
    chain = make_chain(depth)
    graph.update_states(chain, FlattedDict({deep_path(depth - 1, "w"): jnp.full((2,), -1.0)}))
    np.testing.assert_allclose(levels(chain)[-1].w.value, [-1.0, -1.0])
    np.testing.assert_allclose(levels(chain)[-2].w.value, [2.25, 2.25])


@pytest.mark.parametrize("depth", DEPTHS)
def test_pop_states_removes_every_level(depth):
    chain = make_chain(depth)
    popped = graph.pop_states(chain, brainstate.ShortTermState)
    assert list(popped.to_flat()) == [deep_path(k, "h") for k in range(depth)]
    assert list(chain.states()) == [deep_path(k, "w") for k in reversed(range(depth))]


# -- printing ------------------------------------------------------------------------------------
@pytest.mark.parametrize("depth", DEPTHS)
def test_repr_shows_the_deepest_state(depth):
    text = repr(make_chain(depth))
    assert text.startswith("Chain(\n  h=ShortTermState(")
    assert len(re.findall(r"\[1\.25, 1\.25\]", text)) == 1
    assert len(re.findall(rf"\[{depth}\.25, {depth}\.25\]", text)) == 1
    assert text.count("Chain(\n") == depth


@pytest.mark.parametrize("depth", DEPTHS)
def test_repr_defers_deep_levels_to_sections_named_by_path(depth):
    text = repr(make_chain(depth))
    # Level MAX_INDENT + 1 is the first one printed in a section, headed by its path from the root.
    assert f"\n#1 = root{'.next' * (MAX_INDENT + 1)}:\nChain(" in text
    # Each section restarts the indentation, so the text grows linearly with the depth.
    assert max(len(line) for line in text.splitlines()) < 4 * MAX_INDENT + 100


def _recursive_repr(x) -> str:
    """`Node.__repr__` as it was defined recursively (fields sorted, nested nodes indented)."""
    if not isinstance(x, graph.Node):
        return repr(x)
    fields = x._repr_fields()
    if not fields:
        return f"{type(x).__name__}()"
    body = ",\n  ".join(f"{k}={_recursive_repr(v)}".replace("\n", "\n  ") for k, v in fields)
    return f"{type(x).__name__}(\n  {body}\n)"


@pytest.mark.parametrize("depth", [1, 5, MAX_INDENT + 1])
def test_repr_equals_the_recursive_layout_up_to_max_indent(depth):
    chain = make_chain(depth)
    assert repr(chain) == _recursive_repr(chain)


@pytest.mark.parametrize("depth", DEPTHS)
def test_state_dict_reprs_show_the_deepest_path(depth):
    chain = make_chain(depth)
    flat = repr(chain.states())
    assert repr(deep_path(depth - 1, "w")) + ": ParamState(" in flat
    nested = repr(graph.treefy_split(chain)[1])
    assert nested.count("NestedDict(") == depth and nested.count("TreefyState(ParamState") == depth


# -- gradients -----------------------------------------------------------------------------------
@pytest.mark.parametrize("depth", [500, pytest.param(2000, marks=pytest.mark.slow)])
def test_jax_grad_over_split_params_equals_a_shallow_reference(depth):
    chain = make_chain(depth)
    graphdef, params, rest = graph.treefy_split(chain, brainstate.ParamState, ...)
    grads = jax.grad(lambda p: chain_loss(graph.treefy_merge(graphdef, p, rest)))(params)
    flat = grads.to_flat()
    assert len(flat) == depth
    got = np.stack([flat[deep_path(k, "w")].value for k in range(depth)])
    np.testing.assert_allclose(got, reference_grads(chain), rtol=1e-6)


@pytest.mark.parametrize("depth", [500, pytest.param(2000, marks=pytest.mark.slow)])
def test_transform_grad_over_module_states_equals_a_shallow_reference(depth):
    chain = make_chain(depth)
    grads = brainstate.transform.grad(lambda: chain_loss(chain), grad_states=chain.states(brainstate.ParamState))()
    assert len(grads) == depth
    got = np.stack([grads[deep_path(k, "w")] for k in range(depth)])
    np.testing.assert_allclose(got, reference_grads(chain), rtol=1e-6)


# -- jit -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("depth", [500, pytest.param(2000, marks=pytest.mark.slow)])
def test_jit_output_equals_eager_and_follows_the_deepest_level(depth):
    chain = make_chain(depth)
    jitted = brainstate.transform.jit(lambda: stacked_loss(chain))
    # The eager reference sums level by level: float32 rounding differs from the stacked sum.
    np.testing.assert_allclose(jitted(), chain_loss(chain), rtol=1e-5)
    levels(chain)[-1].w.value = jnp.full((2,), 3.0)  # a new value at the bottom
    np.testing.assert_allclose(jitted(), chain_loss(chain), rtol=1e-5)
    levels(chain)[-1].next = Chain(7)  # a new level below the bottom: the structure changed
    np.testing.assert_allclose(jitted(), chain_loss(chain), rtol=1e-5)


@pytest.mark.parametrize("depth", DEPTHS)
def test_fingerprint_change_names_the_deepest_path(depth):
    chain = make_chain(depth)
    levels(chain)[-1].tau = 5
    before = _watch.fingerprint([chain])
    levels(chain)[-1].tau = 6
    change = _watch.describe_change(before, _watch.fingerprint([chain]), lambda p: ".".join(map(str, p)))
    assert change == f"`0{'.next' * (depth - 1)}.tau` changed 5 → 6"


@pytest.mark.parametrize("depth", DEPTHS)
def test_update_states_error_lists_a_few_paths(depth):
    with pytest.raises(ValueError, match=r"no state at path \('nope',\).* \.\.\. \d+ more\]"):
        graph.update_states(make_chain(depth), FlattedDict({("nope",): 1.0}))


@pytest.mark.parametrize("depth", DEPTHS)
def test_deep_nested_dicts_compare_equal_and_unequal(depth):
    flat = {deep_path(k, "w"): float(k) for k in range(depth)}
    a, b = nest_mapping(flat), nest_mapping(flat)
    assert a == b and not a != b
    assert a == a.to_dict()  # a NestedDict equals the plain dicts it holds, as a dict would
    b["extra"] = 0.0
    assert a != b
    flat[deep_path(depth - 1, "w")] = -1.0
    assert a != nest_mapping(flat) and not a == nest_mapping(flat)


# -- path dicts ----------------------------------------------------------------------------------
@pytest.mark.parametrize("depth", DEPTHS)
def test_nested_and_flat_dicts_convert_both_ways(depth):
    nested = graph.treefy_split(make_chain(depth))[1]
    flat = nested.to_flat()
    assert list(flat) == walk_order(depth)
    assert flat.to_nest() == nested and nest_mapping(flat) == nested
    assert flat_mapping(nested) == flat


@pytest.mark.parametrize("depth", DEPTHS)
def test_to_pure_dict_reaches_the_deepest_value(depth):
    plain = graph.treefy_split(make_chain(depth))[1].to_pure_dict()
    for _ in range(depth - 1):
        assert type(plain) is dict
        plain = plain["next"]
    np.testing.assert_allclose(plain["w"], [1.25, 1.25])


@pytest.mark.parametrize("depth", DEPTHS)
def test_nested_dict_pytree_round_trip_in_walk_order(depth):
    nested = graph.treefy_split(make_chain(depth))[1]
    leaves, treedef = jax.tree_util.tree_flatten(nested)
    # Leaves come in sorted-key pre-order, which for a chain is the walk order.
    expected = [float(k) for k in range(depth, 0, -1)] + [[k + 0.25] * 2 for k in range(1, depth + 1)]
    assert len(leaves) == len(expected) == 2 * depth
    for leaf, value in zip(leaves, expected):
        np.testing.assert_allclose(leaf, value)
    assert jax.tree_util.tree_unflatten(treedef, leaves).to_flat().keys() == nested.to_flat().keys()


@pytest.mark.parametrize("depth", DEPTHS)
def test_deep_nested_dict_key_paths_name_the_whole_path(depth):
    nested = graph.treefy_split(make_chain(depth))[1]
    (path, _), *_ = jax.tree_util.tree_flatten_with_path(nested)[0]
    assert path[0] == jax.tree_util.DictKey(deep_path(0, "h"))


@pytest.mark.parametrize("depth", [500, pytest.param(2000, marks=pytest.mark.slow)])
def test_jax_jit_passes_deep_state_dicts_through(depth):
    nested = graph.treefy_split(make_chain(depth))[1]
    # The deepest value only: an op per leaf would cost thousands of XLA ops to compile.
    deepest = jax.jit(lambda s: s.to_flat()[deep_path(depth - 1, "w")].value * 2)(nested)
    np.testing.assert_allclose(deepest, [2.5, 2.5])
    same = jax.jit(lambda s: s)(nested)
    assert isinstance(same, NestedDict) and list(same.to_flat()) == walk_order(depth)
    flat = make_chain(depth).states()
    values = jax.tree_util.tree_leaves(FlattedDict({p: s.value for p, s in flat.items()}))
    assert len(values) == 2 * depth


# -- checkpoints ---------------------------------------------------------------------------------
# Deep chains are saved in the indexed layout (the path-named header would grow with depth²).
@pytest.mark.parametrize("depth", [500, 2000, pytest.param(10_000, marks=pytest.mark.slow)])
def test_checkpoint_save_restore_round_trip(depth):
    path = os.path.join(tempfile.mkdtemp(), "chain.safetensors")
    checkpoint.save(path, {"model": make_chain(depth)})
    target = make_chain(depth)
    for level in levels(target):
        level.w.value = jnp.zeros(2)
    assert checkpoint.restore(path, {"model": target}).ok
    np.testing.assert_allclose(w_values(target), w_values(make_chain(depth)))
    names = checkpoint.load(path).values
    assert f"model{'.next' * (depth - 1)}.w" in names and len(names) == 2 * depth


# -- equivalence with the recursive definitions, on shallow random graphs -------------------------
def _recursive_walk(root, low=0, high=MAX_LEVEL):
    """The walk as defined recursively: `(path, object, level, kind)`, each object once; States
    and leaves in pre-order, nodes after their children; nodes deeper than `high` not entered."""
    seen = set()

    def visit(x, path, level):
        if isinstance(x, brainstate.State):
            if id(x) not in seen:
                seen.add(id(x))
                if low <= level:
                    yield path, x, level, Kind.STATE
            return
        impl = node_type(x)
        if impl is not None:
            if not impl.container and path:
                level += 1
            if level > high or id(x) in seen:
                return
            seen.add(id(x))
            for key, child in impl.flatten(x)[0]:
                yield from visit(child, path + (key,), level)
            if not impl.container and low <= level:
                yield path, x, level, Kind.NODE
        elif is_tuple_like(x):
            for key, child in tuple_items(x):
                yield from visit(child, path + (key,), level)
        elif x is not None and not isinstance(x, Static) and low <= level:
            yield path, x, level, Kind.LEAF

    return list(visit(root, (), 0))


def _same_walk(ours, reference):
    assert len(ours) == len(reference)
    for (p, x, level, kind), (rp, rx, rlevel, rkind) in zip(ours, reference):
        assert (p, level, kind) == (rp, rlevel, rkind) and x is rx


@given(graphs())
def test_walk_equals_the_recursive_walk(g):
    _same_walk(list(walk(g)), _recursive_walk(g))


@given(graphs(), st.integers(0, 3), st.integers(0, 3))
def test_walk_with_levels_equals_the_pruned_recursive_walk(g, low, extra):
    high = low + extra
    _same_walk(list(walk(g, levels=(low, high))), _recursive_walk(g, low, high))


@given(graphs())
def test_flatten_graph_visits_states_in_the_recursive_walk_order(g):
    _, sites = flatten_graph(g)
    reference = [(p, x) for p, x, _, kind in _recursive_walk(g) if kind is Kind.STATE]
    assert [path for _, path, _ in sites] == [p for p, _ in reference]
    assert all(state is x for (_, _, state), (_, x) in zip(sites, reference))
