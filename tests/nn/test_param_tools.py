"""`count_parameters` and `clip_grad_norm` against direct computations."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from numpy.testing import assert_allclose

import brainstate as bs
from brainstate import nn


def test_count_parameters_totals_every_param_state(capsys):
    model = nn.Sequential(nn.Linear(3, 4), nn.PReLU(4), nn.GRUCell(4, 2))
    expected = sum(np.size(x) for s in model.states(bs.ParamState).values() for x in jax.tree.leaves(s.value))
    assert nn.count_parameters(model) == expected == 3 * 4 + 4 + 4 + 6 * 4 + 4 + 6 * 2 + 2
    printed = capsys.readouterr().out
    assert "layers.0.weight" in printed and "layers.2.Wrz.weight" in printed and f"| Total " in printed


def test_count_parameters_returns_the_table(capsys):
    table, total = nn.count_parameters(nn.Linear(2, 3), return_table=True)
    assert total == 9
    assert table == capsys.readouterr().out.strip()
    assert table.splitlines()[1].split("|")[1:3] == [" Modules ", " Parameters "]


@pytest.mark.parametrize("shape,precision,text", [
    ((4, 300), 2, "1.20K"), ((4, 300), 0, "1K"), ((999, 1001), 2, "1.00M"), ((20, 25), 2, "500"),
])
def test_count_parameters_formats_large_counts(capsys, shape, precision, text):
    nn.count_parameters(nn.Linear(*shape, b_init=None), precision=precision)
    total_row = capsys.readouterr().out.splitlines()[-2]
    assert total_row.split("|")[2].strip() == text


def test_count_parameters_shared_state_counted_once(capsys):
    layer = nn.Linear(2, 2)
    assert nn.count_parameters(nn.Sequential(layer, layer)) == 6


def test_count_parameters_non_module_raises():
    with pytest.raises(TypeError, match="count_parameters: module must be a brainstate.nn.Module, got dict"):
        nn.count_parameters({"w": jnp.ones(3)})


def test_count_parameters_bad_precision_raises():
    with pytest.raises(ValueError, match="count_parameters: precision must be a non-negative integer, got -1"):
        nn.count_parameters(nn.Linear(2, 2), precision=-1)


GRADS = {"a": jnp.array([3.0, -4.0]), "b": {"c": jnp.array([[1.0, 2.0], [-2.0, 0.5]])}}
FLAT = np.array([3.0, -4.0, 1.0, 2.0, -2.0, 0.5])


def test_clip_grad_norm_matches_optax_for_l2():
    clipped, norm = nn.clip_grad_norm(GRADS, 1.0, return_norm=True)
    assert_allclose(norm, np.linalg.norm(FLAT), rtol=1e-6)
    ref, _ = optax.clip_by_global_norm(1.0).update(GRADS, optax.EmptyState())
    for got, want in zip(jax.tree.leaves(clipped), jax.tree.leaves(ref), strict=True):
        assert_allclose(got, want, rtol=1e-6)
    assert_allclose(np.sqrt(sum(np.sum(np.square(x)) for x in jax.tree.leaves(clipped))), 1.0, rtol=1e-6)
    assert jax.tree.structure(clipped) == jax.tree.structure(GRADS)


def test_clip_grad_norm_leaves_small_gradients_unchanged():
    clipped = nn.clip_grad_norm(GRADS, 100.0)
    for got, want in zip(jax.tree.leaves(clipped), jax.tree.leaves(GRADS), strict=True):
        assert_allclose(got, want)


@pytest.mark.parametrize("norm_type,expected", [
    (1, np.abs(FLAT).sum()), (3.0, (np.abs(FLAT) ** 3).sum() ** (1 / 3)), (np.inf, 4.0), ("inf", 4.0),
    (-np.inf, 0.5), ("-inf", 0.5), (None, np.linalg.norm(FLAT)),
])
def test_clip_grad_norm_norm_types(norm_type, expected):
    clipped, norm = nn.clip_grad_norm(GRADS, 0.25, norm_type=norm_type, return_norm=True)
    assert_allclose(norm, expected, rtol=1e-5)
    assert_allclose(clipped["a"], np.array([3.0, -4.0]) * 0.25 / expected, rtol=1e-5)


def test_clip_grad_norm_keeps_dtypes_and_works_under_jit():
    grads = {"h": jnp.array([30.0, 40.0], jnp.float16), "f": jnp.array([0.0, 0.0])}
    clipped = bs.transform.jit(lambda g: nn.clip_grad_norm(g, 5.0))(grads)
    assert clipped["h"].dtype == jnp.float16
    assert_allclose(clipped["h"].astype(np.float32), [3.0, 4.0], rtol=1e-3)


def test_clip_grad_norm_zero_and_empty():
    clipped, norm = nn.clip_grad_norm({"a": jnp.zeros(3)}, 1.0, return_norm=True)
    assert_allclose(clipped["a"], np.zeros(3))
    assert float(norm) == 0.0
    assert nn.clip_grad_norm({}, 1.0) == {}
    assert nn.clip_grad_norm({}, 1.0, return_norm=True)[1] == 0.0


@pytest.mark.parametrize("norm_type", ["fro", 0, -1, True])
def test_clip_grad_norm_bad_norm_type_raises(norm_type):
    with pytest.raises(ValueError, match="clip_grad_norm: norm_type must be a positive number, inf, -inf"):
        nn.clip_grad_norm(GRADS, 1.0, norm_type=norm_type)


def test_clip_grad_norm_negative_max_norm_raises():
    with pytest.raises(ValueError, match="clip_grad_norm: max_norm must be non-negative, got -1.0"):
        nn.clip_grad_norm(GRADS, -1.0)
