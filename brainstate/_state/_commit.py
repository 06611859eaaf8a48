"""Moving values between states and a transform's results: consistent, all or nothing, no lost write.

A transform reads the values of the states it threads (`snapshot`) and, after the computation,
stores the new values of the states it wrote (`commit`). Outside every transform:

- stores happen under one lock and bump a global sequence number `seq` twice (odd while a
  store is under way, even when it is done), like a seqlock: a reader that sees the same even
  `seq` before and after reading never saw half of a store, and otherwise reads again under
  the lock;
- every store stamps the states it writes with the `seq` it ran under (`State._version`). A
  call remembers `seq` when it read its inputs; at commit, if `seq` moved and one of the states
  it is about to write was stored since, nothing is stored and the caller runs the computation
  again on fresh values — it is pure, so that is exactly what the call would have computed had
  it started later. So two threads stepping one model never lose an update, and an uncontended
  commit costs one comparison;
- a commit is all or nothing: values are checked (and write hooks run) before anything is
  stored, and if storing is interrupted (`KeyboardInterrupt`, say) every state is put back.

Inside a trace both go through the trace instead (recording the reads and writes, so the
enclosing transform threads the states on).
"""

import threading
from typing import Any, List, Optional, Sequence, Tuple

import jax

from .._compatible_import import Tracer
from . import _hooks
from ._signature import signature
from ._trace import _local

__all__ = ["snapshot", "gather", "commit", "store", "store_one", "commit_lock", "seq", "read_values"]

commit_lock = threading.Lock()
seq = 0  # see the module docstring; only changed under `commit_lock`


def read_values(states: Sequence[Any]) -> Tuple[list, int]:
    """`(committed values, seq)`: a consistent read, without the lock when no store is under way."""
    start = seq
    values = [s._value for s in states]
    if start & 1 or start != seq:
        with commit_lock:
            return [s._value for s in states], seq
    return values, start


def moved_since(states: Sequence[Any], start: int) -> bool:
    """Whether one of `states` was stored after `seq` was `start` (call under `commit_lock`)."""
    return seq != start and any(s._version > start for s in states)


def snapshot(states: Sequence[Any], write_states: Sequence[Any] = ()) -> Tuple[list, Optional[int]]:
    """`(values of states, seq)`; inside a trace, the traced values and None."""
    if _local.stack:
        return [s.value for s in states], None
    values, start = read_values(states)
    if _hooks.ACTIVE or any(s._hooks is not None for s in states):
        for s, v in zip(states, values):
            _hooks.run_read(s, v)
    for s in states:
        if s._tracer:
            s._committed()  # raises: the state holds a tracer of a finished trace
    return values, start


def gather(states: Sequence[Any]) -> list:
    """The values of `states` (see `snapshot`)."""
    return snapshot(states)[0]


def commit(states: Sequence[Any], values: Sequence[Any], restored: Optional[Sequence[bool]] = None,
           since: Optional[int] = None) -> bool:
    """Store `values` into `states`, all or nothing; False if a state was stored after `since`.

    `restored[i]` marks a value that changes its state's signature on purpose (`restore_value`).
    `since` is the `seq` returned by `snapshot`; without it the store is unconditional.
    """
    if len(states) != len(values):
        raise ValueError(f"commit: {len(states)} states but {len(values)} values.")
    restored = list(restored) if restored else [False] * len(states)
    if _local.stack:
        for s, v, r in zip(states, values, restored):
            s._write(v, restore=r)
        return True
    hooked = _hooks.ACTIVE or any(s._hooks is not None for s in states)
    olds = [s._value for s in states] if hooked else []
    if hooked:
        values = [v if r else _hooks.run_write_before(s, v, old)
                  for s, v, r, old in zip(states, values, restored, olds)]
    tracers = [any(isinstance(x, Tracer) for x in jax.tree_util.tree_leaves(v)) for v in values]
    for s, has_tracer in zip(states, tracers):
        if has_tracer and not s._in_own_raw_trace():
            raise s._escaping_tracer_error()
    if not store(states, values, tracers, restored, since):
        return False
    if hooked:
        for s, v, r, old in zip(states, values, restored, olds):
            (_hooks.run_restore if r else _hooks.run_write_after)(s, v, old)
    return True


def store(states: Sequence[Any], values: Sequence[Any], tracers: Sequence[bool],
          restored: Optional[Sequence[bool]] = None, since: Optional[int] = None) -> bool:
    """Store checked values under the lock; False (nothing stored) if a state moved after `since`."""
    global seq
    sigs: List[Any] = [_sig_of(v) if r else None for v, r in zip(values, restored or [False] * len(values))]
    with commit_lock:
        if since is not None and moved_since(states, since):
            return False
        olds = [(s._value, s._tracer, s._sig, s._version) for s in states]
        seq += 1
        try:
            for s, v, t, sig in zip(states, values, tracers, sigs):
                s._value = v
                s._tracer = t
                s._version = seq
                if sig is not None:
                    s._sig = sig
        except BaseException:
            for s, (v, t, sig, version) in zip(states, olds):
                s._value, s._tracer, s._sig, s._version = v, t, sig, version
            raise
        finally:
            seq += 1
    return True


def store_one(state: Any, value: Any, has_tracer: bool, sig: Any = None) -> None:
    """An eager write of one checked value (stamped like every store)."""
    global seq
    with commit_lock:
        seq += 1
        state._value = value
        state._tracer = has_tracer
        state._version = seq
        if sig is not None:
            state._sig = sig
        seq += 1


def _sig_of(value: Any) -> tuple:
    treedef, _, sigs, _ = signature(value)
    return treedef, sigs
