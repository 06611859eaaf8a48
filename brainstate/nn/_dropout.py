"""Dropout layers: random masking while training, the identity while evaluating.

`prob` is the probability of KEEPING an element (as in the reference release): kept elements
are scaled by `1 / prob` so the expected output equals the input. The layers draw their masks
from `brainstate.random`, so `brainstate.random.seed` reproduces them and they work under every
transform. They read `environ` `fit`: True draws a mask, False returns the input unchanged, and
an unset `fit` raises the environ `KeyError`, which says how to set it.

Channel-wise variants (`Dropout1d/2d/3d`, `FeatureAlphaDropout`) drop whole channels: one draw
per (sample, channel), shared over the spatial axes. Their `channel_axis` counts within one
sample; a leading batch axis is allowed. `DropoutFixed` draws its mask once, in `init_state`,
and reuses it on every call.

Physical units: `Dropout`, `Dropout1d/2d/3d` and `DropoutFixed` only zero and scale elements, so
a `brainunit.Quantity` input keeps its unit (the mask is drawn as for its numbers). The alpha
variants move dropped elements to a fixed value meant for standardised, unitless activations,
so they take plain (or dimensionless) inputs only.
"""

import math
from typing import Any, Optional, Sequence, Tuple

import jax
import jax.numpy as jnp
import numpy as np

from .. import environ, random
from .._state import ShortTermState
from ._elementwise import ElementWiseBlock
from ._units import attach, split

__all__ = ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout",
           "DropoutFixed"]

# SELU constants: alpha * scale is the value SELU saturates to for large negative inputs.
_SELU_ALPHA = 1.6732632423543772
_SELU_SCALE = 1.0507009873554805


def _check_prob(owner: str, prob: Any) -> float:
    if isinstance(prob, bool) or not isinstance(prob, (int, float, np.number)) or not 0.0 <= prob <= 1.0:
        raise ValueError(f"{owner}: prob is the probability of keeping an element and must be a number "
                         f"in [0, 1], got {prob!r}.")
    return float(prob)


def _fitting(owner: str) -> bool:
    return bool(environ.get("fit", desc=f"True while training, False while evaluating; {owner} drops "
                                        f"elements only while fitting"))


def _keep(x: jax.Array, prob: float, mask_shape: Tuple[int, ...]) -> jax.Array:
    """Inverted dropout: keep with probability `prob`, scaled by `1 / prob`."""
    if prob == 1.0:
        return x
    if prob == 0.0:
        return jnp.zeros_like(x)
    mask = random.bernoulli(prob, size=mask_shape, check_valid=False)
    return jnp.where(mask, x / prob, jnp.zeros((), x.dtype))


def _alpha_keep(x: jax.Array, prob: float, mask_shape: Tuple[int, ...]) -> jax.Array:
    """Alpha dropout: dropped values go to SELU's saturation value, then an affine map restores
    zero mean and unit variance for standardised inputs."""
    if prob == 1.0:
        return x
    saturation = -_SELU_ALPHA * _SELU_SCALE
    a = 1.0 / math.sqrt(prob + saturation ** 2 * prob * (1.0 - prob))
    b = -a * saturation * (1.0 - prob)
    mask = random.bernoulli(prob, size=mask_shape, check_valid=False)
    return a * jnp.where(mask, x, saturation) + b


class Dropout(ElementWiseBlock):
    """Element-wise dropout: keep each element with probability `prob` and scale it by `1 / prob`.

    Args:
      prob: the probability of keeping an element, in [0, 1].
      broadcast_dims: input axes along which one draw is shared (e.g. `(0,)` drops the same
        features in every row).
      name: optional module name.

    Raises:
      ValueError: `prob` outside [0, 1].

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> layer = brainstate.nn.Dropout(0.8)
      >>> with brainstate.environ.context(fit=False):
      ...     layer(jnp.ones(3)).tolist()
      [1.0, 1.0, 1.0]
    """

    def __init__(self, prob: float = 0.5, broadcast_dims: Sequence[int] = (), name: Optional[str] = None) -> None:
        super().__init__(name=name)
        self.prob = _check_prob(self._label(), prob)
        dims = (broadcast_dims,) if isinstance(broadcast_dims, int) else tuple(broadcast_dims)
        if not all(isinstance(d, (int, np.integer)) and not isinstance(d, bool) for d in dims):
            raise TypeError(f"{self._label()}: broadcast_dims must be a sequence of int axes, got {broadcast_dims!r}.")
        self.broadcast_dims = tuple(int(d) for d in dims)

    def update(self, x: Any) -> jax.Array:
        """`x` with dropped elements zeroed while `fit` is True; `x` unchanged otherwise.

        A `brainunit.Quantity` input keeps its unit.

        Raises:
          ValueError: a broadcast dim is out of range for `x`.
        """
        m, unit = split(x)
        m = jnp.asarray(m)
        if not _fitting(self._label()):
            return attach(m, unit)
        shape = list(m.shape)
        for d in self.broadcast_dims:
            if not -m.ndim <= d < m.ndim:
                raise ValueError(f"{self._label()}: broadcast_dims={self.broadcast_dims} has axis {d}, out "
                                 f"of range for an input of shape {m.shape}.")
            shape[d] = 1
        return attach(_keep(m, self.prob, tuple(shape)), unit)


