"""Draws from a given population or probability table: choice, permutation, shuffle, categorical.

`PopulationDraws` is a mixin of `RandomState`; `size` and `key` follow the conventions of
`_continuous`. JAX arrays are immutable, so `shuffle` returns the shuffled copy instead of
shuffling in place as NumPy does: write `x = brainstate.random.shuffle(x)`.
"""

from typing import Any, Callable, Optional

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from ._checks import SeedOrKey, Size, as_arrays, as_size, has_tracer, require
from ._units import attach_unit, plain_values, split_unit

__all__ = ["PopulationDraws"]


class PopulationDraws:
    """Sampling from populations and probability tables (mixin of `RandomState`)."""

    _next_key: Callable[[Optional[SeedOrKey]], jax.Array]

    def choice(self, a: ArrayLike, size: Optional[Size] = None, replace: bool = True,
               p: Optional[ArrayLike] = None, key: Optional[SeedOrKey] = None) -> jax.Array:
        """Samples from the entries of `a` (or from `range(a)` when `a` is an int).

        Args:
          a: the population (sampled along its first axis), or an int `n` for `range(n)` (a 0-d
            integer array counts as the int it holds; under `jit` it must be concrete).
          size: the output shape; None for a single sample.
          replace: sample with replacement (the default) or without.
          p: probabilities of the population's entries (1-D, summing to 1); uniform if None.
          key: a key to draw from instead of the stream (which then does not advance).

        Returns:
          An array of shape `size` (plus the trailing shape of `a`'s entries); a NumPy array when
          `a` holds strings or other objects (eagerly only).
          Samples carry units: given a brainunit Quantity, `a` sets the unit and the result is a
          Quantity in it (see `brainstate.random`).

        Raises:
          ValueError: for an empty population, `p` of the wrong shape or not summing to 1, or more
            samples than the population without replacement.
          TypeError: for an integer `a` that is traced (unknown while a compiled function is traced).

        Example:
          >>> import brainstate
          >>> x = brainstate.random.choice(5, size=3, replace=False)
          >>> x.shape, len(set(x.tolist()))
          ((3,), 3)
        """
        fn = "choice"
        a, unit = split_unit(fn, a=a)
        a, p = as_arrays(a, *plain_values(fn, p=p))
        shape = as_size(size, fn) or ()
        a = _as_count(fn, "a", a)
        if isinstance(a, int):
            if a < 1:
                raise ValueError(f"{fn}: `a` must be a positive population size, got {a}.")
            population = int(a)
        else:
            if np.ndim(a) < 1 or np.shape(a)[0] == 0:
                raise ValueError(f"{fn}: `a` must be an int or a non-empty array (sampled along its "
                                 f"first axis), got shape {np.shape(a)}.")
            population = np.shape(a)[0]
        if p is not None:
            if np.shape(p) != (population,):
                raise ValueError(f"{fn}: `p` must be 1-D with one probability per entry of `a` "
                                 f"(shape ({population},)), got shape {np.shape(p)}.")
            require(fn, "p", p, lambda x: x >= 0, "non-negative")
            if not has_tracer(p):
                require(fn, "sum(p)", np.sum(np.asarray(p, dtype=float)),
                        lambda s: np.abs(s - 1) < 1e-5, "1 (the probabilities must sum to one)")
        if not replace and int(np.prod(shape)) > population:
            raise ValueError(f"{fn}: cannot take {int(np.prod(shape))} samples without replacement "
                             f"from a population of {population}. Use `replace=True` or a smaller "
                             f"`size`.")
        if isinstance(a, np.ndarray) and a.dtype.kind in "USO":
            # Strings or objects (`choice(['a', 'b'])`): indices drawn here, entries taken by NumPy.
            k = self._next_key(key)
            if isinstance(k, jax.core.Tracer):
                raise TypeError(
                    f"{fn}: `a` holds {a.dtype.name} values, which a compiled function cannot carry. "
                    f"Draw indices with `choice(len(a), ...)` inside it and take the entries outside.")
            return a[np.asarray(jax.random.choice(k, population, shape, replace, p))]
        return attach_unit(jax.random.choice(self._next_key(key), a, shape, replace, p), unit)

    def permutation(self, x: ArrayLike, axis: int = 0, independent: bool = False,
                    key: Optional[SeedOrKey] = None) -> jax.Array:
        """A random permutation of `range(x)` (for an int) or of `x` along `axis`.

        Args:
          x: a non-negative int (or 0-d integer array, concrete under `jit`), or an array to permute.
          axis: the axis along which to permute.
          independent: permute every slice along `axis` independently (each row of a matrix shuffled on
            its own with `axis=1`) instead of moving whole slices.
          key: a key to draw from instead of the stream (which then does not advance).

        Returns:
          The permuted array (a new array; `x` is unchanged).
          Samples carry units: given a brainunit Quantity, `x` sets the unit and the result is a
          Quantity in it (see `brainstate.random`).

        Raises:
          ValueError: for a negative int or an `axis` out of range.
          TypeError: for an integer `x` that is traced (unknown while a compiled function is traced).

        Example:
          >>> import brainstate
          >>> sorted(brainstate.random.permutation(5).tolist())
          [0, 1, 2, 3, 4]
        """
        fn = "permutation"
        x, unit = split_unit(fn, x=x)
        (x,) = as_arrays(x)
        x = _as_count(fn, "x", x)
        if isinstance(x, int):
            if x < 0:
                raise ValueError(f"{fn}: `x` must be a non-negative int or an array, got {x}.")
        else:
            _check_axis(fn, x, axis)
        return attach_unit(jax.random.permutation(self._next_key(key), x, axis, independent), unit)

    def shuffle(self, x: ArrayLike, axis: int = 0, key: Optional[SeedOrKey] = None) -> jax.Array:
        """`x` with its slices along `axis` in random order, as a new array (not in place).

        Args:
          x: the array to shuffle.
          axis: the axis along which slices move.
          key: a key to draw from instead of the stream (which then does not advance).

        Returns:
          The shuffled copy of `x` (JAX arrays are immutable, so `x` itself is unchanged).
          Samples carry units: given a brainunit Quantity, `x` sets the unit and the result is a
          Quantity in it (see `brainstate.random`).

        Raises:
          ValueError: for a scalar `x` or an `axis` out of range.

        Example:
          >>> import brainstate, jax.numpy as jnp
          >>> sorted(brainstate.random.shuffle(jnp.arange(4)).tolist())
          [0, 1, 2, 3]
        """
        x, unit = split_unit("shuffle", x=x)
        (x,) = as_arrays(x)
        _check_axis("shuffle", x, axis)
        return attach_unit(jax.random.permutation(self._next_key(key), x, axis, False), unit)

    def categorical(self, logits: ArrayLike, axis: int = -1, size: Optional[Size] = None,
                    key: Optional[SeedOrKey] = None) -> jax.Array:
        """Category indices drawn with probabilities `softmax(logits, axis)`.

        Args:
          logits: unnormalised log-probabilities.
          axis: the axis of the categories.
          size: the output shape, which must broadcast with the shape of `logits` without `axis`
            (e.g. `(n,) + batch` for `n` draws per distribution); None: that shape.
          key: a key to draw from instead of the stream (which then does not advance).

        Returns:
          An integer array of category indices.

        Raises:
          ValueError: for a scalar `logits`, an `axis` out of range or a `size` that does not broadcast.

        Example:
          >>> import brainstate, jax.numpy as jnp
          >>> x = brainstate.random.categorical(jnp.log(jnp.array([0.1, 0.9])), size=(5,))
          >>> x.shape, bool(((0 <= x) & (x < 2)).all())
          ((5,), True)
        """
        (logits,) = as_arrays(*plain_values("categorical", logits=logits))
        _check_axis("categorical", logits, axis)
        shape = as_size(size, "categorical")
        if shape is not None:
            batch = tuple(np.delete(np.shape(logits), axis % np.ndim(logits)))
            try:
                np.broadcast_shapes(shape, batch)
            except ValueError:
                raise ValueError(f"categorical: `size` {shape} must broadcast with the shape of "
                                 f"`logits` without `axis`, {batch}.") from None
        return jax.random.categorical(self._next_key(key), jnp.asarray(logits), axis, shape)


