"""Constraint transforms: round trips, ranges and log-determinants (hypothesis), units, errors."""

import brainunit as u
import hypothesis.extra.numpy as hnp
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from numpy.testing import assert_allclose

import brainstate as bs

nn = bs.nn
SETTINGS = settings(max_examples=25, deadline=None)


def arrays(lo, hi, size=None):
    shape = st.just((size,)) if size else st.integers(1, 4).map(lambda n: (n,))
    return hnp.arrays(np.float32, shape, elements=st.floats(float(np.float32(lo)), float(np.float32(hi)), width=32,
                                                                  allow_subnormal=False))


def increasing(y):
    return np.all(np.diff(y) > 0)


# name -> (transform, raw domain (lo, hi), fixed vector length or None, membership test of forward's range)
BIJECTIONS = {
    "IdentityT": (nn.IdentityT(), (-6, 6), None, np.isfinite),
    "AffineT": (nn.AffineT(2.0, 1.0), (-6, 6), None, np.isfinite),
    "AffineT-neg": (nn.AffineT(-0.5, 3.0), (-6, 6), None, np.isfinite),
    "SigmoidT": (nn.SigmoidT(-1.0, 2.0), (-6, 6), None, lambda y: (y > -1) & (y < 2)),
    "ScaledSigmoidT": (nn.ScaledSigmoidT(0.0, 1.0, beta=2.0), (-3, 3), None, lambda y: (y > 0) & (y < 1)),
    "TanhT": (nn.TanhT(0.0, 5.0), (-2.5, 2.5), None, lambda y: (y > 0) & (y < 5)),
    "SoftsignT": (nn.SoftsignT(-2.0, 2.0), (-6, 6), None, lambda y: (y > -2) & (y < 2)),
    "SoftplusT": (nn.SoftplusT(1.0), (-6, 6), None, lambda y: y > 1),
    "NegSoftplusT": (nn.NegSoftplusT(1.0), (-6, 6), None, lambda y: y < 1),
    "ExpT": (nn.ExpT(0.5), (-6, 6), None, lambda y: y > 0.5),
    "LogT": (nn.LogT(-1.0), (-6, 6), None, lambda y: y > -1),
    "PositiveT": (nn.PositiveT(), (-6, 6), None, lambda y: y > 0),
    "NegativeT": (nn.NegativeT(), (-6, 6), None, lambda y: y < 0),
    "PowerT": (nn.PowerT(0.5), (0.1, 10), None, lambda y: y > -2),
    "PowerT-log": (nn.PowerT(0.0), (0.1, 10), None, np.isfinite),
    "ChainT": (nn.ChainT(nn.SoftplusT(0.0), nn.AffineT(2.0, 1.0)), (-6, 6), None, lambda y: y > 1),
    "MaskedT": (nn.MaskedT(jnp.array([True, False, True, False]), nn.SoftplusT(0.0)), (-6, 6), 4,
                lambda y: y[::2] > 0),
    "OrderedT": (nn.OrderedT(), (-5, 5), None, increasing),
    "SimplexT": (nn.SimplexT(), (-4, 4), None,
                 lambda y: np.all(y > 0) and abs(float(np.sum(y)) - 1.0) < 1e-5),
}


def _jacobian_logdet(t, x):
    f = t.forward
    if isinstance(t, nn.SimplexT):
        f = lambda v: t.forward(v)[:-1]  # the last output is determined by the others
    return np.linalg.slogdet(np.asarray(jax.jacobian(f)(jnp.asarray(x)), np.float64))[1]


@pytest.mark.parametrize("name", sorted(BIJECTIONS))
def test_inverse_undoes_forward(name):
    t, (lo, hi), size, _ = BIJECTIONS[name]

    @SETTINGS
    @given(arrays(lo, hi, size))
    def check(x):
        assert_allclose(np.asarray(t.inverse(t.forward(x))), x, rtol=2e-3, atol=2e-3)

    check()


@pytest.mark.parametrize("name", sorted(BIJECTIONS))
def test_forward_lands_in_the_constrained_set(name):
    t, (lo, hi), size, member = BIJECTIONS[name]

    @SETTINGS
    @given(arrays(lo, hi, size))
    def check(x):
        assert np.all(member(np.asarray(t.forward(x))))

    check()


@pytest.mark.parametrize("name", sorted(BIJECTIONS))
def test_log_abs_det_jacobian_matches_autodiff(name):
    t, (lo, hi), size, _ = BIJECTIONS[name]

    @SETTINGS
    @given(arrays(lo, hi, size))
    def check(x):
        got = float(t.log_abs_det_jacobian(x, t.forward(x)))
        assert_allclose(got, _jacobian_logdet(t, x), rtol=1e-3, atol=1e-3)

    check()


