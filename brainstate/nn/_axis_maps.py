"""Functional maps that normalise over an axis: `softmax`, `softmin`, `log_softmax`,
`logsumexp`, `standardize`, `one_hot` (thin, named wrappers over `jax.nn`, as in `_activations`)."""

from typing import Any, Optional, Sequence, Tuple, Union

import jax
import jax.numpy as jnp

from .. import environ

__all__ = ["log_softmax", "logsumexp", "one_hot", "softmax", "softmin", "standardize"]

ArrayLike = Any
Axis = Optional[Union[int, Tuple[int, ...]]]


# -- normalising maps over an axis -------------------------------------------------------------
def softmax(x: ArrayLike, axis: Axis = -1, where: Optional[ArrayLike] = None) -> jax.Array:
    """Softmax over `axis`: `exp(x) / sum(exp(x))`, optionally only over the `where` entries.

    Args:
      x: input array.
      axis: axis (or axes) to normalise over.
      where: optional mask of the entries to include.

    Returns:
      An array of `x`'s shape whose entries along `axis` sum to 1.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.softmax(jnp.array([0.0, 0.0, jnp.log(2.0)])))
      [0.25 0.25 0.5 ]
    """
    return jax.nn.softmax(x, axis=axis, where=where)


def softmin(x: ArrayLike, axis: Axis = -1) -> jax.Array:
    """Softmin over `axis`: `softmax(-x)`.

    Args:
      x: input array.
      axis: axis (or axes) to normalise over.

    Returns:
      An array of `x`'s shape whose entries along `axis` sum to 1.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.softmin(jnp.array([0.0, 0.0, -jnp.log(2.0)])))
      [0.25 0.25 0.5 ]
    """
    return jax.nn.softmax(-jnp.asarray(x), axis=axis)


def log_softmax(x: ArrayLike, axis: Axis = -1, where: Optional[ArrayLike] = None) -> jax.Array:
    """Log of the softmax over `axis`, computed stably.

    Args:
      x: input array.
      axis: axis (or axes) to normalise over.
      where: optional mask of the entries to include.

    Returns:
      `log(softmax(x))`, same shape as `x`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.log_softmax(jnp.array([0.0, 0.0])))
      [-0.6931472 -0.6931472]
    """
    return jax.nn.log_softmax(x, axis=axis, where=where)


def logsumexp(a: ArrayLike, axis: Axis = None, b: Optional[ArrayLike] = None, keepdims: bool = False,
              return_sign: bool = False, where: Optional[ArrayLike] = None) -> Union[jax.Array, Tuple[jax.Array, jax.Array]]:
    """`log(sum(b * exp(a)))` over `axis`, computed stably (see `jax.nn.logsumexp`).

    Args:
      a: input array.
      axis: axis (or axes) to reduce; None reduces all.
      b: optional weights multiplying `exp(a)`.
      keepdims: keep the reduced axes with size 1.
      return_sign: also return the sign of the sum.
      where: optional mask of the entries to include.

    Returns:
      The reduced array (and its sign if `return_sign`).

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.logsumexp(jnp.zeros(4)))
      1.3862944
    """
    return jax.nn.logsumexp(a, axis=axis, b=b, keepdims=keepdims, return_sign=return_sign, where=where)


def standardize(x: ArrayLike, axis: Axis = -1, variance: Optional[ArrayLike] = None, epsilon: ArrayLike = 1e-5,
                where: Optional[ArrayLike] = None) -> jax.Array:
    """`(x - mean) / sqrt(variance + epsilon)` over `axis` (variance computed if not given).

    Args:
      x: input array.
      axis: axis (or axes) to standardize over.
      variance: optional precomputed variance.
      epsilon: added to the variance for stability.
      where: optional mask of the entries to include.

    Returns:
      The standardized array, same shape as `x`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.standardize(jnp.array([1.0, 3.0]), epsilon=0.0))
      [-1.  1.]
    """
    return jax.nn.standardize(x, axis=axis, variance=variance, epsilon=epsilon, where=where)


def one_hot(x: Any, num_classes: int, *, dtype: Any = None, axis: Union[int, Sequence[int]] = -1) -> jax.Array:
    """One-hot encoding of integer `x` with `num_classes` classes along a new `axis`.

    `dtype` defaults to the float type of the current precision (`environ.dftype()`).

    Args:
      x: integer class indices.
      num_classes: number of classes.
      dtype: output dtype.
      axis: where to put the new class axis.

    Returns:
      An array with one more axis of size `num_classes`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.one_hot(jnp.array([0, 2]), 3))
      [[1. 0. 0.]
       [0. 0. 1.]]
    """
    return jax.nn.one_hot(x, num_classes, dtype=environ.dftype() if dtype is None else dtype, axis=axis)