class _ChannelDropout(ElementWiseBlock):
    """Base of the channel-wise dropouts: one draw per (batch entry, channel)."""

    num_spatial: Optional[int] = None  # None: any number of dims, axis 0 taken as the batch axis

    def __init__(self, prob: float = 0.5, channel_axis: int = -1, name: Optional[str] = None) -> None:
        super().__init__(name=name)
        self.prob = _check_prob(self._label(), prob)
        if isinstance(channel_axis, bool) or not isinstance(channel_axis, (int, np.integer)):
            raise TypeError(f"{self._label()}: channel_axis must be an int, got {channel_axis!r}.")
        if self.num_spatial is not None and not -(self.num_spatial + 1) <= channel_axis <= self.num_spatial:
            raise ValueError(f"{self._label()}: channel_axis={channel_axis} is out of range for samples with "
                             f"{self.num_spatial + 1} dimensions (spatial axes and one channel axis).")
        self.channel_axis = int(channel_axis)

    def _mask_shape(self, x: jax.Array) -> Tuple[int, ...]:
        if self.num_spatial is None:
            if not -x.ndim <= self.channel_axis < x.ndim:
                raise ValueError(f"{self._label()}: channel_axis={self.channel_axis} is out of range for an "
                                 f"input of shape {x.shape}.")
            keep = {0, self.channel_axis % x.ndim}
        else:
            n = self.num_spatial + 1
            if x.ndim not in (n, n + 1):
                raise ValueError(f"{self._label()} expects inputs with {n} (unbatched) or {n + 1} (batched) "
                                 f"dimensions ({self.num_spatial} spatial and one channel axis), got shape "
                                 f"{x.shape}.")
            offset = x.ndim - n
            keep = {offset + self.channel_axis % n} | ({0} if offset else set())
        return tuple(s if i in keep else 1 for i, s in enumerate(x.shape))

    def update(self, x: Any) -> jax.Array:
        """`x` with dropped channels while `fit` is True; `x` unchanged otherwise.

        A `brainunit.Quantity` input keeps its unit (`FeatureAlphaDropout` takes plain inputs).

        Raises:
          ValueError: the input has the wrong number of dimensions.
        """
        m, unit = split(x)
        m = jnp.asarray(m)
        shape = self._mask_shape(m)
        if not _fitting(self._label()):
            return attach(m, unit)
        return attach(self._drop(m, shape), unit)

    def _drop(self, x: jax.Array, shape: Tuple[int, ...]) -> jax.Array:
        return _keep(x, self.prob, shape)


class Dropout1d(_ChannelDropout):
    """Channel dropout for sequences `(length, channels)` or `(batch, length, channels)`.

    Each channel of each sample is kept (scaled by `1 / prob`) or zeroed along its whole length.

    Args:
      prob: the probability of keeping a channel, in [0, 1].
      channel_axis: the channel axis within one sample.
      name: optional module name.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> with brainstate.environ.context(fit=True):
      ...     y = brainstate.nn.Dropout1d(0.5)(jnp.ones((2, 5, 4)))
      >>> bool((y == y[:, :1]).all())
      True
    """

    num_spatial = 1


class Dropout2d(_ChannelDropout):
    """Channel dropout for images `(height, width, channels)`, optionally with a batch axis first.

    Arguments as `Dropout1d`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> with brainstate.environ.context(fit=False):
      ...     print(brainstate.nn.Dropout2d(0.5)(jnp.ones((2, 2, 1))).ravel())
      [1. 1. 1. 1.]
    """

    num_spatial = 2


class Dropout3d(_ChannelDropout):
    """Channel dropout for volumes `(depth, height, width, channels)`, optionally with a batch axis.

    Arguments as `Dropout1d`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> with brainstate.environ.context(fit=False):
      ...     print(brainstate.nn.Dropout3d(0.5)(jnp.ones((1, 1, 2, 1))).ravel())
      [1. 1.]
    """

    num_spatial = 3


