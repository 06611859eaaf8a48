"""Functional activations: thin, named wrappers over `jax.nn` and `jax.numpy`.

Each function is element-wise (or reduces over the `axis` it is given) and keeps the argument
names of the reference API, so `brainstate.nn.relu(x)` and friends can be used wherever a plain
function of an array is expected (`Sequential`, RNN cell `activation=` strings, ...).

Invariants: no function holds state; only `rrelu` is random, and it draws its slopes from
`brainstate.random` (an ordinary state write, so it works under every transform) while the
environment setting `fit` is True, and uses the mean slope `(lower + upper) / 2` otherwise.

Physical units: the rectifiers `relu`, `leaky_relu`, `prelu` and `rrelu` commute with scaling
and keep a `brainunit.Quantity` input's unit (they work on its numbers); the other functions
take plain arrays (or dimensionless values).
"""

from typing import Any, Optional, Sequence, Tuple, Union

import jax
import jax.numpy as jnp

from .. import environ, random
from ._units import attach, split

__all__ = [
    "celu", "elu", "gelu", "glu", "hard_shrink", "hard_sigmoid", "hard_silu", "hard_swish",
    "hard_tanh", "leaky_relu", "log_sigmoid", "log_softmax", "logsumexp", "mish", "one_hot", "prelu",
    "relu", "relu6", "rrelu", "selu", "sigmoid", "silu", "soft_shrink", "soft_sign", "softmax",
    "softmin", "softplus", "sparse_plus", "sparse_sigmoid", "squareplus", "standardize", "swish",
    "tanh", "tanh_shrink",
]

ArrayLike = Any
Axis = Optional[Union[int, Tuple[int, ...]]]


# -- rectifiers --------------------------------------------------------------------------------
def relu(x: ArrayLike) -> jax.Array:
    """Rectified linear unit: `max(x, 0)`.

    Args:
      x: input array, or a `brainunit.Quantity` (the result keeps its unit).

    Returns:
      The activated array, same shape (and unit) as `x`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.relu(jnp.array([-2.0, 0.0, 2.0])))
      [0. 0. 2.]
    """
    m, unit = split(x)
    return attach(jax.nn.relu(m), unit)


def relu6(x: ArrayLike) -> jax.Array:
    """ReLU capped at 6: `min(max(x, 0), 6)`.

    Args:
      x: input array.

    Returns:
      The activated array, same shape as `x`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.relu6(jnp.array([-1.0, 3.0, 8.0])))
      [0. 3. 6.]
    """
    return jax.nn.relu6(x)


def leaky_relu(x: ArrayLike, negative_slope: ArrayLike = 1e-2) -> jax.Array:
    """Leaky ReLU: `x` where `x >= 0`, else `negative_slope * x`.

    Args:
      x: input array, or a `brainunit.Quantity` (the result keeps its unit).
      negative_slope: slope for negative inputs.

    Returns:
      The activated array, same shape (and unit) as `x`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.leaky_relu(jnp.array([-2.0, 0.0, 2.0])))
      [-0.02  0.    2.  ]
    """
    m, unit = split(x)
    return attach(jax.nn.leaky_relu(m, negative_slope=negative_slope), unit)


def prelu(x: ArrayLike, a: ArrayLike = 0.25) -> jax.Array:
    """Parametric ReLU: `x` where `x >= 0`, else `a * x` (`a` broadcasts against `x`).

    Args:
      x: input array, or a `brainunit.Quantity` (the result keeps its unit).
      a: slope(s) for negative inputs, broadcast against `x`.

    Returns:
      The activated array, same shape (and unit) as `x`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.prelu(jnp.array([-2.0, 0.0, 2.0])))
      [-0.5  0.   2. ]
    """
    m, unit = split(x)
    m = jnp.asarray(m)
    return attach(jnp.where(m >= 0, m, a * m), unit)


def rrelu(x: ArrayLike, lower: float = 0.125, upper: float = 1.0 / 3.0) -> jax.Array:
    """Randomized leaky ReLU: negative inputs are scaled by a random slope in `[lower, upper)`.

    While `brainstate.environ` setting `fit` is True (the default when unset) each element gets
    its own slope drawn from `brainstate.random`; with `fit=False` the slope is the mean
    `(lower + upper) / 2`, so evaluation is deterministic.

    Raises:
      ValueError: if `lower > upper`.

    Args:
      x: input array, or a `brainunit.Quantity` (the result keeps its unit).
      lower: lower bound of the random slope.
      upper: upper bound of the random slope.

    Returns:
      The activated array, same shape (and unit) as `x`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> with brainstate.environ.context(fit=False):
      ...     print(brainstate.nn.rrelu(jnp.array([-3.0, 1.0]), lower=0.1, upper=0.3))
      [-0.6  1. ]
    """
    if lower > upper:
        raise ValueError(
            f"rrelu: lower must not exceed upper, got lower={lower} and upper={upper}. "
            f"Pass bounds with lower <= upper, e.g. lower=0.125, upper=0.333.")
    m, unit = split(x)
    m = jnp.asarray(m)
    slope: ArrayLike
    if environ.get("fit", True):
        dtype = jnp.result_type(m, float)
        slope = random.uniform(lower, upper, size=m.shape, dtype=dtype)
    else:
        slope = (lower + upper) / 2
    return attach(jnp.where(m >= 0, m, slope * m), unit)


