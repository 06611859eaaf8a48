"""Transforms onto an interval `(lower, upper)`: `SigmoidT`, `ScaledSigmoidT`, `TanhT`, `SoftsignT`, `ClipT`.

Each bijection here is `lower + width * s(x)` for a squashing function `s` onto `(0, 1)`;
`lower` and `upper` may be arrays or `brainunit` Quantities of one unit (then `forward` returns
Quantities and `inverse` accepts them). `ClipT` is the projection onto `[lower, upper]`, not a
bijection. See `_param_transforms.py` for the conventions every transform follows.
"""

import math
from typing import Any, Tuple

import jax
import jax.numpy as jnp
import numpy as np

from ._param_transforms import Elementwise, Transform, as_float, concrete, plain
from ._units import attach, mantissa, split

__all__ = ["SigmoidT", "ScaledSigmoidT", "TanhT", "SoftsignT", "ClipT"]

ArrayLike = Any


def _bounds(owner: str, lower: ArrayLike, upper: ArrayLike):
    """`(lower mantissa, upper mantissa, unit)`, checking that `lower < upper` everywhere."""
    lo, unit = split(lower)
    up = mantissa(upper, unit, owner, "upper")
    lo_c, up_c = concrete(lo), concrete(up)
    if lo_c is not None and up_c is not None and not np.all(lo_c < up_c):
        raise ValueError(f"{owner}: lower must be below upper everywhere, got lower={lower!r}, "
                         f"upper={upper!r}. Swap them or widen the interval.")
    return as_float(lo), as_float(up), unit


class _Interval(Elementwise):
    """`lower + width * squash(x)`; subclasses define `_squash`, `_unsquash`, `_log_squash_deriv`."""

    _fields: Tuple[str, ...] = ("lower", "upper")

    def __init__(self, lower: ArrayLike, upper: ArrayLike) -> None:
        self._lo, up, self.unit = _bounds(type(self).__name__, lower, upper)
        self._width = up - self._lo
        self.lower = lower
        self.upper = upper
        self.width = upper - lower

    def forward(self, x: ArrayLike) -> Any:
        """Map `x` into `(lower, upper)`."""
        return attach(self._lo + self._width * self._squash(plain(self, x)), self.unit)

    def inverse(self, y: ArrayLike) -> jax.Array:
        """Map a value inside `(lower, upper)` back to the real line."""
        z = (jnp.asarray(mantissa(y, self.unit, type(self).__name__, "y")) - self._lo) / self._width
        return self._unsquash(z)

    def _log_deriv(self, x: jax.Array) -> jax.Array:
        return jnp.log(self._width) + self._log_squash_deriv(x)

    def _squash(self, x: jax.Array) -> jax.Array:
        raise NotImplementedError  # every subclass defines it

    def _unsquash(self, z: jax.Array) -> jax.Array:
        raise NotImplementedError  # every subclass defines it

    def _log_squash_deriv(self, x: jax.Array) -> jax.Array:
        raise NotImplementedError  # every subclass defines it


class SigmoidT(_Interval):
    """`lower + (upper - lower) * sigmoid(x)`: a value in the open interval `(lower, upper)`.

    Args:
      lower: the lower bound (an array or a Quantity).
      upper: the upper bound, above `lower` everywhere (same unit as `lower`).

    Raises:
      ValueError: if `lower >= upper` somewhere, or the units of the bounds differ.

    Example:
      >>> from brainstate.nn import SigmoidT
      >>> t = SigmoidT(0.0, 10.0)
      >>> float(t.forward(0.0)), round(float(t.inverse(2.5)), 4)
      (5.0, -1.0986)
    """

    __module__ = "brainstate.nn"

    def _squash(self, x: jax.Array) -> jax.Array:
        return jax.nn.sigmoid(x)

    def _unsquash(self, z: jax.Array) -> jax.Array:
        return jax.scipy.special.logit(z)

    def _log_squash_deriv(self, x: jax.Array) -> jax.Array:
        return jax.nn.log_sigmoid(x) + jax.nn.log_sigmoid(-x)


