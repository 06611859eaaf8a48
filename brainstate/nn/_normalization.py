"""Normalization layers: `BatchNorm0d/1d/2d/3d`, `LayerNorm`, `RMSNorm`, `GroupNorm`.

Each layer standardises its input over some axes and then applies an optional learned affine
map. Layouts are channel-last. Axis arguments (`feature_axis`, `feature_axes`,
`reduction_axes`) count within one sample, i.e. within `in_size`; any extra leading axes of
the input are batch axes.

Invariants:
- parameters live in ONE `ParamState`: `weight = {'scale': ..., 'bias': ...}` (only the keys
  in use; no state at all when neither is used). `RMSNorm` names its state `scale`. Their shape
  is `in_size` with every non-feature axis set to 1, so they broadcast against any batch.
- `BatchNorm*d` keeps `running_mean` and `running_var` (same shape as the parameters) in
  `BatchState`s, which are `LongTermState`s. While `environ` `fit` is True it normalises with
  the batch statistics and updates `running = momentum * running + (1 - momentum) * batch`
  (biased batch variance); while `fit` is False it uses the running statistics. A missing
  `fit` raises the environ `KeyError`, which says how to set it.
- with `axis_name`, statistics are summed over that named axis (`vmap`/`pmap`) too, so the
  statistics are those of the whole cross-device or cross-lane batch.
- precision: the statistics and the standardisation are computed in at least float32
  (`promote_types(x.dtype, float32)`), because in bfloat16/float16 a mean of large values loses
  the digits the variance needs and `x * x` overflows. The output is then cast to `dtype` if
  given, else to the common dtype of the input and the affine parameters (float32 parameters
  with a bfloat16 input give float32; bfloat16 parameters give bfloat16). Running statistics
  keep their own dtype.
"""

from typing import Any, Callable, Optional, Sequence, Tuple, Union

import jax
import jax.numpy as jnp
import numpy as np

from .. import environ
from .._state import BatchState, ParamState
from . import init
from ._module import Module

__all__ = ["BatchNorm0d", "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LayerNorm", "RMSNorm", "GroupNorm"]

Axes = Union[int, Sequence[int]]
Size = Union[int, Sequence[int]]


# -- shared helpers ----------------------------------------------------------------------------
def _axes(owner: str, arg: str, axes: Axes, ndim: int) -> Tuple[int, ...]:
    """Normalise `axes` (an int or ints, may be negative) against `ndim` dims; sorted, unique."""
    items = (axes,) if isinstance(axes, (int, np.integer)) else tuple(axes)
    out = []
    for a in items:
        if isinstance(a, bool) or not isinstance(a, (int, np.integer)) or not -ndim <= a < ndim:
            raise ValueError(f"{owner}: {arg}={axes!r} is not valid for in_size with {ndim} dimensions; "
                             f"each axis must be an int in [{-ndim}, {ndim}).")
        out.append(int(a) % ndim)
    return tuple(sorted(set(out)))


def _check_positive(owner: str, arg: str, value: float) -> float:
    if not isinstance(value, (int, float, np.number)) or isinstance(value, bool) or not value > 0:
        raise ValueError(f"{owner}: {arg} must be a positive number, got {value!r}.")
    return float(value)


def _make_param(owner: str, spec: Any, shape: Tuple[int, ...], arg: str) -> jax.Array:
    """An initial parameter value of exactly `shape` from an initializer, function or array."""
    try:
        value = init.param(spec, shape, allow_none=False, allow_scalar=False)
        return jnp.broadcast_to(value, shape)
    except (ValueError, TypeError) as err:
        raise ValueError(f"{owner}: {arg} cannot give a value of shape {shape}: {err}") from None


def _mean(x: jax.Array, axes: Tuple[int, ...], mask: Optional[jax.Array], axis_name: Any,
          groups: Any) -> jax.Array:
    """Mean over `axes` (keepdims), over `mask`ed entries only, and over `axis_name` if given."""
    total = jnp.sum(x, axis=axes, keepdims=True, where=mask)
    if mask is None:
        count = jnp.asarray(np.prod([x.shape[a] for a in axes], dtype=np.int64), x.dtype)
    else:
        count = jnp.sum(jnp.broadcast_to(mask, x.shape), axis=axes, keepdims=True, dtype=x.dtype)
    if axis_name is not None:
        total, count = jax.lax.psum((total, count), axis_name, axis_index_groups=groups)
    return total / count


