"""State-aware `jit`: compile once per call signature, never stale, at hand-written speed.

A `JittedFunction` keeps one compiled *entry* per structure of the object graph its function
reaches (`graph._watch`): the states it threads (kept and donated), the states it writes, and
a `jax.jit` object over the engine's pure function, which takes each state's value as an
argument of its own. A call reads the state values, lets `jax.jit`'s C++ dispatch match the
argument signature, and stores the written values back under one lock (`_state._commit`); per
call it also compares one integer (the graph epoch) and checks the names and lists the
function reaches its model through (usually none). All of that is one generated function per
entry (`_install`), which `jit` hands out directly for a Python function: the plain function
it returns runs the installed runner's code on its data (`_commit.install`).

Everything else is decided at trace time, inside `jax.jit`'s trace of the entry:
- the engine's discovery for the call's abstract signature (the Python function runs once per
  trace); if it touches a state, writes a state or reads an `environ` key the entry does not
  thread yet, the entry grows to the union and is rebuilt (`_Grow`), without tracing the
  Python function again;
- `environ` values read while tracing select among separate `jax.jit` objects, so a different
  `dt` compiles a new program instead of reusing the old constant;
- when a watched node changed (an attribute set or deleted: `model.training = False`, a state
  swapped, a sub-module replaced), the next call recomputes the fingerprint and selects the
  entry for it, compiling one if it is new; alternating between known structures never
  traces again. Creating states or modules the function cannot reach costs nothing.
A state reshaped on purpose (`restore_value`) changes the argument signature, so `jax.jit`
retraces by itself. Every retrace after the first is explained in `explain_retraces()`.

State donation is opt-in (`donate_states=True` or a filter): the buffers of written states are
then reused for their new values, which saves memory, but any array the user kept from such a
state's earlier `.value` becomes invalid after the call.
"""

import contextlib
import functools
import inspect
import threading
import weakref
from types import FunctionType, MethodType
from typing import Any, Callable, Dict, List, Optional, Sequence

import jax

from .. import _compatible_import as compat
from .._errors import BrainStateError, TraceContextError
from .._state import _commit
from .._state._trace import _local as _trace_local, open_traces as _open_traces
from ..environ._settings import lookup, read as _environ_read
from ..graph import _epoch
from ..graph._watch import Containers, describe_change, layout, states_in
from ..typing import MISSING, Missing
from ..util._filters import to_predicate
from ._diagnostics import (_root_of, call_signature, explain_signature_change, label, report_states,
                           state_paths, warn_costly)
from ._state_sharding import check_sharding, constrain, state_sharding_resolver
from ._stateful import StatefulFunction, _hashable, _normalize_argnums, check_no_state_args

__all__ = ["jit", "JittedFunction"]

_UNSPECIFIED = MISSING


class _Grow(Exception):
    """Internal: a trace needs states or environ keys its entry does not thread yet."""

    def __init__(self, found):
        super().__init__("the compiled entry must thread more states")
        self.found = found


class _Reselect(Exception):
    """Internal: the graph changed between selecting an entry and tracing it."""


class _Entry:
    """One compiled program for one structure of the reached graph."""

    __slots__ = ("states", "write_states", "kept", "donated", "restored", "restored_any", "env_keys", "jitted",
                 "by_env", "plain", "fast", "epoch", "fp_id", "fp", "rebind", "containers", "guarded")

    def __init__(self, fp_id: int, fp: tuple):
        self.states: list = []
        self.write_states: list = []
        self.kept: list = []
        self.donated: list = []
        self.restored: List[bool] = []
        self.restored_any = False
        self.env_keys: tuple = ()
        self.jitted: Any = None
        self.plain = False  # built, and reads no environ key: `jitted` is the program for every call
        self.fast = False  # nothing donated or restored: called by a generated runner (`_install`)
        self.by_env: Dict[tuple, Any] = {}
        self.epoch = -1
        self.fp_id, self.fp = fp_id, fp
        self.rebind: tuple = ()
        self.containers: Optional[Containers] = None  # the lists and dicts reached, if any
        self.guarded = False  # either of the two above: checked on every call

    def guard(self, rebind: tuple, containers: Optional[Containers]) -> None:
        """What to check on every call besides the graph epoch: the globals the function
        reaches its model by (`(namespace, name, object)`), and the lists and dicts it reaches."""
        self.rebind, self.containers = rebind, containers
        self.guarded = bool(rebind) or containers is not None


class _BoundMethod:
    """`fun(obj, ...)` holding `obj` weakly, so a per-instance compiled method never keeps it alive."""

    def __init__(self, fun: Callable, obj: Any):
        self._fun = fun
        self._ref = weakref.ref(obj)
        functools.update_wrapper(self, fun, updated=())
        try:
            params = list(inspect.signature(fun).parameters.values())[1:]
            self.__signature__ = inspect.Signature(params)
        except (TypeError, ValueError):
            pass

    def __call__(self, *args, **kwargs):
        obj = self._ref()
        if obj is None:
            raise ReferenceError(f"the object {self._fun.__name__} was bound to no longer exists.")
        return self._fun(obj, *args, **kwargs)

    def __brainstate_roots__(self) -> list:
        obj = self._ref()
        return [self._fun] + ([] if obj is None else [obj])


