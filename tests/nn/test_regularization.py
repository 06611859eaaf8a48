"""Priors and penalties: losses against scipy.stats / closed forms, gradients, draws, errors."""

import math

import brainunit as u
import hypothesis.extra.numpy as hnp
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from numpy.testing import assert_allclose
from scipy import special, stats

import brainstate as bs

nn = bs.nn
SETTINGS = settings(max_examples=20, deadline=None)


def arrays(lo, hi):
    lo, hi = float(np.float32(lo)), float(np.float32(hi))
    return hnp.arrays(np.float32, st.integers(1, 5).map(lambda n: (n,)), elements=st.floats(lo, hi, width=32))


def huber(x, d):
    a = np.abs(x)
    return np.where(a <= d, 0.5 * x ** 2, d * (a - 0.5 * d))


def log_softmax(x):
    return x - special.logsumexp(x)


# name -> (regularization, support (lo, hi) of the test values, expected loss of a float64 array)
# Densities are checked against scipy.stats' negative log density, with the constant each class
# documents; penalties against their closed form.
CASES = {
    "L1Reg": (nn.L1Reg(0.7), (-5, 5),
              lambda x: -np.sum(stats.laplace.logpdf(x, scale=1 / 0.7)) - x.size * math.log(2 / 0.7)),
    "L2Reg": (nn.L2Reg(0.3), (-5, 5),
              lambda x: -np.sum(stats.norm.logpdf(x, scale=1 / math.sqrt(0.6)))
              - x.size * 0.5 * math.log(2 * math.pi / 0.6)),
    "ElasticNetReg": (nn.ElasticNetReg(0.5, 2.0, alpha=0.25), (-5, 5),
                      lambda x: 0.25 * 0.5 * np.sum(np.abs(x)) + 0.75 * 2.0 * np.sum(x ** 2)),
    "HuberReg": (nn.HuberReg(1.5, delta=0.8), (-5, 5), lambda x: 1.5 * np.sum(huber(x, 0.8))),
    "GroupLassoReg": (nn.GroupLassoReg(2.0, group_size=2), (-5, 5),
                      lambda x: 2.0 * np.sum(np.sqrt(np.sum(np.pad(x, (0, x.size % 2)).reshape(-1, 2) ** 2, 1)
                                                     + 1e-8))),
    "TotalVariationReg": (nn.TotalVariationReg(0.5), (-5, 5), lambda x: 0.5 * np.sum(np.abs(np.diff(x)))),
    "TotalVariationReg-2": (nn.TotalVariationReg(0.5, order=2), (-5, 5),
                            lambda x: 0.5 * np.sum(np.abs(np.diff(x, n=2)))),
    "MaxNormReg": (nn.MaxNormReg(2.0, max_value=1.5), (-5, 5),
                   lambda x: 2.0 * max(math.sqrt(np.sum(x ** 2) + 1e-8) - 1.5, 0.0) ** 2),
    "EntropyReg": (nn.EntropyReg(0.5), (-5, 5),
                   lambda x: 0.5 * np.sum(np.exp(log_softmax(x)) * log_softmax(x))),
    "EntropyReg-min": (nn.EntropyReg(0.5, maximize=False), (-5, 5),
                       lambda x: -0.5 * np.sum(np.exp(log_softmax(x)) * log_softmax(x))),
    "OrthogonalReg": (nn.OrthogonalReg(0.5), (-2, 2),
                      lambda x: 0.5 * np.sum((_matrix(x).T @ _matrix(x) - np.eye(_matrix(x).shape[1])) ** 2)),
    "SpectralNormReg": (nn.SpectralNormReg(2.0, max_value=1.0), (-5, 5),
                        lambda x: 2.0 * max(np.linalg.norm(x) - 1.0, 0.0) ** 2),
    "GaussianReg": (nn.GaussianReg(0.5, 2.0, weight=0.7), (-5, 5),
                    lambda x: 0.7 * (2 * -np.sum(stats.norm.logpdf(x, 0.5, 2.0)) - x.size * math.log(2 * math.pi))),
    "StudentTReg": (nn.StudentTReg(0.7, df=3.0, scale=1.5), (-5, 5),
                    lambda x: 0.7 * -np.sum(stats.t.logpdf(x, 3.0, scale=1.5))),
    "CauchyReg": (nn.CauchyReg(0.7, scale=1.5), (-5, 5),
                  lambda x: 0.7 * (-np.sum(stats.cauchy.logpdf(x, scale=1.5)) - x.size * math.log(math.pi))),
    "HorseshoeReg": (nn.HorseshoeReg(0.7, tau=0.5), (-5, 5),
                     lambda x: 0.7 * (-np.sum(stats.cauchy.logpdf(x, scale=0.5)) - x.size * math.log(math.pi))),
    "SpikeAndSlabReg": (nn.SpikeAndSlabReg(0.7, spike_scale=0.1, slab_scale=2.0, pi=0.3), (-5, 5),
                        lambda x: 0.7 * -np.sum(np.log(0.3 * stats.norm.pdf(x, 0, 0.1)
                                                       + 0.7 * stats.norm.pdf(x, 0, 2.0)))),
    "UniformReg": (nn.UniformReg(2.0, -1.0, 1.5), (-5, 5),
                   lambda x: 2.0 * np.sum(np.maximum(-1.0 - x, 0) ** 2 + np.maximum(x - 1.5, 0) ** 2)),
    "LogNormalReg": (nn.LogNormalReg(0.7, mu=0.3, sigma=0.8), (0.05, 10),
                     lambda x: 0.7 * (-np.sum(stats.lognorm.logpdf(x, 0.8, scale=math.exp(0.3)))
                                      - x.size * 0.5 * math.log(2 * math.pi))),
    "ExponentialReg": (nn.ExponentialReg(0.7, rate=2.0), (0, 10),
                       lambda x: 0.7 * -np.sum(stats.expon.logpdf(x, scale=0.5))),
    "GammaReg": (nn.GammaReg(0.7, alpha=2.5, beta=1.5), (0.05, 10),
                 lambda x: 0.7 * -np.sum(stats.gamma.logpdf(x, 2.5, scale=1 / 1.5))),
    "InverseGammaReg": (nn.InverseGammaReg(0.7, alpha=2.5, beta=1.5), (0.1, 10),
                        lambda x: 0.7 * -np.sum(stats.invgamma.logpdf(x, 2.5, scale=1.5))),
    "LogUniformReg": (nn.LogUniformReg(0.7, lower=0.01, upper=100.0), (0.011, 99),
                      lambda x: 0.7 * -np.sum(stats.loguniform.logpdf(x, 0.01, 100.0))),
    "BetaReg": (nn.BetaReg(0.7, a=2.5, b=1.5), (0.01, 0.99),
                lambda x: 0.7 * -np.sum(stats.beta.logpdf(x, 2.5, 1.5))),
    "DirichletReg": (nn.DirichletReg(0.7, alpha=2.5), (-3, 3),
                     lambda x: 0.7 * -stats.dirichlet.logpdf(np.exp(log_softmax(x)), np.full(x.size, 2.5))),
    "ChainedReg": (nn.ChainedReg(nn.L1Reg(0.5), nn.L2Reg(0.25), weight=2.0), (-5, 5),
                   lambda x: 2.0 * (0.5 * np.sum(np.abs(x)) + 0.25 * np.sum(x ** 2))),
}


