"""vmap_new_states / vmap2_new_states and the nn ensemble helpers: batched creation of states."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from numpy.testing import assert_allclose

import brainstate as bs
from brainstate.nn._vmap_states import vmap_init_all_states, vmap_reset_all_states
from brainstate.transform import jit, vmap, vmap2_new_states, vmap_new_states

TOL = dict(rtol=1e-5, atol=1e-5)


class Cell(bs.nn.Module):
    """A recurrent cell whose hidden state is created by `init_state`."""

    def __init__(self, n=3):
        super().__init__()
        self.n = n
        self.w = bs.ParamState(jnp.eye(n) * 0.5)

    def init_state(self, scale=1.0):
        self.h = bs.HiddenState(bs.random.normal(size=self.n) * scale)

    def reset_state(self):
        self.h.value = jnp.zeros(self.n)

    def update(self, x):
        self.h.value = jnp.tanh(self.h.value @ self.w.value + x)
        return self.h.value


def test_new_states_get_a_leading_axis_and_concrete_values():
    made = []

    @vmap_new_states(axis_size=4)
    def build(x):
        s = bs.State(jnp.zeros(2) + x)
        made.append(s)
        return s.value.sum()

    out = build(jnp.arange(4.0))
    assert_allclose(out, 2 * jnp.arange(4.0), **TOL)
    assert made[-1].value.shape == (4, 2)
    assert_allclose(made[-1].value, jnp.arange(4.0)[:, None] + jnp.zeros(2), **TOL)
    assert isinstance(made[-1].value, jax.Array)  # concrete, not a tracer


def test_random_initialisation_differs_per_member():
    made = []

    @vmap_new_states(axis_size=5)
    def build():
        made.append(bs.ParamState(bs.random.normal(size=3)))

    build()
    rows = {tuple(np.asarray(r).round(6)) for r in made[-1].value}
    assert len(rows) == 5


def test_state_tag_and_exclusion():
    made = {}

    @vmap_new_states(axis_size=3, state_tag="ens", state_to_exclude=bs.ParamState)
    def build():
        made["h"] = bs.HiddenState(jnp.zeros(2))
        made["p"] = bs.ParamState(jnp.ones(2))

    build()
    assert made["h"].value.shape == (3, 2) and "ens" in made["h"].tag
    assert made["p"].value.shape == (2,)
    assert_allclose(made["p"].value, jnp.ones(2))


def test_ensemble_run_matches_raw_jax():
    """An 8-member ensemble: batched init, then vmap over the hidden states under jit."""
    cell = Cell(4)
    vmap_new_states(lambda: cell.init_state(), axis_size=8)()
    h0 = cell.h.value
    assert h0.shape == (8, 4)

    step = jit(vmap(cell, in_states=cell.h))
    raw = jax.jit(jax.vmap(lambda h, x: jnp.tanh(h @ (jnp.eye(4) * 0.5) + x)))
    hh = h0
    for t in range(3):
        out = step(jnp.ones((8, 4)) * t)
        hh = raw(hh, jnp.ones((8, 4)) * t)
        assert_allclose(out, hh, **TOL)
    assert_allclose(cell.h.value, hh, **TOL)


def test_vmap2_new_states_groups_by_axis():
    cell = Cell(3)
    groups = vmap2_new_states(cell, {"scale": 2.0}, axis_size=6)
    assert list(groups) == [0] and groups[0] == [cell.h]
    assert cell.h.value.shape == (6, 3)


def test_vmap2_new_states_needs_axis_size():
    with pytest.raises(ValueError, match="needs axis_size"):
        vmap2_new_states(Cell(), {})


def test_vmap2_new_states_needs_an_initialiser():
    with pytest.raises(TypeError, match="has no init_all_states or init_state"):
        vmap2_new_states(object(), {}, axis_size=2)


def test_nn_vmap_init_all_states():
    cell = vmap_init_all_states(Cell(3), axis_size=4)
    assert cell.h.value.shape == (4, 3)
    assert cell.w.value.shape == (3, 3)  # existing parameters are shared
    assert len({tuple(np.asarray(r).round(6)) for r in cell.h.value}) == 4


def test_nn_vmap_reset_all_states_resets_every_member():
    cell = vmap_init_all_states(Cell(3), axis_size=4)
    vmap_reset_all_states(cell, axis_size=4)
    assert cell.h.value.shape == (4, 3)
    assert_allclose(cell.h.value, jnp.zeros((4, 3)))


@pytest.mark.parametrize("fn", [vmap_init_all_states, vmap_reset_all_states])
def test_nn_helpers_need_axis_size(fn):
    with pytest.raises(ValueError, match=rf"{fn.__name__}: axis_size must be a positive int \(the number of "
                                         rf"copies\), got None"):
        fn(Cell())
