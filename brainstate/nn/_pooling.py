"""Pooling layers: max, average, power-average (LP), adaptive, and max-unpooling; 1d/2d/3d.

`channel_axis` is an axis of the input array as given, batched or not: -1 (the default) is
channel-last `(..., *spatial, channels)`; a non-negative value counts from the first input axis,
batch axes included, so `channel_axis=1` reads a `(batch, channels, *spatial)` input and
`channel_axis=0` a `(channels, *spatial)` one. The spatial axes are the last N axes other than the
channel axis (the last N axes with `channel_axis=None`); the axes before both are batch axes and
the rest of the input is one sample. `in_size` is the shape of one sample, seen with a batch axis
in front. The windowed pools run `jax.lax.reduce_window` over the spatial axes.

Conventions (those of the reference release):
- `padding` is 'VALID', 'SAME', an int, N ints, or N `(low, high)` pairs. Max pooling pads with
  -inf; average pooling leaves padded cells out of each window's count; LP pooling divides by
  the full window size: `(sum(|x|^p) / prod(kernel_size)) ** (1/p)`.
- `MaxPool*(return_indices=True)` also returns, for each output, the flat position of the
  maximum within its sample (`numpy.unravel_index(i, sample_shape)` locates it); `MaxUnpool*`
  takes those positions back. Ties go to the first position.
- adaptive pools split each spatial axis of size n into `target` contiguous bins the way
  `numpy.array_split` does (the first `n % target` bins one longer); `target > n` is an error.
"""

import math
from typing import Any, List, Optional, Sequence, Tuple, Union

import jax
import jax.numpy as jnp
import numpy as np

from ._module import Module

__all__ = [
    "MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d", "LPPool1d", "LPPool2d",
    "LPPool3d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d", "AdaptiveMaxPool3d", "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d",
]

Ints = Union[int, Sequence[int]]
Padding = Union[str, int, Tuple[int, ...], Sequence[Tuple[int, int]]]


def _identity(dtype: Any, op: str) -> np.ndarray:
    """The identity of `op` ('max' or 'add') as a NumPy scalar of `dtype`.

    It must be a NumPy value, not a `jnp` array: `lax.reduce_window` only recognises a
    *concrete* identity and then uses its differentiable max/sum primitive. Under `jit` a
    `jnp.array(...)` is a tracer, so the generic, non-differentiable reduction would be chosen
    and `jit(grad(pool))` would fail to linearize.
    """
    if op == "add":
        return np.zeros((), dtype)
    return np.array(-np.inf if jnp.issubdtype(dtype, jnp.inexact) else np.iinfo(dtype).min, dtype)


