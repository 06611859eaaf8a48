"""Dropout layers: keep probability, scaling, mask layouts, `fit` handling and errors."""

import math

import jax.numpy as jnp
import numpy as np
import pytest
from numpy.testing import assert_allclose

import brainstate as bs
from brainstate import nn

SATURATION = -1.6732632423543772 * 1.0507009873554805


def alpha_coefficients(q):
    a = 1.0 / math.sqrt(q + SATURATION ** 2 * q * (1 - q))
    return a, -a * SATURATION * (1 - q)


def fit(layer, x, mode=True):
    with bs.environ.context(fit=mode):
        return np.asarray(layer(x))


def test_dropout_prob_is_the_keep_probability_and_kept_values_are_scaled():
    bs.random.seed(1)
    x = np.full(20000, 3.0, np.float32)
    y = fit(nn.Dropout(0.8), x)
    kept = y != 0
    assert abs(kept.mean() - 0.8) < 0.02
    assert_allclose(y[kept], 3.0 / 0.8, rtol=1e-6)


@pytest.mark.parametrize("layer, shape", [
    (nn.Dropout(0.5), (4, 3)), (nn.Dropout1d(0.5), (4, 3)), (nn.Dropout2d(0.5), (2, 4, 3)),
    (nn.Dropout3d(0.5), (2, 2, 2, 3)), (nn.AlphaDropout(0.5), (4, 3)), (nn.FeatureAlphaDropout(0.5), (4, 3)),
])
def test_every_dropout_is_the_identity_when_not_fitting(layer, shape):
    x = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    assert_allclose(fit(layer, x, mode=False), x)


def test_dropout_fixed_is_the_identity_when_not_fitting():
    layer = nn.DropoutFixed(3, prob=0.5)
    layer.init_state()
    assert_allclose(fit(layer, np.ones(3), mode=False), np.ones(3))


def test_missing_fit_raises_environ_keyerror():
    with pytest.raises(KeyError, match="'fit'.*Dropout drops elements only while fitting"):
        nn.Dropout(0.5)(jnp.ones(3))


@pytest.mark.parametrize("cls", [nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout,
                                 nn.FeatureAlphaDropout])
@pytest.mark.parametrize("prob", [-0.1, 1.5, "0.5"])
def test_prob_outside_unit_interval_is_an_error(cls, prob):
    with pytest.raises(ValueError, match=f"{cls.__name__}: prob is the probability of keeping"):
        cls(prob)


def test_dropout_fixed_prob_outside_unit_interval_is_an_error():
    with pytest.raises(ValueError, match="DropoutFixed: prob is the probability of keeping"):
        nn.DropoutFixed(3, prob=2.0)


def test_prob_zero_drops_everything_and_prob_one_keeps_everything():
    x = np.arange(1.0, 5.0, dtype=np.float32)
    assert_allclose(fit(nn.Dropout(0.0), x), np.zeros(4))
    assert_allclose(fit(nn.Dropout(1.0), x), x)


def test_same_seed_gives_same_mask():
    x = np.ones(50, np.float32)
    bs.random.seed(7)
    a = fit(nn.Dropout(0.5), x)
    bs.random.seed(7)
    b = fit(nn.Dropout(0.5), x)
    assert_allclose(a, b)


def test_dropout_under_jit_draws_a_new_mask_each_call():
    layer = nn.Dropout(0.5)
    f = bs.transform.jit(lambda v: layer(v))
    with bs.environ.context(fit=True):
        a, b = np.asarray(f(jnp.ones(64))), np.asarray(f(jnp.ones(64)))
    assert set(np.unique(a)) <= {0.0, 2.0}
    assert (a != b).any()


def test_broadcast_dims_share_the_mask():
    y = fit(nn.Dropout(0.5, broadcast_dims=(0,)), np.ones((5, 40), np.float32))
    assert (y == y[:1]).all()
    assert (y[0] == 0).any() and (y[0] != 0).any()


def test_broadcast_dim_out_of_range_is_an_error():
    with bs.environ.context(fit=True), pytest.raises(
            ValueError, match=r"Dropout: broadcast_dims=\(3,\) has axis 3, out of range for an input of shape "
                              r"\(2, 2\)"):
        nn.Dropout(0.5, broadcast_dims=3)(jnp.ones((2, 2)))


