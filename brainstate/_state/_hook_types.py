"""The vocabulary of state hooks: events, contexts, configuration, hooks, handles and errors.

A hook is a callback that runs when a `State` is read, written, restored or created. It receives a
context object describing the event; the context type depends on the event:

- ``read``: `ReadHookContext` (``value``);
- ``write_before``: `MutableWriteHookContext` (``value``, ``old_value``, ``transformed_value``,
  ``cancel``, ``cancel_reason``): the hook may replace or refuse the write;
- ``write_after``: `WriteHookContext` (``value``, ``old_value``);
- ``restore``: `RestoreHookContext` (``value``, ``old_value``);
- ``init``: `InitHookContext` (``value``, ``init_metadata``); global hooks only, since a state has
  no hooks of its own before it exists.

Invariants:
- a `Hook` belongs to at most one `HookManager` (its owner); flipping `Hook.enabled` tells the owner,
  so the owner's cached run order and the global `ACTIVE` flag never go stale;
- a context holds only a weak reference to its state, so a hook that keeps its context alive does
  not keep the state alive.
"""

import dataclasses
import itertools
import time
import weakref
from typing import Any, Callable, Dict, Literal, Optional

from .._errors import BrainStateError

__all__ = [
    "HOOK_TYPES", "HookError", "HookRegistrationError", "HookExecutionError",
    "HookCancellationError", "HookWarning", "HookConfig", "HookContext", "ReadHookContext",
    "WriteHookContext", "MutableWriteHookContext", "RestoreHookContext", "InitHookContext", "Hook",
    "HookHandle", "check_hook_type",
]

HookType = Literal["read", "write_before", "write_after", "restore", "init"]
HOOK_TYPES = ("read", "write_before", "write_after", "restore", "init")
_ON_ERROR = ("raise", "log", "ignore")


# -- errors --------------------------------------------------------------------------------------
class HookError(BrainStateError):
    """Base class of every hook-related error."""

    __module__ = "brainstate"


class HookRegistrationError(HookError):
    """A hook could not be registered, looked up or re-enabled (bad type, callback or handle)."""

    __module__ = "brainstate"


class HookExecutionError(HookError):
    """A hook raised while `HookConfig.on_error` is ``'raise'``; the original error is its cause."""

    __module__ = "brainstate"


class HookCancellationError(HookError):
    """A ``write_before`` hook cancelled a write; the state keeps its old value."""

    __module__ = "brainstate"


class HookWarning(UserWarning):
    """Reports a failing hook when `HookConfig.on_error` is ``'log'`` and no logger is set."""

    __module__ = "brainstate"


def check_hook_type(hook_type: Any) -> str:
    """Return `hook_type` if it names a hook event, else raise `HookRegistrationError`."""
    if hook_type not in HOOK_TYPES:
        raise HookRegistrationError(
            f"Unknown hook type {hook_type!r}. Valid hook types are: "
            f"{', '.join(repr(t) for t in HOOK_TYPES)}.")
    return hook_type


# -- configuration -------------------------------------------------------------------------------
@dataclasses.dataclass
class HookConfig:
    """How a `HookManager` reacts when one of its hooks raises.

    Args:
      on_error: ``'raise'`` wraps the error in `HookExecutionError` and propagates it (the state
        operation is aborted); ``'log'`` reports it and carries on; ``'ignore'`` carries on silently.
      error_logger: called as ``error_logger(message, exception, hook, context)`` instead of
        emitting a `HookWarning` when `on_error` is ``'log'``.
      max_errors_per_hook: with `disable_on_error`, a hook is disabled once it has failed this many
        times. Without it, a hook's failures stop being reported as warnings after this many.
      disable_on_error: disable a hook after `max_errors_per_hook` failures.

    Raises:
      ValueError: if `on_error` or `max_errors_per_hook` is invalid.
    """

    __module__ = "brainstate"

    on_error: Literal["raise", "log", "ignore"] = "log"
    error_logger: Optional[Callable[[str, Exception, "Hook", "HookContext"], None]] = None
    max_errors_per_hook: int = 10
    disable_on_error: bool = False

    def __post_init__(self):
        if self.on_error not in _ON_ERROR:
            raise ValueError(
                f"HookConfig(on_error={self.on_error!r}) is not a valid error policy; use one of "
                f"{', '.join(repr(p) for p in _ON_ERROR)}.")
        if (isinstance(self.max_errors_per_hook, bool) or not isinstance(self.max_errors_per_hook, int)
                or self.max_errors_per_hook < 1):
            raise ValueError(
                f"HookConfig(max_errors_per_hook={self.max_errors_per_hook!r}) must be a positive "
                f"integer.")
        if self.error_logger is not None and not callable(self.error_logger):
            raise ValueError(
                f"HookConfig(error_logger=...) must be callable as logger(message, exception, hook, "
                f"context), got {type(self.error_logger).__name__}.")


# -- contexts ------------------------------------------------------------------------------------
@dataclasses.dataclass
class HookContext:
    """What every hook receives: the event, a weak reference to the state, a time and a scratch dict.

    `metadata` starts empty and is shared by every hook that runs for the same event, so an early
    hook can leave notes for a later one.

    Inside a state-aware transform, hooks run while the function is traced, once per trace, not
    once per compiled call; `value` is then a JAX tracer.
    """

    __module__ = "brainstate"

    operation: HookType
    state_ref: "weakref.ref"
    timestamp: float = dataclasses.field(default_factory=time.time)
    metadata: Dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def state(self):
        """The state the event happened on (None if it has since been garbage collected)."""
        return self.state_ref()

    @property
    def state_name(self) -> Optional[str]:
        """The state's name, or None if it has none or is gone."""
        state = self.state_ref()
        return None if state is None else state.name


