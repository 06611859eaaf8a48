"""Transforms onto a half-line: softplus, exponential and power maps, and the ReLU projection.

They are `SoftplusT`, `NegSoftplusT`, `ExpT`, `LogT`, `PositiveT`, `NegativeT`, `ReluT`, `PowerT`.

`SoftplusT(lower)` and `ExpT(lower)` give values above `lower`, `NegSoftplusT(upper)` values
below `upper`; the bound may be a `brainunit` Quantity (then `forward` returns Quantities).
Softplus grows linearly, so large raw values stay well-conditioned; `exp` reaches many orders of
magnitude (good for scale parameters). `ReluT` is a projection, not a bijection. `PowerT` is the
Box-Cox transform, which maps the positive reals onto `(-1/lmbda, inf)`.
See `_param_transforms.py` for the conventions every transform follows.
"""

import math
from typing import Any

import jax
import jax.numpy as jnp

from ._param_transforms import Elementwise, Transform, as_float, plain
from ._units import attach, mantissa, split

__all__ = ["SoftplusT", "NegSoftplusT", "ExpT", "LogT", "PositiveT", "NegativeT", "ReluT", "PowerT"]

ArrayLike = Any


def _softplus_inverse(z: jax.Array) -> jax.Array:
    # log(exp(z) - 1) = z + log(1 - exp(-z)), with expm1 for precision near z = 0.
    return z + jnp.log(-jnp.expm1(-z))


class SoftplusT(Elementwise):
    """`lower + softplus(x)`: a value above `lower` (a time constant, a rate, a conductance).

    Args:
      lower: the lower bound (a number, an array or a Quantity).

    Example:
      >>> from brainstate.nn import SoftplusT
      >>> t = SoftplusT(0.0)
      >>> round(float(t.forward(0.0)), 4), round(float(t.inverse(t.forward(2.0))), 4)
      (0.6931, 2.0)
    """

    __module__ = "brainstate.nn"
    _fields = ("lower",)

    def __init__(self, lower: ArrayLike) -> None:
        bound, self.unit = split(lower)
        self._bound = as_float(bound)
        self.lower = lower

    def forward(self, x: ArrayLike) -> Any:
        """`lower + softplus(x)`."""
        return attach(self._bound + jax.nn.softplus(plain(self, x)), self.unit)

    def inverse(self, y: ArrayLike) -> jax.Array:
        """The raw value whose softplus is `y - lower` (`y` must lie above `lower`)."""
        return _softplus_inverse(self._distance(y))

    def _distance(self, y: ArrayLike) -> jax.Array:
        return jnp.asarray(mantissa(y, self.unit, type(self).__name__, "y")) - self._bound

    def _log_deriv(self, x: jax.Array) -> jax.Array:
        return jax.nn.log_sigmoid(x)


class NegSoftplusT(SoftplusT):
    """`upper - softplus(-x)`: a value below `upper` (a reversal potential below rest, ...).

    Args:
      upper: the upper bound (a number, an array or a Quantity).

    Example:
      >>> from brainstate.nn import NegSoftplusT
      >>> t = NegSoftplusT(1.0)
      >>> round(float(t.forward(0.0)), 4), round(float(t.inverse(t.forward(-3.0))), 4)
      (0.3069, -3.0)
    """

    __module__ = "brainstate.nn"
    _fields = ("upper",)

    def __init__(self, upper: ArrayLike) -> None:
        bound, self.unit = split(upper)
        self._bound = as_float(bound)
        self.upper = upper
        # The reference release keeps the bound as `lower` here too (inherited from SoftplusT);
        # libraries read it under that name (braintools' multistart bounds).
        self.lower = upper

    def forward(self, x: ArrayLike) -> Any:
        """`upper - softplus(-x)`."""
        return attach(self._bound - jax.nn.softplus(-plain(self, x)), self.unit)

    def inverse(self, y: ArrayLike) -> jax.Array:
        """The raw value mapped to `y` (`y` must lie below `upper`)."""
        return -_softplus_inverse(-self._distance(y))

    def _log_deriv(self, x: jax.Array) -> jax.Array:
        return jax.nn.log_sigmoid(-x)


class _Exp(Elementwise):
    """`lower + exp(x)`: shared by `ExpT`, `LogT` and `PositiveT`."""

    def __init__(self, lower: ArrayLike) -> None:
        bound, self.unit = split(lower)
        self._bound = as_float(bound)

    def forward(self, x: ArrayLike) -> Any:
        """`lower + exp(x)`."""
        return attach(self._bound + jnp.exp(plain(self, x)), self.unit)

    def inverse(self, y: ArrayLike) -> jax.Array:
        """`log(y - lower)` (`y` must lie above `lower`)."""
        return jnp.log(jnp.asarray(mantissa(y, self.unit, type(self).__name__, "y")) - self._bound)

    def _log_deriv(self, x: jax.Array) -> jax.Array:
        return x


class ExpT(_Exp):
    """`lower + exp(x)`: a value above `lower`, trained on a log scale.

    Unlike the reference, `forward` does not clip `x` (at 20), so it stays a bijection with a
    non-zero gradient everywhere.

    Args:
      lower: the lower bound (a number, an array or a Quantity).

    Example:
      >>> from brainstate.nn import ExpT
      >>> float(ExpT(1.0).forward(0.0)), float(ExpT(1.0).inverse(2.0))
      (2.0, 0.0)
    """

    __module__ = "brainstate.nn"
    _fields = ("lower",)

    def __init__(self, lower: ArrayLike) -> None:
        super().__init__(lower)
        self.lower = lower


