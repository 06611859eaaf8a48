"""The trace recorder: which states a function touches while it is being traced.

A `StateTrace` is pushed on a thread-local stack while a state-aware transform runs the user's
function. `State.value` reports every read and write to the top of the stack, so after the run
the trace knows, in first-touch order, every external state the function used and which of them
it wrote. States created while a trace is active belong to that trace (they are local to the
transform) and are never recorded as its inputs or outputs.

The trace also remembers each touched state's value at first touch and puts it back in
`restore()`, so tracers never outlive the transform that made them. `environ` reads are recorded
in every enclosing trace, because each enclosing compiled function bakes the value in.

Invariants:
- only the innermost trace records state reads and writes;
- a trace restores every state it touched, whether the run succeeded or raised;
- the stack is per thread: two threads tracing at once never see each other's states.
"""

import itertools
import threading

from ._signature import signature

__all__ = ["StateTrace", "current_trace", "trace_stack", "environ_read"]

class _Local(threading.local):
    def __init__(self):  # runs once in every thread that touches it
        self.stack = []
        self.listeners = []


_local = _Local()
_serial = itertools.count(1)


def trace_stack() -> list:
    """The calling thread's stack of active traces (innermost last)."""
    return _local.stack


def new_state_listeners() -> list:
    """The calling thread's active `catch_new_states` catchers (innermost last)."""
    return _local.listeners


def current_trace():
    """The innermost active trace of this thread, or None."""
    stack = trace_stack()
    return stack[-1] if stack else None


def environ_read(key, value) -> None:
    """Record that `environ` key `key` was read with `value` in every active trace."""
    for trace in trace_stack():
        trace.env.setdefault(key, value)


class StateTrace:
    """Records the external states a function reads and writes while it runs.

    Attributes:
      states: external states in first-touch order.
      written: one flag per entry of `states`, True once the state was written.
      env: `environ` keys read during the run, with the value seen.
      serial: unique id; states created under this trace carry it as their owner.
    """

    __slots__ = ("states", "written", "was_read", "created", "index", "originals", "env", "serial", "jax_state", "view", "resigned",
                 "__weakref__")

    def __init__(self, jax_state=None, view=None):
        self.states = []
        self.written = []
        self.was_read = []  # one flag per state: its value was read (not only written)
        self.created = []  # states created while this trace was innermost (local to it)
        self.index = {}
        self.originals = []
        self.env = {}
        self.serial = next(_serial)
        # Opaque JAX trace state at entry: a tracer written from any other JAX trace level
        # (a raw jax.vmap nested inside us, say) would leak, so writes compare against it.
        self.jax_state = jax_state
        # Optional `(state, value) -> value | None`: how an external state looks inside the traced
        # function when first touched (one lane of a vmap, one shard of a shard_map). None: as is.
        self.view = view
        # (state, signature) of states presented with another signature; put back by `restore`.
        self.resigned = []

    def _touch(self, state) -> int:
        i = self.index.get(id(state))
        if i is None:
            # An enclosing trace that presents states per lane or per shard (a vmap's view) must
            # present this one before we record it, so an inner transform sees one lane too.
            for outer in trace_stack():
                if outer is self:
                    break
                if outer.view is not None and state._owner != outer.serial and id(state) not in outer.index:
                    outer._touch(state)
            i = len(self.states)
            self.index[id(state)] = i
            self.states.append(state)
            self.written.append(False)
            self.was_read.append(False)
            self.originals.append((state._value, state._tracer))
            if self.view is not None:
                seen = self.view(state, state._value)
                if seen is not None:
                    self._present(state, seen)
        return i

    def _present(self, state, value) -> None:
        """Give `state` the value `value`; a different signature holds until `restore`.

        Inside a mapping transform a state is seen per lane or per shard, so writes in the body
        are checked against the signature of what the body sees.
        """
        state._value = value
        treedef, _, sigs, _ = signature(value)
        if (treedef, sigs) != state._sig:
            self.resigned.append((state, state._sig))
            state._sig = (treedef, sigs)

    def feed(self, state, value) -> None:
        """Give `state` the input `value` (usually a tracer) for the duration of the trace."""
        self._touch(state)
        self._present(state, value)

    def touch(self, state) -> None:
        """Record `state` (presenting it through `view`) without marking it read or written."""
        if state._owner != self.serial:
            self._touch(state)

    def read(self, state) -> None:
        if state._owner != self.serial:
            self.was_read[self._touch(state)] = True

    def write(self, state) -> None:
        if state._owner != self.serial:
            self.written[self._touch(state)] = True

    def write_states(self) -> list:
        return [s for s, w in zip(self.states, self.written) if w]

    def read_only_states(self) -> list:
        return [s for s, w in zip(self.states, self.written) if not w]

    def restore(self) -> None:
        """Put back every touched state's value from before the trace."""
        for state, (value, tracer) in zip(self.states, self.originals):
            state._value = value
            state._tracer = tracer
        for state, sig in reversed(self.resigned):
            state._sig = sig
        self.resigned = []

    def __enter__(self):
        trace_stack().append(self)
        return self

    def __exit__(self, *exc):
        stack = trace_stack()
        assert stack and stack[-1] is self, "state traces must be exited in LIFO order"
        stack.pop()
        self.restore()
        return False


class StateTraceStack(StateTrace):
    """Public form of the trace recorder, usable directly as a context manager.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> a = brainstate.State(jnp.ones(2)); b = brainstate.State(jnp.zeros(2))
      >>> with brainstate.StateTraceStack() as trace:
      ...     b.value = a.value * 2
      >>> trace.get_read_states() == [a], trace.get_write_states() == [b]
      (True, True)
    """

    def __init__(self, new_arg=None, name=None, check_read=None):
        super().__init__()
        self.name = name

    def get_state_values(self) -> list:
        return [s._value for s in self.states]

    def get_read_states(self) -> list:
        return self.read_only_states()

    def get_write_states(self) -> list:
        return self.write_states()

    def get_read_state_values(self) -> list:
        return [s._value for s in self.read_only_states()]

    def get_write_state_values(self) -> list:
        return [s._value for s in self.write_states()]

    def recovery_original_values(self) -> None:
        self.restore()

    def __exit__(self, *exc):
        # As a public context manager the block's writes are kept (eager use);
        # call `recovery_original_values()` to undo them.
        stack = trace_stack()
        assert stack and stack[-1] is self, "state traces must be exited in LIFO order"
        stack.pop()
        return False
