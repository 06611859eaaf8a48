"""Transforms acting on the last axis as a whole: `OrderedT`, `SimplexT`, `UnitVectorT`.

Each treats the last axis of its input as one vector (leading axes are a batch):
- `OrderedT`: an increasing vector (thresholds, sorted locations);
- `SimplexT`: `n` raw values -> `n + 1` probabilities that sum to one (stick-breaking);
- `UnitVectorT`: a vector of norm one. Many raw vectors share a direction, so it is not a
  bijection and has no `log_abs_det_jacobian`; `inverse` returns its argument (a right inverse).
See `_param_transforms.py` for the conventions every transform follows.
"""

from typing import Any

import jax
import jax.numpy as jnp

from ._param_transforms import Transform, plain

__all__ = ["OrderedT", "SimplexT", "UnitVectorT"]

ArrayLike = Any


def _vector(t: Transform, x: ArrayLike, arg: str) -> jax.Array:
    """`x` as an array of at least one dimension (the last axis is the vector)."""
    x = plain(t, x, arg)
    if x.ndim == 0 or x.shape[-1] == 0:
        raise ValueError(f"{type(t).__name__}: {arg} must have a non-empty last axis (the vector it "
                         f"constrains), got shape {x.shape}. Give the parameter at least one dimension.")
    return x


class OrderedT(Transform):
    """An increasing vector: `y[0] = x[0]`, `y[i] = y[i-1] + softplus(x[i])`.

    Raises:
      ValueError: (in `forward`/`inverse`) for an input without a last axis.

    Example:
      >>> import jax.numpy as jnp
      >>> from brainstate.nn import OrderedT
      >>> y = OrderedT().forward(jnp.array([0.0, 0.0, 1.0]))
      >>> bool(jnp.all(jnp.diff(y) > 0))
      True
    """

    __module__ = "brainstate.nn"

    def forward(self, x: ArrayLike) -> jax.Array:
        """The increasing vector built from `x` along the last axis."""
        x = _vector(self, x, "x")
        steps = jax.nn.softplus(x[..., 1:])
        return jnp.concatenate([x[..., :1], x[..., :1] + jnp.cumsum(steps, axis=-1)], axis=-1)

    def inverse(self, y: ArrayLike) -> jax.Array:
        """The raw vector of an increasing `y`."""
        y = _vector(self, y, "y")
        gaps = jnp.diff(y, axis=-1)
        return jnp.concatenate([y[..., :1], gaps + jnp.log(-jnp.expm1(-gaps))], axis=-1)

    def log_abs_det_jacobian(self, x: ArrayLike, y: ArrayLike) -> jax.Array:
        """The Jacobian is triangular with diagonal `1, sigmoid(x[1:])`: `sum(log_sigmoid(x[1:]))`."""
        x = _vector(self, x, "x")
        return jnp.sum(jax.nn.log_sigmoid(x[..., 1:]), axis=-1)


class SimplexT(Transform):
    """Stick-breaking: `n` raw values -> `n + 1` positive values that sum to one.

    `z_i = sigmoid(x_i)` is the fraction of the stick left after the first `i` pieces that piece
    `i` takes; the last value is what remains. `log_abs_det_jacobian` is that of the map onto the
    first `n` outputs (the last one is determined by them).

    Raises:
      ValueError: (in `forward`/`inverse`) for an input without a last axis.

    Example:
      >>> import jax.numpy as jnp
      >>> from brainstate.nn import SimplexT
      >>> SimplexT().forward(jnp.zeros(3)).tolist()
      [0.5, 0.25, 0.125, 0.125]
    """

    __module__ = "brainstate.nn"

    def forward(self, x: ArrayLike) -> jax.Array:
        """The `n + 1` probabilities of raw values `x` (last axis of length `n`)."""
        x = _vector(self, x, "x")
        z = jax.nn.sigmoid(x)
        left = jnp.cumprod(1.0 - z, axis=-1)  # stick left after each piece
        before = jnp.concatenate([jnp.ones_like(z[..., :1]), left[..., :-1]], axis=-1)
        return jnp.concatenate([z * before, left[..., -1:]], axis=-1)

    def inverse(self, y: ArrayLike) -> jax.Array:
        """The `n` raw values of probabilities `y` (last axis of length `n + 1`, summing to one)."""
        y = _vector(self, y, "y")
        head = y[..., :-1]
        # The stick left before piece i is y_i + y_(i+1) + ... (summed from the small end: `1 -
        # cumsum` would cancel catastrophically once the pieces get small).
        before = jnp.flip(jnp.cumsum(jnp.flip(y, axis=-1), axis=-1), axis=-1)[..., :-1]
        # Clip the stick fractions into the open interval so that rounding cannot give +-inf.
        eps = jnp.finfo(head.dtype).eps
        return jax.scipy.special.logit(jnp.clip(head / before, eps, 1.0 - eps))

    def log_abs_det_jacobian(self, x: ArrayLike, y: ArrayLike) -> jax.Array:
        """Triangular Jacobian: `sum_i log(sigmoid'(x_i) * stick left before piece i)`."""
        x = _vector(self, x, "x")
        log_left = jnp.cumsum(jax.nn.log_sigmoid(-x), axis=-1)
        log_before = jnp.concatenate([jnp.zeros_like(x[..., :1]), log_left[..., :-1]], axis=-1)
        return jnp.sum(jax.nn.log_sigmoid(x) + jax.nn.log_sigmoid(-x) + log_before, axis=-1)


class UnitVectorT(Transform):
    """`x / |x|` along the last axis: a unit vector. Not a bijection (see the module docstring).

    Raises:
      ValueError: (in `forward`/`inverse`) for an input without a last axis.

    Example:
      >>> import jax.numpy as jnp
      >>> from brainstate.nn import UnitVectorT
      >>> [round(v, 4) for v in UnitVectorT().forward(jnp.array([3.0, 4.0])).tolist()]
      [0.6, 0.8]
    """

    __module__ = "brainstate.nn"

    def forward(self, x: ArrayLike) -> jax.Array:
        """`x` divided by its Euclidean norm over the last axis."""
        x = _vector(self, x, "x")
        # The tiny offset keeps the all-zero vector finite (it maps to zero, not NaN).
        return x / jnp.sqrt(jnp.sum(x ** 2, axis=-1, keepdims=True) + 1e-8)

    def inverse(self, y: ArrayLike) -> jax.Array:
        """`y` itself: a unit vector is its own raw representative."""
        return _vector(self, y, "y")
