"""Variants of the affine layer: standardized, sign-constrained, sparse, all-to-all, one-to-one, LoRA.

Every layer here keeps its trainable values in ONE `ParamState` named `weight` (as `Linear`
does): a dict such as `{'weight': ..., 'bias': ...}`, or a bare array where there is only one
value (`SignedWLinear`). An `nn.Param` given as an initial value is kept instead (see
`_layer_weights.py`). Fixed structure (masks, signs, sparsity patterns) is held as plain
constant arrays, not states. Each layer checks the feature size (last axis) of its input and
raises a `ValueError` naming the layer and both sizes on a mismatch.

Physical units (`brainunit`) are kept on inputs and weights (`SparseLinear`, `AllToAll`,
`OneToOne`, `SignedWLinear`): outputs are in `unit(x) * unit(W)`. A plain bias (the default
zeros are plain whatever the weight's unit, as in the reference release) is read in the output's
unit; a bias that carries a unit must have the output's dimension, checked at call time.
"""

from typing import Any, Callable, Optional, Sequence, Tuple, Union

import jax
import jax.numpy as jnp
import numpy as np

from .. import environ
from .._state import ParamState
from . import init
from ._layer_weights import check_param, hold, is_param, no_param, read, value_of
from ._module import Module
from ._units import add_bias, attach, is_unit_sparse, split

__all__ = ["weight_standardization", "ScaledWSLinear", "SignedWLinear", "SparseLinear", "AllToAll",
           "OneToOne", "LoRA"]

Size = Union[int, Sequence[int]]
Init = Union[Callable, Any]


def weight_standardization(w: Any, eps: float = 1e-4, gain: Optional[Any] = None, out_axis: int = -1) -> jax.Array:
    """Scaled weight standardization: zero mean and `1/sqrt(fan_in)` scale per output unit.

    Over every axis except `out_axis`: `(w - mean) / sqrt(max(var * fan_in, eps))`, times `gain`
    if given (`fan_in` is the number of elements per output unit). A layer using standardized
    weights keeps unit-variance activations without normalising the activations themselves.

    Example:
      >>> import jax.numpy as jnp, brainstate
      >>> w = brainstate.nn.weight_standardization(jnp.arange(6.0).reshape(3, 2))
      >>> [round(float(v), 4) for v in w.mean(axis=0)]
      [0.0, 0.0]
    """
    w = jnp.asarray(w)
    axes = tuple(i for i in range(w.ndim) if i != out_axis % w.ndim)
    fan_in = int(np.prod([w.shape[i] for i in axes]))
    mean = jnp.mean(w, axis=axes, keepdims=True)
    var = jnp.var(w, axis=axes, keepdims=True)
    scale = jax.lax.rsqrt(jnp.maximum(var * fan_in, eps))
    if gain is not None:
        scale = scale * gain
    return (w - mean) * scale


def _features(layer: Module, x: Any, n_in: int) -> Any:
    """`x` (an array, or a Quantity kept as one) whose last axis has `n_in` features, or a
    ValueError naming `layer`."""
    mant, unit = split(x)
    mant = jnp.asarray(mant)
    if mant.ndim == 0 or mant.shape[-1] != n_in:
        got = "a scalar" if mant.ndim == 0 else f"last dimension {mant.shape[-1]} (shape {mant.shape})"
        raise ValueError(
            f"{layer._label()} expects inputs whose last dimension is its input size {n_in}, got {got}. "
            f"Reshape the input, or build the layer with an input size matching the data.")
    return attach(mant, unit)


def _initial(layer: Module, spec: Init, shape: Tuple[int, ...], arg: str, allow_scalar: bool = False) -> Any:
    """The initial value `spec` gives for `shape` (broadcast to it; a scalar kept as one when
    `allow_scalar`), as floats (integer or boolean values are cast), with errors naming `layer`.
    A unit (`brainunit.Quantity`) is kept. An `nn.Param` is returned itself (its shape
    checked): the layer keeps it."""
    if is_param(spec):
        return check_param(layer._label(), spec, shape, arg, allow_scalar)
    try:
        value, unit = split(init.param(spec, shape, allow_none=False, allow_scalar=allow_scalar))
        value = jnp.asarray(value)
        value = value if allow_scalar and value.ndim == 0 else jnp.broadcast_to(value, shape)
    except (ValueError, TypeError) as err:
        raise ValueError(f"{layer._label()}: {arg} cannot give a value of shape {shape}: {err}") from None
    value = value if jnp.issubdtype(value.dtype, jnp.inexact) else value.astype(environ.dftype())
    return attach(value, unit)


