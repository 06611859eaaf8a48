"""Continuous draws defined by shape parameters: the gamma family, t, F, Pareto, Weibull, Wald.

`ShapeDraws` is a mixin of `RandomState` with NumPy's conventions for `size`, `key` and
`dtype` (see `_continuous`). Where `jax.random` has the distribution it does the sampling; the
few it lacks are exact transformations of ones it has:

- NumPy's `pareto` is the Lomax distribution, a classical Pareto shifted by -1;
- `power(a)` is `Beta(a, 1)`;
- a noncentral chi-square is a chi-square whose degrees of freedom are raised by twice a
  Poisson variate (the Poisson mixture representation);
- `wald(mean, scale)` is Michael, Schucany and Haas's transformation of a chi-square(1) variate,
  written without the cancellation that ruins the textbook root in float32 when `mean / scale`
  is large (see `_wald`).
"""

import functools
from typing import Callable, Optional

import jax
import jax.numpy as jnp
from jax.typing import ArrayLike, DTypeLike

from ._checks import (SeedOrKey, Size, as_arrays, float_dtype, nonnegative, positive,
                      result_shape)
from ._units import attach_unit, plain_values, split_unit

__all__ = ["ShapeDraws"]


class ShapeDraws:
    """Gamma-family and other shape-parameter draws (mixin of `RandomState`)."""

    _next_key: Callable[[Optional[SeedOrKey]], jax.Array]

    def gamma(self, shape: ArrayLike, scale: Optional[ArrayLike] = None, size: Optional[Size] = None,
              key: Optional[SeedOrKey] = None, dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Gamma samples with shape `shape` and scale `scale` (default 1): mean `shape * scale`.

        Args:
          shape: the shape parameter (> 0).
          scale: the scale (>= 0); None for 1.
          size, key, dtype: the output shape (an int or a tuple; None: the parameters' broadcast
            shape), a key to draw from instead of the stream (which then does not advance), and a float
            dtype (default `brainstate.environ.dftype()`).

        Returns:
          An array of positive samples of shape `size`.
          Samples carry units: given a brainunit Quantity, `scale` sets the unit and the result is a
          Quantity in it (see `brainstate.random`).

        Example:
          >>> import brainstate
          >>> x = brainstate.random.gamma(2.0, 0.5, size=4)
          >>> x.shape, bool((x > 0).all())
          ((4,), True)
        """
        scale, unit = split_unit("gamma", scale=scale)
        shape, scale = as_arrays(*plain_values("gamma", shape=shape), scale)
        positive("gamma", "shape", shape)
        nonnegative("gamma", "scale", scale)
        dtype = float_dtype(dtype, "gamma")
        out = result_shape("gamma", size, shape, scale)
        x = jax.random.gamma(self._next_key(key), shape, out, dtype)
        return attach_unit((x if scale is None else x * scale).astype(dtype), unit)

    def standard_gamma(self, shape: ArrayLike, size: Optional[Size] = None,
                       key: Optional[SeedOrKey] = None, dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Gamma samples with shape `shape` and scale 1.

        Args:
          shape: the shape parameter (> 0).
          size, key, dtype: the output shape (an int or a tuple; None: the parameters' broadcast
            shape), a key to draw from instead of the stream (which then does not advance), and a float
            dtype (default `brainstate.environ.dftype()`).

        Returns:
          An array of positive samples of shape `size`.

        Example:
          >>> import brainstate
          >>> brainstate.random.standard_gamma(3.0, size=(2, 2)).shape
          (2, 2)
        """
        (shape,) = as_arrays(*plain_values("standard_gamma", shape=shape))
        positive("standard_gamma", "shape", shape)
        dtype = float_dtype(dtype, "standard_gamma")
        out = result_shape("standard_gamma", size, shape)
        return jax.random.gamma(self._next_key(key), shape, out, dtype)

    def beta(self, a: ArrayLike, b: ArrayLike, size: Optional[Size] = None,
             key: Optional[SeedOrKey] = None, dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Beta samples on [0, 1] with shapes `a` and `b`: mean `a / (a + b)`.

        Args:
          a: the first shape parameter (> 0).
          b: the second shape parameter (> 0).
          size, key, dtype: the output shape (an int or a tuple; None: the parameters' broadcast
            shape), a key to draw from instead of the stream (which then does not advance), and a float
            dtype (default `brainstate.environ.dftype()`).

        Returns:
          An array of samples of shape `size`, within [0, 1].

        Example:
          >>> import brainstate
          >>> x = brainstate.random.beta(2.0, 5.0, size=6)
          >>> bool(((0 <= x) & (x <= 1)).all())
          True
        """
        a, b = as_arrays(*plain_values("beta", a=a, b=b))
        positive("beta", "a", a)
        positive("beta", "b", b)
        dtype = float_dtype(dtype, "beta")
        out = result_shape("beta", size, a, b)
        return jax.random.beta(self._next_key(key), a, b, out, dtype)

    def chisquare(self, df: ArrayLike, size: Optional[Size] = None, key: Optional[SeedOrKey] = None,
                  dtype: Optional[DTypeLike] = None, check_valid: bool = True) -> jax.Array:
        """Chi-square samples with `df` degrees of freedom: mean `df`, variance `2 df`.

        Args:
          df: the degrees of freedom (> 0).
          size, key, dtype: the output shape (an int or a tuple; None: the parameters' broadcast
            shape), a key to draw from instead of the stream (which then does not advance), and a float
            dtype (default `brainstate.environ.dftype()`).
          check_valid: check the parameters (when they are concrete) before drawing.

        Returns:
          An array of non-negative samples of shape `size`.

        Example:
          >>> import brainstate
          >>> bool((brainstate.random.chisquare(3.0, size=5) >= 0).all())
          True
        """
        (df,) = as_arrays(*plain_values("chisquare", df=df))
        if check_valid:
            positive("chisquare", "df", df)
        dtype = float_dtype(dtype, "chisquare")
        out = result_shape("chisquare", size, df)
        return jax.random.chisquare(self._next_key(key), df, out, dtype)

    def noncentral_chisquare(self, df: ArrayLike, nonc: ArrayLike, size: Optional[Size] = None,
                             key: Optional[SeedOrKey] = None,
                             dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Noncentral chi-square samples: mean `df + nonc`, variance `2 (df + 2 nonc)`.

        Args:
          df: the degrees of freedom (> 0).
          nonc: the noncentrality (>= 0).
          size, key, dtype: the output shape (an int or a tuple; None: the parameters' broadcast
            shape), a key to draw from instead of the stream (which then does not advance), and a float
            dtype (default `brainstate.environ.dftype()`).

        Returns:
          An array of non-negative samples of shape `size`.

        Example:
          >>> import brainstate
          >>> brainstate.random.noncentral_chisquare(2.0, 1.5, size=3).shape
          (3,)
        """
        df, nonc = as_arrays(*plain_values("noncentral_chisquare", df=df, nonc=nonc))
        positive("noncentral_chisquare", "df", df)
        nonnegative("noncentral_chisquare", "nonc", nonc)
        dtype = float_dtype(dtype, "noncentral_chisquare")
        out = result_shape("noncentral_chisquare", size, df, nonc)
        return _noncentral_chisquare(self._next_key(key), df, nonc, out, dtype)

    def f(self, dfnum: ArrayLike, dfden: ArrayLike, size: Optional[Size] = None,
          key: Optional[SeedOrKey] = None, dtype: Optional[DTypeLike] = None) -> jax.Array:
        """F (Fisher–Snedecor) samples with `dfnum` and `dfden` degrees of freedom.

        Args:
          dfnum: the numerator's degrees of freedom (> 0).
          dfden: the denominator's degrees of freedom (> 0).
          size, key, dtype: the output shape (an int or a tuple; None: the parameters' broadcast
            shape), a key to draw from instead of the stream (which then does not advance), and a float
            dtype (default `brainstate.environ.dftype()`).

        Returns:
          An array of non-negative samples of shape `size`.

        Example:
          >>> import brainstate
          >>> bool((brainstate.random.f(5.0, 10.0, size=4) >= 0).all())
          True
        """
        dfnum, dfden = as_arrays(*plain_values("f", dfnum=dfnum, dfden=dfden))
        positive("f", "dfnum", dfnum)
        positive("f", "dfden", dfden)
        dtype = float_dtype(dtype, "f")
        out = result_shape("f", size, dfnum, dfden)
        return jax.random.f(self._next_key(key), dfnum, dfden, out, dtype)

    def noncentral_f(self, dfnum: ArrayLike, dfden: ArrayLike, nonc: ArrayLike, size: Optional[Size] = None,
                     key: Optional[SeedOrKey] = None, dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Noncentral F samples: a noncentral chi-square over `dfnum`, divided by a chi-square over `dfden`.

        Args:
          dfnum: the numerator's degrees of freedom (> 0).
          dfden: the denominator's degrees of freedom (> 0).
          nonc: the noncentrality (>= 0).
          size, key, dtype: the output shape (an int or a tuple; None: the parameters' broadcast
            shape), a key to draw from instead of the stream (which then does not advance), and a float
            dtype (default `brainstate.environ.dftype()`).

        Returns:
          An array of non-negative samples of shape `size`.

        Example:
          >>> import brainstate
          >>> brainstate.random.noncentral_f(3.0, 20.0, 3.0, size=2).shape
          (2,)
        """
        dfnum, dfden, nonc = as_arrays(*plain_values("noncentral_f", dfnum=dfnum, dfden=dfden,
                                                     nonc=nonc))
        positive("noncentral_f", "dfnum", dfnum)
        positive("noncentral_f", "dfden", dfden)
        nonnegative("noncentral_f", "nonc", nonc)
        dtype = float_dtype(dtype, "noncentral_f")
        out = result_shape("noncentral_f", size, dfnum, dfden, nonc)
        k_num, k_den = jax.random.split(self._next_key(key))
        num = _noncentral_chisquare(k_num, dfnum, nonc, out, dtype) / dfnum
        den = jax.random.chisquare(k_den, dfden, out, dtype) / dfden
        return (num / den).astype(dtype)

    def standard_t(self, df: ArrayLike, size: Optional[Size] = None, key: Optional[SeedOrKey] = None,
                   dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Student's t samples with `df` degrees of freedom.

        Args:
          df: the degrees of freedom (> 0).
          size, key, dtype: the output shape (an int or a tuple; None: the parameters' broadcast
            shape), a key to draw from instead of the stream (which then does not advance), and a float
            dtype (default `brainstate.environ.dftype()`).

        Returns:
          An array of samples of shape `size`.

        Example:
          >>> import brainstate
          >>> brainstate.random.standard_t(4.0, size=(2, 3)).shape
          (2, 3)
        """
        (df,) = as_arrays(*plain_values("standard_t", df=df))
        return self._t("standard_t", df, size, key, dtype)

    def t(self, df: ArrayLike, size: Optional[Size] = None, key: Optional[SeedOrKey] = None,
          dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Student's t samples with `df` degrees of freedom (the same as `standard_t`).

        Args:
          df: the degrees of freedom (> 0).
          size, key, dtype: the output shape (an int or a tuple; None: the parameters' broadcast
            shape), a key to draw from instead of the stream (which then does not advance), and a float
            dtype (default `brainstate.environ.dftype()`).

        Returns:
          An array of samples of shape `size`.

        Example:
          >>> import brainstate
          >>> brainstate.random.t(4.0, size=(2, 3)).shape
          (2, 3)
        """
        (df,) = as_arrays(*plain_values("t", df=df))
        return self._t("t", df, size, key, dtype)

    def _t(self, fn, df, size, key, dtype) -> jax.Array:
        positive(fn, "df", df)
        dtype = float_dtype(dtype, fn)
        out = result_shape(fn, size, df)
        return jax.random.t(self._next_key(key), df, out, dtype)

    def loggamma(self, a: ArrayLike, size: Optional[Size] = None, key: Optional[SeedOrKey] = None,
                 dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Samples `log(G)` for `G` gamma with shape `a`, accurate also for very small `a`.

        Args:
          a: the gamma shape parameter (> 0).
          size, key, dtype: the output shape (an int or a tuple; None: the parameters' broadcast
            shape), a key to draw from instead of the stream (which then does not advance), and a float
            dtype (default `brainstate.environ.dftype()`).

        Returns:
          An array of samples of shape `size`.

        Example:
          >>> import brainstate
          >>> brainstate.random.loggamma(0.01, size=3).shape
          (3,)
        """
        (a,) = as_arrays(*plain_values("loggamma", a=a))
        positive("loggamma", "a", a)
        dtype = float_dtype(dtype, "loggamma")
        out = result_shape("loggamma", size, a)
        return jax.random.loggamma(self._next_key(key), a, out, dtype)

    def pareto(self, a: ArrayLike, size: Optional[Size] = None, key: Optional[SeedOrKey] = None,
               dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Pareto II (Lomax) samples on [0, inf) with shape `a`, as NumPy's `pareto`.

        Args:
          a: the shape parameter (> 0).
          size, key, dtype: the output shape (an int or a tuple; None: the parameters' broadcast
            shape), a key to draw from instead of the stream (which then does not advance), and a float
            dtype (default `brainstate.environ.dftype()`).

        Returns:
          An array of non-negative samples of shape `size`; add 1 and multiply by `m` for a classical
          Pareto with minimum `m`.

        Example:
          >>> import brainstate
          >>> bool((brainstate.random.pareto(3.0, size=5) >= 0).all())
          True
        """
        (a,) = as_arrays(*plain_values("pareto", a=a))
        positive("pareto", "a", a)
        dtype = float_dtype(dtype, "pareto")
        out = result_shape("pareto", size, a)
        return (jax.random.pareto(self._next_key(key), a, out, dtype) - 1).astype(dtype)

    def power(self, a: ArrayLike, size: Optional[Size] = None, key: Optional[SeedOrKey] = None,
              dtype: Optional[DTypeLike] = None, check_valid: bool = True) -> jax.Array:
        """Power-function samples on [0, 1] with density `a x**(a - 1)` (a `Beta(a, 1)`).

        Args:
          a: the exponent parameter (> 0).
          size, key, dtype: the output shape (an int or a tuple; None: the parameters' broadcast
            shape), a key to draw from instead of the stream (which then does not advance), and a float
            dtype (default `brainstate.environ.dftype()`).
          check_valid: check the parameters (when they are concrete) before drawing.

        Returns:
          An array of samples of shape `size`, within [0, 1].

        Example:
          >>> import brainstate
          >>> x = brainstate.random.power(2.0, size=4)
          >>> bool(((0 <= x) & (x <= 1)).all())
          True
        """
        (a,) = as_arrays(*plain_values("power", a=a))
        if check_valid:
            positive("power", "a", a)
        dtype = float_dtype(dtype, "power")
        out = result_shape("power", size, a)
        return jax.random.beta(self._next_key(key), a, 1.0, out, dtype)

    def wald(self, mean: ArrayLike, scale: ArrayLike, size: Optional[Size] = None,
             key: Optional[SeedOrKey] = None, dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Wald (inverse Gaussian) samples with mean `mean` and shape `scale`: variance `mean**3 / scale`.

        Args:
          mean: the mean (> 0).
          scale: the shape parameter (> 0).
          size, key, dtype: the output shape (an int or a tuple; None: the parameters' broadcast
            shape), a key to draw from instead of the stream (which then does not advance), and a float
            dtype (default `brainstate.environ.dftype()`).

        Returns:
          An array of positive samples of shape `size`.
          Samples carry units: given a brainunit Quantity, `mean` and `scale` share one unit and the
          result is a Quantity in it (see `brainstate.random`).

        Example:
          >>> import brainstate
          >>> bool((brainstate.random.wald(1.0, 2.0, size=4) > 0).all())
          True
        """
        mean, scale, unit = split_unit("wald", mean=mean, scale=scale)
        mean, scale = as_arrays(mean, scale)
        positive("wald", "mean", mean)
        positive("wald", "scale", scale)
        dtype = float_dtype(dtype, "wald")
        out = result_shape("wald", size, mean, scale)
        return attach_unit(_wald(self._next_key(key), mean, scale, out, dtype), unit)

    def weibull(self, a: ArrayLike, size: Optional[Size] = None, key: Optional[SeedOrKey] = None,
                dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Weibull samples with shape `a` and scale 1.

        Args:
          a: the shape parameter (> 0).
          size, key, dtype: the output shape (an int or a tuple; None: the parameters' broadcast
            shape), a key to draw from instead of the stream (which then does not advance), and a float
            dtype (default `brainstate.environ.dftype()`).

        Returns:
          An array of non-negative samples of shape `size`.

        Example:
          >>> import brainstate
          >>> brainstate.random.weibull(1.5, size=3).shape
          (3,)
        """
        (a,) = as_arrays(*plain_values("weibull", a=a))
        return self._weibull("weibull", a, None, size, key, dtype)

    def weibull_min(self, a: ArrayLike, scale: Optional[ArrayLike] = None, size: Optional[Size] = None,
                    key: Optional[SeedOrKey] = None, dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Weibull samples with shape (concentration) `a` and scale `scale` (default 1).

        Args:
          a: the shape parameter (> 0).
          scale: the scale (> 0); None for 1.
          size, key, dtype: the output shape (an int or a tuple; None: the parameters' broadcast
            shape), a key to draw from instead of the stream (which then does not advance), and a float
            dtype (default `brainstate.environ.dftype()`).

        Returns:
          An array of non-negative samples of shape `size`.
          Samples carry units: given a brainunit Quantity, `scale` sets the unit and the result is a
          Quantity in it (see `brainstate.random`).

        Example:
          >>> import brainstate
          >>> bool((brainstate.random.weibull_min(2.0, 3.0, size=4) >= 0).all())
          True
        """
        scale, unit = split_unit("weibull_min", scale=scale)
        a, scale = as_arrays(*plain_values("weibull_min", a=a), scale)
        return attach_unit(self._weibull("weibull_min", a, scale, size, key, dtype), unit)

    def _weibull(self, fn, a, scale, size, key, dtype) -> jax.Array:
        positive(fn, "a", a)
        positive(fn, "scale", scale)
        dtype = float_dtype(dtype, fn)
        out = result_shape(fn, size, a, scale)
        scale = 1.0 if scale is None else scale
        return jax.random.weibull_min(self._next_key(key), scale, a, out, dtype).astype(dtype)


@functools.partial(jax.jit, static_argnames=("shape", "dtype"))  # one compile per shape
def _wald(key: jax.Array, mean, scale, shape, dtype) -> jax.Array:
    """Inverse Gaussian samples with mean `mean` and shape `scale` (Michael, Schucany, Haas 1976).

    With `t = mean * y / scale`, `y` chi-square(1), the method's two roots are `mean * w` and
    `mean / w`, where `w = 1 + t/2 - sqrt(t + t**2/4)`; the first is taken with probability
    `1 / (1 + w)`. That difference cancels for large `t` (every sample near 0 rounds to the same
    few values), so `w` is computed as `1 / w'` with `w' = 1 + t/2 + sqrt(t) * sqrt(1 + t/4)`, the
    conjugate (`w * w' = 1`): a sum of positive terms, accurate to a few ulp for every `t`, and
    free of overflow in `t**2`.
    """
    k_chi, k_u = jax.random.split(key)
    mean = jnp.asarray(mean, dtype)
    t = mean / jnp.asarray(scale, dtype) * jnp.square(jax.random.normal(k_chi, shape, dtype))
    big = 1 + t / 2 + jnp.sqrt(t) * jnp.sqrt(1 + t / 4)  # w' >= 1
    small = 1 / big
    u = jax.random.uniform(k_u, shape, dtype)
    return mean * jnp.where(u * (1 + small) <= 1, small, big)


@functools.partial(jax.jit, static_argnames=("shape", "dtype"))  # one compile per shape
def _noncentral_chisquare(key: jax.Array, df, nonc, shape, dtype) -> jax.Array:
    """A chi-square with `df + 2 N` degrees of freedom, `N` Poisson with mean `nonc / 2`."""
    k_pois, k_chi = jax.random.split(key)
    n = jax.random.poisson(k_pois, jnp.asarray(nonc, dtype) / 2, shape)
    return jax.random.chisquare(k_chi, df + 2 * n.astype(dtype), shape, dtype)
