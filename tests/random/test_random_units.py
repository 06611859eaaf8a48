"""Physical units (brainunit Quantities) in and out of the draws, as in the reference release.

A location, scale, bound or population given as a Quantity gives samples in its unit, whose
values are those of the unit-less draw with the same key; parameters sharing the unit are
converted to the first one's, a plain number beside a Quantity is taken in its unit, other
dimensions raise; pure-number parameters take only dimensionless Quantities.
"""

import re
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import brainstate
from brainstate.random import _module_draws

u = pytest.importorskip("brainunit")

R = brainstate.random
KEY = 7  # every draw here samples from this key, so two calls see the same random numbers
mV, ms, second, volt, mA = u.mV, u.ms, u.second, u.volt, u.mA
ARANGE = jnp.arange(5.0)
MEAN, COV = jnp.array([0.0, 1.0]), jnp.array([[1.0, 0.5], [0.5, 2.0]])

# name -> (arguments with units, the same arguments without units, the samples' unit).
# `truncated_normal(lower, upper, size, loc, scale)` takes its size third.
UNIT_DRAWS = {
    "normal": ((1.0 * mV, 0.5 * mV), (1.0, 0.5), mV),
    "uniform": ((0.0 * ms, 1.0 * ms), (0.0, 1.0), ms),
    "exponential": ((2.0 * ms,), (2.0,), ms),
    "truncated_normal": ((-1.0 * mV, 2.0 * mV, 4, 0.5 * mV, 1.5 * mV), (-1.0, 2.0, 4, 0.5, 1.5),
                         mV),
    "gumbel": ((1.0 * mV, 2.0 * mV), (1.0, 2.0), mV),
    "laplace": ((1.0 * mV, 2.0 * mV), (1.0, 2.0), mV),
    "logistic": ((1.0 * mV, 2.0 * mV), (1.0, 2.0), mV),
    "rayleigh": ((2.0 * mV,), (2.0,), mV),
    "triangular": ((0.0 * mV, 0.3 * mV, 1.0 * mV), (0.0, 0.3, 1.0), mV),
    "gamma": ((2.0, 3.0 * ms), (2.0, 3.0), ms),
    "wald": ((1.0 * mV, 2.0 * mV), (1.0, 2.0), mV),
    "weibull_min": ((1.5, 2.0 * mV), (1.5, 2.0), mV),
    "multivariate_normal": ((MEAN * mV, COV * mV ** 2, 3), (MEAN, COV, 3), mV),
    "choice": ((ARANGE * mV, 3), (ARANGE, 3), mV),
    "permutation": ((ARANGE * mV,), (ARANGE,), mV),
    "shuffle": ((ARANGE * mV,), (ARANGE,), mV),
}
# The draws above whose `size` follows their parameters: called with size=4.
SIZED = {"normal", "uniform", "exponential", "gumbel", "laplace", "logistic", "rayleigh",
         "triangular", "gamma", "wald", "weibull_min"}

# name -> (arguments, index of the one given a unit here, its name): pure-number parameters.
PLAIN_DRAWS = {
    "randint": ((0, 10), 1, "high"),
    "random_integers": ((1, 5), 1, "high"),
    "randint_like": ((jnp.zeros(3), 0, 5), 2, "high"),
    "bernoulli": ((0.5,), 0, "p"),
    "binomial": ((10, 0.5), 0, "n"),
    "poisson": ((3.0,), 0, "lam"),
    "geometric": ((0.5,), 0, "p"),
    "negative_binomial": ((5, 0.5), 1, "p"),
    "hypergeometric": ((5, 5, 4), 2, "nsample"),
    "logseries": ((0.5,), 0, "p"),
    "zipf": ((2.0,), 0, "a"),
    "beta": ((2.0, 3.0), 1, "b"),
    "standard_gamma": ((2.0,), 0, "shape"),
    "chisquare": ((3.0,), 0, "df"),
    "noncentral_chisquare": ((3.0, 1.0), 1, "nonc"),
    "f": ((3.0, 5.0), 0, "dfnum"),
    "noncentral_f": ((3.0, 5.0, 1.0), 2, "nonc"),
    "standard_t": ((3.0,), 0, "df"),
    "t": ((3.0,), 0, "df"),
    "loggamma": ((2.0,), 0, "a"),
    "pareto": ((2.0,), 0, "a"),
    "power": ((2.0,), 0, "a"),
    "weibull": ((2.0,), 0, "a"),
    "lognormal": ((0.0, 1.0), 0, "mean"),
    "vonmises": ((0.5, 2.0), 0, "mu"),
    "dirichlet": ((jnp.array([1.0, 2.0, 3.0]),), 0, "alpha"),
    "multinomial": ((10, jnp.array([0.2, 0.3, 0.5])), 1, "pvals"),
    "categorical": ((jnp.array([0.1, 0.2, 0.7]),), 0, "logits"),
}
# Draws without distribution parameters (at most an input whose shape they take).
NO_PARAM_DRAWS = {"rand", "randn", "random", "random_sample", "ranf", "sample", "standard_normal",
                  "standard_cauchy", "standard_exponential", "maxwell", "orthogonal", "rand_like",
                  "randn_like"}


