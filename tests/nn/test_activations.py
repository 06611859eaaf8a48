"""Functional activations and element-wise layers against NumPy formulas."""

import math

import jax.numpy as jnp
import numpy as np
import pytest
from numpy.testing import assert_allclose

import brainstate as bs
from brainstate import nn

X = np.linspace(-3.0, 3.0, 13, dtype=np.float32)
X2 = np.arange(12, dtype=np.float32).reshape(3, 4) / 4 - 1


def np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def np_softplus(x):
    return np.log1p(np.exp(x))


def np_hard_sigmoid(x):
    return np.clip(x + 3, 0, 6) / 6


SELU_ALPHA, SELU_SCALE = 1.6732632423543772, 1.0507009873554805
ERF = np.vectorize(math.erf)

ELEMENTWISE = {
    "relu": (nn.relu, lambda x: np.maximum(x, 0)),
    "relu6": (nn.relu6, lambda x: np.clip(x, 0, 6)),
    "leaky_relu": (nn.leaky_relu, lambda x: np.where(x >= 0, x, 0.01 * x)),
    "prelu": (nn.prelu, lambda x: np.where(x >= 0, x, 0.25 * x)),
    "elu": (nn.elu, lambda x: np.where(x > 0, x, np.exp(x) - 1)),
    "celu": (nn.celu, lambda x: np.maximum(x, 0) + np.minimum(np.exp(x) - 1, 0)),
    "selu": (nn.selu, lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * (np.exp(x) - 1))),
    "gelu": (nn.gelu, lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))),
    "sigmoid": (nn.sigmoid, np_sigmoid),
    "log_sigmoid": (nn.log_sigmoid, lambda x: -np.log1p(np.exp(-x))),
    "hard_sigmoid": (nn.hard_sigmoid, np_hard_sigmoid),
    "sparse_sigmoid": (nn.sparse_sigmoid, lambda x: np.clip((x + 1) / 2, 0, 1)),
    "tanh": (nn.tanh, np.tanh),
    "hard_tanh": (nn.hard_tanh, lambda x: np.clip(x, -1, 1)),
    "soft_sign": (nn.soft_sign, lambda x: x / (1 + np.abs(x))),
    "softplus": (nn.softplus, np_softplus),
    "sparse_plus": (nn.sparse_plus, lambda x: np.where(x <= -1, 0, np.where(x >= 1, x, (x + 1) ** 2 / 4))),
    "squareplus": (nn.squareplus, lambda x: (x + np.sqrt(x ** 2 + 4)) / 2),
    "silu": (nn.silu, lambda x: x * np_sigmoid(x)),
    "swish": (nn.swish, lambda x: x * np_sigmoid(x)),
    "hard_silu": (nn.hard_silu, lambda x: x * np_hard_sigmoid(x)),
    "hard_swish": (nn.hard_swish, lambda x: x * np_hard_sigmoid(x)),
    "mish": (nn.mish, lambda x: x * np.tanh(np_softplus(x))),
    "hard_shrink": (nn.hard_shrink, lambda x: np.where(np.abs(x) > 0.5, x, 0)),
    "soft_shrink": (nn.soft_shrink, lambda x: np.sign(x) * np.maximum(np.abs(x) - 0.5, 0)),
    "tanh_shrink": (nn.tanh_shrink, lambda x: x - np.tanh(x)),
}


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_elementwise_function_matches_numpy(name):
    fn, ref = ELEMENTWISE[name]
    assert_allclose(np.asarray(fn(X)), ref(X.astype(np.float64)), rtol=1e-5, atol=1e-6)


def test_function_arguments_are_used():
    assert_allclose(nn.leaky_relu(X, negative_slope=0.2), np.where(X >= 0, X, 0.2 * X), rtol=1e-6)
    assert_allclose(nn.elu(X, alpha=2.0), np.where(X > 0, X, 2 * (np.exp(X) - 1)), rtol=1e-5, atol=1e-6)
    assert_allclose(nn.celu(X, alpha=2.0), np.maximum(X, 0) + np.minimum(2 * (np.exp(X / 2) - 1), 0),
                    rtol=1e-5, atol=1e-6)
    assert_allclose(nn.hard_tanh(X, min_val=-2.0, max_val=0.5), np.clip(X, -2, 0.5))
    assert_allclose(nn.hard_shrink(X, lambd=1.0), np.where(np.abs(X) > 1, X, 0))
    assert_allclose(nn.soft_shrink(X, lambd=1.0), np.sign(X) * np.maximum(np.abs(X) - 1, 0), atol=1e-6)
    assert_allclose(nn.squareplus(X, b=1.0), (X + np.sqrt(X ** 2 + 1)) / 2, rtol=1e-5)
    assert_allclose(nn.prelu(X, a=jnp.float32(0.5)), np.where(X >= 0, X, 0.5 * X))