class JittedFunction:
    """A compiled, state-aware function: what `brainstate.transform.jit` builds (and returns for
    methods, modules and other callables; for a function it returns `_as_function()`).

    Attributes:
      stateful_fun: the underlying `StatefulFunction` (state discovery and the pure function).
      origin_fun: the function that was compiled.
    """

    # `self(...)` runs the instance's `__call__` slot: the generated runner of the selected entry
    # (guards, read, program, store in one frame, see `_install`), or the general path.
    __slots__ = ("__call__", "__dict__", "__weakref__")
    _OWNER = False  # whether calls pass the instance of a bound method first (`_MethodJit`)

    def __init__(self, fun: Callable, static_argnums=None, static_argnames=None, donate_argnums=None,
                 donate_argnames=None, in_shardings=_UNSPECIFIED, out_shardings=_UNSPECIFIED,
                 keep_unused: bool = False, device=None, backend=None, inline: bool = False,
                 abstracted_axes=None, donate_states=False, state_shardings=None, **kwargs):
        self.stateful_fun = StatefulFunction(fun, static_argnums, static_argnames)
        self.fun = self.origin_fun = fun
        self._options = dict(static_argnums=static_argnums, static_argnames=static_argnames,
                             donate_argnums=donate_argnums, donate_argnames=donate_argnames,
                             in_shardings=in_shardings, out_shardings=out_shardings, keep_unused=keep_unused,
                             device=device, backend=backend, inline=inline, abstracted_axes=abstracted_axes,
                             donate_states=donate_states, state_shardings=state_shardings, **kwargs)
        self._sharding_of = state_sharding_resolver(state_shardings)
        # id(instance) -> (weak reference to it, its compiled method), for use as a method decorator
        self._bound: Dict[int, tuple] = {}
        sig = self.stateful_fun.signature
        donated = _DonateSignature(fun, donate_argnums, donate_argnames)
        jit_kwargs = dict(static_argnames=sig.all_argnames, donate_argnames=donated.argnames,
                          keep_unused=keep_unused, inline=inline, **kwargs)
        if device is not None:
            jit_kwargs["device"] = device
        if backend is not None:
            jit_kwargs["backend"] = backend
        if abstracted_axes is not None:
            jit_kwargs["abstracted_axes"] = abstracted_axes
        self._jit_kwargs = jit_kwargs  # and, per entry, what depends on its number of states (`_jit_options`)
        self._static_argnums, self._donate_argnums = sig.all_argnums, donated.argnums
        self._in_shardings, self._out_shardings = in_shardings, out_shardings
        # all parameters positional, none static or donated: the runner takes them by name (see `_by_position`)
        self._params = None if sig.all_argnums or sig.all_argnames or donated.argnums or donated.argnames \
            else _positional_params(self.fun)
        self._donate = None if donate_states is False else to_predicate(donate_states)
        self._retraces: List[str] = []
        self._warned = False
        self._lock = threading.RLock()
        self._pinned = threading.local()  # `.found`: the discovery a retry of this call must reuse
        self._entries: Dict[int, _Entry] = {}
        self._runner_env: Optional[tuple] = None  # the environ values the installed runner is for
        self._by_layout: Dict[tuple, int] = {}  # graph layout -> the latest entry for it (see `_rebound`)
        self._public: Optional[Callable] = None  # the plain function `jit` returned, if any (`_as_function`)
        self._install(_Entry(-1, ()))  # epoch -1: the first call selects a real entry
        self._last_fp: Optional[tuple] = None
        functools.update_wrapper(self, fun, updated=())

    # -- entries -------------------------------------------------------------------------------
    def _select(self) -> _Entry:
        """The entry for the graph the function reaches now (a new, empty one if unseen)."""
        with self._lock:
            epoch = _epoch.epoch
            sf = self.stateful_fun
            fp_id, fp = sf.structure()
            entry = self._entries.get(fp_id)
            if entry is None:
                live = sf.structure_ids()  # the entries of forgotten structures go with them
                for old in [i for i in self._entries if i not in live]:
                    self._entries.pop(old).epoch = -1  # see `_grow`
                self._by_layout = {k: i for k, i in self._by_layout.items() if i in live}
                entry = self._rebound(fp_id, fp)
                if entry is None:
                    entry = _Entry(fp_id, fp)
                    if self._last_fp is not None and self._last_fp != fp:
                        paths = _path_namer(sf)
                        self._retraces.append(describe_change(self._last_fp, fp, paths))
                self._entries[fp_id] = entry
                self._by_layout[layout(fp)] = fp_id
            self._last_fp = fp
            entry.epoch = epoch
            entry.guard(tuple((r.holder, r.name, r.obj) for r in sf._rebindings), sf._containers or None)
            self._install(entry)
            return entry

    def _rebound(self, fp_id: int, fp: tuple) -> Optional[_Entry]:
        """An entry for the graph `fp` running the program of a known entry whose graph differed
        only in which State objects sat where, each new one interchangeable with the one it
        replaces (`_interchangeable`); None if there is none.

        The program's state inputs and outputs are positions in the graph, so the new entry
        lists at each position the state the graph holds there now, and the compiled program
        runs unchanged: calling `init_all_states(net)` between trials (new state objects every
        time) or swapping two states costs no trace and no compilation. If `jax.jit` retraces
        the shared program for other arguments, the trace runs for the entry of the graph of
        the moment (see `_new_jit`).
        """
        template = self._entries.get(self._by_layout.get(layout(fp), -1))
        if template is None or template.jitted is None or template.donated or template.restored_any:
            return None
        old, new = states_in(template.fp), states_in(fp)
        if old is None or new is None:
            return None
        swap = {id(a): b for a, b in zip(old, new) if a is not b}
        if not all(_interchangeable(a, swap[id(a)]) for a in template.states if id(a) in swap):
            return None
        states = [swap.get(id(s), s) for s in template.states]
        if len(set(map(id, states))) != len(states):
            return None  # a state the walk does not see (behind a plain object) is now also in the graph
        entry = _Entry(fp_id, fp)
        entry.states = states
        entry.write_states = [swap.get(id(s), s) for s in template.write_states]
        entry.kept = [swap.get(id(s), s) for s in template.kept]
        entry.restored = list(template.restored)
        entry.env_keys, entry.by_env = template.env_keys, template.by_env  # (shared: the programs per environ value)
        entry.jitted, entry.plain, entry.fast = template.jitted, template.plain, template.fast
        return entry

    def _fill(self, entry: _Entry, states: Sequence, write_states: Sequence, restored: Sequence[bool],
              env_keys: tuple) -> None:
        donated = [s for s in write_states if self._donate is not None and self._donate((), s)]
        donated_ids = set(map(id, donated))
        entry.states = list(states)
        entry.write_states = list(write_states)
        entry.restored = list(restored)
        entry.restored_any = any(restored)
        entry.kept = [s for s in states if id(s) not in donated_ids]
        entry.donated = donated
        entry.env_keys = tuple(env_keys)
        entry.by_env = {}
        entry.jitted = self._new_jit(entry)
        entry.plain = not entry.env_keys
        entry.fast = not entry.donated and not entry.restored_any
        if self._entry is entry:
            self._install(entry)

    def _install(self, entry: _Entry) -> None:
        """Make `entry` the one calls try first: `self(...)` runs its generated runner if it has
        one (`_commit.fast_runner`: guards, read, program and store in one frame), else the
        general path.

        The runner takes the general path unless the graph is as when `entry` was selected (the
        graph epoch, the globals the function reaches its model by, the lists and dicts of
        states or modules it holds), no trace is open and JAX is not tracing; and when another
        thread stored one of its states meanwhile (the general path runs the computation again).
        """
        self._entry = entry
        program, env = entry.jitted, None
        if entry.fast and not entry.plain:  # the program for this thread's current environ values
            env = _env_values(entry)
            program = entry.by_env.get(env)
        if not entry.fast or program is None:
            self.__call__ = self._generic
            self._runner_env = None
            self._publish()
            return
        self._runner_env = env
        guard = ["if entry.epoch != _epoch.epoch or _open_traces or _JAX_TRACE.value is not _EVAL_TRACE:",
                 "    return FALLBACK"]
        names = dict(entry=entry, _epoch=_epoch, _open_traces=_open_traces, _JAX_TRACE=_JAX_TRACE,
                     _EVAL_TRACE=_EVAL_TRACE)
        if env is not None:  # environ values are per thread: compared on every call
            guard += ["if (" + "".join(f"_hashable(lookup({k!r})), " for k in entry.env_keys) + ") != env:",
                      "    return FALLBACK"]
            names.update(env=env, _hashable=_hashable, lookup=lookup)
        if entry.rebind:
            guard += ["for namespace, name, obj in rebind:",
                      "    if namespace.get(name) is not obj:",
                      "        return FALLBACK"]
            names["rebind"] = entry.rebind
        if entry.containers is not None:
            guard += ["try:  # one C-level comparison for the lists and dicts of states and modules",
                      "    if live != copies or (slow and moved_slow()):",
                      "        return FALLBACK",
                      "except Exception:  # an item's `==` raised: the general path re-checks the graph",
                      "    return FALLBACK"]
            c = entry.containers
            names.update(live=c.live, copies=c.copies, slow=c.slow, moved_slow=c.moved_slow)
        run = _commit.fast_runner(
            entry.kept, entry.write_states, program, guard=guard, names=names, fallback=self._call,
            failed=lambda err, args, kwargs: self._failed(err, entry, args, kwargs),
            failures=(_Grow, _Reselect, TypeError), owner=self._OWNER, params=self._params)
        # a call with the wrong arguments is refused by the runner's signature: name the function
        run.__name__ = getattr(self.fun, "__name__", run.__name__)
        run.__qualname__ = getattr(self.fun, "__qualname__", run.__name__)
        self.__call__ = run
        self._publish()

    def _publish(self) -> None:
        """Make the plain function `jit` returned (if any) run what `self(...)` runs now."""
        public = self._public
        if public is None:
            return
        with self._lock:  # (installs into one function must not interleave, see `_commit.install`)
            run = self.__call__
            _commit.install(public, run if isinstance(run, FunctionType) else self._general)

    def _as_function(self) -> Callable:
        """This compiled function as a plain Python function, which `jit` returns for a function.

        Python calls a function's code directly, while calling an object dispatches through
        its type's `__call__` first (an argument tuple and a second entry into the
        interpreter): 1.7 % of a small MLP step. The function runs the code of this object's
        installed runner with its data (`_publish` puts them in at every install), and carries
        the compiled function's members as attributes (`.lower`, `.clear_cache`, ...).
        """
        if self._public is None:
            self._general = _commit.general_runner(self._call)
            public = _commit.general_runner(self._call)  # a shell of its own, filled by `_publish`
            functools.update_wrapper(public, self.fun)
            for name in _MEMBERS:
                setattr(public, name, getattr(self, name))
            extra = dict(jitted_fun=lambda *args, **kwargs: self.jitted_fun(*args, **kwargs),
                         __brainstate_roots__=lambda: [self.fun],  # what the graph walk follows
                         _compiled=self)  # (for tests and debugging)
            for name, value in extra.items():
                setattr(public, name, value)
            self._public = public
            self._publish()
        return self._public

    def _jit_options(self, entry: _Entry) -> dict:
        """`jax.jit`'s options for the entry's program, `program(*kept, *donated, *args, **kwargs)
        -> (*written, out)`: the user's argument numbers and shardings shifted past the state values."""
        first = len(entry.kept) + len(entry.donated)
        shift = lambda nums: tuple(i + first if i >= 0 else i for i in nums)
        options = dict(self._jit_kwargs, static_argnums=shift(self._static_argnums),
                       donate_argnums=(*range(len(entry.kept), first), *shift(self._donate_argnums)))
        if self._in_shardings is not _UNSPECIFIED:
            # State values come first and stay where they are (None: unconstrained).
            user = self._in_shardings
            options["in_shardings"] = (None,) * first + tuple(user if isinstance(user, (tuple, list)) else (user,))
        if self._out_shardings is not _UNSPECIFIED:
            options["out_shardings"] = (None,) * len(entry.write_states) + (self._out_shardings,)
        return options

    def _new_jit(self, entry: _Entry):
        n = len(entry.states)
        positions = {id(s): i for i, s in enumerate(entry.states)}
        kept_idx = [positions[id(s)] for s in entry.kept]
        donated_idx = [positions[id(s)] for s in entry.donated]
        first = len(kept_idx) + len(donated_idx)
        sf = self.stateful_fun
        signatures: list = []  # one per trace of this jax.jit object, to explain its retraces

        def traced(*flat, **kwargs):
            values: list = [None] * n
            for i, v in zip(kept_idx + donated_idx, flat):
                values[i] = v
            args = flat[first:]
            found = getattr(self._pinned, "found", None)
            e = entry
            if found is None:  # (else: this call's first trace ran the function; reuse it, see `_failed`)
                fp_id = sf.structure()[0]
                if fp_id != entry.fp_id:
                    e = self._entries.get(fp_id)
                    if e is None or not _runs(e, program):  # (an entry `_rebound` onto this program runs it)
                        raise _Reselect()
                found = sf.discover(*args, **kwargs)
            self._on_trace(e, signatures, values, args, kwargs)
            have = set(map(id, e.states))
            writes = set(map(id, e.write_states))
            if (not all(id(s) in have for s in found.states)
                    or not all(id(s) in writes for s in found.write_states)
                    or not set(found.env) <= set(e.env_keys)):
                raise _Grow(found)
            for i, state in enumerate(e.states):
                sharding = self._sharding_of(state)
                if sharding is not None:
                    check_sharding(state, sharding, values[i])
                    values[i] = constrain(values[i], sharding)
            written, out = found.pure(e.states, e.write_states)(values, *args, **kwargs)
            written = [v if sh is None else constrain(v, sh)
                       for v, sh in zip(written, map(self._sharding_of, e.write_states))]
            return (*written, out)

        traced.__name__ = sf.name  # names the compiled computation after the user's function
        program = jax.jit(traced, **self._jit_options(entry))
        return program

    def _grow(self, entry: _Entry, found) -> None:
        """Rebuild `entry` to thread the union of its states and what a trace touched."""
        with self._lock:
            if self._entries.get(entry.fp_id) is not entry:
                return  # another thread replaced it meanwhile
            states = list(entry.states)
            seen = set(map(id, states))
            new = [s for s in found.states if id(s) not in seen]
            states.extend(new)
            writes = {id(s) for s in entry.write_states} | {id(s) for s in found.write_states}
            restored = {id(s) for s, r in zip(entry.write_states, entry.restored) if r}
            restored |= {id(s) for s, r in zip(found.write_states, found.write_restored()) if r}
            new_env = tuple(k for k in found.env if k not in entry.env_keys)
            if entry.states or entry.env_keys:
                paths = state_paths(_root_of(self.fun))
                what = [f"`{label(s, paths)}`" for s in new] + [f"environ `{k}`" for k in new_env]
                self._retraces.append(f"the function touched {', '.join(what) or 'another state set'} for the "
                                      f"first time")
            if not self._warned:
                self._warned = True
                warn_costly(found, self.fun)
            write_states = [s for s in states if id(s) in writes]
            replacement = _Entry(entry.fp_id, entry.fp)
            replacement.epoch = entry.epoch
            replacement.guard(entry.rebind, entry.containers)
            self._fill(replacement, states, write_states, [id(s) in restored for s in write_states],
                       entry.env_keys + new_env)
            self._entries[entry.fp_id] = replacement
            entry.epoch = -1  # a runner still holding the old entry (another thread's) takes the general path
            if self._entry is entry:
                self._install(replacement)

    def _on_trace(self, entry: _Entry, signatures: list, values, args, kwargs) -> None:
        """Record this trace's signature; explain it if the same program was traced before."""
        sf = self.stateful_fun
        sig = call_signature(self.fun, entry.states, values, args, kwargs, sf.signature.all_argnums,
                             sf.signature.all_argnames)
        if signatures:
            reasons = explain_signature_change(signatures[-1], sig, state_paths(_root_of(self.fun)))
            self._retraces.append("; ".join(reasons) or "the compiled entry was evicted from the cache")
        signatures.append(sig)

    def _program(self, entry: _Entry):
        """The `jax.jit` object for the current `environ` values of the keys the entry reads."""
        if entry.jitted is None:
            self._fill(entry, (), (), (), ())
        keys = entry.env_keys
        if not keys:
            return entry.jitted
        values = _env_values(entry)
        program = entry.by_env.get(values)
        if program is None:
            with self._lock:
                if entry.by_env:
                    before = next(reversed(entry.by_env))
                    changes = [f"environ `{k}` changed {a!r} → {b!r}" for k, a, b in zip(keys, before, values) if a != b]
                    self._retraces.append("; ".join(changes))
                    program = self._new_jit(entry)
                else:
                    program = entry.jitted
                entry.by_env[values] = program
        if self._entry is entry and entry.fast and self._runner_env != values:
            self._install(entry)  # the next call with these values takes the generated runner
        return program

    # -- calling -------------------------------------------------------------------------------
    def _generic(self, *args, **kwargs):
        """`self(...)` while the selected entry has no generated runner (see `_install`)."""
        return self._call(args, kwargs)

    def _by_position(self, args: tuple, kwargs: dict):
        """`(args, kwargs)` with the arguments given by keyword passed by position, where every
        parameter is positional (`self._params`): the generated runner passes them so, and
        `jax.jit` would trace a call by keyword separately. Anything else is left as it is (a
        wrong call fails as it would have)."""
        if not kwargs or self._params is None:
            return args, kwargs
        only, other = self._params
        names = only + other
        rest = names[len(args):]
        if len(args) < len(only) or set(rest) != set(kwargs):
            return args, kwargs
        return args + tuple(kwargs[name] for name in rest), {}

    def _call(self, args: tuple, kwargs: dict):
        """Every call the fast path does not take."""
        args, kwargs = self._by_position(args, kwargs)
        if _trace_local.stack:
            return self._call_traced(args, kwargs)
        return self._run_entry(self._current(), args, kwargs)

    def _run_entry(self, entry: _Entry, args: tuple, kwargs: dict, pinned=None):
        """Read the entry's states, run its program and store what it wrote.

        `pinned`: the discovery a new trace of the program must reuse instead of running the
        function again (see `_failed`); it applies to this program call only.
        """
        program = entry.jitted if entry.plain else self._program(entry)
        kept, start = _commit.read_values(entry.kept)
        donated = _commit.read_values(entry.donated)[0] if entry.donated else ()
        try:
            with self._pin(pinned):
                *written, out = program(*kept, *donated, *args, **kwargs)
        except (_Grow, _Reselect, TypeError) as err:
            return self._failed(err, entry, args, kwargs)
        if not written:
            return out
        return self._commit_general(entry, written, out, start, args, kwargs)

    @contextlib.contextmanager
    def _pin(self, found):
        self._pinned.found = found
        try:
            yield
        finally:
            self._pinned.found = None

    def _commit_general(self, entry: _Entry, written, out, start: int, args: tuple, kwargs: dict):
        if not _commit.commit(entry.write_states, written, entry.restored, start):
            # another thread wrote a state: run again on its values
            return self._call(args, kwargs)
        return out

    def _failed(self, err: Exception, entry: _Entry, args: tuple, kwargs: dict):
        """A call whose trace found more states (`_Grow`), another graph (`_Reselect`), or bad arguments."""
        if isinstance(err, _Grow):
            self._grow(entry, err.found)
            grown = self._entries.get(entry.fp_id)
            if grown is not None and grown is not entry:
                # Finish on the trace that just ran the function: a function that changes the
                # graph while traced (`init_all_states` in the step, `self.n += 1`) would
                # otherwise select another entry and run again, without end. The next call sees
                # the changed graph and selects (or traces) the entry for it, as eager would.
                return self._run_entry(grown, args, kwargs, pinned=err.found)
        elif isinstance(err, _Reselect):
            self._select()
        else:
            check_no_state_args(args, kwargs, f"jit({self.stateful_fun.name})")
            raise err
        return self._call(args, kwargs)

    @staticmethod
    def _moved(entry: _Entry) -> bool:
        """Whether a global was rebound or a list or dict changed since `entry` was selected."""
        return (any(names.get(name) is not obj for names, name, obj in entry.rebind)
                or (entry.containers is not None and entry.containers.moved()))

    def _call_traced(self, args, kwargs):
        """Called inside another transform: reads and writes go through the enclosing trace."""
        check_no_state_args(args, kwargs, f"jit({self.stateful_fun.name})")
        for _ in range(_MAX_ROUNDS):
            entry = self._current()
            try:
                return self._traced_entry(entry, args, kwargs)
            except _Grow as grow:
                self._grow(entry, grow.found)
                grown = self._entries.get(entry.fp_id)
                if grown is not None and grown is not entry:
                    return self._traced_entry(grown, args, kwargs, grow.found)  # see `_failed`
            except _Reselect:
                self._select()
        raise self._unsettled()

    def _traced_entry(self, entry: _Entry, args: tuple, kwargs: dict, pinned=None):
        """`_run_entry` inside another transform: values read from and written to its trace."""
        program = self._program(entry)
        for key in entry.env_keys:
            _environ_read(key)
        values = {id(s): s.value for s in entry.states}  # records the reads in the enclosing trace
        with self._pin(pinned):
            *written, out = program(*[values[id(s)] for s in entry.kept + entry.donated], *args, **kwargs)
        for state, value, restored in zip(entry.write_states, written, entry.restored):
            state._write(value, restore=restored)
        return out

    def _unsettled(self) -> BrainStateError:
        return BrainStateError(
            f"jit({self.stateful_fun.name}): the states the function uses keep changing: each of "
            f"{_MAX_ROUNDS} traces in a row touched states the previous one did not. A compiled "
            f"function must reach the same states every time it is traced for the same arguments "
            f"(no state chosen by a counter or a random Python value); pick the state from an "
            f"argument, or make the choice a static argument.")

    # -- inspection ----------------------------------------------------------------------------
    @property
    def jitted_fun(self):
        """The `jax.jit` object of the current entry (built on first use)."""
        return self._program(self._current())

    def _current(self) -> _Entry:
        """The selected entry; selected again if the graph may have changed since."""
        entry = self._entry
        if entry.epoch != _epoch.epoch or (entry.guarded and self._moved(entry)):
            entry = self._select()
        return entry

    def get_states(self, *args, **kwargs):
        """The states a call with these arguments touches (no compilation)."""
        return self.stateful_fun.get_states(*args, **kwargs)

    def get_read_states(self, *args, **kwargs):
        """The states a call with these arguments only reads."""
        return self.stateful_fun.get_read_states(*args, **kwargs)

    def get_write_states(self, *args, **kwargs):
        """The states a call with these arguments writes."""
        return self.stateful_fun.get_write_states(*args, **kwargs)

    def donated_states(self, *args, **kwargs) -> list:
        """The written states whose buffers a call with these arguments donates.

        Empty unless `donate_states` was set.
        """
        if self._donate is None:
            return []
        return [s for s in self.get_write_states(*args, **kwargs) if self._donate((), s)]

    def report(self, *args, root=None, **kwargs):
        """A `StateReport` of what a call with these arguments reads, writes, creates and donates."""
        return report_states(self, *args, root=root, **kwargs)

    def explain_retraces(self) -> List[str]:
        """Why each retrace after the first compilation happened, oldest first."""
        return list(self._retraces)

    def _prepared(self, args, kwargs):
        """The entry and program for a call, grown to thread every state the call touches."""
        for _ in range(_MAX_ROUNDS):  # each round adds states; a function has finitely many
            entry = self._current()
            found = self.stateful_fun.discover(*args, **kwargs)
            have = set(map(id, entry.states))
            if entry.jitted is None or not all(id(s) in have for s in found.states) or \
                    not set(map(id, found.write_states)) <= set(map(id, entry.write_states)) or \
                    not set(found.env) <= set(entry.env_keys):
                if entry.jitted is None:
                    self._fill(entry, (), (), (), ())
                self._grow(entry, found)
                continue
            return entry, self._program(entry)
        raise self._unsettled()

    def trace(self, *args, **kwargs):
        """Trace for these arguments with the current states (`jax.stages.Traced`)."""
        args, kwargs = self._by_position(args, kwargs)
        entry, program = self._prepared(args, kwargs)
        return program.trace(*self._inputs(entry), *args, **kwargs)

    def lower(self, *args, **kwargs):
        """Lower for these arguments with the current states (`jax.stages.Lowered`)."""
        args, kwargs = self._by_position(args, kwargs)
        entry, program = self._prepared(args, kwargs)
        return program.lower(*self._inputs(entry), *args, **kwargs)

    def compile(self, *args, **kwargs):
        """Compile for these arguments ahead of the first call; later calls reuse the program.

        Returns the `jax.stages.Compiled` object.
        """
        args, kwargs = self._by_position(args, kwargs)
        entry, program = self._prepared(args, kwargs)
        return program.lower(*self._inputs(entry), *args, **kwargs).compile()

    @staticmethod
    def _inputs(entry: _Entry) -> list:
        return [s._value for s in entry.kept + entry.donated]

    def eval_shape(self, *args, **kwargs):
        """Output shapes of a call with these arguments."""
        return self.stateful_fun.discover(*args, **kwargs).out_shapes

    def clear_cache(self) -> None:
        """Forget every compiled entry and every discovered state set."""
        with self._lock:
            self.stateful_fun.clear_cache()
            for entry in self._entries.values():
                entry.epoch = -1  # see `_grow`
            self._entries.clear()
            self._by_layout.clear()
            self._install(_Entry(-1, ()))
            self._last_fp = None

    def __get__(self, obj, objtype=None):
        # Used as a method decorator: each instance gets a jitted function of its own, cached
        # here holding `obj` weakly (the class-level cache must not keep every instance alive).
        # `obj.method` is a Python bound method of it: it holds `obj` as bound methods do, Python
        # passes `obj` first (`_MethodJit` drops it) and other attributes are the compiled
        # function's (`.compile`, `.clear_cache`).
        if obj is None:
            return self
        held = self._bound.get(id(obj))
        if held is not None and held[0]() is obj:
            return MethodType(held[1], obj)
        try:
            ref = weakref.ref(obj, functools.partial(_forget, self._bound, id(obj)))
        except TypeError:  # not weak-referenceable
            return JittedFunction(functools.partial(self.fun, obj), **self._options)
        bound = _MethodJit(_BoundMethod(self.fun, obj), **self._options)
        bound.__wrapped__ = self.fun  # its signature, as called: the instance first
        self._bound[id(obj)] = (ref, bound)
        return MethodType(bound, obj)

    def __repr__(self) -> str:
        return f"jit({self.stateful_fun.name})"


