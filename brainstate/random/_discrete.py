"""Discrete draws: integers, Bernoulli trials and the counting distributions.

`DiscreteDraws` is a mixin of `RandomState` with NumPy's conventions for `size` and `key`
(see `_continuous`); `dtype` is an integer dtype, `brainstate.environ.ditype()` when None
(`bernoulli` returns booleans). `jax.random` samples whenever it has the distribution. It has no
hypergeometric, logarithmic-series or Zipf sampler; those are written here from uniforms:

- `hypergeometric` draws the sample from the urn one ball at a time (from the smaller of the
  sample and its complement), so its cost grows with `min(nsample, ngood + nbad - nsample)`;
- `logseries` uses Kemp's (1981) second accelerated generator, as NumPy does;
- `zipf` uses rejection from a continuous Pareto envelope (Devroye 1986), looping until every
  element is accepted.
"""

import functools
from typing import Callable, Optional

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike, DTypeLike

from ._checks import (SeedOrKey, Size, as_arrays, float_dtype, has_tracer, int_dtype, nonnegative,
                      ordered, positive, probability, require, result_shape)
from ._units import drop_unit, plain_values

__all__ = ["DiscreteDraws"]


class DiscreteDraws:
    """Integer and counting draws (mixin of `RandomState`)."""

    _next_key: Callable[[Optional[SeedOrKey]], jax.Array]

    # -- integers in a range -------------------------------------------------------------------
    def randint(self, low: ArrayLike, high: Optional[ArrayLike] = None, size: Optional[Size] = None,
                dtype: Optional[DTypeLike] = None, key: Optional[SeedOrKey] = None) -> jax.Array:
        """Uniform integers in [low, high), or in [0, low) when `high` is None.

        Args:
          low: the lowest value (included), or the upper bound when `high` is None.
          high: the upper bound (excluded), or None.
          size, dtype, key: the output shape (an int or a tuple; None: the parameters' broadcast
            shape), an integer dtype (default `brainstate.environ.ditype()`), and a key to draw
            from instead of the stream (which then does not advance). (This method takes `dtype`
            before `key`, as the reference's does; the module-level `randint` takes `key` first.)

        Returns:
          An integer array of shape `size`.

        Example:
          >>> import brainstate
          >>> x = brainstate.random.randint(0, 10, size=5)
          >>> bool(((0 <= x) & (x < 10)).all())
          True
        """
        low, high = as_arrays(*plain_values("randint", low=low, high=high))
        return self._integers("randint", low, high, size, key, dtype, inclusive=False)

    def random_integers(self, low: ArrayLike, high: Optional[ArrayLike] = None, size: Optional[Size] = None,
                        key: Optional[SeedOrKey] = None, dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Uniform integers in [low, high], or in [1, low] when `high` is None (both ends included).

        Args:
          low: the lowest value, or the highest when `high` is None.
          high: the highest value (included), or None.
          size, key, dtype: the output shape (an int or a tuple; None: the parameters' broadcast
            shape), a key to draw from instead of the stream (which then does not advance), and an
            integer dtype (default `brainstate.environ.ditype()`).

        Returns:
          An integer array of shape `size`.

        Example:
          >>> import brainstate
          >>> x = brainstate.random.random_integers(1, 6, size=10)
          >>> bool(((1 <= x) & (x <= 6)).all())
          True
        """
        low, high = as_arrays(*plain_values("random_integers", low=low, high=high))
        return self._integers("random_integers", low, high, size, key, dtype, inclusive=True)

    def randint_like(self, input: ArrayLike, low: ArrayLike = 0, high: Optional[ArrayLike] = None,
                     dtype: Optional[DTypeLike] = None, key: Optional[SeedOrKey] = None) -> jax.Array:
        """Uniform integers in [low, high) (or [0, low)) with the shape and dtype of `input`.

        Args:
          input: an array whose shape and dtype the result takes (as `torch.randint_like`: a
            float template gives whole numbers in its float dtype).
          low: the lowest value, or the upper bound when `high` is None.
          high: the upper bound (excluded), or None.
          dtype: the result's dtype, integer or floating; default the dtype of `input` (a bool
            template: `environ.ditype()`).
          key: a key to draw from instead of the stream (which then does not advance).

        Returns:
          An array shaped like `input`.

        Example:
          >>> import brainstate, jax.numpy as jnp
          >>> brainstate.random.randint_like(jnp.zeros((2, 3), jnp.int32), 5).shape
          (2, 3)
        """
        low, high = as_arrays(*plain_values("randint_like", low=low, high=high))
        input = drop_unit(input)
        target = jnp.dtype(dtype) if dtype is not None else jnp.result_type(input)
        if jnp.issubdtype(target, jnp.integer):
            return self._integers("randint_like", low, high, np.shape(input), key, target, inclusive=False)
        floating = jnp.issubdtype(target, jnp.floating)
        if not floating and dtype is not None:
            raise TypeError(f"randint_like: `dtype` must be an integer or floating-point dtype, got {target}.")
        # (a bool or complex template: integers of the default dtype)
        ints = self._integers("randint_like", low, high, np.shape(input), key, None, inclusive=False)
        return ints.astype(target) if floating else ints

    def _integers(self, fn, low, high, size, key, dtype, inclusive) -> jax.Array:
        if high is None:
            low, high = (1 if inclusive else 0), low
        ordered(fn, not inclusive, low=low, high=high)
        dtype = int_dtype(dtype, fn)
        shape = result_shape(fn, size, low, high)
        if inclusive:
            high = jnp.asarray(high, dtype) + 1
        return jax.random.randint(self._next_key(key), shape, low, high, dtype)

    # -- trials and counts ---------------------------------------------------------------------
    def bernoulli(self, p: ArrayLike = 0.5, size: Optional[Size] = None, key: Optional[SeedOrKey] = None,
                  check_valid: bool = True) -> jax.Array:
        """Booleans that are True with probability `p`.

        Args:
          p: the probability of True, in [0, 1].
          size, key: the output shape (None: the shape of `p`) and a key to draw from instead of the
            stream.
          check_valid: check the parameters (when they are concrete) before drawing.

        Returns:
          A boolean array of shape `size`.

        Example:
          >>> import brainstate
          >>> x = brainstate.random.bernoulli(0.3, size=4)
          >>> x.shape, str(x.dtype)
          ((4,), 'bool')
        """
        (p,) = as_arrays(*plain_values("bernoulli", p=p))
        if check_valid:
            probability("bernoulli", "p", p)
        shape = result_shape("bernoulli", size, p)
        return jax.random.bernoulli(self._next_key(key), p, shape)

    def binomial(self, n: ArrayLike, p: ArrayLike, size: Optional[Size] = None,
                 key: Optional[SeedOrKey] = None,
                 dtype: Optional[DTypeLike] = None, check_valid: bool = True) -> jax.Array:
        """Number of successes in `n` trials of probability `p`: mean `n p`.

        Args:
          n: the number of trials, a non-negative whole number.
          p: the success probability, in [0, 1].
          size, key: the output shape (None: the parameters' broadcast shape) and a key to draw from
            instead of the stream.
          dtype: an integer dtype (default `environ.ditype()`) or a float dtype, for counts held as
            floats (as the reference allows).
          check_valid: check the parameters (when they are concrete) before drawing.

        Returns:
          An array of counts of shape `size`.

        Example:
          >>> import brainstate, jax.numpy as jnp
          >>> counts = brainstate.random.binomial(10, 0.5, size=3, dtype=jnp.float32)
          >>> str(counts.dtype), bool((counts == jnp.round(counts)).all())
          ('float32', True)
        """
        n, p = as_arrays(*plain_values("binomial", n=n, p=p))
        if check_valid:
            _count("binomial", "n", n)
            probability("binomial", "p", p)
        dtype = _count_dtype(dtype, "binomial")
        shape = result_shape("binomial", size, n, p)
        ftype = float_dtype(None, "binomial")  # JAX draws binomial counts as floats
        return jax.random.binomial(self._next_key(key), n, p, shape, ftype).astype(dtype)

    def poisson(self, lam: ArrayLike = 1.0, size: Optional[Size] = None, key: Optional[SeedOrKey] = None,
                dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Poisson counts with mean (and variance) `lam`.

        Args:
          lam: the mean (>= 0).
          size, key, dtype: the output shape (an int or a tuple; None: the parameters' broadcast
            shape), a key to draw from instead of the stream (which then does not advance), and an
            integer dtype (default `brainstate.environ.ditype()`).

        Returns:
          An integer array of shape `size`.

        Example:
          >>> import brainstate
          >>> bool((brainstate.random.poisson(3.0, size=5) >= 0).all())
          True
        """
        (lam,) = as_arrays(*plain_values("poisson", lam=lam))
        nonnegative("poisson", "lam", lam)
        dtype = int_dtype(dtype, "poisson")
        shape = result_shape("poisson", size, lam)
        return jax.random.poisson(self._next_key(key), lam, shape, dtype)

    def geometric(self, p: ArrayLike, size: Optional[Size] = None, key: Optional[SeedOrKey] = None,
                  dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Number of trials up to and including the first success (1, 2, ...): mean `1 / p`.

        Args:
          p: the success probability, in (0, 1].
          size, key, dtype: the output shape (an int or a tuple; None: the parameters' broadcast
            shape), a key to draw from instead of the stream (which then does not advance), and an
            integer dtype (default `brainstate.environ.ditype()`).

        Returns:
          An integer array of shape `size`, all >= 1.

        Example:
          >>> import brainstate
          >>> bool((brainstate.random.geometric(0.5, size=5) >= 1).all())
          True
        """
        (p,) = as_arrays(*plain_values("geometric", p=p))
        probability("geometric", "p", p, low_open=True)
        dtype = int_dtype(dtype, "geometric")
        shape = result_shape("geometric", size, p)
        return jax.random.geometric(self._next_key(key), p, shape, dtype)

    def negative_binomial(self, n: ArrayLike, p: ArrayLike, size: Optional[Size] = None,
                          key: Optional[SeedOrKey] = None, dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Number of failures before the `n`-th success with success probability `p`: mean `n (1 - p) / p`.

        Args:
          n: the number of successes (> 0).
          p: the success probability, in (0, 1].
          size, key, dtype: the output shape (an int or a tuple; None: the parameters' broadcast
            shape), a key to draw from instead of the stream (which then does not advance), and an
            integer dtype (default `brainstate.environ.ditype()`).

        Returns:
          An integer array of shape `size` (drawn as a gamma-mixed Poisson).

        Example:
          >>> import brainstate
          >>> bool((brainstate.random.negative_binomial(3, 0.4, size=4) >= 0).all())
          True
        """
        n, p = as_arrays(*plain_values("negative_binomial", n=n, p=p))
        positive("negative_binomial", "n", n)
        probability("negative_binomial", "p", p, low_open=True)
        dtype = int_dtype(dtype, "negative_binomial")
        shape = result_shape("negative_binomial", size, n, p)
        ftype = float_dtype(None, "negative_binomial")
        return _negative_binomial(self._next_key(key), n, p, shape=shape, dtype=dtype, ftype=ftype)

    def hypergeometric(self, ngood: ArrayLike, nbad: ArrayLike, nsample: ArrayLike,
                       size: Optional[Size] = None, key: Optional[SeedOrKey] = None,
                       dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Good balls among `nsample` drawn without replacement from `ngood` good and `nbad` bad ones.

        Args:
          ngood: the number of good balls (a non-negative whole number).
          nbad: the number of bad balls.
          nsample: the number drawn (at most `ngood + nbad`).
          size, key, dtype: the output shape (an int or a tuple; None: the parameters' broadcast
            shape), a key to draw from instead of the stream (which then does not advance), and an
            integer dtype (default `brainstate.environ.ditype()`).

        Returns:
          An integer array of shape `size`: mean `nsample * ngood / (ngood + nbad)`.

        Example:
          >>> import brainstate
          >>> x = brainstate.random.hypergeometric(5, 10, 4, size=6)
          >>> bool(((0 <= x) & (x <= 4)).all())
          True
        """
        ngood, nbad, nsample = as_arrays(*plain_values("hypergeometric", ngood=ngood, nbad=nbad,
                                                       nsample=nsample))
        _count("hypergeometric", "ngood", ngood)
        _count("hypergeometric", "nbad", nbad)
        _count("hypergeometric", "nsample", nsample)
        if not has_tracer((ngood, nbad)):
            ordered("hypergeometric", False, nsample=nsample, **{"ngood + nbad": np.add(ngood, nbad)})
        dtype = int_dtype(dtype, "hypergeometric")
        shape = result_shape("hypergeometric", size, ngood, nbad, nsample)
        ftype = float_dtype(None, "hypergeometric")
        return _hypergeometric(self._next_key(key), ngood, nbad, nsample, shape=shape, dtype=dtype,
                               ftype=ftype)

    def logseries(self, p: ArrayLike, size: Optional[Size] = None, key: Optional[SeedOrKey] = None,
                  dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Logarithmic-series samples (1, 2, ...) with `P(k) = -p**k / (k log(1 - p))`.

        Args:
          p: the shape parameter, in [0, 1).
          size, key, dtype: the output shape (an int or a tuple; None: the parameters' broadcast
            shape), a key to draw from instead of the stream (which then does not advance), and an
            integer dtype (default `brainstate.environ.ditype()`).

        Returns:
          An integer array of shape `size`, all >= 1.

        Example:
          >>> import brainstate
          >>> bool((brainstate.random.logseries(0.6, size=5) >= 1).all())
          True
        """
        (p,) = as_arrays(*plain_values("logseries", p=p))
        probability("logseries", "p", p, high_open=True)
        dtype = int_dtype(dtype, "logseries")
        shape = result_shape("logseries", size, p)
        ftype = float_dtype(None, "logseries")
        return _logseries(self._next_key(key), p, shape=shape, dtype=dtype, ftype=ftype)

    def zipf(self, a: ArrayLike, size: Optional[Size] = None, key: Optional[SeedOrKey] = None,
             dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Zipf samples (1, 2, ...) with `P(k)` proportional to `k**-a`, for `a > 1`.

        Args:
          a: the exponent (> 1).
          size, key, dtype: the output shape (an int or a tuple; None: the parameters' broadcast
            shape), a key to draw from instead of the stream (which then does not advance), and an
            integer dtype (default `brainstate.environ.ditype()`).

        Returns:
          An integer array of shape `size`, all >= 1.

        Example:
          >>> import brainstate
          >>> bool((brainstate.random.zipf(2.0, size=5) >= 1).all())
          True
        """
        (a,) = as_arrays(*plain_values("zipf", a=a))
        require("zipf", "a", a, lambda x: x > 1, "greater than 1")
        dtype = int_dtype(dtype, "zipf")
        shape = result_shape("zipf", size, a)
        ftype = float_dtype(None, "zipf")
        return _zipf(self._next_key(key), a, shape=shape, dtype=dtype, ftype=ftype)


def _count_dtype(dtype, fn: str) -> np.dtype:
    """An integer dtype (default `environ.ditype()`) or a float one, for counts held as floats."""
    if dtype is not None and jnp.issubdtype(jnp.dtype(dtype), jnp.floating):
        return jnp.dtype(dtype)
    try:
        return int_dtype(dtype, fn)
    except TypeError:
        raise TypeError(f"{fn}: `dtype` must be an integer or floating-point dtype, got "
                        f"{jnp.dtype(dtype)}.") from None


# The kernels below are compiled once per shape and dtype: called eagerly, their loops would
# otherwise be retraced and recompiled on every draw. `ftype` is the working float type.
_static = functools.partial(jax.jit, static_argnames=("shape", "dtype", "ftype"))


@_static
def _negative_binomial(key, n, p, shape, dtype, ftype):
    """A Poisson count whose rate is gamma distributed (the gamma–Poisson mixture)."""
    k_gamma, k_pois = jax.random.split(key)
    p = jnp.asarray(p, ftype)
    rate = jax.random.gamma(k_gamma, jnp.asarray(n, ftype), shape, ftype) * (1 - p) / p
    return jax.random.poisson(k_pois, rate, shape, dtype)


@_static
def _hypergeometric(key, ngood, nbad, nsample, shape, dtype, ftype):
    """Balls drawn one at a time: each is good with probability good-left / total-left."""
    good, bad, n = (jnp.broadcast_to(jnp.asarray(v, ftype), shape) for v in (ngood, nbad, nsample))
    total = good + bad
    flip = n > total / 2  # drawing the complement is shorter; its good balls are the rest
    draws = jnp.where(flip, total - n, n)

    def step(i, carry):
        good_left, total_left, hits = carry
        u = jax.random.uniform(jax.random.fold_in(key, i), shape, ftype)
        active = i < draws
        hit = active & (u * total_left < good_left)
        return good_left - hit, total_left - active, hits + hit

    steps = jnp.max(draws, initial=0).astype(jnp.int32)
    _, _, hits = jax.lax.fori_loop(0, steps, step, (good, total, jnp.zeros(shape, ftype)))
    return jnp.where(flip, good - hits, hits).astype(dtype)


@_static
def _logseries(key, p, shape, dtype, ftype):
    """Kemp's second accelerated generator, without a loop (a retry has probability ~0)."""
    k_v, k_u = jax.random.split(key)
    p = jnp.asarray(p, ftype)
    v = jax.random.uniform(k_v, shape, ftype, minval=jnp.finfo(ftype).tiny)
    q = -jnp.expm1(jnp.log1p(-p) * jax.random.uniform(k_u, shape, ftype))
    tail = jnp.maximum(jnp.floor(1 + jnp.log(v) / jnp.log(q)), 1)
    small = jnp.where(v >= q, 1.0, 2.0)
    return jnp.where(v >= p, 1.0, jnp.where(v <= q * q, tail, small)).astype(dtype)


@_static
def _zipf(key, a, shape, dtype, ftype):
    """Rejection from the envelope `floor(U ** (-1 / (a - 1)))` until every element accepts."""
    am1 = jnp.broadcast_to(jnp.asarray(a, ftype) - 1, shape)
    b = 2.0 ** am1
    largest = float(jnp.iinfo(dtype).max)

    def body(carry):
        key, done, out = carry
        key, k_u, k_v = jax.random.split(key, 3)
        u = 1 - jax.random.uniform(k_u, shape, ftype)
        v = jax.random.uniform(k_v, shape, ftype)
        x = jnp.floor(u ** (-1 / am1))
        t = (1 + 1 / x) ** am1
        accept = (x >= 1) & (x <= largest) & (v * x * (t - 1) / (b - 1) <= t / b)
        return key, done | accept, jnp.where(accept & ~done, x, out)

    init = (key, jnp.zeros(shape, bool), jnp.ones(shape, ftype))
    _, _, out = jax.lax.while_loop(lambda c: ~jnp.all(c[1]), body, init)
    return out.astype(dtype)

def _count(fn: str, arg: str, value) -> None:
    """A non-negative whole number of trials or balls."""
    require(fn, arg, value, lambda x: (x >= 0) & (np.floor(x) == x), "a non-negative whole number")
