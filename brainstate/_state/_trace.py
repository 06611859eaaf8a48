"""The trace recorder: which states a function touches, and what it sees of them while traced.

A `StateTrace` is pushed on a thread-local stack while a state-aware transform traces the
user's function. `State.value` sends every read and write of an external state to the top of
the stack. On a state's first touch the trace asks its parent (the trace below it, or the
state's committed value when there is none) for the value, presents it to the function (the
engine turns it into a new input of the jaxpr being built) and records it; from then on the
function reads and writes the trace's copy.

Invariants:
- a trace never writes into a `State` object it did not create: the values a function sees
  while being traced live in the trace (`values`), so another thread reading or writing the
  same state meanwhile sees only committed values, and nothing has to be put back afterwards;
- states created while a transform traces belong to it (`_owner`) and keep their values on
  the object; they are local to the transform, never its inputs or outputs; one created inside
  a raw JAX transform (a `jax.lax.scan` body) nested in it also remembers that raw trace
  (`State._raw_trace`) and may hold the raw trace's tracers while it runs;
- only the innermost trace records a state's reads and writes; it passes a first touch on to
  its parent, so every enclosing transform learns that it needs the state too;
- `environ` reads are recorded in every enclosing trace, because each enclosing compiled
  function bakes the value in;
- the stack is per thread: two threads tracing at once never see each other's traces.

`StateTraceStack` (`_trace_stack.py`) is the public recorder users open themselves.
"""

import itertools
import threading
from typing import Any, List, Optional

import jax

from ._signature import checked_value, is_placeholder, signature

__all__ = ["StateTrace", "current_trace", "trace_stack", "environ_read", "new_state_listeners", "owner_serial",
           "owner_trace"]


class _Local(threading.local):
    def __init__(self):  # runs once in every thread that touches it
        self.stack: List["StateTrace"] = []
        self.listeners: list = []


_local = _Local()
# One entry per trace open in any thread (appended and popped with the thread-local stack).
# Empty between transforms in an ordinary program, so jit's per-call path tests this list
# instead of looking up the calling thread's stack.
open_traces: list = []
_serial = itertools.count(1)


def trace_stack() -> list:
    """The calling thread's stack of active traces (innermost last)."""
    return _local.stack


def new_state_listeners() -> list:
    """The calling thread's active `catch_new_states` catchers (innermost last)."""
    return _local.listeners


def current_trace() -> Optional["StateTrace"]:
    """The innermost active trace of this thread, or None."""
    stack = _local.stack
    return stack[-1] if stack else None


def owner_serial() -> int:
    """The serial of the innermost trace that owns new states (0 outside every transform)."""
    trace = owner_trace()
    return trace.serial if trace is not None else 0


def owner_trace() -> Optional["StateTrace"]:
    """The innermost trace that owns new states (None outside every transform)."""
    for trace in reversed(_local.stack):
        if trace.owns_new_states:
            return trace
    return None


def environ_read(key: Any, value: Any, first: int = 0) -> None:
    """Record that `environ` key `key` was read with `value` in the active traces from the
    `first`-th outward-in (the traces opened before it set the value themselves, in a context)."""
    for trace in _local.stack[first:]:
        trace.env.setdefault(key, value)