def elu(x: ArrayLike, alpha: ArrayLike = 1.0) -> jax.Array:
    """Exponential linear unit: `x` where `x > 0`, else `alpha * (exp(x) - 1)`.

    Args:
      x: input array.
      alpha: scale of the negative part.

    Returns:
      The activated array, same shape as `x`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.elu(jnp.array([-2.0, 0.0, 2.0])))
      [-0.86466473  0.          2.        ]
    """
    return jax.nn.elu(x, alpha=alpha)


def celu(x: ArrayLike, alpha: ArrayLike = 1.0) -> jax.Array:
    """Continuously differentiable ELU: `max(x, 0) + alpha * min(exp(x / alpha) - 1, 0)`.

    Args:
      x: input array.
      alpha: scale of the negative part (non-zero).

    Returns:
      The activated array, same shape as `x`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.celu(jnp.array([-2.0, 0.0, 2.0])))
      [-0.86466473  0.          2.        ]
    """
    return jax.nn.celu(x, alpha=alpha)


def selu(x: ArrayLike) -> jax.Array:
    """Scaled ELU with the self-normalising constants.

    Args:
      x: input array.

    Returns:
      The activated array, same shape as `x`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.selu(jnp.array([-2.0, 0.0, 2.0])))
      [-1.5201665  0.         2.101402 ]
    """
    return jax.nn.selu(x)


def gelu(x: ArrayLike, approximate: bool = True) -> jax.Array:
    """Gaussian error linear unit; `approximate=True` uses the tanh approximation.

    Args:
      x: input array.
      approximate: use the tanh approximation.

    Returns:
      The activated array, same shape as `x`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.gelu(jnp.array([-2.0, 0.0, 2.0])))
      [-0.04540235  0.          1.9545977 ]
    """
    return jax.nn.gelu(x, approximate=approximate)


def glu(x: ArrayLike, axis: int = -1) -> jax.Array:
    """Gated linear unit: split `x` in two halves `a, b` along `axis` and return `a * sigmoid(b)`.

    Raises:
      ValueError: if the size of `x` along `axis` is odd.

    Args:
      x: input array; its size along `axis` must be even.
      axis: the axis to split.

    Returns:
      The gated array, half the size of `x` along `axis`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.glu(jnp.array([1.0, 2.0, 0.0, 0.0])))
      [0.5 1. ]
    """
    x = jnp.asarray(x)
    if x.ndim == 0 or x.shape[axis] % 2:
        got = "a scalar" if x.ndim == 0 else f"size {x.shape[axis]} (shape {x.shape})"
        raise ValueError(
            f"glu: the input is split in two halves along axis {axis}, so that axis needs an even "
            f"size, got {got}. Choose another axis or pad the input.")
    return jax.nn.glu(x, axis=axis)


# -- squashing functions -----------------------------------------------------------------------
def sigmoid(x: ArrayLike) -> jax.Array:
    """Logistic sigmoid: `1 / (1 + exp(-x))`.

    Args:
      x: input array.

    Returns:
      The activated array, same shape as `x`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.sigmoid(jnp.array([-2.0, 0.0, 2.0])))
      [0.11920292 0.5        0.880797  ]
    """
    return jax.nn.sigmoid(x)


def log_sigmoid(x: ArrayLike) -> jax.Array:
    """`log(sigmoid(x))`, computed stably.

    Args:
      x: input array.

    Returns:
      The activated array, same shape as `x`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.log_sigmoid(jnp.array([-2.0, 0.0, 2.0])))
      [-2.126928  -0.6931472 -0.126928 ]
    """
    return jax.nn.log_sigmoid(x)


def hard_sigmoid(x: ArrayLike) -> jax.Array:
    """Piecewise-linear sigmoid: `relu6(x + 3) / 6`.

    Args:
      x: input array.

    Returns:
      The activated array, same shape as `x`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.hard_sigmoid(jnp.array([-3.0, 0.0, 3.0])))
      [0.  0.5 1. ]
    """
    return jax.nn.hard_sigmoid(x)


def sparse_sigmoid(x: ArrayLike) -> jax.Array:
    """Sparse sigmoid: 0 below -1, 1 above 1, `(x + 1) / 2` between.

    Args:
      x: input array.

    Returns:
      The activated array, same shape as `x`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.sparse_sigmoid(jnp.array([-2.0, 0.0, 0.5, 2.0])))
      [0.   0.5  0.75 1.  ]
    """
    return jax.nn.sparse_sigmoid(x)


def tanh(x: ArrayLike) -> jax.Array:
    """Hyperbolic tangent.

    Args:
      x: input array.

    Returns:
      The activated array, same shape as `x`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.tanh(jnp.array([-2.0, 0.0, 2.0])))
      [-0.9640276  0.         0.9640276]
    """
    return jnp.tanh(x)


