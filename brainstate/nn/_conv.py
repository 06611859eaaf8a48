"""Convolutions: `Conv1d/2d/3d`, `ConvTranspose1d/2d/3d` and `ScaledWSConv1d/2d/3d`.

Layout: by default channels come last, so `in_size` is `(*spatial, channels)` and an input is
`(*spatial, channels)` (unbatched) or `(batch, *spatial, channels)` (batched); with
`channel_first=True` both are `(channels, *spatial)`. Every input must have `N + 1` or `N + 2`
dimensions for an N-d conv, and its channel count must be the layer's; anything else is a
`ValueError` naming the layer and the shape.

The kernel of a conv is `(*window, in_channels // groups, out_channels)`; that of a transposed
conv is `(*window, out_channels, in_channels // groups)`, as in the reference, so its checkpoints
load unchanged. Either is stored with the optional bias (shape `(1, ..., 1, out_channels)`, or
`(1, out_channels, 1, ...)` channels first, as in the reference) in ONE `ParamState` `weight`:
`{'weight': ..., 'bias': ...}` (plus `'gain'` for the scaled weight-standardized convs). A
`w_mask` of the kernel's shape is a fixed constant multiplied into the kernel on every call.

`padding` is 'SAME', 'VALID', an int `p` (`(p, p)` on every spatial axis), a pair `(lo, hi)`
(the same on every axis), or one pair per spatial axis. A transposed conv is the conv of the
input dilated by `stride` (zeros between its elements); its explicit padding applies to that
dilated input, and 'SAME' gives `in * stride` outputs per axis, as `jax.lax.conv_transpose` does.
The transposed kernel is flipped along its window axes before that conv (again as
`jax.lax.conv_transpose` and the reference), so it is the adjoint (gradient) of the conv with the
same kernel read as `(*window, in, out)` of that conv. With `groups=1` a transposed conv with
kernel `w` equals `jax.lax.conv_transpose(x, w, stride, padding, transpose_kernel=True)` with the
kernel spec `(*window, I, O)`.
"""

from typing import Any, Callable, List, Optional, Sequence, Tuple, Union

import jax
import jax.numpy as jnp
import numpy as np

from .._state import ParamState
from . import init
from ._layer_weights import hold, is_param, no_param, read, value_of
from ._linear_variants import _initial, weight_standardization
from ._module import Module

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d",
           "ScaledWSConv1d", "ScaledWSConv2d", "ScaledWSConv3d"]

Init = Union[Callable, Any]
IntOrTuple = Union[int, Tuple[int, ...]]
Padding = Union[str, int, Tuple[int, int], Sequence[Tuple[int, int]]]
_SPATIAL = {1: "W", 2: "HW", 3: "DHW"}


def _positive(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool) and bool(v >= 1)