class LogT(_Exp):
    """`lower + exp(x)`: the raw value is the log of the distance to `lower` (same map as `ExpT`).

    Args:
      lower: the lower bound (a number, an array or a Quantity).

    Example:
      >>> import math
      >>> from brainstate.nn import LogT
      >>> round(float(LogT(0.0).inverse(math.e)), 5)
      1.0
    """

    __module__ = "brainstate.nn"
    _fields = ("lower",)

    def __init__(self, lower: ArrayLike) -> None:
        super().__init__(lower)
        self.lower = lower


class PositiveT(_Exp):
    """`exp(x)`: a positive value.

    Example:
      >>> from brainstate.nn import PositiveT
      >>> float(PositiveT().forward(0.0))
      1.0
    """

    __module__ = "brainstate.nn"

    def __init__(self) -> None:
        super().__init__(0.0)


class NegativeT(Elementwise):
    """`-softplus(-x)`: a negative value.

    Example:
      >>> from brainstate.nn import NegativeT
      >>> round(float(NegativeT().forward(0.0)), 4), round(float(NegativeT().inverse(-2.0)), 4)
      (-0.6931, -1.8546)
    """

    __module__ = "brainstate.nn"

    def forward(self, x: ArrayLike) -> jax.Array:
        """`-softplus(-x)`."""
        return -jax.nn.softplus(-plain(self, x))

    def inverse(self, y: ArrayLike) -> jax.Array:
        """The raw value mapped to `y` (`y` must be negative)."""
        return -_softplus_inverse(-plain(self, y, "y"))

    def _log_deriv(self, x: jax.Array) -> jax.Array:
        return jax.nn.log_sigmoid(-x)


class ReluT(Transform):
    """`relu(x) + lower_bound`: a projection onto `[lower_bound, inf)`, not a bijection.

    `inverse(y) = relu(y - lower_bound)`, so `inverse(forward(x)) == x` for `x >= 0`; negative
    raw values all map to `lower_bound` (zero gradient). There is no `log_abs_det_jacobian`.

    Args:
      lower_bound: the smallest value (a number or a Quantity).

    Example:
      >>> import jax.numpy as jnp
      >>> from brainstate.nn import ReluT
      >>> ReluT(1.0).forward(jnp.array([-2.0, 0.5])).tolist()
      [1.0, 1.5]
    """

    __module__ = "brainstate.nn"
    _fields = ("lower_bound",)

    def __init__(self, lower_bound: float = 0.0):
        bound, self.unit = split(lower_bound)
        self._bound = as_float(bound)
        self.lower_bound = lower_bound

    def forward(self, x: ArrayLike) -> Any:
        """`relu(x) + lower_bound`."""
        return attach(jax.nn.relu(jnp.asarray(mantissa(x, self.unit, "ReluT", "x"))) + self._bound, self.unit)

    def inverse(self, y: ArrayLike) -> Any:
        """`relu(y - lower_bound)`."""
        return attach(jax.nn.relu(jnp.asarray(mantissa(y, self.unit, "ReluT", "y")) - self._bound), self.unit)


class PowerT(Elementwise):
    """The Box-Cox transform `(x ** lmbda - 1) / lmbda` (`log(x)` for `lmbda == 0`), for `x > 0`.

    `forward` maps the positive reals onto `(-1/lmbda, inf)` (for `lmbda > 0`); `inverse` maps
    back with `(lmbda * y + 1) ** (1 / lmbda)`.

    Args:
      lmbda: the power, a finite number.

    Raises:
      ValueError: if `lmbda` is not a finite number.

    Example:
      >>> from brainstate.nn import PowerT
      >>> float(PowerT(0.5).forward(4.0)), float(PowerT(0.5).inverse(2.0))
      (2.0, 4.0)
    """

    __module__ = "brainstate.nn"
    _fields = ("lmbda",)

    def __init__(self, lmbda: float = 0.5) -> None:
        if isinstance(lmbda, bool) or not isinstance(lmbda, (int, float)) or not math.isfinite(lmbda):
            raise ValueError(f"PowerT: lmbda must be a finite number, got {lmbda!r}. lmbda=0 gives log(x), "
                             f"lmbda=0.5 a square-root-like transform.")
        self.lmbda = float(lmbda)

    def _is_log(self) -> bool:
        # Below this |lmbda| the power form loses all precision; its limit is log(x).
        return abs(self.lmbda) < 1e-10

    def forward(self, x: ArrayLike) -> jax.Array:
        """`(x ** lmbda - 1) / lmbda`, or `log(x)`."""
        x = plain(self, x)
        return jnp.log(x) if self._is_log() else (jnp.power(x, self.lmbda) - 1.0) / self.lmbda

    def inverse(self, y: ArrayLike) -> jax.Array:
        """`(lmbda * y + 1) ** (1 / lmbda)`, or `exp(y)`."""
        y = plain(self, y, "y")
        return jnp.exp(y) if self._is_log() else jnp.power(self.lmbda * y + 1.0, 1.0 / self.lmbda)

    def _log_deriv(self, x: jax.Array) -> jax.Array:
        return (self.lmbda - 1.0) * jnp.log(x)
