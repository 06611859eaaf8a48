"""Random initializers: simple distributions, variance scaling, and orthogonal matrices.

Each initializer draws from `brainstate.random`: from the default stream unless it was built
with a `seed` (an int, a key or a `RandomState`), in which case it owns a stream of its own and
successive calls give fresh values. A call may also pass `key=` to draw from that key without
advancing any stream.

Variance scaling (`VarianceScaling` and its Kaiming/Xavier/LeCun presets) reads the fans from
the shape: `fan_in = shape[in_axis] * receptive`, `fan_out = shape[out_axis] * receptive`, where
`receptive` is the product of the other dimensions (the kernel window of a conv weight laid
out as `(*window, in, out)`); a 1-d shape `(n,)` has `fan_in = fan_out = n`. Values then have
variance `scale / fan` (`fan` chosen by `mode`). With `distribution='truncated_normal'` the
samples are cut at two standard deviations and rescaled so the variance is still `scale / fan`.
"""

import math
from typing import Any, Optional, Union

import jax
import jax.numpy as jnp
import numpy as np

from ._base import Initializer, Shape, _dtype, _stream, _with_unit

__all__ = ["Normal", "TruncatedNormal", "Uniform", "Gamma", "Exponential", "VarianceScaling",
           "KaimingNormal", "KaimingUniform", "XavierNormal", "XavierUniform", "LecunNormal",
           "LecunUniform", "Orthogonal", "DeltaOrthogonal"]

# Standard deviation of a standard normal truncated to [-2, 2].
_TRUNCATED_STD = 0.87962566103423978


def _require(ok: Union[bool, np.bool_], message: str) -> None:
    if not ok:
        raise ValueError(message)


def _concrete(x: Any) -> Optional[np.ndarray]:
    """`x` as a NumPy array when its value is known now (not a tracer), else None."""
    try:
        return np.asarray(x)
    except (TypeError, jax.errors.TracerArrayConversionError):
        return None


class _RandomInit(Initializer):
    """Shared by random initializers: owns the optional stream and the unit."""

    def __init__(self, seed: Any = None, unit: Any = None):
        self.seed = seed
        self.unit = unit
        self._own_rng = _stream(seed, type(self).__name__)


class Normal(_RandomInit):
    """Samples from a normal distribution `N(mean, scale**2)`.

    Args:
      mean: the mean.
      scale: the standard deviation (non-negative).
      unit: optional `brainunit` unit multiplied into the result.
      seed: None (the default stream), an int, a key or a `brainstate.random.RandomState`.

    Example:
      >>> import brainstate
      >>> brainstate.nn.init.Normal(scale=0.1)((2, 3)).shape
      (2, 3)
    """

    def __init__(self, mean: Any = 0.0, scale: Any = 1.0, unit: Any = None, seed: Any = None):
        c = _concrete(scale)
        _require(c is None or np.all(c >= 0), f"Normal: scale must be non-negative, got {scale!r}.")
        self.mean = mean
        self.scale = scale
        super().__init__(seed, unit)

    def __call__(self, shape: Shape, dtype: Any = None, key: Any = None, **kwargs: Any) -> jax.Array:
        x = self._rng().normal(self.mean, self.scale, size=self._shape(shape), key=key, dtype=_dtype(dtype))
        return _with_unit(x, self.unit)


class TruncatedNormal(_RandomInit):
    """Samples from `N(loc, scale**2)` restricted to `[lower, upper]`.

    `lower` and `upper` are absolute bounds, in the same units as the samples (not counted in
    standard deviations).

    Raises:
      ValueError: `scale` not positive or `lower >= upper`.

    Example:
      >>> import brainstate
      >>> x = brainstate.nn.init.TruncatedNormal(lower=-1.0, upper=1.0)((1000,))
      >>> bool((x >= -1).all() and (x <= 1).all())
      True
    """

    def __init__(self, loc: Any = 0.0, scale: Any = 1.0, unit: Any = None, lower: Any = -2.0,
                 upper: Any = 2.0, seed: Any = None):
        c, lo, hi = _concrete(scale), _concrete(lower), _concrete(upper)
        _require(c is None or np.all(c > 0), f"TruncatedNormal: scale must be positive, got {scale!r}.")
        _require(lo is None or hi is None or np.all(lo < hi),
                 f"TruncatedNormal: lower must be below upper, got lower={lower!r}, upper={upper!r}.")
        self.loc = loc
        self.scale = scale
        self.lower = lower
        self.upper = upper
        super().__init__(seed, unit)

    def __call__(self, shape: Shape, dtype: Any = None, key: Any = None, **kwargs: Any) -> jax.Array:
        x = self._rng().truncated_normal(self.lower, self.upper, size=self._shape(shape), loc=self.loc,
                                         scale=self.scale, key=key, dtype=_dtype(dtype))
        return _with_unit(x, self.unit)


