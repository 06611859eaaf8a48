"""Padding layers against numpy.pad."""

import jax.numpy as jnp
import numpy as np
import pytest
from numpy.testing import assert_allclose

from brainstate import nn

RNG = np.random.default_rng(0)
MODES = {"ZeroPad": "constant", "ReflectionPad": "reflect", "ReplicationPad": "edge", "CircularPad": "wrap"}
SAMPLES = {1: (6, 2), 2: (5, 4, 2), 3: (4, 3, 5, 2)}


def layer(kind, n, *args, **kwargs):
    return getattr(nn, f"{kind}{n}d")(*args, **kwargs)


@pytest.mark.parametrize("kind", list(MODES))
@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("batched", [False, True])
def test_padding_matches_numpy_pad(kind, n, batched):
    sample = SAMPLES[n]
    x = RNG.normal(size=((3,) if batched else ()) + sample).astype(np.float32)
    flat = tuple(v for i in range(n) for v in (i + 1, 2 - i % 2))  # (low, high) per spatial axis
    pads = [(0, 0)] * batched + [(flat[2 * i], flat[2 * i + 1]) for i in range(n)] + [(0, 0)]
    assert_allclose(layer(kind, n, flat)(x), np.pad(x, pads, mode=MODES[kind]))


@pytest.mark.parametrize("n", [1, 2, 3])
def test_constant_pad_uses_value(n):
    x = RNG.normal(size=SAMPLES[n]).astype(np.float32)
    pads = [(2, 2)] * n + [(0, 0)]
    assert_allclose(layer("ConstantPad", n, 2, value=-3.5)(x), np.pad(x, pads, constant_values=-3.5))


def test_padding_forms_int_per_axis_and_pairs():
    x = np.ones((5, 4, 1), np.float32)
    assert nn.ZeroPad2d(1)(x).shape == (7, 6, 1)
    assert nn.ZeroPad2d((1, 2))(x).shape == (7, 8, 1)            # per axis, both sides
    assert nn.ZeroPad2d((1, 2, 3, 4))(x).shape == (8, 11, 1)     # (low, high) per axis
    assert nn.ZeroPad1d((1, 2))(np.ones((4, 1))).shape == (7, 1)  # N=1: (low, high)


def test_reflection_wider_than_input_follows_numpy():
    x = np.arange(3.0, dtype=np.float32).reshape(3, 1)
    assert_allclose(nn.ReflectionPad1d(4)(x), np.pad(x, [(4, 4), (0, 0)], mode="reflect"))


def test_in_size_sets_out_size():
    assert nn.CircularPad3d((1, 0, 2), in_size=(4, 3, 5, 2)).out_size == (6, 3, 9, 2)


@pytest.mark.parametrize("padding", [-1, (1, 2, 3), 1.5, (1, -2), "same"])
def test_bad_padding_is_an_error(padding):
    with pytest.raises(ValueError, match="ZeroPad1d: padding must be a non-negative int, 1 ints"):
        nn.ZeroPad1d(padding)


def test_wrong_rank_is_an_error():
    with pytest.raises(ValueError, match=r"ReplicationPad2d expects inputs with 3 \(unbatched\) or 4 \(batched\)"):
        nn.ReplicationPad2d(1)(jnp.ones((5, 6)))


def test_wrong_in_size_is_an_error():
    with pytest.raises(ValueError, match=r"ZeroPad3d expects inputs with 4 \(unbatched\) or 5"):
        nn.ZeroPad3d(1, in_size=(3, 3))