@dataclasses.dataclass
class ReadHookContext(HookContext):
    """Context of a ``read`` hook: `value` is the value being read."""

    __module__ = "brainstate"

    value: Any = None


@dataclasses.dataclass
class WriteHookContext(HookContext):
    """Context of a ``write_after`` hook: `value` was written over `old_value`."""

    __module__ = "brainstate"

    value: Any = None
    old_value: Any = None


@dataclasses.dataclass
class MutableWriteHookContext(WriteHookContext):
    """Context of a ``write_before`` hook, which may change or veto the write.

    Set `transformed_value` to write a different value instead (it must keep the state's tree
    structure, shapes and dtypes); later hooks then see it as `value`. Set `cancel` to True (and
    optionally `cancel_reason`) to refuse the write: the state raises `HookCancellationError` and
    keeps its old value.
    """

    __module__ = "brainstate"

    transformed_value: Optional[Any] = None
    cancel: bool = False
    cancel_reason: Optional[str] = None


@dataclasses.dataclass
class RestoreHookContext(WriteHookContext):
    """Context of a ``restore`` hook: `restore_value(value)` replaced `old_value`."""

    __module__ = "brainstate"


@dataclasses.dataclass
class InitHookContext(HookContext):
    """Context of an ``init`` hook: a state was created with `value` and keyword `init_metadata`."""

    __module__ = "brainstate"

    value: Any = None
    init_metadata: Dict[str, Any] = dataclasses.field(default_factory=dict)


# -- hooks and handles ---------------------------------------------------------------------------
_serial = itertools.count()


class Hook:
    """A callback with a priority, a name and an on/off switch.

    Hooks of one event run in descending `priority`; equal priorities run in registration order.

    Args:
      callback: called with the event's context; its return value is ignored.
      priority: higher runs first.
      name: used in error messages; defaults to the callback's name.
      enabled: a disabled hook is kept but skipped.

    Raises:
      HookRegistrationError: if `callback` is not callable, `priority` is not an int or `name` is
        not a string.
    """

    __module__ = "brainstate"

    def __init__(self, callback: Callable[[HookContext], Any], priority: int = 0,
                 name: Optional[str] = None, enabled: bool = True):
        if not callable(callback):
            raise HookRegistrationError(
                f"A hook callback must be callable as callback(context), got "
                f"{type(callback).__name__} {callback!r}.")
        if isinstance(priority, bool) or not isinstance(priority, int):
            raise HookRegistrationError(
                f"Hook priority must be an int (higher runs first), got {priority!r}.")
        if name is not None and not isinstance(name, str):
            raise HookRegistrationError(f"Hook name must be a string or None, got {name!r}.")
        self.callback = callback
        self.priority = priority
        self.name = name if name is not None else getattr(callback, "__name__", type(callback).__name__)
        self.error_count = 0
        self._enabled = bool(enabled)
        self._serial = next(_serial)  # ties in priority run in registration order
        self._owner: Optional[weakref.ref] = None  # the HookManager it is registered in

    @property
    def enabled(self) -> bool:
        """Whether the hook runs; setting it updates its manager's run order at once."""
        return self._enabled

    @enabled.setter
    def enabled(self, value: bool) -> None:
        self._enabled = bool(value)
        owner = self._owner() if self._owner is not None else None
        if owner is not None:
            owner._changed()

    def execute(self, context: HookContext) -> Any:
        """Call the callback with `context` (errors propagate; managers apply their policy)."""
        return self.callback(context)

    def __repr__(self) -> str:
        state = "enabled" if self._enabled else "disabled"
        return f"Hook(name={self.name!r}, priority={self.priority}, {state})"


class HookHandle:
    """What registering a hook returns: remove, enable or disable that hook later.

    Args:
      manager_ref: weak reference to the `HookManager` holding the hook.
      hook: the registered hook.
      hook_type: the event it listens to.
    """

    __module__ = "brainstate"

    def __init__(self, manager_ref: "weakref.ref", hook: Hook, hook_type: str):
        self.manager_ref = manager_ref
        self.hook = hook
        self.hook_type = hook_type

    @property
    def name(self) -> str:
        return self.hook.name

    @property
    def priority(self) -> int:
        return self.hook.priority

    def remove(self) -> bool:
        """Unregister the hook. Returns False if it was already removed."""
        manager = self.manager_ref()
        return manager is not None and manager.unregister_hook(self)

    def enable(self) -> None:
        """Turn the hook back on.

        Raises:
          HookRegistrationError: if the hook was removed.
        """
        if self.is_removed():
            raise HookRegistrationError(
                f"Cannot enable {self.hook_type} hook {self.hook.name!r}: it was removed. Register "
                f"the callback again to get a new handle.")
        self.hook.enabled = True

    def disable(self) -> None:
        """Turn the hook off without removing it (a no-op once removed)."""
        self.hook.enabled = False

    def is_removed(self) -> bool:
        """Whether the hook is no longer registered."""
        owner = self.hook._owner
        return owner is None or owner() is None or owner() is not self.manager_ref()

    def is_enabled(self) -> bool:
        """Whether the hook's switch is on (it may still have been removed)."""
        return self.hook.enabled

    def is_active(self) -> bool:
        """Whether the hook is registered and enabled, so it will run."""
        return self.hook.enabled and not self.is_removed()

    def __repr__(self) -> str:
        status = "removed" if self.is_removed() else ("enabled" if self.hook.enabled else "disabled")
        return f"HookHandle({self.hook_type!r}, name={self.hook.name!r}, priority={self.hook.priority}, {status})"
