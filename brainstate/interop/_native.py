"""Framework-neutral descriptions of the layers that convert natively.

Each `*_spec(module)` reads a BrainState layer into a plain dict (arrays in our layout, options
as the other frameworks name them), or returns None when that instance has no exact counterpart
(a weight mask, a layer norm over several axes, ...). Each `make_*` builds the BrainState layer
back from such a dict. The framework modules only translate these dicts to and from their own
layer classes, so a layout rule (our kernels are `(in, out)`, `(*window, in, out)`) is written
once.
"""

from typing import Any, Dict, Optional, Sequence, Tuple

import jax
import jax.numpy as jnp

from .. import environ, nn
from .._state import State
from ..transform import eval_shape

__all__ = ["linear_spec", "make_linear", "conv_spec", "make_conv", "layer_norm_spec", "make_layer_norm",
           "rms_norm_spec", "make_rms_norm", "embedding_spec", "make_embedding", "dropout_spec", "make_dropout",
           "CONVS", "output_size"]

Spec = Dict[str, Any]
CONVS = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}


def _state_value(holder: Any) -> Any:
    """The value of a layer's weight state; None when the layer holds `nn.Param`s instead (a dict
    or a Param), whose constraint and prior the other frameworks' layers cannot carry."""
    return holder.value if isinstance(holder, State) else None


def linear_spec(m: Any) -> Optional[Spec]:
    """`{'kernel': (in, out), 'bias': (out,) | None}` for a plain `Linear`."""
    if type(m) is not nn.Linear or m.w_mask is not None:
        return None
    p = _state_value(m.weight)
    if p is None:
        return None
    return {"kernel": p["weight"], "bias": p.get("bias")}


def make_linear(kernel: Any, bias: Any) -> nn.Linear:
    kernel = jnp.asarray(kernel)
    bias = None if bias is None else jnp.asarray(bias)
    return nn.Linear(kernel.shape[0], kernel.shape[1], w_init=kernel, b_init=bias)


def conv_spec(m: Any) -> Optional[Spec]:
    """Kernel `(*window, in // groups, out)`, bias, and the conv options, for a plain conv."""
    if type(m) not in CONVS.values() or m.w_mask is not None:
        return None
    p = _state_value(m.weight)
    if p is None:
        return None
    bias = p.get("bias")
    bias = None if bias is None else jnp.reshape(bias, (-1,))  # stored as (1, ..., C): as (C,)
    return {"ndim": m.num_spatial_dims, "kernel": p["weight"], "bias": bias, "stride": m.stride,
            "padding": m.padding, "lhs_dilation": m.lhs_dilation, "rhs_dilation": m.rhs_dilation,
            "groups": m.groups, "channel_first": m.channel_first, "in_size": m.in_size}


def make_conv(kernel: Any, bias: Any, in_size: Sequence[int], *, stride: Sequence[int], padding: Any,
              lhs_dilation: Sequence[int], rhs_dilation: Sequence[int], groups: int,
              channel_first: bool) -> Any:
    kernel = jnp.asarray(kernel)
    ndim = kernel.ndim - 2
    return CONVS[ndim](tuple(in_size), kernel.shape[-1], kernel.shape[:ndim], stride=tuple(stride),
                       padding=padding, lhs_dilation=tuple(lhs_dilation), rhs_dilation=tuple(rhs_dilation),
                       groups=groups, w_init=kernel, b_init=None if bias is None else jnp.asarray(bias),
                       channel_first=channel_first)


def _single_axis(m: Any) -> bool:
    """A per-sample norm over the one feature axis of a 1-d `in_size`, computed plainly."""
    return (len(m.in_size) == 1 and m.reduction_axes == (0,) and m.feature_axes == (0,)
            and m.axis_name is None and m.dtype is None)


def layer_norm_spec(m: Any) -> Optional[Spec]:
    """`{'features', 'epsilon', 'scale', 'bias', 'use_fast_variance'}` for a 1-d `LayerNorm`."""
    if type(m) is not nn.LayerNorm or m.in_size is None or not _single_axis(m):
        return None
    p = {} if m.weight is None else _state_value(m.weight)
    if p is None:
        return None
    return {"features": m.in_size[0], "epsilon": m.epsilon, "scale": p.get("scale"), "bias": p.get("bias"),
            "use_fast_variance": m.use_fast_variance}


def make_layer_norm(features: int, epsilon: float, scale: Any, bias: Any, use_fast_variance: bool) -> nn.LayerNorm:
    return nn.LayerNorm(features, epsilon=epsilon, use_scale=scale is not None, use_bias=bias is not None,
                        scale_init=_array_or_none(scale, 1.0), bias_init=_array_or_none(bias, 0.0),
                        use_fast_variance=use_fast_variance)


def rms_norm_spec(m: Any) -> Optional[Spec]:
    """`{'features', 'epsilon', 'scale'}` for a 1-d `RMSNorm`."""
    if type(m) is not nn.RMSNorm or m.in_size is None or not _single_axis(m):
        return None
    p = {} if m.scale is None else _state_value(m.scale)
    if p is None:
        return None
    return {"features": m.in_size[0], "epsilon": m.epsilon, "scale": p.get("scale")}


def make_rms_norm(features: int, epsilon: float, scale: Any) -> nn.RMSNorm:
    return nn.RMSNorm(features, epsilon=epsilon, use_scale=scale is not None, scale_init=_array_or_none(scale, 1.0))


def embedding_spec(m: Any) -> Optional[Spec]:
    """`{'table': (num, features)}` for an `Embedding` without padding, norms or freezing."""
    if (type(m) is not nn.Embedding or m.padding_idx is not None or m.max_norm is not None
            or m.scale_grad_by_freq or m.freeze or m.out_size is None or len(m.out_size) != 1):
        return None
    table = _state_value(m.weight)
    return None if table is None else {"table": table}


def make_embedding(table: Any) -> nn.Embedding:
    table = jnp.asarray(table)
    return nn.Embedding(table.shape[0], table.shape[1], embedding_init=table)


def dropout_spec(m: Any) -> Optional[Spec]:
    """`{'rate', 'broadcast_dims'}` for a `Dropout` (rate: the probability of DROPPING)."""
    if type(m) is not nn.Dropout:
        return None
    return {"rate": _complement(m.prob), "broadcast_dims": tuple(m.broadcast_dims)}


def make_dropout(rate: float, broadcast_dims: Sequence[int] = ()) -> nn.Dropout:
    return nn.Dropout(_complement(rate), broadcast_dims=tuple(broadcast_dims))


def _array_or_none(value: Any, fill: float) -> Any:
    return jnp.asarray(value) if value is not None else fill


def _complement(p: float) -> float:
    # Rounded so that keep -> drop -> keep gives back the same float (1 - (1 - 0.8) != 0.8).
    return round(1.0 - float(p), 12)


def output_size(layer: Any, in_size: Optional[Tuple[int, ...]]) -> Optional[Tuple[int, ...]]:
    """The unbatched output shape of `layer` for float inputs of `in_size`, or None if unknown.

    Used while reading a foreign `Sequential` to know each layer's input shape (a convolution
    needs its spatial sizes). Evaluated in evaluation mode, without computing or writing anything.
    """
    if in_size is None:
        return None
    try:
        with environ.context(fit=False):
            out = eval_shape(layer, jax.ShapeDtypeStruct(tuple(in_size), jnp.float32))
    except Exception:  # any failure (integer inputs, several outputs) only means "unknown"
        return None
    return tuple(out.shape) if isinstance(out, jax.ShapeDtypeStruct) else None