class _ConvBase(Module):
    """Argument handling shared by every conv layer; subclasses define `_conv_op`.

    `_conv_op(x, params)` (batched `x`, the weight dict) is the whole convolution with mask and
    bias: libraries override it to route the convolution through their own primitive (braintrace).
    """

    num_spatial_dims: int = 0
    # the kernel's feature axes after the window axes, in `lax.conv_general_dilated`'s letters:
    # "IO" = (in // groups, out); transposed convs store "OI" = (out, in // groups)
    kernel_features: str = "IO"

    def __init__(self, in_size: Sequence[int], out_channels: int, kernel_size: IntOrTuple, stride: IntOrTuple,
                 padding: Padding, lhs_dilation: IntOrTuple, rhs_dilation: IntOrTuple, groups: int, w_init: Init,
                 b_init: Optional[Init], w_mask: Optional[Init], channel_first: bool, name: Optional[str],
                 param_type: type):
        super().__init__(name=name)
        n = self.num_spatial_dims
        if isinstance(in_size, (int, np.integer)) or len(in_size) != n + 1:
            layout = "(channels, *spatial)" if channel_first else "(*spatial, channels)"
            raise ValueError(f"{self._label()}: in_size must have {n + 1} entries {layout}, got {in_size!r}.")
        self.in_size = tuple(in_size)
        self.channel_first = bool(channel_first)
        self.in_channels = self.in_size[0] if channel_first else self.in_size[-1]
        for arg, v in (("out_channels", out_channels), ("groups", groups)):
            if not _positive(v):
                raise ValueError(f"{self._label()}: {arg} must be a positive int, got {v!r}.")
        if self.in_channels % groups or out_channels % groups:
            raise ValueError(f"{self._label()}: groups={groups} must divide both the input channels "
                             f"({self.in_channels}) and out_channels ({out_channels}).")
        self.out_channels, self.groups = int(out_channels), int(groups)
        self.kernel_size = self._tuple(kernel_size, "kernel_size")
        self.stride = self._tuple(stride, "stride")
        self.lhs_dilation = self._tuple(lhs_dilation, "lhs_dilation")
        self.rhs_dilation = self._tuple(rhs_dilation, "rhs_dilation")
        self.padding = self._padding(padding)
        spec = _SPATIAL[n]
        lhs = "NC" + spec if channel_first else "N" + spec + "C"
        self.dimension_numbers = (lhs, spec + self.kernel_features, lhs)

        features = {"I": self.in_channels // groups, "O": self.out_channels}
        shape = self.kernel_size + tuple(features[c] for c in self.kernel_features)
        self.kernel_shape = shape
        params = {"weight": _initial(self, w_init, shape, "w_init")}
        if b_init is not None:
            bias = _initial(self, b_init, (self.out_channels,), "b_init")
            # stored broadcastable against the output, as the reference: (1, ..., 1, C) channels
            # last, (1, C, 1, ..., 1) channels first; an `nn.Param` is kept as given
            params["bias"] = bias if is_param(bias) else jnp.reshape(bias, self._bias_shape())
        self._extra_params(params)
        no_param(self._label(), w_mask, "w_mask")
        self.w_mask = None if w_mask is None else _initial(self, w_mask, shape, "w_mask")
        self.weight = hold(param_type, params)
        values = read(self.weight)
        probe = jax.ShapeDtypeStruct((1,) + self.in_size, jnp.result_type(values["weight"]))
        self.out_size = jax.eval_shape(lambda x: self._conv_op(x, values), probe).shape[1:]

    def _extra_params(self, params: dict) -> None:
        """Hook for subclasses that add parameters (the weight-standardization gain)."""

    def _tuple(self, value: IntOrTuple, arg: str) -> Tuple[int, ...]:
        n = self.num_spatial_dims
        values: Optional[Tuple[Any, ...]] = (
            (value,) * n if _positive(value) else tuple(value) if isinstance(value, (tuple, list)) else None)
        if values is None or len(values) != n or not all(_positive(v) for v in values):
            raise ValueError(f"{self._label()}: {arg} must be a positive int or a tuple of {n} positive ints, "
                             f"got {value!r}.")
        return tuple(int(v) for v in values)

    @property
    def channels_last(self) -> bool:
        """Whether the channels are the last axis (the default; `channel_first=False`)."""
        return not self.channel_first

    def _padding(self, padding: Padding) -> Union[str, Tuple[Tuple[int, int], ...]]:
        n = self.num_spatial_dims
        if isinstance(padding, str):
            if padding.upper() not in ("SAME", "VALID"):
                raise ValueError(f"{self._label()}: padding must be 'SAME', 'VALID', an int or (low, high) "
                                 f"pairs, got {padding!r}.")
            return padding.upper()
        if isinstance(padding, (int, np.integer)) and not isinstance(padding, bool) and padding >= 0:
            return ((int(padding), int(padding)),) * n
        is_int = lambda i: isinstance(i, (int, np.integer)) and not isinstance(i, bool) and i >= 0
        is_pair = lambda p: isinstance(p, (tuple, list)) and len(p) == 2 and all(map(is_int, p))
        items: List[Any] = list(padding) if isinstance(padding, (tuple, list)) else []  # checked below
        if items and all(map(is_int, items)):
            if n == 1 and len(items) == 2:  # one spatial axis: (low, high)
                return ((int(items[0]), int(items[1])),)
            if len(items) == n:  # one symmetric amount per spatial axis
                return tuple((int(p), int(p)) for p in items)
        if len(items) in (1, n) and all(map(is_pair, items)):
            pairs = tuple((int(low), int(high)) for low, high in items)
            return pairs * n if len(pairs) == 1 else pairs
        raise ValueError(f"{self._label()}: padding must be 'SAME', 'VALID', a non-negative int, {n} ints (one "
                         f"per spatial axis), or one or {n} (low, high) pairs, got {padding!r}.")

    def _kernel(self, params: dict) -> jax.Array:
        w = params["weight"]
        return w if self.w_mask is None else w * self.w_mask

    def _conv_op(self, x: jax.Array, params: dict) -> jax.Array:
        raise NotImplementedError

    def update(self, x: Any) -> jax.Array:
        """Convolve `x` (unbatched `in_size`-like, or with a leading batch axis)."""
        x = jnp.asarray(x)
        n = self.num_spatial_dims
        if x.ndim not in (n + 1, n + 2):
            raise ValueError(f"{self._label()} expects inputs with {n + 1} (unbatched) or {n + 2} (batched) "
                             f"dimensions, got shape {x.shape}.")
        channels = x.shape[-n - 1] if self.channel_first else x.shape[-1]
        if channels != self.in_channels:
            where = "first (after any batch axis)" if self.channel_first else "last"
            raise ValueError(f"{self._label()} expects {self.in_channels} input channels on the {where} axis, "
                             f"got {channels} (input shape {x.shape}).")
        if tuple(x.shape[-n - 1:]) != self.in_size:
            raise ValueError(f"{self._label()} was built for inputs of shape {self.in_size} (plus an optional "
                             f"batch axis), got shape {x.shape}. Build the layer with in_size matching the data.")
        batched = x.ndim == n + 2
        y = self._conv_op(x if batched else x[None], read(self.weight))
        return y if batched else y[0]

    def _bias(self, y: jax.Array, params: dict) -> jax.Array:
        if "bias" not in params:
            return y
        b = params["bias"]
        if jnp.ndim(b) == 1:  # an `nn.Param` of shape (C,)
            b = jnp.reshape(b, self._bias_shape())
        return y + b

    def _bias_shape(self) -> Tuple[int, ...]:
        ones = (1,) * self.num_spatial_dims
        return (1, self.out_channels) + ones if self.channel_first else ones + (self.out_channels,)


class _Conv(_ConvBase):
    def __init__(self, in_size: Sequence[int], out_channels: int, kernel_size: IntOrTuple,
                 stride: IntOrTuple = 1, padding: Padding = "SAME", lhs_dilation: IntOrTuple = 1,
                 rhs_dilation: IntOrTuple = 1, groups: int = 1, w_init: Init = init.XavierNormal(),
                 b_init: Optional[Init] = None, w_mask: Optional[Init] = None, channel_first: bool = False,
                 name: Optional[str] = None, param_type: type = ParamState):
        super().__init__(in_size, out_channels, kernel_size, stride, padding, lhs_dilation, rhs_dilation, groups,
                         w_init, b_init, w_mask, channel_first, name, param_type)

    def _conv_op(self, x: jax.Array, params: dict) -> jax.Array:
        padding: Union[str, Sequence[Tuple[int, int]]] = self.padding
        if isinstance(padding, str) and any(d > 1 for d in self.lhs_dilation):
            # lax takes string padding only without input dilation: pad the dilated input explicitly.
            spatial = x.shape[2:] if self.channel_first else x.shape[1:-1]
            dilated_in = [(i - 1) * d + 1 for i, d in zip(spatial, self.lhs_dilation)]
            dilated_k = [(k - 1) * d + 1 for k, d in zip(self.kernel_size, self.rhs_dilation)]
            padding = jax.lax.padtype_to_pads(dilated_in, dilated_k, self.stride, padding)
        y = jax.lax.conv_general_dilated(
            x, self._kernel(params), window_strides=self.stride, padding=padding,
            lhs_dilation=self.lhs_dilation, rhs_dilation=self.rhs_dilation,
            dimension_numbers=self.dimension_numbers, feature_group_count=self.groups)
        return self._bias(y, params)


class _ConvTranspose(_ConvBase):
    kernel_features = "OI"

    # The kernel is (*window, out, in // groups): the initializer's input-feature axis is the last
    # one. Xavier's scale is symmetric in fan-in and fan-out, so this gives the reference's scale.
    def __init__(self, in_size: Sequence[int], out_channels: int, kernel_size: IntOrTuple,
                 stride: IntOrTuple = 1, padding: Padding = "SAME", rhs_dilation: IntOrTuple = 1,
                 groups: int = 1, w_init: Init = init.XavierNormal(in_axis=-1, out_axis=-2),
                 b_init: Optional[Init] = None,
                 w_mask: Optional[Init] = None, channel_first: bool = False, name: Optional[str] = None,
                 param_type: type = ParamState):
        super().__init__(in_size, out_channels, kernel_size, stride, padding, 1, rhs_dilation, groups, w_init,
                         b_init, w_mask, channel_first, name, param_type)

    def _pads(self) -> Tuple[Tuple[int, int], ...]:
        """Explicit pads of the stride-dilated input for 'SAME'/'VALID' (`lax.conv_transpose`'s rule)."""
        if not isinstance(self.padding, str):
            return self.padding
        pads = []
        for k, s, d in zip(self.kernel_size, self.stride, self.rhs_dilation):
            k = (k - 1) * d + 1  # the dilated window
            if self.padding == "SAME":
                total = k + s - 2
                lo = k - 1 if s > k - 1 else -(-total // 2)
            else:
                total = k + s - 2 + max(k - s, 0)
                lo = k - 1
            pads.append((lo, total - lo))
        return tuple(pads)

    def _conv_op(self, x: jax.Array, params: dict) -> jax.Array:
        # flipping the window makes this the adjoint of a forward conv (`lax.conv_transpose`'s
        # `transpose_kernel=True`), the reference's convention for the stored kernel
        kernel = jnp.flip(self._kernel(params), axis=tuple(range(self.num_spatial_dims)))
        y = jax.lax.conv_general_dilated(
            x, kernel, window_strides=(1,) * self.num_spatial_dims, padding=self._pads(),
            lhs_dilation=self.stride, rhs_dilation=self.rhs_dilation,
            dimension_numbers=self.dimension_numbers, feature_group_count=self.groups)
        return self._bias(y, params)


class _ScaledWSConv(_Conv):
    def __init__(self, in_size: Sequence[int], out_channels: int, kernel_size: IntOrTuple,
                 stride: IntOrTuple = 1, padding: Padding = "SAME", lhs_dilation: IntOrTuple = 1,
                 rhs_dilation: IntOrTuple = 1, groups: int = 1, ws_gain: bool = True, eps: float = 1e-4,
                 w_init: Init = init.XavierNormal(), b_init: Optional[Init] = None,
                 w_mask: Optional[Init] = None, channel_first: bool = False, name: Optional[str] = None,
                 param_type: type = ParamState):
        self.ws_gain, self.eps = bool(ws_gain), eps
        super().__init__(in_size, out_channels, kernel_size, stride, padding, lhs_dilation, rhs_dilation, groups,
                         w_init, b_init, w_mask, channel_first, name, param_type)

    def _extra_params(self, params: dict) -> None:
        if self.ws_gain:
            w = jnp.asarray(value_of(params["weight"]))
            params["gain"] = jnp.ones((1,) * (w.ndim - 1) + (w.shape[-1],), w.dtype)

    def _kernel(self, params: dict) -> jax.Array:
        w = weight_standardization(params["weight"], self.eps, params.get("gain"))
        return w if self.w_mask is None else w * self.w_mask


def _doc(kind: str, n: int, extra: str = "", kernel: str = "`(*window, in // groups, out)`") -> str:
    spatial = {1: "(length, channels)", 2: "(height, width, channels)", 3: "(depth, height, width, channels)"}[n]
    return f"""A {n}-d {kind}; inputs {spatial} or with a leading batch axis (channels last by default).

    Args:
      in_size: the input shape without batch, {spatial} (channels first with `channel_first=True`).
      out_channels: number of output channels.
      kernel_size: window size, an int or a tuple of {n} ints.
      stride: an int or a tuple of {n} ints.
      padding: 'SAME', 'VALID', an int, a (low, high) pair, or {n} such pairs.
      rhs_dilation: kernel dilation, an int or a tuple of {n} ints.
      groups: number of channel groups (must divide both channel counts).
      w_init: initializer or array for the kernel {kernel}.
      b_init: initializer or array for the bias (`(out_channels,)` values), or None.
      w_mask: optional fixed mask multiplied into the kernel.
      channel_first: whether the channel axis comes before the spatial axes.
      name: optional module name.
      param_type: the State class of the parameters.{extra}

    Raises:
      ValueError: bad constructor arguments; inputs of the wrong dimensionality or channel count.
    """


_T_KERNEL = ("`(*window, out, in // groups)`, flipped along the window axes\n        when applied "
             "(default: Xavier normal, fan-in `in // groups * window`)")
_CONV_EXTRA = "\n      lhs_dilation: input dilation, an int or a tuple of ints."
_WS_EXTRA = _CONV_EXTRA + ("\n      ws_gain: learn a per-output-channel gain ('gain').\n"
                           "      eps: lower bound on `var * fan_in` in the standardization.")


class Conv1d(_Conv):
    __doc__ = _doc("convolution", 1, _CONV_EXTRA) + """
    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> brainstate.nn.Conv1d((10, 3), 4, 3)(jnp.ones((2, 10, 3))).shape
      (2, 10, 4)
    """
    num_spatial_dims = 1


class Conv2d(_Conv):
    __doc__ = _doc("convolution", 2, _CONV_EXTRA) + """
    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> conv = brainstate.nn.Conv2d((8, 8, 3), 4, 3, stride=2)
      >>> conv(jnp.ones((2, 8, 8, 3))).shape, conv.out_size
      ((2, 4, 4, 4), (4, 4, 4))
    """
    num_spatial_dims = 2


class Conv3d(_Conv):
    __doc__ = _doc("convolution", 3, _CONV_EXTRA) + """
    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> brainstate.nn.Conv3d((4, 4, 4, 1), 2, 3)(jnp.ones((4, 4, 4, 1))).shape
      (4, 4, 4, 2)
    """
    num_spatial_dims = 3


class ConvTranspose1d(_ConvTranspose):
    __doc__ = _doc("transposed convolution", 1, kernel=_T_KERNEL) + """
    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> brainstate.nn.ConvTranspose1d((5, 3), 2, 3, stride=2)(jnp.ones((5, 3))).shape
      (10, 2)
    """
    num_spatial_dims = 1


class ConvTranspose2d(_ConvTranspose):
    __doc__ = _doc("transposed convolution", 2, kernel=_T_KERNEL) + """
    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> brainstate.nn.ConvTranspose2d((4, 4, 3), 2, 3, stride=2)(jnp.ones((4, 4, 3))).shape
      (8, 8, 2)
    """
    num_spatial_dims = 2


class ConvTranspose3d(_ConvTranspose):
    __doc__ = _doc("transposed convolution", 3, kernel=_T_KERNEL) + """
    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> brainstate.nn.ConvTranspose3d((2, 2, 2, 1), 2, 3, stride=2)(jnp.ones((2, 2, 2, 1))).shape
      (4, 4, 4, 2)
    """
    num_spatial_dims = 3


class ScaledWSConv1d(_ScaledWSConv):
    __doc__ = _doc("convolution with scaled weight standardization", 1, _WS_EXTRA) + """
    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> brainstate.nn.ScaledWSConv1d((10, 3), 4, 3)(jnp.ones((2, 10, 3))).shape
      (2, 10, 4)
    """
    num_spatial_dims = 1


class ScaledWSConv2d(_ScaledWSConv):
    __doc__ = _doc("convolution with scaled weight standardization", 2, _WS_EXTRA) + """
    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> brainstate.nn.ScaledWSConv2d((8, 8, 3), 4, 3)(jnp.ones((8, 8, 3))).shape
      (8, 8, 4)
    """
    num_spatial_dims = 2


class ScaledWSConv3d(_ScaledWSConv):
    __doc__ = _doc("convolution with scaled weight standardization", 3, _WS_EXTRA) + """
    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> brainstate.nn.ScaledWSConv3d((4, 4, 4, 1), 2, 3)(jnp.ones((4, 4, 4, 1))).shape
      (4, 4, 4, 2)
    """
    num_spatial_dims = 3