def test_gelu_exact():
    assert_allclose(nn.gelu(X, approximate=False), 0.5 * X * (1 + ERF(X / np.sqrt(2))), rtol=1e-5, atol=1e-6)


def np_softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize("axis", [-1, 0])
def test_softmax_family_over_axis(axis):
    assert_allclose(nn.softmax(X2, axis=axis), np_softmax(X2, axis), rtol=1e-5)
    assert_allclose(nn.softmin(X2, axis=axis), np_softmax(-X2, axis), rtol=1e-5)
    assert_allclose(nn.log_softmax(X2, axis=axis), np.log(np_softmax(X2, axis)), rtol=1e-5, atol=1e-6)


def test_softmax_where_masks_entries():
    where = np.array([True, True, False, True])
    out = np.asarray(nn.softmax(X2[0], where=where))
    assert_allclose(out[where], np_softmax(X2[0][where], -1), rtol=1e-5)


def test_logsumexp_and_standardize():
    assert_allclose(nn.logsumexp(X2, axis=1), np.log(np.exp(X2).sum(axis=1)), rtol=1e-5)
    assert_allclose(nn.logsumexp(X2, axis=0, keepdims=True), np.log(np.exp(X2).sum(axis=0, keepdims=True)),
                    rtol=1e-5)
    ref = (X2 - X2.mean(-1, keepdims=True)) / np.sqrt(X2.var(-1, keepdims=True) + 1e-5)
    assert_allclose(nn.standardize(X2), ref, rtol=1e-5, atol=1e-6)


def test_one_hot():
    out = nn.one_hot(jnp.array([0, 2, 1]), 3)
    assert_allclose(out, np.eye(3)[[0, 2, 1]])
    assert out.dtype == jnp.float32
    assert nn.one_hot(jnp.array([1]), 2, dtype=jnp.int32).dtype == jnp.int32
    assert_allclose(nn.one_hot(jnp.array([0, 1]), 2, axis=0), np.eye(2).T)


def test_glu_gates_second_half():
    x = X[:12].reshape(2, 6)
    a, b = x[:, :3], x[:, 3:]
    assert_allclose(nn.glu(x), a * np_sigmoid(b), rtol=1e-5)
    assert_allclose(nn.glu(x.T, axis=0), (a * np_sigmoid(b)).T, rtol=1e-5)


def test_glu_odd_axis_raises():
    with pytest.raises(ValueError, match="glu: .*even size, got size 13"):
        nn.glu(X)


def test_rrelu_is_mean_slope_when_not_fitting():
    with bs.environ.context(fit=False):
        out = nn.rrelu(X, lower=0.1, upper=0.3)
    assert_allclose(out, np.where(X >= 0, X, 0.2 * X), rtol=1e-6)


def test_rrelu_draws_slopes_when_fitting():
    bs.random.seed(1)
    x = -jnp.ones(1000)
    with bs.environ.context(fit=True):
        slopes = -np.asarray(nn.rrelu(x, lower=0.1, upper=0.3))
    assert slopes.min() >= 0.1 and slopes.max() < 0.3
    assert np.std(slopes) > 0.03  # a different slope per element
    assert_allclose(nn.rrelu(X[X >= 0]), X[X >= 0])


def test_rrelu_reproducible_with_seed():
    bs.random.seed(3)
    a = nn.rrelu(-jnp.ones(5))
    bs.random.seed(3)
    assert_allclose(a, nn.rrelu(-jnp.ones(5)))


UNIT_RECTIFIERS = [
    ("relu", lambda x: np.maximum(x, 0.0)),
    ("leaky_relu", lambda x: np.where(x >= 0, x, 0.01 * x)),
    ("prelu", lambda x: np.where(x >= 0, x, 0.25 * x)),
    ("rrelu", lambda x: np.where(x >= 0, x, (0.125 + 1 / 3) / 2 * x)),  # mean slope with fit=False
]