def _draw(name, args, target=None):
    """`name(*args)` from the fixed key, on `target` (a fresh stream by default)."""
    target = R.RandomState(0) if target is None else target
    size = {"size": 4} if name in SIZED else {}
    return getattr(target, name)(*args, key=KEY, **size)


def _is_quantity(x):
    return isinstance(x, u.Quantity)


def _values(x):
    return np.asarray(x.mantissa if _is_quantity(x) else x)


def test_every_draw_says_whether_it_takes_units():
    """A new draw fails here until it is listed as unit-bearing, pure-number or parameterless."""
    assert set(UNIT_DRAWS) | set(PLAIN_DRAWS) | NO_PARAM_DRAWS == set(_module_draws.__all__)


@pytest.mark.parametrize("name", sorted(UNIT_DRAWS))
def test_samples_carry_the_unit_and_the_unit_less_values(name):
    with_units, plain, unit = UNIT_DRAWS[name]
    out = _draw(name, with_units)
    assert _is_quantity(out) and out.unit == unit
    expected = _draw(name, plain)
    assert not _is_quantity(expected)
    np.testing.assert_array_equal(_values(out), _values(expected))


@pytest.mark.parametrize("name", sorted(UNIT_DRAWS))
def test_module_level_draws_carry_units(name):
    with_units, plain, unit = UNIT_DRAWS[name]
    out = _draw(name, with_units, target=R)
    assert _is_quantity(out) and out.unit == unit
    np.testing.assert_array_equal(_values(out), _values(_draw(name, plain, target=R)))


def test_the_reported_call_draws_from_the_default_stream():
    R.seed(3)
    out = R.normal(1.0 * mV, 0.5 * mV, size=2)
    R.seed(3)
    np.testing.assert_array_equal(_values(out), _values(R.normal(1.0, 0.5, size=2)))


@pytest.mark.parametrize("name, with_units, plain", [
    ("normal", (1.0 * mV, 0.5), (1.0, 0.5)),
    ("normal", (1.0, 0.5 * mV), (1.0, 0.5)),
    ("uniform", (0.0, 1.0 * ms), (0.0, 1.0)),
    ("uniform", (2.0 * ms, 5.0), (2.0, 5.0)),
    ("uniform", ([0.0, 1.0, 2.0, 3.0], 5.0 * ms), ([0.0, 1.0, 2.0, 3.0], 5.0)),
    ("laplace", (1.0, 2.0 * mV), (1.0, 2.0)),
    ("wald", (1.0 * mV, 2.0), (1.0, 2.0)),
    ("triangular", (0.0, 0.3 * mV, 1.0), (0.0, 0.3, 1.0)),
    ("truncated_normal", (-1.0, 2.0 * mV, 4, 0.5, 1.5), (-1.0, 2.0, 4, 0.5, 1.5)),
])
def test_a_plain_number_beside_a_quantity_is_taken_in_its_unit(name, with_units, plain):
    out = _draw(name, with_units)
    assert out.unit == UNIT_DRAWS[name][2]
    np.testing.assert_array_equal(_values(out), _values(_draw(name, plain)))


@pytest.mark.parametrize("name, with_units, plain, unit", [
    ("normal", (0.0 * ms, 1.0 * second), (0.0, 1000.0), ms),
    ("normal", (1.0 * second, 5.0 * ms), (1.0, 0.005), second),
    ("uniform", (0.0 * ms, 1.0 * second), (0.0, 1000.0), ms),
    ("gumbel", (1.0 * volt, 500.0 * mV), (1.0, 0.5), volt),
    ("wald", (1.0 * ms, 0.002 * second), (1.0, 2.0), ms),
    ("triangular", (0.0 * second, 300.0 * ms, 1.0 * second), (0.0, 0.3, 1.0), second),
    ("truncated_normal", (-1.0, 2.0 * second, 4, 500.0 * ms, 1.5), (-1.0, 2.0, 4, 0.5, 1.5),
     second),
    ("multivariate_normal", (MEAN * mV, COV * volt ** 2, 3), (MEAN, COV * 1e6, 3), mV),
    ("choice", ([1.0 * second, 20.0 * ms], 3), (jnp.array([1000.0, 20.0]), 3), second),
])
def test_compatible_units_are_converted_to_the_first(name, with_units, plain, unit):
    out = _draw(name, with_units)
    assert out.unit == unit
    if name == "choice":  # the population [1 s, 20 ms] is in s: [1, 0.02]
        np.testing.assert_allclose(_values(out) * 1000, _values(_draw(name, plain)), rtol=1e-6)
    else:
        np.testing.assert_allclose(_values(out), _values(_draw(name, plain)), rtol=1e-5)