def _moments(x: jax.Array, axes: Tuple[int, ...], mask: Optional[jax.Array], axis_name: Any,
             groups: Any, fast: bool) -> Tuple[jax.Array, jax.Array]:
    """Mean and (biased) variance over `axes`, with keepdims."""
    mean = _mean(x, axes, mask, axis_name, groups)
    if fast:  # one pass: E[x^2] - E[x]^2, clipped at 0 against rounding
        var = jnp.maximum(_mean(x * x, axes, mask, axis_name, groups) - mean * mean, 0.0)
    else:
        var = _mean(jnp.square(x - mean), axes, mask, axis_name, groups)
    return mean, var


def _as_float(x: Any) -> jax.Array:
    x = jnp.asarray(x)
    return x if jnp.issubdtype(x.dtype, jnp.inexact) else x.astype(jnp.result_type(float))


def _split_precision(x: Any, params: Optional[dict], dtype: Any) -> Tuple[jax.Array, Any]:
    """`x` as a float array of at least float32 precision for the statistics, and the output dtype.

    The output dtype is `dtype` if given, else the common dtype of the input and the parameters.
    """
    x = _as_float(x)
    out = jnp.dtype(dtype) if dtype is not None else jnp.result_type(x, *jax.tree.leaves(params))
    return x.astype(jnp.promote_types(x.dtype, jnp.float32)), out


def _affine(y: jax.Array, params: Optional[dict]) -> jax.Array:
    if params is not None and "scale" in params:
        y = y * params["scale"]
    if params is not None and "bias" in params:
        y = y + params["bias"]
    return y


class _Normalizer(Module):
    """Shared pieces: `in_size`, feature axes, one `weight` ParamState of feature shape."""

    def _setup(self, in_size: Size, feature_axes: Axes, arg: str) -> None:
        self.in_size = in_size
        self.out_size = self.in_size
        size = self._fixed_size("in_size")
        self.feature_axes = _axes(self._label(), arg, feature_axes, len(size))
        self.param_shape = tuple(s if i in self.feature_axes else 1 for i, s in enumerate(size))

    @property
    def use_scale(self) -> bool:
        """Whether the layer has a learnable scale."""
        return self._has("scale")

    @property
    def use_bias(self) -> bool:
        """Whether the layer has a learnable bias."""
        return self._has("bias")

    def _has(self, key: str) -> bool:
        """Whether the layer's parameter State (`weight`, or RMSNorm's `scale`) holds `key`
        (read without recording it in a trace)."""
        state = getattr(self, "weight", None)
        if state is None:
            state = getattr(self, "scale", None)
        return state is not None and key in state._value

    def _weight(self, param_type: type, scale_init: Any, bias_init: Any) -> Optional[ParamState]:
        params = {}
        if scale_init is not None:
            params["scale"] = _make_param(self._label(), scale_init, self.param_shape, "scale_init")
        if bias_init is not None:
            params["bias"] = _make_param(self._label(), bias_init, self.param_shape, "bias_init")
        return param_type(params) if params else None

    def _batch_offset(self, x: jax.Array, allowed: Optional[Tuple[int, ...]] = None) -> int:
        """How many leading batch axes `x` has; checks the feature sizes."""
        size = self._fixed_size("in_size")
        n = len(size)
        offset = x.ndim - n
        if offset < 0 or (allowed is not None and offset not in allowed):
            dims = " or ".join(str(n + o) for o in allowed) if allowed else f"at least {n}"
            raise ValueError(f"{self._label()} expects inputs with {dims} dimensions (in_size={self.in_size}), "
                             f"got shape {x.shape}.")
        for a in self.feature_axes:
            if x.shape[offset + a] != size[a]:
                raise ValueError(
                    f"{self._label()} expects size {size[a]} on feature axis {a} of each sample "
                    f"(in_size={self.in_size}), got input shape {x.shape}. Build the layer with an "
                    f"in_size matching the data.")
        return offset