def _matrix(x):
    n = math.isqrt(x.size)
    return x.reshape(n, n) if n * n == x.size else x.reshape(-1, 1)


@pytest.mark.parametrize("name", sorted(CASES))
def test_loss_matches_the_density_or_closed_form(name):
    reg, (lo, hi), expected = CASES[name]

    @SETTINGS
    @given(arrays(lo, hi))
    def check(x):
        got = float(reg.loss(jnp.asarray(x)))
        assert_allclose(got, expected(x.astype(np.float64)), rtol=2e-4, atol=2e-4)

    check()


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradient_is_finite_on_the_support(name):
    reg, (lo, hi), _ = CASES[name]
    x = jnp.linspace(lo + (hi - lo) * 0.1, hi - (hi - lo) * 0.1, 4)
    g = np.asarray(jax.grad(lambda v: reg.loss(v))(x))
    assert g.shape == (4,) and np.all(np.isfinite(g))


@pytest.mark.parametrize("name", sorted(CASES))
def test_loss_is_the_same_under_jit(name):
    reg, (lo, hi), _ = CASES[name]
    x = jnp.linspace(lo + (hi - lo) * 0.1, hi - (hi - lo) * 0.1, 4)
    assert_allclose(float(bs.transform.jit(reg.loss)(x)), float(reg.loss(x)), rtol=1e-6)


