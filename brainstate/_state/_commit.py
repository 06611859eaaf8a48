"""Moving values between states and a transform's results: consistent, all or nothing, no lost write.

A transform reads the values of the states it threads (`snapshot`) and, after the computation,
stores the new values of the states it wrote (`commit`). Outside every transform:

- stores happen under one lock (`commit_lock`) and bump a global sequence number `seq` twice
  (odd while a store is under way, even when it is done), like a seqlock: a reader that sees
  the same even `seq` before and after reading never saw half of a store, and otherwise reads
  again under the lock;
- every store stamps the states it writes with the `seq` it ran under (`State._version`), the
  stamp before the value. A call remembers `seq` when it read its inputs; at commit, if `seq`
  moved and one of the states it is about to write was stored since, nothing is stored and the
  caller runs the computation again on fresh values — it is pure, so that is exactly what the
  call would have computed had it started later. So two threads stepping one model never lose
  an update, and an uncontended commit costs one comparison;
- `fast_runner` generates a call that reads, runs the program and commits for a fixed list of
  states with the fewest Python operations (jit's per-call path): it reads without the
  seqlock's second look and validates the read at commit time instead — a value read while a
  store was under way was stamped first, so "none of my states stamped after `start`" proves
  the whole read consistent;
- a commit is all or nothing: values are checked (and write hooks run) before anything is
  stored, and if storing is interrupted (`KeyboardInterrupt`, say) every state is put back.

Inside a trace both go through the trace instead (recording the reads and writes, so the
enclosing transform threads the states on).

The lock is a token in a list (`_TokenLock`): taking it is `list.pop()`, giving it back
`list.append()`, each atomic (the Python FAQ lists both; free-threaded builds lock a list
internally). Right after a compiled call, on jit's per-call path, that pair cost a tenth of a
`threading.Lock` acquire and release (measured: about 0.5 % of a small MLP step against 4-5 %).
A thread that finds the list empty waits, yielding, until the holder gives the token back;
nothing here holds it for longer than a few attribute stores.
"""

import functools
import itertools
import re
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import jax

from .._compatible_import import Tracer
from . import _hooks
from ._signature import signature
from ._trace import _local

__all__ = ["snapshot", "gather", "commit", "store", "store_one", "commit_lock", "seq", "read_values",
           "fast_runner", "general_runner", "install", "AGAIN"]


class _TokenLock:
    """A non-reentrant lock whose uncontended acquire and release are one list operation each."""

    __slots__ = ("_token", "take", "give")

    def __init__(self):
        self._token: list = [None]
        self.take = self._token.pop  # IndexError while another thread holds the token
        self.give = self._token.append  # give(None)

    def acquire(self) -> None:
        try:
            self.take()
        except IndexError:
            self.wait()

    def wait(self) -> None:
        """Take the token once the thread holding it gives it back."""
        delay = 0.0
        while True:
            time.sleep(delay)  # also lets the holder run where threads share one interpreter lock
            try:
                self.take()
                return
            except IndexError:
                delay = min(max(delay * 2, 1e-6), 1e-3)

    def release(self) -> None:
        if self._token:
            raise RuntimeError("commit_lock released while not held")
        self.give(None)

    def __enter__(self) -> "_TokenLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.give(None)


commit_lock = _TokenLock()
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
                s._version = seq  # the stamp first: see `fast_runner`
                s._value = v
                s._tracer = t
                if sig is not None:
                    s._sig = sig
        except BaseException:
            for s, (v, t, sig, version) in zip(states, olds):
                s._value, s._tracer, s._sig, s._version = v, t, sig, version
            raise
        finally:
            seq += 1
    return True


