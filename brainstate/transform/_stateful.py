"""The stateful-function engine shared by every state-aware transform.

`StatefulFunction(fun)` traces `fun` **once** per call signature into a jaxpr whose inputs are
the dynamic arguments followed by the values of every external `State` the function touched,
and whose outputs are the function's output followed by the new values of the states it wrote
(the layout of the reference release, which libraries built on it read). States become inputs
as they are met: a `StateTrace` on this thread records each first touch and adds a jaxpr input
for it (`_compatible_import.new_input`), so the Python function never runs a second time.

Every transform is then one recipe (`call`):

1. discover: the cached `Discovery` for this call (see below), else trace the function;
2. gather the states' values (an enclosing transform records those reads);
3. hand `Discovery.pure()`, the pure function `(state_values, *args) -> (written, out)` that
   evaluates the jaxpr, to the JAX transform (`jax.grad`, `jax.vmap`, `lax.scan`, ...);
4. commit the written values, all at once (`_state._commit`).

A cached discovery is reused only while it is still what tracing would produce: the same
argument signature (shapes, dtypes, weak types, static values by value), the same `environ`
values for the keys the function read, the same signatures of its states as seen now, and the
same object graph reachable from the function (`graph._watch`: the bound instance, closures,
defaults and globals; checked only when a watched node changed). The call signature is bound
(`inspect.Signature.bind`) before static arguments are split from dynamic ones, so a static
argument may be passed by position or by keyword.
"""

import inspect
import itertools
import threading
import weakref
from typing import Any, Callable, Dict, Hashable, List, Optional, Sequence, Tuple

import jax
import numpy as np

from .. import _compatible_import as compat
from .._errors import BrainStateError
from .._state import State, StateTrace
from .._state._commit import commit, snapshot
from .._state._signature import describe, signature
from .._state._trace import _local
from ..environ._settings import lookup
from ..graph import _epoch
from ..graph._watch import Containers, fingerprint, roots

__all__ = ["StatefulFunction", "Discovery", "check_no_state_args", "check_no_state_out", "Signature",
           "shared_layout", "run_fed"]


# -- arguments --------------------------------------------------------------------------------
def check_no_state_args(args, kwargs, where: str) -> None:
    """Raise a clear error if a State is passed as a (possibly nested) argument."""
    for leaf in jax.tree_util.tree_leaves((args, kwargs)):
        if isinstance(leaf, State):
            raise BrainStateError(
                f"{leaf._label()} was passed as an argument to {where}. States are not arguments: "
                f"a state-aware transform finds the states a function uses by itself, so use the "
                f"state directly inside the function (through a closure or a module attribute), or "
                f"pass `state.value` if you mean its current value.")


def check_no_state_out(out, where: str) -> None:
    """Raise a clear error if a function returns a State or another value that is not a JAX type."""
    leaves = jax.tree_util.tree_leaves(out)
    for leaf in leaves:
        if isinstance(leaf, State):
            raise BrainStateError(
                f"The function transformed by {where} returned {leaf._label()}. A transformed function "
                f"returns arrays; return `state.value` instead, or keep the state in a module.")
    if all(map(compat.valid_jaxtype, leaves)):
        return
    for path, leaf in jax.tree_util.tree_flatten_with_path(out)[0]:
        if not compat.valid_jaxtype(leaf):
            at = f" at output `{jax.tree_util.keystr(path)}`" if path else ""
            raise TypeError(
                f"The function transformed by {where} returned a {type(leaf).__name__}{at} ({leaf!r:.60}), "
                f"which is not a JAX type: a transformed function returns arrays and numbers (pytrees of "
                f"them). Return it from a function outside the transform, or turn it into an array.")


def _normalize_argnums(argnums) -> Tuple[int, ...]:
    if argnums is None:
        return ()
    if isinstance(argnums, int):
        return (argnums,)
    return tuple(argnums)


def _normalize_argnames(argnames) -> Tuple[str, ...]:
    if argnames is None:
        return ()
    if isinstance(argnames, str):
        return (argnames,)
    return tuple(argnames)


def _hashable(v):
    """A cache-key part for `v`: `v` itself if hashable; arrays and Quantities (and pytrees of
    them) by their contents, so an equal value made anew (`t = 5 * u.ms` at every step) finds
    its compiled program; anything else by identity, holding the object so its id is never
    reused for another value while the key lives."""
    try:
        hash(v)
        return v
    except TypeError:
        pass
    leaves, treedef = jax.tree_util.tree_flatten(v)
    parts = [_contents(x) for x in leaves]
    try:
        hash(treedef)
    except TypeError:
        parts.append(None)
    if any(p is None for p in parts):
        return _ByIdentity(v)
    return ("<by value>", treedef, tuple(parts))


