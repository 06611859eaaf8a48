"""Constraint transforms: the bijections that let a `Param` train in unconstrained space.

A `Transform` maps an unconstrained real value `x` (what a `Param` stores and an optimizer
updates) onto a constrained set `y = forward(x)` (positive numbers, an interval, a simplex...);
`inverse` maps back. `log_abs_det_jacobian(x, y)` is `log|det dforward/dx|`, the change-of-
variables term of a density.

Conventions, shared by every transform:
- The event axis is the LAST axis: `log_abs_det_jacobian` sums over it and returns an array of
  shape `x.shape[:-1]` (a scalar for a scalar `x`), as the reference does. Element-wise
  transforms therefore give, for a 1-D `x`, the log-determinant of the full Jacobian.
- Raw values are plain numbers. A transform built with `brainunit` Quantities (`SoftplusT(0 *
  u.ms)`) returns Quantities of that unit from `forward` and accepts them in `inverse`.
- Transforms are immutable values: their attributes are set once, in `__init__`. A `Param`'s
  cache relies on this.
- Not every transform is a bijection: `ClipT` and `ReluT` are projections and `UnitVectorT` maps
  onto a sphere; they have no `log_abs_det_jacobian` (calling it raises).

This file holds the base class and the transforms that combine others (`AffineT`, `ChainT`,
`MaskedT`); the others live in `_param_transforms_interval.py` (maps onto an interval),
`_param_transforms_halfline.py` (onto a half-line) and `_param_transforms_vector.py` (acting on
the last axis as a whole).
"""

from abc import ABC, abstractmethod
from typing import Any, Optional, Tuple

import jax
import jax.numpy as jnp
import numpy as np

from .. import environ
from ._units import attach, decimal, mantissa, split

__all__ = ["Transform", "IdentityT", "AffineT", "ChainT", "MaskedT"]

ArrayLike = Any


def concrete(x: Any) -> Optional[np.ndarray]:
    """`x` as a NumPy array, or None when it is a tracer (its value is unknown while tracing)."""
    try:
        return np.asarray(x)
    except (jax.errors.TracerArrayConversionError, jax.errors.ConcretizationTypeError):
        return None


def as_float(x: Any) -> jax.Array:
    """`x` as an array of the default float type (`environ.dftype()`)."""
    return jnp.asarray(x, dtype=environ.dftype())


def plain(t: "Transform", x: Any, arg: str = "x") -> jax.Array:
    """A raw (unconstrained) value as a plain float array; a dimensionless Quantity is accepted."""
    return jnp.asarray(decimal(x, type(t).__name__, arg))


def event_sum(ld: jax.Array, x: jax.Array) -> jax.Array:
    """Sum element-wise log-derivatives over the last (event) axis, as every transform does."""
    ld = jnp.broadcast_to(ld, jnp.shape(x))
    return ld if ld.ndim == 0 else jnp.sum(ld, axis=-1)


class Transform(ABC):
    """Base class of constraint transforms: `forward` (unconstrained -> constrained) and `inverse`.

    Subclasses implement `forward` and `inverse`, and `log_abs_det_jacobian` when they are
    bijections. Calling a transform is `forward`.

    Example:
      >>> import jax.numpy as jnp
      >>> from brainstate.nn import Transform
      >>> class Cube(Transform):
      ...     def forward(self, x):
      ...         return x ** 3
      ...     def inverse(self, y):
      ...         return jnp.cbrt(y)
      >>> float(Cube()(2.0)), float(Cube().inverse(8.0))
      (8.0, 2.0)
    """

    __module__ = "brainstate.nn"

    #: names of the constructor arguments shown by `repr`.
    _fields: Tuple[str, ...] = ()

    def __call__(self, x: ArrayLike) -> Any:
        """`forward(x)`."""
        return self.forward(x)

    @abstractmethod
    def forward(self, x: ArrayLike) -> Any:
        """Map an unconstrained value onto the constrained set."""

    @abstractmethod
    def inverse(self, y: ArrayLike) -> Any:
        """Map a constrained value back to unconstrained space."""

    def log_abs_det_jacobian(self, x: ArrayLike, y: ArrayLike) -> jax.Array:
        """`log|det J|` of `forward` at `x` (with `y = forward(x)`), summed over the last axis.

        Raises:
          NotImplementedError: the transform defines none (it is not a bijection, or a subclass
            did not implement it).
        """
        raise NotImplementedError(
            f"{type(self).__name__} defines no log_abs_det_jacobian: only bijections have one "
            f"(ClipT, ReluT and UnitVectorT are not bijections). A subclass that is a bijection "
            f"overrides log_abs_det_jacobian(x, y).")

    def _is_elementwise(self) -> bool:
        """True when `forward` acts on each element alone (see `_log_deriv`)."""
        return False

    def _log_deriv(self, x: jax.Array) -> jax.Array:
        """`log|forward'(x)|` element by element (element-wise bijections only)."""
        raise NotImplementedError  # only called after `_is_elementwise()` returned True

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={getattr(self, k)!r}" for k in self._fields)
        return f"{type(self).__name__}({args})"