def _add_bias(layer: Module, y: Any, params: dict) -> Any:
    """`y + params['bias']` (if there is a bias); a plain bias is read in the unit of `y`."""
    if "bias" not in params:
        return y
    return add_bias(layer._label(), y, params["bias"], "the weighted input and the bias",
                    "Give the bias the unit of the output (e.g. b_init=brainstate.nn.init.ZeroInit(unit=...)) "
                    "or a plain bias, which is read in the output's unit.")


class ScaledWSLinear(Module):
    """A linear layer whose weight is standardized on every call (`weight_standardization`).

    Args:
      in_size: input size (its last entry is the feature count).
      out_size: output size (its last entry is the feature count).
      w_init: initializer or array for the `(in, out)` weight.
      b_init: initializer or array for the `(out,)` bias, or None for no bias.
      w_mask: optional fixed `(in, out)` mask multiplied into the standardized weight.
      ws_gain: learn a per-output gain (`'gain'`, shape `(1, out)`, starting at 1).
      eps: lower bound on `var * fan_in` (avoids dividing by zero).
      name: optional module name.
      param_type: the State class of the parameters.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> layer = brainstate.nn.ScaledWSLinear(3, 2)
      >>> layer(jnp.ones((4, 3))).shape, sorted(layer.weight.value)
      ((4, 2), ['bias', 'gain', 'weight'])
    """

    def __init__(self, in_size: Size, out_size: Size, w_init: Init = init.KaimingNormal(),
                 b_init: Optional[Init] = init.ZeroInit(), w_mask: Optional[Init] = None, ws_gain: bool = True,
                 eps: float = 1e-4, name: Optional[str] = None, param_type: type = ParamState):
        super().__init__(name=name)
        self.in_size, self.out_size = in_size, out_size
        shape = (self._fixed_size("in_size")[-1], self._fixed_size("out_size")[-1])
        params = {"weight": _initial(self, w_init, shape, "w_init")}
        if split(params["weight"])[1] is not None:
            raise ValueError(f"{self._label()}: w_init gave a weight in {split(params['weight'])[1]}, but the "
                             f"layer standardizes its weight on every call, which removes any unit. Give "
                             f"w_init without a unit (or use Linear for a weight with a unit).")
        if ws_gain:
            params["gain"] = jnp.ones((1, shape[1]), jnp.result_type(value_of(params["weight"])))
        if b_init is not None:
            params["bias"] = _initial(self, b_init, shape[1:], "b_init")
        no_param(self._label(), w_mask, "w_mask")
        self.w_mask = None if w_mask is None else _initial(self, w_mask, shape, "w_mask")
        self.eps = eps
        self.weight = hold(param_type, params)

    def update(self, x: Any) -> jax.Array:
        """`x @ standardize(W) + b` over the last axis of `x`."""
        x = _features(self, x, self._fixed_size("in_size")[-1])
        params = read(self.weight)
        w = weight_standardization(params["weight"], self.eps, params.get("gain"))
        if self.w_mask is not None:
            w = w * self.w_mask
        y = x @ w
        return y + params["bias"] if "bias" in params else y


class SignedWLinear(Module):
    """A linear layer with sign-constrained weights: `y = x @ (|W| * w_sign)`.

    The learned value is a magnitude; `w_sign` (fixed, +1/-1, broadcastable to `(in, out)`)
    gives each connection its sign, e.g. excitatory and inhibitory inputs. Without `w_sign`
    every weight is non-negative. No bias. `weight` is a `ParamState` holding the `(in, out)` array.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> layer = brainstate.nn.SignedWLinear(2, 3, w_sign=jnp.array([[1.0], [-1.0]]))
      >>> layer(jnp.array([1.0, 0.0])).min() >= 0
      Array(True, dtype=bool)
    """

    def __init__(self, in_size: Size, out_size: Size, w_init: Init = init.KaimingNormal(),
                 w_sign: Optional[Any] = None, name: Optional[str] = None, param_type: type = ParamState):
        super().__init__(name=name)
        self.in_size, self.out_size = in_size, out_size
        shape = (self._fixed_size("in_size")[-1], self._fixed_size("out_size")[-1])
        no_param(self._label(), w_sign, "w_sign")
        if w_sign is not None:
            w_sign = jnp.asarray(w_sign)
            if not init.are_broadcastable_shapes(w_sign.shape, shape) or w_sign.ndim > 2:
                raise ValueError(f"{self._label()}: w_sign of shape {w_sign.shape} does not broadcast to the "
                                 f"weight shape {shape}. Pass +1/-1 values of shape {shape}, (1, {shape[1]}) "
                                 f"or ({shape[0]}, 1).")
        self.w_sign = w_sign
        self.weight = hold(param_type, _initial(self, w_init, shape, "w_init"))

    def update(self, x: Any) -> jax.Array:
        """`x @ (|W| * w_sign)` over the last axis of `x`."""
        x = _features(self, x, self._fixed_size("in_size")[-1])
        mant, unit = split(read(self.weight))
        w = jnp.abs(mant)
        return x @ attach(w if self.w_sign is None else w * self.w_sign, unit)