@pytest.mark.parametrize("name, args, message", [
    ("normal", (1.0 * mV, 1.0 * ms),
     "normal: `scale` is in ms, which cannot be converted to mV, the unit of `loc`"),
    ("uniform", (0.0 * ms, 1.0 * mV),
     "uniform: `high` is in mV, which cannot be converted to ms, the unit of `low`"),
    ("laplace", (1.0 * mA, 1.0 * mV), "laplace: `scale` is in mV, which cannot be converted to mA"),
    ("wald", (1.0 * mV, 2.0 * mA),
     "wald: `scale` is in mA, which cannot be converted to mV, the unit of `mean`"),
    ("triangular", (0.0 * mV, 0.3 * ms, 1.0 * mV),
     "triangular: `mode` is in ms, which cannot be converted to mV, the unit of `left`"),
    ("truncated_normal", (-1.0, 2.0 * mV, None, 0.5 * ms, 1.0),
     "truncated_normal: `loc` is in ms, which cannot be converted to mV, the unit of `upper`"),
    ("normal", (u.Quantity(1.0), 0.5 * mV),
     "normal: `loc` is dimensionless, which cannot be converted to mV, the unit of `scale`"),
])
def test_incompatible_units_raise_naming_both_parameters(name, args, message):
    rng = R.RandomState(0)
    before = rng.value
    with pytest.raises(u.UnitMismatchError, match=message):
        getattr(rng, name)(*args)
    assert rng.value is before  # a rejected call does not advance the stream


# The patterns are regexes, where "^" is an anchor: they stop short of "mV^2".
@pytest.mark.parametrize("mean, cov, message", [
    (MEAN * mV, COV, "multivariate_normal: `mean` is in mV, so `cov` must be a Quantity in "),
    (MEAN, COV * mV ** 2,
     " but `mean` has no unit. The samples take the unit of `mean`, and `cov` must be in its "),
    (MEAN * mV, COV * mV, "multivariate_normal: `cov` is in mV, which cannot be converted to "),
    (MEAN * mV, COV * mA ** 2, r", the square of the unit of `mean` \(mV\)"),
])
def test_multivariate_normal_cov_must_be_in_the_square_of_the_mean_unit(mean, cov, message):
    with pytest.raises(u.UnitMismatchError, match=message):
        R.RandomState(0).multivariate_normal(mean, cov)


def _with_unit(args, index, unit):
    args = list(args)
    args[index] = args[index] * unit if unit is not None else u.Quantity(args[index])
    return tuple(args)


@pytest.mark.parametrize("name", sorted(PLAIN_DRAWS))
def test_pure_number_parameters_reject_units(name):
    args, index, param = PLAIN_DRAWS[name]
    message = re.escape(f"{name}: `{param}` must be dimensionless, got a Quantity in mV")
    with pytest.raises(ValueError, match=message):
        getattr(R.RandomState(0), name)(*_with_unit(args, index, mV))


@pytest.mark.parametrize("name, args, param", [
    ("gamma", (2.0 * ms, 1.0), "shape"),
    ("weibull_min", (2.0 * ms,), "a"),
    ("choice", (ARANGE, 2, True, jnp.full(5, 0.2) * mV), "p"),
])
def test_pure_number_parameters_of_unit_draws_reject_units(name, args, param):
    with pytest.raises(ValueError, match=re.escape(f"{name}: `{param}` must be dimensionless")):
        getattr(R.RandomState(0), name)(*args)


@pytest.mark.parametrize("name", sorted(PLAIN_DRAWS))
def test_pure_number_parameters_take_dimensionless_quantities(name):
    args, index, _ = PLAIN_DRAWS[name]
    out = getattr(R.RandomState(0), name)(*_with_unit(args, index, None), key=KEY)
    assert not _is_quantity(out)
    expected = getattr(R.RandomState(0), name)(*args, key=KEY)
    np.testing.assert_array_equal(_values(out), _values(expected))


