"""Moving values between states and a transform's results: consistent, all or nothing, no lost write.

A transform reads the values of the states it threads (`snapshot`) and, after the computation,
stores the new values of the states it wrote (`commit`). Outside every transform:

- both hold one lock, so a reader never sees half of another thread's commit;
- every store gives the state a new, unique `_version`. `snapshot` remembers the versions of
  the states the call will write; `commit` stores nothing and returns False if any of them
  moved meanwhile (another thread committed, or wrote it eagerly). The caller then runs the
  computation again on fresh values — it is pure, so that is exactly what the call would have
  computed had it started later. So two threads stepping one model never lose an update;
- a commit is all or nothing: values are checked (and write hooks run) before anything is
  stored, and if storing is interrupted (`KeyboardInterrupt`, say) every state is put back.

Inside a trace both go through the trace instead (recording the reads and writes, so the
enclosing transform threads the states on).
"""

import itertools
import threading
from typing import Any, List, Optional, Sequence, Tuple

import jax

from .._compatible_import import Tracer
from . import _hooks
from ._signature import signature
from ._trace import _local

__all__ = ["snapshot", "gather", "commit", "store", "commit_lock", "new_version"]

commit_lock = threading.Lock()
new_version = itertools.count(1).__next__  # unique versions; `next` on a count is atomic


def snapshot(states: Sequence[Any], write_states: Sequence[Any] = ()) -> Tuple[list, Optional[list]]:
    """`(values of states, versions of write_states)`; inside a trace, the traced values and None."""
    if _local.stack:
        return [s.value for s in states], None
    with commit_lock:
        values = [s._value for s in states]
        versions = [s._version for s in write_states]
    if _hooks.ACTIVE or any(s._hooks is not None for s in states):
        for s, v in zip(states, values):
            _hooks.run_read(s, v)
    for s in states:
        if s._tracer:
            s._committed()  # raises: the state holds a tracer of a finished trace
    return values, versions


def gather(states: Sequence[Any]) -> list:
    """The values of `states` (see `snapshot`)."""
    return snapshot(states)[0]


def commit(states: Sequence[Any], values: Sequence[Any], restored: Optional[Sequence[bool]] = None,
           versions: Optional[Sequence[int]] = None) -> bool:
    """Store `values` into `states`, all or nothing; False if a state moved since `versions`.

    `restored[i]` marks a value that changes its state's signature on purpose (`restore_value`).
    Without `versions` the store is unconditional.
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
    if not store(states, values, tracers, restored, versions):
        return False
    if hooked:
        for s, v, r, old in zip(states, values, restored, olds):
            (_hooks.run_restore if r else _hooks.run_write_after)(s, v, old)
    return True


def store(states: Sequence[Any], values: Sequence[Any], tracers: Sequence[bool],
          restored: Optional[Sequence[bool]] = None, versions: Optional[Sequence[int]] = None) -> bool:
    """Store checked values under the lock; False (nothing stored) if a state's version moved."""
    sigs: List[Any] = [_sig_of(v) if r else None for v, r in zip(values, restored or [False] * len(values))]
    with commit_lock:
        if versions is not None and [s._version for s in states] != list(versions):
            return False
        olds = [(s._value, s._tracer, s._sig, s._version) for s in states]
        try:
            for s, v, t, sig in zip(states, values, tracers, sigs):
                s._value = v
                s._tracer = t
                s._version = new_version()
                if sig is not None:
                    s._sig = sig
        except BaseException:
            for s, (v, t, sig, version) in zip(states, olds):
                s._value, s._tracer, s._sig, s._version = v, t, sig, version
            raise
    return True


def _sig_of(value: Any) -> tuple:
    treedef, _, sigs, _ = signature(value)
    return treedef, sigs
