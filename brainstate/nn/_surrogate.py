"""Spike functions with surrogate gradients, and bitwise operations on spike trains.

A spike is the Heaviside step of a (normalised) membrane potential: `1` where `x >= 0`, else
`0`. Its true derivative is zero almost everywhere, so gradient-based training sees nothing. A
*surrogate* spike function keeps the exact step in the forward pass and substitutes the
derivative of a smooth function in the backward pass (Neftci et al., 2019):

- `sigmoid_spike(x, alpha)`: derivative of `sigmoid(alpha * x)`, i.e.
  `alpha * s * (1 - s)` with `s = sigmoid(alpha * x)`;
- `arctan_spike(x, alpha)`: derivative of `arctan(pi/2 * alpha * x) / pi + 1/2`, i.e.
  `alpha / 2 / (1 + (pi/2 * alpha * x)**2)`.

Both are `jax.custom_jvp` functions, so forward- and reverse-mode differentiation, `jit` and
`vmap` all see the surrogate. `alpha` controls the sharpness (larger: closer to the step) and
receives no gradient.

Invariant: the forward value is exactly 0 or 1, in the input's float dtype.
"""

import math
from typing import Any, Optional

import jax
import jax.numpy as jnp

from ..typing import ArrayLike
from ._elementwise import ElementWiseBlock

__all__ = ["sigmoid_spike", "arctan_spike", "spike_bitwise", "SpikeBitwise"]


def _as_float(x: ArrayLike) -> jax.Array:
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        from .. import environ

        x = x.astype(environ.dftype())
    return x


def _step(x: jax.Array) -> jax.Array:
    return (x >= 0).astype(x.dtype)


@jax.custom_jvp
def _sigmoid_spike(x, alpha):
    return _step(x)


@_sigmoid_spike.defjvp
def _sigmoid_spike_jvp(primals, tangents):
    x, alpha = primals
    dx, _ = tangents
    s = jax.nn.sigmoid(alpha * x)
    return _step(x), dx * (alpha * s * (1 - s)).astype(x.dtype)


@jax.custom_jvp
def _arctan_spike(x, alpha):
    return _step(x)


@_arctan_spike.defjvp
def _arctan_spike_jvp(primals, tangents):
    x, alpha = primals
    dx, _ = tangents
    grad = alpha / 2 / (1 + (math.pi / 2 * alpha * x) ** 2)
    return _step(x), dx * grad.astype(x.dtype)


def _check_alpha(alpha: Any, where: str) -> None:
    if isinstance(alpha, (int, float)) and not alpha > 0:
        raise ValueError(f"{where}: alpha must be positive (it sets the surrogate's sharpness), got {alpha!r}.")


def sigmoid_spike(x: ArrayLike, alpha: float = 4.0) -> jax.Array:
    """Heaviside spike `x >= 0` whose gradient is that of `sigmoid(alpha * x)`.

    Args:
      x: the normalised distance to threshold, e.g. `(V - V_th) / (V_th - V_reset)`.
      alpha: sharpness of the surrogate; the surrogate derivative peaks at `alpha / 4`.

    Returns:
      An array of 0s and 1s with the float dtype of `x`.

    Raises:
      ValueError: if `alpha` is not positive.

    Example:
      >>> import brainstate, jax, jax.numpy as jnp
      >>> brainstate.nn.sigmoid_spike(jnp.array([-0.5, 0.0, 0.5])).tolist()
      [0.0, 1.0, 1.0]
      >>> float(jax.grad(brainstate.nn.sigmoid_spike)(0.0))
      1.0
    """
    _check_alpha(alpha, "sigmoid_spike")
    x = _as_float(x)
    return _sigmoid_spike(x, jnp.asarray(alpha, x.dtype))


def arctan_spike(x: ArrayLike, alpha: float = 2.0) -> jax.Array:
    """Heaviside spike `x >= 0` whose gradient is that of `arctan(pi/2 * alpha * x) / pi`.

    Args:
      x: the normalised distance to threshold.
      alpha: sharpness of the surrogate; the surrogate derivative peaks at `alpha / 2`.

    Returns:
      An array of 0s and 1s with the float dtype of `x`.

    Raises:
      ValueError: if `alpha` is not positive.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.arctan_spike(jnp.array([-1.0, 0.0, 1.0])))
      [0. 1. 1.]
    """
    _check_alpha(alpha, "arctan_spike")
    x = _as_float(x)
    return _arctan_spike(x, jnp.asarray(alpha, x.dtype))


_BITWISE = {
    "add": lambda x, y: x + y,
    "and": lambda x, y: x * y,
    "iand": lambda x, y: (1 - x) * y,
    "or": lambda x, y: x + y - x * y,
    "xor": lambda x, y: x + y - 2 * x * y,
    "ixor": lambda x, y: x * (1 - y) + (1 - x) * y,  # the same on spikes; the reference offers both
}


def spike_bitwise(x: ArrayLike, y: ArrayLike, op: str = "add") -> jax.Array:
    """Combine two spike trains (values in {0, 1}) with a differentiable bitwise operation.

    `op`: `'add'` (`x + y`), `'and'` (`x * y`), `'iand'` (`(1 - x) * y`, "y and not x"),
    `'or'` (`x + y - x * y`), `'xor'` (`x + y - 2xy`) or `'ixor'` (`x(1 - y) + (1 - x)y`).

    Raises:
      ValueError: for an unknown `op`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.spike_bitwise(jnp.array([0.0, 1.0]), jnp.array([1.0, 1.0]), 'and'))
      [0. 1.]
    """
    if op not in _BITWISE:
        raise ValueError(f"spike_bitwise: op must be one of {sorted(_BITWISE)}, got {op!r}.")
    return _BITWISE[op](_as_float(x), _as_float(y))


class SpikeBitwise(ElementWiseBlock):
    """Element-wise bitwise combination of two spike trains (see `spike_bitwise`).

    Args:
      op: `'add'`, `'and'`, `'iand'`, `'or'`, `'xor'` or `'ixor'`.
      name: optional module name.

    Raises:
      ValueError: for an unknown `op` (at construction).

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> m = brainstate.nn.SpikeBitwise('or')
      >>> m(jnp.array([0., 1., 1.]), jnp.array([0., 0., 1.])).tolist()
      [0.0, 1.0, 1.0]
    """

    def __init__(self, op: str = "add", name: Optional[str] = None) -> None:
        super().__init__(name=name)
        if op not in _BITWISE:
            raise ValueError(f"{self._label()}: op must be one of {sorted(_BITWISE)}, got {op!r}.")
        self.op = op

    def update(self, x: ArrayLike, y: ArrayLike) -> jax.Array:
        """`x op y` element-wise."""
        return _BITWISE[self.op](_as_float(x), _as_float(y))
