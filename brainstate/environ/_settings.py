"""Global settings (`dt`, `precision`, `fit`, ...) with thread-local temporary overrides.

`set` changes the process-wide settings; `context(**kw)` overrides them on the calling thread
until the block ends. `get` reports every read to the active state traces: a compiled function
that read `dt` while tracing is keyed on that value, so calling it under another `dt` retraces
instead of reusing the old constant.
"""

import contextlib
import dataclasses
import threading
from typing import Any, Callable, Dict, Hashable, List, Optional

import jax
import numpy as np

from .._state._trace import _local as _trace_local, environ_read

__all__ = [
    "DT", "I", "T", "FIT", "PRECISION", "PLATFORM", "HOST_DEVICE_COUNT", "JIT_ERROR_CHECK",
    "DEFAULT_PRECISION", "SUPPORTED_PLATFORMS", "SUPPORTED_PRECISIONS", "EnvironmentState",
    "set", "get", "all", "pop", "reset", "context", "get_dt", "register_default_behavior",
    "unregister_default_behavior", "list_registered_behaviors", "lookup",
]

DT = "dt"
I = "i"
T = "t"
FIT = "fit"
PRECISION = "precision"
PLATFORM = "platform"
HOST_DEVICE_COUNT = "host_device_count"
JIT_ERROR_CHECK = "jit_error_check"
DEFAULT_PRECISION = 32
SUPPORTED_PLATFORMS = ("cpu", "gpu", "tpu")
SUPPORTED_PRECISIONS = (8, 16, 32, 64, "bf16")

MISSING = object()
_set = set
_all = all


@dataclasses.dataclass
class EnvironmentState:
    """A settings store: process-wide `settings`, per-thread context overrides, behaviours.

    Every function of `brainstate.environ` works on the process-wide store unless given another
    one with `env=`, which keeps a program's (or a test's) settings apart.

    Args:
      settings: the process-wide settings (default: precision 32).
      functions: the behaviours, `{key: callable}` (see `register_default_behavior`).

    Example:
      >>> from brainstate import environ
      >>> store = environ.EnvironmentState()
      >>> environ.set(dt=0.25, env=store)
      >>> environ.get_dt(env=store), environ.get('dt', None)
      (0.25, None)
    """

    settings: Dict[Hashable, Any] = dataclasses.field(default_factory=lambda: {PRECISION: DEFAULT_PRECISION})
    functions: Dict[Hashable, Callable] = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        self._local = threading.local()
        self.lock = threading.RLock()

    def _thread_lists(self) -> tuple:
        local = self._local
        try:
            return local.contexts, local.depths
        except AttributeError:
            local.contexts, local.depths = [], []
            return local.contexts, local.depths

    @property
    def contexts(self) -> List[dict]:
        """This thread's context overrides, innermost last."""
        return self._thread_lists()[0]

    @property
    def context_depths(self) -> List[int]:
        """For each of `contexts`, how many state traces were open on this thread when it began."""
        return self._thread_lists()[1]


_DEFAULT = EnvironmentState()


def lookup(key: str, env: Optional[EnvironmentState] = None) -> Any:
    """The current value of `key`, or `MISSING`; not recorded by traces (for cache checks)."""
    env = env or _DEFAULT
    for ctx in reversed(env.contexts):
        if key in ctx:
            return ctx[key]
    return env.settings.get(key, MISSING)


def read(key: str, env: Optional[EnvironmentState] = None) -> Any:
    """`lookup(key)`, recorded in the active traces that did not set the value themselves.

    A value from a context that began inside a trace (`with environ.context(fit=True):` in the
    traced function) is the function's own doing, not something it depends on: only the traces
    opened inside that context record it.
    """
    env = env or _DEFAULT
    contexts = env.contexts
    for i in range(len(contexts) - 1, -1, -1):
        if key in contexts[i]:
            value = contexts[i][key]
            environ_read(key, value, env.context_depths[i])
            return value
    value = env.settings.get(key, MISSING)
    environ_read(key, value)
    return value