def _as_count(fn: str, arg: str, x: Any) -> Any:
    """An integer scalar (a Python or NumPy int, a 0-d integer array) as a Python int; anything
    else unchanged. The count fixes the output's shape or range, so it must be concrete.

    Raises:
      TypeError: `x` is a traced integer scalar (an argument of a compiled function).
    """
    if isinstance(x, (bool, np.bool_)) or np.ndim(x) != 0:
        return x
    if isinstance(x, (int, np.integer)):
        return int(x)
    if not jnp.issubdtype(jnp.result_type(x), jnp.integer):
        return x
    if has_tracer(x):
        raise TypeError(
            f"{fn}: `{arg}` must be a concrete integer (a Python int or a 0-d integer array): "
            f"`range({arg})`, which the samples come from, must be known while the function is "
            f"traced, and a traced integer scalar is not. Make it a static argument "
            f"(`jit(..., static_argnums=...)`) or pass a Python int from outside the function.")
    return int(x)


def _check_axis(fn: str, x: ArrayLike, axis: int) -> None:
    ndim = np.ndim(x)
    if ndim < 1:
        raise ValueError(f"{fn}: the input must be an array with at least one axis, got a scalar.")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{fn}: `axis` {axis} is out of range for an input of shape {np.shape(x)}.")
