"""`StateTraceStack`: the recorder users open themselves, and the state-access protocol.

`with StateTraceStack() as trace:` records which states the block reads and writes. It keeps no
values of its own: reads and writes pass through to the enclosing state-aware transform (or,
outside every transform, to the states), so a block opened inside a transform changes nothing
for it — the transform still threads every state the block touched. The only exception is a
recorder given a `new_arg` function (`StateTraceStack(new_arg=f)` or `set_new_arg(f)`): it then
acts like a transform of its own, presenting each state as `f(state)` makes it and keeping the
block's writes to itself (`get_state_values()` returns them).

The members mirror the reference release (`been_writen`, `original_state_values`,
`get_write_states(replace_read=...)`, `assign_state_vals`, `merge`, ...), which libraries built
on BrainState use; so do the `record_state_*` functions, the protocol through which a `State`
subclass that overrides `value` reports its accesses.
"""

from typing import Any, Callable, List, Optional, Sequence, Tuple

import jax

from ._trace import StateTrace, _local

__all__ = ["StateTraceStack", "record_state_init", "record_state_value_read", "record_state_value_write",
           "record_state_value_restore"]


class StateTraceStack(StateTrace):
    """A recorder of the states a block of code reads and writes.

    Args:
      new_arg: optional `state -> value`: present each state as this value inside the block and
        keep the block's writes in the recorder (the state objects do not change).
      name: a name for printing.
      check_read: optional `state -> None` called on every first read (to refuse some states).

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> a = brainstate.State(jnp.ones(2)); b = brainstate.State(jnp.zeros(2))
      >>> with brainstate.StateTraceStack() as trace:
      ...     b.value = a.value * 2
      >>> trace.get_read_states() == (a,), trace.get_write_states() == (b,)
      (True, True)
    """

    owns_new_states = False
    __slots__ = ("name", "originals", "new_arg_fn", "check_read", "released")

    def __init__(self, new_arg: Optional[Callable] = None, name: Optional[str] = None,
                 check_read: Optional[Callable] = None):
        super().__init__()
        self.name = name
        self.originals: list = []
        self.new_arg_fn = new_arg
        self.check_read = check_read
        self.released = False

    # -- recording -----------------------------------------------------------------------------
    def _touch(self, state) -> int:
        if self.check_read is not None:
            self.check_read(state)
        i = super()._touch(state)
        self.originals.append(self.values[i])
        if self.new_arg_fn is not None:
            self.values[i] = self.new_arg_fn(state)
        return i

    def read(self, state) -> Any:
        if self.new_arg_fn is not None:
            return super().read(state)
        i = self.index.get(id(state))
        if i is None:
            i = self._touch(state)
        self.was_read[i] = True
        return self._outer_peek(state)

    def peek(self, state) -> Any:
        if self.new_arg_fn is not None:
            return super().peek(state)
        return self._outer_peek(state)

    def _outer_peek(self, state) -> Any:
        return self.parent.peek(state) if self.parent is not None else state._value

    def write(self, state, value: Any, restore: bool = False) -> None:
        if self.new_arg_fn is not None:
            return super().write(state, value, restore)
        self.mark_written(state, restore)
        if self.parent is not None:
            self.parent.write(state, value, restore)
        else:
            state._store(value, restore, None)

    # -- the reference release's members -------------------------------------------------------
    @property
    def been_writen(self) -> List[bool]:
        """One flag per recorded state: True if the block wrote it."""
        return self.written

    @property
    def original_state_values(self) -> Tuple[Any, ...]:
        """Each recorded state's value when the block first touched it."""
        return tuple(self.originals)

    def set_new_arg(self, new_arg: Callable) -> None:
        """Present states as `new_arg(state)` from now on (see the class docstring)."""
        self.new_arg_fn = new_arg

    def new_arg(self, state) -> None:
        """Present `state` as `new_arg(state)` inside this recorder (records it if needed)."""
        i = self.index.get(id(state))
        if i is None:
            i = self._touch(state)
        elif self.new_arg_fn is not None:
            self.values[i] = self.new_arg_fn(state)

    def read_its_value(self, state) -> None:
        """Record a read of `state` (its value is not changed)."""
        i = self.index.get(id(state))
        if i is None:
            i = self._touch(state)
        self.was_read[i] = True

    def write_its_value(self, state) -> None:
        """Record a write of `state` (its value is not changed)."""
        self.mark_written(state)

    def _current(self, state) -> Any:
        return self.peek(state)

    def get_state_values(self, separate: bool = False, replace: bool = False):
        """Current values of the recorded states; with `separate`, `(written, read)` values.

        With `replace`, both sequences keep one slot per state, None where it does not belong.
        """
        if not separate:
            return tuple(self._current(s) for s in self.states)
        writes, reads = [], []
        for s, w in zip(self.states, self.written):
            value = self._current(s)
            if replace:
                writes.append(value if w else None)
                reads.append(None if w else value)
            else:
                (writes if w else reads).append(value)
        return tuple(writes), tuple(reads)

    def get_read_states(self, replace_writen: bool = False) -> Tuple[Any, ...]:
        """The states only read (with `replace_writen`, one slot per state, None for written ones)."""
        if replace_writen:
            return tuple(None if w else s for s, w in zip(self.states, self.written))
        return tuple(s for s, w in zip(self.states, self.written) if not w)

    def get_read_state_values(self, replace_writen: bool = False) -> Tuple[Any, ...]:
        """Values of the states only read (with `replace_writen`, None for written ones)."""
        return tuple(None if s is None else self._current(s) for s in self.get_read_states(replace_writen))

    def get_write_states(self, replace_read: bool = False) -> Tuple[Any, ...]:
        """The states written (with `replace_read`, one slot per state, None for read ones)."""
        if replace_read:
            return tuple(s if w else None for s, w in zip(self.states, self.written))
        return tuple(s for s, w in zip(self.states, self.written) if w)

    def get_write_state_values(self, replace_read: bool = False) -> Tuple[Any, ...]:
        """Values of the states written (with `replace_read`, None for read ones)."""
        return tuple(None if s is None else self._current(s) for s in self.get_write_states(replace_read))

    def state_subset(self, state_type: type) -> List[Any]:
        """The recorded states of a kind."""
        return [s for s in self.states if isinstance(s, state_type)]

    def recovery_original_values(self) -> None:
        """Put every recorded state back to its value at first touch.

        Raises:
          RuntimeError: after `release_original_values()` dropped those values.
        """
        if self.released:
            raise RuntimeError(
                "StateTraceStack.recovery_original_values() was called after release_original_values(): "
                "only the shapes of the original values are kept. Recover before releasing.")
        for s, value in zip(self.states, self.originals):
            if self.new_arg_fn is not None:
                self.values[self.index[id(s)]] = value
            elif self.parent is not None:
                self.parent.write(s, value, True)
            else:
                s._store(value, True, None)

    def release_original_values(self) -> None:
        """Keep only the shapes and dtypes of the original values (drops references to arrays)."""
        self.originals = [jax.tree_util.tree_map(lambda x: jax.ShapeDtypeStruct(jax.numpy.shape(x),
                                                                                jax.numpy.result_type(x)), v)
                          for v in self.originals]
        self.released = True
        self.new_arg_fn = None

    def assign_state_vals(self, state_vals: Sequence[Any]) -> None:
        """Give the recorded states these values: a write for written ones, a restore for the others.

        Raises:
          ValueError: if the number of values differs from the number of states.
        """
        if len(state_vals) != len(self.states):
            raise ValueError(f"assign_state_vals: got {len(state_vals)} values for {len(self.states)} recorded "
                             f"states; pass one value per state, in the order of `states`.")
        for s, w, value in zip(self.states, self.written, state_vals):
            if w:
                s.value = value
            else:
                s.restore_value(value)

    def assign_state_vals_v2(self, read_state_vals: Sequence[Any], write_state_vals: Sequence[Any]) -> None:
        """`assign_state_vals` with separate value lists for read and written states (one slot per state).

        Raises:
          ValueError: if a list's length differs from the number of states.
        """
        for what, vals in (("read_state_vals", read_state_vals), ("write_state_vals", write_state_vals)):
            if len(vals) != len(self.states):
                raise ValueError(f"assign_state_vals_v2: {what} has {len(vals)} entries for {len(self.states)} "
                                 f"recorded states; give one slot per state (None where unused).")
        for s, w, r_val, w_val in zip(self.states, self.written, read_state_vals, write_state_vals):
            if w:
                s.value = w_val
            else:
                s.restore_value(r_val)

    def merge(self, *traces: "StateTraceStack") -> "StateTraceStack":
        """Add the states (and write flags) of other recorders to this one; returns self."""
        for trace in traces:
            for s, w, r, original in zip(trace.states, trace.written, trace.was_read, trace.originals):
                i = self.index.get(id(s))
                if i is None:
                    i = len(self.states)
                    self.index[id(s)] = i
                    self.states.append(s)
                    self.written.append(False)
                    self.was_read.append(False)
                    self.restored.append(False)
                    self.values.append(original)
                    self.sigs.append(s._sig)
                    self.originals.append(original)
                self.written[i] = self.written[i] or w
                self.was_read[i] = self.was_read[i] or r
            self.released = self.released or trace.released
        return self

    def __add__(self, other: "StateTraceStack") -> "StateTraceStack":
        return StateTraceStack().merge(self, other)

    def __repr__(self) -> str:
        return f"StateTraceStack({self.name or ''})"


# -- the access protocol of State subclasses ---------------------------------------------------
def record_state_init(state) -> None:
    """Record that `state` was just created (its owner is the innermost transform)."""
    stack = _local.stack
    if stack and state not in stack[-1].created:
        stack[-1].created.append(state)


def record_state_value_read(state) -> None:
    """Record a read of `state` in the active trace (a no-op outside every transform)."""
    stack = _local.stack
    if stack:
        stack[-1].read(state)


def record_state_value_write(state) -> None:
    """Record a write of `state` in the active trace (the value is written separately)."""
    stack = _local.stack
    if stack:
        stack[-1].mark_written(state)


def record_state_value_restore(state) -> None:
    """Record a restore (a write that may change the signature) of `state` in the active trace."""
    stack = _local.stack
    if stack:
        stack[-1].mark_written(state, restore=True)
