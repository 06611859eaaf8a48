"""Regularization: the prior or penalty a `Param` adds to the training loss.

A `Regularization` is a `Module` with three methods:
- `loss(value)`: a penalty on the constrained value, a plain scalar. For the priors it is
  `weight` times a negative log density up to a constant; each class says which density and
  which constant (the gradient with respect to `value` matches the reference's; where the
  reference dropped a term that depends on a hyperparameter, the term is kept here so that
  `fit_hyper=True` learns the right thing).
- `sample_init(shape)`: a draw (from `brainstate.random`'s default stream) to initialize a value.
- `reset_value()`: a typical value (the prior's mode, median or centre).

Hyperparameters are stored as arrays of the default float type; with `fit_hyper=True` the
learnable ones become `ParamState`s (named as the constructor argument, or `precision` for
`GaussianReg`), so an optimizer over `module.states(ParamState)` trains them too. `weight` is
never trained. Constructor arguments are checked when the object is built.

A Quantity value is measured in its own unit (its mantissa is penalized), except where a
prior's hyperparameters carry a unit (`GaussianReg(-65 * u.mV, 5 * u.mV)`), which converts the
value into that unit. Losses are always plain numbers, so they add to a data loss.

This file holds the base class, `ChainedReg` and the element-wise penalties (`L1Reg`, `L2Reg`,
`ElasticNetReg`, `HuberReg`); `_regularization_structural.py` holds penalties on the array as a
whole and `_priors.py` / `_priors_positive.py` the probability densities.
"""

from typing import Any, Sequence, Tuple, Union

import jax
import jax.numpy as jnp
import numpy as np

from .. import environ, random
from .._state import ParamState, State
from ._module import Module
from ._param_transforms import concrete
from ._units import split
from .init import to_size

__all__ = ["Regularization", "ChainedReg", "L1Reg", "L2Reg", "ElasticNetReg", "HuberReg"]

ArrayLike = Any
Size = Union[int, Sequence[int]]

#: floor for hyperparameters that must stay positive while they are trained (`fit_hyper`).
TINY = 1e-8


def positive(v: jax.Array) -> jax.Array:
    """`v`, floored at `TINY`: a trained positive hyperparameter never reaches zero."""
    return jnp.maximum(v, TINY)


def shape_of(owner: str, shape: Size) -> Tuple[int, ...]:
    """A `sample_init` shape as a tuple of ints."""
    return to_size(shape) or ()


def check(owner: str, name: str, value: Any, ok, what: str) -> None:
    """Raise a ValueError naming `owner` and `name` unless `ok(value)` (concrete values only)."""
    v = concrete(split(value)[0])
    if v is not None and not bool(np.all(ok(v))):
        raise ValueError(f"{owner}: {name} must be {what}, got {value!r}.")


def check_order(owner: str, lower: Any, upper: Any) -> None:
    """Raise a ValueError unless `lower < upper` everywhere (concrete values only)."""
    lo, up = concrete(lower), concrete(upper)
    if lo is not None and up is not None and not bool(np.all(lo < up)):
        raise ValueError(f"{owner}: lower must be below upper, got lower={lower!r}, upper={upper!r}.")


class Regularization(Module):
    """Base class of priors and penalties on a `Param` (see the module docstring).

    Subclasses implement `loss`, `sample_init` and `reset_value`.

    Args:
      fit_hyper: store the learnable hyperparameters as `ParamState`s.

    Raises:
      TypeError: if `fit_hyper` is not a bool.

    Example:
      >>> import jax.numpy as jnp
      >>> from brainstate.nn import Regularization
      >>> class AbsCube(Regularization):
      ...     def loss(self, value):
      ...         return jnp.sum(jnp.abs(value) ** 3)
      ...     def sample_init(self, shape):
      ...         return jnp.zeros(shape)
      ...     def reset_value(self):
      ...         return 0.0
      >>> float(AbsCube().loss(jnp.array([1.0, -2.0])))
      9.0
    """

    __module__ = "brainstate.nn"

    def __init__(self, fit_hyper: bool = False):
        super().__init__()
        if not isinstance(fit_hyper, bool):
            raise TypeError(f"{type(self).__name__}: fit_hyper must be True or False, got {fit_hyper!r}.")
        self.fit_hyper = fit_hyper

    def loss(self, value: ArrayLike) -> jax.Array:
        """The penalty of `value` (a plain scalar).

        Raises:
          NotImplementedError: a subclass did not define it.
        """
        raise NotImplementedError(f"{type(self).__name__} does not define loss(value); every "
                                  f"Regularization subclass must.")

    def sample_init(self, shape: Size) -> Any:
        """A random initial value of `shape`.

        Raises:
          NotImplementedError: a subclass did not define it.
        """
        raise NotImplementedError(f"{type(self).__name__} does not define sample_init(shape); every "
                                  f"Regularization subclass must.")

    def reset_value(self) -> Any:
        """A typical value of the prior (broadcast by `Param.reset_to_prior`).

        Raises:
          NotImplementedError: a subclass did not define it.
        """
        raise NotImplementedError(f"{type(self).__name__} does not define reset_value(); every "
                                  f"Regularization subclass must.")

    # -- helpers for subclasses ----------------------------------------------------------------
    def _weight(self, weight: Any, name: str = "weight") -> jax.Array:
        check(type(self).__name__, name, weight, lambda v: np.isfinite(v) & (v >= 0), "a finite number >= 0")
        return jnp.asarray(weight, dtype=environ.dftype())

    def _hyper(self, name: str, value: Any, ok=None, what: str = "", learnable: bool = True) -> None:
        """Store hyperparameter `name` (checked by `ok`), as a `ParamState` under `fit_hyper`."""
        if ok is not None:
            check(type(self).__name__, name, value, ok, what)
        value = jnp.asarray(value, dtype=environ.dftype())
        setattr(self, name, ParamState(value) if (self.fit_hyper and learnable) else value)

    def _h(self, name: str) -> jax.Array:
        """The current value of hyperparameter `name`."""
        v = getattr(self, name)
        return v.value if isinstance(v, State) else v

    def _x(self, value: ArrayLike) -> jax.Array:
        """The value penalized: a plain array (a Quantity's mantissa)."""
        return jnp.asarray(split(value)[0])


