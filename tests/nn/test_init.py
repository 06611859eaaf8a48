"""brainstate.nn.init: statistics, shapes, dtypes, reproducibility, `param` and the helpers."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from numpy.testing import assert_allclose

import brainstate as bs
from brainstate.nn import init

TRUNC2_STD = 0.87962566103423978  # std of N(0, 1) truncated to [-2, 2]
SHAPE = (400, 250)  # one shape for most draws, so each sampler compiles once per test run


# -- statistics -----------------------------------------------------------------------------------
@pytest.mark.parametrize("initializer, std", [
    (init.Normal(mean=1.0, scale=0.5), 0.5),
    (init.TruncatedNormal(scale=1.0), TRUNC2_STD),
    (init.Uniform(-1.0, 3.0), 4.0 / math.sqrt(12)),
    (init.Gamma(4.0, scale=0.5), math.sqrt(4.0) * 0.5),
    (init.Exponential(2.0), 2.0),
], ids=lambda v: type(v).__name__ if isinstance(v, init.Initializer) else "")
def test_simple_distribution_std(initializer, std):
    bs.random.seed(0)
    x = np.asarray(initializer(SHAPE))
    assert abs(x.std() / std - 1) < 0.05


@pytest.mark.parametrize("initializer, variance", [
    (init.KaimingNormal(), 2.0 / 400),
    (init.KaimingUniform(), 2.0 / 400),
    (init.XavierNormal(), 1.0 / 325),
    (init.XavierUniform(), 1.0 / 325),
    (init.LecunNormal(), 1.0 / 400),
    (init.LecunUniform(), 1.0 / 400),
    (init.VarianceScaling(3.0, "fan_out", "normal"), 3.0 / 250),
    (init.VarianceScaling(1.0, "fan_geo_avg", "uniform"), 1.0 / math.sqrt(400 * 250)),
], ids=lambda v: repr(v) if isinstance(v, init.Initializer) else "")
def test_variance_scaling_std(initializer, variance):
    bs.random.seed(0)
    x = np.asarray(initializer(SHAPE))
    assert abs(x.std() / math.sqrt(variance) - 1) < 0.05
    assert abs(x.mean()) < 0.05 * math.sqrt(variance)


def test_variance_scaling_counts_receptive_field_in_fans():
    bs.random.seed(0)
    x = np.asarray(init.KaimingNormal(distribution="normal")((3, 3, 64, 128)))
    assert abs(x.std() / math.sqrt(2.0 / (9 * 64)) - 1) < 0.05


def test_truncated_normal_respects_absolute_bounds():
    x = np.asarray(init.TruncatedNormal(loc=1.0, scale=2.0, lower=0.0, upper=1.5)((10000,)))
    assert x.min() >= 0.0 and x.max() <= 1.5


def test_kaiming_normal_truncates_at_two_std():
    x = np.asarray(init.KaimingNormal()((100, 400)))
    limit = 2 * math.sqrt(2 / 100) / TRUNC2_STD
    assert np.abs(x).max() <= limit + 1e-6


# -- orthogonal -------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 4)])
def test_orthogonal_matrix_has_orthonormal_rows_or_columns(shape):
    w = np.asarray(init.Orthogonal(scale=2.0)(shape), dtype=np.float64) / 2.0
    gram = w.T @ w if shape[0] >= shape[1] else w @ w.T
    assert_allclose(gram, np.eye(min(shape)), atol=1e-5)


def test_orthogonal_flattens_other_axes_into_rows():
    w = np.asarray(init.Orthogonal()((2, 3, 4)), dtype=np.float64).reshape(6, 4)
    assert_allclose(w.T @ w, np.eye(4), atol=1e-5)


def test_orthogonal_axis_chooses_the_column_axis():
    w = np.asarray(init.Orthogonal(axis=0)((3, 6)), dtype=np.float64)  # 3 columns along axis 0
    assert_allclose(w @ w.T, np.eye(3), atol=1e-5)


def test_delta_orthogonal_is_orthogonal_at_the_centre_and_zero_elsewhere():
    w = np.asarray(init.DeltaOrthogonal()((3, 3, 4, 6)), dtype=np.float64)
    centre = w[1, 1]
    assert_allclose(centre @ centre.T, np.eye(4), atol=1e-5)
    w[1, 1] = 0
    assert not w.any()


def _sign_fixed_q(key, shape):
    """The Q factor of a standard normal draw, signs fixed so that R has a positive diagonal."""
    q, r = jnp.linalg.qr(jax.random.normal(key, shape, jnp.float32))
    return np.asarray(q * jnp.sign(jnp.diagonal(r)))


@pytest.mark.parametrize("shape, axis, layout", [
    ((4, 4), -1, lambda q: q.T), ((4, 4), 0, lambda q: q), ((6, 6), 1, lambda q: q.T),
    ((2, 4, 8), -1, lambda q: q.T.reshape(2, 4, 8)),  # 8 rows (2 * 4 flattened) and 8 columns: square
    ((5, 3), -1, lambda q: q), ((3, 5), -1, lambda q: q.T),
], ids=["square", "square-axis0", "square-axis1", "square-3d", "tall", "wide"])
def test_orthogonal_lays_out_the_drawn_matrix_as_the_reference(shape, axis, layout):
    # Regression: a square draw was not transposed, so a seed gave the transpose of the reference's
    # matrix. The normal draw is (longer side, shorter side); its first index runs along `axis`
    # unless `axis` is the shorter side.
    key = jax.random.PRNGKey(3)
    n_axis = shape[axis]
    n_rest = math.prod(shape) // n_axis
    q = _sign_fixed_q(key, (max(n_axis, n_rest), min(n_axis, n_rest)))
    assert_allclose(init.Orthogonal(axis=axis)(shape, key=key), layout(q), atol=1e-6)


@pytest.mark.parametrize("window", [(3,), (4,), (3, 4), (2, 2, 3)])
def test_delta_orthogonal_places_the_matrix_at_the_same_padding_centre(window):
    key = jax.random.PRNGKey(5)
    w = np.asarray(init.DeltaOrthogonal()(window + (3, 3), key=key))
    centre = tuple((k - 1) // 2 for k in window)
    assert_allclose(w[centre], init.Orthogonal()((3, 3), key=key), atol=1e-6)
    rest = w.copy()
    rest[centre] = 0
    assert not rest.any()


def test_delta_orthogonal_conv_with_an_even_window_is_an_orthogonal_map_at_each_position():
    # Regression: an even window put the matrix one tap late (k // 2), so a 'SAME' conv shifted its
    # input by one position.
    w = init.DeltaOrthogonal()((4, 4, 3, 5), key=jax.random.PRNGKey(0))
    x = jax.random.normal(jax.random.PRNGKey(1), (2, 6, 7, 3))
    y = jax.lax.conv_general_dilated(x, w, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))
    assert_allclose(y, x @ w[1, 1], rtol=1e-5, atol=1e-5)


# -- deterministic initializers ---------------------------------------------------------------------
def test_zero_constant_identity_values():
    assert_allclose(init.ZeroInit()((2, 3)), np.zeros((2, 3)))
    assert_allclose(init.Constant(np.array([1.0, 2.0]))((3, 2)), np.tile([1.0, 2.0], (3, 1)))
    assert_allclose(init.Identity(3.0)((2, 3)), 3.0 * np.eye(2, 3))
    assert_allclose(init.Identity()((2, 2, 2)), np.stack([np.eye(2)] * 2))


# -- shapes, dtypes, randomness sources -------------------------------------------------------------
ALL = [init.ZeroInit(), init.Constant(0.5), init.Identity(), init.Normal(), init.TruncatedNormal(),
       init.Uniform(), init.Gamma(2.0), init.Exponential(), init.KaimingNormal(), init.KaimingUniform(),
       init.XavierNormal(), init.XavierUniform(), init.LecunNormal(), init.LecunUniform(),
       init.VarianceScaling(1.0, "fan_in", "normal"), init.Orthogonal(), init.DeltaOrthogonal()]


@pytest.mark.parametrize("initializer", ALL, ids=lambda v: type(v).__name__)
def test_shape_and_default_dtype(initializer):
    shape = (3, 4, 5) if isinstance(initializer, init.DeltaOrthogonal) else SHAPE
    x = initializer(shape)
    assert x.shape == shape and x.dtype == jnp.float32


@pytest.mark.parametrize("initializer", [init.Constant(0.5), init.Normal(), init.KaimingUniform(), init.Orthogonal()],
                         ids=lambda v: type(v).__name__)
def test_requested_dtype(initializer):
    assert initializer((4, 5), dtype=jnp.float16).dtype == jnp.float16


def test_int_shape_gives_a_vector():
    assert init.Normal()(7).shape == (7,)
    assert init.KaimingNormal()(7).shape == (7,)


def test_default_stream_is_reproduced_by_seed():
    bs.random.seed(3)
    a = init.Normal()((5,))
    bs.random.seed(3)
    assert_allclose(init.Normal()((5,)), a)


def test_seed_gives_an_own_stream_that_advances():
    a, b = init.Uniform(seed=1), init.Uniform(seed=1)
    first = a((4,))
    assert_allclose(b((4,)), first)
    assert not np.allclose(a((4,)), first)


def test_key_draws_without_advancing_any_stream():
    key = jax.random.PRNGKey(5)
    before = bs.random.get_key_data()
    x = init.XavierNormal()((3, 3), key=key)
    assert_allclose(init.XavierNormal()((3, 3), key=key), x)
    assert_allclose(bs.random.get_key_data(), before)


def test_random_init_inside_jit():
    f = bs.transform.jit(lambda: init.KaimingUniform()((3, 4)))
    assert f().shape == (3, 4)


def test_repr_is_readable():
    assert repr(init.Normal(scale=0.1)) == "Normal(mean=0.0, scale=0.1)"
    assert repr(init.KaimingNormal()) == ("KaimingNormal(scale=2.0, mode='fan_in', distribution='truncated_normal', "
                                          "in_axis=-2, out_axis=-1)")
    assert repr(init.Constant(2.0)) == "Constant(value=2.0)"
    assert repr(init.Uniform(seed=3)) == "Uniform(min_val=0.0, max_val=1.0, seed=3)"


def test_unit_multiplies_the_result():
    import brainunit as u  # a test dependency; imported here so the module stays light
    x = init.Normal(unit=u.mV)((3,))
    assert isinstance(x, u.Quantity) and x.unit == u.mV
    assert isinstance(init.ZeroInit(unit=u.UNITLESS)((3,)), jax.Array)


# -- param and helpers ------------------------------------------------------------------------------
def test_param_calls_initializers_with_the_batched_shape():
    assert init.param(init.ZeroInit(), (3, 4)).shape == (3, 4)
    assert init.param(init.ZeroInit(), (3, 4), batch_size=2).shape == (2, 3, 4)
    assert init.param(lambda s: jnp.ones(s), 5).shape == (5,)


def test_param_keeps_none_and_scalars():
    assert init.param(None, 3) is None
    assert init.param(2.0, 3) == 2.0
    assert_allclose(init.param(2.0, (2, 2), allow_scalar=False), np.full((2, 2), 2.0))


def test_param_arrays_keep_their_shape_and_gain_a_batch_axis():
    assert init.param(jnp.ones(3), (4, 3)).shape == (3,)
    assert init.param(jnp.ones(3), (4, 3), batch_size=2).shape == (2, 1, 3)
    assert init.param(np.ones((4, 3)), (4, 3), batch_size=2).shape == (2, 4, 3)


def test_param_returns_a_state_unchanged():
    s = bs.State(jnp.ones(3))
    assert init.param(s, 3) is s


def test_to_size_and_broadcastable_shapes():
    assert init.to_size(3) == (3,) and init.to_size(np.int64(3)) == (3,)
    assert init.to_size([2, 3]) == (2, 3) and init.to_size(None) is None
    assert init.are_broadcastable_shapes((3, 1), (1, 4))
    assert not init.are_broadcastable_shapes((3,), (4,))


@pytest.mark.parametrize("name, param, gain", [
    ("linear", None, 1.0), ("conv2d", None, 1.0), ("sigmoid", None, 1.0), ("tanh", None, 5 / 3),
    ("relu", None, math.sqrt(2)), ("selu", None, 0.75), ("leaky_relu", None, math.sqrt(2 / (1 + 0.01 ** 2))),
    ("leaky_relu", 0.2, math.sqrt(2 / 1.04)),
])
def test_calculate_init_gain(name, param, gain):
    assert_allclose(init.calculate_init_gain(name, param), gain)


def test_module_reexports():
    assert init.jnp is jnp and init.np is np and init.math is math and init.random is bs.random
    assert init.environ is bs.environ and init.State is bs.State


# -- errors -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("build, match", [
    (lambda: init.Normal(scale=-1.0), "Normal: scale must be non-negative"),
    (lambda: init.TruncatedNormal(scale=0.0), "TruncatedNormal: scale must be positive"),
    (lambda: init.TruncatedNormal(lower=1.0, upper=0.0), "TruncatedNormal: lower must be below upper"),
    (lambda: init.Uniform(2.0, 1.0), "Uniform: min_val must not exceed max_val"),
    (lambda: init.Gamma(0.0), "Gamma: shape .* must be positive"),
    (lambda: init.Exponential(-1.0), "Exponential: scale must be positive"),
    (lambda: init.VarianceScaling(0.0, "fan_in", "normal"), "VarianceScaling: scale must be positive"),
    (lambda: init.KaimingNormal(mode="fan"), "KaimingNormal: mode must be one of"),
    (lambda: init.VarianceScaling(1.0, "fan_in", "cauchy"), "VarianceScaling: distribution must be one of"),
])
def test_constructor_errors(build, match):
    with pytest.raises(ValueError, match=match):
        build()


@pytest.mark.parametrize("call, match", [
    (lambda: init.KaimingNormal(in_axis=-4)((3, 4)), "in_axis=-4 / out_axis=-1 are out of range"),
    (lambda: init.Orthogonal()((3,)), "Orthogonal: needs a weight of at least 2 dimensions"),
    (lambda: init.DeltaOrthogonal()((3, 3)), "DeltaOrthogonal: needs a conv kernel"),
    (lambda: init.DeltaOrthogonal()((3, 3, 6, 4)), r"DeltaOrthogonal: needs in <= out channels.*in=6, out=4"),
    (lambda: init.Constant(np.ones(3))((2, 2)), r"Constant: its value of shape \(3,\) does not broadcast"),
    (lambda: init.Identity()((3,)), "Identity: needs a shape with at least 2 dimensions"),
    (lambda: init.param(None, 3, allow_none=False), r"param: got None .* \(allow_none=False\)"),
    (lambda: init.param(jnp.ones(2), (4, 3)), r"param: a value of shape \(2,\) does not fit .* \(4, 3\)"),
    (lambda: init.param(lambda s: jnp.ones(7), 3), r"param: a value of shape \(7,\) \(returned by"),
    (lambda: init.param(init.ZeroInit(), 3, batch_size=0), "param: batch_size must be a positive int"),
    (lambda: init.calculate_init_gain("swishy"), "unsupported nonlinearity 'swishy'"),
    (lambda: init.calculate_init_gain("leaky_relu", "x"), "negative slope\\) must be a number"),
])
def test_call_value_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("call, match", [
    (lambda: init.to_size("ab"), "to_size: a size must be an int"),
    (lambda: init.Normal()("ab"), "Normal: shape must be an int or a sequence of ints"),
    (lambda: init.Normal(seed="x"), "Normal: seed must be None, an int"),
    (lambda: init.param(object(), 3), "param: expected an initializer"),
])
def test_type_errors(call, match):
    with pytest.raises(TypeError, match=match):
        call()


def test_base_initializer_is_abstract():
    with pytest.raises(NotImplementedError, match="Initializer does not implement __call__"):
        init.Initializer()((2,))