@pytest.mark.parametrize("name, want", UNIT_RECTIFIERS, ids=[n for n, _ in UNIT_RECTIFIERS])
def test_rectifiers_keep_the_unit_of_a_quantity(name, want):
    # Regression: a brainunit Quantity failed ("maximum requires ndarray"); it keeps its unit.
    import brainunit as u  # a test dependency; imported here so the module stays light

    with bs.environ.context(fit=False):
        y = getattr(nn, name)(X * u.mV)
    assert isinstance(y, u.Quantity) and y.unit == u.mV
    assert_allclose(y.mantissa, want(X), rtol=1e-6)


def test_rrelu_draws_the_same_slopes_for_a_quantity():
    import brainunit as u

    with bs.environ.context(fit=True):
        bs.random.seed(5)
        plain = nn.rrelu(X)
        bs.random.seed(5)
        y = nn.rrelu(X * u.mV)
    assert y.unit == u.mV
    assert_allclose(y.mantissa, plain)


@pytest.mark.parametrize("module, want", [
    (nn.ReLU(), lambda x: np.maximum(x, 0.0)),
    (nn.LeakyReLU(0.3), lambda x: np.where(x >= 0, x, 0.3 * x)),
    (nn.PReLU(init=0.5), lambda x: np.where(x >= 0, x, 0.5 * x)),
    (nn.RReLU(0.2, 0.4), lambda x: np.where(x >= 0, x, 0.3 * x)),
], ids=lambda m: type(m).__name__)
def test_rectifier_modules_keep_the_unit_of_a_quantity(module, want):
    import brainunit as u

    with bs.environ.context(fit=False):
        y = module(X * u.mV)
    assert y.unit == u.mV
    assert_allclose(y.mantissa, want(X), rtol=1e-6)


def test_prelu_per_channel_slopes_and_gradient_with_a_quantity():
    import brainunit as u

    layer = nn.PReLU(4, init=0.5)
    x = jnp.asarray(X2)
    y = layer(x * u.mV)
    assert_allclose(y.to_decimal(u.mV), np.where(X2 >= 0, X2, 0.5 * X2), rtol=1e-6)
    grads = bs.transform.grad(lambda v: jnp.sum(layer(v).to_decimal(u.mV)),
                              grad_states=layer.states(bs.ParamState))(x * u.mV)
    assert_allclose(grads[("weight",)], np.where(X2 < 0, X2, 0.0).sum(0), rtol=1e-6)
    with pytest.raises(ValueError, match=r"PReLU has 4 slopes.*got an input of shape \(13,\)"):
        layer(X * u.mV)


def test_rrelu_bad_bounds_raise():
    with pytest.raises(ValueError, match="rrelu: lower must not exceed upper"):
        nn.rrelu(X, lower=0.5, upper=0.1)


# -- element-wise modules ----------------------------------------------------------------------
MODULES = [
    (nn.ReLU(), nn.relu), (nn.SELU(), nn.selu), (nn.SiLU(), nn.silu), (nn.Sigmoid(), nn.sigmoid),
    (nn.Hardsigmoid(), nn.hard_sigmoid), (nn.Hardswish(), nn.hard_swish), (nn.LogSigmoid(), nn.log_sigmoid),
    (nn.Mish(), nn.mish), (nn.Softplus(), nn.softplus), (nn.Softsign(), nn.soft_sign), (nn.Tanh(), nn.tanh),
    (nn.Tanhshrink(), nn.tanh_shrink), (nn.Identity(), lambda x: x),
    (nn.ReLU6(), nn.relu6), (nn.Hardtanh(-0.5, 2.0), lambda x: np.clip(x, -0.5, 2.0)),
    (nn.LeakyReLU(0.3), lambda x: nn.leaky_relu(x, 0.3)), (nn.ELU(0.5), lambda x: nn.elu(x, 0.5)),
    (nn.CELU(2.0), lambda x: nn.celu(x, 2.0)), (nn.GELU(), lambda x: nn.gelu(x, approximate=False)),
    (nn.GELU(approximate=True), nn.gelu), (nn.Hardshrink(1.0), lambda x: nn.hard_shrink(x, 1.0)),
    (nn.Softshrink(1.0), lambda x: nn.soft_shrink(x, 1.0)),
    (nn.Threshold(0.5, -7.0), lambda x: np.where(x > 0.5, x, -7.0)),
    (nn.PReLU(), nn.prelu),
]


