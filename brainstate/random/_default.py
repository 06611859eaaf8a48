"""The default stream `DEFAULT` and the module-level functions that draw from it.

`DEFAULT` is seeded with 0 when brainstate is imported, never from the clock, so a program
that never calls `seed` still gives the same numbers on every run. Its key is a typed JAX key,
as in the reference; building it at import starts JAX's default backend, so settings that must
precede that (`environ.set_host_device_count`, `jax.distributed.initialize`) go before
`import brainstate`, as with the reference.

Every NumPy-style function here (`brainstate.random.normal`, ...) is the `RandomState` method of
the same name called on `DEFAULT`; `on_default` makes that twin with the method's signature and
docstring, so the two cannot drift apart.
"""

import contextlib
import inspect
from typing import Callable, Concatenate, Iterator, Optional, ParamSpec, Sequence, TypeVar

import jax
import numpy as np

from ._checks import SeedOrKey, to_key
from ._rng_state import RandomState

__all__ = [
    "DEFAULT", "seed", "seed_context", "set_key", "get_key", "get_key_data", "split_key",
    "split_keys", "self_assign_multi_keys", "restore_key", "default_rng", "clone_rng",
    "on_default",
]

P = ParamSpec("P")
R = TypeVar("R")


DEFAULT: RandomState = RandomState(0)
DEFAULT.name = "brainstate.random.DEFAULT"
DEFAULT._source = __file__  # created while importing: name this module, not importlib, in errors


def on_default(method: Callable[Concatenate[RandomState, P], R],
               order: Optional[Sequence[str]] = None) -> Callable[P, R]:
    """The module-level twin of a `RandomState` method: the same call on `DEFAULT`.

    `order`: the twin's parameters where they differ from the method's (the reference's module
    `randint` takes `key` before `dtype`, its method `dtype` first; its module `*_like`
    functions take `dtype` and `key` by keyword only). The twin then passes them by name.
    """
    name = method.__name__
    sig = inspect.signature(method)
    params = list(sig.parameters.values())[1:]
    if order is None:
        def draw(*args, **kwargs):
            return getattr(DEFAULT, name)(*args, **kwargs)
    else:
        by_name = {p.name: p for p in params}
        params = []
        for spec in order:
            keyword_only = spec.startswith("*")
            p = by_name[spec.lstrip("*")]
            params.append(p.replace(kind=inspect.Parameter.KEYWORD_ONLY) if keyword_only else p)
        twin = sig.replace(parameters=params)

        def draw(*args, **kwargs):
            return getattr(DEFAULT, name)(**twin.bind(*args, **kwargs).arguments)

    draw.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
    draw.__name__ = draw.__qualname__ = name
    draw.__doc__ = method.__doc__
    draw.__module__ = "brainstate.random"
    return draw


def seed(seed_or_key: Optional[SeedOrKey] = None) -> None:
    """Restart the default stream (and NumPy's global generator) from a seed.

    Args:
      seed_or_key: an integer seed, a JAX key or raw key data. None draws a fresh seed from the
        operating system (a run that is not reproducible, as in NumPy).

    The default stream holds one key afterwards, whatever it held before (`set_key` with an
    array of keys or `self_assign_multi_keys` give it one key per lane).

    NumPy's global generator is seeded too (with the seed modulo 2**32, or the key's last word),
    so code mixing `numpy.random` and `brainstate.random` is reproducible from one call.

    Raises:
      TypeError: if `seed_or_key` is not an integer, a key or key data.

    Example:
      >>> import brainstate
      >>> brainstate.random.seed(42)
      >>> a = brainstate.random.rand(3)
      >>> brainstate.random.seed(42)
      >>> bool((brainstate.random.rand(3) == a).all())
      True
    """
    if seed_or_key is None:
        seed_or_key = int(np.random.SeedSequence().generate_state(1)[0])
    key = to_key(seed_or_key)  # validate before changing anything
    DEFAULT.seed(key)
    if isinstance(seed_or_key, (int, np.integer)):
        np.random.seed(int(seed_or_key) % 2 ** 32)
    elif not isinstance(key, jax.core.Tracer):
        np.random.seed(int(np.asarray(jax.random.key_data(key)).ravel()[-1]))


@contextlib.contextmanager
def seed_context(seed_or_key: SeedOrKey) -> Iterator[None]:
    """Seed the default stream for a block, then put the previous key (and NumPy state) back.

    Args:
      seed_or_key: an integer seed, a JAX key or raw key data, as for `seed`.

    Returns:
      A context manager; the block's draws are reproducible and the rest of the program's stream is
      not disturbed.

    Example:
      >>> import brainstate
      >>> before = brainstate.random.get_key()
      >>> with brainstate.random.seed_context(1):
      ...     x = brainstate.random.rand(2)
      >>> bool((brainstate.random.get_key() == before).all())
      True
    """
    old_key = DEFAULT.value
    old_np = np.random.get_state()
    seed(seed_or_key)
    try:
        yield
    finally:
        DEFAULT.restore_value(old_key)
        np.random.set_state(old_np)


