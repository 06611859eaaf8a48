"""Deterministic initializers: zeros, a constant, and the identity matrix.

They take no randomness, so calling one twice gives the same array. Like every initializer
they return exactly the requested shape in `dtype` (default `brainstate.environ.dftype()`).
"""

from typing import Any

import jax
import jax.numpy as jnp

from .._units import attach, split
from ._base import Initializer, Shape, _dtype, _with_unit

__all__ = ["ZeroInit", "Constant", "Identity"]


class ZeroInit(Initializer):
    """All zeros.

    Example:
      >>> import brainstate
      >>> brainstate.nn.init.ZeroInit()((2,)).tolist()
      [0.0, 0.0]
    """

    def __init__(self, unit: Any = None):
        self.unit = unit

    def __call__(self, shape: Shape, dtype: Any = None, **kwargs: Any) -> jax.Array:
        return _with_unit(jnp.zeros(self._shape(shape), _dtype(dtype)), self.unit)


class Constant(Initializer):
    """Fills the shape with `value` (a scalar, or an array that broadcasts to the shape).

    A `value` with physical units (`2 * u.mV`) gives an array in those units.

    Raises:
      ValueError: at call time, if `value` does not broadcast to the requested shape.

    Example:
      >>> import brainstate
      >>> brainstate.nn.init.Constant(0.5)((2,)).tolist()
      [0.5, 0.5]
    """

    def __init__(self, value: Any = 1.0):
        self.value = value

    def __call__(self, shape: Shape, dtype: Any = None, **kwargs: Any) -> jax.Array:
        shape = self._shape(shape)
        mant, unit = split(self.value)
        value = jnp.asarray(mant, _dtype(dtype))
        try:
            return attach(jnp.broadcast_to(value, shape), unit)
        except ValueError:
            raise ValueError(f"Constant: its value of shape {value.shape} does not broadcast to the "
                             f"requested shape {shape}.") from None


class Identity(Initializer):
    """`value` times the identity matrix (rectangular allowed; over the last two axes).

    Raises:
      ValueError: the shape has fewer than 2 dimensions.

    Example:
      >>> import brainstate
      >>> brainstate.nn.init.Identity(2.0)((2, 3)).tolist()
      [[2.0, 0.0, 0.0], [0.0, 2.0, 0.0]]
    """

    def __init__(self, value: Any = 1.0, unit: Any = None):
        self.value = value
        self.unit = unit

    def __call__(self, shape: Shape, dtype: Any = None, **kwargs: Any) -> jax.Array:
        shape = self._shape(shape)
        if len(shape) < 2:
            raise ValueError(f"Identity: needs a shape with at least 2 dimensions (a matrix), got {shape}.")
        dtype = _dtype(dtype)
        eye = jnp.broadcast_to(jnp.eye(shape[-2], shape[-1], dtype=dtype), shape)
        return _with_unit(eye * jnp.asarray(self.value, dtype), self.unit)
