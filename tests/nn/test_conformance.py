"""Every public layer gives the same numbers eagerly, under jit, under vmap and under grad.

- jit: the jitted call equals the eager call (same seed).
- vmap: three different inputs are mapped at once; each lane equals the layer called alone on
  that lane's input (from the same initial states).
- grad: `brainstate.transform.grad` w.r.t. the layer's `ParamState`s (or its first input when it
  has none), eager and under `jit`, equals `jax.grad` of the same computation written
  functionally: the layer is split into (graphdef, state snapshots) with
  `brainstate.graph.treefy_split` and rebuilt from traced snapshots with `treefy_merge` inside
  a pure function.

Layers that draw random numbers (`deterministic=False`) are checked for shapes, dtypes and
finite values only.
"""

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
LANES = 3


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


def _paired_leaves(a, b):
    la, lb = _leaves(a), _leaves(b)
    assert len(la) == len(lb), f"{len(la)} leaves against {len(lb)}: {jax.tree_util.tree_structure(a)} vs " \
                               f"{jax.tree_util.tree_structure(b)}"
    return zip(la, lb)


def _assert_same(a, b, deterministic, rtol=1e-5, atol=1e-5):
    for x, y in _paired_leaves(a, b):
        assert jnp.shape(x) == jnp.shape(y) and jnp.result_type(x) == jnp.result_type(y)
        x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        if deterministic:
            assert_allclose(x, y, rtol=rtol, atol=atol)
        else:
            assert np.all(np.isfinite(x)) and np.all(np.isfinite(y))


def _build(case):
    bs.random.seed(0)
    return case.build()


@pytest.mark.parametrize("case", ALL_CASES, ids=str)
def test_eager_and_jit(case):
    eager = _build(case)(*case.inputs(), **case.kwargs)
    layer = _build(case)
    jitted = bs.transform.jit(lambda *a: layer(*a, **case.kwargs))(*case.inputs())
    _assert_same(eager, jitted, case.deterministic)


def _lanes(single):
    """`LANES` different versions of the inputs, stacked: float leaves are scaled and shifted per
    lane (lane 0 is the original); integer leaves (indices) are kept."""

    def stack(x):
        x = jnp.asarray(x)
        if not jnp.issubdtype(x.dtype, jnp.floating):
            return jnp.stack([x] * LANES)
        return jnp.stack([x * (1.0 + 0.5 * k) - 0.25 * k for k in range(LANES)]).astype(x.dtype)

    return jax.tree.map(stack, single)


@pytest.mark.parametrize("case", ALL_CASES, ids=str)
def test_vmap_lanes_equal_unbatched_calls(case):
    if case.skip_vmap:
        pytest.skip(case.skip_vmap)
    batched = _lanes(case.inputs())
    layer = _build(case)
    if case.vmap is not None:
        out = case.vmap(layer, batched)
    else:
        out = bs.transform.vmap(lambda *a: layer(*a, **case.kwargs))(*batched)
    if case.vmap_reference is not None:
        expected = case.vmap_reference(batched)
    else:
        per_lane = [_build(case)(*jax.tree.map(lambda x: x[k], batched), **case.kwargs) for k in range(LANES)]
        expected = jax.tree.map(lambda *xs: jnp.stack(xs), *per_lane)
    _assert_same(out, expected, case.deterministic)


def _loss(layer, args, kwargs):
    out = layer(*args, **kwargs)
    # sin makes the gradient depend on the output values, not only on the layer's linear part
    return sum(jnp.sum(jnp.sin(jnp.real(x).astype(jnp.float32))) for x in _leaves(out))


def _brainstate_grad(case, jit):
    layer = _build(case)
    args = case.inputs()
    params = layer.states(bs.ParamState)

    def loss(*a):
        return _loss(layer, a, case.kwargs)

    grad = bs.transform.grad(loss, grad_states=params) if len(params) else bs.transform.grad(loss, argnums=0)
    return (bs.transform.jit(grad) if jit else grad)(*args)


def _functional_grad(case):
    layer = _build(case)
    args = case.inputs()
    graphdef, params, others = bs.graph.treefy_split(layer, bs.ParamState, ...)

    def pure(params, others, first, rest):
        return _loss(bs.graph.treefy_merge(graphdef, params, others), (first, *rest), case.kwargs)

    if len(params.to_flat()):
        grads = jax.jit(jax.grad(pure))(params, others, args[0], args[1:])
        return {path: s.value for path, s in grads.to_flat().items()}
    return jax.jit(jax.grad(pure, argnums=2))(params, others, args[0], args[1:])


@pytest.mark.parametrize("case", ALL_CASES, ids=str)
def test_grad_equals_jax_grad_of_the_functional_form(case):
    if case.skip_grad:
        pytest.skip(case.skip_grad)
    eager = _brainstate_grad(case, jit=False)
    jitted = _brainstate_grad(case, jit=True)
    if isinstance(eager, dict):
        eager, jitted = dict(eager), dict(jitted)
        assert set(eager) == set(jitted)
    _assert_same(eager, jitted, case.deterministic)
    if not case.deterministic:
        return
    functional = _functional_grad(case)
    if isinstance(eager, dict):
        assert set(eager) == set(functional)
        for path in eager:
            _assert_same(eager[path], functional[path], True, rtol=1e-4, atol=1e-5)
    else:
        _assert_same(eager, functional, True, rtol=1e-4, atol=1e-5)
    assert any(np.any(np.asarray(g) != 0) for g in _leaves(eager)), "every gradient is zero: the case tests nothing"
