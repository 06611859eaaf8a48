"""The layers that convert natively between BrainState and Flax Linen.

A Linen layer is a pair: the module (hyper-parameters only) and its variables. Linen lays
weights out as we do (`kernel` `(in, out)` / `(*window, in, out)`, channels last), so each
mapping moves arrays unchanged between our one `weight` ParamState dict and the `params`
collection's `kernel` / `bias` / `scale` / `embedding`. Layers with options we do not share are
declined and wrapped instead.
"""

from typing import Any, Callable, List, Optional, Tuple

from flax import linen

from .. import environ, nn
from . import _native as native
from ._layers import LayerMapping, register_layer_mapping

__all__ = []

Pair = Tuple[Any, Any]


def _const(value: Any):
    # `init` of the converted module then gives back the converted weights, not fresh ones
    return lambda *args, **kwargs: value


def _params(**arrays: Any) -> dict:
    return {"params": {k: v for k, v in arrays.items() if v is not None}}


def _plain(module: Any) -> bool:
    """No compute dtype, precision or custom dot: the layer computes as our layers do."""
    return all(getattr(module, a, None) is None for a in ("dtype", "precision", "dot_general", "dot_general_cls",
                                                            "conv_general_dilated", "conv_general_dilated_cls"))


def _axis_is_last(axes: Any) -> bool:
    return axes == -1 or tuple(axes) == (-1,)


# -- Linear <-> linen.Dense ------------------------------------------------------------------------
def _linear_to(m: Any) -> Optional[Pair]:
    spec = native.linear_spec(m)
    if spec is None:
        return None
    k, b = spec["kernel"], spec["bias"]
    module = linen.Dense(k.shape[1], use_bias=b is not None, param_dtype=k.dtype, kernel_init=_const(k),
                         bias_init=_const(b))
    return module, _params(kernel=k, bias=b)


def _linear_from(pair: Pair, in_size: Optional[Tuple[int, ...]]) -> Optional[nn.Linear]:
    module, variables = pair
    if not _plain(module):
        return None
    p = variables["params"]
    return native.make_linear(p["kernel"], p.get("bias"))


# -- Conv1d/2d/3d <-> linen.Conv -------------------------------------------------------------------
def _conv_to(m: Any) -> Optional[Pair]:
    spec = native.conv_spec(m)
    if spec is None or spec["channel_first"] or (isinstance(spec["padding"], str) and max(spec["lhs_dilation"]) > 1):
        return None
    k, b = spec["kernel"], spec["bias"]
    module = linen.Conv(k.shape[-1], k.shape[:-2], strides=spec["stride"], padding=spec["padding"],
                        input_dilation=spec["lhs_dilation"], kernel_dilation=spec["rhs_dilation"],
                        feature_group_count=spec["groups"], use_bias=b is not None, param_dtype=k.dtype,
                        kernel_init=_const(k), bias_init=_const(b))
    return module, _params(kernel=k, bias=b)


def _conv_from(pair: Pair, in_size: Optional[Tuple[int, ...]]) -> Any:
    module, variables = pair
    kernel = variables["params"]["kernel"]
    ndim = kernel.ndim - 2
    padding = module.padding
    if isinstance(padding, int):
        padding = ((padding, padding),) * ndim
    if (not _plain(module) or module.mask is not None or in_size is None or len(in_size) != ndim + 1
            or in_size[-1] != kernel.shape[-2] * module.feature_group_count
            or (isinstance(padding, str) and padding not in ("SAME", "VALID"))):
        return None
    tup = lambda v: (v,) * ndim if isinstance(v, int) else tuple(v or (1,) * ndim)  # noqa: E731
    return native.make_conv(kernel, variables["params"].get("bias"), in_size, stride=tup(module.strides),
                            padding=padding, lhs_dilation=tup(module.input_dilation),
                            rhs_dilation=tup(module.kernel_dilation), groups=module.feature_group_count,
                            channel_first=False)


# -- LayerNorm / RMSNorm ---------------------------------------------------------------------------
def _norm_plain(module: Any) -> bool:
    return (module.dtype is None and module.axis_name is None and _axis_is_last(module.reduction_axes)
            and _axis_is_last(module.feature_axes))


