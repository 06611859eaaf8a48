"""Filter callables `(path, x)` see an object with a `type`: live States in `states()` and
`nodes()`, snapshots in `treefy_split` — code written as `x.type ...` works on both."""

import jax.numpy as jnp

import brainstate as bs


def _model():
    layer = bs.nn.Linear(2, 3)
    layer.h = bs.HiddenState(jnp.zeros(3))
    return layer


def test_a_type_filter_selects_states_in_states():
    found = _model().states(lambda path, x: x.type is bs.ParamState)
    assert [type(s) for s in found.values()] == [bs.ParamState]


def test_a_type_filter_partitions_a_split():
    _, params, rest = bs.graph.treefy_split(_model(), lambda path, x: issubclass(x.type, bs.ParamState), ...)
    assert [p for p, _ in params.to_flat().items()] == [("weight",)]
    assert [p for p, _ in rest.to_flat().items()] == [("h",)]


def test_a_live_state_reports_its_class_as_type():
    assert bs.HiddenState(jnp.zeros(2)).type is bs.HiddenState