def get(key: str, default: Any = MISSING, desc: Optional[str] = None, *, env: Optional[EnvironmentState] = None) -> Any:
    """The current value of setting `key`.

    Context overrides (innermost first) win over the process-wide value. A read while a
    state-aware transformation traces is recorded, so the compiled program is keyed on the value.

    Args:
      key: the setting's name, e.g. `'dt'`, `'fit'`, `'precision'`.
      default: returned when `key` is unset; without it an unset key is an error.
      desc: a description of the setting, added to the error message.
      env: the settings store to use; default the process-wide one.

    Returns:
      The setting's value.

    Raises:
      KeyError: if `key` is unset and no `default` was given (the message says how to set it).

    Example:
      >>> from brainstate import environ
      >>> with environ.context(fit=True):
      ...     environ.get('fit')
      True
      >>> environ.get('temperature', 'unset')
      'unset'
    """
    value = read(key, env)
    if value is MISSING:
        if default is not MISSING:
            return default
        extra = f" ({desc})" if desc else ""
        raise KeyError(
            f"Setting {key!r}{extra} is not set. Set it globally with "
            f"`brainstate.environ.set({key}=value)` or for a block with "
            f"`with brainstate.environ.context({key}=value): ...`.")
    return value


class Settings(dict):
    """The settings `all()` returns and `context()` yields: a plain dict of the current values,
    except that reading it records what was read in the active traces, as `get` does. A compiled
    function that reads `dt` from it is keyed on `dt`; one that never looks at it (the common
    `with environ.context(i=i):` around a model step) is keyed on nothing more."""

    def __init__(self, values: dict, env: "EnvironmentState"):
        super().__init__(values)
        self._env = env

    def __getitem__(self, key):
        value = self.get(key, MISSING)
        if value is MISSING:
            raise KeyError(key)
        return value

    def get(self, key, default=None):
        read(key, self._env)  # records it (present or not) where `get` would
        value = dict.get(self, key, MISSING)
        return default if value is MISSING else value

    def __contains__(self, key) -> bool:
        read(key, self._env)
        return dict.__contains__(self, key)

    def _read_all(self) -> None:
        for key in dict.keys(self):
            read(key, self._env)

    def __iter__(self):
        self._read_all()
        return dict.__iter__(self)

    def keys(self):
        self._read_all()
        return dict.keys(self)

    def values(self):
        self._read_all()
        return dict.values(self)

    def items(self):
        self._read_all()
        return dict.items(self)

    def copy(self) -> dict:
        self._read_all()
        return dict(dict.items(self))

    def __reduce__(self):
        """Pickled and copied (`copy.deepcopy`) as the plain dict of the values."""
        return dict, (self.copy(),)


def all(*, env: Optional[EnvironmentState] = None) -> Dict[Hashable, Any]:
    """Every current setting, with the context overrides applied.

    Args:
      env: the settings store to use; default the process-wide one.

    Returns:
      A new dict from setting names to values (a `Settings`: inside a transform, the keys it
      reads, present or not, are recorded like `get`'s).

    Example:
      >>> from brainstate import environ
      >>> with environ.context(dt=0.1):
      ...     environ.all()['dt']
      0.1
    """
    env = env or _DEFAULT
    merged = dict(env.settings)
    for ctx in env.contexts:
        merged.update(ctx)
    return Settings(merged, env)


def _check(key, value):
    if key == PRECISION and value not in SUPPORTED_PRECISIONS:
        raise ValueError(f"precision must be one of {SUPPORTED_PRECISIONS}, got {value!r}.")
    if key == PLATFORM and value not in SUPPORTED_PLATFORMS:
        raise ValueError(f"platform must be one of {SUPPORTED_PLATFORMS}, got {value!r}.")
    if key == DT:
        if not isinstance(value, (int, float)) and not hasattr(value, "unit") and np.ndim(value) != 0:
            raise ValueError(f"dt must be a scalar time step, got {value!r}.")