class _MethodJit(JittedFunction):
    """The compiled method of one instance, called as `MethodType(this, obj)(*args)`: Python
    passes the instance first; the compiled function already holds it (weakly)."""

    _OWNER = True

    def _generic(self, _owner, /, *args, **kwargs):
        return self._call(args, kwargs)


def _env_values(entry: _Entry) -> tuple:
    """The calling thread's values of the `environ` keys `entry` reads, as keys of `by_env`."""
    return tuple(_hashable(lookup(k)) for k in entry.env_keys)


def _runs(entry: _Entry, program: Any) -> bool:
    """Whether `program` is one of `entry`'s (`_rebound` entries share their template's)."""
    return entry.jitted is program or any(p is program for p in entry.by_env.values())


# State attributes that do not change what a traced program does with the state
_VOLATILE = frozenset({"_value", "_version", "_source", "_tracer", "_owner", "_raw_trace", "_raw_restored",
                       "_been_writen", "_sig"})


def _interchangeable(old: Any, new: Any) -> bool:
    """Whether a program traced with `old` at a place in the graph runs the same with `new`
    there: same type, tree structure, shapes and dtypes, same metadata (name, tags, sharding
    and the rest), a concrete value, and no hooks on either (hooks run while tracing)."""
    if type(old) is not type(new) or old._sig != new._sig or new._tracer:
        return False
    if old._hooks is not None or new._hooks is not None:
        return False
    a = {k: v for k, v in vars(old).items() if k not in _VOLATILE}
    b = {k: v for k, v in vars(new).items() if k not in _VOLATILE}
    if a.keys() != b.keys():
        return False
    try:
        return all(a[k] is b[k] or bool(a[k] == b[k]) for k in a)
    except Exception:  # metadata whose `==` is not a truth value: not known to be equal
        return False


