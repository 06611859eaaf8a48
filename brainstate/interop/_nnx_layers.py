"""The layers that convert natively between BrainState and Flax NNX.

NNX lays weights out as we do (`kernel` `(in, out)` / `(*window, in, out)`, channels last), so
each mapping moves arrays unchanged between our one `weight` ParamState dict and NNX's separate
`kernel` / `bias` / `scale` / `embedding` Params. A layer whose options have no exact counterpart
on the other side (a compute dtype, a mask, circular padding, several normalized axes) is
declined and carried by the generic wrapper instead.
"""

from typing import Any, Callable, List, Optional, Tuple

from flax import nnx

from .. import environ, nn
from . import _native as native
from ._layers import LayerMapping, register_layer_mapping
from ._nnx import RNGS, new_key

__all__ = []

_RNGS = nnx.Rngs(0)  # only satisfies constructors: every weight comes from `_const` initialisers


def _const(value: Any):
    return lambda *args, **kwargs: value


def _get(variable: Any) -> Any:
    return None if variable is None else variable.get_value()


def _plain(layer: Any) -> bool:
    """No compute-dtype or precision override: the layer computes as our layers do."""
    return all(getattr(layer, a, None) is None for a in ("dtype", "precision", "preferred_element_type"))


def _axis_is_last(axes: Any) -> bool:
    return axes == -1 or tuple(axes) in ((-1,),)


# -- Linear <-> nnx.Linear -------------------------------------------------------------------------
def _linear_to(m: Any) -> Optional[nnx.Linear]:
    spec = native.linear_spec(m)
    if spec is None:
        return None
    k, b = spec["kernel"], spec["bias"]
    return nnx.Linear(k.shape[0], k.shape[1], use_bias=b is not None, param_dtype=k.dtype, kernel_init=_const(k),
                      bias_init=_const(b), rngs=_RNGS)


def _linear_from(layer: nnx.Linear, in_size: Optional[Tuple[int, ...]]) -> Optional[nn.Linear]:
    if not _plain(layer):
        return None
    return native.make_linear(layer.kernel.get_value(), _get(layer.bias))


# -- Conv1d/2d/3d <-> nnx.Conv ---------------------------------------------------------------------
def _conv_to(m: Any) -> Optional[nnx.Conv]:
    spec = native.conv_spec(m)
    if spec is None or spec["channel_first"] or (isinstance(spec["padding"], str) and max(spec["lhs_dilation"]) > 1):
        return None
    k, b = spec["kernel"], spec["bias"]
    return nnx.Conv(k.shape[-2] * spec["groups"], k.shape[-1], k.shape[:-2], strides=spec["stride"],
                    padding=spec["padding"], input_dilation=spec["lhs_dilation"],
                    kernel_dilation=spec["rhs_dilation"], feature_group_count=spec["groups"],
                    use_bias=b is not None, param_dtype=k.dtype, kernel_init=_const(k), bias_init=_const(b),
                    rngs=_RNGS)


def _conv_from(layer: nnx.Conv, in_size: Optional[Tuple[int, ...]]) -> Any:
    kernel = layer.kernel.get_value()
    ndim = kernel.ndim - 2
    padding = layer.padding
    if isinstance(padding, int):
        padding = ((padding, padding),) * ndim
    if (not _plain(layer) or layer.mask is not None or in_size is None or len(in_size) != ndim + 1
            or in_size[-1] != layer.in_features or (isinstance(padding, str) and padding not in ("SAME", "VALID"))):
        return None
    tup = lambda v: (v,) * ndim if isinstance(v, int) else tuple(v or (1,) * ndim)  # noqa: E731
    return native.make_conv(kernel, _get(layer.bias), in_size, stride=tup(layer.strides), padding=padding,
                            lhs_dilation=tup(layer.input_dilation), rhs_dilation=tup(layer.kernel_dilation),
                            groups=layer.feature_group_count, channel_first=False)


# -- LayerNorm / RMSNorm <-> nnx.LayerNorm / nnx.RMSNorm -------------------------------------------
def _norm_plain(layer: Any) -> bool:
    return (layer.dtype is None and layer.axis_name is None and _axis_is_last(layer.reduction_axes)
            and _axis_is_last(layer.feature_axes))


