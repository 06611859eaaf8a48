"""`RandomState`: a random stream that is an ordinary `State` holding a JAX key.

The value is a typed JAX key (`jax.random.key(seed)`: dtype `key<fry>`, shape `()`), as current
JAX and the reference make them; raw key data (`uint32[2]`, what `jax.random.PRNGKey` returns)
is accepted wherever a key is taken (also `rng.value = key_data`) and wrapped bit for bit.
Every draw splits the key, writes the advanced key back through the normal `state.value = ...`
write and samples from the other half. State-aware transforms therefore thread a random stream
like any other state: a jitted draw reads the key as an input and returns the advanced key as an
output.

Invariants:
- a draw advances the stream exactly once, and only after its arguments were accepted;
- a draw given an explicit `key=` samples from that key and leaves the stream untouched;
- the stored key keeps its shape and dtype, except where it is replaced on purpose:
  `self_assign_multi_keys` / `restore_key` (one key per vmap lane and back), `set_key` with an
  array of keys, and `seed`, which always returns the stream to one key;
- a key saved for `restore_key` is never a tracer: saving one inside a compiled function raises.
"""

import functools
import threading
from typing import Any, Optional, Tuple

import jax
import numpy as np

from .._errors import TraceContextError
from .._state import State
from ._checks import SeedOrKey, as_positive_int, has_tracer, is_key_data, to_key
from ._continuous import ContinuousDraws
from ._continuous_families import ContinuousFamilyDraws
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


