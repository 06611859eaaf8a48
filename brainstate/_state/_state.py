"""`State`: an explicit, mutable container for a PyTree of arrays.

Read with `state.value`, write with `state.value = ...`. Outside every transform a read returns
the committed value and a write checks and stores it. While a state-aware transform traces a
function, reads and writes go to the innermost `StateTrace` of this thread, which holds what
the function sees (see `_trace.py`); the state object itself only changes when the transform
commits its results (`_commit.py`). Hooks, signatures and snapshots live in sibling modules.

Invariants:
- the first value fixes the signature (tree structure, shapes, dtypes); writes must keep it,
  except through `restore_value`, which changes it on purpose;
- a failed write changes nothing;
- `_value` holds a tracer only for a state created inside a transform (it is local to it), or
  inside a raw JAX trace (usable while that trace lasts); reading such a value after its trace
  ended raises `TraceContextError`.
"""

import os
import sys
from typing import Any, Optional

import jax
import numpy as np

from .._compatible_import import EvalTrace, current_trace, get_opaque_trace_state, trace_encloses
from .._errors import BrainStateError, TraceContextError
from ..typing import MISSING
from . import _hooks
from ._signature import checked_value, describe, is_placeholder, signature, strong
from ._checks import initialising, tracer_check_on, tree_check_on
from . import _commit
from ._trace import _local, new_state_listeners, owner_serial, owner_trace

__all__ = [
    "State", "ShortTermState", "LongTermState", "ParamState", "BatchState", "HiddenState",
    "DelayState", "maybe_state",
]

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# `brainstate.nn.init.param`, registered by that (higher) layer when it loads; `State.init` uses it.
param_init: Optional[Any] = None


def revived_hook() -> None:
    """Called when an eager write gives a finished state (`State._finished`) a value; the graph
    layer, which fingerprints finished states by type only, replaces it with its change counter
    (`graph._epoch.changed`) when it loads."""


def _caller_location() -> str:
    """`file:line` of the first frame outside the brainstate package."""
    frame: Optional[Any] = sys._getframe(2)
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
    if frame is None:
        return "<unknown>"
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


class SourceInfo(str):
    """Where a state was created, as `file:line`. Libraries written against the reference
    release read `.traceback` (printed) and `.name_stack` of it, as of a JAX `SourceInfo`."""

    __slots__ = ()

    @property
    def traceback(self) -> str:
        return f"  created at {self}"

    @property
    def name_stack(self) -> str:
        return ""


def _raw_level(owner: Any, has_tracer: bool) -> Any:
    """The raw JAX trace a new state is created in, or None when there is none.

    A state created inside a raw JAX transform (`jax.grad`, `jax.jit`, a `jax.lax.scan` body),
    whether or not a state-aware transform encloses it, is local to that trace: it may hold the
    trace's tracers while the trace lasts (users build models inside loss functions; libraries
    make states in scan bodies). `owner` is the state-aware trace that owns the new state.
    """
    if owner is None:
        if has_tracer or type(current_trace()) is not EvalTrace:
            return get_opaque_trace_state()
        return None
    if owner.jax_state is None:
        return None
    level = get_opaque_trace_state()
    return None if level == owner.jax_state else level


