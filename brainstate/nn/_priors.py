"""Priors on the real line: `GaussianReg`, `StudentTReg`, `CauchyReg`, `HorseshoeReg`, `SpikeAndSlabReg`, `UniformReg`.

Each `loss(x)` is `weight` times the negative log density of the prior at `x`, summed over the
elements, up to a constant that each class states (the constant does not depend on `x`, so it
never changes a gradient; terms that depend on a hyperparameter are kept, so that
`fit_hyper=True` learns the right thing). `UniformReg` is a soft box penalty instead. See
`_regularization.py` for the conventions shared by every regularization.
"""

import math
from typing import Any

import jax
import jax.numpy as jnp
from jax.scipy.special import gammaln, logsumexp

from .. import environ, random
from ._regularization import Regularization, Size, check, check_order, positive, shape_of
from ._units import attach, mantissa, split

__all__ = ["GaussianReg", "StudentTReg", "CauchyReg", "HorseshoeReg", "SpikeAndSlabReg", "UniformReg"]

ArrayLike = Any


def _gt0(v):
    return v > 0


def _cauchy_nll(x: jax.Array, scale: jax.Array) -> jax.Array:
    """The Cauchy(0, scale) negative log density of `x`, summed, without the `n log(pi)` constant."""
    return jnp.sum(jnp.log1p((x / scale) ** 2)) + x.size * jnp.log(scale)


class GaussianReg(Regularization):
    """A normal prior N(mean, std^2): `loss = weight * sum(precision * (x - mean)**2 - log(precision))`.

    That is `2 * weight` times the negative log density minus `n/2 log(2 pi)` (the reference's
    scale, so that `weight` means the same). `mean` and `std` may be Quantities of one unit;
    the value is then measured in that unit. The normalizer is counted once per element (the
    reference counted it once per distinct precision, which only matters with `fit_hyper`).

    Args:
      mean: the prior mean (broadcastable to the value).
      std: the prior standard deviation (> 0).
      weight: the strength (>= 0).
      fit_hyper: make `mean` and `precision` (`1 / std**2`) `ParamState`s.

    Raises:
      ValueError: if `std <= 0`, `weight < 0`, or `mean` and `std` have different units.

    Example:
      >>> import jax.numpy as jnp
      >>> from brainstate.nn import GaussianReg
      >>> round(float(GaussianReg(1.0, 0.5).loss(jnp.array([1.0, 2.0]))), 4)  # 4 * 1 - 2 log 4
      1.2274
    """

    __module__ = "brainstate.nn"

    def __init__(self, mean: ArrayLike, std: ArrayLike, weight: float = 1.0, fit_hyper: bool = False):
        super().__init__(fit_hyper)
        mean_m, self.unit = split(mean)
        std_m = mantissa(std, self.unit, "GaussianReg", "std")
        check("GaussianReg", "std", std_m, _gt0, "> 0")
        self.weight = self._weight(weight)
        self._hyper("mean", mean_m)
        self._hyper("precision", 1.0 / jnp.asarray(std_m, dtype=environ.dftype()) ** 2)

    def loss(self, value: ArrayLike) -> jax.Array:
        """`weight * sum(precision * (x - mean)**2 - log(precision))`."""
        x = jnp.asarray(mantissa(value, self.unit, "GaussianReg", "value"))
        x, mean, prec = jnp.broadcast_arrays(x, self._h("mean"), positive(self._h("precision")))
        return self.weight * jnp.sum(prec * (x - mean) ** 2 - jnp.log(prec))

    def sample_init(self, shape: Size) -> Any:
        """A draw from N(mean, std^2)."""
        std = 1.0 / jnp.sqrt(positive(self._h("precision")))
        return attach(self._h("mean") + std * random.randn(*shape_of("GaussianReg", shape)), self.unit)

    def reset_value(self) -> Any:
        """The mean."""
        return attach(self._h("mean"), self.unit)


