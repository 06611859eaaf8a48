"""Exponential, Cauchy, Gumbel, Laplace, logistic, Rayleigh, Maxwell, triangular and von Mises draws.

`ContinuousFamilyDraws` is a mixin of `RandomState`, with the conventions of `_continuous`
(`size`, `key`, `dtype`; arguments checked while concrete, before the stream advances). The
sampling is `jax.random`'s, except von Mises, which `jax.random` lacks (Best and Fisher's
rejection method below).
"""

from typing import Callable, Optional

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike, DTypeLike

from ._checks import SeedOrKey, Size, as_arrays, as_size, float_dtype, nonnegative, ordered, result_shape
from ._continuous import _affine
from ._units import attach_unit, plain_values, split_unit

__all__ = ["ContinuousFamilyDraws"]


class ContinuousFamilyDraws:
    """Location–scale and other continuous families (mixin of `RandomState`)."""

    _next_key: Callable[[Optional[SeedOrKey]], jax.Array]

    def exponential(self, scale: Optional[ArrayLike] = None, size: Optional[Size] = None,
                    key: Optional[SeedOrKey] = None, dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Exponential samples with mean `scale` (default 1; the rate is `1 / scale`).

        Args:
          scale: the mean (>= 0); None for 1.
          size, key, dtype: the output shape (an int or a tuple; None: the parameters' broadcast
            shape), a key to draw from instead of the stream (which then does not advance), and a float
            dtype (default `brainstate.environ.dftype()`).

        Returns:
          An array of non-negative samples of shape `size`.
          Samples carry units: given a brainunit Quantity, `scale` sets the unit and the result is a
          Quantity in it (see `brainstate.random`).

        Example:
          >>> import brainstate
          >>> x = brainstate.random.exponential(2.0, size=(2, 2))
          >>> x.shape, bool((x >= 0).all())
          ((2, 2), True)
        """
        scale, unit = split_unit("exponential", scale=scale)
        (scale,) = as_arrays(scale)
        nonnegative("exponential", "scale", scale)
        dtype = float_dtype(dtype, "exponential")
        shape = result_shape("exponential", size, scale)
        x = _affine(jax.random.exponential(self._next_key(key), shape, dtype), None, scale, dtype)
        return attach_unit(x, unit)

    def standard_exponential(self, size: Optional[Size] = None, key: Optional[SeedOrKey] = None,
                             dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Exponential samples with mean 1.

        Args:
          size, key, dtype: the output shape (an int or a tuple; None: a scalar), a key to draw from
            instead of the stream (which then does not advance), and a float dtype (default
            `brainstate.environ.dftype()`).

        Returns:
          An array of non-negative samples of shape `size`.

        Example:
          >>> import brainstate
          >>> bool((brainstate.random.standard_exponential(4) >= 0).all())
          True
        """
        shape = as_size(size, "standard_exponential") or ()
        dtype = float_dtype(dtype, "standard_exponential")
        return jax.random.exponential(self._next_key(key), shape, dtype)

    def standard_cauchy(self, size: Optional[Size] = None, key: Optional[SeedOrKey] = None,
                        dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Standard Cauchy samples (a Student t with one degree of freedom).

        Args:
          size, key, dtype: the output shape (an int or a tuple; None: a scalar), a key to draw from
            instead of the stream (which then does not advance), and a float dtype (default
            `brainstate.environ.dftype()`).

        Returns:
          An array of samples of shape `size`.

        Example:
          >>> import brainstate
          >>> brainstate.random.standard_cauchy((2, 3)).shape
          (2, 3)
        """
        shape = as_size(size, "standard_cauchy") or ()
        dtype = float_dtype(dtype, "standard_cauchy")
        return jax.random.cauchy(self._next_key(key), shape, dtype)

    def gumbel(self, loc: Optional[ArrayLike] = None, scale: Optional[ArrayLike] = None,
               size: Optional[Size] = None, key: Optional[SeedOrKey] = None,
               dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Gumbel (extreme value type I) samples with location `loc` and scale `scale`.

        Args:
          loc: the location; None for 0.
          scale: the scale (>= 0); None for 1.
          size, key, dtype: the output shape (an int or a tuple; None: the parameters' broadcast
            shape), a key to draw from instead of the stream (which then does not advance), and a float
            dtype (default `brainstate.environ.dftype()`).

        Returns:
          An array of samples of shape `size`.
          Samples carry units: given a brainunit Quantity, `loc` and `scale` share one unit and the
          result is a Quantity in it (see `brainstate.random`).

        Example:
          >>> import brainstate
          >>> brainstate.random.gumbel(0.0, 2.0, size=3).shape
          (3,)
        """
        return self._loc_scale("gumbel", jax.random.gumbel, loc, scale, size, key, dtype)

    def laplace(self, loc: Optional[ArrayLike] = None, scale: Optional[ArrayLike] = None,
                size: Optional[Size] = None, key: Optional[SeedOrKey] = None,
                dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Laplace (double exponential) samples with location `loc` and scale `scale`.

        Args:
          loc: the location; None for 0.
          scale: the scale (>= 0); None for 1.
          size, key, dtype: the output shape (an int or a tuple; None: the parameters' broadcast
            shape), a key to draw from instead of the stream (which then does not advance), and a float
            dtype (default `brainstate.environ.dftype()`).

        Returns:
          An array of samples of shape `size`.
          Samples carry units: given a brainunit Quantity, `loc` and `scale` share one unit and the
          result is a Quantity in it (see `brainstate.random`).

        Example:
          >>> import brainstate
          >>> brainstate.random.laplace(0.0, 2.0, size=3).shape
          (3,)
        """
        return self._loc_scale("laplace", jax.random.laplace, loc, scale, size, key, dtype)

    def logistic(self, loc: Optional[ArrayLike] = None, scale: Optional[ArrayLike] = None,
                 size: Optional[Size] = None, key: Optional[SeedOrKey] = None,
                 dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Logistic samples with location `loc` and scale `scale`.

        Args:
          loc: the location; None for 0.
          scale: the scale (>= 0); None for 1.
          size, key, dtype: the output shape (an int or a tuple; None: the parameters' broadcast
            shape), a key to draw from instead of the stream (which then does not advance), and a float
            dtype (default `brainstate.environ.dftype()`).

        Returns:
          An array of samples of shape `size`.
          Samples carry units: given a brainunit Quantity, `loc` and `scale` share one unit and the
          result is a Quantity in it (see `brainstate.random`).

        Example:
          >>> import brainstate
          >>> brainstate.random.logistic(0.0, 2.0, size=3).shape
          (3,)
        """
        return self._loc_scale("logistic", jax.random.logistic, loc, scale, size, key, dtype)

    def _loc_scale(self, fn, sampler, loc, scale, size, key, dtype) -> jax.Array:
        loc, scale, unit = split_unit(fn, loc=loc, scale=scale)
        loc, scale = as_arrays(loc, scale)
        nonnegative(fn, "scale", scale)
        dtype = float_dtype(dtype, fn)
        shape = result_shape(fn, size, loc, scale)
        x = _affine(sampler(self._next_key(key), shape, dtype), loc, scale, dtype)
        return attach_unit(x, unit)

    def rayleigh(self, scale: ArrayLike = 1.0, size: Optional[Size] = None,
                 key: Optional[SeedOrKey] = None, dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Rayleigh samples with scale (mode) `scale`.

        Args:
          scale: the scale (>= 0).
          size, key, dtype: the output shape (an int or a tuple; None: the parameters' broadcast
            shape), a key to draw from instead of the stream (which then does not advance), and a float
            dtype (default `brainstate.environ.dftype()`).

        Returns:
          An array of non-negative samples of shape `size`.
          Samples carry units: given a brainunit Quantity, `scale` sets the unit and the result is a
          Quantity in it (see `brainstate.random`).

        Example:
          >>> import brainstate
          >>> bool((brainstate.random.rayleigh(1.5, size=4) >= 0).all())
          True
        """
        scale, unit = split_unit("rayleigh", scale=scale)
        (scale,) = as_arrays(scale)
        nonnegative("rayleigh", "scale", scale)
        dtype = float_dtype(dtype, "rayleigh")
        shape = result_shape("rayleigh", size, scale)
        x = jax.random.rayleigh(self._next_key(key), scale, shape, dtype).astype(dtype)
        return attach_unit(x, unit)

    def maxwell(self, size: Optional[Size] = None, key: Optional[SeedOrKey] = None,
                dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Maxwell–Boltzmann samples with unit scale (the norm of a 3-d standard normal).

        Args:
          size, key, dtype: the output shape (an int or a tuple; None: a scalar), a key to draw from
            instead of the stream (which then does not advance), and a float dtype (default
            `brainstate.environ.dftype()`).

        Returns:
          An array of non-negative samples of shape `size`.

        Example:
          >>> import brainstate
          >>> brainstate.random.maxwell((2, 2)).shape
          (2, 2)
        """
        shape = as_size(size, "maxwell") or ()
        dtype = float_dtype(dtype, "maxwell")
        return jax.random.maxwell(self._next_key(key), shape, dtype)

    def triangular(self, left: ArrayLike = 0.0, mode: ArrayLike = 0.5, right: ArrayLike = 1.0,
                   size: Optional[Size] = None, key: Optional[SeedOrKey] = None,
                   dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Triangular samples on [left, right] with peak at `mode`.

        Args:
          left: the lower limit.
          mode: the peak (`left <= mode <= right`).
          right: the upper limit (> `left`).
          size, key, dtype: the output shape (an int or a tuple; None: the parameters' broadcast
            shape), a key to draw from instead of the stream (which then does not advance), and a float
            dtype (default `brainstate.environ.dftype()`).

        Returns:
          An array of samples of shape `size`, within [left, right].
          Samples carry units: given a brainunit Quantity, `left`, `mode` and `right` share one unit
          and the result is a Quantity in it (see `brainstate.random`).

        Example:
          >>> import brainstate
          >>> x = brainstate.random.triangular(0.0, 0.2, 1.0, size=10)
          >>> bool(((0 <= x) & (x <= 1)).all())
          True
        """
        left, mode, right, unit = split_unit("triangular", left=left, mode=mode, right=right)
        left, mode, right = as_arrays(left, mode, right)
        ordered("triangular", False, left=left, mode=mode, right=right)
        ordered("triangular", True, left=left, right=right)
        dtype = float_dtype(dtype, "triangular")
        shape = result_shape("triangular", size, left, mode, right)
        x = jax.random.triangular(self._next_key(key), left, mode, right, shape, dtype).astype(dtype)
        return attach_unit(x, unit)

    def vonmises(self, mu: ArrayLike, kappa: ArrayLike, size: Optional[Size] = None,
                 key: Optional[SeedOrKey] = None, dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Von Mises (circular normal) samples on [-pi, pi) with mode `mu` and concentration `kappa`.

        Args:
          mu: the mode, an angle in radians.
          kappa: the concentration (>= 0); `kappa = 0` is uniform on the circle.
          size, key, dtype: the output shape (an int or a tuple; None: the parameters' broadcast
            shape), a key to draw from instead of the stream (which then does not advance), and a float
            dtype (default `brainstate.environ.dftype()`).

        Returns:
          An array of angles of shape `size`, in [-pi, pi).

        Example:
          >>> import brainstate, math
          >>> x = brainstate.random.vonmises(0.0, 4.0, size=5)
          >>> bool((abs(x) <= math.pi).all())
          True
        """
        mu, kappa = as_arrays(*plain_values("vonmises", mu=mu, kappa=kappa))
        nonnegative("vonmises", "kappa", kappa)
        dtype = float_dtype(dtype, "vonmises")
        shape = result_shape("vonmises", size, mu, kappa)
        kappa = jnp.broadcast_to(jnp.asarray(kappa, dtype), shape)
        angle = _vonmises_centered(self._next_key(key), kappa)
        return (jnp.mod(angle + mu + jnp.pi, 2 * jnp.pi) - jnp.pi).astype(dtype)


@jax.jit  # compiled once per shape: called eagerly, the loop would recompile on every draw
def _vonmises_centered(key: jax.Array, kappa: jax.Array) -> jax.Array:
    """Von Mises angles around 0 by Best and Fisher's rejection method (1979).

    `jax.random` has no von Mises sampler. Every element retries with fresh uniforms until it
    is accepted; the loop stops when all are. Tiny `kappa` falls back to a uniform angle.
    """
    dtype = kappa.dtype
    tiny = kappa < 1e-8
    k = jnp.where(tiny, 1.0, kappa)
    tau = 1 + jnp.sqrt(1 + 4 * k * k)
    rho = (tau - jnp.sqrt(2 * tau)) / (2 * k)
    # For small kappa the closed form for s loses precision; use its expansion there.
    s = jnp.where(k < 1e-5, 1 / k + k, (1 + rho * rho) / (2 * rho))

    def body(carry):
        key, done, w = carry
        key, k1, k2 = jax.random.split(key, 3)
        u1 = jax.random.uniform(k1, kappa.shape, dtype)
        u2 = jax.random.uniform(k2, kappa.shape, dtype, minval=jnp.finfo(dtype).tiny)
        z = jnp.cos(jnp.pi * u1)
        cand = (1 + s * z) / (s + z)
        c = k * (s - cand)
        accept = (c * (2 - c) - u2 > 0) | (jnp.log(c / u2) + 1 - c >= 0)
        take = accept & ~done
        return key, done | accept, jnp.where(take, cand, w)

    key, k_sign, k_loop = jax.random.split(key, 3)
    init = (k_loop, tiny, jnp.zeros_like(kappa))
    _, _, w = jax.lax.while_loop(lambda c: ~jnp.all(c[1]), body, init)
    sign = jnp.where(jax.random.bernoulli(k_sign, 0.5, kappa.shape), 1.0, -1.0).astype(dtype)
    uniform = jax.random.uniform(key, kappa.shape, dtype, -jnp.pi, jnp.pi)
    return jnp.where(tiny, uniform, sign * jnp.arccos(jnp.clip(w, -1, 1)))