def _pos_check(v):
    return v > 0


class ChainedReg(Regularization):
    """The sum of several regularizations, times `weight`.

    `sample_init` and `reset_value` come from the first one (zeros when there is none).

    Args:
      *regularizations: the terms.
      weight: a factor on the sum.
      fit_hyper: unused (each term has its own).

    Raises:
      TypeError: if a term is not a `Regularization`.

    Example:
      >>> import jax.numpy as jnp
      >>> from brainstate.nn import ChainedReg, L1Reg, L2Reg
      >>> float(ChainedReg(L1Reg(1.0), L2Reg(0.5)).loss(jnp.array([1.0, -2.0])))
      5.5
    """

    __module__ = "brainstate.nn"

    def __init__(self, *regularizations: Regularization, weight: float = 1.0, fit_hyper: bool = False):
        super().__init__(fit_hyper)
        for i, r in enumerate(regularizations):
            if not isinstance(r, Regularization):
                raise TypeError(f"ChainedReg: term {i} must be a Regularization, got {type(r).__name__} "
                                f"{r!r}. Pass e.g. ChainedReg(L1Reg(0.1), L2Reg(0.01)).")
        self.regularizations = tuple(regularizations)
        self.weight = self._weight(weight)

    def loss(self, value: ArrayLike) -> jax.Array:
        """`weight * sum(term.loss(value))`."""
        return self.weight * sum((r.loss(value) for r in self.regularizations), jnp.zeros(()))

    def sample_init(self, shape: Size) -> Any:
        """The first term's draw (zeros without terms)."""
        if not self.regularizations:
            return jnp.zeros(shape_of("ChainedReg", shape), dtype=environ.dftype())
        return self.regularizations[0].sample_init(shape)

    def reset_value(self) -> Any:
        """The first term's typical value (0 without terms)."""
        return self.regularizations[0].reset_value() if self.regularizations else 0.0


class L1Reg(Regularization):
    """`weight * sum(|x|)`: a Laplace(0, 1/weight) prior, up to `n log(2/weight)`; promotes sparsity.

    Args:
      weight: the strength (>= 0).
      fit_hyper: unused (`weight` is never trained).

    Example:
      >>> import jax.numpy as jnp
      >>> from brainstate.nn import L1Reg
      >>> float(L1Reg(0.5).loss(jnp.array([1.0, -3.0])))
      2.0
    """

    __module__ = "brainstate.nn"

    def __init__(self, weight: float = 1.0, fit_hyper: bool = False):
        super().__init__(fit_hyper)
        self.weight = self._weight(weight)

    def loss(self, value: ArrayLike) -> jax.Array:
        """`weight * sum(|x|)`."""
        return self.weight * jnp.sum(jnp.abs(self._x(value)))

    def sample_init(self, shape: Size) -> jax.Array:
        """A Laplace(0, 1/weight) draw."""
        return random.laplace(0.0, 1.0 / positive(self.weight), size=shape_of("L1Reg", shape))

    def reset_value(self) -> float:
        """0."""
        return 0.0