# -- batch normalization -----------------------------------------------------------------------
class _BatchNorm(_Normalizer):
    num_spatial: int = 0

    def __init__(self, in_size: Size, feature_axis: Axes = -1, *, track_running_stats: bool = True,
                 epsilon: float = 1e-5, momentum: float = 0.99, affine: bool = True,
                 bias_initializer: Any = init.Constant(0.0), scale_initializer: Any = init.Constant(1.0),
                 axis_name: Optional[Union[str, Sequence[str]]] = None,
                 axis_index_groups: Optional[Sequence[Sequence[int]]] = None, use_fast_variance: bool = True,
                 name: Optional[str] = None, dtype: Any = None, param_type: type = ParamState,
                 mean_type: type = BatchState):
        super().__init__(name=name)
        self._setup(in_size, feature_axis, "feature_axis")
        want = self.num_spatial + 1
        if len(self._fixed_size("in_size")) != want:
            raise ValueError(f"{self._label()} expects in_size with {want} entries (spatial sizes then "
                             f"channels), got in_size={self.in_size}.")
        self.epsilon = _check_positive(self._label(), "epsilon", epsilon)
        if not isinstance(momentum, (int, float, np.number)) or not 0.0 <= momentum <= 1.0:
            raise ValueError(f"{self._label()}: momentum must be a number in [0, 1] (the weight kept by "
                             f"the running statistics each step), got {momentum!r}.")
        self.momentum = float(momentum)
        self.track_running_stats = bool(track_running_stats)
        self.affine = bool(affine)
        self.axis_name = axis_name
        self.axis_index_groups = axis_index_groups
        self.use_fast_variance = bool(use_fast_variance)
        self.dtype = dtype
        self.weight = self._weight(param_type, scale_initializer, bias_initializer) if affine else None
        if self.track_running_stats:
            self.running_mean = mean_type(jnp.zeros(self.param_shape, environ.dftype()))
            self.running_var = mean_type(jnp.ones(self.param_shape, environ.dftype()))

    def update(self, x: Any, mask: Optional[Any] = None) -> jax.Array:
        """Normalise `x` of shape `in_size` or `(batch, *in_size)`.

        Args:
          x: the input; statistics are taken over every axis but the feature axes.
          mask: optional booleans broadcastable to `x`; only True entries enter the statistics.

        Raises:
          ValueError: the input has the wrong number of dimensions or feature sizes.
          KeyError: `environ` `fit` is unset while the layer tracks running statistics.
        """
        params = None if self.weight is None else self.weight.value
        x, out_dtype = _split_precision(x, params, self.dtype)
        offset = self._batch_offset(x, allowed=(0, 1))
        feature = {offset + a for a in self.feature_axes}
        axes = tuple(a for a in range(x.ndim) if a not in feature)
        fit = True
        if self.track_running_stats:
            fit = environ.get("fit", desc="True while training, False while evaluating; BatchNorm "
                                          "uses batch statistics only while fitting")
        if fit:
            mean, var = _moments(x, axes, mask, self.axis_name, self.axis_index_groups, self.use_fast_variance)
            mean, var = mean.reshape(self.param_shape), var.reshape(self.param_shape)
            if self.track_running_stats:
                for state, batch in ((self.running_mean, mean), (self.running_var, var)):
                    old = state.value
                    new = self.momentum * old + (1 - self.momentum) * jax.lax.stop_gradient(batch)
                    state.value = new.astype(jnp.result_type(old))  # the state keeps its dtype
        else:
            mean, var = self.running_mean.value, self.running_var.value
        y = _affine((x - mean) * jax.lax.rsqrt(var + self.epsilon), params)
        return y.astype(out_dtype)


class BatchNorm0d(_BatchNorm):
    """Batch normalization of feature vectors: input `(batch, channels)` (or `(channels,)`).

    Args:
      in_size: the sample shape, `(channels,)`.
      feature_axis: the axis (or axes) of `in_size` that keep their own statistics.
      track_running_stats: keep running statistics for evaluation; if False the batch statistics
        are always used and `fit` is not read.
      epsilon: added to the variance before the square root.
      momentum: running = momentum * running + (1 - momentum) * batch statistic.
      affine: learn a `scale` and `bias`.
      bias_initializer, scale_initializer: initial values of the affine parameters.
      axis_name, axis_index_groups: also reduce over this named (vmap/pmap) axis.
      use_fast_variance: compute the variance as E[x^2] - E[x]^2 in one pass.
      name: optional module name.
      dtype: the output dtype (default: the common dtype of the input and the parameters).
      param_type, mean_type: the State classes of the parameters and the running statistics.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> bn = brainstate.nn.BatchNorm0d(3)
      >>> with brainstate.environ.context(fit=True):
      ...     y = bn(jnp.arange(12.0).reshape(4, 3))
      >>> y.shape, bn.running_mean.value.shape
      ((4, 3), (3,))
    """

    num_spatial = 0