@pytest.mark.parametrize("module,ref", MODULES, ids=lambda m: type(m).__name__)
def test_module_matches_function(module, ref):
    assert_allclose(np.asarray(module(X)), np.asarray(ref(X)), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("module,fn", [(nn.Softmax, nn.softmax), (nn.Softmin, nn.softmin),
                                       (nn.LogSoftmax, nn.log_softmax)])
def test_softmax_modules_default_to_last_axis(module, fn):
    assert_allclose(module()(X2), fn(X2, axis=-1), rtol=1e-6)
    assert_allclose(module(dim=0)(X2), fn(X2, axis=0), rtol=1e-6)


def test_glu_module_uses_dim():
    x = X[:12].reshape(6, 2)
    assert_allclose(nn.GLU(dim=0)(x), nn.glu(x, axis=0))


def test_softmax2d_normalises_channel_axis():
    x = np.linspace(-1, 1, 2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    assert_allclose(nn.Softmax2d()(x), np_softmax(x, -3), rtol=1e-5)
    assert_allclose(nn.Softmax2d()(x[0]), np_softmax(x[0], -3), rtol=1e-5)


def test_softmax2d_wrong_ndim_raises():
    with pytest.raises(ValueError, match=r"Softmax2d expects inputs with 3 .* or 4 .* got shape \(3, 4\)"):
        nn.Softmax2d()(X2)


def test_rrelu_module_uses_bounds():
    with bs.environ.context(fit=False):
        assert_allclose(nn.RReLU(0.2, 0.4)(X), np.where(X >= 0, X, 0.3 * X), rtol=1e-6)


def test_prelu_slopes_are_one_param_state_per_channel():
    layer = nn.PReLU(4, init=0.1)
    assert list(layer.states(bs.ParamState)) == [("weight",)]
    assert_allclose(layer.weight.value, np.full(4, 0.1, np.float32))
    layer.weight.value = jnp.array([0.0, 0.5, 1.0, 2.0])
    assert_allclose(layer(-jnp.ones((2, 4))), -np.tile([0.0, 0.5, 1.0, 2.0], (2, 1)))


def test_prelu_gradient_flows_to_slope():
    layer = nn.PReLU()
    grads = bs.transform.grad(lambda x: jnp.sum(layer(x)), grad_states=layer.states(bs.ParamState))(X)
    assert_allclose(grads[("weight",)], [X[X < 0].sum()], rtol=1e-6)


def test_prelu_channel_mismatch_raises():
    with pytest.raises(ValueError, match=r"PReLU has 4 slopes.*got an input of shape \(13,\)"):
        nn.PReLU(4)(X)


@pytest.mark.parametrize("n", [0, -1, 2.5, True])
def test_prelu_bad_num_parameters_raises(n):
    with pytest.raises(ValueError, match="PReLU: num_parameters must be a positive integer"):
        nn.PReLU(n)


def test_hardtanh_bad_interval_raises():
    with pytest.raises(ValueError, match="Hardtanh: max_val must be greater than min_val"):
        nn.Hardtanh(1.0, 1.0)


def test_celu_zero_alpha_raises():
    with pytest.raises(ValueError, match="CELU: alpha must be non-zero"):
        nn.CELU(0.0)


def test_softshrink_negative_lambda_raises():
    with pytest.raises(ValueError, match="Softshrink: lambd must be non-negative"):
        nn.Softshrink(-0.1)


def test_rrelu_module_bad_bounds_raise():
    with pytest.raises(ValueError, match="RReLU: lower must not exceed upper"):
        nn.RReLU(0.5, 0.1)


def test_non_number_argument_raises():
    with pytest.raises(TypeError, match="ELU: alpha must be a real number, got str"):
        nn.ELU("1")


def test_non_integer_axis_raises():
    with pytest.raises(TypeError, match="Softmax: dim must be an integer axis, got float"):
        nn.Softmax(dim=1.0)


def test_named_block_reports_its_name():
    with pytest.raises(ValueError, match=r"Hardtanh\('clip'\): max_val"):
        nn.Hardtanh(2.0, 1.0, name="clip")
    assert nn.ReLU(name="act").name == "act"