class L2Reg(Regularization):
    """`weight * sum(x ** 2)`: a Gaussian prior of variance `1 / (2 weight)`, up to a constant.

    Args:
      weight: the strength (>= 0).
      fit_hyper: unused (`weight` is never trained).

    Example:
      >>> import jax.numpy as jnp
      >>> from brainstate.nn import L2Reg
      >>> float(L2Reg(0.5).loss(jnp.array([1.0, -3.0])))
      5.0
    """

    __module__ = "brainstate.nn"

    def __init__(self, weight: float = 1.0, fit_hyper: bool = False):
        super().__init__(fit_hyper)
        self.weight = self._weight(weight)

    def loss(self, value: ArrayLike) -> jax.Array:
        """`weight * sum(x ** 2)`."""
        return self.weight * jnp.sum(self._x(value) ** 2)

    def sample_init(self, shape: Size) -> jax.Array:
        """A draw from the prior, N(0, 1 / (2 weight)) (the reference used variance 1/weight)."""
        return random.randn(*shape_of("L2Reg", shape)) / jnp.sqrt(2.0 * positive(self.weight))

    def reset_value(self) -> float:
        """0."""
        return 0.0


class ElasticNetReg(Regularization):
    """`alpha * l1_weight * sum|x| + (1 - alpha) * l2_weight * sum x**2`: L1 and L2 mixed.

    Args:
      l1_weight: the L1 strength (>= 0).
      l2_weight: the L2 strength (>= 0).
      alpha: the mix, in [0, 1] (1: pure L1); learnable with `fit_hyper` (clipped into [0, 1]).
      fit_hyper: make `alpha` a `ParamState`.

    Raises:
      ValueError: if a weight is negative or `alpha` is outside [0, 1].

    Example:
      >>> import jax.numpy as jnp
      >>> from brainstate.nn import ElasticNetReg
      >>> float(ElasticNetReg(1.0, 1.0, alpha=0.5).loss(jnp.array([2.0])))
      3.0
    """

    __module__ = "brainstate.nn"

    def __init__(self, l1_weight: float = 1.0, l2_weight: float = 1.0, alpha: float = 0.5,
                 fit_hyper: bool = False):
        super().__init__(fit_hyper)
        self.l1_weight = self._weight(l1_weight, "l1_weight")
        self.l2_weight = self._weight(l2_weight, "l2_weight")
        self._hyper("alpha", alpha, lambda v: (v >= 0) & (v <= 1), "in [0, 1]")

    def loss(self, value: ArrayLike) -> jax.Array:
        """The mixed penalty."""
        x = self._x(value)
        alpha = jnp.clip(self._h("alpha"), 0.0, 1.0)
        return alpha * self.l1_weight * jnp.sum(jnp.abs(x)) + (1.0 - alpha) * self.l2_weight * jnp.sum(x ** 2)

    def sample_init(self, shape: Size) -> jax.Array:
        """`alpha` times an L1Reg draw plus `1 - alpha` times an L2Reg draw."""
        size = shape_of("ElasticNetReg", shape)
        alpha = jnp.clip(self._h("alpha"), 0.0, 1.0)
        laplace = random.laplace(0.0, 1.0 / positive(self.l1_weight), size=size)
        gauss = random.randn(*size) / jnp.sqrt(2.0 * positive(self.l2_weight))
        return alpha * laplace + (1.0 - alpha) * gauss

    def reset_value(self) -> float:
        """0."""
        return 0.0


class HuberReg(Regularization):
    """`weight * sum(huber_delta(x))`: quadratic `x**2 / 2` for `|x| <= delta`, linear beyond.

    Args:
      weight: the strength (>= 0).
      delta: where the penalty turns linear (> 0); learnable with `fit_hyper`.
      fit_hyper: make `delta` a `ParamState`.

    Raises:
      ValueError: if `weight < 0` or `delta <= 0`.

    Example:
      >>> import jax.numpy as jnp
      >>> from brainstate.nn import HuberReg
      >>> float(HuberReg(1.0, delta=1.0).loss(jnp.array([0.5, 3.0])))
      2.625
    """

    __module__ = "brainstate.nn"

    def __init__(self, weight: float = 1.0, delta: float = 1.0, fit_hyper: bool = False):
        super().__init__(fit_hyper)
        self.weight = self._weight(weight)
        self._hyper("delta", delta, _pos_check, "> 0")

    def loss(self, value: ArrayLike) -> jax.Array:
        """The Huber penalty."""
        x = self._x(value)
        delta = positive(self._h("delta"))
        a = jnp.abs(x)
        return self.weight * jnp.sum(jnp.where(a <= delta, 0.5 * x ** 2, delta * (a - 0.5 * delta)))

    def sample_init(self, shape: Size) -> jax.Array:
        """A normal draw of standard deviation `1 / sqrt(weight)`."""
        return random.randn(*shape_of("HuberReg", shape)) / jnp.sqrt(positive(self.weight))

    def reset_value(self) -> float:
        """0."""
        return 0.0

