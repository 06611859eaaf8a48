"""`Flatten` and `Unflatten`: merge a run of axes into one, or split one axis into several.

Without `in_size`, axes count over the whole input. With `in_size` (the shape of one sample),
axes count within a sample and any extra leading input axes are batch axes left untouched, so
the same layer handles single samples and batches; `out_size` is then known at construction.
Negative axes count from the end either way.
"""

import math
from typing import Any, Optional, Sequence, Tuple, Union

import jax
import jax.numpy as jnp
import numpy as np

from ._module import Module
from ._units import is_quantity

__all__ = ["Flatten", "Unflatten"]

Size = Union[int, Sequence[int]]


def _is_int(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _frame(layer: Module, x_shape: Tuple[int, ...]) -> Tuple[int, int]:
    """`(offset, ndim)`: where the axes are counted from in `x`, and how many there are."""
    if layer.in_size is None:
        return 0, len(x_shape)
    n = len(layer.in_size)
    if len(x_shape) < n or tuple(x_shape[len(x_shape) - n:]) != layer.in_size:
        raise ValueError(f"{layer._label()} expects inputs of shape {layer.in_size}, optionally preceded by "
                         f"batch axes, got shape {tuple(x_shape)}.")
    return len(x_shape) - n, n


def _axis(layer: Module, arg: str, axis: int, ndim: int, shape: Tuple[int, ...]) -> int:
    if not -ndim <= axis < ndim:
        raise ValueError(f"{layer._label()}: {arg}={axis} is out of range for {ndim} axes "
                         f"(shape {shape}); use an axis in [{-ndim}, {ndim}).")
    return axis % ndim


class Flatten(Module):
    """Merge the axes `start_axis..end_axis` (inclusive) into one.

    Args:
      start_axis: the first axis to merge.
      end_axis: the last axis to merge.
      in_size: optional sample shape; with it, axes count within a sample (see the module docstring).

    Raises:
      TypeError: an axis is not an int.
      ValueError: an axis is out of range, or `start_axis` comes after `end_axis`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> brainstate.nn.Flatten()(jnp.zeros((2, 3, 4))).shape
      (24,)
      >>> brainstate.nn.Flatten(in_size=(3, 4))(jnp.zeros((2, 3, 4))).shape
      (2, 12)
    """

    def __init__(self, start_axis: int = 0, end_axis: int = -1, in_size: Optional[Size] = None) -> None:
        super().__init__()
        if not (_is_int(start_axis) and _is_int(end_axis)):
            raise TypeError(f"Flatten: start_axis and end_axis must be ints, got {start_axis!r} and {end_axis!r}.")
        self.start_axis, self.end_axis = int(start_axis), int(end_axis)
        if in_size is not None:
            self.in_size = in_size
            self.out_size = self._shape(self._fixed_size("in_size"))

    def _shape(self, shape: Tuple[int, ...]) -> Tuple[int, ...]:
        offset, ndim = _frame(self, shape)
        if ndim == 0:
            return tuple(shape) + (1,) if self.in_size is not None else (1,)
        start = offset + _axis(self, "start_axis", self.start_axis, ndim, shape)
        end = offset + _axis(self, "end_axis", self.end_axis, ndim, shape)
        if start > end:
            raise ValueError(f"{self._label()}: start_axis={self.start_axis} comes after end_axis={self.end_axis} "
                             f"for shape {tuple(shape)}; pass start_axis <= end_axis.")
        return tuple(shape[:start]) + (math.prod(shape[start:end + 1]),) + tuple(shape[end + 1:])

    def update(self, x: Any) -> jax.Array:
        """`x` with the chosen axes merged.

        Raises:
          ValueError: the axes do not fit `x`, or `x` does not end in `in_size`.
        """
        x = x if is_quantity(x) else jnp.asarray(x)  # a brainunit Quantity keeps its unit
        return x.reshape(self._shape(x.shape))


class Unflatten(Module):
    """Split one axis into `sizes` (one entry may be -1, inferred).

    Args:
      axis: the axis to split.
      sizes: the new sizes; their product must equal the axis size.
      name: optional module name.
      in_size: optional sample shape; with it, `axis` counts within a sample.

    Raises:
      TypeError: `axis` or `sizes` are not ints.
      ValueError: more than one -1, or a size below 1 other than -1.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> brainstate.nn.Unflatten(1, (2, -1))(jnp.zeros((5, 6))).shape
      (5, 2, 3)
    """

    def __init__(self, axis: int, sizes: Size, name: Optional[str] = None, in_size: Optional[Size] = None) -> None:
        super().__init__(name=name)
        if not _is_int(axis):
            raise TypeError(f"{self._label()}: axis must be an int, got {axis!r}.")
        items = (sizes,) if _is_int(sizes) else tuple(sizes) if isinstance(sizes, (tuple, list)) else None
        if items is None or not items or not all(_is_int(s) for s in items):
            raise TypeError(f"{self._label()}: sizes must be an int or a non-empty sequence of ints, got {sizes!r}.")
        if sum(s == -1 for s in items) > 1 or any(s < 1 and s != -1 for s in items):
            raise ValueError(f"{self._label()}: sizes must be positive, with at most one -1 (inferred), got {sizes!r}.")
        self.axis, self.sizes = int(axis), tuple(int(s) for s in items)
        if in_size is not None:
            self.in_size = in_size
            self.out_size = self._shape(self._fixed_size("in_size"))

    def _shape(self, shape: Tuple[int, ...]) -> Tuple[int, ...]:
        offset, ndim = _frame(self, shape)
        a = offset + _axis(self, "axis", self.axis, ndim, shape)
        n, known = shape[a], math.prod(s for s in self.sizes if s != -1)
        if (-1 in self.sizes and n % known) or (-1 not in self.sizes and n != known):
            raise ValueError(f"{self._label()}: cannot split axis {self.axis} of size {n} (shape {tuple(shape)}) "
                             f"into sizes {self.sizes}; their product must equal {n}.")
        new = tuple(n // known if s == -1 else s for s in self.sizes)
        return tuple(shape[:a]) + new + tuple(shape[a + 1:])

    def update(self, x: Any) -> jax.Array:
        """`x` with the axis split.

        Raises:
          ValueError: the sizes do not match the axis, or `x` does not end in `in_size`.
        """
        x = x if is_quantity(x) else jnp.asarray(x)  # a brainunit Quantity keeps its unit
        return x.reshape(self._shape(x.shape))
