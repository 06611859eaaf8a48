"""Random numbers as state: `RandomState` streams, the default stream and NumPy-style draws.

A `RandomState` is a `State` holding a JAX key. Every draw splits the key and writes the advanced
key back, so randomness is an ordinary state write: it works unchanged under `jit`, `vmap`,
`grad` and the loops of `brainstate.transform`, and `seed(n)` reproduces a run exactly. The
module-level functions (`normal`, `uniform`, `randint`, `choice`, ...) draw from `DEFAULT`.

Draws accept physical units (brainunit, an optional dependency) where the reference does: a
location, scale, bound or population given as a `brainunit.Quantity` gives samples in its unit
(`normal(1. * u.mV, 0.5 * u.mV, size=2)` is a Quantity in mV; `uniform`, `exponential`,
`truncated_normal`, `gamma(scale=...)`, `wald`, `choice`, ... likewise). Parameters that share
the unit are converted to the first one's (mV next to V), a plain number next to a Quantity is
taken in its unit, and other dimensions raise `brainunit.UnitMismatchError`; pure numbers
(probabilities, counts, shapes) accept only dimensionless Quantities. The values are exactly
those of the unit-less draw with the same key.

Example:
  >>> import brainstate
  >>> brainstate.random.seed(0)
  >>> x = brainstate.random.normal(size=(2, 3))
  >>> x.shape, str(x.dtype)
  ((2, 3), 'float32')
"""

from ._rng_state import RandomState as RandomState
from ._default import (DEFAULT as DEFAULT, clone_rng as clone_rng, default_rng as default_rng,
                       get_key as get_key, get_key_data as get_key_data, restore_key as restore_key,
                       seed as seed, seed_context as seed_context,
                       self_assign_multi_keys as self_assign_multi_keys, set_key as set_key,
                       split_key as split_key, split_keys as split_keys)
from ._module_draws import (
    bernoulli as bernoulli, beta as beta, binomial as binomial, categorical as categorical,
    chisquare as chisquare, choice as choice, dirichlet as dirichlet, exponential as exponential,
    f as f, gamma as gamma, geometric as geometric, gumbel as gumbel,
    hypergeometric as hypergeometric, laplace as laplace, loggamma as loggamma,
    logistic as logistic, lognormal as lognormal, logseries as logseries, maxwell as maxwell,
    multinomial as multinomial, multivariate_normal as multivariate_normal,
    negative_binomial as negative_binomial, noncentral_chisquare as noncentral_chisquare,
    noncentral_f as noncentral_f, normal as normal, orthogonal as orthogonal, pareto as pareto,
    permutation as permutation, poisson as poisson, power as power, rand as rand,
    rand_like as rand_like, randint as randint, randint_like as randint_like, randn as randn,
    randn_like as randn_like, random as random, random_integers as random_integers,
    random_sample as random_sample, ranf as ranf, rayleigh as rayleigh, sample as sample,
    shuffle as shuffle, standard_cauchy as standard_cauchy,
    standard_exponential as standard_exponential, standard_gamma as standard_gamma,
    standard_normal as standard_normal, standard_t as standard_t, t as t, triangular as triangular,
    truncated_normal as truncated_normal, uniform as uniform, vonmises as vonmises, wald as wald,
    weibull as weibull, weibull_min as weibull_min, zipf as zipf,
)
