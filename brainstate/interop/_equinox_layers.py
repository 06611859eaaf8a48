"""The layers that convert natively between BrainState and Equinox.

Equinox layers act on one sample, channels first, and store weights output-major: `Linear`'s
weight is `(out, in)` (ours `(in, out)`), a convolution's `(out, in // groups, *window)` with a
bias of shape `(out, 1, ..., 1)` (ours `(*window, in // groups, out)` and `(out,)`). Each mapping
transposes between the two layouts. Only channels-first convolutions without input dilation,
layer norms computed in two passes (`use_fast_variance=False`, as Equinox does) and dropout
without broadcast axes have exact counterparts; the rest are wrapped.
"""

from typing import Any, Callable, List, Optional, Tuple

import equinox as eqx
import jax
import jax.numpy as jnp

from .. import environ, nn
from . import _native as native
from ._layers import LayerMapping, register_layer_mapping

__all__ = []

_KEY = jax.random.PRNGKey(0)  # only satisfies constructors: every weight is replaced right after
_EQX_CONVS = {1: eqx.nn.Conv1d, 2: eqx.nn.Conv2d, 3: eqx.nn.Conv3d}


def _set(layer: Any, **arrays: Any) -> Any:
    names = [k for k, v in arrays.items() if v is not None]
    return eqx.tree_at(lambda l: [getattr(l, n) for n in names], layer, [arrays[n] for n in names])


# -- Linear <-> eqx.nn.Linear ----------------------------------------------------------------------
def _linear_to(m: Any) -> Optional[eqx.nn.Linear]:
    spec = native.linear_spec(m)
    if spec is None:
        return None
    k, b = spec["kernel"], spec["bias"]
    layer = eqx.nn.Linear(k.shape[0], k.shape[1], use_bias=b is not None, dtype=k.dtype, key=_KEY)
    return _set(layer, weight=k.T, bias=b)


def _linear_from(layer: eqx.nn.Linear, in_size: Optional[Tuple[int, ...]]) -> Optional[nn.Linear]:
    if layer.in_features == "scalar" or layer.out_features == "scalar":
        return None
    return native.make_linear(layer.weight.T, layer.bias)


# -- Conv1d/2d/3d (channels first) <-> eqx.nn.Conv1d/2d/3d -----------------------------------------
def _conv_to(m: Any) -> Optional[Any]:
    spec = native.conv_spec(m)
    if spec is None or not spec["channel_first"] or max(spec["lhs_dilation"]) > 1:
        return None
    k, b, n = spec["kernel"], spec["bias"], spec["ndim"]
    weight = jnp.transpose(k, (n + 1, n) + tuple(range(n)))
    layer = _EQX_CONVS[n](k.shape[-2] * spec["groups"], k.shape[-1], k.shape[:n], stride=spec["stride"],
                          padding=spec["padding"], dilation=spec["rhs_dilation"], groups=spec["groups"],
                          use_bias=b is not None, dtype=k.dtype, key=_KEY)
    return _set(layer, weight=weight, bias=None if b is None else b.reshape((-1,) + (1,) * n))


def _conv_from(layer: Any, in_size: Optional[Tuple[int, ...]]) -> Any:
    n = layer.num_spatial_dims
    if (layer.padding_mode != "ZEROS" or layer.padding == "SAME_LOWER" or in_size is None or len(in_size) != n + 1
            or in_size[0] != layer.in_channels):
        return None
    kernel = jnp.transpose(layer.weight, tuple(range(2, n + 2)) + (1, 0))
    bias = None if layer.bias is None else layer.bias.reshape(-1)
    return native.make_conv(kernel, bias, in_size, stride=layer.stride, padding=layer.padding, lhs_dilation=(1,) * n,
                            rhs_dilation=layer.dilation, groups=layer.groups, channel_first=True)


# -- LayerNorm / RMSNorm ---------------------------------------------------------------------------
def _layer_norm_to(m: Any) -> Optional[eqx.nn.LayerNorm]:
    spec = native.layer_norm_spec(m)
    if spec is None or spec["use_fast_variance"]:
        return None
    scale, bias = spec["scale"], spec["bias"]
    layer = eqx.nn.LayerNorm(spec["features"], eps=spec["epsilon"], use_weight=scale is not None,
                             use_bias=bias is not None)
    return _set(layer, weight=scale, bias=bias)


def _layer_norm_from(layer: eqx.nn.LayerNorm, in_size: Optional[Tuple[int, ...]]) -> Optional[nn.LayerNorm]:
    if len(layer.shape) != 1:
        return None
    return native.make_layer_norm(layer.shape[0], layer.eps, layer.weight, layer.bias, use_fast_variance=False)


def _rms_norm_to(m: Any) -> Optional[eqx.nn.RMSNorm]:
    spec = native.rms_norm_spec(m)
    if spec is None:
        return None
    layer = eqx.nn.RMSNorm(spec["features"], eps=spec["epsilon"], use_weight=spec["scale"] is not None,
                           use_bias=False)
    return _set(layer, weight=spec["scale"])


def _rms_norm_from(layer: eqx.nn.RMSNorm, in_size: Optional[Tuple[int, ...]]) -> Optional[nn.RMSNorm]:
    if len(layer.shape) != 1 or layer.use_bias:
        return None
    return native.make_rms_norm(layer.shape[0], layer.eps, layer.weight)


# -- Embedding <-> eqx.nn.Embedding ----------------------------------------------------------------
def _embedding_to(m: Any) -> Optional[eqx.nn.Embedding]:
    spec = native.embedding_spec(m)
    return None if spec is None else eqx.nn.Embedding(weight=spec["table"])


def _embedding_from(layer: eqx.nn.Embedding, in_size: Optional[Tuple[int, ...]]) -> nn.Embedding:
    return native.make_embedding(layer.weight)


# -- Dropout <-> eqx.nn.Dropout --------------------------------------------------------------------
def _dropout_to(m: Any) -> Optional[eqx.nn.Dropout]:
    spec = native.dropout_spec(m)
    if spec is None or spec["broadcast_dims"]:
        return None
    # evaluation if `fit` is False now, else training (Equinox's default); `eqx.nn.inference_mode` switches it
    return eqx.nn.Dropout(spec["rate"], inference=environ.get("fit", default=None) is False)


def _dropout_from(layer: eqx.nn.Dropout, in_size: Optional[Tuple[int, ...]]) -> nn.Dropout:
    return native.make_dropout(layer.p)


_MAPPINGS: List[Tuple[type, type, Callable[..., Any], Callable[..., Any]]] = [
    (nn.Linear, eqx.nn.Linear, _linear_from, _linear_to),
    (nn.Conv1d, eqx.nn.Conv1d, _conv_from, _conv_to),
    (nn.Conv2d, eqx.nn.Conv2d, _conv_from, _conv_to),
    (nn.Conv3d, eqx.nn.Conv3d, _conv_from, _conv_to),
    (nn.LayerNorm, eqx.nn.LayerNorm, _layer_norm_from, _layer_norm_to),
    (nn.RMSNorm, eqx.nn.RMSNorm, _rms_norm_from, _rms_norm_to),
    (nn.Embedding, eqx.nn.Embedding, _embedding_from, _embedding_to),
    (nn.Dropout, eqx.nn.Dropout, _dropout_from, _dropout_to),
]
for _bst, _foreign, _from, _to in _MAPPINGS:
    register_layer_mapping(LayerMapping(_bst, "equinox", _foreign, _from, _to))