def _features(p: dict, in_size: Optional[Tuple[int, ...]]) -> Optional[int]:
    for v in p.values():
        return int(v.shape[-1])
    return None if in_size is None else int(in_size[-1])


def _layer_norm_to(m: Any) -> Optional[Pair]:
    spec = native.layer_norm_spec(m)
    if spec is None:
        return None
    scale, bias = spec["scale"], spec["bias"]
    module = linen.LayerNorm(epsilon=spec["epsilon"], use_scale=scale is not None, use_bias=bias is not None,
                             use_fast_variance=spec["use_fast_variance"], scale_init=_const(scale),
                             bias_init=_const(bias))
    return module, _params(scale=scale, bias=bias)


def _layer_norm_from(pair: Pair, in_size: Optional[Tuple[int, ...]]) -> Optional[nn.LayerNorm]:
    module, variables = pair
    p = variables.get("params", {})
    features = _features(p, in_size)
    if not _norm_plain(module) or features is None:
        return None
    return native.make_layer_norm(features, module.epsilon, p.get("scale"), p.get("bias"), module.use_fast_variance)


def _rms_norm_to(m: Any) -> Optional[Pair]:
    spec = native.rms_norm_spec(m)
    if spec is None:
        return None
    module = linen.RMSNorm(epsilon=spec["epsilon"], use_scale=spec["scale"] is not None,
                           scale_init=_const(spec["scale"]))
    return module, _params(scale=spec["scale"])


def _rms_norm_from(pair: Pair, in_size: Optional[Tuple[int, ...]]) -> Optional[nn.RMSNorm]:
    module, variables = pair
    p = variables.get("params", {})
    features = _features(p, in_size)
    if not _norm_plain(module) or features is None:
        return None
    return native.make_rms_norm(features, module.epsilon, p.get("scale"))


# -- Embedding <-> linen.Embed ---------------------------------------------------------------------
def _embedding_to(m: Any) -> Optional[Pair]:
    spec = native.embedding_spec(m)
    if spec is None:
        return None
    table = spec["table"]
    module = linen.Embed(table.shape[0], table.shape[1], param_dtype=table.dtype, embedding_init=_const(table))
    return module, _params(embedding=table)


def _embedding_from(pair: Pair, in_size: Optional[Tuple[int, ...]]) -> Optional[nn.Embedding]:
    module, variables = pair
    if module.dtype is not None:
        return None
    return native.make_embedding(variables["params"]["embedding"])


# -- Dropout <-> linen.Dropout ---------------------------------------------------------------------
def _dropout_to(m: Any) -> Optional[Pair]:
    spec = native.dropout_spec(m)
    if spec is None:
        return None
    # Linen's Sequential passes no mode to its layers, so the mode is fixed here: evaluation if
    # `fit` is False now, else training (apply then needs rngs={'dropout': key}).
    fit = environ.get("fit", default=None)
    return linen.Dropout(spec["rate"], broadcast_dims=spec["broadcast_dims"], deterministic=fit is False), {}


def _dropout_from(pair: Pair, in_size: Optional[Tuple[int, ...]]) -> Optional[nn.Dropout]:
    module, _ = pair
    if module.rng_collection != "dropout":
        return None
    return native.make_dropout(module.rate, module.broadcast_dims)


_MAPPINGS: List[Tuple[type, type, Callable[..., Any], Callable[..., Any]]] = [
    (nn.Linear, linen.Dense, _linear_from, _linear_to),
    (nn.Conv1d, linen.Conv, _conv_from, _conv_to),
    (nn.Conv2d, linen.Conv, _conv_from, _conv_to),
    (nn.Conv3d, linen.Conv, _conv_from, _conv_to),
    (nn.LayerNorm, linen.LayerNorm, _layer_norm_from, _layer_norm_to),
    (nn.RMSNorm, linen.RMSNorm, _rms_norm_from, _rms_norm_to),
    (nn.Embedding, linen.Embed, _embedding_from, _embedding_to),
    (nn.Dropout, linen.Dropout, _dropout_from, _dropout_to),
]
for _bst, _foreign, _from, _to in _MAPPINGS:
    register_layer_mapping(LayerMapping(_bst, "linen", _foreign, _from, _to))