class BatchNorm1d(_BatchNorm):
    """Batch normalization of sequences: input `(batch, length, channels)` (or without batch).

    Arguments as `BatchNorm0d`; `in_size` is `(length, channels)`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> with brainstate.environ.context(fit=False):
      ...     print(brainstate.nn.BatchNorm1d((5, 3))(jnp.ones((2, 5, 3))).shape)
      (2, 5, 3)
    """

    num_spatial = 1


class BatchNorm2d(_BatchNorm):
    """Batch normalization of images: input `(batch, height, width, channels)` (or without batch).

    Arguments as `BatchNorm0d`; `in_size` is `(height, width, channels)`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> with brainstate.environ.context(fit=False):
      ...     print(brainstate.nn.BatchNorm2d((4, 4, 3))(jnp.ones((2, 4, 4, 3))).shape)
      (2, 4, 4, 3)
    """

    num_spatial = 2


class BatchNorm3d(_BatchNorm):
    """Batch normalization of volumes: input `(batch, depth, height, width, channels)` (or without batch).

    Arguments as `BatchNorm0d`; `in_size` is `(depth, height, width, channels)`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> with brainstate.environ.context(fit=False):
      ...     print(brainstate.nn.BatchNorm3d((2, 2, 2, 3))(jnp.ones((2, 2, 2, 2, 3))).shape)
      (2, 2, 2, 2, 3)
    """

    num_spatial = 3


# -- per-sample normalization ------------------------------------------------------------------
class LayerNorm(_Normalizer):
    """Layer normalization: standardise each sample over `reduction_axes`, then scale and shift.

    Args:
      in_size: the sample shape; extra leading input axes are batch axes.
      reduction_axes: the axes of a sample the statistics are taken over.
      feature_axes: the axes that have their own scale and bias.
      epsilon: added to the variance before the square root.
      use_bias, use_scale: learn a bias / a scale.
      bias_init, scale_init: their initial values.
      axis_name, axis_index_groups: also reduce over this named (vmap/pmap) axis.
      use_fast_variance: compute the variance as E[x^2] - E[x]^2 in one pass.
      dtype: the output dtype (default: the common dtype of the input and the parameters).
      param_type: the State class of the parameters.
      name: optional module name.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> ln = brainstate.nn.LayerNorm(4)
      >>> ln(jnp.arange(8.0).reshape(2, 4)).shape
      (2, 4)
    """

    def __init__(self, in_size: Size, reduction_axes: Axes = -1, feature_axes: Axes = -1, *,
                 epsilon: float = 1e-6, use_bias: bool = True, use_scale: bool = True,
                 bias_init: Callable = init.ZeroInit(), scale_init: Callable = init.Constant(1.0),
                 axis_name: Optional[str] = None, axis_index_groups: Any = None,
                 use_fast_variance: bool = True, dtype: Any = None, param_type: type = ParamState,
                 name: Optional[str] = None):
        super().__init__(name=name)
        self._setup(in_size, feature_axes, "feature_axes")
        ndim = len(self._fixed_size("in_size"))
        self.reduction_axes = _axes(self._label(), "reduction_axes", reduction_axes, ndim)
        self.epsilon = _check_positive(self._label(), "epsilon", epsilon)
        self.axis_name, self.axis_index_groups = axis_name, axis_index_groups
        self.use_fast_variance = bool(use_fast_variance)
        self.dtype = dtype
        self.weight = self._weight(param_type, scale_init if use_scale else None, bias_init if use_bias else None)

    def update(self, x: Any, *, mask: Optional[Any] = None) -> jax.Array:
        """Normalise `x` of shape `(*batch, *in_size)`; `mask` selects the entries used for statistics.

        Raises:
          ValueError: `x` has fewer dimensions than `in_size`, or wrong feature sizes.
        """
        params = None if self.weight is None else self.weight.value
        x, out_dtype = _split_precision(x, params, self.dtype)
        offset = self._batch_offset(x)
        axes = tuple(offset + a for a in self.reduction_axes)
        mean, var = _moments(x, axes, mask, self.axis_name, self.axis_index_groups, self.use_fast_variance)
        y = _affine((x - mean) * jax.lax.rsqrt(var + self.epsilon), params)
        return y.astype(out_dtype)