@pytest.mark.parametrize("name", sorted(BIJECTIONS))
def test_log_abs_det_jacobian_is_per_row_over_the_last_axis(name):
    t, (lo, hi), size, _ = BIJECTIONS[name]
    n = size or 3
    x = np.linspace(lo * 0.5, hi * 0.5, 2 * n, dtype=np.float32).reshape(2, n)
    got = np.asarray(t.log_abs_det_jacobian(x, t.forward(x)))
    assert got.shape == (2,)
    assert_allclose(got, [_jacobian_logdet(t, row) for row in x], rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("name", [n for n, (t, _, size, _) in BIJECTIONS.items()
                                  if size is None and t._is_elementwise()])
def test_scalar_log_abs_det_jacobian_is_the_log_derivative(name):
    t, (lo, hi), _, _ = BIJECTIONS[name]
    x = jnp.float32((lo + hi) / 3)
    assert_allclose(float(t.log_abs_det_jacobian(x, t.forward(x))),
                    np.log(abs(float(jax.grad(lambda v: t.forward(v))(x)))), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", sorted(BIJECTIONS))
def test_forward_is_the_same_under_jit_and_vmap(name):
    t, (lo, hi), size, _ = BIJECTIONS[name]
    x = jnp.linspace(lo * 0.5, hi * 0.5, 2 * (size or 3)).reshape(2, -1)
    eager = np.asarray(t.forward(x))
    assert_allclose(np.asarray(jax.jit(t.forward)(x)), eager, rtol=1e-6, atol=1e-6)
    assert_allclose(np.asarray(jax.vmap(t.forward)(x)), eager, rtol=1e-6, atol=1e-6)


def test_call_is_forward():
    t = nn.SoftplusT(0.0)
    assert_allclose(np.asarray(t(jnp.array([0.5, -1.0]))), np.asarray(t.forward(jnp.array([0.5, -1.0]))))


# -- the projections ---------------------------------------------------------------------------
@SETTINGS
@given(arrays(-1, 1))
def test_clip_round_trips_inside_its_interval(x):
    t = nn.ClipT(-1.0, 1.0)
    assert_allclose(np.asarray(t.inverse(t.forward(x))), x)


@SETTINGS
@given(arrays(-10, 10))
def test_clip_and_relu_land_in_their_sets(x):
    y = np.asarray(nn.ClipT(-1.0, 1.0).forward(x))
    assert np.all((y >= -1) & (y <= 1))
    assert np.all(np.asarray(nn.ReluT(0.5).forward(x)) >= 0.5)


@SETTINGS
@given(arrays(0, 10))
def test_relu_round_trips_for_non_negative_values(x):
    t = nn.ReluT(0.5)
    assert_allclose(np.asarray(t.inverse(t.forward(x))), x, rtol=1e-6, atol=1e-6)


@SETTINGS
@given(arrays(-5, 5).filter(lambda x: np.linalg.norm(x) > 0.1))
def test_unit_vector_lands_on_the_sphere_and_inverse_is_a_right_inverse(x):
    t = nn.UnitVectorT()
    y = np.asarray(t.forward(x))
    assert_allclose(np.linalg.norm(y), 1.0, rtol=1e-5)
    assert_allclose(np.asarray(t.forward(t.inverse(y))), y, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("t", [nn.ClipT(0.0, 1.0), nn.ReluT(), nn.UnitVectorT()], ids=repr)
def test_projections_have_no_log_det(t):
    with pytest.raises(NotImplementedError, match="only bijections have one"):
        t.log_abs_det_jacobian(jnp.ones(2), jnp.ones(2))


# -- units -------------------------------------------------------------------------------------
def test_softplus_with_a_unit_returns_quantities_and_inverts_them():
    t = nn.SoftplusT(0.0 * u.mV)
    y = t.forward(jnp.array([0.0, 1.0]))
    assert u.get_unit(y) == u.mV
    assert_allclose(np.asarray(y.to_decimal(u.mV)), np.log1p(np.exp([0.0, 1.0])), rtol=1e-6)
    # A value in another unit of the same dimension is converted.
    assert_allclose(np.asarray(t.inverse(y.in_unit(u.volt))), [0.0, 1.0], atol=1e-5)


def test_sigmoid_with_units_maps_into_the_interval():
    t = nn.SigmoidT(1.0 * u.ms, 10.0 * u.ms)
    y = t.forward(jnp.zeros(()))
    assert_allclose(float(y.to_decimal(u.ms)), 5.5)
    assert_allclose(float(t.inverse(5.5 * u.ms)), 0.0, atol=1e-6)
    assert_allclose(float(t.width.to_decimal(u.ms)), 9.0)


def test_clip_and_affine_with_units():
    assert_allclose(float(nn.ClipT(1.0 * u.ms, 3.0 * u.ms).forward(5.0 * u.ms).to_decimal(u.ms)), 3.0)
    t = nn.AffineT(2.0, 1.0 * u.ms)
    assert_allclose(float(t.forward(2.0 * u.ms).to_decimal(u.ms)), 5.0)
    assert_allclose(float(t.inverse(5.0 * u.ms).to_decimal(u.ms)), 2.0)


def test_masked_transform_with_a_unit_keeps_the_unit():
    t = nn.MaskedT(jnp.array([True, False]), nn.SoftplusT(0.0 * u.mV))
    y = t.forward(jnp.array([0.0, -3.0]))
    assert u.get_unit(y) == u.mV
    assert_allclose(np.asarray(t.inverse(y)), [0.0, -3.0], atol=1e-6)


def test_masked_transform_gives_finite_gradients_where_masked_out():
    # The masked-out raw value -50 would overflow nothing, but an out-of-domain safe value would.
    t = nn.MaskedT(jnp.array([True, False]), nn.PositiveT())
    g = jax.grad(lambda x: jnp.sum(t.forward(x)))(jnp.array([0.0, -50.0]))
    assert_allclose(np.asarray(g), [1.0, 1.0])


# -- repr and errors ---------------------------------------------------------------------------
@pytest.mark.parametrize("t, text", [
    (nn.SoftplusT(0.0), "SoftplusT(lower=0.0)"),
    (nn.NegSoftplusT(1.0), "NegSoftplusT(upper=1.0)"),
    (nn.SigmoidT(0.0, 1.0), "SigmoidT(lower=0.0, upper=1.0)"),
    (nn.ScaledSigmoidT(0.0, 1.0, 2.0), "ScaledSigmoidT(lower=0.0, upper=1.0, beta=2.0)"),
    (nn.PositiveT(), "PositiveT()"),
    (nn.ChainT(nn.ExpT(0.0), nn.AffineT(2.0, 1.0)), "ChainT(ExpT(lower=0.0), AffineT(scale=2.0, shift=1.0))"),
])
def test_repr(t, text):
    assert repr(t) == text


def test_neg_softplus_is_a_softplus_transform():
    assert isinstance(nn.NegSoftplusT(0.0), nn.SoftplusT)
    t = nn.NegSoftplusT(2.5)
    assert t.upper == t.lower == 2.5  # the bound also under the reference's inherited name
    assert not isinstance(nn.LogT(0.0), nn.ExpT)


@pytest.mark.parametrize("build, error, match", [
    (lambda: nn.AffineT(0.0, 1.0), ValueError, "scale must be non-zero"),
    (lambda: nn.AffineT(jnp.array([1.0, 0.0]), 1.0), ValueError, "scale must be non-zero"),
    (lambda: nn.SigmoidT(2.0, 1.0), ValueError, "lower must be below upper"),
    (lambda: nn.TanhT(1.0, 1.0), ValueError, "lower must be below upper"),
    (lambda: nn.ClipT(jnp.array([0.0, 2.0]), 1.0), ValueError, "lower must be below upper"),
    (lambda: nn.SigmoidT(0.0, 1.0 * u.mV), ValueError, "upper carries the unit mV"),
    (lambda: nn.ScaledSigmoidT(0.0, 1.0, beta=-1.0), ValueError, "beta must be a positive finite"),
    (lambda: nn.ScaledSigmoidT(0.0, 1.0, beta=float("inf")), ValueError, "beta must be a positive finite"),
    (lambda: nn.PowerT(float("nan")), ValueError, "lmbda must be a finite number"),
    (lambda: nn.ChainT(nn.ExpT(0.0), 3), TypeError, "argument 1 must be a Transform"),
    (lambda: nn.MaskedT(jnp.ones(2, bool), "softplus"), TypeError, "transform must be a Transform"),
])
def test_invalid_construction_raises(build, error, match):
    with pytest.raises(error, match=match):
        build()


@pytest.mark.parametrize("call, error, match", [
    (lambda: nn.MaskedT(jnp.ones(3, bool), nn.SimplexT()).log_abs_det_jacobian(jnp.ones(3), None),
     NotImplementedError, "needs an element-wise inner transform"),
    (lambda: nn.OrderedT().forward(1.0), ValueError, "must have a non-empty last axis"),
    (lambda: nn.SimplexT().inverse(jnp.zeros((2, 0))), ValueError, "must have a non-empty last axis"),
    (lambda: nn.SoftplusT(0.0).forward(1.0 * u.mV), ValueError, "should be dimensionless"),
    (lambda: nn.SoftplusT(0.0 * u.mV).inverse(2.0), ValueError, "is a plain number"),
])
def test_invalid_use_raises(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize("x", [[4.0] * 4, [6.0] * 6, [4.0, -4.0, 4.0, 4.0]])
def test_simplex_inverse_stays_accurate_when_the_stick_gets_short(x):
    # the last pieces are ~1e-7 of the stick: a `1 - cumsum` remainder would lose them to rounding
    t = nn.SimplexT()
    x = np.asarray(x, np.float32)
    assert_allclose(np.asarray(t.inverse(t.forward(x))), x, rtol=1e-4, atol=1e-4)
