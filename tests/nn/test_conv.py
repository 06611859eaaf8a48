"""Conv, ConvTranspose and ScaledWSConv layers against jax.lax written out in the test."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from numpy.testing import assert_allclose

import brainstate as bs

RNG = np.random.default_rng(0)
SPEC = {1: ("NWC", "WIO", "NWC"), 2: ("NHWC", "HWIO", "NHWC"), 3: ("NDHWC", "DHWIO", "NDHWC")}
CONV = {1: bs.nn.Conv1d, 2: bs.nn.Conv2d, 3: bs.nn.Conv3d}
CONV_T = {1: bs.nn.ConvTranspose1d, 2: bs.nn.ConvTranspose2d, 3: bs.nn.ConvTranspose3d}
WS = {1: bs.nn.ScaledWSConv1d, 2: bs.nn.ScaledWSConv2d, 3: bs.nn.ScaledWSConv3d}


def data(*shape):
    return RNG.normal(size=shape).astype(np.float32)


def lax_pad(padding, n):
    if isinstance(padding, str):
        return padding
    if isinstance(padding, int):
        return [(padding, padding)] * n
    if isinstance(padding[0], int):  # as the reference: (low, high) in 1-d, else one amount per axis
        return [tuple(padding)] if n == 1 and len(padding) == 2 else [(p, p) for p in padding]
    return [tuple(p) for p in padding] * (n if len(padding) == 1 else 1)


def ref_conv(x, w, n, stride=1, padding="SAME", lhs_dilation=1, rhs_dilation=1, groups=1):
    return jax.lax.conv_general_dilated(
        x, w, (stride,) * n, lax_pad(padding, n), lhs_dilation=(lhs_dilation,) * n,
        rhs_dilation=(rhs_dilation,) * n, dimension_numbers=SPEC[n], feature_group_count=groups)


def ref_conv_transpose(x, w, n, stride=1, padding="SAME", rhs_dilation=1, groups=1):
    """lax.conv_transpose per channel group (it has no group argument), outputs concatenated.

    The kernel `w` is `(*window, out, in // groups)`, the forward conv's `(*window, I, O)`, so
    `transpose_kernel=True` (flip the window, swap I and O) gives the reference's transposed conv.
    """
    xs = np.split(x, groups, axis=-1)
    ws = np.split(w, groups, axis=-2)
    return jnp.concatenate([
        jax.lax.conv_transpose(xi, wi, (stride,) * n, lax_pad(padding, n), rhs_dilation=(rhs_dilation,) * n,
                               dimension_numbers=SPEC[n], transpose_kernel=True)
        for xi, wi in zip(xs, ws, strict=True)], axis=-1)


def kernel(layer):
    return np.asarray(layer.weight.value["weight"])


# -- Conv -------------------------------------------------------------------------------------------
CONV_KW = {"same": dict(), "valid-stride": dict(stride=2, padding="VALID"),
           "int-pad-dilation": dict(padding=1, rhs_dilation=2), "pair-pad-groups": dict(padding=((2, 1),), groups=2),
           "lhs-dilation": dict(lhs_dilation=2, stride=2, padding=1)}
CONV_T_KW = {"same": dict(), "same-stride": dict(stride=2), "valid-stride": dict(stride=3, padding="VALID"),
             "pair-pad": dict(stride=2, padding=((2, 1),)), "int-pad-dilation": dict(padding=1, rhs_dilation=2),
             "groups": dict(stride=2, groups=2)}


def matrix(options, rich):
    """Every option for 2-d; one richer option for 1-d and 3-d (keeps the suite fast)."""
    return [(2, k) for k in options] + [(1, rich), (3, rich)]


@pytest.mark.parametrize("n, kw", matrix(CONV_KW, "pair-pad-groups"), ids=str)
def test_conv_matches_lax(n, kw):
    kw = CONV_KW[kw]
    size = (6,) * n + (4,)
    layer = CONV[n](size, 6, 3, b_init=bs.nn.init.Constant(0.5), **kw)
    x = data(2, *size)
    expected = ref_conv(x, kernel(layer), n, **kw) + 0.5
    out = layer(x)
    assert_allclose(out, expected, rtol=1e-5, atol=1e-5)
    assert out.shape[1:] == layer.out_size


def test_conv1d_matches_a_direct_numpy_correlation():
    layer = bs.nn.Conv1d((7, 2), 3, 3, padding="VALID")
    w, x = kernel(layer), data(7, 2)
    expected = np.stack([np.einsum("ki,kio->o", x[t:t + 3], w) for t in range(5)])
    assert_allclose(layer(x), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("padding", ["SAME", "VALID"])
def test_conv_lhs_dilation_equals_conv_of_the_zero_dilated_input(padding):
    layer = bs.nn.Conv2d((5, 4, 3), 2, 3, stride=2, padding=padding, lhs_dilation=(2, 3))
    x = data(5, 4, 3)
    dilated = np.zeros((9, 10, 3), np.float32)
    dilated[::2, ::3] = x
    expected = ref_conv(dilated[None], kernel(layer), 2, stride=2, padding=padding)[0]
    assert_allclose(layer(x), expected, rtol=1e-5, atol=1e-5)
    assert layer.out_size == expected.shape


def test_conv_per_axis_kernel_stride_and_padding():
    layer = bs.nn.Conv2d((7, 8, 3), 2, (3, 1), stride=(2, 1), padding=[(1, 1), (0, 2)])
    x = data(7, 8, 3)
    expected = jax.lax.conv_general_dilated(x[None], kernel(layer), (2, 1), [(1, 1), (0, 2)],
                                            dimension_numbers=SPEC[2])[0]
    assert_allclose(layer(x), expected, rtol=1e-5, atol=1e-5)


def test_conv_unbatched_equals_batched():
    layer = bs.nn.Conv2d((5, 5, 3), 4, 3)
    x = data(2, 5, 5, 3)
    assert_allclose(layer(x[1]), layer(x)[1], rtol=1e-5, atol=1e-5)


def test_conv_channel_first_matches_channel_last():
    layer = bs.nn.Conv2d((3, 6, 5), 4, 3, stride=2, channel_first=True, b_init=bs.nn.init.Constant(1.0))
    assert layer.out_size == (4, 3, 3)
    x = data(2, 3, 6, 5)
    expected = ref_conv(x.transpose(0, 2, 3, 1), kernel(layer), 2, stride=2) + 1.0
    assert_allclose(layer(x), np.asarray(expected).transpose(0, 3, 1, 2), rtol=1e-5, atol=1e-5)


def test_conv_w_mask_multiplies_the_kernel():
    mask = (RNG.random((3, 3, 2, 4)) > 0.5).astype(np.float32)
    layer = bs.nn.Conv2d((5, 5, 2), 4, 3, w_mask=mask)
    x = data(5, 5, 2)
    assert_allclose(layer(x), ref_conv(x[None], kernel(layer) * mask, 2)[0], rtol=1e-5, atol=1e-5)


def test_conv_gradient_reaches_kernel_and_bias():
    layer = bs.nn.Conv1d((6, 2), 3, 3, b_init=bs.nn.init.ZeroInit())
    x = data(6, 2)
    grads = bs.transform.grad(lambda: layer(x).sum(), grad_states=layer.states(bs.ParamState))()
    w_grad = jax.grad(lambda w: ref_conv(x[None], w, 1).sum())(kernel(layer))
    assert_allclose(grads[("weight",)]["weight"], w_grad, rtol=1e-5, atol=1e-5)
    assert_allclose(grads[("weight",)]["bias"], np.full((1, 3), 6.0), rtol=1e-5)  # stored as (1, C) in 1-d


# -- ConvTranspose ----------------------------------------------------------------------------------
@pytest.mark.parametrize("n, kw", matrix(CONV_T_KW, "groups"), ids=str)
def test_conv_transpose_matches_lax(n, kw):
    kw = CONV_T_KW[kw]
    size = (4,) * n + (4,)
    layer = CONV_T[n](size, 6, 3, b_init=bs.nn.init.Constant(-0.5), **kw)
    x = data(2, *size)
    expected = ref_conv_transpose(x, kernel(layer), n, **kw) - 0.5
    out = layer(x)
    assert_allclose(out, expected, rtol=1e-5, atol=1e-5)
    assert out.shape[1:] == layer.out_size


def test_conv_transpose_same_padding_multiplies_size_by_stride():
    assert bs.nn.ConvTranspose2d((5, 4, 3), 2, 3, stride=2).out_size == (10, 8, 2)
    assert bs.nn.ConvTranspose1d((5, 3), 2, 2, stride=3).out_size == (15, 2)


def test_conv_transpose_channel_first():
    layer = bs.nn.ConvTranspose1d((3, 5), 2, 3, stride=2, channel_first=True)
    x = data(3, 5)
    expected = ref_conv_transpose(x.T[None], kernel(layer), 1, stride=2)[0].T
    assert_allclose(layer(x), expected, rtol=1e-5, atol=1e-5)


# -- ScaledWSConv -----------------------------------------------------------------------------------
def np_ws(w, eps=1e-4):
    axes = tuple(range(w.ndim - 1))
    fan_in = np.prod(w.shape[:-1])
    return (w - w.mean(axes, keepdims=True)) / np.sqrt(np.maximum(w.var(axes, keepdims=True) * fan_in, eps))


@pytest.mark.parametrize("n", [1, 2, 3])
def test_scaled_ws_conv_matches_lax_with_standardized_kernel(n):
    size = (5,) * n + (4,)
    layer = WS[n](size, 6, 3, stride=2, groups=2)
    p = jax.tree.map(np.asarray, layer.weight.value)
    gain = p["gain"] * np.arange(1, 7, dtype=np.float32)  # a non-trivial gain
    layer.weight.value = dict(p, gain=gain)
    x = data(2, *size)
    expected = ref_conv(x, np_ws(p["weight"]) * gain, n, stride=2, groups=2)
    assert_allclose(layer(x), expected, rtol=1e-4, atol=1e-5)


def test_scaled_ws_conv_without_gain():
    layer = bs.nn.ScaledWSConv1d((6, 2), 3, 3, ws_gain=False)
    assert sorted(layer.weight.value) == ["weight"]
    x = data(6, 2)
    assert_allclose(layer(x), ref_conv(x[None], np_ws(kernel(layer)), 1)[0], rtol=1e-4, atol=1e-5)


# -- errors -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls, n", [(bs.nn.Conv2d, 2), (bs.nn.ConvTranspose1d, 1), (bs.nn.ScaledWSConv3d, 3)])
def test_wrong_input_dimensionality(cls, n):
    layer = cls((4,) * n + (2,), 3, 3)
    with pytest.raises(ValueError, match=rf"{cls.__name__} expects inputs with {n + 1} \(unbatched\) or "
                                         rf"{n + 2} \(batched\) dimensions, got shape \(5,\)"):
        layer(jnp.ones(5))


@pytest.mark.parametrize("channel_first, shape, where", [
    (False, (4, 4, 3), "last"), (True, (2, 3, 4, 4), "first"),
])
def test_wrong_channel_count(channel_first, shape, where):
    layer = bs.nn.Conv2d((2, 4, 4) if channel_first else (4, 4, 2), 3, 3, channel_first=channel_first, name="c")
    with pytest.raises(ValueError, match=rf"Conv2d\('c'\) expects 2 input channels on the {where}.*got 3"):
        layer(jnp.ones(shape))


@pytest.mark.parametrize("kw, match", [
    (dict(in_size=(4, 2)), r"Conv2d: in_size must have 3 entries \(\*spatial, channels\), got \(4, 2\)"),
    (dict(in_size=4), r"Conv2d: in_size must have 3 entries"),
    (dict(out_channels=0), "Conv2d: out_channels must be a positive int, got 0"),
    (dict(groups=3), r"Conv2d: groups=3 must divide both the input channels \(2\) and out_channels \(4\)"),
    (dict(kernel_size=(3, 3, 3)), r"Conv2d: kernel_size must be a positive int or a tuple of 2 positive ints"),
    (dict(stride=0), "Conv2d: stride must be a positive int"),
    (dict(lhs_dilation=(1, -1)), "Conv2d: lhs_dilation must be a positive int"),
    (dict(padding="FULL"), "Conv2d: padding must be 'SAME', 'VALID', an int or"),
    (dict(padding=[(1, 1)] * 3), r"Conv2d: padding must be 'SAME', 'VALID', a non-negative int, 2 ints \(one per spatial axis\), or one or 2 \(low, high\) pairs"),
    (dict(w_init=jnp.ones((3, 3, 2, 5))), r"Conv2d: w_init cannot give a value of shape \(3, 3, 2, 4\)"),
])
def test_constructor_errors(kw, match):
    args = dict(in_size=(6, 6, 2), out_channels=4, kernel_size=3)
    args.update(kw)
    with pytest.raises(ValueError, match=match):
        bs.nn.Conv2d(**args)


def test_kernel_shape_and_a_spatial_size_other_than_in_size_is_refused():
    conv = bs.nn.Conv2d(in_size=(8, 8, 3), out_channels=4, kernel_size=(3, 5))
    assert conv.kernel_shape == (3, 5, 3, 4)
    with pytest.raises(ValueError, match=r"was built for inputs of shape \(8, 8, 3\) .*got shape \(2, 9, 8, 3\)"):
        conv(jnp.ones((2, 9, 8, 3)))


def test_a_subclass_overriding_conv_op_replaces_the_convolution():
    class Doubled(bs.nn.Conv1d):
        def _conv_op(self, x, params):
            return 2.0 * super()._conv_op(x, params)

    plain = bs.nn.Conv1d(in_size=(6, 2), out_channels=3, kernel_size=3, w_init=jnp.ones((3, 2, 3)))
    doubled = Doubled(in_size=(6, 2), out_channels=3, kernel_size=3, w_init=jnp.ones((3, 2, 3)))
    x = jnp.arange(12.0).reshape(6, 2)
    assert_allclose(doubled(x), 2.0 * plain(x))


@pytest.mark.parametrize("n, padding, pads", [
    (1, (2, 1), [(2, 1)]),  # one spatial axis: (low, high)
    (2, (2, 1), [(2, 2), (1, 1)]),  # n ints: one symmetric amount per axis, as the reference
    (3, (1, 1, 1), [(1, 1)] * 3),
    (2, [(1, 0)], [(1, 0), (1, 0)]),  # one pair for every axis
])
def test_padding_spellings(n, padding, pads):
    layer = CONV[n]((5,) * n + (2,), 3, 3, padding=padding)
    assert layer.padding == tuple(pads)
    x = data(1, *(5,) * n, 2)
    assert_allclose(layer(x), ref_conv(x, kernel(layer), n, padding=[tuple(p) for p in pads]), rtol=1e-5, atol=1e-5)


def test_an_int_tuple_of_the_wrong_length_is_refused():
    with pytest.raises(ValueError, match=r"Conv3d.*: padding must be 'SAME', 'VALID', a non-negative int, 3 ints "
                                         r"\(one per spatial axis\), or one or 3 \(low, high\) pairs, got \(1, 2\)"):
        bs.nn.Conv3d((5, 5, 5, 2), 3, 3, padding=(1, 2))


@pytest.mark.parametrize("channel_first, shape", [(False, (1, 1, 4)), (True, (1, 4, 1, 1))])
def test_the_bias_is_stored_broadcastable_against_the_output_as_the_reference(channel_first, shape):
    size = (4, 6, 6) if channel_first else (6, 6, 4)
    conv = bs.nn.Conv2d(size, 4, 3, b_init=jnp.arange(4.0), channel_first=channel_first)
    assert conv.weight.value["bias"].shape == shape
    x = data(2, *size)
    want = ref_conv(jnp.moveaxis(x, 1, -1) if channel_first else x, jnp.asarray(kernel(conv)), 2) + jnp.arange(4.0)
    out = conv(x)
    assert_allclose(jnp.moveaxis(out, 1, -1) if channel_first else out, want, rtol=1e-5, atol=1e-5)