class RMSNorm(_Normalizer):
    """Root-mean-square normalization: `x / sqrt(mean(x^2) + epsilon) * scale` (no centring).

    Args:
      in_size: the sample shape; extra leading input axes are batch axes.
      epsilon: added to the mean square before the square root.
      dtype: the output dtype (default: the common dtype of the input and the parameters).
      use_scale: learn a scale, held in the ParamState `scale` as `{'scale': array}`.
      scale_init: its initial value.
      reduction_axes: the axes of a sample the mean square is taken over.
      feature_axes: the axes that have their own scale.
      axis_name, axis_index_groups: also reduce over this named (vmap/pmap) axis.
      use_fast_variance: accepted for compatibility; the mean square needs one pass anyway.
      param_type: the State class of the parameter.
      name: optional module name.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> y = brainstate.nn.RMSNorm(4)(jnp.full((2, 4), 3.0))
      >>> y.shape, round(float(y[0, 0]), 4)
      ((2, 4), 1.0)
    """

    def __init__(self, in_size: Size, *, epsilon: float = 1e-6, dtype: Any = None, use_scale: bool = True,
                 scale_init: Callable = init.Constant(1.0), reduction_axes: Axes = -1, feature_axes: Axes = -1,
                 axis_name: Optional[str] = None, axis_index_groups: Any = None, use_fast_variance: bool = True,
                 param_type: type = ParamState, name: Optional[str] = None):
        super().__init__(name=name)
        self._setup(in_size, feature_axes, "feature_axes")
        ndim = len(self._fixed_size("in_size"))
        self.reduction_axes = _axes(self._label(), "reduction_axes", reduction_axes, ndim)
        self.epsilon = _check_positive(self._label(), "epsilon", epsilon)
        self.axis_name, self.axis_index_groups = axis_name, axis_index_groups
        self.use_fast_variance = bool(use_fast_variance)
        self.dtype = dtype
        self.scale = self._weight(param_type, scale_init, None) if use_scale else None

    def update(self, x: Any, *, mask: Optional[Any] = None) -> jax.Array:
        """Normalise `x` of shape `(*batch, *in_size)`; `mask` selects the entries used for statistics.

        Raises:
          ValueError: `x` has fewer dimensions than `in_size`, or wrong feature sizes.
        """
        params = None if self.scale is None else self.scale.value
        x, out_dtype = _split_precision(x, params, self.dtype)
        offset = self._batch_offset(x)
        axes = tuple(offset + a for a in self.reduction_axes)
        ms = _mean(x * x, axes, mask, self.axis_name, self.axis_index_groups)
        y = _affine(x * jax.lax.rsqrt(ms + self.epsilon), params)
        return y.astype(out_dtype)