class StateTrace:
    """Records the external states a function reads and writes, holding what it sees of them.

    Attributes:
      states: external states in first-touch order.
      written, was_read, restored: one flag per entry of `states`.
      values: the value the function currently sees for each entry of `states`.
      sigs: the signature each entry must keep (that of the value presented at first touch,
        which is per lane inside a vmap); `restore_value` replaces it on purpose.
      created: states created while this trace was the innermost transform (local to it).
      env: `environ` keys read during the run, with the value seen.
      serial: unique id; states created under this trace carry it as their owner.
      jax_state: JAX's opaque trace state inside the traced function; a tracer written from
        any other JAX trace level (a raw `jax.vmap` nested inside, say) would leak.
    """

    owns_new_states = True
    __slots__ = ("states", "written", "was_read", "restored", "index", "values", "sigs", "created", "env",
                 "serial", "jax_state", "parent", "foreign", "__weakref__")

    def __init__(self, jax_state: Any = None):
        self.states: list = []
        self.written: List[bool] = []
        self.was_read: List[bool] = []
        self.restored: List[bool] = []
        self.index: dict = {}
        self.values: list = []
        self.sigs: list = []
        self.created: list = []
        self.env: dict = {}
        self.serial = next(_serial)
        self.jax_state = jax_state
        self.parent: Optional[StateTrace] = None
        # entry index -> the raw JAX trace (nested in this one) whose tracer the entry holds, for
        # values given by `restore_value` inside a raw `jax.lax.scan`/`jax.vmap`/... body
        self.foreign: Optional[dict] = None

    # -- what the traced function sees ---------------------------------------------------------
    def read(self, state) -> Any:
        """The value `state` has for the traced function; records the read."""
        if state._owner == self.serial:
            return state._value
        i = self.index.get(id(state))
        if i is None:
            i = self._touch(state)
        self.was_read[i] = True
        return self.values[i]

    def peek(self, state) -> Any:
        """The value the function would read, without recording anything."""
        if state._owner == self.serial:
            return state._value
        i = self.index.get(id(state))
        if i is not None:
            return self.values[i]
        return self.parent.peek(state) if self.parent is not None else state._value

    def write(self, state, value: Any, restore: bool = False) -> None:
        """Give `state` a new value for the rest of the trace, checked against its signature."""
        if state._owner == self.serial:
            state._store(value, restore, self)
            return
        i = self.index.get(id(state))
        if i is None:
            i = self._touch(state)
        if restore or is_placeholder(self.sigs[i]):  # on purpose, or a placeholder's first value
            treedef, _, sigs, has_tracer = signature(value)
            self.sigs[i] = (treedef, sigs)
            self.restored[i] = True
        else:
            value, has_tracer = checked_value(state, value, self.sigs[i])
        if has_tracer and self.jax_state is not None:
            self._check_level(state, i, restore)
        elif self.foreign:
            self.foreign.pop(i, None)
        self.values[i] = value
        self.written[i] = True

    def _check_level(self, state, i: int, restore: bool) -> None:
        """Allow a tracer of a raw JAX transform nested in this trace only through `restore_value`
        (the way libraries bring values into a raw `scan`/`vmap` body), or into an entry that
        already holds a value of that same raw transform."""
        from .._compatible_import import get_opaque_trace_state

        level = get_opaque_trace_state()
        if level == self.jax_state:
            if self.foreign:
                self.foreign.pop(i, None)
            return
        if restore or (self.foreign is not None and self.foreign.get(i) == level):
            if self.foreign is None:
                self.foreign = {}
            self.foreign[i] = level
            return
        self.check_jax_level(state)

    def check_foreign(self) -> None:
        """Raise if a state still holds the value of a raw JAX transform that has ended."""
        if not self.foreign:
            return
        from .._compatible_import import Tracer
        from .._errors import TraceContextError

        own = getattr(self, "jax_trace", None)  # the JAX trace the traced function runs in
        for i in self.foreign:
            for leaf in jax.tree_util.tree_leaves(self.values[i]):
                if isinstance(leaf, Tracer) and getattr(leaf, "_trace", own) is not own:
                    raise TraceContextError(
                        f"{self.states[i]._label()} still holds a value of a raw JAX transform "
                        f"(`jax.lax.scan`, `jax.vmap`, ...) that has ended: it was given that value "
                        f"with `restore_value` inside the raw transform. Restore a value of the "
                        f"enclosing function before the raw transform returns (or use the "
                        f"brainstate.transform version of the inner transform).")

    def mark_written(self, state, restore: bool = False) -> None:
        """Record a write of `state` without changing the value the function sees."""
        if state._owner == self.serial:
            return
        i = self.index.get(id(state))
        if i is None:
            i = self._touch(state)
        self.written[i] = True
        self.restored[i] = self.restored[i] or restore

    def check_jax_level(self, state) -> None:
        """Raise if a tracer is written from a raw JAX transform nested inside this trace."""
        if self.jax_state is None:
            return
        from .._compatible_import import get_opaque_trace_state
        from .._errors import TraceContextError

        if get_opaque_trace_state() != self.jax_state:
            raise TraceContextError(
                f"Writing into {state._label()} from inside a raw JAX transform (`jax.vmap`, "
                f"`jax.lax.scan`, `jax.grad`, ...) nested in a state-aware one: the raw transform "
                f"cannot carry the write out. Use the brainstate.transform version of the inner "
                f"transform (or, in library code that restores the state before the raw transform "
                f"returns, `state.restore_value(...)`). The state keeps its old value.")

    # -- first touch -----------------------------------------------------------------------------
    def _outer(self, state) -> Any:
        """The value of `state` just outside this trace (recording the read there)."""
        if self.parent is not None:
            return self.parent.read(state)
        return state._committed()

    def present(self, state, outer: Any) -> Any:
        """The value the traced function sees for an external state first touched here."""
        return outer

    def _touch(self, state) -> int:
        value = self.present(state, self._outer(state))
        treedef, _, sigs, _ = signature(value)
        i = len(self.states)
        self.index[id(state)] = i
        self.states.append(state)
        self.written.append(False)
        self.was_read.append(False)
        self.restored.append(False)
        self.values.append(value)
        self.sigs.append((treedef, sigs))
        return i

    # -- results -------------------------------------------------------------------------------
    def write_states(self) -> list:
        return [s for s, w in zip(self.states, self.written) if w]

    def read_only_states(self) -> list:
        return [s for s, w in zip(self.states, self.written) if not w]

    def __enter__(self):
        stack = _local.stack
        self.parent = stack[-1] if stack else None
        stack.append(self)
        open_traces.append(None)
        return self

    def __exit__(self, *exc):
        stack = _local.stack
        assert stack and stack[-1] is self, "state traces must be exited in LIFO order"
        stack.pop()
        open_traces.pop()
        return False
