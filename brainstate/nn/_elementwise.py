"""Element-wise layers: activation functions wrapped as Modules.

`ElementWiseBlock` is the base of layers that apply one fixed function to every element (or,
for the softmax family, over one axis) and so leave the input shape unchanged. They have no
`in_size`/`out_size` of their own, which lets `Sequential` take sizes from its other layers.

Invariants: constructor arguments are validated at construction; the only trainable layer is
`PReLU`, whose slopes live in one `ParamState` `weight`; the only random one is `RReLU`, which
draws through `brainstate.random` while `environ` `fit` is True (see `nn.rrelu`). `ReLU`,
`LeakyReLU`, `PReLU` and `RReLU` keep the unit of a `brainunit.Quantity` input, as their
functions do.
"""

import numbers
from typing import Any, Optional

import jax
import jax.numpy as jnp

from .. import environ
from .._state import ParamState
from . import _activations as F
from ._module import Module
from ._units import split

__all__ = [
    "ElementWiseBlock", "CELU", "ELU", "GELU", "GLU", "Hardshrink", "Hardsigmoid", "Hardswish",
    "Hardtanh", "Identity", "LeakyReLU", "LogSigmoid", "Mish", "PReLU", "RReLU", "ReLU",
    "ReLU6", "SELU", "SiLU", "Sigmoid", "Softplus", "Softshrink",
    "Softsign", "Tanh", "Tanhshrink", "Threshold",
]

ArrayLike = Any


