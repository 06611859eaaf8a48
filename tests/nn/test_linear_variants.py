"""Linear variants against NumPy, their parameter layout, and their errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.experimental import sparse
from numpy.testing import assert_allclose

import brainstate as bs

RNG = np.random.default_rng(0)
X = RNG.normal(size=(5, 4)).astype(np.float32)


def np_ws(w, eps=1e-4, gain=None, out_axis=-1):
    axes = tuple(i for i in range(w.ndim) if i != out_axis % w.ndim)
    fan_in = np.prod([w.shape[i] for i in axes])
    mean, var = w.mean(axis=axes, keepdims=True), w.var(axis=axes, keepdims=True)
    out = (w - mean) / np.sqrt(np.maximum(var * fan_in, eps))
    return out if gain is None else out * gain


def params(layer):
    return jax.tree.map(np.asarray, layer.weight.value)


# -- weight standardization -------------------------------------------------------------------------
@pytest.mark.parametrize("out_axis", [-1, 0])
def test_weight_standardization_matches_numpy(out_axis):
    w = RNG.normal(size=(3, 2, 5)).astype(np.float32)
    assert_allclose(bs.nn.weight_standardization(w, out_axis=out_axis), np_ws(w, out_axis=out_axis),
                    rtol=1e-5, atol=1e-5)


def test_weight_standardization_applies_gain():
    w = RNG.normal(size=(4, 3)).astype(np.float32)
    gain = np.array([[1.0, 2.0, 3.0]], np.float32)
    assert_allclose(bs.nn.weight_standardization(w, gain=gain), np_ws(w, gain=gain), rtol=1e-5, atol=1e-5)


def test_scaled_ws_linear_matches_numpy():
    mask = (RNG.random((4, 3)) > 0.3).astype(np.float32)
    layer = bs.nn.ScaledWSLinear(4, 3, b_init=bs.nn.init.Constant(0.5), w_mask=mask)
    p = params(layer)
    assert sorted(p) == ["bias", "gain", "weight"] and p["gain"].shape == (1, 3)
    expected = X @ (np_ws(p["weight"], gain=p["gain"]) * mask) + p["bias"]
    assert_allclose(layer(X), expected, rtol=1e-5, atol=1e-5)


def test_scaled_ws_linear_without_gain_or_bias():
    layer = bs.nn.ScaledWSLinear(4, 3, b_init=None, ws_gain=False)
    p = params(layer)
    assert sorted(p) == ["weight"]
    assert_allclose(layer(X), X @ np_ws(p["weight"]), rtol=1e-5, atol=1e-5)


# -- sign-constrained -------------------------------------------------------------------------------
def test_signed_w_linear_matches_numpy():
    sign = np.array([[1.0], [-1.0], [1.0], [-1.0]], np.float32)
    layer = bs.nn.SignedWLinear(4, 3, w_sign=sign)
    w = np.asarray(layer.weight.value)
    assert w.shape == (4, 3)
    assert_allclose(layer(X), X @ (np.abs(w) * sign), rtol=1e-5, atol=1e-5)


def test_signed_w_linear_without_sign_uses_magnitudes():
    layer = bs.nn.SignedWLinear(4, 3)
    assert_allclose(layer(X), X @ np.abs(np.asarray(layer.weight.value)), rtol=1e-5, atol=1e-5)


# -- sparse -----------------------------------------------------------------------------------------
DENSE = np.array([[1.0, 0, 2], [0, 3, 0], [0, 0, 4], [5, 0, 0]], np.float32)


@pytest.mark.parametrize("spec", [DENSE, sparse.BCOO.fromdense(jnp.asarray(DENSE))], ids=["dense", "bcoo"])
def test_sparse_linear_matches_dense_matmul(spec):
    layer = bs.nn.SparseLinear(spec, b_init=bs.nn.init.Constant(1.0))
    assert layer.in_size == (4,) and layer.out_size == (3,)
    assert params(layer)["weight"].shape == (5,)  # one value per stored entry
    assert_allclose(layer(X), X @ DENSE + 1.0, rtol=1e-5, atol=1e-5)


def test_sparse_linear_gradient_reaches_only_stored_entries():
    layer = bs.nn.SparseLinear(DENSE)
    grads = bs.transform.grad(lambda x: layer(x).sum(), grad_states=layer.states(bs.ParamState))(X)
    dense_grad = np.broadcast_to(X.sum(0)[:, None], DENSE.shape)  # d/dW of sum(X @ W)
    rows, cols = np.nonzero(DENSE)
    assert_allclose(grads[("weight",)]["weight"], dense_grad[rows, cols], rtol=1e-5)


# -- all-to-all / one-to-one ------------------------------------------------------------------------
def test_all_to_all_matches_numpy():
    layer = bs.nn.AllToAll(4, 3, b_init=bs.nn.init.Constant(0.1))
    p = params(layer)
    assert_allclose(layer(X), X @ p["weight"] + 0.1, rtol=1e-5, atol=1e-5)


def test_all_to_all_without_self_connections_zeroes_the_diagonal():
    layer = bs.nn.AllToAll(4, 4, include_self=False)
    w = params(layer)["weight"]
    assert_allclose(layer(X), X @ (w * (1 - np.eye(4))), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("n_in, n_out", [(4, 3), (4, 6)])
def test_all_to_all_without_self_connections_rectangular(n_in, n_out):
    # Regression: unequal sizes were refused; W[i, i] for i < min(in, out) counts as zero.
    x = RNG.normal(size=(5, n_in)).astype(np.float32)
    layer = bs.nn.AllToAll(n_in, n_out, include_self=False)
    w = params(layer)["weight"]
    masked = w.copy()
    for i in range(min(n_in, n_out)):
        masked[i, i] = 0.0
    assert_allclose(layer(x), x @ masked, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("n_in, n_out", [(4, 3), (4, 6)])
def test_all_to_all_scalar_weight_without_self_connections_rectangular(n_in, n_out):
    x = RNG.normal(size=(5, n_in)).astype(np.float32)
    layer = bs.nn.AllToAll(n_in, n_out, w_init=0.5, include_self=False)
    expected = 0.5 * (x @ (1 - np.eye(n_in, n_out)))  # the same as a full matrix of 0.5 off the diagonal
    assert_allclose(layer(x), expected, rtol=1e-5, atol=1e-5)
    assert_allclose(layer(x[0]), expected[0], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("include_self", [True, False])
def test_all_to_all_scalar_weight(include_self):
    layer = bs.nn.AllToAll(4, 4, w_init=0.5, include_self=include_self)
    total = X.sum(-1, keepdims=True)
    expected = 0.5 * (total if include_self else total - X)
    assert_allclose(layer(X), np.broadcast_to(expected, X.shape), rtol=1e-5, atol=1e-5)


def test_linear_param_type():
    # Regression: Linear had no param_type; the one state holding weight and bias takes that type.
    layer = bs.nn.Linear(4, 3, param_type=bs.ShortTermState)
    assert type(layer.weight) is bs.ShortTermState
    p = params(layer)
    assert_allclose(layer(X), X @ p["weight"] + p["bias"], rtol=1e-5, atol=1e-5)
    assert type(bs.nn.Linear(4, 3).weight) is bs.ParamState
    assert not layer.states(bs.ParamState)


def test_one_to_one_matches_numpy():
    layer = bs.nn.OneToOne((2, 4), b_init=bs.nn.init.Constant(0.3))
    w = params(layer)["weight"]
    x = RNG.normal(size=(3, 2, 4)).astype(np.float32)
    assert w.shape == (2, 4)
    assert_allclose(layer(x), x * w + 0.3, rtol=1e-5, atol=1e-5)


# -- LoRA -------------------------------------------------------------------------------------------
def test_lora_matches_numpy():
    layer = bs.nn.LoRA(4, 2, 3, alpha=6.0)
    p = params(layer)
    assert p["lora_a"].shape == (4, 2) and p["lora_b"].shape == (2, 3)
    assert (layer.in_features, layer.lora_rank, layer.out_features) == (4, 2, 3)
    assert_allclose(layer(X), 3.0 * X @ p["lora_a"] @ p["lora_b"], rtol=1e-5, atol=1e-5)


def test_lora_adds_the_base_module_output():
    base = bs.nn.Linear(4, 3)
    layer = bs.nn.LoRA(4, 2, 3, base_module=base)
    p = params(layer)
    assert_allclose(layer(X), np.asarray(base(X)) + X @ p["lora_a"] @ p["lora_b"], rtol=1e-5, atol=1e-5)
    assert set(layer.states(bs.ParamState)) == {("weight",), ("base_module", "weight")}


# -- errors -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("layer", [
    lambda: bs.nn.ScaledWSLinear(4, 3), lambda: bs.nn.SignedWLinear(4, 3), lambda: bs.nn.SparseLinear(DENSE),
    lambda: bs.nn.AllToAll(4, 3), lambda: bs.nn.LoRA(4, 2, 3, name="adapter"),
], ids=["ScaledWSLinear", "SignedWLinear", "SparseLinear", "AllToAll", "LoRA"])
def test_wrong_feature_size_names_the_layer_and_both_sizes(layer):
    layer = layer()
    name = type(layer).__name__
    with pytest.raises(ValueError, match=rf"{name}.* expects inputs whose last dimension is its input size 4, "
                                         rf"got last dimension 5 \(shape \(2, 5\)\)"):
        layer(jnp.ones((2, 5)))
    with pytest.raises(ValueError, match=f"{name}.*got a scalar"):
        layer(jnp.ones(()))


def test_one_to_one_wrong_shape():
    with pytest.raises(ValueError, match=r"OneToOne expects inputs whose trailing dimensions are its in_size "
                                         r"\(4,\), got shape \(3,\)"):
        bs.nn.OneToOne(4)(jnp.ones(3))


@pytest.mark.parametrize("build, match", [
    (lambda: bs.nn.ScaledWSLinear(4, 3, w_init=jnp.ones((3, 3))),
     r"ScaledWSLinear: w_init cannot give a value of shape \(4, 3\)"),
    (lambda: bs.nn.SignedWLinear(4, 3, w_sign=jnp.ones((2, 3))),
     r"SignedWLinear: w_sign of shape \(2, 3\) does not broadcast to the weight shape \(4, 3\)"),
    (lambda: bs.nn.SparseLinear(jnp.ones(3)), r"SparseLinear: spar_mat must be a 2-d \(in, out\) matrix"),
    (lambda: bs.nn.SparseLinear(sparse.BCOO((jnp.ones(2), jnp.array([[0, 0, 0], [1, 1, 1]])), shape=(2, 2, 2))),
     "SparseLinear: spar_mat must be a plain 2-d BCOO matrix"),
    (lambda: bs.nn.SparseLinear(DENSE, in_size=5),
     r"SparseLinear: in_size \(5,\) has 5 features but spar_mat has 4 rows"),
    (lambda: bs.nn.OneToOne(4, b_init=jnp.ones(3)), r"OneToOne: b_init cannot give a value of shape \(4,\)"),
    (lambda: bs.nn.LoRA(4, 0, 3), "LoRA: lora_rank must be a positive int, got 0"),
    (lambda: bs.nn.LoRA(4, 2, 3, in_size=(2, 5)), r"LoRA: in_size \(2, 5\) ends in 5 features but in_features is 4"),
    (lambda: bs.nn.LoRA(4, 2, 3, base_module=bs.nn.Linear(4, 6)),
     "LoRA: base_module Linear gives 6 output features but out_features is 3"),
])
def test_constructor_errors(build, match):
    with pytest.raises(ValueError, match=match):
        build()


def test_integer_initial_values_become_float_parameters():
    layer = bs.nn.OneToOne(3, w_init=2)
    assert layer.weight.value["weight"].dtype == jnp.float32
    assert bs.nn.AllToAll(2, 2, w_init=np.ones((2, 2), int)).weight.value["weight"].dtype == jnp.float32