class Uniform(_RandomInit):
    """Samples uniformly from `[min_val, max_val)`.

    Raises:
      ValueError: `min_val > max_val`.

    Example:
      >>> import brainstate
      >>> x = brainstate.nn.init.Uniform(-1.0, 1.0)((1000,))
      >>> bool((x >= -1).all() and (x < 1).all())
      True
    """

    def __init__(self, min_val: Any = 0.0, max_val: Any = 1.0, seed: Any = None, unit: Any = None):
        lo, hi = _concrete(min_val), _concrete(max_val)
        _require(lo is None or hi is None or np.all(lo <= hi),
                 f"Uniform: min_val must not exceed max_val, got min_val={min_val!r}, max_val={max_val!r}.")
        self.min_val = min_val
        self.max_val = max_val
        super().__init__(seed, unit)

    def __call__(self, shape: Shape, dtype: Any = None, key: Any = None, **kwargs: Any) -> jax.Array:
        x = self._rng().uniform(self.min_val, self.max_val, size=self._shape(shape), key=key,
                                dtype=_dtype(dtype))
        return _with_unit(x, self.unit)


class Gamma(_RandomInit):
    """Samples from a gamma distribution with shape `shape` and scale `scale` (default 1).

    Example:
      >>> import brainstate
      >>> bool((brainstate.nn.init.Gamma(2.0)((100,)) > 0).all())
      True
    """

    def __init__(self, shape: Any, unit: Any = None, scale: Any = None, seed: Any = None):
        c = _concrete(shape)
        _require(c is None or np.all(c > 0), f"Gamma: shape (the distribution's) must be positive, got {shape!r}.")
        self.shape = shape
        self.scale = scale
        super().__init__(seed, unit)

    def __call__(self, shape: Shape, dtype: Any = None, key: Any = None, **kwargs: Any) -> jax.Array:
        x = self._rng().gamma(self.shape, self.scale, size=self._shape(shape), key=key, dtype=_dtype(dtype))
        return _with_unit(x, self.unit)


class Exponential(_RandomInit):
    """Samples from an exponential distribution with mean `scale` (default 1).

    Example:
      >>> import brainstate
      >>> bool((brainstate.nn.init.Exponential(2.0)((100,)) >= 0).all())
      True
    """

    def __init__(self, scale: Any = None, seed: Any = None, unit: Any = None):
        c = _concrete(scale) if scale is not None else None
        _require(c is None or np.all(c > 0), f"Exponential: scale must be positive, got {scale!r}.")
        self.scale = scale
        super().__init__(seed, unit)

    def __call__(self, shape: Shape, dtype: Any = None, key: Any = None, **kwargs: Any) -> jax.Array:
        x = self._rng().exponential(self.scale, size=self._shape(shape), key=key, dtype=_dtype(dtype))
        return _with_unit(x, self.unit)


_MODES = ("fan_in", "fan_out", "fan_avg", "fan_geo_avg")
_DISTRIBUTIONS = ("truncated_normal", "normal", "uniform")


def _fans(shape, in_axis: int, out_axis: int, owner: str):
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    try:
        n_in, n_out = shape[in_axis], shape[out_axis]
    except IndexError:
        raise ValueError(f"{owner}: in_axis={in_axis} / out_axis={out_axis} are out of range for a "
                         f"weight of shape {shape}.") from None
    receptive = math.prod(shape) // max(n_in * n_out, 1) if n_in * n_out else 0
    return n_in * receptive, n_out * receptive