class StudentTReg(Regularization):
    """A Student-t prior (`df` degrees of freedom, `scale`): `weight` times its negative log density.

    Heavier tails than a Gaussian: large values are penalized only logarithmically.

    Args:
      weight: the strength (>= 0).
      df: degrees of freedom (> 0).
      scale: the scale (> 0).
      fit_hyper: make `df` and `scale` `ParamState`s.

    Raises:
      ValueError: if `df <= 0`, `scale <= 0` or `weight < 0`.

    Example:
      >>> import jax.numpy as jnp
      >>> from brainstate.nn import StudentTReg
      >>> round(float(StudentTReg(1.0, df=1.0).loss(jnp.array([0.0]))), 4)  # Cauchy: log(pi)
      1.1447
    """

    __module__ = "brainstate.nn"

    def __init__(self, weight: float = 1.0, df: float = 3.0, scale: float = 1.0, fit_hyper: bool = False):
        super().__init__(fit_hyper)
        self.weight = self._weight(weight)
        self._hyper("df", df, _gt0, "> 0")
        self._hyper("scale", scale, _gt0, "> 0")

    def loss(self, value: ArrayLike) -> jax.Array:
        """The exact negative log density, times `weight`."""
        x = self._x(value)
        df, scale = positive(self._h("df")), positive(self._h("scale"))
        data = jnp.sum(0.5 * (df + 1.0) * jnp.log1p((x / scale) ** 2 / df))
        norm = jnp.log(scale) + gammaln(df / 2.0) + 0.5 * jnp.log(df * math.pi) - gammaln((df + 1.0) / 2.0)
        return self.weight * (data + x.size * norm)

    def sample_init(self, shape: Size) -> jax.Array:
        """A Student-t draw."""
        return positive(self._h("scale")) * random.t(positive(self._h("df")), size=shape_of("StudentTReg", shape))

    def reset_value(self) -> float:
        """0."""
        return 0.0


class CauchyReg(Regularization):
    """A Cauchy(0, scale) prior: `weight * sum(log(1 + (x/scale)**2) + log(scale))`.

    The negative log density up to `n log(pi)`.

    Args:
      weight: the strength (>= 0).
      scale: the scale (> 0).
      fit_hyper: make `scale` a `ParamState`.

    Raises:
      ValueError: if `scale <= 0` or `weight < 0`.

    Example:
      >>> import jax.numpy as jnp
      >>> from brainstate.nn import CauchyReg
      >>> round(float(CauchyReg(1.0, scale=1.0).loss(jnp.array([1.0]))), 4)  # log 2
      0.6931
    """

    __module__ = "brainstate.nn"

    def __init__(self, weight: float = 1.0, scale: float = 1.0, fit_hyper: bool = False):
        super().__init__(fit_hyper)
        self.weight = self._weight(weight)
        self._hyper("scale", scale, _gt0, "> 0")

    def loss(self, value: ArrayLike) -> jax.Array:
        """`weight * sum(log(1 + (x/scale)**2) + log(scale))`."""
        return self.weight * _cauchy_nll(self._x(value), positive(self._h("scale")))

    def sample_init(self, shape: Size) -> jax.Array:
        """A Cauchy(0, scale) draw."""
        return positive(self._h("scale")) * random.standard_cauchy(size=shape_of("CauchyReg", shape))

    def reset_value(self) -> float:
        """0."""
        return 0.0


class HorseshoeReg(Regularization):
    """A horseshoe prior of global scale `tau`, through its Cauchy(0, tau) envelope.

    The horseshoe marginal density has no closed form; like the reference, `loss` uses the
    Cauchy density of scale `tau`, which shares its heavy tails: `weight * sum(log(1 +
    (x/tau)**2) + log(tau))` (the negative log density up to `n log(pi)`). `sample_init` draws
    from the horseshoe itself: `x ~ N(0, (tau * lam)**2)` with a half-Cauchy local scale `lam`.

    Args:
      weight: the strength (>= 0).
      tau: the global scale (> 0).
      fit_hyper: make `tau` a `ParamState`.

    Raises:
      ValueError: if `tau <= 0` or `weight < 0`.

    Example:
      >>> import jax.numpy as jnp
      >>> from brainstate.nn import HorseshoeReg
      >>> round(float(HorseshoeReg(1.0, tau=2.0).loss(jnp.array([2.0]))), 4)  # log 2 + log 2
      1.3863
    """

    __module__ = "brainstate.nn"

    def __init__(self, weight: float = 1.0, tau: float = 1.0, fit_hyper: bool = False):
        super().__init__(fit_hyper)
        self.weight = self._weight(weight)
        self._hyper("tau", tau, _gt0, "> 0")

    def loss(self, value: ArrayLike) -> jax.Array:
        """`weight * sum(log(1 + (x/tau)**2) + log(tau))`."""
        return self.weight * _cauchy_nll(self._x(value), positive(self._h("tau")))

    def sample_init(self, shape: Size) -> jax.Array:
        """A horseshoe draw."""
        size = shape_of("HorseshoeReg", shape)
        lam = jnp.abs(random.standard_cauchy(size=size))
        return positive(self._h("tau")) * lam * random.randn(*size)

    def reset_value(self) -> float:
        """0."""
        return 0.0