def test_broadcast_dims_must_be_ints():
    with pytest.raises(TypeError, match="Dropout: broadcast_dims must be a sequence of int axes"):
        nn.Dropout(0.5, broadcast_dims=(0.5,))


@pytest.mark.parametrize("layer, shape, spatial", [
    (nn.Dropout1d(0.5), (4, 6, 30), (1,)), (nn.Dropout1d(0.5), (6, 30), (0,)),
    (nn.Dropout2d(0.5), (4, 3, 3, 30), (1, 2)), (nn.Dropout3d(0.5), (2, 2, 2, 30), (0, 1, 2)),
])
def test_channel_dropout_shares_one_draw_over_spatial_axes(layer, shape, spatial):
    y = fit(layer, np.ones(shape, np.float32))
    first = y[tuple(slice(0, 1) if a in spatial else slice(None) for a in range(len(shape)))]
    assert (y == first).all()
    assert set(np.unique(y)) == {0.0, 2.0}


def test_channel_dropout_channel_axis_counts_within_a_sample():
    y = fit(nn.Dropout1d(0.5, channel_axis=0), np.ones((3, 40, 5), np.float32))
    assert (y == y[:, :, :1]).all()  # one draw per (sample, channel=axis 1 of the batch)
    assert (y[0, :, 0] == 0).any() and (y[0, :, 0] != 0).any()


def test_channel_dropout_wrong_rank_is_an_error():
    with bs.environ.context(fit=True), pytest.raises(ValueError, match=r"Dropout2d expects inputs with 3 \(unbatched\) or 4"):
        nn.Dropout2d(0.5)(jnp.ones((5, 4)))


def test_channel_axis_out_of_range_is_an_error():
    with pytest.raises(ValueError, match=r"Dropout1d: channel_axis=2 is out of range for samples with 2 dimensions "
                                         r"\(spatial axes and one channel axis\)"):
        nn.Dropout1d(0.5, channel_axis=2)


def test_channel_axis_out_of_range_of_the_input_is_an_error():
    # FeatureAlphaDropout takes any number of dimensions, so its axis is checked against the input.
    with bs.environ.context(fit=True), pytest.raises(
            ValueError, match=r"FeatureAlphaDropout: channel_axis=3 is out of range for an input of shape \(2, 3\)"):
        nn.FeatureAlphaDropout(0.5, channel_axis=3)(jnp.ones((2, 3)))


def test_channel_axis_must_be_an_int():
    with pytest.raises(TypeError, match="Dropout2d: channel_axis must be an int"):
        nn.Dropout2d(0.5, channel_axis=None)


def test_alpha_dropout_maps_kept_and_dropped_values():
    q = 0.8
    a, b = alpha_coefficients(q)
    x = np.linspace(-1, 1, 400, dtype=np.float32)
    y = fit(nn.AlphaDropout(q), x)
    dropped = np.isclose(y, a * SATURATION + b, atol=1e-6)
    assert 0 < dropped.sum() < 400
    assert_allclose(y[~dropped], a * x[~dropped] + b, rtol=1e-5, atol=1e-6)


def test_alpha_dropout_keeps_zero_mean_unit_variance():
    bs.random.seed(3)
    y = fit(nn.AlphaDropout(0.7), np.asarray(bs.random.normal(size=(50000,))))
    assert abs(y.mean()) < 0.03 and abs(y.std() - 1.0) < 0.03


def test_alpha_dropout_prob_zero_is_an_error():
    with pytest.raises(ValueError, match="AlphaDropout: prob=0 keeps nothing"):
        nn.AlphaDropout(0.0)


def test_feature_alpha_dropout_prob_zero_is_an_error():
    with pytest.raises(ValueError, match="FeatureAlphaDropout: prob=0 keeps nothing"):
        nn.FeatureAlphaDropout(0.0)


def test_feature_alpha_dropout_drops_whole_channels_per_batch_entry():
    a, b = alpha_coefficients(0.5)
    y = fit(nn.FeatureAlphaDropout(0.5), np.zeros((4, 5, 30), np.float32))
    assert (y == y[:, :1]).all()
    assert_allclose(np.unique(np.round(y, 5)), np.round([a * SATURATION + b, b], 5))


def test_feature_alpha_dropout_channel_axis_out_of_range_is_an_error():
    with bs.environ.context(fit=True), pytest.raises(ValueError, match="FeatureAlphaDropout: channel_axis=3 is out of range"):
        nn.FeatureAlphaDropout(0.5, channel_axis=3)(jnp.ones((2, 3)))