def _contents(x) -> Optional[Hashable]:
    """`x` if hashable, an array's (shape, dtype, bytes), or None (a tracer, an object)."""
    if isinstance(x, compat.Tracer):
        return None
    try:
        hash(x)
        return x
    except TypeError:
        pass
    a = np.asarray(x)
    return None if a.dtype == object else (a.shape, a.dtype.str, a.tobytes())


class _ByIdentity:
    """A key part equal only to itself; it keeps its object alive (see `_hashable`)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __hash__(self) -> int:
        return id(self.value)

    def __eq__(self, other) -> bool:
        return isinstance(other, _ByIdentity) and other.value is self.value


def _abstract_leaf(x):
    shape = getattr(x, "shape", None)
    dtype = getattr(x, "dtype", None)
    if shape is not None and dtype is not None:
        return tuple(shape), str(dtype), bool(getattr(x, "weak_type", False))
    if isinstance(x, (bool, int, float, complex)):
        return type(x)
    return _hashable(x)


class Signature:
    """How a function's arguments split into static and dynamic ones.

    Binds the call signature first (when the function has one), so `f(x, n=2)` and `f(x, 2)`
    agree on which argument is `n`. Static arguments are named by position (`static_argnums`,
    counted in the bound positional arguments) or by name (`static_argnames`); each spelling
    covers the other.
    """

    def __init__(self, fun: Callable, static_argnums=(), static_argnames=()):
        self.static_argnums = _normalize_argnums(static_argnums)
        self.static_argnames = _normalize_argnames(static_argnames)
        try:
            self.sig: Optional[inspect.Signature] = inspect.signature(fun)
        except (TypeError, ValueError):  # builtins and C callables have none
            self.sig = None
        names: List[str] = []
        if self.sig is not None:
            names = [p.name for p in self.sig.parameters.values()
                     if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        # Each spelling of a static argument implies the other, as in `jax.jit`.
        self.all_argnames = tuple(dict.fromkeys(
            self.static_argnames + tuple(names[i] for i in self.static_argnums if -len(names) <= i < len(names))))
        self.all_argnums = tuple(dict.fromkeys(
            self.static_argnums + tuple(names.index(n) for n in self.static_argnames if n in names)))

    def bind(self, args: tuple, kwargs: dict) -> Tuple[tuple, dict]:
        """The arguments in canonical form: positional where they can be, keywords otherwise."""
        if self.sig is None:
            return tuple(args), dict(kwargs)
        try:
            bound = self.sig.bind(*args, **kwargs)
        except TypeError:
            return tuple(args), dict(kwargs)  # the call itself will raise Python's own error
        return tuple(bound.args), dict(bound.kwargs)

    def split(self, args: tuple, kwargs: dict):
        """`(dyn_args, dyn_kwargs, static_key, rebuild)` of a call.

        `rebuild(dyn_args, dyn_kwargs)` gives back `(args, kwargs)` in canonical form.
        """
        args, kwargs = self.bind(args, kwargs)
        n = len(args)
        static_pos = sorted({i % n for i in self.all_argnums if -n <= i < n})
        dyn_args = tuple(a for i, a in enumerate(args) if i not in static_pos)
        static_args = tuple((i, args[i]) for i in static_pos)
        dyn_kwargs = {k: v for k, v in kwargs.items() if k not in self.all_argnames}
        static_kwargs = tuple(sorted((k, v) for k, v in kwargs.items() if k in self.all_argnames))

        def rebuild(d_args, d_kwargs):
            it = iter(d_args)
            full = [args[i] if i in static_pos else next(it) for i in range(n)]
            return tuple(full), {**d_kwargs, **dict(static_kwargs)}

        return dyn_args, dyn_kwargs, (static_args, static_kwargs), rebuild


# -- one trace of a function ------------------------------------------------------------------
class _JaxprStateTrace(StateTrace):
    """A state trace that makes every external state met an input of the jaxpr being built."""

    __slots__ = ("jax_trace", "view", "outer_sigs", "in_trees")

    def __init__(self, view: Optional[Callable] = None):
        super().__init__()
        self.jax_trace = None
        self.view = view
        self.outer_sigs: list = []  # each state's signature just outside this trace
        self.in_trees: list = []  # each state's tree as presented (its jaxpr inputs)

    def present(self, state, outer):
        treedef, leaves, sigs, _ = signature(outer)
        self.outer_sigs.append((treedef, sigs))
        avals = []
        for leaf, sig in zip(leaves, sigs):
            if sig[0] == "object":
                raise BrainStateError(
                    f"{state._label()} holds a {type(leaf).__name__} leaf, which a state-aware "
                    f"transform cannot thread (it passes arrays in and out of compiled code). Keep "
                    f"Python objects as plain attributes, or store arrays in the state.")
            avals.append(compat.shaped_abstractify(leaf))
        tree = jax.tree_util.tree_unflatten(treedef, avals)
        if self.view is not None:
            seen = self.view(state, tree)
            if seen is not None:
                tree = seen
        flat, treedef = jax.tree_util.tree_flatten(tree)
        self.in_trees.append(treedef)
        return jax.tree_util.tree_unflatten(treedef, [compat.new_input(self.jax_trace, compat.to_aval(a)) for a in flat])


class Discovery:
    """What one trace of a function found, and the pure function that replays it.

    Attributes:
      states: external states in first-touch order (the jaxpr's state inputs, in order).
      written, was_read, restored: one flag per state.
      write_states, read_states: the written states, and those only read.
      created: states created while tracing (local to the transform).
      env: `environ` keys read while tracing, with their values.
      out_shapes: `jax.ShapeDtypeStruct`s of the output.
      jaxpr: a `ClosedJaxpr`: `(*arg_leaves, *state_leaves) -> (*out_leaves, *written_leaves)`.
    """

    __slots__ = ("states", "written", "was_read", "restored", "created", "write_states", "read_states", "env",
                 "out_shapes", "out_tree", "jaxpr", "in_tree", "state_trees", "written_trees", "outer_sigs",
                 "signature", "name", "static", "key", "cacheable", "__weakref__")
    states: List[Any]
    written: List[bool]
    was_read: List[bool]
    restored: List[bool]
    created: List[Any]
    write_states: List[Any]
    read_states: List[Any]
    env: Dict[str, Any]
    out_shapes: Any
    out_tree: Any
    jaxpr: Any
    in_tree: Any
    state_trees: List[Any]
    written_trees: List[Any]
    outer_sigs: List[Any]
    signature: "Signature"
    name: str
    static: Any
    key: Any
    cacheable: bool

    def write_restored(self) -> List[bool]:
        """One flag per written state: its written value changes the signature on purpose."""
        return [r for r, w in zip(self.restored, self.written) if w]

    def env_matches(self) -> bool:
        return all(_hashable(lookup(k)) == _hashable(v) for k, v in self.env.items())

    def states_match(self) -> bool:
        """Whether every state still looks as it did when traced (shapes, dtypes, structure)."""
        stack = _local.stack
        for state, sig in zip(self.states, self.outer_sigs):
            if stack:
                treedef, _, sigs, _ = signature(stack[-1].peek(state))
                if (treedef, sigs) != sig:
                    return False
            elif state._sig != sig:
                return False
        return True

    def arg_leaves(self, args: tuple, kwargs: dict) -> list:
        """The jaxpr's argument inputs for a call (static arguments dropped)."""
        dyn_args, dyn_kwargs, _, _ = self.signature.split(args, kwargs)
        leaves, tree = jax.tree_util.tree_flatten((dyn_args, dyn_kwargs))
        if tree != self.in_tree:
            raise BrainStateError(
                f"{self.name} was traced for arguments with structure {self.in_tree} but is now called "
                f"with {tree}. This is a bug in the transform calling it; please report it.")
        return leaves

    def pure(self, states: Optional[Sequence[State]] = None, write_states: Optional[Sequence[State]] = None
             ) -> Callable:
        """`(state_values, *args, **kwargs) -> (written_values, out)`, evaluating the jaxpr.

        `states` (default: this discovery's) orders `state_values`; it may list more states than
        were touched. `write_states` (default: the written ones) orders `written_values`; a state
        listed there but not written by this trace returns the value it was given, so several
        traces (the branches of a `cond`, say) can share one state layout.
        """
        states = self.states if states is None else list(states)
        write_states = self.write_states if write_states is None else list(write_states)
        pos = {id(s): i for i, s in enumerate(states)}
        missing = [s for s in self.states if id(s) not in pos] + [
            s for s in write_states if id(s) not in pos and s not in self.write_states]
        if missing:
            raise BrainStateError(
                f"{self.name}: the state layout given to the pure function lacks {missing[0]._label()}, "
                f"which the function touches. This is a bug in the transform; please report it.")
        take = [pos[id(s)] for s in self.states]
        mine = {id(s): k for k, s in enumerate(self.write_states)}
        plan = [(True, mine[id(s)]) if id(s) in mine else (False, pos[id(s)]) for s in write_states]
        jaxpr, consts = self.jaxpr.jaxpr, self.jaxpr.consts
        n_out = self.out_tree.num_leaves
        state_trees, written_trees, out_tree = self.state_trees, self.written_trees, self.out_tree

        def pure_fun(state_values, *args, **kwargs):
            inputs = self.arg_leaves(args, kwargs)
            for i, tree in zip(take, state_trees):
                inputs.extend(tree.flatten_up_to(state_values[i]))
            outs = compat.eval_jaxpr(jaxpr, consts, *inputs)
            out = jax.tree_util.tree_unflatten(out_tree, outs[:n_out])
            new, at = [], n_out
            for tree in written_trees:
                new.append(jax.tree_util.tree_unflatten(tree, outs[at:at + tree.num_leaves]))
                at += tree.num_leaves
            return [new[k] if here else state_values[k] for here, k in plan], out

        pure_fun.__name__ = self.name  # names the compiled computation after the user's function
        return pure_fun


def trace_once(fun: Callable, signature_: Signature, args: tuple, kwargs: dict, name: str,
               axis_env=None, view: Optional[Callable] = None) -> Discovery:
    """Run `fun` once under a jaxpr trace, making every state it touches an input."""
    dyn_args, dyn_kwargs, static, rebuild = signature_.split(args, kwargs)
    in_leaves, in_tree = jax.tree_util.tree_flatten((dyn_args, dyn_kwargs))
    in_avals = [compat.shaped_abstractify(x) for x in in_leaves]
    trace = _JaxprStateTrace(view)
    box: Dict[str, Any] = {}

    def flat_fun(*leaves):
        d_args, d_kwargs = jax.tree_util.tree_unflatten(in_tree, leaves)
        full_args, full_kwargs = rebuild(d_args, d_kwargs)
        trace.jax_trace = compat.current_trace()
        trace.jax_state = compat.get_opaque_trace_state()
        with trace:
            out = fun(*full_args, **full_kwargs)
        trace.check_foreign()
        check_no_state_out(out, name)
        out_leaves, box["out_tree"] = jax.tree_util.tree_flatten(out)
        written = [(v, t) for v, t, w in zip(trace.values, trace.sigs, trace.written) if w]
        box["written_trees"] = [t[0] for _, t in written]
        written_leaves = [leaf for v, (tree, _) in written for leaf in tree.flatten_up_to(v)]
        return out_leaves + written_leaves

    if axis_env:
        with compat.extend_axis_env(axis_env):
            jaxpr, consts = compat.trace_to_jaxpr(flat_fun, in_avals, name)
    else:
        jaxpr, consts = compat.trace_to_jaxpr(flat_fun, in_avals, name)
    found = Discovery()
    found.states = list(trace.states)
    found.written = list(trace.written)
    found.was_read = list(trace.was_read)
    found.restored = list(trace.restored)
    found.created = list(trace.created)
    found.write_states = trace.write_states()
    found.read_states = trace.read_only_states()
    found.env = dict(trace.env)
    found.outer_sigs = list(trace.outer_sigs)
    found.state_trees = list(trace.in_trees)
    found.written_trees = box["written_trees"]
    found.out_tree = box["out_tree"]
    n_out = found.out_tree.num_leaves
    found.out_shapes = jax.tree_util.tree_unflatten(
        found.out_tree, [jax.ShapeDtypeStruct(v.aval.shape, v.aval.dtype, weak_type=v.aval.weak_type)
                         for v in jaxpr.outvars[:n_out]])
    found.jaxpr = compat.ClosedJaxpr(jaxpr, consts)
    found.in_tree = in_tree
    found.signature = signature_
    found.name = name
    found.static = static
    found.key = None
    found.cacheable = not any(isinstance(c, compat.Tracer) for c in consts)
    return found


class _FedStateTrace(StateTrace):
    """A state trace that presents each known state as a given value (no jaxpr inputs)."""

    __slots__ = ("given",)

    def __init__(self, given: Dict[int, Any], jax_state: Any):
        super().__init__(jax_state)
        self.given = given

    def present(self, state, outer):
        try:
            return self.given[id(state)]
        except KeyError:
            raise BrainStateError(
                f"{state._label()} was not touched when the function was first traced for these "
                f"argument shapes, but is now. A function must touch the same states every time it is "
                f"traced with the same argument shapes.") from None


def run_fed(found: "Discovery", fun: Callable, states: Sequence[State], values: Sequence[Any],
            write_states: Sequence[State], args: tuple, kwargs: dict) -> Tuple[list, Any]:
    """Run `fun` in Python with `states` presented as `values`: `(written_values, out)`.

    For the one transform that must trace the function inside a JAX transform of its own
    (`shard_map`, whose per-shard types only exist there) after the state layout is known.
    """
    trace = _FedStateTrace({id(s): v for s, v in zip(states, values)}, compat.get_opaque_trace_state())
    with trace:
        out = fun(*args, **kwargs)
    check_no_state_out(out, found.name)
    current = dict(zip(map(id, trace.states), trace.values))
    written = [current.get(id(s), v) for s, v in zip(states, values) if any(s is w for w in write_states)]
    return written, out


def shared_layout(founds: Sequence[Discovery]) -> Tuple[list, list, List[bool]]:
    """`(states, write_states, restored)` covering several traces (the branches of a `cond`).

    States in first-touch order across the traces; a state written by any trace is written by
    all (the others pass its value through).
    """
    states: list = []
    seen: set = set()
    writes: set = set()
    restored: set = set()
    for found in founds:
        for s in found.states:
            if id(s) not in seen:
                seen.add(id(s))
                states.append(s)
        writes.update(map(id, found.write_states))
        restored.update(id(s) for s, r in zip(found.write_states, found.write_restored()) if r)
    write_states = [s for s in states if id(s) in writes]
    return states, write_states, [id(s) in restored for s in write_states]


def _weak(obj: Any) -> Any:
    try:
        return weakref.ref(obj)
    except TypeError:  # lists, dicts, ...: no weak references
        return obj


# -- the function -----------------------------------------------------------------------------
_MAX_STRUCTURES = 16  # graph structures remembered per function, with their discoveries and programs


def _structure_part(key: Any) -> int:
    """The structure id a cache key starts with (see `_args_part`)."""
    return tuple(key)[0]


def _args_part(key: Any) -> tuple:
    """A cache key without its first entry (the structure id): what describes the arguments."""
    return tuple(key)[1:]


def _optimizations(names: Any) -> Optional[Tuple[str, ...]]:
    """`ir_optimizations` as a tuple of known pass names (checked when the function is built)."""
    if names is None:
        return None
    from ._jaxpr_optimize import OPTIMIZATIONS, _ALIASES
    names = (names,) if isinstance(names, str) else tuple(names)
    unknown = [n for n in names if not isinstance(n, str) or _ALIASES.get(n, n) not in OPTIMIZATIONS]
    if unknown:
        raise ValueError(f"StatefulFunction(ir_optimizations=...) got unknown optimization(s) {unknown}; use "
                         f"names from: {', '.join(sorted(OPTIMIZATIONS) + sorted(_ALIASES))}.")
    return names


class StatefulFunction:
    """A function together with the knowledge of which states it reads and writes.

    Args:
      fun: the function; it may read and write any `State` it can reach (closures, module
        attributes, globals).
      static_argnums, static_argnames: arguments treated as compile-time constants (compared by
        value); a static argument may be passed by position or by keyword.
      axis_env: `(name, size)` pairs for collective axis names used inside `fun` when it is
        traced on its own.
      name: a name for error messages.
      return_only_write: the jaxpr of `get_jaxpr` outputs the written states only (default) or
        every state it touches (`False`; read-only states pass through).
      ir_optimizations: jaxpr passes applied to every traced program before it runs (names as
        in `optimize_jaxpr`: `'constant_fold'`, `'algebraic_simplification'`,
        `'copy_propagation'`, `'cse'`, `'dce'`; one name or a sequence). None: none.
      state_view: optional `(state, abstract_value) -> abstract_value | None`: how a state looks
        to `fun` when first touched (None: as it is). A mapping transform presents a batched
        state as one lane (or one shard).

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> counter = brainstate.State(jnp.array(0))
      >>> def step(x):
      ...     counter.value += x
      ...     return counter.value
      >>> sf = brainstate.transform.StatefulFunction(step)
      >>> sf.get_write_states(1) == (counter,)
      True
    """

    def __init__(self, fun: Callable, static_argnums=(), static_argnames=(), axis_env=None,
                 name: Optional[str] = None, return_only_write: bool = True, ir_optimizations=None,
                 state_view: Optional[Callable] = None):
        if not callable(fun):
            raise TypeError(f"StatefulFunction needs a callable, got {type(fun).__name__}: {fun!r}.")
        self.fun = fun
        self.signature = Signature(fun, static_argnums, static_argnames)
        self.static_argnums = self.signature.static_argnums
        self.static_argnames = self.signature.static_argnames
        self.axis_env = axis_env
        self.state_view = state_view
        self.return_only_write = return_only_write
        self.ir_optimizations = _optimizations(ir_optimizations)
        self.name: str = name or getattr(fun, "__name__", None) or type(fun).__name__
        self._cache: Dict[Hashable, List[Discovery]] = {}
        self._lock = threading.RLock()
        self._roots: Optional[list] = None
        self._rebindings: list = []
        self._fp_epoch = -1
        self._fp: tuple = ()
        self._fp_id = 0
        self._fp_ids: Dict[tuple, int] = {}
        self._fp_counter = itertools.count()
        self._containers = Containers([])  # the lists and dicts reached, as at the last walk
        self._stats = {"hits": 0, "misses": 0}
        self._last: Optional[Discovery] = None  # the latest discovery, cached or not

    # -- what the function reaches -------------------------------------------------------------
    def _reached(self) -> Optional[list]:
        """The root objects, or None if one of them died (the roots must be found again)."""
        if self._roots is None:
            return None
        objs = [r() if isinstance(r, weakref.ref) else r for r in self._roots]
        return None if any(o is None for o in objs) else objs

    def structure(self) -> Tuple[int, tuple]:
        """`(id, fingerprint)` of the object graph the function reaches, as it is now."""
        objs = self._reached()
        if objs is None or any(r.moved() for r in self._rebindings):
            objs, self._rebindings = roots(self.fun)
            # Weakly where possible: a per-instance compiled method must not keep its instance alive.
            self._roots = [_weak(o) for o in objs]
            self._fp_epoch = -1
        epoch = _epoch.epoch
        if epoch != self._fp_epoch or self._containers.moved():
            found: list = []
            fp = fingerprint(objs, found)
            self._containers = Containers(found)
            if fp != self._fp or not self._fp_ids:
                self._fp = fp
                self._fp_id = self._structure_id(fp)
            self._fp_epoch = epoch
        return self._fp_id, self._fp

    def structure_ids(self) -> set:
        """The ids of the structures remembered (see `_structure_id`)."""
        return set(self._fp_ids.values())

    def _structure_id(self, fp: tuple) -> int:
        """The id of a structure. The `_MAX_STRUCTURES` most recently met are remembered (with
        the discoveries traced for them); meeting another forgets the oldest, so a model whose
        states are replaced between calls (`init_all_states` before every trial) does not keep
        every earlier version of them, and their compiled programs, alive. A forgotten structure
        met again is traced again."""
        with self._lock:
            fp_id = self._fp_ids.pop(fp, None)
            if fp_id is None:
                fp_id = next(self._fp_counter)
                while len(self._fp_ids) >= _MAX_STRUCTURES:
                    oldest = self._fp_ids.pop(next(iter(self._fp_ids)))
                    self._cache = {key: found for key, found in self._cache.items() if _structure_part(key) != oldest}
            self._fp_ids[fp] = fp_id  # the most recent last
            return fp_id

    # -- the call signature --------------------------------------------------------------------
    def split_static(self, args, kwargs):
        """Split arguments into (dynamic args, dynamic kwargs, static key, rebuild)."""
        return self.signature.split(args, kwargs)

    def get_arg_cache_key(self, *args, compile_if_miss: bool = False, **kwargs) -> Hashable:
        """The cache key of a call: the graph it reaches, argument shapes/dtypes, static values.

        With `compile_if_miss=True`, trace the function if this key has no discovery yet.
        """
        key = self._key(args, kwargs)
        if compile_if_miss and self._find(key) is None:
            self.discover(*args, **kwargs)
        return key

    def _key(self, args, kwargs) -> Hashable:
        dyn_args, dyn_kwargs, static, _ = self.signature.split(args, kwargs)
        leaves, treedef = jax.tree_util.tree_flatten((dyn_args, dyn_kwargs))
        try:
            hash(static)
        except TypeError as e:
            raise TypeError(
                f"A static argument of {self.name} is not hashable ({e}). Static arguments are "
                f"compile-time constants compared by value; pass a hashable value (a tuple instead "
                f"of a list, say) or make the argument dynamic.") from None
        return self.structure()[0], treedef, tuple(_abstract_leaf(x) for x in leaves), static

    # -- discovery -----------------------------------------------------------------------------
    def _find(self, key) -> Optional[Discovery]:
        for found in self._cache.get(key, ()):
            if found.env_matches() and found.states_match():
                return found
        return None

    def discover(self, *args, **kwargs) -> Discovery:
        """The discovery for this call: cached, or found by tracing the function once."""
        check_no_state_args(args, kwargs, self.name)
        key = self._key(args, kwargs)
        found = self._find(key)
        if found is not None:
            self._stats["hits"] += 1
            return found
        with self._lock:
            found = self._find(key)
            if found is None:
                self._stats["misses"] += 1
                found = trace_once(self.fun, self.signature, args, kwargs, self.name, self.axis_env,
                                   self.state_view)
                self._containers.refresh()
                found.key = key
                self._last = found
                if self.ir_optimizations is not None:
                    from ._jaxpr_optimize import optimize_jaxpr  # the IR tools load on first use
                    found.jaxpr = optimize_jaxpr(found.jaxpr, optimizations=self.ir_optimizations)
                if found.cacheable:
                    entries = self._cache.setdefault(key, [])
                    # Variants for other environ values or state shapes; keep the recent ones.
                    entries[:] = entries[-7:] + [found]
        return found

    def forget(self, *args, **kwargs) -> None:
        """Drop the cached discovery for this call signature."""
        self._cache.pop(self._key(args, kwargs), None)

    def clear_cache(self) -> None:
        """Drop every cached discovery."""
        self._cache.clear()
        self._last = None

    # -- the shared recipe ---------------------------------------------------------------------
    def call(self, jax_call: Callable, args: tuple, kwargs: dict, restored: Optional[Callable] = None,
             write: bool = True):
        """Discover, gather state values, run `jax_call(pure, values, discovery)`, commit.

        `jax_call` applies a JAX transform to `pure` and returns `(written_values, result)`;
        `call` commits the written values and returns `result`. `restored(discovery)` may mark
        written values that change their state's signature on purpose (default: those written
        with `restore_value`); `write=False` commits nothing. If another thread wrote one of the
        states meanwhile, the computation runs again on the new values (it is pure), so no
        write is lost.
        """
        found = self.discover(*args, **kwargs)
        while True:
            values, since = snapshot(found.states, found.write_states)
            written, result = jax_call(found.pure(), values, found)
            flags = found.write_restored() if restored is None else restored(found)
            if not write or commit(found.write_states, written, flags, since):
                return result

    def __call__(self, *args, **kwargs):
        """Run the function through its jaxpr and write the states back (`jaxpr_call_auto`)."""
        return self.jaxpr_call_auto(*args, **kwargs)

    # -- inspection (API of the reference release) ---------------------------------------------
    def make_jaxpr(self, *args, **kwargs) -> "StatefulFunction":
        """Trace for these arguments (cached) and return self."""
        self.discover(*args, **kwargs)
        return self

    def _by_key(self, cache_key: Hashable) -> Discovery:
        found = self._find(cache_key)
        if found is None:
            # Not cached under this exact key: the latest discovery for the same arguments, made
            # before the model's structure changed (the first key entry) or not cacheable (it
            # closes over tracers of an enclosing trace). The getters inspect; they never run it.
            args_part = _args_part(cache_key)
            last = self._last
            if last is not None and _args_part(last.key) == args_part:
                return last
            for key in reversed(list(self._cache)):
                if _args_part(key) == args_part and self._cache[key]:
                    return self._cache[key][-1]
            raise KeyError(
                f"{self.name} has no compiled entry for cache key {cache_key!r}. Call "
                f"`get_arg_cache_key(*args, compile_if_miss=True)` or `make_jaxpr(*args)` first.")
        return found

    def _get(self, args, kwargs, compile_if_miss: bool) -> Discovery:
        if compile_if_miss:
            return self.discover(*args, **kwargs)
        return self._by_key(self._key(args, kwargs))

    def get_states(self, *args, compile_if_miss: bool = True, **kwargs) -> Tuple[State, ...]:
        """Every external state the function touches, in first-touch order."""
        return tuple(self._get(args, kwargs, compile_if_miss).states)

    def get_read_states(self, *args, compile_if_miss: bool = True, **kwargs) -> Tuple[State, ...]:
        """The states the function only reads."""
        return tuple(self._get(args, kwargs, compile_if_miss).read_states)

    def get_write_states(self, *args, compile_if_miss: bool = True, **kwargs) -> Tuple[State, ...]:
        """The states the function writes."""
        return tuple(self._get(args, kwargs, compile_if_miss).write_states)

    def get_out_shapes(self, *args, compile_if_miss: bool = True, **kwargs) -> Any:
        """`(out_shapes, state_shapes)` of a call (`jax.ShapeDtypeStruct`s, None for unwritten states)."""
        return self._out_shapes(self._get(args, kwargs, compile_if_miss))

    def get_out_treedef(self, *args, compile_if_miss: bool = True, **kwargs) -> Any:
        """The tree structure of `(out, state_values)` as the jaxpr's outputs unflatten."""
        return jax.tree_util.tree_structure(self.get_out_shapes(*args, compile_if_miss=compile_if_miss, **kwargs))

    def get_jaxpr(self, *args, compile_if_miss: bool = True, **kwargs) -> Any:
        """The `ClosedJaxpr` `(*args, *state_values) -> (*out, *state_values)` of a call."""
        return self._jaxpr_of(self._get(args, kwargs, compile_if_miss))

    def get_state_trace(self, *args, compile_if_miss: bool = True, **kwargs) -> Any:
        """A `StateTraceStack` listing the states of a call and which were written."""
        return self._trace_of(self._get(args, kwargs, compile_if_miss))

    def get_states_by_cache(self, cache_key: Hashable) -> Tuple[State, ...]:
        return tuple(self._by_key(cache_key).states)

    def get_read_states_by_cache(self, cache_key: Hashable) -> Tuple[State, ...]:
        return tuple(self._by_key(cache_key).read_states)

    def get_write_states_by_cache(self, cache_key: Hashable) -> Tuple[State, ...]:
        return tuple(self._by_key(cache_key).write_states)

    def get_out_shapes_by_cache(self, cache_key: Hashable) -> Any:
        return self._out_shapes(self._by_key(cache_key))

    def get_out_treedef_by_cache(self, cache_key: Hashable) -> Any:
        return jax.tree_util.tree_structure(self._out_shapes(self._by_key(cache_key)))

    def get_jaxpr_by_cache(self, cache_key: Hashable) -> Any:
        return self._jaxpr_of(self._by_key(cache_key))

    def get_state_trace_by_cache(self, cache_key: Hashable) -> Any:
        return self._trace_of(self._by_key(cache_key))

    def _out_shapes(self, found: Discovery) -> Any:
        shapes = {}
        for s, w, sig in zip(found.states, found.written, found.outer_sigs):
            if w or not self.return_only_write:
                shapes[id(s)] = jax.tree_util.tree_unflatten(
                    sig[0], [jax.ShapeDtypeStruct(shape, dtype) for shape, dtype, _ in sig[1]])
        return found.out_shapes, tuple(shapes.get(id(s)) for s in found.states)

    def _jaxpr_of(self, found: Discovery) -> Any:
        if self.return_only_write or all(found.written):
            return found.jaxpr
        # Every state as an output, in state order; read-only ones pass their input through.
        jaxpr = found.jaxpr.jaxpr
        n_args = found.in_tree.num_leaves
        n_out = found.out_tree.num_leaves
        state_in = jaxpr.invars[n_args:]
        written_out = iter(jaxpr.outvars[n_out:])
        outs, at = list(jaxpr.outvars[:n_out]), 0
        for tree, w in zip(found.state_trees, found.written):
            k = tree.num_leaves
            outs += [next(written_out) for _ in range(k)] if w else list(state_in[at:at + k])
            at += k
        return compat.ClosedJaxpr(jaxpr.replace(outvars=outs), found.jaxpr.consts)

    def _trace_of(self, found: Discovery) -> Any:
        from .._state import StateTraceStack

        trace = StateTraceStack(name=self.name)
        for s, w in zip(found.states, found.written):
            trace.read_its_value(s)
            if w:
                trace.write_its_value(s)
        return trace

    def get_cache_stats(self) -> Dict[str, Any]:
        """Sizes and hit counts of the discovery cache."""
        size = sum(len(v) for v in self._cache.values())
        hits, misses = self._stats["hits"], self._stats["misses"]
        total = hits + misses
        return {"compilation_cache": {"size": size, "hits": hits, "misses": misses,
                                      "hit_rate": 100.0 * hits / total if total else 0.0}}

    def validate_states(self, cache_key: Hashable) -> bool:
        """Whether the states of a cached entry still have the shapes and dtypes it was traced with.

        Raises:
          ValueError: naming the first state whose signature changed.
        """
        for found in self._cache.get(cache_key, ()):
            for state, sig in zip(found.states, found.outer_sigs):
                if state._sig != sig:
                    raise ValueError(
                        f"{state._label()} changed from {describe(*sig)} to {describe(*state._sig)} "
                        f"since {self.name} was traced; call it again to retrace.")
        return True

    def validate_all_states(self) -> Dict[Any, bool]:
        """`validate_states` for every cached entry: `{cache_key: ok}`."""
        out = {}
        for key in list(self._cache):
            try:
                out[key] = self.validate_states(key)
            except ValueError:
                out[key] = False
        return out

    def jaxpr_call(self, state_vals: Sequence, *args, **kwargs):
        """Run the jaxpr: `(new_state_values, out)`; no state is changed.

        `new_state_values` has one entry per state of `get_states`: the written value, or for
        a state only read, None (`return_only_write=True`, the default) or the value passed in.
        """
        found = self.discover(*args, **kwargs)
        state_vals = list(state_vals)
        written, out = found.pure(found.states, found.states)(state_vals, *args, **kwargs)
        if self.return_only_write:
            writes = set(map(id, found.write_states))
            written = [v if id(s) in writes else None for s, v in zip(found.states, written)]
        return tuple(written), out

    def debug_call(self, state_vals: Sequence, *args, **kwargs):
        """`jaxpr_call` with JIT disabled, for stepping through the computation."""
        with jax.disable_jit():
            return self.jaxpr_call(state_vals, *args, **kwargs)

    def jaxpr_call_auto(self, *args, **kwargs):
        """Run the function through its jaxpr with the current state values and write them back."""
        return self.call(lambda pure, values, found: pure(values, *args, **kwargs), args, kwargs)

    def describe_states(self, *args, **kwargs) -> str:
        """One line per touched state: read/write, kind, name and signature."""
        found = self.discover(*args, **kwargs)
        written = set(map(id, found.write_states))
        return "\n".join(
            f"{'write' if id(s) in written else 'read '} {type(s).__name__} {s.name or ''} {describe(*s._sig)}"
            for s in found.states)

    def __repr__(self) -> str:
        return f"StatefulFunction({self.name})"
