"""Vector- and matrix-valued draws: multivariate normal, Dirichlet, multinomial, orthogonal.

`MultivariateDraws` is a mixin of `RandomState`. As in NumPy, `size` is the batch shape and the
event dimensions follow it: `multivariate_normal(mean, cov, size=(5,))` with a 3-d `mean` has
shape `(5, 3)`; `orthogonal(4, size=2)` has shape `(2, 4, 4)`. `key` and `dtype` follow the
conventions of `_continuous`; multinomial counts use `brainstate.environ.ditype()`.
"""

from typing import Callable, Optional

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike, DTypeLike

from ._checks import (SeedOrKey, Size, as_arrays, as_positive_int, as_size, float_dtype,
                      has_tracer, int_dtype, positive, probability, require, result_shape)
from ._units import attach_unit, is_quantity, plain_values, split_unit, unit_mismatch

__all__ = ["MultivariateDraws"]

_MVN_METHODS = ("cholesky", "eigh", "svd")

# jax.random.multinomial scans over the outcomes with a fresh closure, so called eagerly it
# recompiles on every draw; compiled here once per shape.
_multinomial = jax.jit(jax.random.multinomial, static_argnames=("shape", "dtype", "unroll"))


class MultivariateDraws:
    """Draws whose samples are vectors or matrices (mixin of `RandomState`)."""

    _next_key: Callable[[Optional[SeedOrKey]], jax.Array]

    def multivariate_normal(self, mean: ArrayLike, cov: ArrayLike, size: Optional[Size] = None,
                            method: str = "cholesky", key: Optional[SeedOrKey] = None,
                            dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Multivariate normal vectors with mean `mean` and covariance `cov`.

        Args:
          mean: the mean, shape `(..., d)`.
          cov: the covariance, shape `(..., d, d)`, symmetric positive semi-definite.
          size: the batch shape of the samples (without the trailing `d`); None: the broadcast batch shape
            of `mean` and `cov`.
          method: how to factor `cov`: 'cholesky' (fastest, needs a positive definite `cov`), 'eigh'
            or 'svd' (also for a singular `cov`).
          key, dtype: a key to draw from instead of the stream (which then does not advance), and a
            float dtype (default `brainstate.environ.dftype()`).

        Returns:
          An array of shape `size + (d,)`.
          Samples carry units: given a brainunit Quantity `mean` and `cov` in its unit squared, the
          result is a Quantity in the unit of `mean` (see `brainstate.random`).

        Raises:
          ValueError: for an unknown `method`, mismatched shapes or a non-symmetric `cov`.

        Example:
          >>> import brainstate, jax.numpy as jnp
          >>> brainstate.random.multivariate_normal(jnp.zeros(3), jnp.eye(3), size=5).shape
          (5, 3)
        """
        fn = "multivariate_normal"
        mean, unit = split_unit(fn, mean=mean)
        mean, cov = as_arrays(mean, _cov_in(fn, cov, unit))
        if method not in _MVN_METHODS:
            raise ValueError(f"{fn}: `method` must be one of {_MVN_METHODS}, got {method!r}.")
        mshape, cshape = np.shape(mean), np.shape(cov)
        if len(mshape) < 1 or len(cshape) < 2 or cshape[-2:] != (mshape[-1], mshape[-1]):
            raise ValueError(
                f"{fn}: `mean` must have shape (..., d) and `cov` shape (..., d, d) with the same "
                f"d; got mean {mshape} and cov {cshape}.")
        if not has_tracer(cov):
            c = np.asarray(cov, dtype=float)
            if not np.allclose(c, np.swapaxes(c, -1, -2), rtol=1e-5, atol=1e-8):
                raise ValueError(f"{fn}: `cov` must be symmetric, got {c if c.size <= 16 else cshape}.")
        dtype = float_dtype(dtype, fn)
        batch = as_size(size, fn)
        x = jax.random.multivariate_normal(self._next_key(key), jnp.asarray(mean, dtype),
                                           jnp.asarray(cov, dtype), batch, dtype, method)
        return attach_unit(x, unit)

    def dirichlet(self, alpha: ArrayLike, size: Optional[Size] = None, key: Optional[SeedOrKey] = None,
                  dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Dirichlet probability vectors with concentrations `alpha`.

        Args:
          alpha: the concentrations, shape `(..., k)`, all > 0.
          size: the batch shape of the samples (without the trailing `k`); None: that of `alpha`.
          key, dtype: a key to draw from instead of the stream (which then does not advance), and a
            float dtype (default `brainstate.environ.dftype()`).

        Returns:
          An array of shape `size + (k,)`: non-negative, summing to 1 along the last axis.

        Raises:
          ValueError: if `alpha` is not a vector of positive numbers.

        Example:
          >>> import brainstate, jax.numpy as jnp
          >>> x = brainstate.random.dirichlet(jnp.ones(4), size=2)
          >>> x.shape, [round(float(s), 4) for s in x.sum(axis=-1)]
          ((2, 4), [1.0, 1.0])
        """
        (alpha,) = as_arrays(*plain_values("dirichlet", alpha=alpha))
        if np.ndim(alpha) < 1:
            raise ValueError(f"dirichlet: `alpha` must be a vector of concentrations (shape (..., k)), "
                             f"got shape {np.shape(alpha)}.")
        positive("dirichlet", "alpha", alpha)
        dtype = float_dtype(dtype, "dirichlet")
        batch = as_size(size, "dirichlet")
        return jax.random.dirichlet(self._next_key(key), alpha, batch, dtype)

    def multinomial(self, n: ArrayLike, pvals: ArrayLike, size: Optional[Size] = None,
                    key: Optional[SeedOrKey] = None, dtype: Optional[DTypeLike] = None,
                    check_valid: bool = True) -> jax.Array:
        """Counts of each of `k` outcomes in `n` trials with probabilities `pvals`.

        Args:
          n: the number of trials, a non-negative whole number, or an array of them (broadcast with
            the batch shape of `pvals`, as in NumPy's `Generator.multinomial`).
          pvals: the outcome probabilities, shape `(..., k)`. As in NumPy, the last is taken to be one
            minus the sum of the others, so `pvals[..., :-1]` must sum to at most 1.
          size: the batch shape (without the trailing `k`); None: the broadcast of `n`'s shape and
            `pvals.shape[:-1]`.
          key, dtype: a key to draw from instead of the stream, and an integer dtype (default
            `environ.ditype()`).
          check_valid: check the parameters (when they are concrete) before drawing.

        Returns:
          An integer array of shape `size + (k,)`, each row summing to `n`.

        Raises:
          ValueError: if `pvals` is not a vector of probabilities, `n` is not a whole number, or
            the shapes of `n` and `pvals` do not broadcast (to `size`, when given).

        Example:
          >>> import brainstate, jax.numpy as jnp
          >>> counts = brainstate.random.multinomial(10, jnp.array([0.2, 0.3, 0.5]), size=2)
          >>> counts.shape, counts.sum(axis=-1).tolist()
          ((2, 3), [10, 10])
        """
        n, pvals = as_arrays(*plain_values("multinomial", n=n, pvals=pvals))
        fn = "multinomial"
        if np.ndim(pvals) < 1:
            raise ValueError(f"{fn}: `pvals` must be a vector of probabilities (shape (..., k)), "
                             f"got shape {np.shape(pvals)}.")
        if check_valid:
            require(fn, "n", n, lambda x: (x >= 0) & (np.floor(x) == x), "a non-negative whole number")
            probability(fn, "pvals", pvals)
            if not has_tracer(pvals):
                head = np.sum(np.asarray(pvals, dtype=float)[..., :-1], axis=-1)
                require(fn, "sum(pvals[..., :-1])", head, lambda s: s <= 1 + 1e-6, "at most 1")
        dtype = int_dtype(dtype, fn)
        # The batch shape: `size`, or the broadcast of `n` with the batch shape of `pvals`.
        size, pbatch = as_size(size, fn), np.shape(pvals)[:-1]
        try:
            batch = result_shape(fn, size, n, np.broadcast_to(False, pbatch))
        except ValueError:
            target = "each other" if size is None else f"size={size}"
            raise ValueError(
                f"{fn}: `n` of shape {np.shape(n)} and `pvals` of batch shape {pbatch} (its shape "
                f"without the outcome axis) cannot be broadcast to {target}. Give `n` a shape that "
                f"broadcasts with `pvals.shape[:-1]`{'' if size is None else ' and `size`'}.") from None
        ftype = float_dtype(None, fn)
        p = jnp.asarray(pvals, ftype)
        last = jnp.clip(1 - jnp.sum(p[..., :-1], axis=-1, keepdims=True), 0, 1)
        p = jnp.concatenate([p[..., :-1], last], axis=-1)
        full = batch + (p.shape[-1],)
        n = jnp.broadcast_to(jnp.asarray(n, ftype), batch)
        # Both made full-sized, without `shape`: its meaning changed between JAX releases (with
        # the outcome axis before 0.12, without it since); the result then has `p`'s shape.
        counts = _multinomial(self._next_key(key), n, jnp.broadcast_to(p, full), dtype=ftype)
        return counts.astype(dtype)

    def orthogonal(self, n: int, size: Optional[Size] = None, key: Optional[SeedOrKey] = None,
                   dtype: Optional[DTypeLike] = None) -> jax.Array:
        """Random orthogonal `n x n` matrices, uniform (Haar) over the orthogonal group.

        Args:
          n: the matrix size, a positive int.
          size: the batch shape; None for a single matrix.
          key, dtype: a key to draw from instead of the stream (which then does not advance), and a
            float dtype (default `brainstate.environ.dftype()`).

        Returns:
          An array of shape `size + (n, n)`.

        Raises:
          ValueError: if `n` is not a positive integer.

        Example:
          >>> import brainstate, jax.numpy as jnp
          >>> q = brainstate.random.orthogonal(3)
          >>> bool(jnp.allclose(q @ q.T, jnp.eye(3), atol=1e-5))
          True
        """
        n = as_positive_int("orthogonal", "n", n)
        dtype = float_dtype(dtype, "orthogonal")
        batch = as_size(size, "orthogonal") or ()
        return jax.random.orthogonal(self._next_key(key), n, batch, dtype)


def _cov_in(fn: str, cov, unit):
    """`cov` as plain values in `unit**2`, the unit of the covariance of samples in `unit`.

    As in the reference, a `mean` with a unit needs a `cov` with one (a plain `cov` is not taken
    in `unit**2`), and a `cov` with a unit needs a `mean` with one.

    Raises:
      brainunit.UnitMismatchError: exactly one of `mean` and `cov` has a physical unit, or the
        unit of `cov` is not that of `mean` squared.
    """
    dimensional = is_quantity(cov) and not cov.dim.is_dimensionless
    if unit is None:
        if dimensional:
            raise unit_mismatch(
                f"{fn}: `cov` is in {cov.unit} but `mean` has no unit. The samples take the unit "
                f"of `mean`, and `cov` must be in its square: give `mean` a unit (mV for a `cov` "
                f"in mV^2), or pass both without units.")
        return plain_values(fn, cov=cov)[0]
    square = unit ** 2
    if not dimensional:
        raise unit_mismatch(
            f"{fn}: `mean` is in {unit}, so `cov` must be a Quantity in {square} (the covariance "
            f"of samples in {unit}), got one without a unit. Multiply it by `({unit}) ** 2`.")
    if cov.dim != square.dim:
        raise unit_mismatch(
            f"{fn}: `cov` is in {cov.unit}, which cannot be converted to {square}, the square of "
            f"the unit of `mean` ({unit}). Give `cov` in {square} or a unit of the same dimension.")
    return cov.to_decimal(square)
