"""Flatten and Unflatten against numpy reshapes."""

import jax.numpy as jnp
import numpy as np
import pytest
from numpy.testing import assert_allclose

from brainstate import nn

X = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)


@pytest.mark.parametrize("start, end, shape", [(0, -1, (120,)), (1, 2, (2, 12, 5)), (-2, -1, (2, 3, 20)),
                                               (2, 2, (2, 3, 4, 5))])
def test_flatten_without_in_size_counts_axes_over_the_input(start, end, shape):
    assert_allclose(nn.Flatten(start, end)(X), X.reshape(shape))


def test_flatten_with_in_size_counts_axes_within_a_sample():
    layer = nn.Flatten(in_size=(4, 5))
    assert layer.out_size == (20,)
    assert_allclose(layer(X), X.reshape(2, 3, 20))
    assert_allclose(layer(X[0, 0]), X[0, 0].ravel())


def test_flatten_scalar_becomes_a_vector():
    assert nn.Flatten()(jnp.float32(2.0)).shape == (1,)


def test_unflatten_splits_an_axis():
    assert_allclose(nn.Unflatten(-1, (5, 1))(X), X.reshape(2, 3, 4, 5, 1))
    assert_allclose(nn.Unflatten(1, (3, 1))(X), X.reshape(2, 3, 1, 4, 5))


def test_unflatten_infers_minus_one_and_accepts_an_int():
    assert nn.Unflatten(2, (2, -1))(X).shape == (2, 3, 2, 2, 5)
    assert nn.Unflatten(0, 2)(X).shape == X.shape


def test_unflatten_with_in_size_counts_axes_within_a_sample():
    layer = nn.Unflatten(0, (2, 2), in_size=(4, 5))
    assert layer.out_size == (2, 2, 5)
    assert_allclose(layer(X), X.reshape(2, 3, 2, 2, 5))


def test_flatten_then_unflatten_round_trips():
    flat = nn.Flatten(1)(X)
    assert_allclose(nn.Unflatten(1, (3, 4, 5))(flat), X)


def test_flatten_start_after_end_is_an_error():
    with pytest.raises(ValueError, match="Flatten: start_axis=2 comes after end_axis=0"):
        nn.Flatten(2, 0)(X)


def test_flatten_axis_out_of_range_is_an_error():
    with pytest.raises(ValueError, match=r"Flatten: start_axis=5 is out of range for 4 axes"):
        nn.Flatten(5)(X)


def test_flatten_axes_must_be_ints():
    with pytest.raises(TypeError, match="Flatten: start_axis and end_axis must be ints"):
        nn.Flatten(0.5)


def test_flatten_input_not_matching_in_size_is_an_error():
    with pytest.raises(ValueError, match=r"Flatten expects inputs of shape \(4, 6\), optionally preceded"):
        nn.Flatten(in_size=(4, 6))(X)


def test_unflatten_wrong_product_is_an_error():
    with pytest.raises(ValueError, match=r"Unflatten: cannot split axis 1 of size 3 .* into sizes \(2, 2\)"):
        nn.Unflatten(1, (2, 2))(X)


def test_unflatten_minus_one_not_dividing_is_an_error():
    with pytest.raises(ValueError, match="cannot split axis 2 of size 4"):
        nn.Unflatten(2, (3, -1))(X)


@pytest.mark.parametrize("sizes", [(-1, -1), (0, 4), (2, -3)])
def test_unflatten_bad_sizes_are_an_error(sizes):
    with pytest.raises(ValueError, match="Unflatten: sizes must be positive, with at most one -1"):
        nn.Unflatten(1, sizes)


@pytest.mark.parametrize("axis, sizes", [(0.5, (2,)), (1, "ab"), (1, ())])
def test_unflatten_bad_types_are_an_error(axis, sizes):
    with pytest.raises(TypeError, match="Unflatten: (axis must be an int|sizes must be an int or a non-empty)"):
        nn.Unflatten(axis, sizes)


def test_unflatten_axis_out_of_range_is_an_error():
    with pytest.raises(ValueError, match=r"Unflatten: axis=-5 is out of range for 4 axes"):
        nn.Unflatten(-5, (1,))(X)


def test_flatten_and_unflatten_keep_units():
    import brainunit as u  # a test dependency; imported here so the module stays light

    x = jnp.ones((2, 3, 4)) * u.mV
    flat = nn.Flatten(1)(x)
    assert flat.shape == (2, 12) and flat.unit == u.mV
    back = nn.Unflatten(1, (3, 4))(flat)
    assert back.shape == (2, 3, 4) and back.unit == u.mV