@pytest.mark.parametrize("name", sorted(CASES))
def test_sample_init_has_the_shape_and_lies_in_the_support(name):
    reg, (lo, hi), _ = CASES[name]
    bs.random.seed(0)
    sample = np.asarray(reg.sample_init((3, 4)))
    assert sample.shape == (3, 4) and np.all(np.isfinite(sample))
    if lo >= 0 and name not in ("ExponentialReg",):
        assert np.all(sample > 0)
    if name == "BetaReg":
        assert np.all(sample < 1)
    box = {"UniformReg": (-1.0, 1.5), "LogUniformReg": (0.01, 100.0)}.get(name)
    if box:
        assert np.all((sample >= box[0]) & (sample <= box[1]))


@pytest.mark.parametrize("reg, mean, std", [
    (nn.GaussianReg(1.5, 0.5), 1.5, 0.5),
    (nn.L2Reg(2.0), 0.0, 0.5),
    (nn.L1Reg(2.0), 0.0, math.sqrt(2) / 2.0),
    (nn.GammaReg(alpha=3.0, beta=2.0), 1.5, math.sqrt(3.0) / 2.0),
    (nn.ExponentialReg(rate=4.0), 0.25, 0.25),
    (nn.StudentTReg(df=5.0, scale=2.0), 0.0, 2.0 * math.sqrt(5.0 / 3.0)),
], ids=lambda v: type(v).__name__ if isinstance(v, nn.Regularization) else None)
def test_sample_init_draws_from_the_prior(reg, mean, std):
    bs.random.seed(1)
    s = np.asarray(reg.sample_init(40000), np.float64)
    assert_allclose(s.mean(), mean, atol=0.03 * std + 1e-3)
    assert_allclose(s.std(), std, rtol=0.05)


@pytest.mark.parametrize("reg, value", [
    (nn.GaussianReg(1.5, 0.5), 1.5),
    (nn.GammaReg(alpha=3.0, beta=2.0), 1.0),
    (nn.InverseGammaReg(alpha=3.0, beta=2.0), 0.5),
    (nn.BetaReg(a=3.0, b=2.0), 2.0 / 3.0),
    (nn.BetaReg(a=1.0, b=1.0), 0.5),
    (nn.LogUniformReg(lower=0.01, upper=100.0), 1.0),
    (nn.UniformReg(lower=-1.0, upper=3.0), 1.0),
    (nn.LogNormalReg(mu=0.5), math.exp(0.5)),
    (nn.L1Reg(), 0.0),
    (nn.ChainedReg(nn.GaussianReg(2.0, 1.0), nn.L1Reg()), 2.0),
    (nn.ChainedReg(), 0.0),
], ids=lambda v: type(v).__name__ if isinstance(v, nn.Regularization) else None)
def test_reset_value(reg, value):
    assert_allclose(float(np.asarray(reg.reset_value())), value, rtol=1e-5)


@pytest.mark.parametrize("shape", [(3, 4), (4, 3), (4,)])
def test_orthogonal_draws_are_orthonormal(shape):
    bs.random.seed(0)
    w = np.asarray(nn.OrthogonalReg().sample_init(shape), np.float64)
    assert w.shape == shape
    if len(shape) == 2:
        small = w.T @ w if shape[0] >= shape[1] else w @ w.T
        assert_allclose(small, np.eye(min(shape)), atol=1e-5)


def test_empty_chain_has_zero_loss_and_zero_draws():
    reg = nn.ChainedReg()
    assert float(reg.loss(jnp.ones(3))) == 0.0
    assert_allclose(np.asarray(reg.sample_init(2)), np.zeros(2))


