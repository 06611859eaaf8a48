"""Snapshots of two models with the same structure have the same tree definition, wherever
their states were created: `jax.tree.map` combines them and `jax.jit` compiles once."""

import jax
import jax.numpy as jnp
from numpy.testing import assert_allclose

import brainstate as bs


def make():
    return bs.nn.Linear(2, 3)


def test_models_built_on_different_lines_have_equal_treedefs():
    teacher = bs.nn.Linear(2, 3)
    student = make()
    t, s = bs.graph.treefy_states(teacher), bs.graph.treefy_states(student)
    assert jax.tree.structure(t) == jax.tree.structure(s)
    ema = jax.tree.map(lambda a, b: 0.9 * a + 0.1 * b, t, s)
    w = lambda tree: tree["weight"].value["weight"]
    assert_allclose(w(ema), 0.9 * w(t) + 0.1 * w(s), rtol=1e-6)


def test_jit_over_snapshots_compiles_once():
    traces = []

    @jax.jit
    def double(tree):
        traces.append(1)
        return jax.tree.map(lambda v: v * 2, tree)

    double(bs.graph.treefy_states(bs.nn.Linear(2, 3)))
    double(bs.graph.treefy_states(make()))
    assert len(traces) == 1


def test_creation_site_survives_flatten_and_unflatten():
    state = bs.ParamState(jnp.zeros(2))
    snap = bs.TreefyState.from_state(state)
    leaves, treedef = jax.tree.flatten(snap)
    back = jax.tree.unflatten(treedef, leaves)
    assert back._source == state._source and "test_treefy_treedef.py" in back._source
    assert back.to_state()._source == state._source


def test_different_kinds_or_metadata_still_differ():
    a = bs.TreefyState.from_state(bs.ParamState(jnp.zeros(2)))
    b = bs.TreefyState.from_state(bs.ShortTermState(jnp.zeros(2)))
    c = bs.TreefyState.from_state(bs.ParamState(jnp.zeros(2), name="w"))
    assert jax.tree.structure(a) != jax.tree.structure(b)
    assert jax.tree.structure(a) != jax.tree.structure(c)