class GroupNorm(_Normalizer):
    """Group normalization: split the channels into groups and standardise each group.

    Inputs are batched and channel-last: `(batch, ..., channels)`. By default the statistics of a
    group are taken over every axis but the first (the batch axis), within the group's channels.

    Args:
      in_size: `(channels,)` or the whole sample shape ending in the channels.
      feature_axis: the channel axis; must be the last axis.
      num_groups: the number of groups (must divide the channels); None to use `group_size`.
      group_size: channels per group, when `num_groups` is None.
      epsilon: added to the variance before the square root.
      dtype: the output dtype (default: the common dtype of the input and the parameters).
      use_bias, use_scale: learn a per-channel bias / scale (shape `(channels,)`).
      bias_init, scale_init: their initial values.
      reduction_axes: input axes the statistics are taken over (must include the last, -1);
        default: every axis but the first.
      axis_name, axis_index_groups: also reduce over this named (vmap/pmap) axis.
      use_fast_variance: compute the variance as E[x^2] - E[x]^2 in one pass.
      param_type: the State class of the parameters.
      name: optional module name.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> brainstate.nn.GroupNorm(6, num_groups=3)(jnp.ones((2, 5, 6))).shape
      (2, 5, 6)
    """

    def __init__(self, in_size: Size, feature_axis: Axes = -1, num_groups: Optional[int] = 32,
                 group_size: Optional[int] = None, *, epsilon: float = 1e-6, dtype: Any = None,
                 use_bias: bool = True, use_scale: bool = True, bias_init: Callable = init.ZeroInit(),
                 scale_init: Callable = init.Constant(1.0), reduction_axes: Optional[Axes] = None,
                 axis_name: Optional[str] = None, axis_index_groups: Any = None, use_fast_variance: bool = True,
                 param_type: type = ParamState, name: Optional[str] = None):
        super().__init__(name=name)
        self.in_size = in_size
        self.out_size = self.in_size
        size = self._fixed_size("in_size")
        label = self._label()
        if _axes(label, "feature_axis", feature_axis, len(size)) != (len(size) - 1,):
            raise ValueError(f"{label}: feature_axis must be the last axis of in_size (channel-last "
                             f"layout), got feature_axis={feature_axis!r} for in_size={self.in_size}.")
        self.feature_axes = (len(size) - 1,)
        channels = size[-1]
        if (num_groups is None) == (group_size is None):
            raise ValueError(f"{label}: give exactly one of num_groups and group_size, got num_groups="
                             f"{num_groups!r}, group_size={group_size!r}. To use group_size, pass "
                             f"num_groups=None (its default is 32).")
        if num_groups is None:
            if not isinstance(group_size, int) or group_size < 1 or channels % group_size:
                raise ValueError(f"{label}: group_size={group_size!r} must be a positive divisor of the "
                                 f"number of channels {channels}.")
            num_groups = channels // group_size
        elif not isinstance(num_groups, int) or num_groups < 1 or channels % num_groups:
            raise ValueError(f"{label}: num_groups={num_groups!r} must be a positive divisor of the number "
                             f"of channels {channels}.")
        self.num_groups, self.group_size = num_groups, channels // num_groups
        self.reduction_axes = None if reduction_axes is None else (
            (reduction_axes,) if isinstance(reduction_axes, int) else tuple(reduction_axes))
        if self.reduction_axes is not None and -1 not in self.reduction_axes:
            raise ValueError(f"{label}: reduction_axes={reduction_axes!r} must include the channel axis -1 "
                             f"(statistics are taken within each group of channels).")
        self.epsilon = _check_positive(label, "epsilon", epsilon)
        self.axis_name, self.axis_index_groups = axis_name, axis_index_groups
        self.use_fast_variance = bool(use_fast_variance)
        self.dtype = dtype
        self.param_shape = (channels,)
        self.weight = self._weight(param_type, scale_init if use_scale else None, bias_init if use_bias else None)

    def update(self, x: Any, *, mask: Optional[Any] = None) -> jax.Array:
        """Normalise a batch `x` of shape `(batch, ..., channels)`; `mask` selects entries for statistics.

        Raises:
          ValueError: `x` has fewer than 2 dimensions, the wrong channel count, or a bad reduction axis.
        """
        params = None if self.weight is None else self.weight.value
        x, out_dtype = _split_precision(x, params, self.dtype)
        channels = self._fixed_size("in_size")[-1]
        if x.ndim < 2 or x.shape[-1] != channels:
            raise ValueError(f"{self._label()} expects a batch of shape (batch, ..., {channels}) with at "
                             f"least 2 dimensions, got shape {x.shape}.")
        split = x.shape[:-1] + (self.num_groups, self.group_size)
        if self.reduction_axes is None:
            axes = tuple(range(1, x.ndim - 1)) + (x.ndim,)
        else:
            picked = []
            for a in self.reduction_axes:
                if not -x.ndim <= a < x.ndim:
                    raise ValueError(f"{self._label()}: reduction axis {a} is out of range for an input "
                                     f"with {x.ndim} dimensions (shape {x.shape}).")
                a = a % x.ndim
                picked.append(x.ndim if a == x.ndim - 1 else a)
            axes = tuple(sorted(set(picked)))
        xg = x.reshape(split)
        mg = None if mask is None else jnp.broadcast_to(mask, x.shape).reshape(split)
        mean, var = _moments(xg, axes, mg, self.axis_name, self.axis_index_groups, self.use_fast_variance)
        y = ((xg - mean) * jax.lax.rsqrt(var + self.epsilon)).reshape(x.shape)
        y = _affine(y, params)
        return y.astype(out_dtype)