class ScaledSigmoidT(_Interval):
    """`lower + (upper - lower) * sigmoid(beta * x)`: a sigmoid of adjustable steepness.

    Args:
      lower: the lower bound.
      upper: the upper bound, above `lower` everywhere.
      beta: the steepness, a positive finite number (`beta=1` is `SigmoidT`).

    Raises:
      ValueError: if `beta` is not a positive finite number, or the bounds are invalid.

    Example:
      >>> from brainstate.nn import ScaledSigmoidT
      >>> t = ScaledSigmoidT(0.0, 1.0, beta=2.0)
      >>> round(float(t.inverse(t.forward(0.7))), 5)
      0.7
    """

    __module__ = "brainstate.nn"
    _fields = ("lower", "upper", "beta")

    def __init__(self, lower: ArrayLike, upper: ArrayLike, beta: float = 1.0) -> None:
        if isinstance(beta, bool) or not isinstance(beta, (int, float)) or not (0 < beta < math.inf):
            raise ValueError(f"ScaledSigmoidT: beta must be a positive finite number, got {beta!r}. "
                             f"beta sets the steepness; 1.0 gives the plain sigmoid.")
        super().__init__(lower, upper)
        self.beta = float(beta)

    def _squash(self, x: jax.Array) -> jax.Array:
        return jax.nn.sigmoid(self.beta * x)

    def _unsquash(self, z: jax.Array) -> jax.Array:
        return jax.scipy.special.logit(z) / self.beta

    def _log_squash_deriv(self, x: jax.Array) -> jax.Array:
        bx = self.beta * x
        return math.log(self.beta) + jax.nn.log_sigmoid(bx) + jax.nn.log_sigmoid(-bx)


class TanhT(_Interval):
    """`lower + (upper - lower) * (tanh(x) + 1) / 2`: a value in `(lower, upper)`.

    Args:
      lower: the lower bound.
      upper: the upper bound, above `lower` everywhere.

    Raises:
      ValueError: if `lower >= upper` somewhere.

    Example:
      >>> from brainstate.nn import TanhT
      >>> float(TanhT(-1.0, 3.0).forward(0.0))
      1.0
    """

    __module__ = "brainstate.nn"

    def _squash(self, x: jax.Array) -> jax.Array:
        return (jnp.tanh(x) + 1.0) / 2.0

    def _unsquash(self, z: jax.Array) -> jax.Array:
        return jnp.arctanh(2.0 * z - 1.0)

    def _log_squash_deriv(self, x: jax.Array) -> jax.Array:
        # log((1 - tanh(x)^2) / 2) = log 2 - 2|x| - 2 softplus(-2|x|): no overflow for large |x|.
        a = jnp.abs(x)
        return math.log(2.0) - 2.0 * a - 2.0 * jax.nn.softplus(-2.0 * a)


class SoftsignT(_Interval):
    """`lower + (upper - lower) * (x / (1 + |x|) + 1) / 2`: polynomial tails, unlike `SigmoidT`.

    Args:
      lower: the lower bound.
      upper: the upper bound, above `lower` everywhere.

    Raises:
      ValueError: if `lower >= upper` somewhere.

    Example:
      >>> from brainstate.nn import SoftsignT
      >>> float(SoftsignT(0.0, 2.0).forward(1.0))
      1.5
    """

    __module__ = "brainstate.nn"

    def _squash(self, x: jax.Array) -> jax.Array:
        return (x / (1.0 + jnp.abs(x)) + 1.0) / 2.0

    def _unsquash(self, z: jax.Array) -> jax.Array:
        s = 2.0 * z - 1.0
        return s / (1.0 - jnp.abs(s))

    def _log_squash_deriv(self, x: jax.Array) -> jax.Array:
        return -math.log(2.0) - 2.0 * jnp.log1p(jnp.abs(x))


class ClipT(Transform):
    """Clip into `[lower, upper]` (both directions). A projection, not a bijection.

    The raw value is stored clipped, so `inverse(forward(x)) == x` for `x` inside the interval;
    outside it the gradient is zero. There is no `log_abs_det_jacobian`.

    Args:
      lower: the lower bound (an array or a Quantity).
      upper: the upper bound, above `lower` everywhere.

    Raises:
      ValueError: if `lower >= upper` somewhere.

    Example:
      >>> import jax.numpy as jnp
      >>> from brainstate.nn import ClipT
      >>> ClipT(0.0, 1.0).forward(jnp.array([-1.0, 0.5, 2.0])).tolist()
      [0.0, 0.5, 1.0]
    """

    __module__ = "brainstate.nn"
    _fields = ("lower", "upper")

    def __init__(self, lower: ArrayLike, upper: ArrayLike) -> None:
        self._lo, self._up, self.unit = _bounds("ClipT", lower, upper)
        self.lower = lower
        self.upper = upper

    def forward(self, x: ArrayLike) -> Any:
        """`x` clipped into `[lower, upper]`."""
        return attach(jnp.clip(jnp.asarray(mantissa(x, self.unit, "ClipT", "x")), self._lo, self._up), self.unit)

    def inverse(self, y: ArrayLike) -> Any:
        """`y` clipped into `[lower, upper]` (the stored raw value)."""
        return self.forward(y)