def _forget(cache: dict, key: int, ref: Any) -> None:
    """Drop a collected instance's compiled method (unless the id was reused meanwhile)."""
    held = cache.get(key)
    if held is not None and held[0] is ref:
        del cache[key]


class _DonateSignature:
    """`donate_argnums` / `donate_argnames`, each spelling completed from the other."""

    def __init__(self, fun: Callable, argnums, argnames):
        from ._stateful import Signature

        sig = Signature(fun, argnums, argnames)
        self.argnums, self.argnames = sig.all_argnums, sig.all_argnames


_MAX_ROUNDS = 8  # traces in a row that may each find new states before jit gives up
_JAX_TRACE = compat.current_trace_ref  # `.value`: the JAX trace operations bind to now (thread-local)
_EVAL_TRACE = compat.base_eval_trace  # its value outside every JAX transform


def _positional_params(fun: Callable):
    """`(positional-only names, other names)` of `fun`'s parameters when all are positional
    and none has a default; else None (also for a signature `inspect` cannot read)."""
    try:
        params = inspect.signature(fun).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.default is not p.empty or p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params):
        return None
    return (tuple(p.name for p in params if p.kind is p.POSITIONAL_ONLY),
            tuple(p.name for p in params if p.kind is p.POSITIONAL_OR_KEYWORD))