def _real(owner: str, arg: str, value: Any) -> float:
    """Check that `value` is a real number (a Python or NumPy scalar) and return it as a float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {arg} must be a real number, got {type(value).__name__} {value!r}.")
    return float(value)


def _axis(owner: str, arg: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{owner}: {arg} must be an integer axis, got {type(value).__name__} {value!r}.")
    return int(value)


class ElementWiseBlock(Module):
    """Base class of layers that apply a fixed function element-wise (shape-preserving).

    Args:
      name: optional module name.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> class Double(brainstate.nn.ElementWiseBlock):
      ...     def update(self, x):
      ...         return 2 * x
      ...
      >>> print(Double()(jnp.array([1.0, 2.0])))
      [2. 4.]
    """

    def __init__(self, name: Optional[str] = None):
        super().__init__(name=name)


# -- parameter-free element-wise functions -----------------------------------------------------
class Identity(ElementWiseBlock):
    """Return the input unchanged.

    Args:
      name: optional module name.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.Identity()(jnp.array([1.0, 2.0])))
      [1. 2.]
    """

    def update(self, x: ArrayLike) -> ArrayLike:
        return x


class ReLU(ElementWiseBlock):
    """`max(x, 0)` element-wise (see `nn.relu`).

    Args:
      name: optional module name.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.ReLU()(jnp.array([-2.0, 0.0, 2.0])))
      [0. 0. 2.]
    """

    def update(self, x: ArrayLike) -> jax.Array:
        return F.relu(x)


class SELU(ElementWiseBlock):
    """Scaled ELU element-wise (see `nn.selu`).

    Args:
      name: optional module name.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.SELU()(jnp.array([-2.0, 0.0, 2.0])))
      [-1.5201665  0.         2.101402 ]
    """

    def update(self, x: ArrayLike) -> jax.Array:
        return F.selu(x)


class SiLU(ElementWiseBlock):
    """`x * sigmoid(x)` element-wise (see `nn.silu`).

    Args:
      name: optional module name.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.SiLU()(jnp.array([-2.0, 0.0, 2.0])))
      [-0.23840584  0.          1.761594  ]
    """

    def update(self, x: ArrayLike) -> jax.Array:
        return F.silu(x)


class Sigmoid(ElementWiseBlock):
    """Logistic sigmoid element-wise (see `nn.sigmoid`).

    Args:
      name: optional module name.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.Sigmoid()(jnp.array([-2.0, 0.0, 2.0])))
      [0.11920292 0.5        0.880797  ]
    """

    def update(self, x: ArrayLike) -> jax.Array:
        return F.sigmoid(x)


class Hardsigmoid(ElementWiseBlock):
    """Piecewise-linear sigmoid element-wise (see `nn.hard_sigmoid`).

    Args:
      name: optional module name.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.Hardsigmoid()(jnp.array([-3.0, 0.0, 3.0])))
      [0.  0.5 1. ]
    """

    def update(self, x: ArrayLike) -> jax.Array:
        return F.hard_sigmoid(x)


class Hardswish(ElementWiseBlock):
    """`x * hard_sigmoid(x)` element-wise (see `nn.hard_swish`).

    Args:
      name: optional module name.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.Hardswish()(jnp.array([-3.0, 0.0, 3.0])))
      [-0.  0.  3.]
    """

    def update(self, x: ArrayLike) -> jax.Array:
        return F.hard_swish(x)


class LogSigmoid(ElementWiseBlock):
    """`log(sigmoid(x))` element-wise (see `nn.log_sigmoid`).

    Args:
      name: optional module name.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.LogSigmoid()(jnp.array([-2.0, 0.0, 2.0])))
      [-2.126928  -0.6931472 -0.126928 ]
    """

    def update(self, x: ArrayLike) -> jax.Array:
        return F.log_sigmoid(x)


class Mish(ElementWiseBlock):
    """`x * tanh(softplus(x))` element-wise (see `nn.mish`).

    Args:
      name: optional module name.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.Mish()(jnp.array([-2.0, 0.0, 2.0])))
      [-0.25250146  0.          1.943959  ]
    """

    def update(self, x: ArrayLike) -> jax.Array:
        return F.mish(x)


class Softplus(ElementWiseBlock):
    """`log(1 + exp(x))` element-wise (see `nn.softplus`).

    Args:
      name: optional module name.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.Softplus()(jnp.array([-2.0, 0.0, 2.0])))
      [0.126928  0.6931472 2.126928 ]
    """

    def update(self, x: ArrayLike) -> jax.Array:
        return F.softplus(x)


class Softsign(ElementWiseBlock):
    """`x / (1 + |x|)` element-wise (see `nn.soft_sign`).

    Args:
      name: optional module name.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.Softsign()(jnp.array([-1.0, 0.0, 3.0])))
      [-0.5   0.    0.75]
    """

    def update(self, x: ArrayLike) -> jax.Array:
        return F.soft_sign(x)


class Tanh(ElementWiseBlock):
    """Hyperbolic tangent element-wise.

    Args:
      name: optional module name.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.Tanh()(jnp.array([-2.0, 0.0, 2.0])))
      [-0.9640276  0.         0.9640276]
    """

    def update(self, x: ArrayLike) -> jax.Array:
        return F.tanh(x)


class Tanhshrink(ElementWiseBlock):
    """`x - tanh(x)` element-wise (see `nn.tanh_shrink`).

    Args:
      name: optional module name.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.Tanhshrink()(jnp.array([0.0, 1.0])))
      [0.         0.23840582]
    """

    def update(self, x: ArrayLike) -> jax.Array:
        return F.tanh_shrink(x)


# -- element-wise functions with constant parameters -------------------------------------------
class Threshold(ElementWiseBlock):
    """Keep `x` where `x > threshold`, replace it by `value` elsewhere.

    Args:
      threshold: the threshold.
      value: the replacement for elements not above the threshold.
      name: optional module name.

    Raises:
      TypeError: if `threshold` or `value` is not a real number.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.Threshold(0.5, -1.0)(jnp.array([0.0, 1.0])))
      [-1.  1.]
    """

    def __init__(self, threshold: float, value: float, name: Optional[str] = None) -> None:
        super().__init__(name=name)
        self.threshold = _real(self._label(), "threshold", threshold)
        self.value = _real(self._label(), "value", value)

    def update(self, x: ArrayLike) -> jax.Array:
        x = jnp.asarray(x)
        return jnp.where(x > self.threshold, x, jnp.asarray(self.value, x.dtype))


class Hardtanh(ElementWiseBlock):
    """Clip `x` to `[min_val, max_val]` (see `nn.hard_tanh`).

    Raises:
      ValueError: if `max_val <= min_val`.

    Args:
      min_val: lower clip bound.
      max_val: upper clip bound.
      name: optional module name.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.Hardtanh(-1.0, 1.0)(jnp.array([-3.0, 0.5, 3.0])))
      [-1.   0.5  1. ]
    """

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, name: Optional[str] = None) -> None:
        super().__init__(name=name)
        self.min_val = _real(self._label(), "min_val", min_val)
        self.max_val = _real(self._label(), "max_val", max_val)
        if self.max_val <= self.min_val:
            raise ValueError(
                f"{self._label()}: max_val must be greater than min_val, got min_val={min_val} and "
                f"max_val={max_val}. Swap them or widen the interval.")

    def update(self, x: ArrayLike) -> jax.Array:
        return F.hard_tanh(x, self.min_val, self.max_val)


class ReLU6(Hardtanh):
    """`min(max(x, 0), 6)` element-wise: a `Hardtanh` on `[0, 6]`.

    Args:
      name: optional module name.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.ReLU6()(jnp.array([-1.0, 3.0, 8.0])))
      [0. 3. 6.]
    """

    def __init__(self, name: Optional[str] = None):
        super().__init__(0.0, 6.0, name=name)


class LeakyReLU(ElementWiseBlock):
    """`x` where `x >= 0`, else `negative_slope * x` (see `nn.leaky_relu`).

    Args:
      negative_slope: slope for negative inputs.
      name: optional module name.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.LeakyReLU(0.1)(jnp.array([-2.0, 0.0, 2.0])))
      [-0.2  0.   2. ]
    """

    def __init__(self, negative_slope: float = 1e-2, name: Optional[str] = None) -> None:
        super().__init__(name=name)
        self.negative_slope = _real(self._label(), "negative_slope", negative_slope)

    def update(self, x: ArrayLike) -> jax.Array:
        return F.leaky_relu(x, self.negative_slope)


class ELU(ElementWiseBlock):
    """`x` where `x > 0`, else `alpha * (exp(x) - 1)` (see `nn.elu`).

    Args:
      alpha: scale of the negative part.
      name: optional module name.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.ELU()(jnp.array([-2.0, 0.0, 2.0])))
      [-0.86466473  0.          2.        ]
    """

    def __init__(self, alpha: float = 1.0, name: Optional[str] = None) -> None:
        super().__init__(name=name)
        self.alpha = _real(self._label(), "alpha", alpha)

    def update(self, x: ArrayLike) -> jax.Array:
        return F.elu(x, self.alpha)


class CELU(ElementWiseBlock):
    """Continuously differentiable ELU (see `nn.celu`).

    Raises:
      ValueError: if `alpha` is 0 (the function divides by it).

    Args:
      alpha: scale of the negative part (non-zero).
      name: optional module name.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.CELU(1.0)(jnp.array([-2.0, 0.0, 2.0])))
      [-0.86466473  0.          2.        ]
    """

    def __init__(self, alpha: float = 1.0, name: Optional[str] = None) -> None:
        super().__init__(name=name)
        self.alpha = _real(self._label(), "alpha", alpha)
        if self.alpha == 0:
            raise ValueError(f"{self._label()}: alpha must be non-zero (CELU divides x by alpha), got {alpha}.")

    def update(self, x: ArrayLike) -> jax.Array:
        return F.celu(x, self.alpha)


class GELU(ElementWiseBlock):
    """Gaussian error linear unit; `approximate=True` uses the tanh approximation.

    Args:
      approximate: use the tanh approximation instead of the exact erf form.
      name: optional module name.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.GELU()(jnp.array([-2.0, 0.0, 2.0])))
      [-0.04550027  0.          1.9544997 ]
    """

    def __init__(self, approximate: bool = False, name: Optional[str] = None) -> None:
        super().__init__(name=name)
        self.approximate = bool(approximate)

    def update(self, x: ArrayLike) -> jax.Array:
        return F.gelu(x, approximate=self.approximate)


class GLU(ElementWiseBlock):
    """Gated linear unit over axis `dim`: halves `a, b` give `a * sigmoid(b)` (see `nn.glu`).

    Args:
      dim: the axis to split in halves (its size must be even).
      name: optional module name.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.GLU()(jnp.array([1.0, 2.0, 0.0, 0.0])))
      [0.5 1. ]
    """

    def __init__(self, dim: int = -1, name: Optional[str] = None) -> None:
        super().__init__(name=name)
        self.dim = _axis(self._label(), "dim", dim)

    def update(self, x: ArrayLike) -> jax.Array:
        return F.glu(x, self.dim)


class Hardshrink(ElementWiseBlock):
    """`x` where `|x| > lambd`, else 0 (see `nn.hard_shrink`).

    Args:
      lambd: the threshold.
      name: optional module name.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.Hardshrink()(jnp.array([-1.0, 0.2, 1.0])))
      [-1.  0.  1.]
    """

    def __init__(self, lambd: float = 0.5, name: Optional[str] = None) -> None:
        super().__init__(name=name)
        self.lambd = _real(self._label(), "lambd", lambd)

    def update(self, x: ArrayLike) -> jax.Array:
        return F.hard_shrink(x, self.lambd)


class Softshrink(ElementWiseBlock):
    """Shrink `x` towards 0 by `lambd`, zeroing `[-lambd, lambd]` (see `nn.soft_shrink`).

    Raises:
      ValueError: if `lambd` is negative.

    Args:
      lambd: the threshold (non-negative).
      name: optional module name.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.Softshrink(0.5)(jnp.array([-1.0, 0.2, 1.0])))
      [-0.5  0.   0.5]
    """

    def __init__(self, lambd: float = 0.5, name: Optional[str] = None) -> None:
        super().__init__(name=name)
        self.lambd = _real(self._label(), "lambd", lambd)
        if self.lambd < 0:
            raise ValueError(f"{self._label()}: lambd must be non-negative, got {lambd}.")

    def update(self, x: ArrayLike) -> jax.Array:
        return F.soft_shrink(x, self.lambd)


# -- random and trainable rectifiers -----------------------------------------------------------
class RReLU(ElementWiseBlock):
    """Randomized leaky ReLU: random negative slopes in `[lower, upper)` while `fit` is True.

    Raises:
      ValueError: if `lower > upper`.

    Args:
      lower: lower bound of the random slope.
      upper: upper bound of the random slope.
      name: optional module name.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> with brainstate.environ.context(fit=False):
      ...     print(brainstate.nn.RReLU(0.1, 0.3)(jnp.array([-3.0, 1.0])))
      [-0.6  1. ]
    """

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3, name: Optional[str] = None):
        super().__init__(name=name)
        self.lower = _real(self._label(), "lower", lower)
        self.upper = _real(self._label(), "upper", upper)
        if self.lower > self.upper:
            raise ValueError(
                f"{self._label()}: lower must not exceed upper, got lower={lower} and upper={upper}.")

    def update(self, x: ArrayLike) -> jax.Array:
        return F.rrelu(x, self.lower, self.upper)


class PReLU(ElementWiseBlock):
    """Parametric ReLU: `x` where `x >= 0`, else `a * x`, with trainable slopes `a`.

    The slopes are one `ParamState` `weight` of shape `(num_parameters,)`; with more than one
    they apply per channel along the last axis of the input.

    Args:
      num_parameters: number of slopes: 1 (shared) or the number of channels.
      init: initial slope.
      dtype: dtype of the slopes (default: `environ.dftype()`).
      name: optional module name.

    Raises:
      ValueError: if `num_parameters` is not a positive integer.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.PReLU(init=0.5)(jnp.array([-2.0, 2.0])))
      [-1.  2.]
    """

    num_parameters: int
    weight: ParamState

    def __init__(self, num_parameters: int = 1, init: float = 0.25, dtype: Any = None,
                 name: Optional[str] = None) -> None:
        super().__init__(name=name)
        if (isinstance(num_parameters, bool) or not isinstance(num_parameters, numbers.Integral)
                or num_parameters < 1):
            raise ValueError(
                f"{self._label()}: num_parameters must be a positive integer (1, or the number of "
                f"channels), got {num_parameters!r}.")
        self.num_parameters = int(num_parameters)
        dtype = environ.dftype() if dtype is None else dtype
        self.weight = ParamState(jnp.full((self.num_parameters,), init, dtype=dtype))

    def update(self, x: ArrayLike) -> jax.Array:
        """Apply the parametric ReLU.

        Raises:
          ValueError: if `num_parameters > 1` and the last axis of `x` has another size.
        """
        shape = jnp.shape(split(x)[0])
        n = self.num_parameters
        if n > 1 and (len(shape) == 0 or shape[-1] != n):
            raise ValueError(
                f"{self._label()} has {n} slopes, one per channel on the last axis, but got an input "
                f"of shape {shape}. Pass inputs with {n} channels last, or num_parameters=1.")
        return F.prelu(x, self.weight.value)
