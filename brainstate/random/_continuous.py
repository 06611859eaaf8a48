"""Continuous draws built on uniform and normal variates: the location–scale families.

`ContinuousDraws` is a mixin of `RandomState`; every method follows NumPy's conventions:

- `size`: None (the broadcast shape of the parameters), an int, or a tuple of ints;
- `key`: an explicit key to sample from instead of the stream (the stream does not advance);
- `dtype`: a float dtype, `brainstate.environ.dftype()` when None.

Arguments are checked (while concrete) before the stream advances; the sampling itself is
`jax.random`'s, except the truncated normal's, which stays accurate in the tails (see
`_standard_truncated_normal`).
"""

import functools
from typing import Any, Callable, Optional

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import ndtr, ndtri
from jax.typing import ArrayLike, DTypeLike

from ._checks import (SeedOrKey, Size, as_arrays, as_size, float_dtype, nonnegative, ordered,
                      positive, result_shape)
from ._units import attach_unit, drop_unit, plain_values, split_unit

__all__ = ["ContinuousDraws"]


def _affine(x: jax.Array, loc, scale, dtype) -> jax.Array:
    """`x * scale + loc` (either may be None), in `dtype`."""
    if scale is not None:
        x = x * scale
    if loc is not None:
        x = x + loc
    return jnp.asarray(x).astype(dtype)