def hard_tanh(x: ArrayLike, min_val: float = -1.0, max_val: float = 1.0) -> jax.Array:
    """`x` clipped to `[min_val, max_val]`.

    Args:
      x: input array.
      min_val: lower clip bound.
      max_val: upper clip bound.

    Returns:
      The activated array, same shape as `x`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.hard_tanh(jnp.array([-2.0, 0.0, 2.0])))
      [-1.  0.  1.]
    """
    return jnp.clip(x, min_val, max_val)


def soft_sign(x: ArrayLike) -> jax.Array:
    """Soft sign: `x / (1 + |x|)`.

    Args:
      x: input array.

    Returns:
      The activated array, same shape as `x`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.soft_sign(jnp.array([-1.0, 0.0, 3.0])))
      [-0.5   0.    0.75]
    """
    return jax.nn.soft_sign(x)


# -- smooth rectifiers and gated units ---------------------------------------------------------
def softplus(x: ArrayLike) -> jax.Array:
    """Softplus: `log(1 + exp(x))`.

    Args:
      x: input array.

    Returns:
      The activated array, same shape as `x`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.softplus(jnp.array([-2.0, 0.0, 2.0])))
      [0.126928  0.6931472 2.126928 ]
    """
    return jax.nn.softplus(x)


def sparse_plus(x: ArrayLike) -> jax.Array:
    """Sparse plus: 0 below -1, `x` above 1, `(x + 1)**2 / 4` between.

    Args:
      x: input array.

    Returns:
      The activated array, same shape as `x`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.sparse_plus(jnp.array([-2.0, 0.0, 2.0])))
      [0.   0.25 2.  ]
    """
    return jax.nn.sparse_plus(x)


def squareplus(x: ArrayLike, b: ArrayLike = 4) -> jax.Array:
    """Squareplus: `(x + sqrt(x**2 + b)) / 2`.

    Args:
      x: input array.
      b: smoothness (must be non-negative).

    Returns:
      The activated array, same shape as `x`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.squareplus(jnp.array([-2.0, 0.0, 2.0])))
      [0.41421354 1.         2.4142137 ]
    """
    return jax.nn.squareplus(x, b=b)


def silu(x: ArrayLike) -> jax.Array:
    """Sigmoid linear unit (swish): `x * sigmoid(x)`.

    Args:
      x: input array.

    Returns:
      The activated array, same shape as `x`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.silu(jnp.array([-2.0, 0.0, 2.0])))
      [-0.23840584  0.          1.761594  ]
    """
    return jax.nn.silu(x)


swish = silu


def hard_silu(x: ArrayLike) -> jax.Array:
    """Hard SiLU (hard swish): `x * hard_sigmoid(x)`.

    Args:
      x: input array.

    Returns:
      The activated array, same shape as `x`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.hard_silu(jnp.array([-3.0, 0.0, 3.0])))
      [-0.  0.  3.]
    """
    return jax.nn.hard_silu(x)


hard_swish = hard_silu


def mish(x: ArrayLike) -> jax.Array:
    """Mish: `x * tanh(softplus(x))`.

    Args:
      x: input array.

    Returns:
      The activated array, same shape as `x`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.mish(jnp.array([-2.0, 0.0, 2.0])))
      [-0.25250146  0.          1.943959  ]
    """
    return jax.nn.mish(x)


# -- shrinkage ---------------------------------------------------------------------------------
def hard_shrink(x: ArrayLike, lambd: float = 0.5) -> jax.Array:
    """Hard shrinkage: `x` where `|x| > lambd`, else 0.

    Args:
      x: input array.
      lambd: the threshold.

    Returns:
      The activated array, same shape as `x`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.hard_shrink(jnp.array([-1.0, 0.2, 1.0])))
      [-1.  0.  1.]
    """
    x = jnp.asarray(x)
    return jnp.where(jnp.abs(x) > lambd, x, jnp.zeros_like(x))


def soft_shrink(x: ArrayLike, lambd: float = 0.5) -> jax.Array:
    """Soft shrinkage: `x - lambd` above `lambd`, `x + lambd` below `-lambd`, else 0.

    Args:
      x: input array.
      lambd: the threshold (non-negative).

    Returns:
      The activated array, same shape as `x`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.soft_shrink(jnp.array([-1.0, 0.2, 1.0])))
      [-0.5  0.   0.5]
    """
    x = jnp.asarray(x)
    return jnp.where(x > lambd, x - lambd, jnp.where(x < -lambd, x + lambd, jnp.zeros_like(x)))


def tanh_shrink(x: ArrayLike) -> jax.Array:
    """Tanh shrinkage: `x - tanh(x)`.

    Args:
      x: input array.

    Returns:
      The activated array, same shape as `x`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> print(brainstate.nn.tanh_shrink(jnp.array([0.0, 1.0])))
      [0.         0.23840582]
    """
    return x - jnp.tanh(x)


# The maps over an axis live in `_axis_maps.py`; re-exported so `_activations.softmax` keeps working.
from ._axis_maps import log_softmax, logsumexp, one_hot, softmax, softmin, standardize  # noqa: E402
