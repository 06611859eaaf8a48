"""`RandomState`: a random stream that is an ordinary `State` holding a JAX key.

The value is raw key data (`uint32[2]` under JAX's default threefry PRNG, what
`jax.random.PRNGKey` returns), so the state is an ordinary array state. Every draw splits the
key, writes the advanced key back through the normal `state.value = ...` write and samples from
the other half. State-aware transforms therefore thread a random stream like any other state:
a jitted draw reads the key as an input and returns the advanced key as an output.

Invariants:
- a draw advances the stream exactly once, and only after its arguments were accepted;
- a draw given an explicit `key=` samples from that key and leaves the stream untouched;
- the stored key keeps its shape and dtype, except between `self_assign_multi_keys` and
  `restore_key`, which change it on purpose (one key per vmap lane).
"""

import functools
import threading
from typing import Any, Optional, Tuple

import jax
import numpy as np

from .._state import State
from ._checks import SeedOrKey, as_positive_int, is_key_data, key_shape, to_key_data
from ._continuous import ContinuousDraws
from ._continuous_shape import ShapeDraws
from ._discrete import DiscreteDraws
from ._multivariate import MultivariateDraws
from ._population import PopulationDraws

__all__ = ["RandomState"]

# Two threads drawing from one stream must not read the same key before either writes it back.
_SPLIT_LOCK = threading.RLock()


@functools.partial(jax.jit, static_argnums=1)
def _split(key: jax.Array, n: Optional[int]) -> Tuple[jax.Array, jax.Array]:
    """(advanced key, one fresh key or `n` of them), in one dispatch when called eagerly."""
    keys = jax.random.split(key, 2 if n is None else n + 1)
    return keys[0], (keys[1] if n is None else keys[1:])


class RandomState(State, ContinuousDraws, ShapeDraws, DiscreteDraws, MultivariateDraws,
                  PopulationDraws):
    """A stream of random numbers whose key is a `State`.

    Args:
      seed_or_key: an integer seed, a JAX key (`jax.random.key(seed)`) or raw key data
        (`jax.random.PRNGKey(seed)`). None derives a fresh independent key from the default
        stream `brainstate.random.DEFAULT`, so it is reproducible after `brainstate.random.seed`.

    Every NumPy-style draw (`normal`, `uniform`, `randint`, `choice`, ...) is a method; the
    module-level functions of `brainstate.random` are the same methods of `DEFAULT`.

    Example:
      >>> import brainstate
      >>> rng = brainstate.random.RandomState(42)
      >>> a = rng.normal(size=3)
      >>> b = rng.normal(size=3)  # the key advanced: different numbers
      >>> bool((a != b).all())
      True
      >>> rng.seed(42)
      >>> bool((rng.normal(size=3) == a).all())
      True
    """

    __module__ = "brainstate.random"
    _backup = None  # key saved for `restore_key`; a class default so rebuilt snapshots have it

    def __init__(self, seed_or_key: Optional[SeedOrKey] = None):
        if seed_or_key is None:
            from ._default import DEFAULT

            key = DEFAULT.split_key()
        elif isinstance(seed_or_key, np.ndarray) and is_key_data(seed_or_key):
            key = seed_or_key  # kept as NumPy so building a stream at import touches no device
        else:
            key = to_key_data(seed_or_key)
        super().__init__(key)

    # -- setting and reading the key -----------------------------------------------------------
    def seed(self, seed_or_key: Optional[SeedOrKey] = None) -> None:
        """Restart the stream from a seed or key; None draws a fresh seed from the OS."""
        if seed_or_key is None:
            seed_or_key = int(np.random.SeedSequence().generate_state(1)[0])
        self.set_key(seed_or_key)

    def set_key(self, key: SeedOrKey) -> None:
        """Replace the key (an integer seed, a JAX key or raw key data)."""
        self.value = to_key_data(key, "key")

    def backup_key(self) -> None:
        """Remember the current key so `restore_key` can return to it."""
        self._backup = self.value

    def restore_key(self) -> None:
        """Return to the key saved by `backup_key`, `split_key(backup=True)` or
        `self_assign_multi_keys`.

        Raises:
          ValueError: nothing was saved.
        """
        if self._backup is None:
            raise ValueError(
                f"restore_key: {self._label()} has no saved key. Save one first with "
                f"`backup_key()`, `split_key(backup=True)` or `self_assign_multi_keys(n)`.")
        backup, self._backup = self._backup, None
        self.restore_value(backup)

    # -- advancing the stream ------------------------------------------------------------------
    def split_key(self, n: Optional[int] = None, backup: bool = False) -> jax.Array:
        """Advance the stream and return a fresh key (`n=None`) or `n` fresh keys.

        Args:
          n: None for one key of shape `(2,)`, or a positive count for keys of shape `(n, 2)`.
          backup: save the key from before the split for a later `restore_key()`.
        """
        if n is not None:
            n = as_positive_int("split_key", "n", n)
        with _SPLIT_LOCK:
            current = self.value
            self._check_single_key(current)
            advanced, fresh = _split(current, n)
            if backup:
                self._backup = current
            self.value = advanced
        return fresh

    def split_keys(self, n: int, backup: bool = False) -> jax.Array:
        """`n` fresh keys, shape `(n, 2)`; the stream advances once."""
        return self.split_key(as_positive_int("split_keys", "n", n), backup=backup)

    def self_assign_multi_keys(self, n: int, backup: bool = True) -> None:
        """Replace the single key by `n` independent keys (one per vmap lane).

        The state's shape changes to `(n, 2)`; `restore_key()` (with `backup=True`) returns to
        the original single key.
        """
        n = as_positive_int("self_assign_multi_keys", "n", n)
        with _SPLIT_LOCK:
            current = self.value
            self._check_single_key(current)
            if backup:
                self._backup = current
            self.restore_value(jax.random.split(current, n))

    def clone(self) -> "RandomState":
        """A new, independent stream seeded from this one (this stream advances once)."""
        return type(self)(self.split_key())

    def _next_key(self, key: Optional[SeedOrKey] = None) -> jax.Array:
        """The key a draw samples from: `key` itself if given, else a fresh split of the stream."""
        if key is not None:
            return to_key_data(key, "key")
        return self.split_key()

    def _check_single_key(self, current: Any) -> None:
        if tuple(np.shape(current)) != key_shape():
            raise ValueError(
                f"{self._label()} holds keys of shape {tuple(np.shape(current))}, not one key: "
                f"it was given one key per lane with `self_assign_multi_keys`. Draw from it "
                f"inside a `brainstate.transform.vmap` over its keys, or call `restore_key()`.")