def store_one(state: Any, value: Any, has_tracer: bool, sig: Any = None, stamp: bool = True) -> None:
    """An eager write of one checked value, stamped like every store unless `stamp` is False.

    Unstamped: a raw JAX transform's tracer put in with `restore_value` (braintrace does it in
    its custom-VJP rules, which JAX runs while *our* transform differentiates its function). It
    is scratch space of that trace, not a value another computation could have read and built
    on, so it does not make the running computation's commit look contended.
    """
    global seq
    with commit_lock:
        seq += 1
        if stamp:
            state._version = seq  # the stamp first: see `fast_runner`
        state._value = value
        state._tracer = has_tracer
        if sig is not None:
            state._sig = sig
        seq += 1


class _Again:
    """What a fast runner returns when it stored nothing: another thread stored one of its
    states while it ran (or it read during a store). The caller takes the general path, which
    runs the computation again."""

    def __repr__(self) -> str:
        return "AGAIN"


AGAIN = _Again()


_UNROLL = 16  # up to this many states, a runner's reads and stores are generated unrolled (see below)


def fast_runner(kept: Sequence[Any], write_states: Sequence[Any], program: Callable, *,
                guard: Sequence[str] = (), names: Optional[Dict[str, Any]] = None,
                fallback: Optional[Callable] = None, failed: Optional[Callable] = None,
                failures: Tuple[type, ...] = (), owner: bool = False,
                params: Optional[Tuple[Tuple[str, ...], Tuple[str, ...]]] = None) -> Callable:
    """`run(*args, **kwargs)`: read `kept`, call `program`, store what it wrote, in one frame.

    `program(*values, *args, **kwargs)` takes the values of `kept` first, one argument each, and
    returns `(*written, out)`: the new values of `write_states` (a subset of `kept`), which must
    be concrete arrays that passed the write checks (a compiled program's outputs), then the
    output. `run` returns `out`. Outside every trace only. Interrupted while storing
    (`KeyboardInterrupt`), it puts back the values it had read: they are the states' values
    right before the store, which the check under the lock has just proven.

    If another thread stored one of the states while it ran (or it read during a store), it
    stores nothing and returns `fallback(args, kwargs)`, or `AGAIN` without a fallback. Its
    caller's conditions for taking this path at all come first: `guard` is a block of source
    lines over the objects in `names`, in which `return FALLBACK` hands the call to
    `fallback(args, kwargs)` (jit checks its graph epoch and that no trace is open).
    `failed(err, args, kwargs)` answers an exception of a type in `failures` raised by
    `program`. With `owner`, `run` takes a first positional argument it ignores (the instance of
    a bound method).

    `params`: `(positional-only names, other names)` of a function whose parameters are all
    positional, without defaults. `run` then has that signature instead of `*args, **kwargs`
    (Python binds a call by keyword as the function would) and passes them to `program` by
    position: a call costs no argument tuple nor keyword check (about 1 % of a small step).
    The caller passes keywords by position on its other paths too, so that `program` sees one
    call signature. Where a name would shadow one of the runner's own, `run` keeps
    `*args, **kwargs`.

    This is jit's per-call path, so it is generated as one function: each Python operation
    here costs several times its textbook price right after a compiled call has flushed the CPU
    caches, and a second frame, a loop over a small model's states, or a `threading.Lock` each
    cost a few percent of a small step. Up to `_UNROLL` states the reads and stores are written
    out (`r0 = k0._value`, ...); larger models loop. The values travel as separate arguments
    and results rather than in a list because `jax.jit` flattens every container of its
    arguments and builds every container of its results on each call: the list in and the list
    out cost 1.5 % of a small MLP step (measured, synchronous dispatch).
    """
    names = dict(names or {})
    positions = {id(s): i for i, s in enumerate(kept)}
    writes = tuple(positions[id(s)] for s in write_states)
    unrolled = len(kept) <= _UNROLL
    keys = tuple(sorted(names))
    make, tag = _factory(len(kept) if unrolled else None, writes if unrolled else (0,) * bool(writes), tuple(guard),
                         keys, owner, fallback is not None, bool(failures), params)
    rare = (commit_lock.wait, failed, tuple(failures), list(kept), list(write_states), list(writes))
    return make((tag, fallback, program, commit_lock.take, commit_lock.give, rare, *(names[k] for k in keys),
                 *(kept if unrolled else ())))