class SparseLinear(Module):
    """A linear layer with a fixed sparsity pattern: `y = x @ M + b`, `M` sparse `(in, out)`.

    Only the stored entries of `M` are trainable: `weight` holds `{'weight': values}` (one value
    per stored entry, in the order of `spar_mat.data`) and `'bias'` if `b_init` is given; the
    positions are fixed.

    Args:
      spar_mat: the `(in, out)` matrix: a brainunit sparse matrix (`u.sparse.CSR`, `CSC` or
        `COO`, whose values may carry a unit), a `jax.experimental.sparse.BCOO`, or a dense
        array (whose zero entries are left out).
      b_init: initializer or array for the `(out,)` bias, or None for no bias.
      in_size: the input size; defaults to `spar_mat.shape[0]`.
      name: optional module name.
      param_type: the State class of the parameters.

    Raises:
      ValueError: `spar_mat` is not a 2-d matrix, or `in_size` disagrees with its rows.

    Attributes:
      spar_mat: the matrix given (its values are not updated; they live in `weight`).

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> layer = brainstate.nn.SparseLinear(jnp.array([[1.0, 0.0], [0.0, 2.0], [3.0, 0.0]]))
      >>> layer(jnp.ones(3)).tolist()
      [4.0, 2.0]
      >>> import brainunit as u
      >>> csr = u.sparse.CSR.fromdense(jnp.array([[1.0, 0.0], [0.0, 2.0]]) * u.mA)
      >>> brainstate.nn.SparseLinear(csr)(jnp.ones(2))
      Quantity([1. 2.], "mA")
    """

    def __init__(self, spar_mat: Any, b_init: Optional[Init] = None, in_size: Optional[Size] = None,
                 name: Optional[str] = None, param_type: type = ParamState):
        super().__init__(name=name)
        self.spar_mat = spar_mat
        if is_unit_sparse(spar_mat):
            # The product is computed here from the (row, col) of each stored value rather than by
            # brainunit's `x @ M`: some brainunit releases (0.5.x) differentiate that product
            # with respect to the values incorrectly.
            self.indices, data = _unit_sparse_indices(self, spar_mat), spar_mat.data
        else:
            spar_mat = self._as_bcoo(spar_mat)
            self.indices, data = spar_mat.indices, spar_mat.data
        n_in, n_out = spar_mat.shape
        self.in_size = n_in if in_size is None else in_size
        features = self._fixed_size("in_size")[-1]
        if features != n_in:
            raise ValueError(f"{self._label()}: in_size {self.in_size} has {features} features but "
                             f"spar_mat has {n_in} rows. Make them agree or leave in_size out.")
        self.out_size = n_out
        self.mat_shape = (n_in, n_out)
        params = {"weight": data}
        if b_init is not None:
            params["bias"] = _initial(self, b_init, (n_out,), "b_init")
        self.weight = hold(param_type, params)

    def _as_bcoo(self, spar_mat: Any) -> Any:
        from jax.experimental import sparse  # imported on use: it pulls in scipy (~0.4 s)

        if not isinstance(spar_mat, sparse.BCOO):
            dense = jnp.asarray(spar_mat)
            if dense.ndim != 2:
                raise ValueError(f"{self._label()}: spar_mat must be a 2-d (in, out) matrix, got shape "
                                 f"{dense.shape}.")
            spar_mat = sparse.BCOO.fromdense(dense)
        if spar_mat.ndim != 2 or spar_mat.n_batch or spar_mat.n_dense:
            raise ValueError(f"{self._label()}: spar_mat must be a plain 2-d BCOO matrix (no batch or dense "
                             f"dimensions), got shape {spar_mat.shape}.")
        return spar_mat

    def update(self, x: Any) -> jax.Array:
        """`x @ M + b` over the last axis of `x`."""
        x = _features(self, x, self._fixed_size("in_size")[-1])
        params = read(self.weight)
        from jax.experimental import sparse

        x_m, x_unit = split(x)
        w_m, w_unit = split(params["weight"])
        mat = sparse.BCOO((w_m, self.indices), shape=self.mat_shape)
        y = sparse.bcoo_dot_general(x_m, mat, dimension_numbers=(([x_m.ndim - 1], [0]), ([], [])))
        assert isinstance(y, jax.Array)  # dense x times a sparse matrix is dense
        return _add_bias(self, _times_units(y, x_unit, w_unit), params)


