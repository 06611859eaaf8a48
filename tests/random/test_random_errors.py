"""Every rejected argument raises a clear error that names it, and leaves the stream alone."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from numpy.testing import assert_array_equal

import brainstate
import brainstate.random as br

# (call, exception type, message pattern)
PARAMETER_ERRORS = [
    (lambda: br.normal(0.0, -1.0), "normal: `scale` must be non-negative"),
    (lambda: br.normal(0.0, [1.0, -1.0]), "`scale` must be non-negative"),
    (lambda: br.normal(0.0, np.nan), "`scale` must be non-negative"),
    (lambda: br.truncated_normal(0.0, 1.0, scale=0.0), "truncated_normal: `scale` must be positive"),
    (lambda: br.truncated_normal(1.0, 1.0), "`lower` must be below `upper`"),
    (lambda: br.lognormal(0.0, -0.5), "lognormal: `sigma` must be non-negative"),
    (lambda: br.exponential(-2.0), "exponential: `scale` must be non-negative"),
    (lambda: br.gumbel(0.0, -1.0), "gumbel: `scale`"),
    (lambda: br.laplace(0.0, -1.0), "laplace: `scale`"),
    (lambda: br.logistic(0.0, -1.0), "logistic: `scale`"),
    (lambda: br.rayleigh(-1.0), "rayleigh: `scale`"),
    (lambda: br.triangular(0.0, 2.0, 1.0), "triangular: `mode` must be at most `right`"),
    (lambda: br.triangular(1.0, 1.0, 1.0), "triangular: `left` must be below `right`"),
    (lambda: br.vonmises(0.0, -1.0), "vonmises: `kappa` must be non-negative"),
    (lambda: br.gamma(0.0), "gamma: `shape` must be positive"),
    (lambda: br.gamma(1.0, -1.0), "gamma: `scale` must be non-negative"),
    (lambda: br.standard_gamma(-1.0), "standard_gamma: `shape`"),
    (lambda: br.beta(0.0, 1.0), "beta: `a` must be positive"),
    (lambda: br.beta(1.0, -1.0), "beta: `b` must be positive"),
    (lambda: br.chisquare(0.0), "chisquare: `df` must be positive"),
    (lambda: br.noncentral_chisquare(1.0, -1.0), "noncentral_chisquare: `nonc`"),
    (lambda: br.noncentral_chisquare(0.0, 1.0), "noncentral_chisquare: `df`"),
    (lambda: br.f(0.0, 1.0), "f: `dfnum`"),
    (lambda: br.f(1.0, 0.0), "f: `dfden`"),
    (lambda: br.noncentral_f(1.0, 1.0, -1.0), "noncentral_f: `nonc`"),
    (lambda: br.t(0.0), "t: `df` must be positive"),
    (lambda: br.standard_t(-3.0), "standard_t: `df`"),
    (lambda: br.loggamma(0.0), "loggamma: `a`"),
    (lambda: br.pareto(0.0), "pareto: `a`"),
    (lambda: br.power(0.0), "power: `a`"),
    (lambda: br.wald(0.0, 1.0), "wald: `mean`"),
    (lambda: br.wald(1.0, 0.0), "wald: `scale`"),
    (lambda: br.weibull(0.0), "weibull: `a`"),
    (lambda: br.weibull_min(1.0, -1.0), "weibull_min: `scale`"),
    (lambda: br.randint(5, 5), "randint: `low` must be below `high`"),
    (lambda: br.randint(0), "randint: `low` must be below `high`"),
    (lambda: br.random_integers(5, 4), "random_integers: `low` must be at most `high`"),
    (lambda: br.randint_like(jnp.zeros(3), 2, 1), "randint_like: `low` must be below `high`"),
    (lambda: br.bernoulli(1.5), r"bernoulli: `p` must be a probability in \[0, 1\]"),
    (lambda: br.bernoulli(-0.1), "bernoulli: `p`"),
    (lambda: br.binomial(-1, 0.5), "binomial: `n` must be a non-negative whole number"),
    (lambda: br.binomial(2.5, 0.5), "binomial: `n` must be a non-negative whole number"),
    (lambda: br.binomial(3, 1.5), "binomial: `p` must be a probability"),
    (lambda: br.poisson(-1.0), "poisson: `lam` must be non-negative"),
    (lambda: br.geometric(0.0), r"geometric: `p` must be a probability in \(0, 1\]"),
    (lambda: br.negative_binomial(0, 0.5), "negative_binomial: `n` must be positive"),
    (lambda: br.negative_binomial(1, 0.0), "negative_binomial: `p`"),
    (lambda: br.hypergeometric(-1, 2, 1), "hypergeometric: `ngood`"),
    (lambda: br.hypergeometric(1, -2, 1), "hypergeometric: `nbad`"),
    (lambda: br.hypergeometric(1, 2, 4), r"hypergeometric: `nsample` must be at most `ngood \+ nbad`"),
    (lambda: br.logseries(1.0), r"logseries: `p` must be a probability in \[0, 1\)"),
    (lambda: br.zipf(1.0), "zipf: `a` must be greater than 1"),
    (lambda: br.multivariate_normal(jnp.zeros(2), jnp.eye(2), method="qr"), "`method` must be one of"),
    (lambda: br.multivariate_normal(jnp.zeros(2), jnp.eye(3)), "same d; got mean"),
    (lambda: br.multivariate_normal(jnp.zeros(2), jnp.array([[1.0, 0.5], [0.0, 1.0]])),
     "`cov` must be symmetric"),
    (lambda: br.dirichlet(1.0), "dirichlet: `alpha` must be a vector"),
    (lambda: br.dirichlet([1.0, 0.0]), "dirichlet: `alpha` must be positive"),
    (lambda: br.multinomial(3, 0.5), "multinomial: `pvals` must be a vector"),
    (lambda: br.multinomial(-3, [0.5, 0.5]), "multinomial: `n`"),
    (lambda: br.multinomial(3, [1.5, 0.5]), "multinomial: `pvals` must be a probability"),
    (lambda: br.multinomial(3, [0.7, 0.7, 0.1]), r"`sum\(pvals\[..., :-1\]\)` must be at most 1"),
    (lambda: br.orthogonal(0), "orthogonal: `n` must be a positive integer"),
    (lambda: br.choice(0), "choice: `a` must be a positive population size"),
    (lambda: br.choice(jnp.zeros(0)), "choice: `a` must be an int or a non-empty array"),
    (lambda: br.choice(3, p=[0.5, 0.5]), r"choice: `p` must be 1-D with one probability per entry"),
    (lambda: br.choice(2, p=[1.5, -0.5]), "choice: `p` must be non-negative"),
    (lambda: br.choice(2, p=[0.5, 0.6]), r"choice: `sum\(p\)` must be 1"),
    (lambda: br.choice(3, size=4, replace=False), "cannot take 4 samples without replacement"),
    (lambda: br.permutation(-1), "permutation: `x` must be a non-negative int"),
    (lambda: br.permutation(jnp.zeros(3), axis=1), "permutation: `axis` 1 is out of range"),
    (lambda: br.shuffle(jnp.float32(1.0)), "shuffle: the input must be an array with at least one axis"),
    (lambda: br.categorical(jnp.zeros((2, 3)), axis=2), "categorical: `axis` 2 is out of range"),
    (lambda: br.categorical(jnp.zeros((2, 3)), size=(4,)), r"categorical: `size` \(4,\) must broadcast"),
    (lambda: br.normal(jnp.zeros(3), 1.0, size=(2,)),
     r"normal: parameters of shapes .* cannot be broadcast to size=\(2,\)"),
    (lambda: br.normal(jnp.zeros(3), jnp.ones(2)), "cannot be broadcast to each other"),
    (lambda: br.uniform(size=-1), "`size` entries must be non-negative"),
]


@pytest.mark.parametrize("call,pattern", PARAMETER_ERRORS, ids=[p for _, p in PARAMETER_ERRORS])
def test_bad_parameter_raises_value_error(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call()


@pytest.mark.parametrize("size", [2.0, "3", (2, 3.0), True, {"n": 2}, jnp.zeros(2)])
def test_size_of_the_wrong_type_raises_type_error(size):
    with pytest.raises(TypeError, match="normal: `size` must be None, an int or a tuple of ints"):
        br.normal(size=size)


@pytest.mark.parametrize("size, shape", [
    ((jnp.array(2),), (2,)),  # a concrete 0-d integer array, as brainpy computes a connection count
    (jnp.array(3, jnp.int32), (3,)),
    ([np.int64(2), 3], (2, 3)),
    ((np.uint8(4),), (4,)),
])
def test_integer_scalars_of_any_kind_are_sizes(size, shape):
    assert br.normal(size=size).shape == shape
    assert br.choice(10, size=size, replace=True).shape == shape


@pytest.mark.parametrize("size", [(jnp.array(2.0),), (jnp.array(True),), (np.bool_(True),)])
def test_float_and_bool_scalars_are_not_sizes(size):
    with pytest.raises(TypeError, match="normal: `size` must be None, an int or a tuple of ints"):
        br.normal(size=size)


def test_a_traced_size_raises_the_size_error():
    def f(n):
        return br.normal(size=(n,))

    with pytest.raises(TypeError, match="normal: `size` must be None, an int or a tuple of ints"):
        jax.jit(f)(jnp.array(2))


def test_rand_dimensions_of_the_wrong_type_raise():
    with pytest.raises(TypeError, match="rand: `size` must be"):
        br.rand(2.5)


@pytest.mark.parametrize("key", ["abc", 1.5, True, jnp.zeros(2), jnp.zeros(3, jnp.uint32),
                                 jax.random.split(jax.random.key(0), 2)])
def test_a_non_key_as_key_raises_type_error(key):
    with pytest.raises(TypeError, match="`key` must be an integer seed, a JAX key"):
        br.normal(key=key)


@pytest.mark.parametrize("seed", [1.5, "0", [1, 2], jnp.ones(2)])
def test_seed_of_the_wrong_type_raises_type_error(seed):
    with pytest.raises(TypeError, match="`seed_or_key` must be an integer seed"):
        br.seed(seed)
    with pytest.raises(TypeError, match="`seed_or_key` must be an integer seed"):
        br.RandomState(seed)


def test_set_key_with_a_non_key_raises():
    with pytest.raises(TypeError, match="`key` must be"):
        br.set_key("nope")


def test_set_key_with_raw_data_for_several_keys_raises():
    # As in the reference, raw key data is one key; several keys come as typed keys.
    with pytest.raises(TypeError, match=r"`key` must be an integer seed, a JAX key or array of keys.*"
                                        r"Got ArrayImpl uint32\[4,2\]"):
        br.set_key(jax.random.split(jax.random.PRNGKey(0), 4))


def test_seed_with_an_array_of_keys_raises():
    keys = jax.random.split(jax.random.key(0), 4)
    with pytest.raises(TypeError, match="`seed_or_key` must be .*a single key, not an array of keys"):
        br.seed(keys)


def test_binomial_float_dtype_gives_whole_number_floats():
    counts = br.binomial(10, 0.5, size=50, dtype=jnp.float32, key=0)
    assert counts.dtype == jnp.float32
    assert_array_equal(counts, br.binomial(10, 0.5, size=50, key=0).astype(jnp.float32))


@pytest.mark.parametrize("dtype", [jnp.bool_, jnp.complex64])
def test_binomial_other_dtype_raises(dtype):
    with pytest.raises(TypeError, match="binomial: `dtype` must be an integer or floating-point dtype"):
        br.binomial(10, 0.5, dtype=dtype)


def test_wrong_dtype_kind_raises_type_error():
    with pytest.raises(TypeError, match="normal: `dtype` must be a floating-point dtype"):
        br.normal(dtype=jnp.int32)
    with pytest.raises(TypeError, match="randint: `dtype` must be an integer dtype"):
        br.randint(3, dtype=jnp.float32)


@pytest.mark.parametrize("n,exc,pattern", [(0, ValueError, "must be a positive integer"),
                                          (-2, ValueError, "must be a positive integer"),
                                          (2.5, TypeError, "must be an integer, got 2.5"),
                                          (True, ValueError, "must be a positive integer")])
def test_split_key_count_is_checked(n, exc, pattern):
    with pytest.raises(exc, match=f"split_key: `n` {pattern}"):
        br.split_key(n)
    with pytest.raises(exc, match=pattern):
        br.split_keys(n)


def test_a_rejected_call_does_not_advance_the_stream():
    br.seed(0)
    before = np.asarray(br.get_key_data())
    with pytest.raises(ValueError, match=r"normal: `scale` must be non-negative \(>= 0\), got -1.0"):
        br.normal(0.0, -1.0)
    with pytest.raises(TypeError, match=r"normal: `size` must be None, an int or a tuple of ints .*got 1.5"):
        br.normal(size=1.5)
    with pytest.raises(TypeError, match=r"`seed_or_key` must be an integer seed, a JAX key .*Got 'x'"):
        br.seed("x")
    assert_array_equal(br.get_key_data(), before)


def _spec(draw):
    """Trace a draw with an explicit key, without compiling it (its parameters stay concrete)."""
    return jax.eval_shape(lambda k: draw(k), jax.random.PRNGKey(0))


def test_check_valid_false_skips_the_check():
    assert _spec(lambda k: br.bernoulli(1.5, size=2, key=k, check_valid=False)).shape == (2,)
    assert _spec(lambda k: br.binomial(3, 1.5, size=2, key=k, check_valid=False)).shape == (2,)
    assert _spec(lambda k: br.chisquare(-1.0, size=2, key=k, check_valid=False)).shape == (2,)
    assert _spec(lambda k: br.power(-1.0, size=2, key=k, check_valid=False)).shape == (2,)
    assert _spec(lambda k: br.truncated_normal(1.0, 0.0, size=2, key=k, check_valid=False)).shape == (2,)
    assert _spec(lambda k: br.multinomial(3, [0.9, 0.9], key=k, check_valid=False)).shape == (2,)
    with pytest.raises(ValueError, match="chisquare: `df`"):
        _spec(lambda k: br.chisquare(-1.0, size=2, key=k))  # concrete while tracing: checked


def test_checks_are_skipped_for_traced_parameters():
    def draw(scale, p, key):
        return br.normal(0.0, scale, size=2, key=key), br.bernoulli(p, size=2, key=key)

    # Inside a trace the values are unknown, so nothing can be checked.
    x, b = jax.eval_shape(draw, -1.0, 2.0, jax.random.PRNGKey(0))
    assert x.shape == (2,) and b.shape == (2,)


@pytest.mark.parametrize("n, pvals, size, pattern", [
    (np.array([10, 20, 30]), [[0.2, 0.8], [0.5, 0.5]], None,
     r"multinomial: `n` of shape \(3,\) and `pvals` of batch shape \(2,\) .* cannot be broadcast to each other"),
    (np.array([10, 20]), [0.2, 0.8], 3,
     r"`n` of shape \(2,\) and `pvals` of batch shape \(\) .* cannot be broadcast to size=\(3,\)"),
])
def test_multinomial_n_that_does_not_broadcast_raises(n, pvals, size, pattern):
    before = br.get_key_data()
    with pytest.raises(ValueError, match=pattern):
        br.multinomial(n, pvals, size=size)
    assert_array_equal(br.get_key_data(), before)


@pytest.mark.parametrize("call, arg", [
    (lambda n: br.choice(n, size=2), "choice: `a`"),
    (lambda n: br.permutation(n), "permutation: `x`"),
])
@pytest.mark.parametrize("jit", [brainstate.transform.jit, jax.jit])
def test_traced_integer_population_says_it_must_be_concrete(call, arg, jit):
    with pytest.raises(TypeError, match=rf"{arg} must be a concrete integer .* static argument"):
        jit(lambda n: call(n))(jnp.array(5))


def test_static_integer_population_works_under_jit():
    f = brainstate.transform.jit(lambda n: br.choice(n, size=3), static_argnums=0)
    assert int(np.asarray(f(4)).max()) < 4