def _is_int(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _ints(owner: str, arg: str, value: Any, n: int, low: int) -> Tuple[int, ...]:
    """An int or N ints, each at least `low`, as a tuple of N ints."""
    items = (value,) * n if _is_int(value) else tuple(value) if isinstance(value, (tuple, list)) else None
    if items is None or len(items) != n or not all(_is_int(v) and v >= low for v in items):
        raise ValueError(f"{owner}: {arg} must be an int or {n} ints, each >= {low}, got {value!r}.")
    return tuple(int(v) for v in items)


def _padding(owner: str, value: Any, n: int) -> Union[str, Tuple[Tuple[int, int], ...]]:
    if isinstance(value, str):
        if value.upper() not in ("SAME", "VALID"):
            raise ValueError(f"{owner}: padding must be 'SAME', 'VALID', an int or (low, high) pairs, got {value!r}.")
        return value.upper()
    if isinstance(value, (tuple, list)) and len(value) == n and all(
            isinstance(p, (tuple, list)) and len(p) == 2 for p in value):
        pairs = tuple(tuple(p) for p in value)
        if all(_is_int(a) and a >= 0 for p in pairs for a in p):
            return tuple((int(a), int(b)) for a, b in pairs)
        raise ValueError(f"{owner}: padding pairs must hold non-negative ints, got {value!r}.")
    return tuple((p, p) for p in _ints(owner, "padding", value, n, 0))


class _Spatial(Module):
    """Shared layout: N spatial axes and an optional channel axis, located in each input."""

    num_spatial: int = 1

    def _set_layout(self, channel_axis: Optional[int]) -> None:
        if channel_axis is not None and not _is_int(channel_axis):
            raise TypeError(f"{self._label()}: channel_axis must be None or an int (an axis of the input), "
                            f"got {channel_axis!r}.")
        self.channel_axis = None if channel_axis is None else int(channel_axis)

    def _layout(self, shape: Tuple[int, ...]) -> Tuple[Tuple[int, ...], int]:
        """The spatial axes of an input of `shape` and the first axis of its samples.

        The channel axis is an axis of the input itself (a negative one counts from the end);
        the spatial axes are the last N of the other axes. Axes before both are batch axes.
        """
        ndim, n, c = len(shape), self.num_spatial, self.channel_axis
        need = n + (c is not None)
        if ndim < need:
            layout = "spatial axes" + (" and a channel axis" if c is not None else "")
            raise ValueError(f"{self._label()} expects inputs with at least {need} dimensions "
                             f"({layout}, optionally preceded by batch axes), got shape {tuple(shape)}.")
        if c is None:
            return tuple(range(ndim - n, ndim)), ndim - n
        if not -ndim <= c < ndim:
            raise ValueError(f"{self._label()}: channel_axis={c} is out of range for an input of shape "
                             f"{tuple(shape)}; it must be in [{-ndim}, {ndim}). A non-negative channel_axis "
                             f"counts from the first axis of the input, batch axes included.")
        c %= ndim
        spatial = tuple(a for a in range(ndim) if a != c)[-n:]
        return spatial, min(c, spatial[0])

    def _spatial_axes(self, x: jax.Array) -> Tuple[int, ...]:
        """The spatial axes of `x` (counted from its first axis)."""
        return self._layout(x.shape)[0]

    def _check_in_size(self, in_size: Any) -> Tuple[int, ...]:
        """`in_size` (one sample) as a tuple, after checking it holds the sample's axes."""
        size = tuple(in_size)
        need = self.num_spatial + (self.channel_axis is not None)
        if len(size) < need:
            layout = "spatial axes" + (" and a channel axis" if self.channel_axis is not None else "")
            raise ValueError(f"{self._label()}: in_size is the shape of one sample, which needs at least {need} "
                             f"dimensions ({layout}), got {size}.")
        return size

    def _set_sizes(self, in_size: Any) -> None:
        # As in the reference release, `in_size` is one sample and the layer sees it with a batch axis
        # in front, so a non-negative channel_axis counts in the batched input.
        if in_size is not None:
            self.in_size = self._check_in_size(in_size)
            out = jax.eval_shape(lambda x: self.update(x), jax.ShapeDtypeStruct((1,) + self.in_size, jnp.float32))
            self.out_size = jax.tree_util.tree_leaves(out)[0].shape[1:]


class _WindowPool(_Spatial):
    """Base of the sliding-window pools."""

    def __init__(self, kernel_size: Ints, stride: Optional[Ints], padding: Padding, channel_axis: Optional[int],
                 name: Optional[str], in_size: Any):
        super().__init__(name=name)
        n = self.num_spatial
        self.kernel_size = _ints(self._label(), "kernel_size", kernel_size, n, 1)
        self.stride = self.kernel_size if stride is None else _ints(self._label(), "stride", stride, n, 1)
        self.padding = _padding(self._label(), padding, n)
        self._set_layout(channel_axis)

    def _window(self, x: jax.Array):
        """Window dims, strides and explicit padding over every axis of `x`."""
        axes = self._spatial_axes(x)
        dims, strides = [1] * x.ndim, [1] * x.ndim
        pads: List[Tuple[int, ...]] = [(0, 0)] * x.ndim
        spatial_pads = (jax.lax.padtype_to_pads([x.shape[a] for a in axes], self.kernel_size, self.stride,
                                                self.padding)
                        if isinstance(self.padding, str) else self.padding)
        for a, k, s, p in zip(axes, self.kernel_size, self.stride, spatial_pads):
            dims[a], strides[a], pads[a] = k, s, tuple(p)
            if x.shape[a] + sum(p) < k:
                raise ValueError(f"{self._label()}: kernel_size {self.kernel_size} is larger than the padded "
                                 f"input along axis {a} (input shape {x.shape}, padding {self.padding}).")
        return tuple(dims), tuple(strides), tuple(pads)


class _MaxPool(_WindowPool):
    def __init__(self, kernel_size: Ints, stride: Optional[Ints] = None, padding: Padding = "VALID",
                 channel_axis: Optional[int] = -1, return_indices: bool = False, name: Optional[str] = None,
                 in_size: Any = None):
        super().__init__(kernel_size, stride, padding, channel_axis, name, in_size)
        self.return_indices = bool(return_indices)
        self._set_sizes(in_size)

    def update(self, x: Any) -> Union[jax.Array, Tuple[jax.Array, jax.Array]]:
        """The maximum of each window; with `return_indices`, also where it sits in the sample."""
        x = jnp.asarray(x)
        dims, strides, pads = self._window(x)
        low = _identity(x.dtype, "max")
        y = jax.lax.reduce_window(x, low, jax.lax.max, dims, strides, pads)
        if not self.return_indices:
            return y
        sample = x.shape[self._layout(x.shape)[1]:]
        flat = jnp.broadcast_to(jnp.arange(math.prod(sample), dtype=jnp.int32).reshape(sample), x.shape)

        def pick(a, b):  # the larger value; on ties the smaller position
            take_b = (b[0] > a[0]) | ((b[0] == a[0]) & (b[1] < a[1]))
            return jnp.where(take_b, b[0], a[0]), jnp.where(take_b, b[1], a[1])

        inits = (low, np.array(np.iinfo(np.int32).max, np.int32))
        _, idx = jax.lax.reduce_window((jax.lax.stop_gradient(x), flat), inits, pick, dims, strides, pads)
        return y, idx


class _AvgPool(_WindowPool):
    def __init__(self, kernel_size: Ints, stride: Ints = 1, padding: Padding = "VALID",
                 channel_axis: Optional[int] = -1, name: Optional[str] = None, in_size: Any = None):
        super().__init__(kernel_size, stride, padding, channel_axis, name, in_size)
        self._set_sizes(in_size)

    def update(self, x: Any) -> jax.Array:
        """The mean of each window over its non-padded cells."""
        x = jnp.asarray(x)
        x = x if jnp.issubdtype(x.dtype, jnp.inexact) else x.astype(jnp.result_type(float))
        dims, strides, pads = self._window(x)
        zero = _identity(x.dtype, "add")
        total = jax.lax.reduce_window(x, zero, jax.lax.add, dims, strides, pads)
        ones = jnp.ones([s if d > 1 or p != (0, 0) else 1 for s, d, p in zip(x.shape, dims, pads)], x.dtype)
        count = jax.lax.reduce_window(ones, zero, jax.lax.add, dims, strides, pads)
        return total / count


class _LPPool(_WindowPool):
    def __init__(self, norm_type: float, kernel_size: Ints, stride: Optional[Ints] = None,
                 padding: Padding = "VALID", channel_axis: Optional[int] = -1, name: Optional[str] = None,
                 in_size: Any = None):
        super().__init__(kernel_size, stride, padding, channel_axis, name, in_size)
        if isinstance(norm_type, bool) or not isinstance(norm_type, (int, float, np.number)) or \
                not 0 < norm_type < math.inf:
            raise ValueError(f"{self._label()}: norm_type must be a positive finite number, got {norm_type!r}.")
        self.norm_type = float(norm_type)
        self._set_sizes(in_size)

    def update(self, x: Any) -> jax.Array:
        """`(sum(|x|^p) / prod(kernel_size)) ** (1/p)` over each window."""
        x = jnp.asarray(x)
        x = x if jnp.issubdtype(x.dtype, jnp.inexact) else x.astype(jnp.result_type(float))
        dims, strides, pads = self._window(x)
        p = self.norm_type
        total = jax.lax.reduce_window(jnp.abs(x) ** p, _identity(x.dtype, "add"), jax.lax.add, dims, strides,
                                      pads)
        return (total / math.prod(self.kernel_size)) ** (1.0 / p)


class _MaxUnpool(_Spatial):
    def __init__(self, kernel_size: Ints, stride: Optional[Ints] = None, padding: Ints = 0,
                 channel_axis: Optional[int] = -1, name: Optional[str] = None, in_size: Any = None):
        super().__init__(name=name)
        n = self.num_spatial
        self.kernel_size = _ints(self._label(), "kernel_size", kernel_size, n, 1)
        self.stride = self.kernel_size if stride is None else _ints(self._label(), "stride", stride, n, 1)
        self.padding = _ints(self._label(), "padding", padding, n, 0)
        self._set_layout(channel_axis)
        if in_size is not None:
            self.in_size = self._check_in_size(in_size)
            out = jax.eval_shape(lambda x: self.update(x, jnp.zeros(x.shape, jnp.int32)),
                                 jax.ShapeDtypeStruct((1,) + self.in_size, jnp.float32))
            self.out_size = out.shape[1:]

    def update(self, x: Any, indices: Any, output_size: Optional[Sequence[int]] = None) -> jax.Array:
        """Place each value of `x` at its position `indices` (from `MaxPool*`) in a zero array.

        Args:
          x: the pooled values.
          indices: the positions returned by `MaxPool*(return_indices=True)`, same shape as `x`.
          output_size: the N spatial sizes of the result; default
            `(in - 1) * stride - 2 * padding + kernel_size` per spatial axis.

        Raises:
          ValueError: `indices` has another shape than `x`, or a bad `output_size`.
        """
        x, indices = jnp.asarray(x), jnp.asarray(indices)
        axes, start = self._layout(x.shape)
        if indices.shape != x.shape:
            raise ValueError(f"{self._label()}: indices must have the shape of the input {x.shape}, got "
                             f"{indices.shape}. Pass the indices returned with these values by MaxPool.")
        if output_size is None:
            sizes = tuple((x.shape[a] - 1) * s - 2 * p + k
                          for a, s, p, k in zip(axes, self.stride, self.padding, self.kernel_size))
        else:
            sizes = _ints(self._label(), "output_size", output_size, self.num_spatial, 1)
        out_shape = list(x.shape)
        for a, s in zip(axes, sizes):
            out_shape[a] = s
        batch = math.prod(x.shape[:start])
        flat = jnp.zeros((batch, math.prod(out_shape[start:])), x.dtype)
        flat = flat.at[jnp.arange(batch)[:, None], indices.reshape(batch, -1)].set(x.reshape(batch, -1))
        return flat.reshape(out_shape)


class _AdaptivePool(_Spatial):
    _segment = staticmethod(jax.ops.segment_sum)
    _mean = True

    def __init__(self, target_size: Ints, channel_axis: Optional[int] = -1, name: Optional[str] = None,
                 in_size: Any = None):
        super().__init__(name=name)
        self.target_size = _ints(self._label(), "target_size", target_size, self.num_spatial, 1)
        self._set_layout(channel_axis)
        self._set_sizes(in_size)

    def update(self, x: Any) -> jax.Array:
        """Pool each spatial axis into `target_size` contiguous bins.

        Raises:
          ValueError: a target size exceeds the input size along its axis.
        """
        x = jnp.asarray(x)
        if self._mean and not jnp.issubdtype(x.dtype, jnp.inexact):
            x = x.astype(jnp.result_type(float))
        for a, t in zip(self._spatial_axes(x), self.target_size):
            n = x.shape[a]
            if t > n:
                raise ValueError(f"{self._label()}: target_size {self.target_size} exceeds the input size {n} "
                                 f"along axis {a} (input shape {x.shape}); adaptive pooling cannot upsample.")
            lengths = np.array([len(b) for b in np.array_split(np.arange(n), t)])
            ids = np.repeat(np.arange(t), lengths)
            y = self._segment(jnp.moveaxis(x, a, 0), ids, num_segments=t, indices_are_sorted=True)
            if self._mean:
                y = y / lengths.reshape((t,) + (1,) * (x.ndim - 1)).astype(y.dtype)
            x = jnp.moveaxis(y, 0, a)
        return x


class MaxPool1d(_MaxPool):
    """Max pooling over one spatial axis: samples `(length, channels)`, optionally batched.

    Args:
      kernel_size: the window size (an int or 1 int).
      stride: the window step; default: `kernel_size`.
      padding: 'VALID', 'SAME', an int, or `(low, high)` pairs; padded cells are -inf.
      channel_axis: the channel axis of the input (batch axes included when counted from the
        front), or None for inputs without channels.
      return_indices: also return the flat position of each maximum within its sample.
      name: optional module name.
      in_size: optional sample shape; sets `out_size`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> brainstate.nn.MaxPool1d(2)(jnp.arange(12.0).reshape(2, 3, 2)).shape
      (2, 1, 2)
    """

    num_spatial = 1


class MaxPool2d(_MaxPool):
    """Max pooling over two spatial axes: samples `(height, width, channels)`; args as `MaxPool1d`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> brainstate.nn.MaxPool2d(2, 2)(jnp.ones((4, 4, 3))).shape
      (2, 2, 3)
    """

    num_spatial = 2


class MaxPool3d(_MaxPool):
    """Max pooling over three spatial axes: samples `(depth, height, width, channels)`; args as `MaxPool1d`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> brainstate.nn.MaxPool3d(2, 2)(jnp.ones((4, 4, 4, 1))).shape
      (2, 2, 2, 1)
    """

    num_spatial = 3


class AvgPool1d(_AvgPool):
    """Average pooling over one spatial axis: samples `(length, channels)`, optionally batched.

    Args:
      kernel_size: the window size (an int or 1 int).
      stride: the window step; default 1.
      padding: 'VALID', 'SAME', an int, or `(low, high)` pairs; padded cells are left out of the mean.
      channel_axis: the channel axis of the input (batch axes included when counted from the
        front), or None for inputs without channels.
      name: optional module name.
      in_size: optional sample shape; sets `out_size`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> brainstate.nn.AvgPool1d(2, stride=2)(jnp.arange(4.0).reshape(4, 1)).ravel().tolist()
      [0.5, 2.5]
    """

    num_spatial = 1


class AvgPool2d(_AvgPool):
    """Average pooling over two spatial axes: samples `(height, width, channels)`; args as `AvgPool1d`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> brainstate.nn.AvgPool2d(2, 2)(jnp.ones((4, 4, 3))).shape
      (2, 2, 3)
    """

    num_spatial = 2


class AvgPool3d(_AvgPool):
    """Average pooling over three spatial axes: samples `(depth, height, width, channels)`; args as `AvgPool1d`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> brainstate.nn.AvgPool3d(2, 2)(jnp.ones((4, 4, 4, 1))).shape
      (2, 2, 2, 1)
    """

    num_spatial = 3


class LPPool1d(_LPPool):
    """Power-average pooling `(sum(|x|^p) / prod(kernel_size)) ** (1/p)` over one spatial axis.

    Args:
      norm_type: the power p, positive and finite (p=1: mean of |x|; p=2: root mean square).
      kernel_size: the window size (an int or 1 int).
      stride: the window step; default: `kernel_size`.
      padding: 'VALID', 'SAME', an int, or `(low, high)` pairs; padded cells count as zeros.
      channel_axis: the channel axis of the input (batch axes included when counted from the
        front), or None for inputs without channels.
      name: optional module name.
      in_size: optional sample shape; sets `out_size`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> brainstate.nn.LPPool1d(2, 2)(jnp.array([[3.0], [4.0]])).ravel().tolist()
      [3.535533905029297]
    """

    num_spatial = 1


class LPPool2d(_LPPool):
    """Power-average pooling over two spatial axes; args as `LPPool1d`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> brainstate.nn.LPPool2d(2, 2)(jnp.ones((4, 4, 3))).shape
      (2, 2, 3)
    """

    num_spatial = 2


class LPPool3d(_LPPool):
    """Power-average pooling over three spatial axes; args as `LPPool1d`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> brainstate.nn.LPPool3d(2, 2)(jnp.ones((4, 4, 4, 1))).shape
      (2, 2, 2, 1)
    """

    num_spatial = 3


class MaxUnpool1d(_MaxUnpool):
    """Inverse of `MaxPool1d`: put each value back at its max position, zeros elsewhere.

    Call as `layer(x, indices, output_size=None)` with the indices from
    `MaxPool1d(..., return_indices=True)`.

    Args:
      kernel_size: the pooling window size.
      stride: the pooling step; default: `kernel_size`.
      padding: the pooling padding (an int or 1 int), used for the default output size.
      channel_axis: the channel axis of the input (batch axes included when counted from the
        front), or None for inputs without channels.
      name: optional module name.
      in_size: optional sample shape; sets `out_size`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> y, idx = brainstate.nn.MaxPool1d(2, return_indices=True)(jnp.array([[1.0], [3.0]]))
      >>> brainstate.nn.MaxUnpool1d(2)(y, idx).ravel().tolist()
      [0.0, 3.0]
    """

    num_spatial = 1


class MaxUnpool2d(_MaxUnpool):
    """Inverse of `MaxPool2d`; args as `MaxUnpool1d`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> y, idx = brainstate.nn.MaxPool2d(2, return_indices=True)(jnp.ones((2, 2, 1)))
      >>> brainstate.nn.MaxUnpool2d(2)(y, idx).shape
      (2, 2, 1)
    """

    num_spatial = 2


class MaxUnpool3d(_MaxUnpool):
    """Inverse of `MaxPool3d`; args as `MaxUnpool1d`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> y, idx = brainstate.nn.MaxPool3d(2, return_indices=True)(jnp.ones((2, 2, 2, 1)))
      >>> brainstate.nn.MaxUnpool3d(2)(y, idx).shape
      (2, 2, 2, 1)
    """

    num_spatial = 3


class AdaptiveAvgPool1d(_AdaptivePool):
    """Adaptive average pooling of one spatial axis into `target_size` bins.

    Args:
      target_size: the output size of each spatial axis (an int or 1 int), at most the input size.
      channel_axis: the channel axis of the input (batch axes included when counted from the
        front), or None for inputs without channels.
      name: optional module name.
      in_size: optional sample shape; sets `out_size`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> brainstate.nn.AdaptiveAvgPool1d(2)(jnp.arange(5.0).reshape(5, 1)).ravel().tolist()
      [1.0, 3.5]
    """

    num_spatial = 1


class AdaptiveAvgPool2d(_AdaptivePool):
    """Adaptive average pooling of two spatial axes; args as `AdaptiveAvgPool1d`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> brainstate.nn.AdaptiveAvgPool2d(2)(jnp.ones((5, 6, 3))).shape
      (2, 2, 3)
    """

    num_spatial = 2


class AdaptiveAvgPool3d(_AdaptivePool):
    """Adaptive average pooling of three spatial axes; args as `AdaptiveAvgPool1d`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> brainstate.nn.AdaptiveAvgPool3d(2)(jnp.ones((4, 5, 6, 1))).shape
      (2, 2, 2, 1)
    """

    num_spatial = 3


class _AdaptiveMaxPool(_AdaptivePool):
    _segment = staticmethod(jax.ops.segment_max)
    _mean = False


class AdaptiveMaxPool1d(_AdaptiveMaxPool):
    """Adaptive max pooling of one spatial axis into `target_size` bins; args as `AdaptiveAvgPool1d`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> brainstate.nn.AdaptiveMaxPool1d(2)(jnp.arange(4.0).reshape(4, 1)).ravel().tolist()
      [1.0, 3.0]
    """

    num_spatial = 1


class AdaptiveMaxPool2d(_AdaptiveMaxPool):
    """Adaptive max pooling of two spatial axes; args as `AdaptiveAvgPool1d`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> brainstate.nn.AdaptiveMaxPool2d(2)(jnp.ones((5, 6, 3))).shape
      (2, 2, 3)
    """

    num_spatial = 2


class AdaptiveMaxPool3d(_AdaptiveMaxPool):
    """Adaptive max pooling of three spatial axes; args as `AdaptiveAvgPool1d`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> brainstate.nn.AdaptiveMaxPool3d(2)(jnp.ones((4, 5, 6, 1))).shape
      (2, 2, 2, 1)
    """

    num_spatial = 3
