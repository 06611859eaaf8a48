"""The module-level NumPy-style draws: `brainstate.random.normal(...)` and friends.

Each function is the `RandomState` method of the same name called on the default stream
`DEFAULT`, with the method's signature and docstring (`on_default` builds the twin). So
`brainstate.random.normal(size=3)` is `brainstate.random.DEFAULT.normal(size=3)`: it advances
the default stream once, unless an explicit `key=` is given.
"""

from ._default import on_default
from ._rng_state import RandomState

__all__ = [
    "bernoulli", "beta", "binomial", "categorical", "chisquare", "choice", "dirichlet",
    "exponential", "f", "gamma", "geometric", "gumbel", "hypergeometric", "laplace", "loggamma",
    "logistic", "lognormal", "logseries", "maxwell", "multinomial", "multivariate_normal",
    "negative_binomial", "noncentral_chisquare", "noncentral_f", "normal", "orthogonal", "pareto",
    "permutation", "poisson", "power", "rand", "rand_like", "randint", "randint_like", "randn",
    "randn_like", "random", "random_integers", "random_sample", "ranf", "rayleigh", "sample",
    "shuffle", "standard_cauchy", "standard_exponential", "standard_gamma", "standard_normal",
    "standard_t", "t", "triangular", "truncated_normal", "uniform", "vonmises", "wald", "weibull",
    "weibull_min", "zipf",
]

bernoulli = on_default(RandomState.bernoulli)
beta = on_default(RandomState.beta)
binomial = on_default(RandomState.binomial)
categorical = on_default(RandomState.categorical)
chisquare = on_default(RandomState.chisquare)
choice = on_default(RandomState.choice)
dirichlet = on_default(RandomState.dirichlet)
exponential = on_default(RandomState.exponential)
f = on_default(RandomState.f)
gamma = on_default(RandomState.gamma)
geometric = on_default(RandomState.geometric)
gumbel = on_default(RandomState.gumbel)
hypergeometric = on_default(RandomState.hypergeometric)
laplace = on_default(RandomState.laplace)
loggamma = on_default(RandomState.loggamma)
logistic = on_default(RandomState.logistic)
lognormal = on_default(RandomState.lognormal)
logseries = on_default(RandomState.logseries)
maxwell = on_default(RandomState.maxwell)
multinomial = on_default(RandomState.multinomial)
multivariate_normal = on_default(RandomState.multivariate_normal)
negative_binomial = on_default(RandomState.negative_binomial)
noncentral_chisquare = on_default(RandomState.noncentral_chisquare)
noncentral_f = on_default(RandomState.noncentral_f)
normal = on_default(RandomState.normal)
orthogonal = on_default(RandomState.orthogonal)
pareto = on_default(RandomState.pareto)
permutation = on_default(RandomState.permutation)
poisson = on_default(RandomState.poisson)
power = on_default(RandomState.power)
rand = on_default(RandomState.rand)
rand_like = on_default(RandomState.rand_like, ["input", "*dtype", "*key"])
randint = on_default(RandomState.randint, ["low", "high", "size", "key", "dtype"])
randint_like = on_default(RandomState.randint_like, ["input", "low", "high", "*dtype", "*key"])
randn = on_default(RandomState.randn)
randn_like = on_default(RandomState.randn_like, ["input", "*dtype", "*key"])
random = on_default(RandomState.random)
random_integers = on_default(RandomState.random_integers)
random_sample = on_default(RandomState.random_sample)
ranf = on_default(RandomState.ranf)
rayleigh = on_default(RandomState.rayleigh)
sample = on_default(RandomState.sample)
shuffle = on_default(RandomState.shuffle)
standard_cauchy = on_default(RandomState.standard_cauchy)
standard_exponential = on_default(RandomState.standard_exponential)
standard_gamma = on_default(RandomState.standard_gamma)
standard_normal = on_default(RandomState.standard_normal)
standard_t = on_default(RandomState.standard_t)
t = on_default(RandomState.t)
triangular = on_default(RandomState.triangular)
truncated_normal = on_default(RandomState.truncated_normal)
uniform = on_default(RandomState.uniform)
vonmises = on_default(RandomState.vonmises)
wald = on_default(RandomState.wald)
weibull = on_default(RandomState.weibull)
weibull_min = on_default(RandomState.weibull_min)
zipf = on_default(RandomState.zipf)
