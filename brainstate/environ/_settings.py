"""Global settings (`dt`, `precision`, `fit`, ...) with thread-local temporary overrides.

`set` changes the process-wide settings; `context(**kw)` overrides them on the calling thread
until the block ends. `get` reports every read to the active state traces: a compiled function
that read `dt` while tracing is keyed on that value, so calling it under another `dt` retraces
instead of reusing the old constant.
"""

import contextlib
import dataclasses
import os
import re
import threading
from typing import Any, Callable, Dict, Hashable, List, Optional

import jax
import jax.numpy as jnp
import numpy as np

from .._state._trace import environ_read

__all__ = [
    "DT", "I", "T", "FIT", "PRECISION", "PLATFORM", "HOST_DEVICE_COUNT", "JIT_ERROR_CHECK",
    "DEFAULT_PRECISION", "SUPPORTED_PLATFORMS", "SUPPORTED_PRECISIONS", "EnvironmentState",
    "set", "get", "all", "pop", "reset", "context", "get_dt", "get_precision", "set_precision",
    "dftype", "ditype", "dutype", "dctype", "tolerance", "get_platform", "set_platform",
    "get_host_device_count", "set_host_device_count", "register_default_behavior",
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
    """A settings store: process-wide `settings`, per-thread context overrides, behaviours."""

    settings: Dict[Hashable, Any] = dataclasses.field(default_factory=lambda: {PRECISION: DEFAULT_PRECISION})
    functions: Dict[Hashable, Callable] = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        self._local = threading.local()
        self.lock = threading.RLock()

    @property
    def contexts(self) -> List[dict]:
        try:
            return self._local.contexts
        except AttributeError:
            self._local.contexts = []
            return self._local.contexts


_DEFAULT = EnvironmentState()


def lookup(key: str, env: Optional[EnvironmentState] = None) -> Any:
    """The current value of `key`, or `MISSING`; not recorded by traces (for cache checks)."""
    env = env or _DEFAULT
    for ctx in reversed(env.contexts):
        if key in ctx:
            return ctx[key]
    return env.settings.get(key, MISSING)


def get(key: str, default: Any = MISSING, desc: Optional[str] = None, *, env: Optional[EnvironmentState] = None) -> Any:
    """The current value of setting `key`.

    Raises:
      KeyError: if `key` is unset and no `default` was given.
    """
    value = lookup(key, env)
    environ_read(key, value)
    if value is MISSING:
        if default is not MISSING:
            return default
        extra = f" ({desc})" if desc else ""
        raise KeyError(
            f"Setting {key!r}{extra} is not set. Set it globally with "
            f"`brainstate.environ.set({key}=value)` or for a block with "
            f"`with brainstate.environ.context({key}=value): ...`.")
    return value


def all(*, env: Optional[EnvironmentState] = None) -> Dict[Hashable, Any]:
    """Every current setting (context overrides applied)."""
    env = env or _DEFAULT
    merged = dict(env.settings)
    for ctx in env.contexts:
        merged.update(ctx)
    for key, value in merged.items():
        environ_read(key, value)
    return merged


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
    """Change settings process-wide (see `context` for a temporary change)."""
    env = env or _DEFAULT
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
    """Remove a process-wide setting and return its value."""
    env = env or _DEFAULT
    with env.lock:
        if key in env.settings:
            return env.settings.pop(key)
    if default is not MISSING:
        return default
    raise KeyError(f"Setting {key!r} is not set, so it cannot be popped. Pass a default to `pop`.")


def reset(*, env: Optional[EnvironmentState] = None) -> None:
    """Back to the defaults (precision 32, nothing else set)."""
    env = env or _DEFAULT
    with env.lock:
        env.settings.clear()
        env.settings[PRECISION] = DEFAULT_PRECISION
    jax.config.update("jax_enable_x64", False)


@contextlib.contextmanager
def context(*, env: Optional[EnvironmentState] = None, **kwargs):
    """Override settings on this thread for the duration of the block.

    `precision=64` also turns on JAX's 64-bit mode inside the block only.

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
        for key in kwargs:
            if key in env.functions:
                value = lookup(key, env)
                if value is not MISSING:
                    env.functions[key](value)


def get_dt(*, env: Optional[EnvironmentState] = None):
    """The integration time step `dt` (KeyError if unset)."""
    return get(DT, env=env)


def get_precision(*, env: Optional[EnvironmentState] = None):
    """The numerical precision: 8, 16, 32, 64 or 'bf16'."""
    return get(PRECISION, DEFAULT_PRECISION, env=env)


def set_precision(precision, *, env: Optional[EnvironmentState] = None) -> None:
    """Set the default precision process-wide; 64 turns on JAX's 64-bit mode."""
    set(precision=precision, env=env)


def dftype(*, env: Optional[EnvironmentState] = None):
    """The default float dtype for the current precision."""
    p = get_precision(env=env)
    return {64: np.float64, 32: np.float32, 16: np.float16, 8: np.float16, "bf16": jnp.bfloat16}[p]


def ditype(*, env: Optional[EnvironmentState] = None):
    """The default signed integer dtype for the current precision."""
    p = get_precision(env=env)
    return {64: np.int64, 32: np.int32, 16: np.int16, 8: np.int8, "bf16": np.int16}[p]


def dutype(*, env: Optional[EnvironmentState] = None):
    """The default unsigned integer dtype for the current precision."""
    p = get_precision(env=env)
    return {64: np.uint64, 32: np.uint32, 16: np.uint16, 8: np.uint8, "bf16": np.uint16}[p]


def dctype(*, env: Optional[EnvironmentState] = None):
    """The default complex dtype for the current precision."""
    return np.complex128 if get_precision(env=env) == 64 else np.complex64


def tolerance(*, env: Optional[EnvironmentState] = None) -> np.ndarray:
    """A comparison tolerance suited to the current precision."""
    p = get_precision(env=env)
    return np.array({64: 1e-12, 32: 1e-5}.get(p, 1e-2), dtype=dftype(env=env))


def get_platform() -> str:
    """The default JAX backend platform ('cpu', 'gpu' or 'tpu')."""
    return jax.default_backend()


def set_platform(platform: str) -> None:
    """Choose the JAX platform; only effective before JAX initialises its backends."""
    _check(PLATFORM, platform)
    jax.config.update("jax_platforms", platform)
    _DEFAULT.settings[PLATFORM] = platform


def get_host_device_count() -> int:
    """The number of host (CPU) devices requested through XLA_FLAGS."""
    m = re.search(r"--xla_force_host_platform_device_count=(\d+)", os.environ.get("XLA_FLAGS", ""))
    return int(m.group(1)) if m else 1


def set_host_device_count(n: int) -> None:
    """Ask XLA for `n` host devices; only effective before JAX initialises its backends."""
    flags = re.sub(r"--xla_force_host_platform_device_count=\d+\s*", "", os.environ.get("XLA_FLAGS", ""))
    os.environ["XLA_FLAGS"] = f"{flags} --xla_force_host_platform_device_count={int(n)}".strip()
    _DEFAULT.settings[HOST_DEVICE_COUNT] = int(n)


def register_default_behavior(key: str, behavior: Callable[[Any], None], replace_if_exist: bool = False, *,
                              env: Optional[EnvironmentState] = None) -> None:
    """Call `behavior(value)` whenever `key` is set or overridden."""
    env = env or _DEFAULT
    if not callable(behavior):
        raise TypeError(f"behavior for {key!r} must be callable, got {behavior!r}.")
    if key in env.functions and not replace_if_exist:
        raise ValueError(f"A behavior for {key!r} is already registered; pass replace_if_exist=True to replace it.")
    env.functions[key] = behavior


def unregister_default_behavior(key: str, *, env: Optional[EnvironmentState] = None) -> bool:
    """Remove the behavior for `key`; True if one was registered."""
    env = env or _DEFAULT
    return env.functions.pop(key, None) is not None


def list_registered_behaviors(*, env: Optional[EnvironmentState] = None) -> List[Hashable]:
    """The keys that have a registered behavior."""
    return list((env or _DEFAULT).functions)