# -- trainable hyperparameters -----------------------------------------------------------------
@pytest.mark.parametrize("reg, names", [
    (nn.GaussianReg(0.0, 1.0, fit_hyper=True), {("mean",), ("precision",)}),
    (nn.StudentTReg(fit_hyper=True), {("df",), ("scale",)}),
    (nn.ElasticNetReg(fit_hyper=True), {("alpha",)}),
    (nn.SpikeAndSlabReg(fit_hyper=True), {("spike_scale",), ("slab_scale",), ("pi",)}),
    (nn.LogUniformReg(fit_hyper=True), {("lower",), ("upper",)}),
    (nn.L2Reg(0.5, fit_hyper=True), set()),
    (nn.GaussianReg(0.0, 1.0), set()),
], ids=lambda v: type(v).__name__ if isinstance(v, nn.Regularization) else None)
def test_fit_hyper_makes_the_hyperparameters_param_states(reg, names):
    assert set(reg.states(bs.ParamState)) == names


def test_gaussian_precision_gradient_vanishes_at_its_maximum_likelihood():
    # d/dprec sum(prec (x - m)^2 - log prec) = S - n / prec: zero at prec = n / S. A normalizer
    # counted once instead of once per element would move this optimum.
    x = jnp.array([0.5, -1.0, 2.0, 0.3])
    reg = nn.GaussianReg(0.0, 1.0, fit_hyper=True)
    reg.precision.value = x.size / jnp.sum(x ** 2)
    g = bs.transform.grad(lambda: reg.loss(x), grad_states=reg.precision)()
    assert_allclose(float(g), 0.0, atol=1e-5)


def test_exponential_rate_gradient_vanishes_at_its_maximum_likelihood():
    x = jnp.array([0.5, 1.0, 2.0])
    reg = nn.ExponentialReg(rate=1.0, fit_hyper=True)
    reg.rate.value = x.size / jnp.sum(x)
    g = bs.transform.grad(lambda: reg.loss(x), grad_states=reg.rate)()
    assert_allclose(float(g), 0.0, atol=1e-5)


@pytest.mark.parametrize("reg", [nn.GammaReg(fit_hyper=True), nn.BetaReg(fit_hyper=True),
                                 nn.DirichletReg(alpha=2.0, fit_hyper=True), nn.HorseshoeReg(fit_hyper=True),
                                 nn.InverseGammaReg(fit_hyper=True), nn.LogNormalReg(fit_hyper=True)],
                         ids=lambda r: type(r).__name__)
def test_hyperparameter_gradients_are_finite(reg):
    params = reg.states(bs.ParamState)
    grads = bs.transform.grad(lambda: reg.loss(jnp.array([0.2, 0.5, 0.7])), grad_states=params)()
    assert set(grads) == set(params)
    assert all(np.isfinite(float(g)) for g in grads.values())


# -- units -------------------------------------------------------------------------------------
def test_gaussian_with_units_measures_the_value_in_its_unit():
    plain = nn.GaussianReg(-65.0, 5.0)
    with_units = nn.GaussianReg(-65.0 * u.mV, 5.0 * u.mV)
    assert_allclose(float(with_units.loss(jnp.array([-60.0, -70.0]) * u.mV)),
                    float(plain.loss(jnp.array([-60.0, -70.0]))), rtol=1e-6)
    assert_allclose(float(with_units.loss(jnp.array([-0.060]) * u.volt)), float(plain.loss(jnp.array([-60.0]))),
                    rtol=1e-4)
    assert u.get_unit(with_units.reset_value()) == u.mV


def test_penalties_on_a_quantity_use_its_mantissa_and_return_plain_numbers():
    loss = nn.L2Reg(0.5).loss(jnp.array([1.0, 2.0]) * u.mV)
    assert not isinstance(loss, u.Quantity)
    assert_allclose(float(loss), 2.5)