class RandomState(State, ContinuousDraws, ContinuousFamilyDraws, ShapeDraws, DiscreteDraws,
                  MultivariateDraws, PopulationDraws):
    """A stream of random numbers whose key is a `State`.

    Args:
      seed_or_key: an integer seed, a JAX key (`jax.random.key(seed)`), an array of JAX keys
        (one per vmap lane) or raw key data (`jax.random.PRNGKey(seed)`). None derives a fresh independent key from the default
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
        else:
            key = to_key(seed_or_key, batch=True)
        super().__init__(key)

    # -- setting and reading the key -----------------------------------------------------------
    def seed(self, seed_or_key: Optional[SeedOrKey] = None) -> None:
        """Restart the stream from a seed or one key.

        The stream holds one key afterwards, whatever it held before (also one key per lane,
        after `self_assign_multi_keys` or `set_key` with an array of keys).

        Args:
          seed_or_key: an integer seed, a JAX key or raw key data; None draws a fresh seed from the OS.

        Raises:
          TypeError: if `seed_or_key` is not an integer, a key or key data.

        Example:
          >>> import brainstate
          >>> rng = brainstate.random.RandomState(0)
          >>> a = rng.rand(2)
          >>> rng.seed(0)
          >>> bool((rng.rand(2) == a).all())
          True
        """
        if seed_or_key is None:
            seed_or_key = int(np.random.SeedSequence().generate_state(1)[0])
        self._replace_key(to_key(seed_or_key))

    def set_key(self, key: SeedOrKey) -> None:
        """Replace the key.

        Args:
          key: an integer seed, a JAX key, an array of JAX keys (one per vmap lane) or raw key data.

        Raises:
          TypeError: if `key` is none of these.

        Example:
          >>> import brainstate, jax
          >>> rng = brainstate.random.RandomState(0)
          >>> rng.set_key(jax.random.split(jax.random.key(1), 4))  # one key per lane
          >>> rng.value.shape
          (4,)
          >>> rng.seed(1)  # back to a single key
          >>> rng.value.shape
          ()
        """
        self._replace_key(to_key(key, "key", batch=True))

    def _write(self, value: Any, restore: bool = False) -> None:
        """Every write (`rng.value = ...`, `restore_value`): raw key data becomes a typed key first,
        as `__init__`, `set_key` and `seed` do, so `rng.value = jax.random.PRNGKey(1)` works."""
        if is_key_data(value):
            value = to_key(value, "value")
        super()._write(value, restore)

    def _replace_key(self, key: jax.Array) -> None:
        """Store `key`: an ordinary write when its shape matches, a deliberate reshape otherwise."""
        current = self.value
        if np.shape(current) == np.shape(key) and current.dtype == key.dtype:
            self.value = key
        else:
            self.restore_value(key)

    def backup_key(self) -> None:
        """Remember the current key so `restore_key` can return to it.

        Raises:
          TraceContextError: if called inside a compiled function (the key there is a tracer,
            useless once the trace ends); back up and restore outside it.

        Example:
          >>> import brainstate
          >>> rng = brainstate.random.RandomState(0)
          >>> rng.backup_key()
          >>> a = rng.rand(2)
          >>> rng.restore_key()
          >>> bool((rng.rand(2) == a).all())  # the same numbers again
          True
        """
        current = self.value
        self._refuse_traced_backup("backup_key()", current)
        self._backup = current

    def restore_key(self) -> None:
        """Return to the key saved by `backup_key`, `split_key(backup=True)` or `self_assign_multi_keys`.

        The saved key is used once: a second `restore_key()` needs a new backup.

        Raises:
          ValueError: nothing was saved.

        Example:
          >>> import brainstate
          >>> rng = brainstate.random.RandomState(0)
          >>> rng.self_assign_multi_keys(3)
          >>> rng.restore_key()
          >>> rng.value.shape
          ()
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
          n: None for one key (shape `()`), or a positive count for `n` keys (shape `(n,)`).
          backup: save the key from before the split for a later `restore_key()`.

        Returns:
          A typed JAX key, or an array of `n` of them.

        Raises:
          ValueError: if `n` is not a positive integer, or the stream holds one key per lane.
          TraceContextError: `backup=True` inside a compiled function (see `backup_key`).

        Example:
          >>> import brainstate
          >>> rng = brainstate.random.RandomState(0)
          >>> rng.split_key().shape, rng.split_key(3).shape
          ((), (3,))
        """
        if n is not None:
            n = as_positive_int("split_key", "n", n)
        with _SPLIT_LOCK:
            current = self.value
            self._check_single_key(current)
            if backup:
                self._refuse_traced_backup("split_key(backup=True)", current)
            advanced, fresh = _split(current, n)
            self.value = advanced
            if backup:
                self._backup = current
        return fresh

    def split_keys(self, n: int, backup: bool = False) -> jax.Array:
        """`n` fresh keys; the stream advances once.

        Args:
          n: the number of keys, a positive int.
          backup: save the key from before the split for a later `restore_key()`.

        Returns:
          An array of `n` typed keys, shape `(n,)`.

        Example:
          >>> import brainstate
          >>> brainstate.random.RandomState(0).split_keys(4).shape
          (4,)
        """
        return self.split_key(as_positive_int("split_keys", "n", n), backup=backup)

    def self_assign_multi_keys(self, n: int, backup: bool = True) -> None:
        """Replace the single key by `n` independent keys (one per vmap lane).

        The state's shape changes to `(n,)`; `restore_key()` (with `backup=True`) returns to the
        original single key.

        Args:
          n: the number of keys, a positive int.
          backup: save the single key for `restore_key()`.

        Raises:
          ValueError: if `n` is not a positive integer, or the stream already holds several keys.
          TraceContextError: `backup=True` inside a compiled function (see `backup_key`).

        Example:
          >>> import brainstate
          >>> rng = brainstate.random.RandomState(0)
          >>> rng.self_assign_multi_keys(4)
          >>> rng.value.shape
          (4,)
        """
        n = as_positive_int("self_assign_multi_keys", "n", n)
        with _SPLIT_LOCK:
            current = self.value
            self._check_single_key(current)
            if backup:
                self._refuse_traced_backup("self_assign_multi_keys(backup=True)", current)
            self.restore_value(jax.random.split(current, n))
            if backup:
                self._backup = current

    def clone(self) -> "RandomState":
        """A new, independent stream seeded from this one (this stream advances once).

        Returns:
          A new `RandomState` of the same class.

        Example:
          >>> import brainstate
          >>> rng = brainstate.random.RandomState(0)
          >>> twin = rng.clone()
          >>> twin is rng, type(twin).__name__
          (False, 'RandomState')
        """
        return type(self)(self.split_key())

    def _next_key(self, key: Optional[SeedOrKey] = None) -> jax.Array:
        """The key a draw samples from: `key` itself if given, else a fresh split of the stream."""
        if key is not None:
            return to_key(key, "key")
        return self.split_key()

    def _refuse_traced_backup(self, call: str, key: jax.Array) -> None:
        """A key saved inside a compiled function is a tracer: once the trace ends, `restore_key()`
        would put that dead tracer into the stream and every later draw would fail."""
        if has_tracer(key):
            raise TraceContextError(
                f"{call} on {self._label()} was called inside a compiled (traced) function, where "
                f"the key is a JAX tracer; saved there, it would be invalid once the trace ends and "
                f"`restore_key()` would leave the stream unusable. Call `{call}` (and "
                f"`restore_key()`) outside the compiled function.")

    def _check_single_key(self, current: Any) -> None:
        if np.shape(current) != ():
            raise ValueError(
                f"{self._label()} holds keys of shape {tuple(np.shape(current))}, not one key: "
                f"it was given one key per lane with `self_assign_multi_keys`. Draw from it "
                f"inside a `brainstate.transform.vmap` over its keys, or call `restore_key()`.")
