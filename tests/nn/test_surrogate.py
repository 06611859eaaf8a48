"""Surrogate spike functions and spike bitwise operations."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from numpy.testing import assert_allclose

import brainstate as bs

X = jnp.array([-2.0, -0.5, -1e-3, 0.0, 1e-3, 0.5, 2.0])


@pytest.mark.parametrize("fn", [bs.nn.sigmoid_spike, bs.nn.arctan_spike])
def test_forward_is_heaviside(fn):
    assert_allclose(np.asarray(fn(X)), (np.asarray(X) >= 0).astype(np.float32))


def test_sigmoid_spike_gradient_is_sigmoid_derivative():
    alpha = 3.0
    got = jax.vmap(jax.grad(lambda x: bs.nn.sigmoid_spike(x, alpha)))(X)
    want = jax.vmap(jax.grad(lambda x: jax.nn.sigmoid(alpha * x)))(X)
    assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5, atol=1e-6)


def test_arctan_spike_gradient_is_arctan_derivative():
    alpha = 2.5
    got = jax.vmap(jax.grad(lambda x: bs.nn.arctan_spike(x, alpha)))(X)
    want = jax.vmap(jax.grad(lambda x: jnp.arctan(math.pi / 2 * alpha * x) / math.pi))(X)
    assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5, atol=1e-6)


def test_forward_mode_matches_reverse_mode():
    f = lambda x: jnp.sum(bs.nn.sigmoid_spike(x) * jnp.arange(7.0))
    rev = jax.grad(f)(X)
    fwd = jax.jacfwd(f)(X)
    assert_allclose(np.asarray(fwd), np.asarray(rev), rtol=1e-6)


def test_integer_input_gives_float_spikes():
    out = bs.nn.sigmoid_spike(jnp.array([-1, 0, 2]))
    assert jnp.issubdtype(out.dtype, jnp.floating)
    assert_allclose(np.asarray(out), [0.0, 1.0, 1.0])


def test_dtype_is_kept():
    assert bs.nn.arctan_spike(X.astype(jnp.bfloat16)).dtype == jnp.bfloat16


def test_spike_functions_under_jit():
    assert_allclose(np.asarray(jax.jit(bs.nn.sigmoid_spike)(X)), np.asarray(bs.nn.sigmoid_spike(X)))


@pytest.mark.parametrize("fn", [bs.nn.sigmoid_spike, bs.nn.arctan_spike])
def test_non_positive_alpha_is_rejected(fn):
    with pytest.raises(ValueError, match="alpha must be positive"):
        fn(X, alpha=0.0)


@pytest.mark.parametrize("op, table", [
    ("add", [0, 1, 1, 2]), ("and", [0, 0, 0, 1]), ("iand", [0, 1, 0, 0]), ("or", [0, 1, 1, 1]),
    ("xor", [0, 1, 1, 0]), ("ixor", [0, 1, 1, 0]),
])
def test_spike_bitwise_truth_tables(op, table):
    x = jnp.array([0.0, 0.0, 1.0, 1.0])
    y = jnp.array([0.0, 1.0, 0.0, 1.0])
    assert_allclose(np.asarray(bs.nn.spike_bitwise(x, y, op)), table)
    assert_allclose(np.asarray(bs.nn.SpikeBitwise(op)(x, y)), table)


def test_spike_bitwise_unknown_op():
    with pytest.raises(ValueError, match="op must be one of"):
        bs.nn.spike_bitwise(jnp.zeros(2), jnp.zeros(2), "nor")


def test_spike_bitwise_xor_is_differentiable_like_the_reference():
    # d/dx (x + y - 2xy) = 1 - 2y; the reference's two spellings agree off {0, 1} too
    x, y = jnp.array([0.3, 0.8]), jnp.array([0.6, 0.1])
    g = jax.grad(lambda x: bs.nn.spike_bitwise(x, y, "xor").sum())(x)
    assert_allclose(np.asarray(g), np.asarray(1 - 2 * y), rtol=1e-6)
    assert_allclose(np.asarray(bs.nn.spike_bitwise(x, y, "ixor")), np.asarray(bs.nn.spike_bitwise(x, y, "xor")),
                    rtol=1e-6)


def test_spike_bitwise_module_unknown_op():
    with pytest.raises(ValueError, match="SpikeBitwise: op must be one of"):
        bs.nn.SpikeBitwise("nand")
