"""Penalties on a value as a whole: groups, smoothness, norms, entropy, orthogonality.

`GroupLassoReg`, `TotalVariationReg`, `MaxNormReg`, `EntropyReg`, `OrthogonalReg` and
`SpectralNormReg` penalize a structure of the array rather than each element alone. They are
penalties, not densities: `loss` is given in closed form by each class. See `_regularization.py`
for the conventions shared by every regularization.
"""

import math
from typing import Any

import jax
import jax.numpy as jnp

from .. import environ, random
from ._regularization import Regularization, Size, positive, shape_of

__all__ = ["GroupLassoReg", "TotalVariationReg", "MaxNormReg", "EntropyReg", "OrthogonalReg", "SpectralNormReg"]

ArrayLike = Any

# Added under square roots so that the gradient of a norm stays finite at zero.
_EPS = 1e-8


def _positive_int(owner: str, name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{owner}: {name} must be an int, got {type(value).__name__} {value!r}.")
    if value <= 0:
        raise ValueError(f"{owner}: {name} must be a positive integer, got {value}.")
    return value


class GroupLassoReg(Regularization):
    """`weight * sum_g ||x_g||`: the flattened value cut into groups of `group_size` (zero-padded).

    Drives whole groups to zero together.

    Args:
      weight: the strength (>= 0).
      group_size: elements per group, a positive int.
      fit_hyper: unused.

    Raises:
      TypeError: if `group_size` is not an int.
      ValueError: if `group_size <= 0` or `weight < 0`.

    Example:
      >>> import jax.numpy as jnp
      >>> from brainstate.nn import GroupLassoReg
      >>> round(float(GroupLassoReg(1.0, group_size=2).loss(jnp.array([3.0, 4.0, 6.0, 8.0]))), 4)
      15.0
    """

    __module__ = "brainstate.nn"

    def __init__(self, weight: float = 1.0, group_size: int = 1, fit_hyper: bool = False):
        super().__init__(fit_hyper)
        self.weight = self._weight(weight)
        self.group_size = _positive_int("GroupLassoReg", "group_size", group_size)

    def loss(self, value: ArrayLike) -> jax.Array:
        """The sum of the groups' Euclidean norms, times `weight`."""
        flat = jnp.ravel(self._x(value))
        flat = jnp.pad(flat, (0, -flat.size % self.group_size))
        groups = flat.reshape(-1, self.group_size)
        return self.weight * jnp.sum(jnp.sqrt(jnp.sum(groups ** 2, axis=1) + _EPS))

    def sample_init(self, shape: Size) -> jax.Array:
        """A normal draw of standard deviation `1 / sqrt(weight)`."""
        return random.randn(*shape_of("GroupLassoReg", shape)) / jnp.sqrt(positive(self.weight))

    def reset_value(self) -> float:
        """0."""
        return 0.0


class TotalVariationReg(Regularization):
    """`weight * sum|diff|` along the flattened value: first (`order=1`) or second differences.

    Favours piecewise-constant (order 1) or piecewise-linear (order 2) values.

    Args:
      weight: the strength (>= 0).
      order: 1 or 2.
      fit_hyper: unused.

    Raises:
      ValueError: if `order` is not 1 or 2.

    Example:
      >>> import jax.numpy as jnp
      >>> from brainstate.nn import TotalVariationReg
      >>> float(TotalVariationReg(1.0).loss(jnp.array([0.0, 1.0, 3.0])))
      3.0
    """

    __module__ = "brainstate.nn"

    def __init__(self, weight: float = 1.0, order: int = 1, fit_hyper: bool = False):
        super().__init__(fit_hyper)
        if order not in (1, 2) or isinstance(order, bool):
            raise ValueError(f"TotalVariationReg: order must be 1 (first differences) or 2 (second "
                             f"differences), got {order!r}.")
        self.weight = self._weight(weight)
        self.order = order

    def loss(self, value: ArrayLike) -> jax.Array:
        """`weight * sum(|diff(x, order)|)` over the flattened value."""
        return self.weight * jnp.sum(jnp.abs(jnp.diff(jnp.ravel(self._x(value)), n=self.order)))

    def sample_init(self, shape: Size) -> jax.Array:
        """A scaled random walk (a smooth draw)."""
        size = shape_of("TotalVariationReg", shape)
        steps = random.randn(*size) / jnp.sqrt(positive(self.weight))
        return jnp.cumsum(jnp.ravel(steps)).reshape(size) / math.sqrt(max(math.prod(size), 1))

    def reset_value(self) -> float:
        """0."""
        return 0.0


class MaxNormReg(Regularization):
    """`weight * relu(||x|| - max_value) ** 2`: no penalty until the norm exceeds `max_value`.

    Args:
      weight: the strength (>= 0).
      max_value: the allowed Euclidean norm (> 0); learnable with `fit_hyper`.
      fit_hyper: make `max_value` a `ParamState`.

    Raises:
      ValueError: if `max_value <= 0` or `weight < 0`.

    Example:
      >>> import jax.numpy as jnp
      >>> from brainstate.nn import MaxNormReg
      >>> round(float(MaxNormReg(1.0, max_value=1.0).loss(jnp.array([3.0, 4.0]))), 4)
      16.0
    """

    __module__ = "brainstate.nn"

    def __init__(self, weight: float = 1.0, max_value: float = 1.0, fit_hyper: bool = False):
        super().__init__(fit_hyper)
        self.weight = self._weight(weight)
        self._hyper("max_value", max_value, lambda v: v > 0, "> 0")

    def loss(self, value: ArrayLike) -> jax.Array:
        """The squared excess of the norm over `max_value`."""
        norm = jnp.sqrt(jnp.sum(self._x(value) ** 2) + _EPS)
        return self.weight * jax.nn.relu(norm - positive(self._h("max_value"))) ** 2

    def sample_init(self, shape: Size) -> jax.Array:
        """A random direction of norm `max_value / 2`."""
        sample = random.randn(*shape_of("MaxNormReg", shape))
        return sample * 0.5 * positive(self._h("max_value")) / jnp.sqrt(jnp.sum(sample ** 2) + _EPS)

    def reset_value(self) -> float:
        """0."""
        return 0.0


class EntropyReg(Regularization):
    """The entropy `H` of `softmax(x)` over the flattened value: loss `-weight * H` or `weight * H`.

    Args:
      weight: the strength (>= 0).
      maximize: True rewards spread-out distributions (loss `-weight * H`), False peaked ones.
      fit_hyper: unused.

    Raises:
      TypeError: if `maximize` is not a bool.

    Example:
      >>> import jax.numpy as jnp
      >>> from brainstate.nn import EntropyReg
      >>> round(-float(EntropyReg(1.0).loss(jnp.zeros(4))), 4)  # log 4: the largest entropy
      1.3863
    """

    __module__ = "brainstate.nn"

    def __init__(self, weight: float = 1.0, maximize: bool = True, fit_hyper: bool = False):
        super().__init__(fit_hyper)
        if not isinstance(maximize, bool):
            raise TypeError(f"EntropyReg: maximize must be True or False, got {maximize!r}.")
        self.weight = self._weight(weight)
        self.maximize = maximize

    def loss(self, value: ArrayLike) -> jax.Array:
        """`-weight * H(softmax(x))` (maximize) or `weight * H(softmax(x))`."""
        logp = jax.nn.log_softmax(jnp.ravel(self._x(value)))
        entropy = -jnp.sum(jnp.exp(logp) * logp)
        return -self.weight * entropy if self.maximize else self.weight * entropy

    def sample_init(self, shape: Size) -> jax.Array:
        """Zeros (maximal entropy) when maximizing, else a standard normal draw."""
        size = shape_of("EntropyReg", shape)
        return jnp.zeros(size, dtype=environ.dftype()) if self.maximize else random.randn(*size)

    def reset_value(self) -> float:
        """0."""
        return 0.0


def _as_matrix(x: jax.Array) -> jax.Array:
    """The matrix an orthogonality penalty acts on: a square for a perfect-square vector, a
    column for another vector, rows x (the rest) for arrays of three or more dimensions."""
    if x.ndim == 1:
        n = math.isqrt(x.shape[0])
        return x.reshape(n, n) if n * n == x.shape[0] else x.reshape(-1, 1)
    return x if x.ndim == 2 else x.reshape(x.shape[0], -1)


class OrthogonalReg(Regularization):
    """`weight * ||W^T W - I||_F^2`: pushes the columns of `W` to be orthonormal.

    A scalar gives `weight * (|x| - 1) ** 2`; vectors and higher arrays are reshaped first (a
    vector of square length into a square matrix, another vector into a column; an array of
    three or more dimensions into `shape[0] x rest`).

    Args:
      weight: the strength (>= 0).
      fit_hyper: unused.

    Example:
      >>> import jax.numpy as jnp
      >>> from brainstate.nn import OrthogonalReg
      >>> float(OrthogonalReg(1.0).loss(jnp.eye(3)))
      0.0
    """

    __module__ = "brainstate.nn"

    def __init__(self, weight: float = 1.0, fit_hyper: bool = False):
        super().__init__(fit_hyper)
        self.weight = self._weight(weight)

    def loss(self, value: ArrayLike) -> jax.Array:
        """The squared Frobenius distance of `W^T W` from the identity."""
        x = self._x(value)
        if x.ndim == 0:
            return self.weight * (jnp.abs(x) - 1.0) ** 2
        w = _as_matrix(x)
        return self.weight * jnp.sum((w.T @ w - jnp.eye(w.shape[1])) ** 2)

    def sample_init(self, shape: Size) -> jax.Array:
        """An orthogonal draw for 1- and 2-D shapes (orthonormal columns, or rows for a wide matrix),
        small noise otherwise."""
        size = shape_of("OrthogonalReg", shape)
        if len(size) == 1:
            side = math.isqrt(size[0] - 1) + 1 if size[0] > 0 else 0  # ceil(sqrt(n))
            q, _ = jnp.linalg.qr(random.randn(side, side))
            return q.reshape(-1)[:size[0]]
        if len(size) == 2:
            m, n = size
            q, _ = jnp.linalg.qr(random.randn(max(m, n), min(m, n)))  # orthonormal columns
            return q if m >= n else q.T
        return random.randn(*size) * 0.1

    def reset_value(self) -> float:
        """0."""
        return 0.0


class SpectralNormReg(Regularization):
    """`weight * relu(sigma_max(W) - max_value) ** 2`, with the largest singular value of `W`.

    The singular value is computed exactly (SVD); `n_power_iterations` is accepted for
    compatibility. Vectors use their Euclidean norm, arrays of three or more dimensions are
    reshaped to `shape[0] x rest`.

    Args:
      weight: the strength (>= 0).
      max_value: the allowed spectral norm (> 0); learnable with `fit_hyper`.
      n_power_iterations: a positive int (unused: the norm is exact).
      fit_hyper: make `max_value` a `ParamState`.

    Raises:
      TypeError: if `n_power_iterations` is not an int.
      ValueError: if `n_power_iterations <= 0`, `max_value <= 0` or `weight < 0`.

    Example:
      >>> import jax.numpy as jnp
      >>> from brainstate.nn import SpectralNormReg
      >>> float(SpectralNormReg(1.0, max_value=1.0).loss(3.0 * jnp.eye(2)))
      4.0
    """

    __module__ = "brainstate.nn"

    def __init__(self, weight: float = 1.0, max_value: float = 1.0, n_power_iterations: int = 1,
                 fit_hyper: bool = False):
        super().__init__(fit_hyper)
        self.weight = self._weight(weight)
        self._hyper("max_value", max_value, lambda v: v > 0, "> 0")
        self.n_power_iterations = _positive_int("SpectralNormReg", "n_power_iterations", n_power_iterations)

    @staticmethod
    def _sigma(x: jax.Array) -> jax.Array:
        if x.ndim == 0:
            return jnp.abs(x)
        if x.ndim == 1:
            return jnp.sqrt(jnp.sum(x ** 2))
        w = x if x.ndim == 2 else x.reshape(x.shape[0], -1)
        return jnp.linalg.svd(w, compute_uv=False)[0]

    def loss(self, value: ArrayLike) -> jax.Array:
        """The squared excess of the spectral norm over `max_value`."""
        return self.weight * jax.nn.relu(self._sigma(self._x(value)) - positive(self._h("max_value"))) ** 2

    def sample_init(self, shape: Size) -> jax.Array:
        """A normal draw rescaled to spectral norm `max_value`."""
        sample = random.randn(*shape_of("SpectralNormReg", shape))
        return sample * positive(self._h("max_value")) / (self._sigma(sample) + _EPS)

    def reset_value(self) -> float:
        """0."""
        return 0.0
