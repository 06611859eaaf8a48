"""`HookManager`: a thread-safe registry of hooks per event, plus the error policy that runs them.

Registration, removal and enabling happen under the manager's lock and end by rebuilding
`_active`, a dict from event to an immutable tuple of the enabled hooks in run order. Running hooks
only reads that tuple, so it takes no lock and a concurrent registration never disturbs a loop in
progress (it takes effect from the next event).

A manager is runtime-only: copying a state with `copy.deepcopy` or pickling it drops its hooks
(the copy starts with none) instead of copying locks and callbacks.
"""

import os
import sys
import threading
import warnings
import weakref
from typing import Any, Callable, Dict, List, Optional, Tuple

from ._hook_types import (HOOK_TYPES, Hook, HookConfig, HookContext, HookError, HookExecutionError,
                          HookHandle, HookRegistrationError, HookType, HookWarning, check_hook_type)

__all__ = ["HookManager"]

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _no_hooks():
    """What a pickled `HookManager` unpickles to: no hooks at all."""
    return None


class HookManager:
    """Holds the hooks of one owner (a single state, or the global registry).

    Args:
      config: the error policy for these hooks; defaults to `HookConfig()` (report and carry on).

    Raises:
      TypeError: if `config` is not a `HookConfig`.

    Example:
      >>> import brainstate
      >>> manager = brainstate.HookManager()
      >>> handle = manager.register_hook('read', lambda ctx: None, name='spy')
      >>> [h.name for h in manager.get_hooks('read')]
      ['spy']
      >>> handle.remove()
      True
    """

    __module__ = "brainstate"

    def __init__(self, config: Optional[HookConfig] = None):
        self.config = config if config is not None else HookConfig()
        self._lock = threading.RLock()
        self._hooks: Dict[str, List[Hook]] = {t: [] for t in HOOK_TYPES}
        self._active: Dict[str, Tuple[Hook, ...]] = {t: () for t in HOOK_TYPES}
        self._owner: Optional[weakref.ref] = None  # the State this manager belongs to, if any

    @property
    def config(self) -> HookConfig:
        return self._config

    @config.setter
    def config(self, config: HookConfig) -> None:
        if not isinstance(config, HookConfig):
            raise TypeError(
                f"HookManager config must be a HookConfig, got {type(config).__name__}. Build one "
                f"with brainstate.HookConfig(on_error=..., ...).")
        self._config = config

    # -- registration --------------------------------------------------------------------------
    def register_hook(self, hook_type: HookType, callback: Callable[[HookContext], Any],
                      priority: int = 0, name: Optional[str] = None,
                      enabled: bool = True) -> HookHandle:
        """Register `callback` for `hook_type` events and return a handle to it.

        Raises:
          HookRegistrationError: if `hook_type` is unknown or `callback` is not callable.
        """
        check_hook_type(hook_type)
        hook = Hook(callback, priority=priority, name=name, enabled=enabled)
        with self._lock:
            hook._owner = weakref.ref(self)
            self._hooks[hook_type].append(hook)
            self._changed()
        return HookHandle(weakref.ref(self), hook, hook_type)

    def unregister_hook(self, handle: HookHandle) -> bool:
        """Remove the hook behind `handle`. Returns False if it is not registered here.

        Raises:
          HookRegistrationError: if `handle` is not a `HookHandle`.
        """
        if not isinstance(handle, HookHandle):
            raise HookRegistrationError(
                f"unregister_hook expects the HookHandle returned by register_hook, got "
                f"{type(handle).__name__}.")
        with self._lock:
            hooks = self._hooks.get(handle.hook_type, [])
            if not any(h is handle.hook for h in hooks):
                return False
            hooks[:] = [h for h in hooks if h is not handle.hook]
            handle.hook._owner = None
            self._changed()
        return True

    def get_hooks(self, hook_type: Optional[HookType] = None) -> List[Hook]:
        """The registered hooks (enabled or not) in run order, of one event or of all events."""
        types = HOOK_TYPES if hook_type is None else (check_hook_type(hook_type),)
        with self._lock:
            return [h for t in types for h in sorted(self._hooks[t], key=_run_order)]

    def has_hooks(self, hook_type: Optional[HookType] = None) -> bool:
        """Whether any hook (enabled or not) is registered, for one event or for any."""
        types = HOOK_TYPES if hook_type is None else (check_hook_type(hook_type),)
        return any(self._hooks[t] for t in types)

    def clear_hooks(self, hook_type: Optional[HookType] = None) -> None:
        """Remove every hook of one event, or of all events."""
        types = HOOK_TYPES if hook_type is None else (check_hook_type(hook_type),)
        with self._lock:
            for t in types:
                for hook in self._hooks[t]:
                    hook._owner = None
                self._hooks[t] = []
            self._changed()

    def _changed(self) -> None:
        """Rebuild the run order after any change (called with or without the lock held)."""
        with self._lock:
            self._active = {
                t: tuple(sorted((h for h in hooks if h.enabled), key=_run_order))
                for t, hooks in self._hooks.items()}

    # -- running -------------------------------------------------------------------------------
    def _call(self, hook: Hook, hook_type: str, context: HookContext, state: Any) -> bool:
        """Run one hook under this manager's error policy. Returns whether it succeeded."""
        try:
            hook.execute(context)
        except HookError:
            raise  # cancellations and errors from nested hooks are not this hook's failures
        except Exception as exc:
            self._failed(hook, hook_type, context, state, exc)
            return False
        return True

    def _failed(self, hook: Hook, hook_type: str, context: HookContext, state: Any,
                exc: Exception, what: str = "failed") -> None:
        """Apply the error policy to a hook that raised `exc` (or misbehaved)."""
        config = self._config
        hook.error_count += 1
        message = (f"{hook_type} hook {hook.name!r} {what} on {_label(state)}: "
                   f"{type(exc).__name__}: {exc}.")
        disable = config.disable_on_error and hook.error_count >= config.max_errors_per_hook
        if disable:
            hook.enabled = False
            message += (f" It has failed {hook.error_count} times and is now disabled "
                        f"(HookConfig.disable_on_error); fix it and call its handle's enable().")
        if config.on_error == "raise":
            raise HookExecutionError(
                f"{message} Fix the hook, remove it with its handle's remove(), or use "
                f"HookConfig(on_error='log') or 'ignore' to keep going past failing hooks.") from exc
        if config.on_error == "ignore":
            return
        if config.error_logger is not None:
            config.error_logger(message, exc, hook, context)
        elif disable or hook.error_count < config.max_errors_per_hook:
            warnings.warn(message, HookWarning, stacklevel=_user_stacklevel())
        elif hook.error_count == config.max_errors_per_hook:
            warnings.warn(message + f" Further errors from this hook are not reported "
                          f"(HookConfig.max_errors_per_hook={config.max_errors_per_hook}).",
                          HookWarning, stacklevel=_user_stacklevel())

    # -- running this manager's hooks directly (the reference's entry points) -----------------
    def _target(self, state_ref: "weakref.ref", where: str) -> Any:
        state = state_ref() if callable(state_ref) else None
        if state is None:
            raise ReferenceError(f"HookManager.{where}: state_ref must be a live weak reference to a State "
                                 f"(`weakref.ref(state)`), got {state_ref!r}.")
        return state

    def _own(self, hook_type: str) -> list:
        hooks = self._active[hook_type]
        return [(self, hooks)] if hooks else []

    def execute_read_hooks(self, value: Any, state_ref: "weakref.ref") -> None:
        """Run this manager's ``read`` hooks for the state `state_ref` points to, reading `value`.

        Raises:
          ReferenceError: `state_ref` is not a live weak reference.
        """
        from . import _hooks

        _hooks.run_read(self._target(state_ref, "execute_read_hooks"), value, groups=self._own("read"))

    def execute_write_before_hooks(self, new_value: Any, old_value: Any, state_ref: "weakref.ref") -> Any:
        """Run this manager's ``write_before`` hooks; return the value to write (as transformed
        by the hooks, in run order).

        Raises:
          HookCancellationError: a hook cancelled the write.
          ReferenceError: `state_ref` is not a live weak reference.

        Example:
          >>> import weakref, brainstate, jax.numpy as jnp
          >>> s = brainstate.State(jnp.zeros(2))
          >>> manager = brainstate.HookManager()
          >>> def clip(ctx):
          ...     ctx.transformed_value = jnp.clip(ctx.value, 0, 1)
          >>> _ = manager.register_hook("write_before", clip)
          >>> manager.execute_write_before_hooks(jnp.array([-1., 5.]), s.value, weakref.ref(s)).tolist()
          [0.0, 1.0]
        """
        from . import _hooks

        state = self._target(state_ref, "execute_write_before_hooks")
        return _hooks.run_write_before(state, new_value, old_value, groups=self._own("write_before"))

    def execute_write_after_hooks(self, new_value: Any, old_value: Any, state_ref: "weakref.ref") -> None:
        """Run this manager's ``write_after`` hooks: the state now holds `new_value`, not `old_value`.

        Raises:
          ReferenceError: `state_ref` is not a live weak reference.
        """
        from . import _hooks

        state = self._target(state_ref, "execute_write_after_hooks")
        _hooks.run_write_after(state, new_value, old_value, groups=self._own("write_after"))

    def execute_restore_hooks(self, new_value: Any, old_value: Any, state_ref: "weakref.ref") -> None:
        """Run this manager's ``restore`` hooks: `restore_value(new_value)` replaced `old_value`.

        Raises:
          ReferenceError: `state_ref` is not a live weak reference.
        """
        from . import _hooks

        state = self._target(state_ref, "execute_restore_hooks")
        _hooks.run_restore(state, new_value, old_value, groups=self._own("restore"))

    def execute_init_hooks(self, value: Any, state_ref: "weakref.ref",
                           init_metadata: Optional[Dict[str, Any]] = None) -> None:
        """Run this manager's ``init`` hooks for a state created with `value` and `init_metadata`.

        Raises:
          ReferenceError: `state_ref` is not a live weak reference.
        """
        from . import _hooks

        state = self._target(state_ref, "execute_init_hooks")
        _hooks.run_init(state, value, dict(init_metadata or {}), groups=self._own("init"))

    # -- hooks are runtime-only ----------------------------------------------------------------
    def __deepcopy__(self, memo):
        return None

    def __reduce__(self):
        return _no_hooks, ()

    def __repr__(self) -> str:
        counts = ", ".join(f"{t}={len(h)}" for t, h in self._hooks.items() if h)
        return f"{type(self).__name__}({counts or 'no hooks'})"


def _run_order(hook: Hook):
    return -hook.priority, hook._serial


def _user_stacklevel() -> int:
    """The `warnings` stacklevel of the first caller outside the brainstate package."""
    frame: Any = sys._getframe(1)
    level = 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame, level = frame.f_back, level + 1
    return level


def _label(state: Any) -> str:
    label = getattr(state, "_label", None)
    return label() if callable(label) else repr(state)
