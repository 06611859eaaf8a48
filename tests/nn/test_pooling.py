"""Pooling layers against NumPy sliding-window computations."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view
from numpy.testing import assert_allclose

import brainstate as bs
from brainstate import nn

RNG = np.random.default_rng(0)
SHAPES = {1: (2, 9, 3), 2: (2, 7, 6, 3), 3: (2, 5, 6, 5, 2)}  # (batch, *spatial, channels)


def windows(x, n, kernel, stride, pads, fill):
    """NumPy windows over the N spatial axes of a channel-last batch: (..., *kernel)."""
    padded = np.pad(x, [(0, 0)] + list(pads) + [(0, 0)], constant_values=fill)
    w = sliding_window_view(padded, kernel, axis=tuple(range(1, n + 1)))
    return w[(slice(None),) + tuple(slice(None, None, s) for s in stride)]


def np_pool(x, n, kernel, stride, pads, how, p=2.0):
    axes = tuple(range(-n, 0))
    if how == "max":
        return windows(x, n, kernel, stride, pads, -np.inf).max(axis=axes)
    if how == "avg":
        total = windows(x, n, kernel, stride, pads, 0.0).sum(axis=axes)
        count = windows(np.ones_like(x), n, kernel, stride, pads, 0.0).sum(axis=axes)
        return total / count
    return (windows(np.abs(x) ** p, n, kernel, stride, pads, 0.0).sum(axis=axes) / np.prod(kernel)) ** (1 / p)


def pool(kind, n):
    return getattr(nn, f"{kind}{n}d")


@pytest.mark.parametrize("n, padding", [(1, 1), (2, "VALID"), (2, 1), (3, 1)])
@pytest.mark.parametrize("how, kind", [("max", "MaxPool"), ("avg", "AvgPool"), ("lp", "LPPool")])
def test_window_pools_match_numpy(n, how, kind, padding):
    x = RNG.normal(size=SHAPES[n]).astype(np.float32)
    kernel, stride = (3,) * n, (2,) * n
    args = (2.5,) if how == "lp" else ()
    y = pool(kind, n)(*args, 3, stride=2, padding=padding)(x)
    pads = [(padding, padding) if padding != "VALID" else (0, 0)] * n
    assert_allclose(y, np_pool(x, n, kernel, stride, pads, how, p=2.5), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("how, kind", [("max", "MaxPool"), ("avg", "AvgPool")])
def test_same_padding_matches_numpy(how, kind):
    x = RNG.normal(size=(2, 8, 7, 3)).astype(np.float32)
    y = pool(kind, 2)(3, stride=2, padding="SAME")(x)
    # SAME for size 8: out 4, total pad 1 -> (0, 1); size 7: out 4, total pad 2 -> (1, 1)
    assert_allclose(y, np_pool(x, 2, (3, 3), (2, 2), [(0, 1), (1, 1)], how), rtol=1e-5, atol=1e-6)


def test_asymmetric_padding_pairs_and_default_strides():
    x = RNG.normal(size=(7, 6, 2)).astype(np.float32)[None]
    y = nn.MaxPool2d((2, 3), padding=((1, 0), (0, 2)))(x[0])
    assert_allclose(y, np_pool(x, 2, (2, 3), (2, 3), [(1, 0), (0, 2)], "max")[0])
    assert nn.AvgPool2d(2).stride == (1, 1) and nn.LPPool2d(2, 3).stride == (3, 3)


def test_unbatched_and_multi_batch_inputs():
    x = RNG.normal(size=(2, 3, 8, 4)).astype(np.float32)
    layer = nn.MaxPool1d(2)
    assert_allclose(layer(x), np.stack([layer(v) for v in x]))
    assert layer(x[0, 0]).shape == (4, 4)


def test_channel_axis_none_and_channel_first():
    x = RNG.normal(size=(2, 4, 8)).astype(np.float32)
    no_channel = nn.AvgPool1d(2, stride=2, channel_axis=None)(x)
    channel_first = nn.AvgPool1d(2, stride=2, channel_axis=0)(x)
    want = x.reshape(2, 4, 4, 2).mean(-1)
    assert_allclose(no_channel, want, rtol=1e-6)
    assert_allclose(channel_first, want, rtol=1e-6)


def channel_first(y):
    """A channel-last batch `(batch, *spatial, channels)` as `(batch, channels, *spatial)`."""
    return np.moveaxis(np.asarray(y), -1, 1)


@pytest.mark.parametrize("how, kind", [("max", "MaxPool"), ("avg", "AvgPool"), ("lp", "LPPool")])
def test_non_negative_channel_axis_counts_batch_axes(how, kind):
    # Regression: channel_axis=1 was read within a sample, so an NCHW batch pooled its channel axis.
    x = RNG.normal(size=(4, 7, 6, 3)).astype(np.float32)  # channel-last batch
    args = (2.0,) if how == "lp" else ()
    want = np_pool(x, 2, (2, 2), (2, 2), [(0, 0)] * 2, how)
    y = pool(kind, 2)(*args, 2, stride=2, channel_axis=1)(channel_first(x))
    assert y.shape == (4, 3, 3, 3)
    assert_allclose(y, channel_first(want), rtol=1e-5, atol=1e-6)
    # an unbatched channel-first sample: channel_axis=0
    assert_allclose(pool(kind, 2)(*args, 2, stride=2, channel_axis=0)(channel_first(x)[1]), channel_first(want)[1],
                    rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind, reduce", [("AdaptiveAvgPool", np.mean), ("AdaptiveMaxPool", np.max)])
def test_adaptive_pools_with_a_channel_first_batch(kind, reduce):
    x = RNG.normal(size=(2, 3, 7, 5)).astype(np.float32)  # (batch, channels, height, width)
    want = np.stack([np.stack([reduce(x[:, :, a:b, c:d], axis=(2, 3)) for c, d in ranges(5, 2)], -1)
                     for a, b in ranges(7, 3)], -2)
    assert_allclose(pool(kind, 2)((3, 2), channel_axis=1)(x), want, rtol=1e-5, atol=1e-6)
    assert_allclose(pool(kind, 2)((3, 2), channel_axis=0)(x[1]), want[1], rtol=1e-5, atol=1e-6)


def test_channel_axis_between_spatial_axes():
    # (batch, height, channels, width): the spatial axes are the last two other than the channel axis.
    x = RNG.normal(size=(2, 6, 3, 4)).astype(np.float32)
    y = nn.AvgPool2d(2, stride=2, channel_axis=2)(x)
    want = x.reshape(2, 3, 2, 3, 2, 2).mean(axis=(2, 5))
    assert_allclose(y, want, rtol=1e-5, atol=1e-6)  # float32 means: an absolute floor near zero


def test_max_pool_indices_and_unpool_with_a_channel_first_batch():
    x = RNG.uniform(1.0, 2.0, size=(2, 3, 6, 4)).astype(np.float32)
    y, idx = nn.MaxPool2d(2, return_indices=True, channel_axis=1)(x)
    assert_allclose(y, channel_first(nn.MaxPool2d(2)(np.moveaxis(x, 1, -1))))
    for b in range(2):  # positions within the sample (channels, height, width)
        assert_allclose(x[b].ravel()[np.asarray(idx[b])], y[b])
        assert (np.unravel_index(np.asarray(idx[b]), x.shape[1:])[0] == np.arange(3)[:, None, None]).all()
    up = nn.MaxUnpool2d(2, channel_axis=1)(y, idx)
    want = np.zeros_like(x)
    for b in range(2):
        np.put(want[b], np.asarray(idx[b]).ravel(), np.asarray(y[b]).ravel())
    assert_allclose(up, want)


@pytest.mark.parametrize("make", [
    lambda: nn.MaxPool2d(2, channel_axis=1, in_size=(3, 8, 6)),
    lambda: nn.AdaptiveAvgPool2d((4, 3), channel_axis=1, in_size=(3, 8, 6)),
])
def test_in_size_is_one_sample_seen_with_a_batch_axis(make):
    assert make().out_size == (3, 4, 3)


@pytest.mark.parametrize("shape, axis", [((2, 3, 6, 6), 4), ((2, 3, 6, 6), -5), ((3, 6, 6), 3)])
def test_channel_axis_out_of_range_is_an_error(shape, axis):
    with pytest.raises(ValueError, match=rf"MaxPool2d: channel_axis={axis} is out of range for an input of shape "
                                         rf"\({shape[0]}, .* A non-negative channel_axis counts from the first axis"):
        nn.MaxPool2d(2, channel_axis=axis)(jnp.ones(shape))


def test_channel_axis_must_be_an_int():
    with pytest.raises(TypeError, match=r"AvgPool1d: channel_axis must be None or an int .* got 1.0"):
        nn.AvgPool1d(2, channel_axis=1.0)


def test_max_pool_indices_locate_the_maxima_in_the_sample():
    x = RNG.normal(size=(2, 6, 5, 3)).astype(np.float32)
    y, idx = nn.MaxPool2d(2, padding=1, return_indices=True)(x)
    assert idx.shape == y.shape and idx.dtype == jnp.int32
    for b in range(2):
        assert_allclose(x[b].ravel()[np.asarray(idx[b])], y[b])
        # the channel of each index is the channel of its output
        assert (np.unravel_index(np.asarray(idx[b]), x.shape[1:])[2] == np.arange(3)).all()


def test_max_unpool_scatters_maxima_back():
    x = RNG.uniform(1.0, 2.0, size=(2, 6, 4, 3)).astype(np.float32)  # positive: zeros never win
    y, idx = nn.MaxPool2d(2, return_indices=True)(x)
    up = nn.MaxUnpool2d(2)(y, idx)
    want = np.zeros_like(x)
    for b in range(2):
        np.put(want[b], np.asarray(idx[b]).ravel(), np.asarray(y[b]).ravel())
    assert up.shape == x.shape
    assert_allclose(up, want)
    assert_allclose(nn.MaxPool2d(2)(up), y)


def test_max_unpool_output_size_and_padding():
    x = RNG.normal(size=(9, 2)).astype(np.float32)
    y, idx = nn.MaxPool1d(3, stride=2, padding=1, return_indices=True)(x)
    assert nn.MaxUnpool1d(3, stride=2, padding=1)(y, idx).shape == (9, 2)
    assert nn.MaxUnpool1d(3, stride=2, padding=1)(y, idx, output_size=(10,)).shape == (10, 2)


def test_max_unpool_indices_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match=r"MaxUnpool1d: indices must have the shape of the input \(3, 2\)"):
        nn.MaxUnpool1d(2)(jnp.ones((3, 2)), jnp.zeros((3, 1), jnp.int32))


def ranges(n, t):
    edges = np.cumsum([0] + [len(b) for b in np.array_split(np.arange(n), t)])
    return list(zip(edges[:-1], edges[1:]))


@pytest.mark.parametrize("kind, reduce", [("AdaptiveAvgPool", np.mean), ("AdaptiveMaxPool", np.max)])
def test_adaptive_pools_match_numpy_bins(kind, reduce):
    x = RNG.normal(size=(2, 7, 5, 3)).astype(np.float32)
    y = pool(kind, 2)((3, 2))(x)
    want = np.stack([np.stack([reduce(x[:, a:b, c:d], axis=(1, 2)) for c, d in ranges(5, 2)], 1)
                     for a, b in ranges(7, 3)], 1)
    assert_allclose(y, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("n", [1, 3])
def test_adaptive_pool_divisible_sizes_equal_plain_pooling(n):
    x = RNG.normal(size=(2,) + (4,) * n + (2,)).astype(np.float32)
    assert_allclose(pool("AdaptiveAvgPool", n)(2)(x), pool("AvgPool", n)(2, stride=2)(x), rtol=1e-5, atol=1e-6)
    assert_allclose(pool("AdaptiveMaxPool", n)(2)(x), pool("MaxPool", n)(2)(x))


def test_adaptive_target_larger_than_input_is_an_error():
    with pytest.raises(ValueError, match="AdaptiveAvgPool1d: target_size \\(10,\\) exceeds the input size 7"):
        nn.AdaptiveAvgPool1d(10)(jnp.ones((7, 3)))


@pytest.mark.parametrize("make, size", [
    (lambda: nn.MaxPool2d(2, padding=1, in_size=(5, 6, 3)), (3, 4, 3)),
    (lambda: nn.MaxPool2d(2, return_indices=True, in_size=(5, 6, 3)), (2, 3, 3)),
    (lambda: nn.AvgPool1d(3, in_size=(8, 2)), (6, 2)),
    (lambda: nn.LPPool3d(2, 2, in_size=(4, 4, 4, 1)), (2, 2, 2, 1)),
    (lambda: nn.AdaptiveMaxPool2d(3, in_size=(5, 6, 3)), (3, 3, 3)),
    (lambda: nn.MaxUnpool1d(2, in_size=(3, 2)), (6, 2)),
])
def test_in_size_sets_out_size(make, size):
    layer = make()
    assert layer.out_size == size


def test_integer_inputs_average_as_floats():
    y = nn.AvgPool1d(2, stride=2)(jnp.arange(4).reshape(4, 1))
    assert_allclose(y.ravel(), [0.5, 2.5])


@pytest.mark.parametrize("make, match", [
    (lambda: nn.MaxPool1d(0), "MaxPool1d: kernel_size must be an int or 1 ints, each >= 1, got 0"),
    (lambda: nn.MaxPool1d((2, 2)), "kernel_size must be an int or 1 ints"),
    (lambda: nn.AvgPool2d(2, stride=0), "AvgPool2d: stride must be an int or 2 ints, each >= 1"),
    (lambda: nn.MaxPool2d(2, padding="full"), "MaxPool2d: padding must be 'SAME', 'VALID'"),
    (lambda: nn.MaxPool2d(2, padding=((1, -1), (0, 0))), "padding pairs must hold non-negative ints"),
    (lambda: nn.MaxPool1d(2, padding=-1), "padding must be an int or 1 ints, each >= 0"),
    (lambda: nn.LPPool1d(0, 2), "LPPool1d: norm_type must be a positive finite number, got 0"),
    (lambda: nn.LPPool1d(float("inf"), 2), "norm_type must be a positive finite number"),
    (lambda: nn.AdaptiveAvgPool2d((2, 2, 2)), "AdaptiveAvgPool2d: target_size must be an int or 2 ints"),
    (lambda: nn.MaxUnpool2d(2, padding=(1,)), "MaxUnpool2d: padding must be an int or 2 ints"),
    (lambda: nn.MaxPool2d(2, in_size=(5,)), "MaxPool2d: in_size is the shape of one sample, which needs at least 3"),
])
def test_constructor_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_too_few_dimensions_is_an_error():
    with pytest.raises(ValueError, match=r"MaxPool2d expects inputs with at least 3 dimensions .* got shape \(7,\)"):
        nn.MaxPool2d(2)(jnp.ones(7))


def test_kernel_larger_than_input_is_an_error():
    with pytest.raises(ValueError, match="MaxPool1d: kernel_size \\(5,\\) is larger than the padded input"):
        nn.MaxPool1d(5)(jnp.ones((3, 2)))


def test_max_unpool_bad_output_size_is_an_error():
    with pytest.raises(ValueError, match="MaxUnpool1d: output_size must be an int or 1 ints"):
        nn.MaxUnpool1d(2)(jnp.ones((3, 2)), jnp.zeros((3, 2), jnp.int32), output_size=(0,))


def _functional_pool(x, how, kernel, stride, pads):
    """The same pooling written directly with `lax.reduce_window` (Python-scalar identities)."""
    dims, strides = (*kernel, 1), (*stride, 1)
    padding = (*pads, (0, 0))
    if how == "max":
        return jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, dims, strides, padding)
    if how == "avg":
        total = jax.lax.reduce_window(x, 0.0, jax.lax.add, dims, strides, padding)
        count = jax.lax.reduce_window(jnp.ones_like(x), 0.0, jax.lax.add, dims, strides, padding)
        return total / count
    total = jax.lax.reduce_window(jnp.abs(x) ** 2.0, 0.0, jax.lax.add, dims, strides, padding)
    return (total / np.prod(kernel)) ** 0.5


@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("how, kind", [("max", "MaxPool"), ("avg", "AvgPool"), ("lp", "LPPool")])
def test_jit_of_grad_matches_eager_grad_and_functional_grad(n, how, kind):
    # Regression: a jnp-array identity is a tracer under jit, so reduce_window fell back to its
    # generic, non-differentiable form and jit(grad(pool)) failed to linearize.
    x = jnp.asarray(RNG.normal(size=SHAPES[n][1:]).astype(np.float32))
    args = (2.0,) if how == "lp" else ()
    layer = pool(kind, n)(*args, 2, stride=2, padding=1)

    def loss(v):
        return jnp.sum(jnp.sin(layer(v)))

    eager = bs.transform.grad(loss)(x)
    jitted = bs.transform.jit(bs.transform.grad(loss))(x)
    pads = ((1, 1),) * n
    expected = jax.grad(lambda v: jnp.sum(jnp.sin(_functional_pool(v, how, (2,) * n, (2,) * n, pads))))(x)
    assert_allclose(jitted, eager, rtol=1e-6, atol=1e-6)
    assert_allclose(jitted, expected, rtol=1e-5, atol=1e-6)
    assert np.count_nonzero(np.asarray(jitted)) > 0


def test_max_pool_with_indices_differentiates_under_jit():
    x = jnp.asarray(RNG.normal(size=(6, 4, 2)).astype(np.float32))
    layer = nn.MaxPool2d(2, return_indices=True)
    grad = bs.transform.jit(bs.transform.grad(lambda v: jnp.sum(layer(v)[0] ** 2)))(x)
    expected = jax.grad(lambda v: jnp.sum(_functional_pool(v, "max", (2, 2), (2, 2), ((0, 0), (0, 0))) ** 2))(x)
    assert_allclose(grad, expected, rtol=1e-6)