def set_key(seed_or_key: SeedOrKey) -> None:
    """Replace the default stream's key.

    Args:
      seed_or_key: an integer seed, a JAX key, an array of JAX keys (one per vmap lane) or raw key
        data. `seed()` returns the stream to a single key.

    Raises:
      TypeError: if `seed_or_key` is none of these.

    Example:
      >>> import brainstate, jax
      >>> brainstate.random.set_key(jax.random.key(3))
      >>> bool(brainstate.random.get_key() == jax.random.key(3))
      True
    """
    DEFAULT.set_key(seed_or_key)


def get_key() -> jax.Array:
    """The default stream's current key.

    Returns:
      A typed JAX key (`key<fry>`, shape `()`), or an array of keys after `set_key` /
      `self_assign_multi_keys` gave the stream one key per lane.

    Example:
      >>> import brainstate
      >>> brainstate.random.seed(0)
      >>> k = brainstate.random.get_key()
      >>> k.shape, str(k.dtype)
      ((), 'key<fry>')
    """
    return DEFAULT.value


def get_key_data() -> jax.Array:
    """The default stream's current key as raw key data.

    Returns:
      The key's data, a `uint32` array (`uint32[2]` under the default threefry implementation).

    Example:
      >>> import brainstate
      >>> brainstate.random.seed(0)
      >>> brainstate.random.get_key_data().tolist()
      [0, 0]
    """
    return jax.random.key_data(DEFAULT.value)


def split_key(n: Optional[int] = None, backup: bool = False) -> jax.Array:
    """A fresh key from the default stream; the stream advances.

    Args:
      n: None for one key, or the number of keys to return.
      backup: save the stream's key first, for `restore_key()`.

    Returns:
      A typed JAX key, or `n` keys of shape `(n,)`.

    Example:
      >>> import brainstate, jax
      >>> w = jax.random.normal(brainstate.random.split_key(), (3, 4))
      >>> brainstate.random.split_key(5).shape
      (5,)
    """
    return DEFAULT.split_key(n, backup=backup)


def split_keys(n: int, backup: bool = False) -> jax.Array:
    """`n` fresh keys from the default stream; the stream advances once.

    Args:
      n: the number of keys (a positive int).
      backup: save the stream's key first, for `restore_key()`.

    Returns:
      An array of `n` typed keys, shape `(n,)`.

    Example:
      >>> import brainstate
      >>> brainstate.random.split_keys(3).shape
      (3,)
    """
    return DEFAULT.split_keys(n, backup=backup)


def self_assign_multi_keys(n: int, backup: bool = True) -> None:
    """Give the default stream `n` keys (one per vmap lane); `restore_key()` undoes it.

    Args:
      n: the number of keys (lanes).
      backup: save the current key first, so that `restore_key()` can put it back.

    Example:
      >>> import brainstate
      >>> brainstate.random.seed(0)
      >>> brainstate.random.self_assign_multi_keys(4)
      >>> brainstate.random.get_key().shape
      (4,)
      >>> brainstate.random.restore_key()
      >>> brainstate.random.get_key().shape
      ()
    """
    DEFAULT.self_assign_multi_keys(n, backup=backup)


def restore_key() -> None:
    """Put back the default key saved by `split_key(backup=True)` or `self_assign_multi_keys`.

    Raises:
      ValueError: if no key was saved.

    Example:
      >>> import brainstate
      >>> brainstate.random.seed(0)
      >>> before = brainstate.random.get_key()
      >>> _ = brainstate.random.split_key(backup=True)
      >>> brainstate.random.restore_key()
      >>> bool(brainstate.random.get_key() == before)
      True
    """
    DEFAULT.restore_key()


def default_rng(seed_or_key: Optional[SeedOrKey] = None) -> RandomState:
    """The default stream itself, or a new stream from `seed_or_key`.

    Without an argument this is `brainstate.random.DEFAULT`, as in the reference release (draws
    from it advance the global stream, and `brainstate.random.seed` makes them reproducible);
    libraries hold it as "the user's random stream". For an independent stream pass a seed or a
    key, or use `clone_rng()`.

    Args:
      seed_or_key: None for the default stream; an integer seed, a JAX key or raw key data for a
        new `RandomState`.

    Returns:
      A `RandomState`.

    Example:
      >>> import brainstate
      >>> brainstate.random.default_rng() is brainstate.random.DEFAULT
      True
      >>> rng = brainstate.random.default_rng(0)
      >>> rng.uniform(size=2).shape
      (2,)
    """
    if seed_or_key is None:
        return DEFAULT
    return RandomState(seed_or_key)


def clone_rng(seed_or_key: Optional[SeedOrKey] = None, clone: bool = True) -> RandomState:
    """A stream for independent use.

    Args:
      seed_or_key: seed or key of a new stream. If None, the result comes from the default
        stream: with `clone=True` an independent stream split off it (the default stream
        advances once), with `clone=False` the default stream itself.
      clone: see `seed_or_key`.

    Returns:
      A `RandomState`: new, or `DEFAULT` itself for `clone_rng(clone=False)`.

    Example:
      >>> import brainstate
      >>> brainstate.random.clone_rng(clone=False) is brainstate.random.DEFAULT
      True
      >>> brainstate.random.clone_rng(7).normal(size=2).shape
      (2,)
    """
    if seed_or_key is None:
        return DEFAULT.clone() if clone else DEFAULT
    return RandomState(seed_or_key)
