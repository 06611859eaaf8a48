"""Priors on positive values, the unit interval and the simplex.

`LogNormalReg`, `ExponentialReg`, `GammaReg`, `InverseGammaReg`, `LogUniformReg` (positive
values), `BetaReg` (values in (0, 1)) and `DirichletReg` (probabilities `softmax(x)`). Each
`loss(x)` is `weight` times the negative log density, summed over the elements, up to the
constant each class states. Values outside the support are floored onto it (a tiny positive
number, or `eps` inside (0, 1)), so the loss stays finite. See `_priors.py` for the real-line
priors and `_regularization.py` for the conventions shared by every regularization.
"""

from typing import Any

import jax
import jax.numpy as jnp
from jax.scipy.special import gammaln

from .. import random
from ._regularization import TINY, Regularization, Size, check_order, positive, shape_of

__all__ = ["LogNormalReg", "ExponentialReg", "GammaReg", "InverseGammaReg", "LogUniformReg", "BetaReg",
           "DirichletReg"]

ArrayLike = Any


def _gt0(v):
    return v > 0


class LogNormalReg(Regularization):
    """A log-normal prior: `log(x) ~ N(mu, sigma^2)`; `weight` times its NLL up to `n/2 log(2 pi)`.

    Args:
      weight: the strength (>= 0).
      mu: the mean of `log(x)`.
      sigma: the standard deviation of `log(x)` (> 0).
      fit_hyper: make `mu` and `sigma` `ParamState`s.

    Raises:
      ValueError: if `sigma <= 0` or `weight < 0`.

    Example:
      >>> import jax.numpy as jnp
      >>> from brainstate.nn import LogNormalReg
      >>> float(LogNormalReg(1.0, mu=0.0, sigma=1.0).loss(jnp.array([1.0])))
      0.0
    """

    __module__ = "brainstate.nn"

    def __init__(self, weight: float = 1.0, mu: float = 0.0, sigma: float = 1.0, fit_hyper: bool = False):
        super().__init__(fit_hyper)
        self.weight = self._weight(weight)
        self._hyper("mu", mu)
        self._hyper("sigma", sigma, _gt0, "> 0")

    def loss(self, value: ArrayLike) -> jax.Array:
        """`weight * sum((log x - mu)**2 / (2 sigma**2) + log x + log sigma)`."""
        log_x = jnp.log(jnp.maximum(self._x(value), TINY))
        mu, sigma = self._h("mu"), positive(self._h("sigma"))
        return self.weight * (jnp.sum((log_x - mu) ** 2 / (2.0 * sigma ** 2) + log_x) + log_x.size * jnp.log(sigma))

    def sample_init(self, shape: Size) -> jax.Array:
        """A log-normal draw."""
        size = shape_of("LogNormalReg", shape)
        return jnp.exp(self._h("mu") + positive(self._h("sigma")) * random.randn(*size))

    def reset_value(self) -> jax.Array:
        """The median, `exp(mu)`."""
        return jnp.exp(self._h("mu"))


class ExponentialReg(Regularization):
    """An exponential prior of `rate`: `weight * (rate * sum(x) - n log(rate))`, the exact NLL.

    Negative values are penalized as zero (they lie outside the support; use a positive
    transform). The reference left out `-n log(rate)`, a constant unless `rate` is trained.

    Args:
      weight: the strength (>= 0).
      rate: the rate (> 0).
      fit_hyper: make `rate` a `ParamState`.

    Raises:
      ValueError: if `rate <= 0` or `weight < 0`.

    Example:
      >>> import jax.numpy as jnp
      >>> from brainstate.nn import ExponentialReg
      >>> float(ExponentialReg(1.0, rate=1.0).loss(jnp.array([2.0, 3.0])))
      5.0
    """

    __module__ = "brainstate.nn"

    def __init__(self, weight: float = 1.0, rate: float = 1.0, fit_hyper: bool = False):
        super().__init__(fit_hyper)
        self.weight = self._weight(weight)
        self._hyper("rate", rate, _gt0, "> 0")

    def loss(self, value: ArrayLike) -> jax.Array:
        """`weight * (rate * sum(relu(x)) - n log(rate))`."""
        x = self._x(value)
        rate = positive(self._h("rate"))
        return self.weight * (rate * jnp.sum(jax.nn.relu(x)) - x.size * jnp.log(rate))

    def sample_init(self, shape: Size) -> jax.Array:
        """An exponential draw."""
        return random.exponential(size=shape_of("ExponentialReg", shape)) / positive(self._h("rate"))

    def reset_value(self) -> float:
        """0, the mode."""
        return 0.0