class VarianceScaling(_RandomInit):
    """Samples with variance `scale / fan`, where `fan` depends on `mode`.

    Args:
      scale: the variance numerator (positive).
      mode: 'fan_in', 'fan_out', 'fan_avg' (the mean of the two) or 'fan_geo_avg'.
      distribution: 'truncated_normal', 'normal' or 'uniform'.
      in_axis: the input-feature axis of the weight.
      out_axis: the output-feature axis of the weight.
      seed: None (the default stream), an int, a key or a `RandomState`.
      unit: optional `brainunit` unit multiplied into the result.

    Raises:
      ValueError: an unknown mode or distribution, or a non-positive scale.

    Example:
      >>> import brainstate
      >>> w = brainstate.nn.init.VarianceScaling(1.0, 'fan_in', 'normal')((400, 300))
      >>> round(float(w.std() * 20), 1)
      1.0
    """

    def __init__(self, scale: Any, mode: str, distribution: str, in_axis: int = -2, out_axis: int = -1,
                 seed: Any = None, unit: Any = None):
        name = type(self).__name__
        c = _concrete(scale)
        _require(c is None or np.all(c > 0), f"{name}: scale must be positive, got {scale!r}.")
        _require(mode in _MODES, f"{name}: mode must be one of {_MODES}, got {mode!r}.")
        _require(distribution in _DISTRIBUTIONS,
                 f"{name}: distribution must be one of {_DISTRIBUTIONS}, got {distribution!r}.")
        self.scale = scale
        self.mode = mode
        self.distribution = distribution
        self.in_axis = in_axis
        self.out_axis = out_axis
        super().__init__(seed, unit)

    def __call__(self, shape: Shape, dtype: Any = None, key: Any = None, **kwargs: Any) -> jax.Array:
        shape = self._shape(shape)
        fan_in, fan_out = _fans(shape, self.in_axis, self.out_axis, type(self).__name__)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2,
               "fan_geo_avg": math.sqrt(fan_in * fan_out)}[self.mode]
        std = jnp.sqrt(self.scale / max(1.0, fan))
        rng, dtype = self._rng(), _dtype(dtype)
        if self.distribution == "normal":
            x = rng.normal(0.0, std, size=shape, key=key, dtype=dtype)
        elif self.distribution == "uniform":
            limit = std * math.sqrt(3.0)
            x = rng.uniform(-limit, limit, size=shape, key=key, dtype=dtype)
        else:
            x = rng.truncated_normal(-2.0, 2.0, size=shape, key=key, dtype=dtype) * (std / _TRUNCATED_STD)
        return _with_unit(jnp.asarray(x, dtype), self.unit)


def _preset(scale: float, mode: str, distribution: str):
    """A `VarianceScaling` subclass with the given defaults (Kaiming, Xavier, LeCun)."""

    def __init__(self, scale: float = scale, mode: str = mode, distribution: str = distribution,
                 in_axis: int = -2, out_axis: int = -1, seed: Any = None, unit: Any = None):
        VarianceScaling.__init__(self, scale, mode, distribution, in_axis, out_axis, seed, unit)

    return __init__


class KaimingNormal(VarianceScaling):
    """He/Kaiming init for ReLU networks: variance `2 / fan_in`, truncated normal."""
    __init__ = _preset(2.0, "fan_in", "truncated_normal")


class KaimingUniform(VarianceScaling):
    """He/Kaiming init for ReLU networks: variance `2 / fan_in`, uniform."""
    __init__ = _preset(2.0, "fan_in", "uniform")


class XavierNormal(VarianceScaling):
    """Glorot/Xavier init: variance `1 / fan_avg`, truncated normal."""
    __init__ = _preset(1.0, "fan_avg", "truncated_normal")


class XavierUniform(VarianceScaling):
    """Glorot/Xavier init: variance `1 / fan_avg`, uniform."""
    __init__ = _preset(1.0, "fan_avg", "uniform")


class LecunNormal(VarianceScaling):
    """LeCun init: variance `1 / fan_in`, truncated normal."""
    __init__ = _preset(1.0, "fan_in", "truncated_normal")


class LecunUniform(VarianceScaling):
    """LeCun init: variance `1 / fan_in`, uniform."""
    __init__ = _preset(1.0, "fan_in", "uniform")