class Elementwise(Transform):
    """An element-wise bijection: `log_abs_det_jacobian` sums `_log_deriv` over the last axis."""

    def _is_elementwise(self) -> bool:
        return True

    def log_abs_det_jacobian(self, x: ArrayLike, y: ArrayLike) -> jax.Array:
        """`log|det J|` of `forward` at `x`, summed over the last axis (see the module docstring)."""
        x = plain(self, x)
        return event_sum(self._log_deriv(x), x)


class IdentityT(Elementwise):
    """The identity: the parameter is unconstrained.

    Example:
      >>> from brainstate.nn import IdentityT
      >>> float(IdentityT().forward(3.0)), float(IdentityT().log_abs_det_jacobian(3.0, 3.0))
      (3.0, 0.0)
    """

    __module__ = "brainstate.nn"

    def forward(self, x: ArrayLike) -> Any:
        """`x` unchanged."""
        return x

    def inverse(self, y: ArrayLike) -> Any:
        """`y` unchanged."""
        return y

    def _log_deriv(self, x: jax.Array) -> jax.Array:
        return jnp.zeros_like(x)


class AffineT(Elementwise):
    """`y = scale * x + shift`, element-wise (`scale` and `shift` may be arrays or Quantities).

    Args:
      scale: the multiplier; no element may be zero.
      shift: the offset.

    Raises:
      ValueError: if an element of `scale` is zero (the map would not be invertible).

    Example:
      >>> from brainstate.nn import AffineT
      >>> t = AffineT(2.0, 1.0)
      >>> float(t.forward(3.0)), float(t.inverse(7.0))
      (7.0, 3.0)
    """

    __module__ = "brainstate.nn"
    _fields = ("scale", "shift")

    def __init__(self, scale: ArrayLike, shift: ArrayLike):
        value = concrete(split(scale)[0])
        if value is not None and np.any(value == 0):
            raise ValueError(f"AffineT: scale must be non-zero everywhere to be invertible, got {scale!r}. "
                             f"Use a non-zero scale (a negative one flips the direction).")
        self.scale = scale
        self.shift = shift

    def forward(self, x: ArrayLike) -> Any:
        """`scale * x + shift`."""
        return self.scale * x + self.shift

    def inverse(self, y: ArrayLike) -> Any:
        """`(y - shift) / scale`."""
        return (y - self.shift) / self.scale

    def _log_deriv(self, x: jax.Array) -> jax.Array:
        return jnp.broadcast_to(jnp.log(jnp.abs(jnp.asarray(split(self.scale)[0]))), jnp.shape(x))


