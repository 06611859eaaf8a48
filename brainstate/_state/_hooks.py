"""State hooks: the global registry, and the entry points `State` calls on reads and writes.

`State` calls in only when `ACTIVE or state._hooks is not None`, so with no hooks anywhere a read
or write costs one module-attribute check and one attribute check. `ACTIVE` is True exactly while
the global registry holds at least one enabled hook; the registry recomputes it on every change
(registration, removal, enabling, disabling, automatic disabling after errors).

For each event, global hooks run first, then the state's own; within each group, higher priority
first, ties in registration order. All hooks of one event share one context object. Each group
applies its own manager's `HookConfig` to failures.

An event does not re-trigger itself: while the hooks of (state, event) run on a thread, the same
event on the same state runs no hooks, so a ``read`` hook may read `ctx.state.value` without
recursing forever. Other events, and other states, still run theirs.

Hooks see eager reads and writes and, inside state-aware transforms, reads and writes made while
tracing: they run once per trace with tracers as values, not once per call of the compiled
function. The compiled per-call path moves values without going through `State.value`.
"""

import threading
import weakref
from typing import Any, Callable, List, Optional

from .._errors import BrainStateError
from ._hook_manager import HookManager
from ._hook_mixin import StateHookMixin, own_manager
from ._hook_types import (HOOK_TYPES, Hook, HookCancellationError, HookConfig, HookContext,
                          HookError, HookExecutionError, HookHandle, HookRegistrationError,
                          HookType, HookWarning, InitHookContext, MutableWriteHookContext,
                          ReadHookContext, RestoreHookContext, WriteHookContext)
from ._signature import checked_value

__all__ = [
    "ACTIVE", "run_read", "run_write_before", "run_write_after", "run_init", "run_restore",
    "GlobalHookRegistry", "register_state_hook", "unregister_state_hook", "clear_state_hooks",
    "has_state_hooks", "list_state_hooks", "StateHookMixin", "HookManager", "Hook", "HookHandle",
    "HookConfig", "HookContext", "ReadHookContext", "WriteHookContext", "MutableWriteHookContext",
    "RestoreHookContext", "InitHookContext", "HookError", "HookRegistrationError",
    "HookExecutionError", "HookCancellationError", "HookWarning", "HOOK_TYPES",
]

ACTIVE = False


class GlobalHookRegistry(HookManager):
    """The single registry of hooks that run for every state.

    Constructing it returns the one shared instance (passing `config` replaces its config). Use the
    module-level functions (`register_state_hook`, ...) for everyday work, and
    `GlobalHookRegistry.instance().config = HookConfig(...)` to change the global error policy.
    """

    __module__ = "brainstate"
    _instance: Optional["GlobalHookRegistry"] = None
    _instance_lock = threading.Lock()

    def __new__(cls, config: Optional[HookConfig] = None):
        with cls._instance_lock:
            if cls._instance is None:
                instance = super().__new__(cls)
                HookManager.__init__(instance, config)
                cls._instance = instance
            elif config is not None:
                cls._instance.config = config
            return cls._instance

    def __init__(self, config: Optional[HookConfig] = None):
        pass  # set up once, in __new__

    @classmethod
    def instance(cls) -> "GlobalHookRegistry":
        """The shared registry."""
        return cls()

    @classmethod
    def reset(cls) -> None:
        """Remove every global hook and restore the default `HookConfig`."""
        registry = cls()
        registry.clear_hooks()
        registry.config = HookConfig()

    def _changed(self) -> None:
        global ACTIVE
        with self._lock:
            super()._changed()
            ACTIVE = any(self._active.values())

    def __deepcopy__(self, memo):
        return self

    def __reduce__(self):
        return GlobalHookRegistry.instance, ()


_GLOBAL = GlobalHookRegistry.instance()


# -- the global registry's public functions -------------------------------------------------------
def register_state_hook(hook_type: HookType, callback: Callable[[HookContext], Any],
                        priority: int = 0, name: Optional[str] = None,
                        enabled: bool = True) -> HookHandle:
    """Run `callback(context)` on every `hook_type` event of every state.

    Global hooks run before per-state hooks (`State.register_hook`). Inside state-aware transforms
    they run while tracing, once per trace, with tracers as values.

    Args:
      hook_type: ``'read'``, ``'write_before'``, ``'write_after'``, ``'restore'`` or ``'init'``.
      callback: receives the event's context (see `HookContext` and its subclasses).
      priority: higher runs first.
      name: used in error messages; defaults to the callback's name.
      enabled: register it switched off if False.

    Returns:
      A `HookHandle`; `handle.remove()` unregisters the hook.

    Raises:
      HookRegistrationError: if `hook_type` is unknown or `callback` is not callable.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> created = []
      >>> handle = brainstate.register_state_hook('init', lambda ctx: created.append(ctx.state_name))
      >>> _ = brainstate.State(jnp.zeros(2), name='w')
      >>> created
      ['w']
      >>> handle.remove()
      True
    """
    return _GLOBAL.register_hook(hook_type, callback, priority=priority, name=name, enabled=enabled)


