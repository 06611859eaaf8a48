"""split_context / merge_context: several splits and merges that share object identity."""

import jax.numpy as jnp
import numpy as np
import pytest

import brainstate
from brainstate import graph


class Holder(graph.Node):
    def __init__(self, state):
        self.s = state


def split_two(a, b, *filters):
    with graph.split_context() as (ctx, refs):
        return ctx.treefy_split(a, *filters), ctx.treefy_split(b, *filters), refs


def test_shared_state_is_split_once():
    shared = brainstate.State(jnp.zeros(2))
    (_, first), (_, second), refs = split_two(Holder(shared), Holder(shared))
    assert list(first) == ["s"] and list(second) == [] and shared in refs


def test_merge_in_one_context_restores_sharing():
    shared = brainstate.State(jnp.arange(2.0))
    split_a, split_b, _ = split_two(Holder(shared), Holder(shared))
    with graph.merge_context() as (ctx, index_ref):
        a, b = ctx.treefy_merge(*split_a), ctx.treefy_merge(*split_b)
    assert a.s is b.s and a.s is not shared and a.s in index_ref.values()
    np.testing.assert_allclose(a.s.value, [0.0, 1.0])


def test_separate_merges_cannot_resolve_references():
    shared = brainstate.State(jnp.zeros(1))
    _, split_b, _ = split_two(Holder(shared), Holder(shared))
    with graph.merge_context() as (ctx, _):
        with pytest.raises(ValueError, match="refers to object #.* which it does not define"):
            ctx.treefy_merge(*split_b)


def test_shared_node_becomes_a_reference():
    inner = Holder(brainstate.State(jnp.zeros(1)))
    (_, _), (graphdef, states), _ = split_two([inner], [inner])
    assert isinstance(dict(graphdef.root.fields)[0], graph.NodeEdge) and states == {}


def test_filters_split_each_call():
    h = Holder(brainstate.ParamState(jnp.zeros(1)))
    with graph.split_context() as (ctx, _):
        _, params, others = ctx.treefy_split(h, brainstate.ParamState, ...)
    assert list(params) == ["s"] and list(others) == []


def test_unmatched_state_raises():
    h = Holder(brainstate.ShortTermState(jnp.zeros(1)))
    with graph.split_context() as (ctx, _):
        with pytest.raises(ValueError, match="SplitContext.treefy_split: no filter matches the entries at paths \\[\\('s',\\)\\]"):
            ctx.treefy_split(h, brainstate.ParamState)


def test_split_root_state_raises():
    with graph.split_context() as (ctx, _):
        with pytest.raises(TypeError, match="the root is a State itself"):
            ctx.treefy_split(brainstate.State(jnp.zeros(1)))


def test_new_states_records_states_met_in_order():
    a, b = brainstate.State(jnp.zeros(1)), brainstate.State(jnp.ones(1))
    with graph.split_context() as (ctx, _):
        ctx.treefy_split(Holder(a))
        ctx.treefy_split([b, a])
    assert [(p, s is a) for p, s in ctx.new_states] == [(("s",), True), ((0,), False)]