# -- errors ------------------------------------------------------------------------------------
@pytest.mark.parametrize("build, error, match", [
    (lambda: nn.L1Reg(fit_hyper=1), TypeError, "fit_hyper must be True or False"),
    (lambda: nn.L1Reg(-1.0), ValueError, "L1Reg: weight must be a finite number >= 0"),
    (lambda: nn.L2Reg(float("nan")), ValueError, "L2Reg: weight must be a finite number >= 0"),
    (lambda: nn.ElasticNetReg(l1_weight=-1.0), ValueError, "l1_weight must be"),
    (lambda: nn.ElasticNetReg(alpha=2.0), ValueError, r"alpha must be in \[0, 1\]"),
    (lambda: nn.HuberReg(delta=0.0), ValueError, "delta must be > 0"),
    (lambda: nn.GroupLassoReg(group_size=1.5), TypeError, "group_size must be an int"),
    (lambda: nn.GroupLassoReg(group_size=0), ValueError, "group_size must be a positive integer"),
    (lambda: nn.TotalVariationReg(order=3), ValueError, "order must be 1"),
    (lambda: nn.MaxNormReg(max_value=0.0), ValueError, "max_value must be > 0"),
    (lambda: nn.SpectralNormReg(n_power_iterations=0), ValueError, "n_power_iterations must be a positive"),
    (lambda: nn.SpectralNormReg(n_power_iterations="2"), TypeError, "n_power_iterations must be an int"),
    (lambda: nn.EntropyReg(maximize="yes"), TypeError, "maximize must be True or False"),
    (lambda: nn.GaussianReg(0.0, 0.0), ValueError, "std must be > 0"),
    (lambda: nn.GaussianReg(0.0 * u.mV, 1.0), ValueError, "std is a plain number"),
    (lambda: nn.StudentTReg(df=0.0), ValueError, "df must be > 0"),
    (lambda: nn.StudentTReg(scale=-1.0), ValueError, "scale must be > 0"),
    (lambda: nn.CauchyReg(scale=0.0), ValueError, "scale must be > 0"),
    (lambda: nn.HorseshoeReg(tau=0.0), ValueError, "tau must be > 0"),
    (lambda: nn.SpikeAndSlabReg(pi=1.0), ValueError, r"pi must be in \(0, 1\)"),
    (lambda: nn.SpikeAndSlabReg(spike_scale=0.0), ValueError, "spike_scale must be > 0"),
    (lambda: nn.UniformReg(lower=1.0, upper=0.0), ValueError, "lower must be below upper"),
    (lambda: nn.LogNormalReg(sigma=0.0), ValueError, "sigma must be > 0"),
    (lambda: nn.ExponentialReg(rate=0.0), ValueError, "rate must be > 0"),
    (lambda: nn.GammaReg(alpha=0.0), ValueError, "alpha must be > 0"),
    (lambda: nn.InverseGammaReg(beta=-1.0), ValueError, "beta must be > 0"),
    (lambda: nn.LogUniformReg(lower=0.0), ValueError, "lower must be > 0"),
    (lambda: nn.LogUniformReg(lower=10.0, upper=1.0), ValueError, "lower must be below upper"),
    (lambda: nn.BetaReg(a=0.0), ValueError, "a must be > 0"),
    (lambda: nn.DirichletReg(alpha=-1.0), ValueError, "alpha must be > 0"),
    (lambda: nn.ChainedReg(nn.L1Reg(), 3), TypeError, "term 1 must be a Regularization"),
])
def test_invalid_construction_raises(build, error, match):
    with pytest.raises(error, match=match):
        build()


@pytest.mark.parametrize("method, args", [("loss", (jnp.ones(2),)), ("sample_init", ((2,),)),
                                          ("reset_value", ())])
def test_base_class_methods_must_be_overridden(method, args):
    with pytest.raises(NotImplementedError, match=f"does not define {method}"):
        getattr(nn.Regularization(), method)(*args)


def test_subclass_defines_a_custom_prior():
    class Quartic(nn.Regularization):
        def loss(self, value):
            return jnp.sum(value ** 4)

        def sample_init(self, shape):
            return jnp.zeros(shape)

        def reset_value(self):
            return 0.0

    p = nn.Param(jnp.array([1.0, 2.0]), reg=Quartic())
    assert_allclose(float(p.reg_loss()), 17.0)