class AlphaDropout(ElementWiseBlock):
    """Alpha dropout for SELU networks: keeps zero mean and unit variance of standardised inputs.

    Dropped elements are set to SELU's negative saturation value `-alpha * scale`, and the result
    is mapped by `a * y + b` with `a, b` chosen from `prob` to restore the mean and variance.

    Args:
      prob: the probability of keeping an element, in [0, 1].
      name: optional module name.

    Raises:
      ValueError: `prob` outside [0, 1].

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> with brainstate.environ.context(fit=False):
      ...     print(brainstate.nn.AlphaDropout(0.2)(jnp.array([1.0, -1.0])))
      [ 1. -1.]
    """

    def __init__(self, prob: float = 0.5, name: Optional[str] = None) -> None:
        super().__init__(name=name)
        self.prob = _check_prob(self._label(), prob)
        if self.prob == 0.0:
            raise ValueError(f"{self._label()}: prob=0 keeps nothing, and alpha dropout cannot restore the "
                             f"variance of an all-dropped input; use a prob in (0, 1].")

    def update(self, x: Any) -> jax.Array:
        """Alpha-dropped `x` while `fit` is True; `x` unchanged otherwise."""
        x = jnp.asarray(x)
        if not _fitting(self._label()):
            return x
        return _alpha_keep(x, self.prob, x.shape)


class FeatureAlphaDropout(_ChannelDropout):
    """Alpha dropout of whole channels: one draw per (first-axis entry, channel).

    The mask is shared over every axis except the first (the batch axis) and `channel_axis`.

    Args:
      prob: the probability of keeping a channel, in (0, 1].
      channel_axis: the channel axis of the input.
      name: optional module name.

    Raises:
      ValueError: `prob` outside (0, 1].

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> with brainstate.environ.context(fit=False):
      ...     print(brainstate.nn.FeatureAlphaDropout(0.2)(jnp.array([[1.0, -1.0]])))
      [[ 1. -1.]]
    """

    def __init__(self, prob: float = 0.5, channel_axis: int = -1, name: Optional[str] = None) -> None:
        super().__init__(prob, channel_axis, name=name)
        if self.prob == 0.0:
            raise ValueError(f"{self._label()}: prob=0 keeps nothing, and alpha dropout cannot restore the "
                             f"variance of an all-dropped input; use a prob in (0, 1].")

    def update(self, x: Any) -> jax.Array:
        """Alpha-dropped channels of `x` while `fit` is True; `x` unchanged otherwise."""
        # a plain array: the saturation value has no unit (brainunit refuses a dimensioned input)
        return super().update(jnp.asarray(x))

    def _drop(self, x: jax.Array, shape: Tuple[int, ...]) -> jax.Array:
        return _alpha_keep(x, self.prob, shape)


class DropoutFixed(ElementWiseBlock):
    """Dropout with a mask drawn once by `init_state` and reused on every call (e.g. over time).

    Args:
      in_size: the shape of one sample.
      prob: the probability of keeping an element, in [0, 1].
      name: optional module name.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> layer = brainstate.nn.DropoutFixed(4, prob=0.5)
      >>> layer.init_state()
      >>> with brainstate.environ.context(fit=True):
      ...     bool((layer(jnp.ones(4)) == layer(jnp.ones(4))).all())
      True
    """

    def __init__(self, in_size: Any, prob: float = 0.5, name: Optional[str] = None) -> None:
        super().__init__(name=name)
        self.in_size = in_size
        # Checked now: the mask is drawn with this shape (None would give a scalar mask).
        self.out_size = self._fixed_size("in_size")
        self.prob = _check_prob(self._label(), prob)

    def init_state(self, batch_size: Optional[int] = None, **kwargs: Any) -> None:
        """Draw the mask: shape `in_size`, or `(batch_size, *in_size)`."""
        size = self._fixed_size("in_size")
        shape = size if batch_size is None else (int(batch_size),) + size
        self.mask = ShortTermState(random.bernoulli(self.prob, size=shape, check_valid=False))

    def reset_state(self, batch_size: Optional[int] = None, **kwargs: Any) -> None:
        """Keep the mask (it is fixed for the layer's lifetime; call `init_state` to redraw it)."""

    def update(self, x: Any) -> jax.Array:
        """`x` masked by the fixed mask (scaled by `1 / prob`) while `fit` is True; `x` otherwise.

        A `brainunit.Quantity` input keeps its unit.

        Raises:
          RuntimeError: called before `init_state`.
          ValueError: `x` does not end in `in_size`.
        """
        x, unit = split(x)
        x = jnp.asarray(x)
        if not _fitting(self._label()):
            return attach(x, unit)
        mask = getattr(self, "mask", None)
        if mask is None:
            raise RuntimeError(f"{self._label()} has no mask yet: call `layer.init_state()` (or "
                               f"`brainstate.nn.init_all_states(model)`) before calling it.")
        size = self._fixed_size("in_size")
        if x.shape[x.ndim - len(size):] != size or not _broadcasts(x.shape, mask.value.shape):
            raise ValueError(f"{self._label()} expects inputs of shape {size} (or a batch matching the "
                             f"mask of shape {mask.value.shape}), got shape {x.shape}.")
        if self.prob == 0.0:
            return attach(jnp.zeros_like(x), unit)
        return attach(jnp.where(mask.value, x / self.prob, jnp.zeros((), x.dtype)), unit)


def _broadcasts(a: Tuple[int, ...], b: Tuple[int, ...]) -> bool:
    try:
        np.broadcast_shapes(a, b)
    except ValueError:
        return False
    return True