def _unit_sparse_indices(layer: Module, mat: Any) -> jax.Array:
    """The `(nse, 2)` (row, col) of each stored value of a brainunit CSR / CSC / COO matrix, in
    the order of `mat.data`.

    Raises:
      ValueError: the matrix is not 2-d, or of a sparse format this layer does not know.
    """
    if len(mat.shape) != 2:
        raise ValueError(f"{layer._label()}: spar_mat must be a 2-d (in, out) matrix, got shape {tuple(mat.shape)}.")
    kind = type(mat).__name__
    if kind in ("CSR", "CSC"):
        # Compressed formats: `indptr[i]:indptr[i + 1]` are the values of row (CSR) / column (CSC) i.
        major = np.repeat(np.arange(len(mat.indptr) - 1), np.diff(np.asarray(mat.indptr)))
        minor = np.asarray(mat.indices)
        rows, cols = (major, minor) if kind == "CSR" else (minor, major)
    elif kind == "COO":
        rows, cols = np.asarray(mat.row), np.asarray(mat.col)
    else:
        raise ValueError(f"{layer._label()}: unsupported brainunit sparse format {kind}; use CSR, CSC or COO.")
    return jnp.asarray(np.stack([rows, cols], axis=1), jnp.int32)


def _times_units(y: jax.Array, *units: Any) -> Any:
    """`y` carrying the product of `units` (None entries are plain numbers)."""
    present = [unit for unit in units if unit is not None]
    if not present:
        return y
    product = present[0]
    for unit in present[1:]:
        product = product * unit
    return attach(y, product)


class AllToAll(Module):
    """All-to-all connections: `y_j = sum_i x_i W_ij (+ b_j)`, optionally without self-connections.

    The weight is an `(in, out)` array, or a scalar shared by every connection (when `w_init`
    is a scalar); either way the output has `out` features (the reference release gives a single
    summed feature for a scalar weight with `include_self=True`). With `include_self=False` the
    connection from input `i` to output `i` is removed for every `i < min(in, out)`: the entries
    `W[i, i]` of the (possibly rectangular) weight count as zero.

    Args:
      in_size: input size (an int or a shape; its last entry is the feature size).
      out_size: output size (an int or a shape; its last entry is the feature size).
      w_init: initializer, `(in, out)` array or scalar for the weight.
      b_init: initializer or array for the `(out,)` bias, or None for no bias (the default).
      include_self: keep the `i -> i` connections.
      name: optional module name.
      param_type: the State class of the parameters.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> layer = brainstate.nn.AllToAll(3, 3, w_init=1.0, include_self=False)
      >>> layer(jnp.array([1.0, 2.0, 3.0])).tolist()
      [5.0, 4.0, 3.0]
    """

    def __init__(self, in_size: Size, out_size: Size, w_init: Init = init.KaimingNormal(),
                 b_init: Optional[Init] = None, include_self: bool = True, name: Optional[str] = None,
                 param_type: type = ParamState):
        super().__init__(name=name)
        self.in_size, self.out_size = in_size, out_size
        shape = (self._fixed_size("in_size")[-1], self._fixed_size("out_size")[-1])
        self.include_self = include_self
        params = {"weight": _initial(self, w_init, shape, "w_init", allow_scalar=True)}
        if b_init is not None:
            params["bias"] = _initial(self, b_init, shape[1:], "b_init")
        self.weight = hold(param_type, params)

    def update(self, x: Any) -> jax.Array:
        """The summed weighted input of every other (or every) unit."""
        n_in, n_out = self._fixed_size("in_size")[-1], self._fixed_size("out_size")[-1]
        x_m, x_unit = split(_features(self, x, n_in))
        params = read(self.weight)
        w_m, w_unit = split(params["weight"])
        if jnp.ndim(w_m) == 0:
            y = jnp.broadcast_to(jnp.sum(x_m, axis=-1, keepdims=True), x_m.shape[:-1] + (n_out,))
            if not self.include_self:
                # output j loses input j: the first min(in, out) inputs, zeros for outputs past `in`
                own = x_m[..., :n_out]
                y = y - jnp.pad(own, [(0, 0)] * (own.ndim - 1) + [(0, n_out - own.shape[-1])])
            y = w_m * y
        else:
            if not self.include_self:
                w_m = w_m * (1 - jnp.eye(n_in, n_out, dtype=w_m.dtype))
            y = x_m @ w_m
        return _add_bias(self, _times_units(y, x_unit, w_unit), params)