class State(_hooks.StateHookMixin):
    """A mutable container for a PyTree of arrays, visible to every state-aware transform.

    Args:
      value: the initial value, a PyTree of arrays (a single array, a tuple, a dict, ...). It
        fixes the state's tree structure, shapes and dtypes.
      name: optional name used in error messages and printing.
      **metadata: kept as attributes. `tag` (a string or an iterable of strings) becomes a set
        of tags that filters can select on.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> s = brainstate.State(jnp.zeros(3))
      >>> s.value = s.value + 1
      >>> s.value.tolist()
      [1.0, 1.0, 1.0]
    """

    __module__ = "brainstate"
    _hooks = None
    _raw_trace = None
    _raw_restored = False  # the tracer it holds came from `restore_value` in a raw JAX transform
    _version = 0  # a new unique number at every store (see `_commit.py`)

    def __init__(self, value: Any, name: Optional[str] = None, **metadata: Any):
        if isinstance(value, State):
            raise BrainStateError(
                f"Cannot create {type(self).__name__}{'(' + repr(name) + ')' if name else ''} holding "
                f"another State. Pass the other state's value (`other.value`) instead.")
        self._init_raw(value, name, metadata, _caller_location())
        if _hooks.ACTIVE:
            _hooks.run_init(self, value, metadata)
        for listener in new_state_listeners():
            listener(self)

    def _init_raw(self, value, name, metadata, source) -> None:
        """Set every field without hooks or listeners (also used to rebuild from snapshots)."""
        value = strong(value)
        treedef, leaves, sigs, has_tracer = signature(value)
        if any(isinstance(x, State) for x in leaves):
            raise BrainStateError(
                f"Cannot create {type(self).__name__} holding a State inside its value; "
                f"states hold arrays. Use the inner state's `.value`.")
        self._value = value
        self._sig = (treedef, sigs)
        self._tracer = has_tracer
        self._name = name
        self._source = source
        stack = _local.stack
        owner = owner_trace() if stack else None
        self._owner = owner.serial if owner is not None else 0
        raw = _raw_level(owner, has_tracer)
        if raw is not None:
            self._raw_trace = raw
        if stack:
            stack[-1].created.append(self)
        tag = metadata.pop("tag", None)
        if tag is not None:
            self.tag = {tag} if isinstance(tag, str) else set(tag)
        for key, val in metadata.items():
            setattr(self, key, val)

    # -- reading and writing -------------------------------------------------------------------
    @property
    def value(self) -> Any:
        """The current value. Inside a state-aware transform, the value the traced function sees."""
        stack = _local.stack
        value = stack[-1].read(self) if stack else self._committed()
        if _hooks.ACTIVE or self._hooks is not None:
            _hooks.run_read(self, value)
        return value

    @value.setter
    def value(self, value: Any) -> None:
        self._write(value)

    def _committed(self) -> Any:
        """The stored value, refusing a tracer whose trace has ended."""
        if self._tracer and not self._raw_restored and not self._in_own_raw_trace():
            raise TraceContextError(
                f"{self._label()} holds a JAX tracer from a transform that has finished: the state "
                f"was created or written inside a traced function and its value escaped. Create "
                f"the state outside the transform, or assign it a concrete value (for example "
                f"`state.value = jnp.zeros(shape)`) before reading it.")
        return self._value

    def _finished(self) -> bool:
        """Whether the value is a tracer of a transform that has finished (a state created inside
        it): unreadable, and no trace can touch it, until an eager write gives it a value."""
        if not self._tracer or self._raw_restored or self._in_own_raw_trace():
            return False
        return not any(trace.serial == self._owner for trace in _local.stack)

    def _write(self, value: Any, restore: bool = False) -> None:
        if isinstance(value, State):
            raise BrainStateError(
                f"Cannot write a State into {self._label()}: a State holds arrays, not other States. "
                f"Write the other state's value instead (`a.value = b.value`).")
        stack = _local.stack
        if not restore and (not tree_check_on() or (not stack and initialising())):
            restore = True  # check off, or an eager (re)initialisation: the shape may change
        self._been_writen = True
        hooked = _hooks.ACTIVE or self._hooks is not None
        if hooked:
            old = stack[-1].peek(self) if stack else self._value
            if not restore:
                value = _hooks.run_write_before(self, value, old)
        if stack:
            stack[-1].write(self, value, restore)
        else:
            self._store(value, restore, None)
        if hooked:
            (_hooks.run_restore if restore else _hooks.run_write_after)(self, value, old)

    def _store(self, value: Any, restore: bool, trace: Any) -> None:
        """Check `value` and keep it on this object (an eager write, or a local state's write)."""
        if not restore and is_placeholder(self._sig):
            restore = True  # a placeholder takes the signature of its first real value
        if restore:
            treedef, _, sigs, has_tracer = signature(value)
        else:
            value, has_tracer = checked_value(self, value)
        if has_tracer and tracer_check_on():
            if trace is not None:
                if not self._in_own_raw_trace():
                    trace.check_jax_level(self)
            elif restore:
                # `restore_value` inside a raw JAX transform: the value belongs to that transform,
                # readable and writable there. Libraries (braintrace) restore it afterwards, and
                # may read it meanwhile for its shape or dtype, as the reference release allows:
                # computing with it then fails in JAX (an escaped tracer).
                self._raw_trace = get_opaque_trace_state()
            elif not self._in_own_raw_trace():
                raise self._escaping_tracer_error()
        if trace is None:  # an eager write: stamped, under the commit lock
            finished = not has_tracer and self._finished()
            self._raw_restored = raw = bool(restore and has_tracer)
            _commit.store_one(self, value, has_tracer, (treedef, sigs) if restore else None, stamp=not raw)
            if finished:
                revived_hook()  # compiled functions saw a finished state here, and see a live one now
            return
        if restore:
            self._sig = (treedef, sigs)
        self._value = value
        self._tracer = has_tracer

    def _escaping_tracer_error(self) -> TraceContextError:
        return TraceContextError(
            f"Writing a JAX tracer into {self._label()} outside a state-aware transform. "
            f"The function was probably wrapped in a raw JAX transform (`jax.jit`, "
            f"`jax.vmap`, `jax.grad`, `jax.lax.scan`, ...), which cannot carry the write "
            f"out of the trace, so it would be lost or leak a tracer. Use the state-aware "
            f"version instead (`brainstate.transform.jit`, `.vmap`, `.grad`, `.for_loop`, "
            f"...). The state keeps its old value.")

    def _in_own_raw_trace(self) -> bool:
        """True while the raw JAX trace this state's value belongs to is running: it is the current
        trace, or one the current trace is nested in (a state-aware transform inside it)."""
        return self._raw_trace is not None and trace_encloses(self._raw_trace)

    def restore_value(self, value: Any) -> None:
        """Replace the value, allowing a new tree structure, shape or dtype.

        This is the deliberate way to reshape a state; compiled functions that use it retrace on
        their next call.
        """
        if isinstance(value, State):
            raise BrainStateError(f"Cannot restore {self._label()} from a State; pass its `.value`.")
        self._write(value, restore=True)

    # -- the access protocol of State subclasses (the ecosystem overrides `value` with these) ------
    _been_writen = False  # set by every write through `.value`

    def _read_value(self) -> Any:
        """The value as the current context sees it, without recording a read."""
        stack = _local.stack
        return stack[-1].peek(self) if stack else self._committed()

    def _write_value(self, value: Any) -> None:
        """Check and write `value` (recorded in the active trace like any write)."""
        self._write(value)

    def _check_value_tree(self, value: Any) -> None:
        """Raise `ValueError` if `value` does not keep this state's structure, shapes and dtypes."""
        checked_value(self, value)

    @classmethod
    def init(cls, fn: Any, in_size: Any, batch_size: Optional[int] = None, tag: Optional[str] = None) -> "State":
        """A new state holding `brainstate.nn.init.param(fn, in_size, batch_size)`.

        Example:
          >>> import brainstate, jax.numpy as jnp
          >>> brainstate.HiddenState.init(jnp.zeros, (3,), batch_size=2).value.shape
          (2, 3)
        """
        if param_init is None:  # brainstate.nn not imported; `import brainstate` always imports it
            raise BrainStateError("State.init needs brainstate.nn.init; import brainstate (not only brainstate._state).")
        return cls(param_init(fn, in_size, batch_size), tag=tag)

    def copy_from(self, other: "State") -> None:
        """Make this state a copy of `other` (value and metadata; creation site and hooks kept).

        Raises:
          ValueError: if `other` is a different kind of state.
        """
        if type(self) is not type(other):
            raise ValueError(f"copy_from: cannot copy a {type(other).__name__} into {self._label()}; the "
                             f"kinds must match.")
        if self is other:
            return
        keep = {k: vars(self)[k] for k in ("_source", "_owner", "_hooks") if k in vars(self)}
        vars(self).clear()
        vars(self).update({k: v for k, v in vars(other).items() if k not in keep}, **keep)
        if isinstance(getattr(self, "tag", None), set):
            self.tag = set(self.tag)

    def check_if_deleted(self) -> None:
        """Raise if a leaf of the value is a deleted (donated) buffer.

        Raises:
          BrainStateError: naming the state.
        """
        for leaf in jax.tree_util.tree_leaves(self._value):
            if getattr(leaf, "is_deleted", None) is not None and leaf.is_deleted():
                raise BrainStateError(
                    f"{self._label()} holds a deleted buffer: it was donated to a compiled call and its "
                    f"old value is gone. Read `state.value` again after the call instead of keeping arrays.")

    def check_valid_trace(self, error_msg: Any = None) -> None:
        """Raise `TraceContextError` if the value is a tracer of a trace that has ended."""
        self._committed()

    def raise_error_with_source_info(self, error: Exception):
        """Raise `error` with a note saying where this state was created."""
        error.add_note(f"(the state was created at {self._source})")
        raise error

    # The reference release numbered the transform nesting a state was created at; here a
    # state belongs to the transform it was created in (`_owner`). Kept for code that reads it.
    @property
    def stack_level(self) -> int:
        """How many state-aware transforms were active when the state was created (0 outside)."""
        return getattr(self, "_level", 0)

    @stack_level.setter
    def stack_level(self, level: int) -> None:
        self._level = int(level)

    def increase_stack_level(self) -> None:
        self.stack_level = self.stack_level + 1

    def decrease_stack_level(self) -> None:
        self.stack_level = max(self.stack_level - 1, 0)

    def value_call(self, fn):
        """Apply `fn` to every leaf of the value and return the result (the state is unchanged)."""
        return jax.tree_util.tree_map(fn, self.value)

    # -- metadata ------------------------------------------------------------------------------
    @property
    def name(self) -> Optional[str]:
        return self._name

    @name.setter
    def name(self, name: Optional[str]) -> None:
        self._name = name

    @property
    def type(self) -> type:
        """The state's class, as on its snapshot (`TreefyState.type`): filters written as
        `lambda path, x: x.type ...` work on live states and snapshots alike."""
        return type(self)

    @property
    def source_info(self) -> "SourceInfo":
        """`file:line` where the state was created (a `str`, also with the `.traceback` and
        `.name_stack` that the reference release's JAX `SourceInfo` has)."""
        return SourceInfo(self._source)

    def add_tag(self, *tags: str) -> None:
        """Add one or more string tags (used by `util.WithTag` filters)."""
        current = set(getattr(self, "tag", ()))
        self.tag = current | set(tags)

    @property
    def shape_dtype(self) -> str:
        """The value's signature as text, e.g. `float32[3,4]`."""
        return describe(*self._sig)

    def numel(self) -> int:
        """Total number of array elements in the value."""
        return int(sum(np.size(x) for x in jax.tree_util.tree_leaves(self._value)))

    def metadata(self) -> dict:
        """Every user metadata attribute (name, tag, keyword metadata)."""
        meta = {k: v for k, v in vars(self).items() if not k.startswith("_")}
        if self._name is not None:
            meta["name"] = self._name
        return meta

    def _label(self) -> str:
        """How error messages name this state."""
        name = f" {self._name!r}" if self._name else ""
        return f"{type(self).__name__}{name} (created at {self._source})"

    # -- copies and snapshots ------------------------------------------------------------------
    def to_state_ref(self):
        """An immutable PyTree snapshot of this state (`TreefyState`)."""
        from ._treefy import TreefyState

        return TreefyState.from_state(self)

    def copy(self) -> "State":
        """A new, independent state of the same kind with the same value and metadata."""
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        if isinstance(getattr(self, "tag", None), set):
            new.tag = set(self.tag)
        new._owner = owner_serial()
        return new

    def replace(self, value: Any = MISSING, **metadata: Any) -> "State":
        """A copy of this state holding `value` instead, with the metadata given changed.

        Args:
          value: the new value (not given: the same value). A State of the same kind is
            returned itself (with the metadata given applied to a copy of it).
          **metadata: attributes to change on the copy (`name=`, `tag=`, keyword metadata).

        Raises:
          ValueError: if `value` is a State of another kind.
        """
        if isinstance(value, State):
            if type(value) is not type(self):
                raise ValueError(f"{self._label()}.replace: got a {type(value).__name__}, but a "
                                 f"{type(self).__name__} can only be replaced by one of its own kind.")
            return value.replace(**metadata) if metadata else value
        new = self.copy()
        if value is not MISSING:
            new._value = value
            treedef, _, sigs, has_tracer = signature(value)
            new._sig = (treedef, sigs)
            new._tracer = has_tracer
        for key, val in metadata.items():
            setattr(new, key, val)
        return new

    def update_from_ref(self, ref) -> None:
        """Write the value of a `TreefyState` snapshot into this state."""
        self.value = ref.value

    # -- printing ------------------------------------------------------------------------------
    def __repr__(self) -> str:
        parts = [f"value={self._value_repr()}"]
        for key, val in self.metadata().items():
            parts.append(f"{key}={val!r}")
        return f"{type(self).__name__}({', '.join(parts)})"

    def _value_repr(self) -> str:
        if self._tracer:
            return f"<traced {self.shape_dtype}>"
        leaves = jax.tree_util.tree_leaves(self._value)
        if sum(np.size(x) for x in leaves) <= 8:
            return repr(self._value)
        return self.shape_dtype