def _layer_norm_to(m: Any) -> Optional[nnx.LayerNorm]:
    spec = native.layer_norm_spec(m)
    if spec is None:
        return None
    scale, bias = spec["scale"], spec["bias"]
    dtype = (scale if scale is not None else bias).dtype if (scale is not None or bias is not None) else None
    return nnx.LayerNorm(spec["features"], epsilon=spec["epsilon"], use_scale=scale is not None,
                         use_bias=bias is not None, use_fast_variance=spec["use_fast_variance"],
                         scale_init=_const(scale), bias_init=_const(bias), rngs=_RNGS,
                         **({"param_dtype": dtype} if dtype is not None else {}))


def _layer_norm_from(layer: nnx.LayerNorm, in_size: Optional[Tuple[int, ...]]) -> Optional[nn.LayerNorm]:
    if not _norm_plain(layer):
        return None
    return native.make_layer_norm(layer.num_features, layer.epsilon, _get(layer.scale), _get(layer.bias),
                                  layer.use_fast_variance)


def _rms_norm_to(m: Any) -> Optional[nnx.RMSNorm]:
    spec = native.rms_norm_spec(m)
    if spec is None:
        return None
    scale = spec["scale"]
    return nnx.RMSNorm(spec["features"], epsilon=spec["epsilon"], use_scale=scale is not None,
                       scale_init=_const(scale), rngs=_RNGS,
                       **({"param_dtype": scale.dtype} if scale is not None else {}))


def _rms_norm_from(layer: nnx.RMSNorm, in_size: Optional[Tuple[int, ...]]) -> Optional[nn.RMSNorm]:
    if not _norm_plain(layer):
        return None
    return native.make_rms_norm(layer.num_features, layer.epsilon, _get(layer.scale))


# -- Embedding <-> nnx.Embed -----------------------------------------------------------------------
def _embedding_to(m: Any) -> Optional[nnx.Embed]:
    spec = native.embedding_spec(m)
    if spec is None:
        return None
    table = spec["table"]
    return nnx.Embed(table.shape[0], table.shape[1], param_dtype=table.dtype, embedding_init=_const(table),
                     rngs=_RNGS)


def _embedding_from(layer: nnx.Embed, in_size: Optional[Tuple[int, ...]]) -> Optional[nn.Embedding]:
    table = layer.embedding.get_value()
    if layer.dtype is not None and layer.dtype != table.dtype:
        return None
    return native.make_embedding(table)


# -- Dropout <-> nnx.Dropout -----------------------------------------------------------------------
def _dropout_to(m: Any) -> Optional[nnx.Dropout]:
    spec = native.dropout_spec(m)
    if spec is None:
        return None
    # NNX fixes the mode on the layer: evaluation if `fit` is False now, else training (NNX's default);
    # `model.train()` / `model.eval()` switch it.
    fit = environ.get("fit", default=None)
    rngs = nnx.Rngs(dropout=new_key(RNGS.get()))
    return nnx.Dropout(spec["rate"], broadcast_dims=spec["broadcast_dims"], deterministic=fit is False, rngs=rngs)


def _dropout_from(layer: nnx.Dropout, in_size: Optional[Tuple[int, ...]]) -> nn.Dropout:
    return native.make_dropout(layer.rate, layer.broadcast_dims)


_MAPPINGS: List[Tuple[type, type, Callable[..., Any], Callable[..., Any]]] = [
    (nn.Linear, nnx.Linear, _linear_from, _linear_to),
    (nn.Conv1d, nnx.Conv, _conv_from, _conv_to),
    (nn.Conv2d, nnx.Conv, _conv_from, _conv_to),
    (nn.Conv3d, nnx.Conv, _conv_from, _conv_to),
    (nn.LayerNorm, nnx.LayerNorm, _layer_norm_from, _layer_norm_to),
    (nn.RMSNorm, nnx.RMSNorm, _rms_norm_from, _rms_norm_to),
    (nn.Embedding, nnx.Embed, _embedding_from, _embedding_to),
    (nn.Dropout, nnx.Dropout, _dropout_from, _dropout_to),
]
for _bst, _foreign, _from, _to in _MAPPINGS:
    register_layer_mapping(LayerMapping(_bst, "nnx", _foreign, _from, _to))
