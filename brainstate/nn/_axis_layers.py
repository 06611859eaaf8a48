"""Layers that normalise over one axis: `Softmax`, `Softmin`, `LogSoftmax`, `Softmax2d` (the
module forms of `_axis_maps`; see `_elementwise` for the element-wise layers)."""

from typing import Any, Optional

import jax
import jax.numpy as jnp

from . import _activations as F
from ._elementwise import ElementWiseBlock, _axis

__all__ = ["LogSoftmax", "Softmax", "Softmax2d", "Softmin"]

ArrayLike = Any


# -- normalising maps over one axis ------------------------------------------------------------
class _OverAxis(ElementWiseBlock):
    """Base of the softmax family: a map normalised over axis `dim` (last axis if None)."""

    def __init__(self, dim: Optional[int] = None, name: Optional[str] = None) -> None:
        super().__init__(name=name)
        self.dim = None if dim is None else _axis(self._label(), "dim", dim)


class Softmax(_OverAxis):
    """Softmax over axis `dim` (the last axis when `dim` is None).

    Args:
      dim: axis to normalise over (None: the last).
      name: optional module name.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.Softmax()(jnp.array([0.0, 0.0, jnp.log(2.0)])))
      [0.25 0.25 0.5 ]
    """

    def update(self, x: ArrayLike) -> jax.Array:
        return F.softmax(x, -1 if self.dim is None else self.dim)


class Softmin(_OverAxis):
    """Softmin (`softmax(-x)`) over axis `dim` (the last axis when `dim` is None).

    Args:
      dim: axis to normalise over (None: the last).
      name: optional module name.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.Softmin()(jnp.array([0.0, 0.0, -jnp.log(2.0)])))
      [0.25 0.25 0.5 ]
    """

    def update(self, x: ArrayLike) -> jax.Array:
        return F.softmin(x, -1 if self.dim is None else self.dim)


class LogSoftmax(_OverAxis):
    """Log-softmax over axis `dim` (the last axis when `dim` is None).

    Args:
      dim: axis to normalise over (None: the last).
      name: optional module name.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.LogSoftmax()(jnp.array([0.0, 0.0])))
      [-0.6931472 -0.6931472]
    """

    def update(self, x: ArrayLike) -> jax.Array:
        return F.log_softmax(x, -1 if self.dim is None else self.dim)


class Softmax2d(ElementWiseBlock):
    """Softmax over the channel axis of `(C, H, W)` or `(N, C, H, W)` inputs (axis -3).

    Args:
      name: optional module name.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> brainstate.nn.Softmax2d()(jnp.zeros((4, 2, 3, 3))).sum(axis=1).max()
      Array(1., dtype=float32)
    """

    def update(self, x: ArrayLike) -> jax.Array:
        """Apply the softmax over axis -3.

        Raises:
          ValueError: if `x` does not have 3 or 4 dimensions.
        """
        x = jnp.asarray(x)
        if x.ndim not in (3, 4):
            raise ValueError(
                f"{self._label()} expects inputs with 3 (C, H, W) or 4 (N, C, H, W) dimensions, got "
                f"shape {x.shape}.")
        return F.softmax(x, -3)