def general_runner(fallback: Callable) -> Callable:
    """`run(*args, **kwargs)` returning `fallback(args, kwargs)`, built like `fast_runner`'s
    runners (its data in one closure cell, `fallback` second), so that `install` can put either
    kind into a public function."""
    return _general((None, fallback))


def _general(_data):
    def run(*args, **kwargs):
        return _data[1](args, kwargs)

    return run


def install(public: Callable, runner: Callable) -> None:
    """Make the function `public` behave as `runner` (from `fast_runner` or `general_runner`):
    its closure cell gets the runner's data, then its code the runner's code.

    Calls never see a mix that runs: every runner's code reads its data as one tuple whose
    first item names the code it is laid out for and whose second is the fallback, and takes
    the fallback when the tuple does not fit (another length) or names another code. So a call
    between the two stores, or while another thread installs, takes the general path. The
    caller serializes installs into one public function (two interleaved ones could leave the
    data of one with the code of the other: correct, but slow until the next install).
    """
    (cell,), (data,) = public.__closure__ or (), runner.__closure__ or ()
    cell.cell_contents = data.cell_contents
    public.__code__ = runner.__code__


def _clash(params: Sequence[str], guard: Sequence[str], guard_names: Sequence[str]) -> bool:
    """Whether a parameter of that name would shadow a name the generated runner uses: its
    own, the guard's (any identifier in its lines) and the unrolled `k<i>`, `r<i>`, `v<i>`."""
    used = _RESERVED.union(guard_names, *(re.findall(r"[A-Za-z_]\w*", line) for line in guard))
    return any(x in used or re.fullmatch(r"[kvr]\d+", x) for x in params)


_RESERVED = frozenset({"make", "run", "seq", "start", "stamp", "values", "written", "out", "err", "args", "kwargs",
                       "program", "take", "give", "rare", "fallback", "_data", "_tag", "AGAIN", "IndexError",
                       "ValueError", "BaseException", "_stamped_after", "_owner", "s", "v", "i", "zip"})


_TAGS = itertools.count(1)  # one per generated runner code (see `install`)


