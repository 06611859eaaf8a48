"""ConvTranspose kernel layout `(*window, out, in // groups)` and values equal to the reference's.

The literal outputs below were computed by the reference release (brainstate 0.5.4) for the same
integer kernels and inputs, so a checkpoint saved there gives the same outputs here.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from numpy.testing import assert_allclose

import brainstate as bs


def with_kernel(layer, w):
    layer.weight.value = dict(layer.weight.value, weight=jnp.asarray(w, jnp.float32))
    return layer


REFERENCE_CASES = {
    "1d-stride2-same": (
        lambda: bs.nn.ConvTranspose1d((3, 2), 3, 3, stride=2),
        np.arange(18).reshape(3, 3, 2) - 8,
        [[[1, -2], [3, 0], [-1, 2]]],
        [[[6, 4, 2], [0, -2, -4], [-30, -26, -22], [-6, 0, 6], [6, 14, 22], [0, 2, 4]]],
    ),
    "2d-stride2-valid-groups2": (
        lambda: bs.nn.ConvTranspose2d((2, 2, 2), 2, 2, stride=2, padding="VALID", groups=2),
        np.arange(8).reshape(2, 2, 2, 1) - 3,
        [[[[1, 2], [0, -1]], [[3, 1], [-2, 1]]]],
        [[[[-3, -4], [-1, 0], [0, 2], [0, 0]], [[1, 4], [3, 8], [0, -2], [0, -4]],
          [[-9, -2], [-3, 0], [6, -2], [2, 0]], [[3, 2], [9, 4], [-2, 2], [-6, 4]]]],
    ),
    "3d-explicit-pads": (
        lambda: bs.nn.ConvTranspose3d((2, 2, 2, 1), 1, 2, padding=((1, 0), (0, 1), (1, 1))),
        np.arange(8).reshape(2, 2, 2, 1, 1) + 1,
        np.array([1, -1, 2, 0, 3, 1, -2, 1]).reshape(1, 2, 2, 2, 1),
        [[[[[5], [5], [-4]], [[6], [8], [0]]], [[[24], [25], [-2]], [[8], [11], [4]]]]],
    ),
}


@pytest.mark.parametrize("name", sorted(REFERENCE_CASES))
def test_reference_kernel_gives_reference_output(name):
    make, w, x, expected = REFERENCE_CASES[name]
    layer = with_kernel(make(), w)
    assert_allclose(layer(jnp.asarray(x, jnp.float32)), np.asarray(expected, np.float32), rtol=0, atol=1e-5)


@pytest.mark.parametrize("cls, in_size, out, k, groups, shape", [
    (bs.nn.ConvTranspose1d, (7, 3), 5, 3, 1, (3, 5, 3)),
    (bs.nn.ConvTranspose2d, (4, 4, 6), 4, (3, 2), 2, (3, 2, 4, 3)),
    (bs.nn.ConvTranspose3d, (2, 2, 2, 6), 9, 2, 3, (2, 2, 2, 9, 2)),
])
def test_kernel_shape_is_window_out_in_per_group(cls, in_size, out, k, groups, shape):
    layer = cls(in_size, out, k, groups=groups, w_mask=jnp.ones(shape))
    assert layer.weight.value["weight"].shape == shape
    assert layer.kernel_shape == shape


@pytest.mark.parametrize("n", [1, 2])
def test_conv_transpose_is_the_adjoint_of_conv_with_the_same_kernel(n):
    # Conv with kernel (*window, I, O) maps I -> O channels; its vjp maps O -> I. The transposed
    # conv from O to I channels with the same array as kernel (*window, out=I, in=O) is that vjp.
    window, stride, c_fwd_in, c_fwd_out = (3,) * n, 2, 2, 3
    w = np.random.default_rng(0).normal(size=window + (c_fwd_in, c_fwd_out)).astype(np.float32)
    size = (7,) * n
    conv = (bs.nn.Conv1d if n == 1 else bs.nn.Conv2d)(size + (c_fwd_in,), c_fwd_out, window, stride=stride,
                                                       padding="VALID")
    with_kernel(conv, w)
    x = jnp.zeros((1,) + size + (c_fwd_in,))
    y, vjp = jax.vjp(conv, x)
    cot = jnp.asarray(np.random.default_rng(1).normal(size=y.shape), jnp.float32)
    convT = (bs.nn.ConvTranspose1d if n == 1 else bs.nn.ConvTranspose2d)(
        y.shape[1:], c_fwd_in, window, stride=stride, padding="VALID")
    with_kernel(convT, w)
    assert_allclose(convT(cot), vjp(cot)[0], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("groups", [1, 4])
def test_default_init_scale_is_xavier_of_in_per_group_and_out(groups):
    bs.random.seed(0)
    layer = bs.nn.ConvTranspose2d((4, 4, 16), 48, 5, groups=groups)
    w = np.asarray(layer.weight.value["weight"])
    assert w.shape == (5, 5, 48, 16 // groups)
    fan_in, fan_out = 16 // groups * 25, 48 * 25
    assert_allclose(w.std(), np.sqrt(2.0 / (fan_in + fan_out)), rtol=0.05)
    assert_allclose(w.mean(), 0.0, atol=3 * w.std() / np.sqrt(w.size))
