"""Every public layer runs eagerly, under jit, under vmap and under grad."""

import inspect

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from numpy.testing import assert_allclose

import brainstate as bs
from tests.nn.cases import ALL_CASES

# Public Module subclasses that are bases or containers, not layers a user calls on data.
NOT_LAYERS = {"Module", "Dynamics", "ElementWiseBlock", "Metric", "RNNCell"}


def public_layers():
    names = set()
    for name in dir(bs.nn):
        obj = getattr(bs.nn, name)
        # Priors are Modules (their hyperparameters may be states) but are not layers.
        if inspect.isclass(obj) and issubclass(obj, bs.nn.Module) and not issubclass(obj, bs.nn.Regularization) \
                and not name.startswith("_"):
            names.add(name)
    return names - NOT_LAYERS


def test_every_public_layer_has_a_case():
    covered = {case.name for case in ALL_CASES}
    missing = sorted(public_layers() - covered)
    assert not missing, f"layers missing from tests/nn/cases: {missing}"


def _leaves(x):
    return jax.tree_util.tree_leaves(x)


def _check_like(a, b, deterministic):
    for x, y in zip(_leaves(a), _leaves(b)):
        assert jnp.shape(x) == jnp.shape(y) and jnp.result_type(x) == jnp.result_type(y)
        if deterministic:
            assert_allclose(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("case", ALL_CASES, ids=str)
def test_eager_and_jit(case):
    bs.random.seed(0)
    layer = case.build()
    eager = layer(*case.inputs(), **case.kwargs)
    bs.random.seed(0)
    layer = case.build()
    jitted = bs.transform.jit(lambda *a: layer(*a, **case.kwargs))(*case.inputs())
    _check_like(eager, jitted, case.deterministic)


@pytest.mark.parametrize("case", ALL_CASES, ids=str)
def test_vmap(case):
    if case.skip_vmap:
        pytest.skip(case.skip_vmap)
    if not hasattr(bs.transform, "vmap"):
        pytest.skip("transform.vmap not available yet")
    bs.random.seed(0)
    layer = case.build()
    single = case.inputs()
    batched = jax.tree.map(lambda x: jnp.stack([x] * 3), single)
    if case.vmap is not None:
        out = case.vmap(layer, batched)
    else:
        out = bs.transform.vmap(lambda *a: layer(*a, **case.kwargs))(*batched)
    ref = layer(*single, **case.kwargs)
    for o, r in zip(_leaves(out), _leaves(ref)):
        assert o.shape == (3, *jnp.shape(r))


@pytest.mark.parametrize("case", ALL_CASES, ids=str)
def test_grad(case):
    if case.skip_grad:
        pytest.skip(case.skip_grad)
    bs.random.seed(0)
    layer = case.build()
    args = case.inputs()
    params = layer.states(bs.ParamState) if isinstance(layer, bs.nn.Module) else {}

    def loss(*a):
        out = layer(*a, **case.kwargs)
        return sum(jnp.sum(jnp.real(x).astype(jnp.float32)) for x in _leaves(out))

    if params:
        grads = bs.transform.grad(loss, grad_states=params)(*args)
        assert set(grads) == set(params)
        for path, g in grads.items():
            for gx, px in zip(_leaves(g), _leaves(params[path].value)):
                assert gx.shape == px.shape
                assert np.all(np.isfinite(np.asarray(gx)))
    else:
        g = bs.transform.grad(loss, argnums=0)(*args)
        assert jnp.shape(g) == jnp.shape(args[0])