class GammaReg(Regularization):
    """A Gamma(`alpha`, rate `beta`) prior: `weight` times its exact negative log density.

    Args:
      weight: the strength (>= 0).
      alpha: the shape (> 0).
      beta: the rate (> 0).
      fit_hyper: make `alpha` and `beta` `ParamState`s.

    Raises:
      ValueError: if `alpha <= 0`, `beta <= 0` or `weight < 0`.

    Example:
      >>> import jax.numpy as jnp
      >>> from brainstate.nn import GammaReg
      >>> round(float(GammaReg(1.0, alpha=1.0, beta=2.0).loss(jnp.array([0.5]))), 4)  # 2 * 0.5 - log 2
      0.3069
    """

    __module__ = "brainstate.nn"

    def __init__(self, weight: float = 1.0, alpha: float = 2.0, beta: float = 1.0, fit_hyper: bool = False):
        super().__init__(fit_hyper)
        self.weight = self._weight(weight)
        self._hyper("alpha", alpha, _gt0, "> 0")
        self._hyper("beta", beta, _gt0, "> 0")

    def _ab(self):
        return positive(self._h("alpha")), positive(self._h("beta"))

    def loss(self, value: ArrayLike) -> jax.Array:
        """`weight * sum(-(alpha - 1) log x + beta x - alpha log beta + gammaln(alpha))`."""
        x = jnp.maximum(self._x(value), TINY)
        alpha, beta = self._ab()
        data = jnp.sum(-(alpha - 1.0) * jnp.log(x) + beta * x)
        return self.weight * (data + x.size * (gammaln(alpha) - alpha * jnp.log(beta)))

    def sample_init(self, shape: Size) -> jax.Array:
        """A Gamma draw."""
        alpha, beta = self._ab()
        return random.gamma(alpha, size=shape_of("GammaReg", shape)) / beta

    def reset_value(self) -> jax.Array:
        """The mode `(alpha - 1) / beta` (floored at a tiny positive number)."""
        alpha, beta = self._ab()
        return jnp.maximum((alpha - 1.0) / beta, TINY)


class InverseGammaReg(Regularization):
    """An Inverse-Gamma(`alpha`, scale `beta`) prior: `weight` times its exact negative log density.

    Args:
      weight: the strength (>= 0).
      alpha: the shape (> 0).
      beta: the scale (> 0).
      fit_hyper: make `alpha` and `beta` `ParamState`s.

    Raises:
      ValueError: if `alpha <= 0`, `beta <= 0` or `weight < 0`.

    Example:
      >>> import jax.numpy as jnp
      >>> from brainstate.nn import InverseGammaReg
      >>> round(float(InverseGammaReg(1.0, alpha=1.0, beta=1.0).loss(jnp.array([1.0]))), 4)  # 2 log 1 + 1
      1.0
    """

    __module__ = "brainstate.nn"

    def __init__(self, weight: float = 1.0, alpha: float = 2.0, beta: float = 1.0, fit_hyper: bool = False):
        super().__init__(fit_hyper)
        self.weight = self._weight(weight)
        self._hyper("alpha", alpha, _gt0, "> 0")
        self._hyper("beta", beta, _gt0, "> 0")

    def _ab(self):
        return positive(self._h("alpha")), positive(self._h("beta"))

    def loss(self, value: ArrayLike) -> jax.Array:
        """`weight * sum((alpha + 1) log x + beta / x - alpha log beta + gammaln(alpha))`."""
        x = jnp.maximum(self._x(value), TINY)
        alpha, beta = self._ab()
        data = jnp.sum((alpha + 1.0) * jnp.log(x) + beta / x)
        return self.weight * (data + x.size * (gammaln(alpha) - alpha * jnp.log(beta)))

    def sample_init(self, shape: Size) -> jax.Array:
        """An Inverse-Gamma draw (`beta` over a Gamma(alpha, 1) draw)."""
        alpha, beta = self._ab()
        return beta / jnp.maximum(random.gamma(alpha, size=shape_of("InverseGammaReg", shape)), TINY)

    def reset_value(self) -> jax.Array:
        """The mode `beta / (alpha + 1)`."""
        alpha, beta = self._ab()
        return beta / (alpha + 1.0)


class LogUniformReg(Regularization):
    """A log-uniform prior on `[lower, upper]`: `weight * sum(log x + log(log(upper / lower)))`.

    The exact negative log density inside the interval; values outside are clipped onto it (the
    reference left out the normalizer, a constant unless the bounds are trained).

    Args:
      weight: the strength (>= 0).
      lower: the lower edge (> 0).
      upper: the upper edge (> lower).
      fit_hyper: make `lower` and `upper` `ParamState`s.

    Raises:
      ValueError: if `lower <= 0`, `lower >= upper` or `weight < 0`.

    Example:
      >>> import math, jax.numpy as jnp
      >>> from brainstate.nn import LogUniformReg
      >>> round(float(LogUniformReg(1.0, 1.0, math.e).loss(jnp.array([1.0]))), 5)
      0.0
    """

    __module__ = "brainstate.nn"

    def __init__(self, weight: float = 1.0, lower: float = 1e-3, upper: float = 1e3, fit_hyper: bool = False):
        super().__init__(fit_hyper)
        self.weight = self._weight(weight)
        self._hyper("lower", lower, _gt0, "> 0")
        check_order("LogUniformReg", lower, upper)
        self._hyper("upper", upper)

    def _bounds(self):
        return positive(self._h("lower")), positive(self._h("upper"))

    def loss(self, value: ArrayLike) -> jax.Array:
        """`weight * sum(log(clip(x, lower, upper)) + log(log(upper / lower)))`."""
        lower, upper = self._bounds()
        x = jnp.clip(self._x(value), lower, upper)
        return self.weight * (jnp.sum(jnp.log(x)) + x.size * jnp.log(jnp.log(upper / lower)))

    def sample_init(self, shape: Size) -> jax.Array:
        """A log-uniform draw."""
        lower, upper = jnp.log(self._bounds()[0]), jnp.log(self._bounds()[1])
        return jnp.exp(lower + (upper - lower) * random.rand(*shape_of("LogUniformReg", shape)))

    def reset_value(self) -> jax.Array:
        """The geometric centre `sqrt(lower * upper)`."""
        lower, upper = self._bounds()
        return jnp.sqrt(lower * upper)