class ContinuousDraws:
    """Uniform, normal and location–scale draws (mixin of `RandomState`)."""

    _next_key: Callable[[Optional[SeedOrKey]], jax.Array]

    # -- uniform on [0, 1) ---------------------------------------------------------------------
    def rand(self, *dn: int, key: Optional[SeedOrKey] = None,
             dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Uniform samples on [0, 1) of shape `dn` (`rand(2, 3)` has shape `(2, 3)`).

        Args:
          *dn: the dimensions of the output; none for a scalar.
          key, dtype: a key to draw from instead of the stream (which then does not advance), and a
            float dtype (default `brainstate.environ.dftype()`).

        Returns:
          An array of shape `dn`.

        Example:
          >>> import brainstate
          >>> x = brainstate.random.rand(2, 3)
          >>> x.shape, bool(((0 <= x) & (x < 1)).all())
          ((2, 3), True)
        """
        shape = as_size(dn, "rand")
        dtype = float_dtype(dtype, "rand")
        return jax.random.uniform(self._next_key(key), shape or (), dtype)

    def random(self, size: Optional[Size] = None, key: Optional[SeedOrKey] = None,
               dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Uniform samples on [0, 1) of shape `size`.

        Args:
          size, key, dtype: the output shape (an int or a tuple; None: a scalar), a key to draw from
            instead of the stream (which then does not advance), and a float dtype (default
            `brainstate.environ.dftype()`).

        Returns:
          An array of shape `size`.

        Example:
          >>> import brainstate
          >>> x = brainstate.random.random((2, 2))
          >>> x.shape, bool(((0 <= x) & (x < 1)).all())
          ((2, 2), True)
        """
        shape = as_size(size, "random") or ()
        dtype = float_dtype(dtype, "random")
        return jax.random.uniform(self._next_key(key), shape or (), dtype)

    def random_sample(self, size: Optional[Size] = None, key: Optional[SeedOrKey] = None,
                      dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Uniform samples on [0, 1) (NumPy's alias of `random`).

        Args:
          size, key, dtype: the output shape (an int or a tuple; None: a scalar), a key to draw from
            instead of the stream (which then does not advance), and a float dtype (default
            `brainstate.environ.dftype()`).

        Returns:
          An array of shape `size`.

        Example:
          >>> import brainstate
          >>> x = brainstate.random.random_sample((2, 2))
          >>> x.shape, bool(((0 <= x) & (x < 1)).all())
          ((2, 2), True)
        """
        return self.random(size, key=key, dtype=dtype)

    def ranf(self, size: Optional[Size] = None, key: Optional[SeedOrKey] = None,
             dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Uniform samples on [0, 1) (NumPy's alias of `random`).

        Args:
          size, key, dtype: the output shape (an int or a tuple; None: a scalar), a key to draw from
            instead of the stream (which then does not advance), and a float dtype (default
            `brainstate.environ.dftype()`).

        Returns:
          An array of shape `size`.

        Example:
          >>> import brainstate
          >>> x = brainstate.random.ranf((2, 2))
          >>> x.shape, bool(((0 <= x) & (x < 1)).all())
          ((2, 2), True)
        """
        return self.random(size, key=key, dtype=dtype)

    def sample(self, size: Optional[Size] = None, key: Optional[SeedOrKey] = None,
               dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Uniform samples on [0, 1) (NumPy's alias of `random`).

        Args:
          size, key, dtype: the output shape (an int or a tuple; None: a scalar), a key to draw from
            instead of the stream (which then does not advance), and a float dtype (default
            `brainstate.environ.dftype()`).

        Returns:
          An array of shape `size`.

        Example:
          >>> import brainstate
          >>> x = brainstate.random.sample((2, 2))
          >>> x.shape, bool(((0 <= x) & (x < 1)).all())
          ((2, 2), True)
        """
        return self.random(size, key=key, dtype=dtype)

    def uniform(self, low: ArrayLike = 0.0, high: ArrayLike = 1.0, size: Optional[Size] = None,
                key: Optional[SeedOrKey] = None, dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Uniform samples on [low, high).

        Args:
          low: the lower bound (included), a number or an array.
          high: the upper bound (excluded).
          size, key, dtype: the output shape (an int or a tuple; None: the parameters' broadcast
            shape), a key to draw from instead of the stream (which then does not advance), and a float
            dtype (default `brainstate.environ.dftype()`).

        Returns:
          An array of samples of shape `size`.
          Samples carry units: given a brainunit Quantity, `low` and `high` share one unit and the
          result is a Quantity in it (see `brainstate.random`).

        Example:
          >>> import brainstate
          >>> x = brainstate.random.uniform(-1.0, 1.0, size=4)
          >>> x.shape, bool(((-1 <= x) & (x < 1)).all())
          ((4,), True)
        """
        low, high, unit = split_unit("uniform", low=low, high=high)
        low, high = as_arrays(low, high)
        dtype = float_dtype(dtype, "uniform")
        shape = result_shape("uniform", size, low, high)
        x = jax.random.uniform(self._next_key(key), shape, dtype, minval=low, maxval=high)
        return attach_unit(x, unit)

    def rand_like(self, input: ArrayLike, dtype: Optional[DTypeLike] = None,
                  key: Optional[SeedOrKey] = None) -> jax.Array:
        """Uniform samples on [0, 1) with the shape of `input` (and its dtype if floating).

        Args:
          input: an array whose shape (and floating dtype) the samples take.
          dtype: a floating-point dtype; default the dtype of `input` if floating, else
            `brainstate.environ.dftype()`.
          key: a key to draw from instead of the stream (which then does not advance).

        Returns:
          An array shaped like `input`.

        Example:
          >>> import brainstate, jax.numpy as jnp
          >>> brainstate.random.rand_like(jnp.zeros((2, 3))).shape
          (2, 3)
        """
        input = drop_unit(input)
        dtype = _like_dtype(input, dtype, "rand_like")
        return jax.random.uniform(self._next_key(key), np.shape(input), dtype)

    # -- normal --------------------------------------------------------------------------------
    def randn(self, *dn: int, key: Optional[SeedOrKey] = None,
              dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Standard normal samples of shape `dn` (`randn(2, 3)` has shape `(2, 3)`).

        Args:
          *dn: the dimensions of the output; none for a scalar.
          key, dtype: a key to draw from instead of the stream (which then does not advance), and a
            float dtype (default `brainstate.environ.dftype()`).

        Returns:
          An array of shape `dn`.

        Example:
          >>> import brainstate
          >>> brainstate.random.randn(2, 3).shape
          (2, 3)
        """
        shape = as_size(dn, "randn")
        dtype = float_dtype(dtype, "randn")
        return jax.random.normal(self._next_key(key), shape or (), dtype)

    def randn_like(self, input: ArrayLike, dtype: Optional[DTypeLike] = None,
                   key: Optional[SeedOrKey] = None) -> jax.Array:
        """Standard normal samples with the shape of `input` (and its dtype if floating).

        Args:
          input: an array whose shape (and floating dtype) the samples take.
          dtype: a floating-point dtype; default the dtype of `input` if floating, else
            `brainstate.environ.dftype()`.
          key: a key to draw from instead of the stream (which then does not advance).

        Returns:
          An array shaped like `input`.

        Example:
          >>> import brainstate, jax.numpy as jnp
          >>> x = brainstate.random.randn_like(jnp.zeros(3, jnp.float16))
          >>> x.shape, str(x.dtype)
          ((3,), 'float16')
        """
        input = drop_unit(input)
        dtype = _like_dtype(input, dtype, "randn_like")
        return jax.random.normal(self._next_key(key), np.shape(input), dtype)

    def standard_normal(self, size: Optional[Size] = None, key: Optional[SeedOrKey] = None,
                        dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Standard normal samples (mean 0, variance 1).

        Args:
          size, key, dtype: the output shape (an int or a tuple; None: a scalar), a key to draw from
            instead of the stream (which then does not advance), and a float dtype (default
            `brainstate.environ.dftype()`).

        Returns:
          An array of shape `size`.

        Example:
          >>> import brainstate
          >>> brainstate.random.standard_normal((3, 2)).shape
          (3, 2)
        """
        shape = as_size(size, "standard_normal") or ()
        dtype = float_dtype(dtype, "standard_normal")
        return jax.random.normal(self._next_key(key), shape or (), dtype)

    def normal(self, loc: Optional[ArrayLike] = None, scale: Optional[ArrayLike] = None,
               size: Optional[Size] = None, key: Optional[SeedOrKey] = None,
               dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Normal samples with mean `loc` (default 0) and standard deviation `scale` (default 1).

        Args:
          loc: the mean, a number or an array; None for 0.
          scale: the standard deviation (>= 0); None for 1.
          size, key, dtype: the output shape (an int or a tuple; None: the parameters' broadcast
            shape), a key to draw from instead of the stream (which then does not advance), and a float
            dtype (default `brainstate.environ.dftype()`).

        Returns:
          An array of samples of shape `size`.
          Samples carry units: given a brainunit Quantity, `loc` and `scale` share one unit and the
          result is a Quantity in it (see `brainstate.random`).

        Example:
          >>> import brainstate
          >>> brainstate.random.normal(1.0, 2.0, size=(2, 3)).shape
          (2, 3)
        """
        loc, scale, unit = split_unit("normal", loc=loc, scale=scale)
        loc, scale = as_arrays(loc, scale)
        nonnegative("normal", "scale", scale)
        shape = result_shape("normal", size, loc, scale)
        if (dtype is not None and jnp.issubdtype(dtype, jnp.complexfloating)) or _complex(loc):
            # Complex: noise of `dtype` (a complex dtype draws real and imaginary parts, each of
            # variance 1/2, as `jax.random.normal` does), around a complex `loc` kept whole.
            noise_dtype = jnp.dtype(dtype) if dtype is not None else float_dtype(None, "normal")
            x = jax.random.normal(self._next_key(key), shape, noise_dtype)
            x = _affine(x, loc, scale, jnp.result_type(x, *(v for v in (loc, scale) if v is not None)))
            return attach_unit(x, unit)
        dtype = float_dtype(dtype, "normal")
        x = _affine(jax.random.normal(self._next_key(key), shape, dtype), loc, scale, dtype)
        return attach_unit(x, unit)

    def truncated_normal(self, lower: ArrayLike, upper: ArrayLike, size: Optional[Size] = None,
                         loc: ArrayLike = 0.0, scale: ArrayLike = 1.0, key: Optional[SeedOrKey] = None,
                         dtype: Optional[DTypeLike] = None, check_valid: bool = True) -> jax.Array:
        """Normal samples with mean `loc` and standard deviation `scale`, restricted to [lower, upper].

        Args:
          lower: the lower bound, in the units of the samples (not standardised).
          upper: the upper bound (> `lower`).
          loc: the mean of the untruncated normal.
          scale: its standard deviation (> 0).
          size, key, dtype: the output shape (an int or a tuple; None: the parameters' broadcast
            shape), a key to draw from instead of the stream (which then does not advance), and a float
            dtype (default `brainstate.environ.dftype()`).
          check_valid: check the parameters (when they are concrete) before drawing.

        Returns:
          An array of samples of shape `size`, all within [lower, upper].
          Samples carry units: given a brainunit Quantity, `lower`, `upper`, `loc` and `scale` share
          one unit and the result is a Quantity in it (see `brainstate.random`).

        Example:
          >>> import brainstate
          >>> x = brainstate.random.truncated_normal(-1.0, 1.0, size=100)
          >>> bool(((-1 <= x) & (x <= 1)).all())
          True
        """
        lower, upper, loc, scale, unit = split_unit("truncated_normal", lower=lower, upper=upper,
                                                    loc=loc, scale=scale)
        lower, upper, loc, scale = as_arrays(lower, upper, loc, scale)
        if check_valid:
            positive("truncated_normal", "scale", scale)
            ordered("truncated_normal", True, lower=lower, upper=upper)
        dtype = float_dtype(dtype, "truncated_normal")
        shape = result_shape("truncated_normal", size, lower, upper, loc, scale)
        a = (jnp.asarray(lower, dtype) - loc) / scale
        b = (jnp.asarray(upper, dtype) - loc) / scale
        z = _standard_truncated_normal(self._next_key(key), a, b, shape, dtype)
        # `loc + scale * z` may round a hair past a bound: the promise is samples in [lower, upper].
        x = _affine(z, loc, scale, dtype)
        return attach_unit(jnp.clip(x, jnp.asarray(lower, dtype), jnp.asarray(upper, dtype)), unit)

    def lognormal(self, mean: Optional[ArrayLike] = None, sigma: Optional[ArrayLike] = None,
                  size: Optional[Size] = None, key: Optional[SeedOrKey] = None,
                  dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Samples `exp(N)` where `N` is normal with mean `mean` (default 0) and standard deviation `sigma` (default 1).

        Args:
          mean: the mean of the underlying normal; None for 0.
          sigma: its standard deviation (>= 0); None for 1.
          size, key, dtype: the output shape (an int or a tuple; None: the parameters' broadcast
            shape), a key to draw from instead of the stream (which then does not advance), and a float
            dtype (default `brainstate.environ.dftype()`).

        Returns:
          An array of positive samples of shape `size`.

        Example:
          >>> import brainstate
          >>> x = brainstate.random.lognormal(0.0, 0.5, size=5)
          >>> bool((x > 0).all())
          True
        """
        mean, sigma = as_arrays(*plain_values("lognormal", mean=mean, sigma=sigma))
        nonnegative("lognormal", "sigma", sigma)
        dtype = float_dtype(dtype, "lognormal")
        shape = result_shape("lognormal", size, mean, sigma)
        x = jax.random.lognormal(self._next_key(key), 1.0 if sigma is None else sigma, shape, dtype)
        return x.astype(dtype) if mean is None else (x * jnp.exp(mean)).astype(dtype)


@functools.partial(jax.jit, static_argnames=("shape", "dtype"))  # one compile per shape
def _standard_truncated_normal(key: jax.Array, a, b, shape, dtype) -> jax.Array:
    """Standard normal samples restricted to [a, b], by inverting the normal CDF.

    `ndtri(ndtr(a) + u * (ndtr(b) - ndtr(a)))` is exact in principle but, in the upper tail,
    `ndtr` rounds to 1 (float32 cannot tell `ndtr(5)` from 1), so an interval above 0 is sampled
    as its mirror image [-b, -a], where the CDF values are small and kept to full relative
    precision, and the result negated. Deep in a tail even those underflow (below about -13 in
    float32); the samples are then clipped into [a, b], so they stay inside the interval.
    """
    work = jnp.promote_types(dtype, jnp.float32)  # half precision cannot hold tail probabilities
    a = jnp.broadcast_to(jnp.asarray(a, work), shape)
    b = jnp.broadcast_to(jnp.asarray(b, work), shape)
    flip = a > 0
    lo, hi = jnp.where(flip, -b, a), jnp.where(flip, -a, b)
    p_lo, p_hi = ndtr(lo), ndtr(hi)
    # `uniform` gives multiples of eps on [0, 1); shifted by eps/2 they lie strictly inside (0, 1),
    # so an infinite bound is never reached.
    u = jax.random.uniform(key, shape, work) + jnp.finfo(work).eps / 2
    p = jnp.clip(p_lo + u * (p_hi - p_lo), jnp.finfo(work).tiny, 1 - jnp.finfo(work).eps / 2)
    z = ndtri(p)
    return jnp.clip(jnp.where(flip, -z, z), a, b).astype(dtype)


def _complex(x: Any) -> bool:
    return x is not None and jnp.issubdtype(jnp.result_type(x), jnp.complexfloating)


def _like_dtype(input: ArrayLike, dtype: Optional[DTypeLike], fn: str) -> np.dtype:
    """`dtype` if given, else the dtype of `input` when floating, else the default float."""
    if dtype is None and jnp.issubdtype(jnp.result_type(input), jnp.floating):
        return jnp.result_type(input)
    return float_dtype(dtype, fn)