def set(platform: Optional[str] = None, host_device_count: Optional[int] = None,
        precision=None, dt: Optional[float] = None, *, env: Optional[EnvironmentState] = None, **kwargs) -> None:
    """Change settings process-wide (see `context` for a temporary change).

    Args:
      platform: the JAX platform (`'cpu'`, `'gpu'`, `'tpu'`), only effective before JAX starts.
      host_device_count: the number of host devices XLA should create, only effective before JAX
        starts.
      precision: 8, 16, 32, 64 or `'bf16'`; 64 turns on JAX's 64-bit mode.
      dt: the integration time step.
      env: the settings store to use; default the process-wide one.
      **kwargs: any other settings, by name.

    Raises:
      ValueError: for an unsupported precision or platform, or a `dt` that is not a scalar.

    Example:
      >>> from brainstate import environ
      >>> store = environ.EnvironmentState()
      >>> environ.set(dt=0.1, fit=True, env=store)
      >>> sorted(environ.all(env=store))
      ['dt', 'fit', 'precision']
    """
    env = env or _DEFAULT
    # Imported here: _platform builds on this module's store and checks.
    from ._platform import set_host_device_count, set_platform

    if platform is not None:
        set_platform(platform)
    if host_device_count is not None:
        set_host_device_count(host_device_count)
    if precision is not None:
        kwargs[PRECISION] = precision
    if dt is not None:
        kwargs[DT] = dt
    for key, value in kwargs.items():
        _check(key, value)
    with env.lock:
        env.settings.update(kwargs)
    if PRECISION in kwargs:
        jax.config.update("jax_enable_x64", kwargs[PRECISION] == 64)
    for key, value in kwargs.items():
        if key in env.functions:
            env.functions[key](value)


def pop(key: str, default: Any = MISSING, *, env: Optional[EnvironmentState] = None) -> Any:
    """Remove a process-wide setting and return its value.

    Args:
      key: the setting's name.
      default: returned when `key` is unset; without it an unset key is an error.
      env: the settings store to use; default the process-wide one.

    Returns:
      The removed value (or `default`).

    Raises:
      KeyError: if `key` is unset and no `default` was given.

    Example:
      >>> from brainstate import environ
      >>> store = environ.EnvironmentState()
      >>> environ.set(dt=0.1, env=store)
      >>> environ.pop('dt', env=store), environ.pop('dt', None, env=store)
      (0.1, None)
    """
    env = env or _DEFAULT
    with env.lock:
        if key in env.settings:
            return env.settings.pop(key)
    if default is not MISSING:
        return default
    raise KeyError(f"Setting {key!r} is not set, so it cannot be popped. Pass a default to `pop`.")


def reset(*, env: Optional[EnvironmentState] = None) -> None:
    """Back to the defaults (precision 32, nothing else set).

    Args:
      env: the settings store to use; default the process-wide one.

    Example:
      >>> from brainstate import environ
      >>> store = environ.EnvironmentState()
      >>> environ.set(dt=0.1, env=store)
      >>> environ.reset(env=store)
      >>> environ.all(env=store)
      {'precision': 32}
    """
    env = env or _DEFAULT
    with env.lock:
        env.settings.clear()
        env.settings[PRECISION] = DEFAULT_PRECISION
    jax.config.update("jax_enable_x64", False)