class BetaReg(Regularization):
    """A Beta(`a`, `b`) prior for values in (0, 1): `weight` times its exact negative log density.

    Args:
      weight: the strength (>= 0).
      a: the first shape (> 0).
      b: the second shape (> 0).
      fit_hyper: make `a` and `b` `ParamState`s.

    Raises:
      ValueError: if `a <= 0`, `b <= 0` or `weight < 0`.

    Example:
      >>> import jax.numpy as jnp
      >>> from brainstate.nn import BetaReg
      >>> round(float(BetaReg(1.0, a=1.0, b=1.0).loss(jnp.array([0.3]))), 4)  # the uniform density
      0.0
    """

    __module__ = "brainstate.nn"

    def __init__(self, weight: float = 1.0, a: float = 2.0, b: float = 2.0, fit_hyper: bool = False):
        super().__init__(fit_hyper)
        self.weight = self._weight(weight)
        self._hyper("a", a, _gt0, "> 0")
        self._hyper("b", b, _gt0, "> 0")

    def _ab(self):
        return positive(self._h("a")), positive(self._h("b"))

    def loss(self, value: ArrayLike) -> jax.Array:
        """`weight * sum(-(a-1) log x - (b-1) log(1-x) + log B(a, b))`."""
        x = self._x(value)
        # Clip by the dtype's eps: 1 - 1e-8 rounds to 1 in float32, which would give log(0).
        eps = jnp.finfo(jnp.result_type(x, float)).eps
        x = jnp.clip(x, eps, 1.0 - eps)
        a, b = self._ab()
        data = jnp.sum(-(a - 1.0) * jnp.log(x) - (b - 1.0) * jnp.log1p(-x))
        return self.weight * (data + x.size * (gammaln(a) + gammaln(b) - gammaln(a + b)))

    def sample_init(self, shape: Size) -> jax.Array:
        """A Beta draw."""
        a, b = self._ab()
        return random.beta(a, b, size=shape_of("BetaReg", shape))

    def reset_value(self) -> jax.Array:
        """The mode `(a - 1) / (a + b - 2)` (0.5 when it is not unique), in [0, 1]."""
        a, b = self._ab()
        mode = jnp.where(a + b > 2.0, (a - 1.0) / jnp.where(a + b > 2.0, a + b - 2.0, 1.0), 0.5)
        return jnp.clip(mode, 0.0, 1.0)


class DirichletReg(Regularization):
    """A symmetric Dirichlet(`alpha`) prior on `p = softmax(x)` over the flattened value.

    `loss = weight * (-(alpha - 1) * sum(log p) + n gammaln(alpha) - gammaln(n alpha))`, the
    exact negative log density of `p` (the reference left out the normalizer `log B(alpha)`).
    `alpha > 1` favours even probabilities, `alpha < 1` sparse ones.

    Args:
      weight: the strength (>= 0).
      alpha: the concentration (> 0).
      fit_hyper: make `alpha` a `ParamState`.

    Raises:
      ValueError: if `alpha <= 0` or `weight < 0`.

    Example:
      >>> import jax.numpy as jnp
      >>> from brainstate.nn import DirichletReg
      >>> round(float(DirichletReg(1.0, alpha=1.0).loss(jnp.array([0.0, 5.0, 1.0]))), 4)  # -log(2!)
      -0.6931
    """

    __module__ = "brainstate.nn"

    def __init__(self, weight: float = 1.0, alpha: float = 1.0, fit_hyper: bool = False):
        super().__init__(fit_hyper)
        self.weight = self._weight(weight)
        self._hyper("alpha", alpha, _gt0, "> 0")

    def loss(self, value: ArrayLike) -> jax.Array:
        """The Dirichlet negative log density of `softmax(x)`, times `weight`."""
        logp = jax.nn.log_softmax(jnp.ravel(self._x(value)))
        alpha = positive(self._h("alpha"))
        n = logp.size
        return self.weight * (-(alpha - 1.0) * jnp.sum(logp) + n * gammaln(alpha) - gammaln(n * alpha))

    def sample_init(self, shape: Size) -> jax.Array:
        """Logits of a Dirichlet draw (the log of normalized Gamma(alpha) draws)."""
        g = random.gamma(positive(self._h("alpha")), size=shape_of("DirichletReg", shape))
        return jnp.log(jnp.maximum(g / jnp.sum(g), TINY))

    def reset_value(self) -> float:
        """0 (even probabilities)."""
        return 0.0