class SpikeAndSlabReg(Regularization):
    """A mixture `pi * N(0, spike_scale^2) + (1 - pi) * N(0, slab_scale^2)`: `weight` times its NLL.

    The negative log density is exact (computed with `logsumexp`, so it stays finite and keeps its
    gradient far in the tails, where the reference's version saturated).

    Args:
      weight: the strength (>= 0).
      spike_scale: the narrow component's standard deviation (> 0).
      slab_scale: the wide component's standard deviation (> 0).
      pi: the spike's probability, in (0, 1).
      fit_hyper: make `spike_scale`, `slab_scale` and `pi` `ParamState`s.

    Raises:
      ValueError: if a scale is not positive, `pi` is outside (0, 1) or `weight < 0`.

    Example:
      >>> import jax.numpy as jnp
      >>> from brainstate.nn import SpikeAndSlabReg
      >>> r = SpikeAndSlabReg(1.0, spike_scale=0.01, slab_scale=1.0, pi=0.5)
      >>> bool(r.loss(jnp.array([0.0])) < r.loss(jnp.array([0.5])))
      True
    """

    __module__ = "brainstate.nn"

    def __init__(self, weight: float = 1.0, spike_scale: float = 0.01, slab_scale: float = 1.0, pi: float = 0.5,
                 fit_hyper: bool = False):
        super().__init__(fit_hyper)
        self.weight = self._weight(weight)
        self._hyper("spike_scale", spike_scale, _gt0, "> 0")
        self._hyper("slab_scale", slab_scale, _gt0, "> 0")
        self._hyper("pi", pi, lambda v: (v > 0) & (v < 1), "in (0, 1)")

    def _parts(self):
        pi = jnp.clip(self._h("pi"), 1e-8, 1.0 - 1e-6)  # keeps both log-weights finite in float32
        return positive(self._h("spike_scale")), positive(self._h("slab_scale")), pi

    def loss(self, value: ArrayLike) -> jax.Array:
        """`-weight * sum(log(pi N(x; 0, spike^2) + (1 - pi) N(x; 0, slab^2)))`."""
        x = self._x(value)
        spike, slab, pi = self._parts()

        def log_normal(s):
            return -0.5 * (x / s) ** 2 - jnp.log(s) - 0.5 * math.log(2.0 * math.pi)

        both = jnp.stack(jnp.broadcast_arrays(jnp.log(pi) + log_normal(spike), jnp.log1p(-pi) + log_normal(slab)))
        return -self.weight * jnp.sum(logsumexp(both, axis=0))

    def sample_init(self, shape: Size) -> jax.Array:
        """A draw from the mixture."""
        size = shape_of("SpikeAndSlabReg", shape)
        spike, slab, pi = self._parts()
        is_spike = random.rand(*size) < pi
        return jnp.where(is_spike, spike * random.randn(*size), slab * random.randn(*size))

    def reset_value(self) -> float:
        """0."""
        return 0.0


class UniformReg(Regularization):
    """A soft box: `weight * sum(relu(lower - x)**2 + relu(x - upper)**2)`, zero inside `[lower, upper]`.

    Not a density (a hard uniform prior would give an infinite loss outside the box).

    Args:
      weight: the strength (>= 0).
      lower: the lower edge.
      upper: the upper edge (> lower).
      fit_hyper: make `lower` and `upper` `ParamState`s.

    Raises:
      ValueError: if `lower >= upper` or `weight < 0`.

    Example:
      >>> import jax.numpy as jnp
      >>> from brainstate.nn import UniformReg
      >>> float(UniformReg(1.0, -1.0, 1.0).loss(jnp.array([0.0, 3.0])))
      4.0
    """

    __module__ = "brainstate.nn"

    def __init__(self, weight: float = 1.0, lower: float = -1.0, upper: float = 1.0, fit_hyper: bool = False):
        super().__init__(fit_hyper)
        check_order("UniformReg", lower, upper)
        self.weight = self._weight(weight)
        self._hyper("lower", lower)
        self._hyper("upper", upper)

    def loss(self, value: ArrayLike) -> jax.Array:
        """The squared distance outside the box, times `weight`."""
        x = self._x(value)
        return self.weight * jnp.sum(jax.nn.relu(self._h("lower") - x) ** 2 + jax.nn.relu(x - self._h("upper")) ** 2)

    def sample_init(self, shape: Size) -> jax.Array:
        """A uniform draw in the box."""
        lower, upper = self._h("lower"), self._h("upper")
        return lower + (upper - lower) * random.rand(*shape_of("UniformReg", shape))

    def reset_value(self) -> jax.Array:
        """The centre of the box."""
        return (self._h("lower") + self._h("upper")) / 2.0