def _orthogonal(rng, shape, axis: int, scale: Any, key: Any, dtype: Any, owner: str) -> jax.Array:
    if len(shape) < 2:
        raise ValueError(f"{owner}: needs a weight of at least 2 dimensions, got shape {shape}.")
    axis = axis % len(shape)
    n_cols = shape[axis]
    n_rows = math.prod(shape) // n_cols
    big, small = max(n_rows, n_cols), min(n_rows, n_cols)
    # QR in at least float32: low-precision QR is not implemented (and would be inaccurate).
    work = jnp.promote_types(dtype, jnp.float32)
    q, r = jnp.linalg.qr(rng.normal(size=(big, small), key=key, dtype=work))
    q = (q * jnp.sign(jnp.diagonal(r))).astype(dtype)  # sign fix: uniform over orthogonal matrices
    # `q` is (big, small); the draw is laid out as the reference release does, so a seed gives its
    # matrix: the first index of `q` runs along `axis` unless `axis` is the shorter side. A square
    # draw is therefore transposed too.
    if n_rows <= n_cols:
        q = q.T
    rest = shape[:axis] + shape[axis + 1:]
    return scale * jnp.moveaxis(q.reshape(rest + (n_cols,)), -1, axis)


class Orthogonal(_RandomInit):
    """A (semi-)orthogonal matrix, times `scale`.

    The weight is viewed as a matrix with `shape[axis]` columns and all other dimensions
    flattened into rows; that matrix has orthonormal columns (if it has at least as many rows as
    columns) or orthonormal rows (otherwise).

    Raises:
      ValueError: the shape has fewer than 2 dimensions.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> w = brainstate.nn.init.Orthogonal()((5, 3))
      >>> bool(jnp.allclose(w.T @ w, jnp.eye(3), atol=1e-5))
      True
    """

    def __init__(self, scale: Any = 1.0, axis: int = -1, seed: Any = None, unit: Any = None):
        self.scale = scale
        self.axis = axis
        super().__init__(seed, unit)

    def __call__(self, shape: Shape, dtype: Any = None, key: Any = None, **kwargs: Any) -> jax.Array:
        x = _orthogonal(self._rng(), self._shape(shape), self.axis, self.scale, key, _dtype(dtype), "Orthogonal")
        return _with_unit(x, self.unit)


class DeltaOrthogonal(_RandomInit):
    """Delta-orthogonal conv kernel: zero except an orthogonal `(in, out)` matrix at the window centre.

    For a kernel of shape `(*window, in, out)` with 1 to 3 window dimensions and `in <= out`.
    The matrix sits at index `(k - 1) // 2` of each window axis of size `k`: the centre, or for
    an even size the tap that a 'SAME'-padded conv lines up with each output position. So a conv
    initialised this way is, at initialisation, an orthogonal map of the channels at each
    position.

    Raises:
      ValueError: not a 3-, 4- or 5-d shape, or more input than output channels.

    Example:
      >>> import brainstate
      >>> brainstate.nn.init.DeltaOrthogonal()((3, 3, 4, 8)).shape
      (3, 3, 4, 8)
    """

    def __init__(self, scale: Any = 1.0, axis: int = -1, seed: Any = None, unit: Any = None):
        self.scale = scale
        self.axis = axis
        super().__init__(seed, unit)

    def __call__(self, shape: Shape, dtype: Any = None, key: Any = None, **kwargs: Any) -> jax.Array:
        shape = self._shape(shape)
        if len(shape) not in (3, 4, 5):
            raise ValueError(f"DeltaOrthogonal: needs a conv kernel of shape (*window, in, out) with 3, 4 "
                             f"or 5 dimensions, got shape {shape}.")
        n_in, n_out = shape[-2:]
        if n_in > n_out:
            raise ValueError(f"DeltaOrthogonal: needs in <= out channels, got kernel shape {shape} "
                             f"(in={n_in}, out={n_out}).")
        dtype = _dtype(dtype)
        ortho = _orthogonal(self._rng(), (n_in, n_out), self.axis, self.scale, key, dtype, "DeltaOrthogonal")
        centre = tuple((k - 1) // 2 for k in shape[:-2])
        x = jnp.zeros(shape, dtype).at[centre].set(ortho)
        return _with_unit(x, self.unit)