@pytest.mark.parametrize("name, with_units, plain", [
    ("normal", (0.0 * u.radian, 1.0 * u.radian), (0.0, 1.0)),
    ("uniform", (u.Quantity(0.0), u.Quantity(2.0)), (0.0, 2.0)),
    ("exponential", (2.0 * mV / volt,), (0.002,)),
    ("vonmises", (90.0 * u.degree, 4.0), (np.pi / 2, 4.0)),  # an angle in degrees, in radians
])
def test_dimensionless_quantities_give_plain_arrays(name, with_units, plain):
    out = getattr(R.RandomState(0), name)(*with_units, size=4, key=KEY)
    assert not _is_quantity(out)
    expected = getattr(R.RandomState(0), name)(*plain, size=4, key=KEY)
    np.testing.assert_allclose(_values(out), _values(expected), rtol=1e-6)


@pytest.mark.parametrize("name", ["normal", "uniform", "exponential", "gamma", "wald", "choice"])
def test_plain_parameters_give_plain_arrays(name):
    assert not _is_quantity(_draw(name, UNIT_DRAWS[name][1]))


def test_a_list_of_quantities_is_one_parameter():
    out = R.RandomState(0).uniform([0.0 * mV, 1.0 * mV], 2.0 * mV, key=KEY)
    assert out.unit == mV
    expected = R.RandomState(0).uniform([0.0, 1.0], 2.0, key=KEY)
    np.testing.assert_array_equal(_values(out), _values(expected))


@pytest.mark.parametrize("name, args", [("rand_like", ()), ("randn_like", ()),
                                        ("randint_like", (5,))])
def test_like_draws_take_only_the_shape_of_a_quantity_template(name, args):
    out = getattr(R.RandomState(0), name)(jnp.ones(3) * mV, *args, key=KEY)
    assert not _is_quantity(out)
    expected = getattr(R.RandomState(0), name)(jnp.ones(3), *args, key=KEY)
    np.testing.assert_array_equal(_values(out), _values(expected))


def test_units_under_jit_match_the_eager_draw():
    rng = R.RandomState(0)

    @brainstate.transform.jit
    def draw(scale, high):
        return rng.normal(0.0 * ms, scale, size=3), rng.uniform(0.0 * ms, high, size=3)

    rng.seed(1)
    normal, uniform = draw(1.0 * second, 2.0 * ms)
    assert normal.unit == ms and uniform.unit == ms
    rng.seed(1)
    np.testing.assert_allclose(_values(normal), _values(rng.normal(0.0, 1000.0, size=3)),
                               rtol=1e-6)
    np.testing.assert_array_equal(_values(uniform), _values(rng.uniform(0.0, 2.0, size=3)))


def test_a_jitted_draw_with_units_traces_once_and_advances_the_stream():
    rng = R.RandomState(0)
    traces = []

    @brainstate.transform.jit
    def draw(scale):
        traces.append(None)
        return rng.exponential(scale, size=2)

    a, b = draw(2.0 * ms), draw(3.0 * ms)
    assert len(traces) == 1
    assert a.unit == ms and b.unit == ms
    # Two different standard exponentials underneath: the key advanced between the calls.
    assert not np.allclose(_values(a) / 2, _values(b) / 3)


def test_incompatible_units_raise_under_jit():
    rng = R.RandomState(0)
    message = "normal: `scale` is in mA, which cannot be converted"
    with pytest.raises(u.UnitMismatchError, match=message):
        brainstate.transform.jit(lambda s: rng.normal(1.0 * mV, s, size=2))(1.0 * mA)


def test_units_under_vmap_match_each_lane():
    scales = jnp.array([1.0, 2.0, 3.0]) * mV
    keys = jax.random.split(jax.random.key(0), 3)
    out = jax.vmap(lambda s, k: R.RandomState(0).normal(0.0 * mV, s, key=k))(scales, keys)
    assert out.unit == mV
    for i in range(3):
        lane = R.RandomState(0).normal(0.0, float(i + 1), key=keys[i])
        np.testing.assert_allclose(float(out.mantissa[i]), float(lane), rtol=1e-6)


def test_random_works_without_brainunit():
    """brainunit is optional: with it unimportable, `brainstate.random` imports and draws."""
    code = (
        "import sys\n"
        "sys.modules['brainunit'] = sys.modules['saiunit'] = None  # `import brainunit` fails\n"
        "import brainstate\n"
        "x = brainstate.random.normal(1.0, 2.0, size=3)\n"
        "y = brainstate.random.choice([1.0, 2.0], size=2, p=[0.5, 0.5])\n"
        "print(type(x).__name__, x.shape, y.shape)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ArrayImpl (3,) (2,)"