def test_dropout_fixed_reuses_its_mask_until_init_state():
    layer = nn.DropoutFixed(40, prob=0.5)
    layer.init_state()
    assert isinstance(layer.mask, bs.ShortTermState)
    x = np.ones(40, np.float32)
    first, second = fit(layer, x), fit(layer, x)
    assert_allclose(first, second)
    assert_allclose(first, np.where(np.asarray(layer.mask.value), 2.0, 0.0))
    layer.reset_state()
    assert_allclose(fit(layer, x), first)


def test_dropout_fixed_batched_mask():
    layer = nn.DropoutFixed(5, prob=0.5)
    layer.init_state(batch_size=3)
    assert layer.mask.value.shape == (3, 5)
    assert fit(layer, np.ones((3, 5), np.float32)).shape == (3, 5)


def test_dropout_fixed_needs_its_shape_when_built():
    # Without in_size the mask used to be drawn as a scalar and the first call failed obscurely.
    with pytest.raises(ValueError, match="DropoutFixed needs a fixed in_size, but its in_size is None"):
        nn.DropoutFixed(None)


def test_dropout_fixed_before_init_state_is_an_error():
    with bs.environ.context(fit=True), pytest.raises(RuntimeError, match=r"DropoutFixed has no mask yet: call `layer.init_state\(\)`"):
        nn.DropoutFixed(5)(jnp.ones(5))


def test_dropout_fixed_wrong_shape_is_an_error():
    layer = nn.DropoutFixed(5, name="drop")
    layer.init_state()
    with bs.environ.context(fit=True), pytest.raises(ValueError, match=r"DropoutFixed\('drop'\) expects inputs of shape \(5,\)"):
        layer(jnp.ones(4))


@pytest.mark.parametrize("make, shape", [
    (lambda: nn.Dropout(0.6), (4, 5, 3)), (lambda: nn.Dropout(0.6, broadcast_dims=(0,)), (4, 5, 3)),
    (lambda: nn.Dropout1d(0.6), (4, 5, 3)), (lambda: nn.Dropout2d(0.6), (2, 4, 5, 3)),
    (lambda: nn.Dropout3d(0.6), (2, 2, 4, 5, 3)),
], ids=["Dropout", "Dropout-broadcast", "Dropout1d", "Dropout2d", "Dropout3d"])
def test_dropout_keeps_the_unit_of_a_quantity(make, shape):
    # Regression: a brainunit Quantity raised TypeError; it keeps its unit and gets the same mask.
    import brainunit as u  # a test dependency; imported here so the module stays light

    layer = make()
    x = np.arange(1, np.prod(shape) + 1, dtype=np.float32).reshape(shape)
    bs.random.seed(4)
    plain = fit(layer, x)
    bs.random.seed(4)
    with bs.environ.context(fit=True):
        y = layer(x * u.mV)
    assert isinstance(y, u.Quantity) and y.unit == u.mV
    assert_allclose(y.mantissa, plain)
    kept = plain != 0
    assert 0 < kept.sum() < kept.size
    assert_allclose(plain[kept], x[kept] / 0.6, rtol=1e-6)
    with bs.environ.context(fit=False):
        assert_allclose(layer(x * u.mV).to_decimal(u.mV), x)


def test_dropout_fixed_keeps_the_unit_of_a_quantity():
    import brainunit as u

    layer = nn.DropoutFixed((5, 3), prob=0.5)
    layer.init_state()
    x = np.arange(1, 16, dtype=np.float32).reshape(5, 3)
    with bs.environ.context(fit=True):
        y = layer(x * u.mV)
    assert y.unit == u.mV
    assert_allclose(y.mantissa, np.where(np.asarray(layer.mask.value), 2 * x, 0.0))
    with bs.environ.context(fit=False):
        assert_allclose(layer(x * u.mV).to_decimal(u.mV), x)


@pytest.mark.parametrize("layer", [nn.AlphaDropout(0.5), nn.FeatureAlphaDropout(0.5)], ids=lambda m: type(m).__name__)
def test_alpha_dropouts_take_only_unitless_inputs(layer):
    import brainunit as u

    # SELU's saturation value has no unit; brainunit refuses to strip mV.
    with bs.environ.context(fit=True), pytest.raises(TypeError, match="dimensionless"):
        layer(jnp.ones((4, 3)) * u.mV)
