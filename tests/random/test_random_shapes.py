"""Output shapes, dtypes and supports of every draw."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import brainstate
import brainstate.random as br

# name -> draw(size=..., **kw): every scalar-output draw, with valid parameters.
FLOAT_DRAWS = {
    "random": lambda **kw: br.random(**kw),
    "random_sample": lambda **kw: br.random_sample(**kw),
    "ranf": lambda **kw: br.ranf(**kw),
    "sample": lambda **kw: br.sample(**kw),
    "uniform": lambda **kw: br.uniform(-1.0, 2.0, **kw),
    "normal": lambda **kw: br.normal(1.0, 2.0, **kw),
    "standard_normal": lambda **kw: br.standard_normal(**kw),
    "truncated_normal": lambda **kw: br.truncated_normal(-1.0, 1.0, **kw),
    "lognormal": lambda **kw: br.lognormal(0.0, 1.0, **kw),
    "exponential": lambda **kw: br.exponential(2.0, **kw),
    "standard_exponential": lambda **kw: br.standard_exponential(**kw),
    "standard_cauchy": lambda **kw: br.standard_cauchy(**kw),
    "gumbel": lambda **kw: br.gumbel(0.0, 1.0, **kw),
    "laplace": lambda **kw: br.laplace(0.0, 1.0, **kw),
    "logistic": lambda **kw: br.logistic(0.0, 1.0, **kw),
    "rayleigh": lambda **kw: br.rayleigh(1.0, **kw),
    "maxwell": lambda **kw: br.maxwell(**kw),
    "triangular": lambda **kw: br.triangular(0.0, 0.3, 1.0, **kw),
    "vonmises": lambda **kw: br.vonmises(0.0, 1.0, **kw),
    "gamma": lambda **kw: br.gamma(2.0, 1.0, **kw),
    "standard_gamma": lambda **kw: br.standard_gamma(2.0, **kw),
    "beta": lambda **kw: br.beta(2.0, 3.0, **kw),
    "chisquare": lambda **kw: br.chisquare(3.0, **kw),
    "noncentral_chisquare": lambda **kw: br.noncentral_chisquare(3.0, 1.0, **kw),
    "f": lambda **kw: br.f(3.0, 5.0, **kw),
    "noncentral_f": lambda **kw: br.noncentral_f(3.0, 5.0, 1.0, **kw),
    "t": lambda **kw: br.t(4.0, **kw),
    "standard_t": lambda **kw: br.standard_t(4.0, **kw),
    "loggamma": lambda **kw: br.loggamma(2.0, **kw),
    "pareto": lambda **kw: br.pareto(3.0, **kw),
    "power": lambda **kw: br.power(2.0, **kw),
    "wald": lambda **kw: br.wald(1.0, 1.0, **kw),
    "weibull": lambda **kw: br.weibull(2.0, **kw),
    "weibull_min": lambda **kw: br.weibull_min(2.0, 1.0, **kw),
}
INT_DRAWS = {
    "randint": lambda **kw: br.randint(0, 10, **kw),
    "random_integers": lambda **kw: br.random_integers(1, 10, **kw),
    "binomial": lambda **kw: br.binomial(10, 0.5, **kw),
    "poisson": lambda **kw: br.poisson(2.0, **kw),
    "geometric": lambda **kw: br.geometric(0.5, **kw),
    "negative_binomial": lambda **kw: br.negative_binomial(3, 0.5, **kw),
    "hypergeometric": lambda **kw: br.hypergeometric(5, 5, 4, **kw),
    "logseries": lambda **kw: br.logseries(0.5, **kw),
    "zipf": lambda **kw: br.zipf(3.0, **kw),
}
OTHER_DRAWS = {
    "bernoulli": lambda **kw: br.bernoulli(0.5, **kw),
    "choice": lambda **kw: br.choice(10, **kw),
}


def spec(draw, *args, **kwargs):
    """Shape and dtype of a draw, traced with an explicit key but not compiled (fast)."""
    return jax.eval_shape(lambda k: draw(*args, key=k, **kwargs), jax.random.PRNGKey(0))


ALL_DRAWS = {**FLOAT_DRAWS, **INT_DRAWS, **OTHER_DRAWS}


@pytest.mark.parametrize("name", sorted(ALL_DRAWS))
def test_size_sets_the_shape(name):
    for size, shape in [(None, ()), (4, (4,)), ((2, 3), (2, 3))]:
        assert spec(ALL_DRAWS[name], size=size).shape == shape


@pytest.mark.parametrize("size,shape", [([2, 3], (2, 3)), (np.int64(3), (3,)), ((), ()), (0, (0,)),
                                        ((np.int32(2), 1), (2, 1))])
def test_every_size_form(size, shape):
    assert spec(br.normal, size=size).shape == shape
    assert spec(br.randint, 5, size=size).shape == shape


@pytest.mark.parametrize("name", sorted(FLOAT_DRAWS))
def test_float_draws_default_to_environ_dftype(name):
    assert spec(FLOAT_DRAWS[name], size=3).dtype == jnp.float32
    with brainstate.environ.context(precision=64):
        assert spec(FLOAT_DRAWS[name], size=3).dtype == jnp.float64


@pytest.mark.parametrize("name", sorted(FLOAT_DRAWS))
def test_float_draws_honour_dtype(name):
    assert spec(FLOAT_DRAWS[name], size=3, dtype=jnp.float16).dtype == jnp.float16
    with brainstate.environ.context(precision=64):
        assert spec(FLOAT_DRAWS[name], size=3, dtype=jnp.float32).dtype == jnp.float32


@pytest.mark.parametrize("name", sorted(INT_DRAWS))
def test_int_draws_default_to_environ_ditype_and_honour_dtype(name):
    assert spec(INT_DRAWS[name], size=3).dtype == jnp.int32
    assert spec(INT_DRAWS[name], size=3, dtype=jnp.int16).dtype == jnp.int16
    with brainstate.environ.context(precision=64):
        assert spec(INT_DRAWS[name], size=3).dtype == jnp.int64


def test_other_draw_dtypes():
    assert spec(br.bernoulli, 0.3, size=2).dtype == jnp.bool_
    assert jnp.issubdtype(spec(br.choice, 5, size=2).dtype, jnp.integer)
    assert spec(br.choice, jnp.ones(5, jnp.float16), size=2).dtype == jnp.float16
    assert jnp.issubdtype(spec(br.categorical, jnp.zeros(3)).dtype, jnp.integer)
    assert spec(br.multinomial, 5, [0.5, 0.5]).dtype == jnp.int32
    assert spec(br.multinomial, 5, [0.5, 0.5], dtype=jnp.int8).dtype == jnp.int8
    for draw, args in [(br.multivariate_normal, (jnp.zeros(2), jnp.eye(2))), (br.dirichlet, ([1.0, 1.0],)),
                       (br.orthogonal, (2,))]:
        assert spec(draw, *args).dtype == jnp.float32
        assert spec(draw, *args, dtype=jnp.float16).dtype == jnp.float16


def test_rand_and_randn_take_dimensions():
    assert spec(br.rand).shape == () and spec(br.rand, 2, 3).shape == (2, 3)
    assert spec(br.randn, 4).shape == (4,)
    assert spec(br.randn, 2, 3, dtype=jnp.float16).dtype == jnp.float16
    assert br.rand(2, 3).shape == (2, 3) and br.randn(2, 3).shape == (2, 3)


def test_like_functions_copy_shape_and_float_dtype():
    x = jnp.zeros((2, 3), jnp.float16)
    assert spec(br.rand_like, x).shape == (2, 3) and spec(br.rand_like, x).dtype == jnp.float16
    assert spec(br.randn_like, x).dtype == jnp.float16
    assert spec(br.randn_like, jnp.zeros(3, jnp.int32)).dtype == jnp.float32
    assert spec(br.randint_like, jnp.zeros(4, jnp.int16), 5).dtype == jnp.int16
    assert spec(br.randint_like, jnp.zeros(4), 5).dtype == jnp.float32  # the template's dtype, as torch
    assert spec(br.randint_like, jnp.zeros(4, bool), 5).dtype == jnp.int32
    assert spec(br.randint_like, jnp.zeros(4, jnp.int16), 5, dtype=jnp.float16).dtype == jnp.float16
    assert spec(br.rand_like, x, dtype=jnp.float32).dtype == jnp.float32


def test_randint_like_on_a_float_template_draws_whole_numbers_in_range():
    x = br.randint_like(jnp.zeros(1000), 2, 7)
    values = np.asarray(x)
    assert x.dtype == jnp.float32 and np.all(values == np.round(values))
    assert set(values.tolist()) == {2.0, 3.0, 4.0, 5.0, 6.0}
    with pytest.raises(TypeError, match="randint_like: `dtype` must be an integer or floating-point dtype"):
        br.randint_like(jnp.zeros(3), 5, dtype=jnp.complex64)


def test_method_and_module_argument_orders_follow_the_reference():
    rs = br.RandomState(0)
    # the method: (low, high, size, dtype, key); the module function: (low, high, size, key, dtype)
    assert rs.randint(0, 10, (3,), jnp.int16).dtype == jnp.int16
    a = br.randint(0, 10, (3,), 7, jnp.int16)
    assert a.dtype == jnp.int16 and a.tolist() == br.randint(0, 10, (3,), key=7, dtype=jnp.int16).tolist()
    # the methods of the `*_like` family take dtype (and key) by position, the functions by name only
    assert rs.rand_like(jnp.zeros(3), jnp.float16).dtype == jnp.float16
    assert rs.randn_like(jnp.zeros(3), jnp.float16, 3).tolist() == rs.randn_like(jnp.zeros(3), jnp.float16, key=3).tolist()
    assert rs.randint_like(jnp.zeros(3), 0, 5, jnp.int8).dtype == jnp.int8
    with pytest.raises(TypeError, match="positional argument"):
        br.rand_like(jnp.zeros(3), jnp.float16)


def test_multinomial_shape_is_the_batch_then_the_outcomes():
    counts = br.multinomial(10, jnp.array([0.2, 0.3, 0.5]), size=2)
    assert counts.shape == (2, 3) and counts.sum(axis=-1).tolist() == [10, 10]
    one = br.multinomial(10, [0.2, 0.3, 0.5])
    assert one.shape == (3,) and int(one.sum()) == 10
    rows = br.multinomial(jnp.array([5, 10]), jnp.array([[0.2, 0.8], [0.5, 0.5]]))
    assert rows.shape == (2, 2) and rows.sum(axis=-1).tolist() == [5, 10]


def test_normal_keeps_a_complex_mean_and_draws_complex_noise_for_a_complex_dtype():
    x = br.normal(1 + 1j, size=1000)
    assert jnp.iscomplexobj(x) and np.allclose(np.asarray(x.imag), 1.0)  # real noise around 1 + 1j
    z = br.normal(size=20000, dtype=jnp.complex64)
    assert z.dtype == jnp.complex64
    assert abs(float(jnp.var(z.real)) - 0.5) < 0.05 and abs(float(jnp.var(z.imag)) - 0.5) < 0.05


def test_choice_samples_strings_eagerly_and_says_why_not_under_jit():
    rs = br.RandomState(0)
    out = rs.choice(["a", "b", "c"], size=5)
    assert isinstance(out, np.ndarray) and out.shape == (5,) and set(out.tolist()) <= {"a", "b", "c"}
    with pytest.raises(TypeError, match="choice: `a` holds str.* values, which a compiled function cannot carry"):
        brainstate.transform.jit(lambda: rs.choice(["a", "b"], size=2))()


def test_parameters_broadcast_when_size_is_none():
    assert spec(br.normal, jnp.zeros((3, 1)), jnp.ones(4)).shape == (3, 4)
    assert spec(br.uniform, [0.0, 1.0], 2.0).shape == (2,)
    assert spec(br.gamma, jnp.ones((2, 1)), jnp.ones(3)).shape == (2, 3)
    assert spec(br.poisson, jnp.ones(5)).shape == (5,)
    assert spec(br.randint, jnp.zeros(3, int), 5).shape == (3,)
    assert spec(br.hypergeometric, np.full(4, 3), 3, 2).shape == (4,)
    assert spec(br.vonmises, jnp.zeros((2, 1)), jnp.ones(3)).shape == (2, 3)


def test_parameters_broadcast_to_size():
    assert spec(br.normal, jnp.zeros(3), 1.0, size=(2, 3)).shape == (2, 3)
    assert spec(br.zipf, jnp.full(3, 2.0), size=(4, 3)).shape == (4, 3)


def test_array_parameters_apply_elementwise():
    x = br.normal(jnp.array([0.0, 1000.0]), 1.0, size=(500, 2))
    assert_allclose(np.asarray(x).mean(0), [0.0, 1000.0], atol=0.3)


def test_vector_draw_shapes():
    assert spec(br.multivariate_normal, jnp.zeros(3), jnp.eye(3)).shape == (3,)
    assert spec(br.multivariate_normal, jnp.zeros(3), jnp.eye(3), size=(4, 5)).shape == (4, 5, 3)
    assert spec(br.dirichlet, [1.0, 1.0]).shape == (2,)
    assert spec(br.dirichlet, jnp.ones(3), size=4).shape == (4, 3)
    assert spec(br.multinomial, 5, [0.5, 0.5]).shape == (2,)
    assert spec(br.multinomial, 5, [0.2, 0.3, 0.5], size=(2, 4)).shape == (2, 4, 3)
    assert spec(br.multinomial, 5, jnp.full((2, 3), 1 / 3)).shape == (2, 3)
    assert spec(br.orthogonal, 3).shape == (3, 3)
    assert spec(br.orthogonal, 3, size=2).shape == (2, 3, 3)
    assert spec(br.categorical, jnp.zeros((4, 3))).shape == (4,)
    assert spec(br.categorical, jnp.zeros((4, 3)), axis=0).shape == (3,)
    assert spec(br.categorical, jnp.zeros((4, 3)), size=(5, 4)).shape == (5, 4)
    assert spec(br.permutation, jnp.zeros((4, 2)), axis=1).shape == (4, 2)


def test_random_integers_with_one_bound_starts_at_one():
    assert set(np.unique(br.random_integers(3, size=2000)).tolist()) == {1, 2, 3}
    assert set(np.unique(br.randint(3, size=2000)).tolist()) == {0, 1, 2}


def test_choice_variants():
    x = np.asarray(br.choice(10, size=10, replace=False))
    assert sorted(x) == list(range(10))
    assert set(np.asarray(br.choice(4, size=200, p=[0.0, 0.5, 0.5, 0.0])).tolist()) == {1, 2}
    rows = np.asarray(br.choice(jnp.arange(12).reshape(4, 3), size=2, replace=False))
    assert rows.shape == (2, 3) and set(rows[:, 0].tolist()) <= {0, 3, 6, 9}


def test_permutation_and_shuffle():
    assert sorted(np.asarray(br.permutation(6)).tolist()) == list(range(6))
    x = jnp.arange(12).reshape(3, 4)
    p = np.asarray(br.permutation(x, axis=1, independent=True))
    assert_array_equal(np.sort(p, axis=1), x)
    s = np.asarray(br.shuffle(x, axis=0))
    assert sorted(map(tuple, s)) == sorted(map(tuple, np.asarray(x)))


def test_explicit_key_forms_give_the_jax_random_numbers():
    k = jax.random.PRNGKey(3)
    assert_array_equal(br.randint(0, 5, size=4, key=k), jax.random.randint(k, (4,), 0, 5))
    assert_array_equal(br.exponential(size=3, key=k), jax.random.exponential(k, (3,)))
    assert_array_equal(br.permutation(5, key=k), jax.random.permutation(k, 5))


@pytest.mark.parametrize("n, shape", [
    (np.array([10, 20]), (2, 3)),
    ([[10], [20]], (2, 1, 3)),
    (jnp.array([10, 20]), (2, 3)),
])
def test_multinomial_with_an_array_of_trial_counts_broadcasts_like_numpy(n, shape):
    pvals = [0.2, 0.3, 0.5]
    assert np.random.default_rng(0).multinomial(np.asarray(n), pvals).shape == shape
    x = np.asarray(br.multinomial(n, pvals))
    assert x.shape == shape
    assert_array_equal(x.sum(-1), np.broadcast_to(np.asarray(n), shape[:-1]))


def test_multinomial_array_n_broadcasts_with_the_batch_of_pvals_and_with_size():
    pvals = np.array([[0.5, 0.5], [0.1, 0.9], [0.9, 0.1]])[:, None, :]  # batch (3, 1)
    n = np.array([4, 40])
    x = np.asarray(br.multinomial(n, pvals))
    assert x.shape == np.random.default_rng(0).multinomial(n, pvals).shape == (3, 2, 2)
    assert_array_equal(x.sum(-1), np.broadcast_to(n, (3, 2)))
    y = np.asarray(br.multinomial(n, pvals[0, 0], size=(3, 2)))  # the same shape: no recompile
    assert y.shape == (3, 2, 2)
    assert_array_equal(y.sum(-1), np.broadcast_to(n, (3, 2)))


def test_multinomial_traced_array_n():
    draw = lambda n, k: br.multinomial(n, [0.25, 0.75], key=k)
    assert jax.eval_shape(draw, jnp.array([[3], [30]]), jax.random.key(0)).shape == (2, 1, 2)


@pytest.mark.parametrize("a", [np.array(5), jnp.array(5), np.int64(5), np.array(5, np.uint8)])
def test_choice_of_a_zero_d_integer_samples_its_range(a):
    # NumPy treats a 0-d integer array as the int it holds.
    k = jax.random.key(3)
    assert_array_equal(br.choice(a, size=4, key=k), br.choice(5, size=4, key=k))
    x = np.asarray(br.choice(a, size=(2, 2), replace=False))
    assert x.shape == (2, 2) and len(set(x.ravel().tolist())) == 4 and x.max() < 5


@pytest.mark.parametrize("x", [np.array(4), jnp.array(4), np.int32(4)])
def test_permutation_of_a_zero_d_integer_permutes_its_range(x):
    k = jax.random.key(3)
    assert_array_equal(br.permutation(x, key=k), br.permutation(4, key=k))