class OneToOne(Module):
    """Element-wise connections: `y = x * w (+ b)` with `w` of shape `in_size`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> brainstate.nn.OneToOne(3, w_init=2.0)(jnp.array([1.0, 2.0, 3.0])).tolist()
      [2.0, 4.0, 6.0]
    """

    def __init__(self, in_size: Size, w_init: Init = init.Normal(), b_init: Optional[Init] = None,
                 name: Optional[str] = None, param_type: type = ParamState):
        super().__init__(name=name)
        self.in_size = in_size
        self.out_size = in_size
        size = self._fixed_size("in_size")
        params = {"weight": _initial(self, w_init, size, "w_init", allow_scalar=True)}
        if b_init is not None:
            params["bias"] = _initial(self, b_init, size, "b_init", allow_scalar=True)
        self.weight = hold(param_type, params)

    def update(self, x: Any) -> jax.Array:
        """`x * w + b`; the trailing axes of `x` must equal `in_size`."""
        shape = jnp.shape(split(x)[0])
        size = self._fixed_size("in_size")
        n = len(size)
        if len(shape) < n or tuple(shape[len(shape) - n:]) != size:
            raise ValueError(f"{self._label()} expects inputs whose trailing dimensions are its in_size "
                             f"{size}, got shape {tuple(shape)}.")
        params = read(self.weight)
        x = x if split(x)[1] is not None else jnp.asarray(x)
        return _add_bias(self, x * params["weight"], params)


class LoRA(Module):
    """A low-rank adapter: `y = base(x) + s * (x @ A @ B)`, `A` `(in, r)`, `B` `(r, out)`.

    Args:
      in_features: input feature count.
      lora_rank: the rank `r` of the update.
      out_features: output feature count.
      base_module: optional frozen or trainable module whose output the update is added to.
      kernel_init: initializer for both `A` (`'lora_a'`) and `B` (`'lora_b'`).
      alpha: the scale `s` is `alpha / lora_rank`; None means `s = 1`.
      param_type: the State class of the adapter parameters.
      in_size: optional input size (its last entry must be `in_features`).
      name: optional module name.

    Raises:
      ValueError: a non-positive rank or size, or sizes that disagree with `in_size`/`base_module`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> layer = brainstate.nn.LoRA(4, 2, 3, base_module=brainstate.nn.Linear(4, 3))
      >>> layer(jnp.ones((5, 4))).shape
      (5, 3)
    """

    def __init__(self, in_features: int, lora_rank: int, out_features: int, *,
                 base_module: Optional[Module] = None, kernel_init: Init = init.LecunNormal(),
                 alpha: Optional[float] = None, param_type: type = ParamState, in_size: Optional[Size] = None,
                 name: Optional[str] = None):
        super().__init__(name=name)
        for arg, v in (("in_features", in_features), ("lora_rank", lora_rank), ("out_features", out_features)):
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{self._label()}: {arg} must be a positive int, got {v!r}.")
        self.in_size = in_features if in_size is None else in_size
        size = self._fixed_size("in_size")
        if size[-1] != in_features:
            raise ValueError(f"{self._label()}: in_size {size} ends in {size[-1]} features but "
                             f"in_features is {in_features}.")
        self.out_size = size[:-1] + (out_features,)
        self.in_features, self.out_features, self.lora_rank = in_features, out_features, lora_rank
        base_out = getattr(base_module, "out_size", None)
        if base_module is not None and base_out is not None and base_out[-1] != out_features:
            raise ValueError(f"{self._label()}: base_module {base_module._label()} gives {base_out[-1]} output "
                             f"features but out_features is {out_features}.")
        self.base_module = base_module
        self.scale = 1.0 if alpha is None else alpha / lora_rank
        self.weight = hold(param_type, {
            "lora_a": _initial(self, kernel_init, (in_features, lora_rank), "kernel_init"),
            "lora_b": _initial(self, kernel_init, (lora_rank, out_features), "kernel_init")})

    def update(self, x: Any) -> jax.Array:
        """`base(x) + s * x @ A @ B` (without a base module, just the low-rank term)."""
        x = _features(self, x, self._fixed_size("in_size")[-1])
        params = read(self.weight)
        y = (x @ params["lora_a"] @ params["lora_b"]) * self.scale
        return y if self.base_module is None else self.base_module(x) + y
