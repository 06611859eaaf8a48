"""`StateHookMixin`: the per-state hook methods that `State` inherits.

A state starts with `_hooks = None` (a class attribute), which is what lets `State` skip hooks at
the cost of one attribute check. The first `register_hook` gives the state its own `HookManager`,
tagged with a weak reference to the state. `State.copy()` shares the instance dict, so a copy
would otherwise see its original's manager: the tag is how the copy recognises that the manager is
not its own, ignores it, and gets a fresh one when it registers a hook itself.
"""

import contextlib
import threading
import weakref
from typing import Any, Callable, Iterator, List, Optional

from ._hook_manager import HookManager
from ._hook_types import (Hook, HookContext, HookHandle, HookRegistrationError, HookType,
                          check_hook_type)

__all__ = ["StateHookMixin", "own_manager"]

_create_lock = threading.Lock()


def own_manager(state: Any) -> Optional[HookManager]:
    """The hook manager that belongs to `state`, or None (also when it is a copy's inherited one)."""
    manager = state._hooks
    if manager is None:
        return None
    owner = manager._owner
    return manager if owner is None or owner() is state else None


class StateHookMixin:
    """Per-state hooks: callbacks that run when this one state is read, written or restored.

    Per-state hooks run after global ones (see `brainstate.register_state_hook`); within each
    group, higher priority runs first. Inside a state-aware transform, hooks run while the function
    is traced (once per trace, with tracers as values), not on every call of the compiled function.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> s = brainstate.State(jnp.zeros(2), name='w')
      >>> seen = []
      >>> handle = s.register_hook('write_after', lambda ctx: seen.append(ctx.value.tolist()))
      >>> s.value = jnp.ones(2)
      >>> seen
      [[1.0, 1.0]]
      >>> handle.remove()
      True
    """

    _hooks: Optional[HookManager] = None

    @property
    def hooks(self) -> Optional[HookManager]:
        """This state's `HookManager` (set `hooks.config` to change its error policy), or None."""
        return own_manager(self)

    def register_hook(self, hook_type: HookType, callback: Callable[[HookContext], Any],
                      priority: int = 0, name: Optional[str] = None,
                      enabled: bool = True) -> HookHandle:
        """Run `callback(context)` on every `hook_type` event of this state.

        Args:
          hook_type: ``'read'``, ``'write_before'``, ``'write_after'``, ``'restore'`` or ``'init'``
            (an ``init`` hook on an existing state never fires; use a global one).
          callback: receives the event's context (see `HookContext` and its subclasses).
          priority: higher runs first.
          name: used in error messages; defaults to the callback's name.
          enabled: register it switched off if False.

        Returns:
          A `HookHandle` to remove, disable or re-enable the hook.

        Raises:
          HookRegistrationError: if `hook_type` is unknown or `callback` is not callable.
        """
        manager = own_manager(self)
        if manager is None:
            with _create_lock:
                manager = own_manager(self)
                if manager is None:
                    manager = HookManager()
                    manager._owner = weakref.ref(self)
                    self._hooks = manager
        return manager.register_hook(hook_type, callback, priority=priority, name=name,
                                     enabled=enabled)

    def unregister_hook(self, handle: HookHandle) -> bool:
        """Remove a hook registered on this state. Returns False if `handle` is not one of them.

        Raises:
          HookRegistrationError: if `handle` is not a `HookHandle`.
        """
        if not isinstance(handle, HookHandle):
            raise HookRegistrationError(
                f"unregister_hook expects the HookHandle returned by register_hook, got "
                f"{type(handle).__name__}.")
        manager = own_manager(self)
        if manager is None or handle.manager_ref() is not manager:
            return False
        return bool(manager.unregister_hook(handle))  # type: ignore[union-attr]

    def list_hooks(self, hook_type: Optional[HookType] = None) -> List[Hook]:
        """This state's hooks (enabled or not) in run order, of one event or of all."""
        manager = own_manager(self)
        if manager is None:
            if hook_type is not None:
                check_hook_type(hook_type)
            return []
        return manager.get_hooks(hook_type)

    def has_hooks(self, hook_type: Optional[HookType] = None) -> bool:
        """Whether this state has any hook (enabled or not), of one event or of any."""
        return bool(self.list_hooks(hook_type))

    def clear_hooks(self, hook_type: Optional[HookType] = None) -> None:
        """Remove this state's hooks of one event, or all of them."""
        manager = own_manager(self)
        if manager is None:
            self.list_hooks(hook_type)  # validates hook_type
            return
        manager.clear_hooks(hook_type)

    @contextlib.contextmanager
    def temporary_hook(self, hook_type: HookType, callback: Callable[[HookContext], Any],
                       priority: int = 0, name: Optional[str] = None) -> Iterator[HookHandle]:
        """Register a hook for the duration of a ``with`` block; yields its handle.

        Example:
          >>> import brainstate, jax.numpy as jnp
          >>> s = brainstate.State(jnp.zeros(()))
          >>> reads = []
          >>> with s.temporary_hook('read', lambda ctx: reads.append(1)):
          ...     _ = s.value
          >>> _ = s.value
          >>> len(reads)
          1
        """
        handle = self.register_hook(hook_type, callback, priority=priority, name=name)
        try:
            yield handle
        finally:
            handle.remove()