class ShortTermState(State):
    """A state that changes every step and is reset between runs (hidden values, counters)."""

    __module__ = "brainstate"


class LongTermState(State):
    """A state that persists across runs (parameters, running statistics)."""

    __module__ = "brainstate"


class ParamState(LongTermState):
    """A trainable parameter."""

    __module__ = "brainstate"


class BatchState(LongTermState):
    """A state holding batch-level values."""

    __module__ = "brainstate"


class DelayState(ShortTermState):
    """A state holding a delay (history) buffer."""

    __module__ = "brainstate"


class HiddenState(ShortTermState):
    """The hidden value of a dynamical system or recurrent cell: a single array.

    Raises:
      TypeError: if the value is a container (dict, list, tuple) rather than one array.
    """

    __module__ = "brainstate"

    def __init__(self, value: Any, name: Optional[str] = None, **metadata: Any):
        leaves = jax.tree_util.tree_leaves(value)
        # One array; an array-like PyTree node with one leaf (a brainunit Quantity) is fine too.
        if len(leaves) != 1 or isinstance(value, (dict, list, tuple)):
            raise TypeError(
                f"HiddenState{'(' + repr(name) + ')' if name else ''} holds a single array, got "
                f"{type(value).__name__} with {len(leaves)} leaves. Use one HiddenState per array, "
                f"or a ShortTermState for a container.")
        super().__init__(value, name, **metadata)

    @property
    def varshape(self) -> tuple:
        """The shape of the hidden variable, as the running function sees it: inside `vmap`, one
        lane's shape. (It reads the value, so inside a transform the state counts as read.)"""
        return self._seen_shape()

    def _seen_shape(self) -> tuple:
        stack = _local.stack  # `value` without its read hooks: asking for a shape is not a read of the data
        value = stack[-1].read(self) if stack else self._committed()
        return tuple(np.shape(jax.tree_util.tree_leaves(value)[0]))

    @property
    def num_state(self) -> int:
        """How many hidden variables the state holds (one)."""
        return 1


def maybe_state(val: Any) -> Any:
    """`val.value` if `val` is a State, else `val` unchanged."""
    return val.value if isinstance(val, State) else val