@functools.lru_cache(maxsize=256)
def _factory(n: Optional[int], writes: Tuple[int, ...], guard: Tuple[str, ...], guard_names: Tuple[str, ...],
             owner: bool, has_fallback: bool, catch: bool,
             params: Optional[Tuple[Tuple[str, ...], Tuple[str, ...]]] = None) -> Tuple[Callable, int]:
    """`(make, tag)`: the factory of runners for `n` states of which those at `writes` are
    written, unrolled (with `n` None, looping over the lists of states; `writes` then only says
    whether any is), and the tag its data tuples carry first.

    `make(data)` returns the runner; `data` is `(tag, fallback, program, take, give, rare,
    *guard objects, *states)` with `rare = (wait, failed, failures, kept, write_states,
    write_pos)`, the things only the rare paths use (one subscript there, none on the common
    path). The runner unpacks it on every call (one C-level step) rather than closing over each
    item, so that one closure cell holds a runner's every binding (see `install`).
    """
    tag = next(_TAGS)
    unrolled = n is not None
    n = n or 0
    ks = [f"k{i}" for i in range(n)]
    if params is not None and _clash([*params[0], *params[1]], guard, guard_names):
        params = None  # a parameter would shadow a name the runner uses: take `*args, **kwargs`
    if params is not None:
        names = [*params[0], *params[1]]
        signature = ", ".join([*params[0], *(["/"] if params[0] else []), *params[1]])
        passed = "".join(x + ", " for x in names)
        args, kwargs = f"({passed})", "{}"
    else:
        signature, passed, args, kwargs = "*args, **kwargs", "*args", "args", "kwargs"
    if owner:
        signature = "_owner, /" + (", " + signature if signature else "")
    layout = ["_tag", "fallback", "program", "take", "give", "rare", *guard_names, *ks]
    to_fallback = f"fallback({args}, {kwargs})"
    lines = ["def make(_data):",
             f"    def run({signature}):",
             "        global seq",
             "        try:",
             f"            {', '.join(layout)}, = _data",
             "        except ValueError:  # the data of another layout, being installed",
             f"            return _data[1]({args}, {kwargs})",
             f"        if _tag != {tag}:  # the data of another code of the same length, being installed",
             f"            return {to_fallback}"]
    lines += ["        " + line.replace("FALLBACK", to_fallback) for line in guard]
    lines.append("        start = seq")
    if unrolled:
        lines += [f"        r{i} = k{i}._value" for i in range(n)]
        values = "".join(f"r{i}, " for i in range(n))
        results = "".join(f"v{j}, " for j in range(len(writes))) + "out,"
        moved = " or ".join(["start & 1"] + [k + "._version > start" for k in ks])
    else:
        lines.append("        values = [s._value for s in rare[3]]")
        values, results = "*values, ", "written"
        moved = "start & 1 or _stamped_after(rare[3], start)"
    # (no keywords: the common call, without copying the empty keyword dict)
    if params is None:
        call = ["if kwargs:",
                f"    {results} = program({values}*args, **kwargs)",
                "else:",
                f"    {results} = program({values}*args)"]
    else:
        call = [f"{results} = program({values}{passed})"]
    if not unrolled:
        call.append("out = written[-1]")
    if catch:
        lines.append("        try:")
        lines += ["            " + line for line in call]
        lines += ["        except rare[2] as err:",
                  f"            return rare[1](err, {args}, {kwargs})"]
    else:
        lines += ["        " + line for line in call]
    again = to_fallback if has_fallback else "AGAIN"
    if not writes:
        lines += [f"        if seq != start and ({moved}):",
                  f"            return {again}  # a store overlapped the read",
                  "        return out"]
    else:
        lines += ["        try:",
                  "            take()",
                  "        except IndexError:  # another thread holds the token",
                  "            rare[0]()",
                  "        try:",
                  f"            if seq != start and ({moved}):",
                  "                out = AGAIN  # stored nothing: answered once the token is back",
                  "            else:",
                  "                seq = stamp = seq + 1",
                  "                try:"]
        if unrolled:
            lines += [f"                    k{i}._version = stamp; k{i}._value = v{j}" for j, i in enumerate(writes)]
            lines.append("                except BaseException:  # interrupted: put every state back")
            lines += [f"                    k{i}._value = r{i}" for i in writes]
        else:
            lines += ["                    for s, v in zip(rare[4], written):  # (`written` ends with `out`)",
                      "                        s._version = stamp",
                      "                        s._value = v",
                      "                except BaseException:  # interrupted: put every state back",
                      "                    for s, i in zip(rare[4], rare[5]):",
                      "                        s._value = values[i]"]
        lines += ["                    raise",
                  "                finally:",
                  "                    seq = stamp + 1",
                  "        finally:",
                  "            give(None)"]
        if has_fallback:
            lines += ["        if out is AGAIN:",
                      f"            return {to_fallback}"]
        lines.append("        return out")
    lines.append("    return run")
    namespace: dict = {}
    # The module's globals: `seq`, `AGAIN` and `_stamped_after` in the generated body are this module's.
    label = f"{n} states" if unrolled else "many states"
    exec(compile("\n".join(lines), f"<brainstate fast runner: {label}>", "exec"), globals(), namespace)
    return namespace["make"], tag


def _stamped_after(states: Sequence[Any], start: int) -> bool:
    return any(s._version > start for s in states)


def _sig_of(value: Any) -> tuple:
    treedef, _, sigs, _ = signature(value)
    return treedef, sigs
