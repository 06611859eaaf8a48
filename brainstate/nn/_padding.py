"""Padding layers: constant, zero, reflection, replication and circular; 1d/2d/3d.

A sample is channel-last, `(*spatial, channels)` with N spatial axes; the input is one sample
(N + 1 dimensions) or a batch of them (N + 2). Only the spatial axes are padded, with
`jax.numpy.pad` in the matching mode ('constant', 'reflect', 'edge', 'wrap').

`padding` is one int for every side, N ints (the same on both sides of each spatial axis, in
axis order), or 2N ints `(low_0, high_0, low_1, high_1, ...)` in axis order. For N = 1, two ints
are `(low, high)`.
"""

from typing import Any, Optional, Sequence, Tuple, Union

import jax
import jax.numpy as jnp
import numpy as np

from ._module import Module

__all__ = [
    "ConstantPad1d", "ConstantPad2d", "ConstantPad3d", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d",
    "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d",
    "ReplicationPad3d", "CircularPad1d", "CircularPad2d", "CircularPad3d",
]


def _is_int(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


class _Pad(Module):
    """Base of the padding layers: `num_spatial` spatial axes, padded with `jnp.pad(mode=...)`."""

    num_spatial: int = 1
    mode: str = "constant"

    def __init__(self, padding: Union[int, Sequence[int]], in_size: Any = None, name: Optional[str] = None):
        super().__init__(name=name)
        self.padding = self._pairs(padding)
        if in_size is not None:
            self.in_size = in_size
            self.out_size = self._padded_shape(self.in_size)

    def _pairs(self, padding: Any) -> Tuple[Tuple[int, int], ...]:
        n = self.num_spatial
        items = (padding,) if _is_int(padding) else tuple(padding) if isinstance(padding, (tuple, list)) else None
        if items is None or len(items) not in (1, n, 2 * n) or not all(_is_int(p) and p >= 0 for p in items):
            raise ValueError(f"{self._label()}: padding must be a non-negative int, {n} ints (per spatial axis) "
                             f"or {2 * n} ints (low, high per spatial axis), got {padding!r}.")
        if len(items) == 2 * n:
            return tuple((int(items[2 * i]), int(items[2 * i + 1])) for i in range(n))
        if len(items) == 1:
            items = items * n
        return tuple((int(p), int(p)) for p in items)

    def _padded_shape(self, shape: Tuple[int, ...]) -> Tuple[int, ...]:
        n = self.num_spatial
        if len(shape) not in (n + 1, n + 2):
            raise ValueError(f"{self._label()} expects inputs with {n + 1} (unbatched) or {n + 2} (batched) "
                             f"dimensions ({n} spatial and one channel axis, channel last), got shape {shape}.")
        start = len(shape) - 1 - n
        out = list(shape)
        for i, (lo, hi) in enumerate(self.padding):
            out[start + i] += lo + hi
        return tuple(out)

    def _kwargs(self) -> dict:
        return {}

    def update(self, x: Any) -> jax.Array:
        """`x` padded along its spatial axes.

        Raises:
          ValueError: `x` does not have N + 1 or N + 2 dimensions.
        """
        x = jnp.asarray(x)
        self._padded_shape(x.shape)  # validates the dimensionality
        start = x.ndim - 1 - self.num_spatial
        pads = [(0, 0)] * start + list(self.padding) + [(0, 0)]
        return jnp.pad(x, pads, mode=self.mode, **self._kwargs())


class _ConstantPad(_Pad):
    def __init__(self, padding: Union[int, Sequence[int]], value: float = 0, in_size: Any = None,
                 name: Optional[str] = None):
        super().__init__(padding, in_size=in_size, name=name)
        self.value = value

    def _kwargs(self) -> dict:
        return {"constant_values": self.value}


class ConstantPad1d(_ConstantPad):
    """Pad the length axis of `(length, channels)` samples with a constant `value`.

    Args:
      padding: an int, or `(low, high)`.
      value: the fill value.
      in_size: optional sample shape; sets `out_size`.
      name: optional module name.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> brainstate.nn.ConstantPad1d((1, 2), value=9.0)(jnp.zeros((2, 1))).ravel().tolist()
      [9.0, 0.0, 0.0, 9.0, 9.0]
    """

    num_spatial = 1


class ConstantPad2d(_ConstantPad):
    """Pad the spatial axes of `(height, width, channels)` samples with a constant; args as `ConstantPad1d`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> brainstate.nn.ConstantPad2d(1, value=1.0)(jnp.zeros((2, 2, 1))).shape
      (4, 4, 1)
    """

    num_spatial = 2


class ConstantPad3d(_ConstantPad):
    """Pad the spatial axes of `(depth, height, width, channels)` samples with a constant.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> brainstate.nn.ConstantPad3d(1)(jnp.zeros((2, 2, 2, 1))).shape
      (4, 4, 4, 1)
    """

    num_spatial = 3


class ZeroPad1d(_Pad):
    """Pad the length axis of `(length, channels)` samples with zeros.

    Args:
      padding: an int, or `(low, high)`.
      in_size: optional sample shape; sets `out_size`.
      name: optional module name.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> brainstate.nn.ZeroPad1d((1, 0))(jnp.ones((2, 1))).ravel().tolist()
      [0.0, 1.0, 1.0]
    """

    num_spatial = 1


class ZeroPad2d(_Pad):
    """Pad the spatial axes of `(height, width, channels)` samples with zeros; args as `ZeroPad1d`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> brainstate.nn.ZeroPad2d(1)(jnp.ones((2, 2, 1))).shape
      (4, 4, 1)
    """

    num_spatial = 2


class ZeroPad3d(_Pad):
    """Pad the spatial axes of `(depth, height, width, channels)` samples with zeros.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> brainstate.nn.ZeroPad3d(1)(jnp.ones((2, 2, 2, 1))).shape
      (4, 4, 4, 1)
    """

    num_spatial = 3


class ReflectionPad1d(_Pad):
    """Pad by reflecting about the edge (the edge itself not repeated), as `numpy.pad(mode='reflect')`.

    Args:
      padding: an int, or `(low, high)`.
      in_size: optional sample shape; sets `out_size`.
      name: optional module name.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> brainstate.nn.ReflectionPad1d(2)(jnp.arange(3.0).reshape(3, 1)).ravel().tolist()
      [2.0, 1.0, 0.0, 1.0, 2.0, 1.0, 0.0]
    """

    num_spatial = 1
    mode = "reflect"


class ReflectionPad2d(_Pad):
    """Reflection padding of `(height, width, channels)` samples; args as `ReflectionPad1d`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> brainstate.nn.ReflectionPad2d(1)(jnp.ones((3, 3, 1))).shape
      (5, 5, 1)
    """

    num_spatial = 2
    mode = "reflect"


class ReflectionPad3d(_Pad):
    """Reflection padding of `(depth, height, width, channels)` samples; args as `ReflectionPad1d`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> brainstate.nn.ReflectionPad3d(1)(jnp.ones((3, 3, 3, 1))).shape
      (5, 5, 5, 1)
    """

    num_spatial = 3
    mode = "reflect"


class ReplicationPad1d(_Pad):
    """Pad by repeating the edge value, as `numpy.pad(mode='edge')`.

    Args:
      padding: an int, or `(low, high)`.
      in_size: optional sample shape; sets `out_size`.
      name: optional module name.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> brainstate.nn.ReplicationPad1d(1)(jnp.arange(2.0).reshape(2, 1)).ravel().tolist()
      [0.0, 0.0, 1.0, 1.0]
    """

    num_spatial = 1
    mode = "edge"


class ReplicationPad2d(_Pad):
    """Replication padding of `(height, width, channels)` samples; args as `ReplicationPad1d`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> brainstate.nn.ReplicationPad2d(1)(jnp.ones((2, 2, 1))).shape
      (4, 4, 1)
    """

    num_spatial = 2
    mode = "edge"


class ReplicationPad3d(_Pad):
    """Replication padding of `(depth, height, width, channels)` samples; args as `ReplicationPad1d`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> brainstate.nn.ReplicationPad3d(1)(jnp.ones((2, 2, 2, 1))).shape
      (4, 4, 4, 1)
    """

    num_spatial = 3
    mode = "edge"


class CircularPad1d(_Pad):
    """Pad by wrapping around (periodic boundary), as `numpy.pad(mode='wrap')`.

    Args:
      padding: an int, or `(low, high)`.
      in_size: optional sample shape; sets `out_size`.
      name: optional module name.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> brainstate.nn.CircularPad1d(1)(jnp.arange(3.0).reshape(3, 1)).ravel().tolist()
      [2.0, 0.0, 1.0, 2.0, 0.0]
    """

    num_spatial = 1
    mode = "wrap"


class CircularPad2d(_Pad):
    """Circular padding of `(height, width, channels)` samples; args as `CircularPad1d`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> brainstate.nn.CircularPad2d(1)(jnp.ones((2, 2, 1))).shape
      (4, 4, 1)
    """

    num_spatial = 2
    mode = "wrap"


class CircularPad3d(_Pad):
    """Circular padding of `(depth, height, width, channels)` samples; args as `CircularPad1d`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> brainstate.nn.CircularPad3d(1)(jnp.ones((2, 2, 2, 1))).shape
      (4, 4, 4, 1)
    """

    num_spatial = 3
    mode = "wrap"