def _path_namer(sf: StatefulFunction) -> Callable[[tuple], str]:
    """Names fingerprint paths: `(root index, *keys)` → `model.layers.0.w`."""
    roots = sf._reached() or []

    def name(path: tuple) -> str:
        root = roots[path[0]] if path and path[0] < len(roots) else None
        head = type(root).__name__.lower() if root is not None else "<root>"
        return ".".join([head] + [str(k) for k in path[1:]])

    return name


def jit(fun: Any = MISSING, in_shardings: Any = _UNSPECIFIED, out_shardings: Any = _UNSPECIFIED,
        static_argnums=None, donate_argnums=None, static_argnames=None, donate_argnames=None,
        keep_unused: bool = False, device=None, backend=None, inline: bool = False,
        abstracted_axes=None, donate_states=False, state_shardings=None, **kwargs):
    """Compile a function that reads and writes `State`s.

    Usable as `jit(f)`, `@jit`, `@jit(...)` (also `jit(Missing(), ...)`), on a module instance
    (`jit(model)`) and on methods (`@jit` in a class body). The states the function touches are
    found by tracing it once; states it writes are updated after every call, exactly as an eager
    call would leave them. A compiled call always equals the eager call: after an attribute of
    a module it reaches changes (`model.training = False`), a state is swapped or a sub-module
    replaced, the next call uses (or compiles) the program for the new structure.

    Args:
      fun: the function (or callable module) to compile.
      in_shardings, out_shardings: as in `jax.jit`, for the arguments and the output.
      static_argnums, static_argnames: compile-time constant arguments (by position or name;
        either spelling covers the argument however it is passed).
      donate_argnums, donate_argnames: arguments whose buffers may be reused.
      donate_states: False (default), True, or a filter: written states whose buffers are reused
        for their new values. Saves memory; only safe when no array obtained from such a
        state's `.value` is used after the call.
      state_shardings: `{filter or State: sharding}`; states without an entry use their own
        `sharding` metadata. Each such state's value is constrained to its sharding on the way in
        and its written value on the way out, so it stays sharded across calls.
      keep_unused, device, backend, inline, abstracted_axes, **kwargs: passed to `jax.jit`.

    Returns:
      For a Python function, a plain function (a call costs no dispatch through an object); for
      a method in a class body, a module or another callable, a `JittedFunction` object. Either
      is called like `fun` and has `.clear_cache()`, `.lower(...)`, `.compile(...)`,
      `.trace(...)`, `.get_read_states(...)`, `.get_write_states(...)`, `.report(...)`,
      `.explain_retraces()`, `.stateful_fun`, `.origin_fun`, `.jitted_fun`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> n = brainstate.State(jnp.array(0))
      >>> @brainstate.transform.jit
      ... def inc():
      ...     n.value += 1
      ...     return n.value
      >>> [int(inc()) for _ in range(3)]
      [1, 2, 3]
    """
    options = dict(in_shardings=in_shardings, out_shardings=out_shardings, static_argnums=static_argnums,
                   donate_argnums=donate_argnums, static_argnames=static_argnames,
                   donate_argnames=donate_argnames, keep_unused=keep_unused, device=device, backend=backend,
                   inline=inline, abstracted_axes=abstracted_axes, donate_states=donate_states,
                   state_shardings=state_shardings, **kwargs)
    if isinstance(fun, Missing):
        return lambda f: jit(f, **options)
    if not callable(fun):
        raise TypeError(f"jit expects a callable (a function or a module), got {type(fun).__name__}: {fun!r}.")
    compiled = JittedFunction(fun, **options)
    return compiled._as_function() if _plain_function(fun) else compiled


# What the plain function `jit` returns carries of its `JittedFunction` (besides `jitted_fun`).
_MEMBERS = ("stateful_fun", "fun", "origin_fun", "get_states", "get_read_states", "get_write_states", "donated_states",
            "report", "explain_retraces", "trace", "lower", "compile", "eval_shape", "clear_cache")


def _plain_function(fun: Any) -> bool:
    """Whether `jit` returns a plain function for `fun`: a Python function not defined in a class
    body. One defined in a class body is a method: `jit` returns the `JittedFunction`, whose
    `__get__` compiles it per instance (`obj.method(...)`)."""
    if not isinstance(fun, FunctionType):
        return False
    scope = fun.__qualname__.rpartition(".")[0]
    return not scope or scope.endswith("<locals>")