def unregister_state_hook(handle: HookHandle) -> bool:
    """Remove a global hook. Returns False if `handle` is not a registered global hook.

    Raises:
      HookRegistrationError: if `handle` is not a `HookHandle`.
    """
    return _GLOBAL.unregister_hook(handle)


def clear_state_hooks(hook_type: Optional[HookType] = None) -> None:
    """Remove every global hook of one event, or of all events."""
    _GLOBAL.clear_hooks(hook_type)


def has_state_hooks(hook_type: Optional[HookType] = None) -> bool:
    """Whether any global hook (enabled or not) is registered, for one event or for any."""
    return _GLOBAL.has_hooks(hook_type)


def list_state_hooks(hook_type: Optional[HookType] = None) -> List[Hook]:
    """The global hooks (enabled or not) in run order, of one event or of all events."""
    return _GLOBAL.get_hooks(hook_type)


# -- entry points called by State ------------------------------------------------------------------
_running = threading.local()


def _groups(state: Any, hook_type: str) -> list:
    """[(manager, hooks), ...] to run for this event, global first; empty if nothing would run."""
    groups: list = []
    if ACTIVE:
        hooks = _GLOBAL._active[hook_type]
        if hooks:
            groups.append((_GLOBAL, hooks))
    manager = own_manager(state)
    if manager is not None:
        hooks = manager._active[hook_type]
        if hooks:
            groups.append((manager, hooks))
    return groups


def _run(state: Any, hook_type: str, make_context: Callable, after_each: Optional[Callable] = None,
         groups: Optional[list] = None):
    """Run every hook of `hook_type` for `state` (or those of `groups` only, when given: what
    `HookManager.execute_*_hooks` runs); returns the context (None if no hook ran)."""
    if groups is None:
        groups = _groups(state, hook_type)
    if not groups:
        return None
    busy = getattr(_running, "keys", None)
    if busy is None:
        busy = _running.keys = set()
    key = (id(state), hook_type)
    if key in busy:
        return None
    busy.add(key)
    try:
        context = make_context(weakref.ref(state))
        for manager, hooks in groups:
            for hook in hooks:
                ok = manager._call(hook, hook_type, context, state)
                if after_each is not None:
                    after_each(manager, hook, context, ok)
        return context
    finally:
        busy.discard(key)


def run_read(state: Any, value: Any, groups: Optional[list] = None) -> None:
    """Run the ``read`` hooks of `state`, which is returning `value`."""
    _run(state, "read", lambda ref: ReadHookContext("read", ref, value=value), groups=groups)


def run_write_before(state: Any, value: Any, old: Any, groups: Optional[list] = None) -> Any:
    """Run the ``write_before`` hooks of `state`; return the value to write.

    Raises:
      HookCancellationError: if a hook set `context.cancel`; the state has not been changed.
    """

    current = [value]  # what will be written; only `transformed_value` (checked) changes it

    def after_each(manager, hook, context, ok):
        if not ok:  # a failed hook's half-made decisions are dropped
            context.cancel, context.transformed_value = False, None
        if context.cancel:
            reason = context.cancel_reason or "no reason given"
            raise HookCancellationError(
                f"Write to {state._label()} was cancelled by write_before hook {hook.name!r}: "
                f"{reason}. The state keeps its old value; disable or remove the hook to allow "
                f"the write.")
        if context.transformed_value is not None:
            new, context.transformed_value = context.transformed_value, None
            try:
                current[0], _ = checked_value(state, new)
            except (ValueError, TypeError, BrainStateError) as exc:
                manager._failed(hook, "write_before", context, state, exc,
                                what="set a transformed_value that does not fit the state")
        context.value = current[0]

    _run(state, "write_before",
         lambda ref: MutableWriteHookContext("write_before", ref, value=value, old_value=old),
         after_each, groups=groups)
    return current[0]


def run_write_after(state: Any, value: Any, old: Any, groups: Optional[list] = None) -> None:
    """Run the ``write_after`` hooks of `state`, which now holds `value` instead of `old`."""
    _run(state, "write_after",
         lambda ref: WriteHookContext("write_after", ref, value=value, old_value=old), groups=groups)


def run_restore(state: Any, value: Any, old: Any, groups: Optional[list] = None) -> None:
    """Run the ``restore`` hooks of `state`, whose `restore_value(value)` replaced `old`."""
    _run(state, "restore",
         lambda ref: RestoreHookContext("restore", ref, value=value, old_value=old), groups=groups)


def run_init(state: Any, value: Any, metadata: dict, groups: Optional[list] = None) -> None:
    """Run the ``init`` hooks for a newly created `state` (global hooks only, in practice)."""
    _run(state, "init",
         lambda ref: InitHookContext("init", ref, value=value, init_metadata=dict(metadata)), groups=groups)
