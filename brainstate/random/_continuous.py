"""Continuous draws built on uniform and normal variates: the location–scale families.

`ContinuousDraws` is a mixin of `RandomState`; every method follows NumPy's conventions:

- `size`: None (the broadcast shape of the parameters), an int, or a tuple of ints;
- `key`: an explicit key to sample from instead of the stream (the stream does not advance);
- `dtype`: a float dtype, `brainstate.environ.dftype()` when None.

Arguments are checked (while concrete) before the stream advances; the sampling itself is
`jax.random`'s.
"""

from typing import Callable, Optional

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike, DTypeLike

from ._checks import (SeedOrKey, Size, as_arrays, as_size, float_dtype, nonnegative, ordered,
                      positive, result_shape)

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
        """Uniform samples on [0, 1) of shape `dn` (`rand(2, 3)` has shape `(2, 3)`)."""
        shape = as_size(dn, "rand")
        dtype = float_dtype(dtype, "rand")
        return jax.random.uniform(self._next_key(key), shape, dtype)

    def random(self, size: Optional[Size] = None, key: Optional[SeedOrKey] = None,
               dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Uniform samples on [0, 1) of shape `size`."""
        shape = as_size(size, "random") or ()
        dtype = float_dtype(dtype, "random")
        return jax.random.uniform(self._next_key(key), shape, dtype)

    def random_sample(self, size: Optional[Size] = None, key: Optional[SeedOrKey] = None,
                      dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Uniform samples on [0, 1) (NumPy's alias of `random`)."""
        return self.random(size, key=key, dtype=dtype)

    def ranf(self, size: Optional[Size] = None, key: Optional[SeedOrKey] = None,
             dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Uniform samples on [0, 1) (NumPy's alias of `random`)."""
        return self.random(size, key=key, dtype=dtype)

    def sample(self, size: Optional[Size] = None, key: Optional[SeedOrKey] = None,
               dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Uniform samples on [0, 1) (NumPy's alias of `random`)."""
        return self.random(size, key=key, dtype=dtype)

    def uniform(self, low: ArrayLike = 0.0, high: ArrayLike = 1.0, size: Optional[Size] = None,
                key: Optional[SeedOrKey] = None, dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Uniform samples on [low, high)."""
        low, high = as_arrays(low, high)
        dtype = float_dtype(dtype, "uniform")
        shape = result_shape("uniform", size, low, high)
        return jax.random.uniform(self._next_key(key), shape, dtype, minval=low, maxval=high)

    def rand_like(self, input: ArrayLike, *, dtype: Optional[DTypeLike] = None,
                  key: Optional[SeedOrKey] = None) -> jax.Array:
        """Uniform samples on [0, 1) with the shape of `input` (and its dtype if floating)."""
        dtype = _like_dtype(input, dtype, "rand_like")
        return jax.random.uniform(self._next_key(key), np.shape(input), dtype)

    # -- normal --------------------------------------------------------------------------------
    def randn(self, *dn: int, key: Optional[SeedOrKey] = None,
              dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Standard normal samples of shape `dn` (`randn(2, 3)` has shape `(2, 3)`)."""
        shape = as_size(dn, "randn")
        dtype = float_dtype(dtype, "randn")
        return jax.random.normal(self._next_key(key), shape, dtype)

    def randn_like(self, input: ArrayLike, *, dtype: Optional[DTypeLike] = None,
                   key: Optional[SeedOrKey] = None) -> jax.Array:
        """Standard normal samples with the shape of `input` (and its dtype if floating)."""
        dtype = _like_dtype(input, dtype, "randn_like")
        return jax.random.normal(self._next_key(key), np.shape(input), dtype)

    def standard_normal(self, size: Optional[Size] = None, key: Optional[SeedOrKey] = None,
                        dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Standard normal samples (mean 0, variance 1)."""
        shape = as_size(size, "standard_normal") or ()
        dtype = float_dtype(dtype, "standard_normal")
        return jax.random.normal(self._next_key(key), shape, dtype)

    def normal(self, loc: Optional[ArrayLike] = None, scale: Optional[ArrayLike] = None,
               size: Optional[Size] = None, key: Optional[SeedOrKey] = None,
               dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Normal samples with mean `loc` (default 0) and standard deviation `scale` (default 1).

        Example:
          >>> import brainstate
          >>> brainstate.random.normal(1.0, 2.0, size=(2, 3)).shape
          (2, 3)
        """
        loc, scale = as_arrays(loc, scale)
        nonnegative("normal", "scale", scale)
        dtype = float_dtype(dtype, "normal")
        shape = result_shape("normal", size, loc, scale)
        return _affine(jax.random.normal(self._next_key(key), shape, dtype), loc, scale, dtype)

    def truncated_normal(self, lower: ArrayLike, upper: ArrayLike, size: Optional[Size] = None,
                         loc: ArrayLike = 0.0, scale: ArrayLike = 1.0, key: Optional[SeedOrKey] = None,
                         dtype: Optional[DTypeLike] = None, check_valid: bool = True) -> jax.Array:
        """Normal samples with mean `loc` and standard deviation `scale`, restricted to
        [lower, upper] (bounds in the same units as the samples, not standardised)."""
        lower, upper, loc, scale = as_arrays(lower, upper, loc, scale)
        if check_valid:
            positive("truncated_normal", "scale", scale)
            ordered("truncated_normal", True, lower=lower, upper=upper)
        dtype = float_dtype(dtype, "truncated_normal")
        shape = result_shape("truncated_normal", size, lower, upper, loc, scale)
        a = (jnp.asarray(lower, dtype) - loc) / scale
        b = (jnp.asarray(upper, dtype) - loc) / scale
        z = jax.random.truncated_normal(self._next_key(key), a, b, shape, dtype)
        return _affine(z, loc, scale, dtype)

    def lognormal(self, mean: Optional[ArrayLike] = None, sigma: Optional[ArrayLike] = None,
                  size: Optional[Size] = None, key: Optional[SeedOrKey] = None,
                  dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Samples `exp(N)` where `N` is normal with mean `mean` (default 0) and standard
        deviation `sigma` (default 1)."""
        mean, sigma = as_arrays(mean, sigma)
        nonnegative("lognormal", "sigma", sigma)
        dtype = float_dtype(dtype, "lognormal")
        shape = result_shape("lognormal", size, mean, sigma)
        x = jax.random.lognormal(self._next_key(key), 1.0 if sigma is None else sigma, shape, dtype)
        return x.astype(dtype) if mean is None else (x * jnp.exp(mean)).astype(dtype)

    # -- other location–scale families ---------------------------------------------------------
    def exponential(self, scale: Optional[ArrayLike] = None, size: Optional[Size] = None,
                    key: Optional[SeedOrKey] = None, dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Exponential samples with mean `scale` (default 1; the rate is `1 / scale`)."""
        (scale,) = as_arrays(scale)
        nonnegative("exponential", "scale", scale)
        dtype = float_dtype(dtype, "exponential")
        shape = result_shape("exponential", size, scale)
        return _affine(jax.random.exponential(self._next_key(key), shape, dtype), None, scale, dtype)

    def standard_exponential(self, size: Optional[Size] = None, key: Optional[SeedOrKey] = None,
                             dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Exponential samples with mean 1."""
        shape = as_size(size, "standard_exponential") or ()
        dtype = float_dtype(dtype, "standard_exponential")
        return jax.random.exponential(self._next_key(key), shape, dtype)

    def standard_cauchy(self, size: Optional[Size] = None, key: Optional[SeedOrKey] = None,
                        dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Standard Cauchy samples (a Student t with one degree of freedom)."""
        shape = as_size(size, "standard_cauchy") or ()
        dtype = float_dtype(dtype, "standard_cauchy")
        return jax.random.cauchy(self._next_key(key), shape, dtype)

    def gumbel(self, loc: Optional[ArrayLike] = None, scale: Optional[ArrayLike] = None,
               size: Optional[Size] = None, key: Optional[SeedOrKey] = None,
               dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Gumbel (extreme value type I) samples with location `loc` and scale `scale`."""
        loc, scale = as_arrays(loc, scale)
        return self._loc_scale("gumbel", jax.random.gumbel, loc, scale, size, key, dtype)

    def laplace(self, loc: Optional[ArrayLike] = None, scale: Optional[ArrayLike] = None,
                size: Optional[Size] = None, key: Optional[SeedOrKey] = None,
                dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Laplace (double exponential) samples with location `loc` and scale `scale`."""
        loc, scale = as_arrays(loc, scale)
        return self._loc_scale("laplace", jax.random.laplace, loc, scale, size, key, dtype)

    def logistic(self, loc: Optional[ArrayLike] = None, scale: Optional[ArrayLike] = None,
                 size: Optional[Size] = None, key: Optional[SeedOrKey] = None,
                 dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Logistic samples with location `loc` and scale `scale`."""
        loc, scale = as_arrays(loc, scale)
        return self._loc_scale("logistic", jax.random.logistic, loc, scale, size, key, dtype)

    def _loc_scale(self, fn, sampler, loc, scale, size, key, dtype) -> jax.Array:
        nonnegative(fn, "scale", scale)
        dtype = float_dtype(dtype, fn)
        shape = result_shape(fn, size, loc, scale)
        return _affine(sampler(self._next_key(key), shape, dtype), loc, scale, dtype)

    def rayleigh(self, scale: ArrayLike = 1.0, size: Optional[Size] = None,
                 key: Optional[SeedOrKey] = None, dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Rayleigh samples with scale (mode) `scale`."""
        (scale,) = as_arrays(scale)
        nonnegative("rayleigh", "scale", scale)
        dtype = float_dtype(dtype, "rayleigh")
        shape = result_shape("rayleigh", size, scale)
        return jax.random.rayleigh(self._next_key(key), scale, shape, dtype).astype(dtype)

    def maxwell(self, size: Optional[Size] = None, key: Optional[SeedOrKey] = None,
                dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Maxwell–Boltzmann samples with unit scale (the norm of a 3-d standard normal)."""
        shape = as_size(size, "maxwell") or ()
        dtype = float_dtype(dtype, "maxwell")
        return jax.random.maxwell(self._next_key(key), shape, dtype)

    def triangular(self, left: ArrayLike = 0.0, mode: ArrayLike = 0.5, right: ArrayLike = 1.0,
                   size: Optional[Size] = None, key: Optional[SeedOrKey] = None,
                   dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Triangular samples on [left, right] with peak at `mode`."""
        left, mode, right = as_arrays(left, mode, right)
        ordered("triangular", False, left=left, mode=mode, right=right)
        ordered("triangular", True, left=left, right=right)
        dtype = float_dtype(dtype, "triangular")
        shape = result_shape("triangular", size, left, mode, right)
        return jax.random.triangular(self._next_key(key), left, mode, right, shape, dtype).astype(dtype)

    def vonmises(self, mu: ArrayLike, kappa: ArrayLike, size: Optional[Size] = None,
                 key: Optional[SeedOrKey] = None, dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Von Mises (circular normal) samples on [-pi, pi) with mode `mu` and concentration
        `kappa` (`kappa = 0` is uniform on the circle)."""
        mu, kappa = as_arrays(mu, kappa)
        nonnegative("vonmises", "kappa", kappa)
        dtype = float_dtype(dtype, "vonmises")
        shape = result_shape("vonmises", size, mu, kappa)
        kappa = jnp.broadcast_to(jnp.asarray(kappa, dtype), shape)
        angle = _vonmises_centered(self._next_key(key), kappa)
        return (jnp.mod(angle + mu + jnp.pi, 2 * jnp.pi) - jnp.pi).astype(dtype)


def _like_dtype(input: ArrayLike, dtype: Optional[DTypeLike], fn: str) -> np.dtype:
    """`dtype` if given, else the dtype of `input` when floating, else the default float."""
    if dtype is None and jnp.issubdtype(jnp.result_type(input), jnp.floating):
        return jnp.result_type(input)
    return float_dtype(dtype, fn)


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