@contextlib.contextmanager
def context(*, env: Optional[EnvironmentState] = None, **kwargs):
    """Override settings on this thread for the duration of the block.

    `precision=64` also turns on JAX's 64-bit mode inside the block only. Contexts nest; the
    settings are restored when the block ends, also on an exception.

    Args:
      env: the settings store to use; default the process-wide one.
      **kwargs: the settings to override, by name (not `platform` or `host_device_count`, which
        can only be set globally).

    Returns:
      A context manager yielding every current setting (as `all()`).

    Raises:
      ValueError: for `platform` or `host_device_count`, an unsupported precision, or a `dt` that
        is not a scalar.

    Example:
      >>> import brainstate
      >>> with brainstate.environ.context(dt=0.5):
      ...     brainstate.environ.get_dt()
      0.5
    """
    env = env or _DEFAULT
    for key, value in kwargs.items():
        if key in (PLATFORM, HOST_DEVICE_COUNT):
            raise ValueError(f"{key!r} can only be set globally with brainstate.environ.set, before JAX starts.")
        _check(key, value)
    env.contexts.append(dict(kwargs))
    env.context_depths.append(len(_trace_local.stack))
    try:
        with contextlib.ExitStack() as stack:
            if PRECISION in kwargs:
                stack.enter_context(jax.enable_x64(kwargs[PRECISION] == 64))
            for key, value in kwargs.items():
                if key in env.functions:
                    env.functions[key](value)
            yield all(env=env)
    finally:
        env.contexts.pop()
        env.context_depths.pop()
        for key in kwargs:
            if key in env.functions:
                value = lookup(key, env)
                if value is not MISSING:
                    env.functions[key](value)


def get_dt(*, env: Optional[EnvironmentState] = None):
    """The integration time step `dt`.

    Args:
      env: the settings store to use; default the process-wide one.

    Returns:
      The current `dt` (a number, or a `brainunit` quantity).

    Raises:
      KeyError: if `dt` is not set.

    Example:
      >>> import brainstate
      >>> with brainstate.environ.context(dt=0.1):
      ...     brainstate.environ.get_dt()
      0.1
    """
    return get(DT, env=env)


def register_default_behavior(key: str, behavior: Callable[[Any], None], replace_if_exist: bool = False, *,
                              env: Optional[EnvironmentState] = None) -> None:
    """Call `behavior(value)` whenever `key` is set or overridden.

    The behaviour runs on `set(key=...)`, on entering a `context` that overrides `key`, and on
    leaving it (with the value that applies again).

    Args:
      key: the setting's name.
      behavior: a function of the new value.
      replace_if_exist: replace a behaviour already registered for `key` instead of raising.
      env: the settings store to use; default the process-wide one.

    Raises:
      TypeError: if `behavior` is not callable.
      ValueError: if `key` already has a behaviour and `replace_if_exist` is False.

    Example:
      >>> from brainstate import environ
      >>> store, seen = environ.EnvironmentState(), []
      >>> environ.register_default_behavior('mode', seen.append, env=store)
      >>> with environ.context(mode='eval', env=store):
      ...     pass
      >>> seen
      ['eval']
    """
    env = env or _DEFAULT
    if not callable(behavior):
        raise TypeError(f"behavior for {key!r} must be callable, got {behavior!r}.")
    if key in env.functions and not replace_if_exist:
        raise ValueError(f"A behavior for {key!r} is already registered; pass replace_if_exist=True to replace it.")
    env.functions[key] = behavior


def unregister_default_behavior(key: str, *, env: Optional[EnvironmentState] = None) -> bool:
    """Remove the behaviour registered for `key`.

    Args:
      key: the setting's name.
      env: the settings store to use; default the process-wide one.

    Returns:
      True if a behaviour was registered (and is now removed), False otherwise.

    Example:
      >>> from brainstate import environ
      >>> store = environ.EnvironmentState()
      >>> environ.register_default_behavior('mode', print, env=store)
      >>> environ.unregister_default_behavior('mode', env=store), environ.unregister_default_behavior('mode', env=store)
      (True, False)
    """
    env = env or _DEFAULT
    return env.functions.pop(key, None) is not None


def list_registered_behaviors(*, env: Optional[EnvironmentState] = None) -> List[Hashable]:
    """The keys that have a registered behaviour.

    Args:
      env: the settings store to use; default the process-wide one.

    Returns:
      A list of setting names.

    Example:
      >>> from brainstate import environ
      >>> store = environ.EnvironmentState()
      >>> environ.register_default_behavior('mode', print, env=store)
      >>> environ.list_registered_behaviors(env=store)
      ['mode']
    """
    return list((env or _DEFAULT).functions)
