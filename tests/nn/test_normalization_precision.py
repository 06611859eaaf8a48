"""Normalization layers on bfloat16/float16 inputs: statistics in float32, output dtype rule."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from numpy.testing import assert_allclose

import brainstate as bs
from brainstate import nn

HALF = [jnp.bfloat16, jnp.float16]
# The one-pass variance E[x^2] - E[x]^2 loses ~1e-3 relative in float32 at an offset of 100;
# statistics taken in half precision are off by orders of magnitude (or NaN), not by this much.
FAST_TOL = dict(rtol=5e-3, atol=5e-3)
EXACT_TOL = dict(rtol=1e-4, atol=1e-4)  # float32 rounding of x - mean at an offset of 100


def standardize(x, axes, eps):
    x = np.asarray(x, np.float64)
    mean = x.mean(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(x.var(axis=axes, keepdims=True) + eps)


def half_data(dtype, *shape, offset=100.0):
    """Values with a large offset and a small spread: where half precision statistics break."""
    x = np.random.default_rng(1).normal(size=shape) + offset
    return jnp.asarray(x, dtype)


@pytest.mark.parametrize("dtype", HALF)
def test_layernorm_of_offset_row_matches_exact(dtype):
    y = nn.LayerNorm(4)(jnp.array([[100.0, 101.0, 102.0, 103.0]], dtype))
    assert y.dtype == jnp.float32  # float32 parameters
    assert_allclose(y, [[-1.3416404, -0.4472135, 0.4472135, 1.3416404]], rtol=1e-5)


def test_layernorm_float16_offset_1000_is_finite_and_exact():
    y = nn.LayerNorm(4)(jnp.array([[1000.0, 1001.0, 1002.0, 1003.0]], jnp.float16))
    assert_allclose(y, [[-1.3416404, -0.4472135, 0.4472135, 1.3416404]], rtol=1e-5)


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("dtype", HALF)
def test_layernorm_half_matches_float64_formula(dtype, fast):
    x = half_data(dtype, 3, 5, 8)
    y = nn.LayerNorm((5, 8), reduction_axes=(0, 1), feature_axes=-1, use_fast_variance=fast)(x)
    assert_allclose(y, standardize(x.astype(jnp.float32), (1, 2), 1e-6), **(FAST_TOL if fast else EXACT_TOL))


def test_layernorm_half_with_many_entries_counts_in_float32():
    # 70000 entries: the count alone overflows float16 (max 65504)
    x = jnp.asarray(np.tile([1.0, 3.0], 35000)[None], jnp.float16)
    y = nn.LayerNorm(70000, use_scale=False, use_bias=False)(x)
    assert_allclose(y[0, :4], [-1.0, 1.0, -1.0, 1.0], rtol=1e-5)


def test_rmsnorm_float16_of_300s_does_not_overflow():
    y = nn.RMSNorm(4)(jnp.full((1, 4), 300.0, jnp.float16))
    assert_allclose(y, np.ones((1, 4)), rtol=1e-6)


@pytest.mark.parametrize("dtype", HALF)
def test_rmsnorm_half_matches_formula(dtype):
    x = half_data(dtype, 2, 6, offset=250.0)
    x32 = np.asarray(x.astype(jnp.float32), np.float64)
    expected = x32 / np.sqrt((x32 ** 2).mean(-1, keepdims=True) + 1e-6)
    assert_allclose(nn.RMSNorm(6)(x), expected, rtol=1e-5)


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("dtype", HALF)
def test_groupnorm_half_matches_formula(dtype, fast):
    x = half_data(dtype, 2, 3, 4)
    y = nn.GroupNorm(4, num_groups=2, use_fast_variance=fast)(x)
    xg = np.asarray(x.astype(jnp.float32)).reshape(2, 3, 2, 2)
    expected = standardize(xg, (1, 3), 1e-6).reshape(2, 3, 4)
    assert_allclose(y, expected, **(FAST_TOL if fast else EXACT_TOL))


@pytest.mark.parametrize("dtype", HALF)
@pytest.mark.parametrize("cls, in_size", [(nn.BatchNorm0d, (3,)), (nn.BatchNorm1d, (4, 3)),
                                          (nn.BatchNorm2d, (2, 3, 3)), (nn.BatchNorm3d, (2, 2, 2, 3))])
@pytest.mark.parametrize("fast", [True, False])
def test_batchnorm_half_output_and_running_stats(cls, in_size, dtype, fast):
    bn = cls(in_size, momentum=0.9, use_fast_variance=fast)
    tol = FAST_TOL if fast else EXACT_TOL
    x = half_data(dtype, 5, *in_size)
    x32 = np.asarray(x.astype(jnp.float32), np.float64)
    axes = tuple(range(len(in_size)))
    with bs.environ.context(fit=True):
        y = bn(x)
    assert_allclose(y, standardize(x32, axes, 1e-5), **tol)
    assert bn.running_mean.value.dtype == jnp.float32 and bn.running_var.value.dtype == jnp.float32
    assert_allclose(bn.running_mean.value.ravel(), 0.1 * x32.mean(axis=axes), rtol=1e-5)
    assert_allclose(bn.running_var.value.ravel(), 0.9 + 0.1 * x32.var(axis=axes), **tol)
    with bs.environ.context(fit=False):
        y_eval = bn(x)
    mean = np.asarray(bn.running_mean.value, np.float64)
    var = np.asarray(bn.running_var.value, np.float64)
    assert_allclose(y_eval, (x32 - mean) / np.sqrt(var + 1e-5), **EXACT_TOL)


def test_batchnorm_running_stats_keep_their_dtype_under_jit():
    bn = nn.BatchNorm0d((2,))
    bn.running_mean.restore_value(jnp.zeros((2,), jnp.bfloat16))
    bn.running_var.restore_value(jnp.ones((2,), jnp.bfloat16))
    x = jnp.asarray([[100.0, 1.0], [102.0, 3.0]], jnp.float16)

    @bs.transform.jit
    def step(x):
        with bs.environ.context(fit=True):
            return bn(x)

    step(x)
    assert bn.running_mean.value.dtype == jnp.bfloat16
    assert_allclose(np.asarray(bn.running_mean.value, np.float32), [1.01, 0.02], rtol=1e-2)
    assert_allclose(np.asarray(bn.running_var.value, np.float32), [0.9901, 0.9901], rtol=1e-2)


def _bf16_layers():
    o, z = jnp.ones((4,), jnp.bfloat16), jnp.zeros((4,), jnp.bfloat16)
    return {
        "LayerNorm": lambda: nn.LayerNorm(4, scale_init=o, bias_init=z),
        "RMSNorm": lambda: nn.RMSNorm(4, scale_init=o),
        "GroupNorm": lambda: nn.GroupNorm(4, num_groups=1, scale_init=o, bias_init=z),
        "BatchNorm0d": lambda: nn.BatchNorm0d((4,), scale_initializer=o, bias_initializer=z,
                                              track_running_stats=False),
    }


@pytest.mark.parametrize("name", sorted(_bf16_layers()))
def test_output_dtype_is_that_of_input_and_parameters(name):
    make = _bf16_layers()[name]
    x = jnp.array([[100.0, 101.0, 102.0, 103.0], [1.0, 2.0, 3.0, 4.0]], jnp.bfloat16)
    y = make()(x)
    assert y.dtype == jnp.bfloat16  # bfloat16 input and parameters
    assert jnp.isfinite(y.astype(jnp.float32)).all()
    assert make()(x.astype(jnp.float32)).dtype == jnp.float32
    layer = make()
    layer.dtype = jnp.float16  # the dtype argument wins
    assert layer(x).dtype == jnp.float16


def test_layernorm_half_gradient_is_finite():
    ln = nn.LayerNorm(4)
    x = jnp.array([[1000.0, 1001.0, 1002.0, 1003.0]], jnp.float16)
    g = jax.grad(lambda v: (ln(v).astype(jnp.float32) * jnp.arange(4.0)).sum())(x)
    x64 = np.asarray(x, np.float64)
    c = x64 - x64.mean()
    s = np.sqrt((c ** 2).mean() + 1e-6)
    w = np.arange(4.0)
    expected = (w - w.mean() - c / s * (w * c / s).mean()) / s  # d/dx of sum(w * (x - mean) / s)
    assert_allclose(np.asarray(g, np.float32), expected, rtol=1e-2, atol=1e-3)