class ChainT(Transform):
    """Compose transforms: `forward` applies them first to last, `inverse` last to first.

    Args:
      *transforms: the transforms, in the order `forward` applies them.

    Raises:
      TypeError: if an argument is not a `Transform`.

    Example:
      >>> from brainstate.nn import AffineT, ChainT, SoftplusT
      >>> t = ChainT(SoftplusT(0.0), AffineT(2.0, 1.0))   # 2 * softplus(x) + 1 > 1
      >>> round(float(t.forward(0.0)), 4), round(float(t.inverse(t.forward(0.3))), 4)
      (2.3863, 0.3)
    """

    __module__ = "brainstate.nn"

    def __init__(self, *transforms: Transform) -> None:
        for i, t in enumerate(transforms):
            if not isinstance(t, Transform):
                raise TypeError(f"ChainT: argument {i} must be a Transform, got {type(t).__name__} {t!r}. "
                                f"Pass transform objects, e.g. ChainT(SoftplusT(0.0), AffineT(2.0, 1.0)).")
        self.transforms = tuple(transforms)

    def forward(self, x: ArrayLike) -> Any:
        """Each transform's `forward`, first to last."""
        for t in self.transforms:
            x = t.forward(x)
        return x

    def inverse(self, y: ArrayLike) -> Any:
        """Each transform's `inverse`, last to first."""
        for t in reversed(self.transforms):
            y = t.inverse(y)
        return y

    def log_abs_det_jacobian(self, x: ArrayLike, y: ArrayLike) -> jax.Array:
        """The sum of the members' log-determinants, each at its own input (chain rule).

        Raises:
          NotImplementedError: if a member has no log-determinant.
        """
        total = jnp.zeros(jnp.shape(x)[:-1])
        for t in self.transforms:
            nxt = t.forward(x)
            total = total + t.log_abs_det_jacobian(x, nxt)
            x = nxt
        return total

    def _is_elementwise(self) -> bool:
        return all(t._is_elementwise() for t in self.transforms)

    def _log_deriv(self, x: jax.Array) -> jax.Array:
        total = jnp.zeros_like(x)
        for t in self.transforms:
            total = total + t._log_deriv(x)
            x = split(t.forward(x))[0]
        return total

    def __repr__(self) -> str:
        return f"ChainT({', '.join(map(repr, self.transforms))})"


class MaskedT(Transform):
    """Apply `transform` where `mask` is True and leave the other elements unconstrained.

    Masked-out elements pass through unchanged (in `transform`'s unit, if it has one). The
    transform is evaluated at `safe_value` there, so an out-of-domain value never produces a
    NaN that would leak into gradients.

    Args:
      mask: a boolean array, broadcastable to the parameter's shape.
      transform: the transform for the masked elements.
      safe_value: a raw value where `transform` is finite, used for the masked-out elements.

    Raises:
      TypeError: if `transform` is not a `Transform`.

    Example:
      >>> import jax.numpy as jnp
      >>> from brainstate.nn import MaskedT, PositiveT
      >>> t = MaskedT(jnp.array([True, False]), PositiveT())
      >>> t.forward(jnp.array([0.0, -2.0])).tolist()
      [1.0, -2.0]
    """

    __module__ = "brainstate.nn"

    def __init__(self, mask: ArrayLike, transform: Transform, safe_value: ArrayLike = 1.0) -> None:
        if not isinstance(transform, Transform):
            raise TypeError(f"MaskedT: transform must be a Transform, got {type(transform).__name__} "
                            f"{transform!r}. Pass e.g. MaskedT(mask, SoftplusT(0.0)).")
        self.mask = jnp.asarray(mask, dtype=bool)
        self.transform = transform
        self.safe_value = safe_value

    def forward(self, x: ArrayLike) -> Any:
        """`transform.forward(x)` where `mask`, `x` elsewhere."""
        x = plain(self, x)
        y, unit = split(self.transform.forward(jnp.where(self.mask, x, self.safe_value)))
        return attach(jnp.where(self.mask, y, x), unit)

    def inverse(self, y: ArrayLike) -> Any:
        """`transform.inverse(y)` where `mask`, `y` elsewhere."""
        # The safe constrained value is forward(safe_value): always inside the inverse's domain.
        safe, unit = split(self.transform.forward(as_float(self.safe_value)))
        y_m = jnp.asarray(mantissa(y, unit, "MaskedT", "y"))
        x = self.transform.inverse(attach(jnp.where(self.mask, y_m, safe), unit))
        return jnp.where(self.mask, x, y_m)

    def log_abs_det_jacobian(self, x: ArrayLike, y: ArrayLike) -> jax.Array:
        """The inner transform's log-derivative over masked elements (0 elsewhere), summed.

        Raises:
          NotImplementedError: if the inner transform is not element-wise (e.g. `SimplexT`),
            so its Jacobian cannot be restricted to some elements.
        """
        if not self.transform._is_elementwise():
            raise NotImplementedError(
                f"MaskedT: log_abs_det_jacobian needs an element-wise inner transform, but "
                f"{self.transform!r} acts on the last axis as a whole. Mask an element-wise transform "
                f"(SoftplusT, SigmoidT, AffineT, ...) instead.")
        x = plain(self, x)
        ld = self.transform._log_deriv(jnp.where(self.mask, x, self.safe_value))
        return event_sum(jnp.where(self.mask, ld, 0.0), x)

    def __repr__(self) -> str:
        return f"MaskedT(mask={self.mask.tolist()!r}, transform={self.transform!r})"
