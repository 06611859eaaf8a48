"""The stateful-function engine shared by every state-aware transform.

`StatefulFunction(fun)` answers two questions and builds one function:

1. `discover(*args)`: which external states does `fun` read and write for arguments of this
   shape? It runs `fun` once under `jax.make_jaxpr` with a `StateTrace` recording every
   `State.value` access, and caches the answer per abstract call signature (shapes, dtypes,
   static argument values, and the `environ` values read while tracing).
2. `pure(states, write_states)`: the pure JAX function
   `(state_values, *args, **kwargs) -> (written_values, out)` that feeds `state_values` into
   the states, runs `fun`, collects the written values and puts every state back as it was.

Every transform is then the same recipe (`call`): discover, read the states' values (an
enclosing transform records those reads), hand `pure` to the JAX transform, write the new
values back. If, while a transform traces `pure`, the function touches a state that discovery
did not report (its state set depends on something discovery could not see), `pure` raises
`StaleStates`; the recipe forgets the discovery and tries again.
"""

from typing import Any, Callable, Dict, Hashable, Iterable, List, Optional, Sequence, Tuple

import jax
from jax.extend.core import get_opaque_trace_state

from .._errors import BrainStateError
from .._state import State, StateTrace
from .._state._signature import describe
from ..environ._settings import MISSING, lookup

__all__ = ["StatefulFunction", "StaleStates", "Discovery", "check_no_state_args", "check_no_state_out"]


class StaleStates(Exception):
    """Internal: a trace touched states (or environ keys) its compiled entry did not expect."""

    def __init__(self, trace: StateTrace):
        super().__init__("state set changed during tracing")
        self.states = list(trace.states)
        self.written = list(trace.written)
        self.was_read = list(trace.was_read)
        self.created = list(trace.created)
        self.env = dict(trace.env)


class Discovery:
    """What one trace of a function touched: states in first-touch order, writes, outputs."""

    __slots__ = ("states", "written", "was_read", "created", "write_states", "read_states", "env", "out_shapes",
                 "jaxpr")

    def __init__(self, trace: StateTrace, out_shapes=None, jaxpr=None):
        self.states = list(trace.states)
        self.written = list(trace.written)
        self.was_read = list(trace.was_read)
        self.created = list(trace.created)
        self.write_states = trace.write_states()
        self.read_states = trace.read_only_states()
        self.env = dict(trace.env)
        self.out_shapes = out_shapes
        self.jaxpr = jaxpr

    def env_matches(self) -> bool:
        return all(_hashable(lookup(k)) == _hashable(v) for k, v in self.env.items())


def _hashable(v):
    try:
        hash(v)
        return v
    except TypeError:
        return ("<unhashable>", id(v))


def _abstract_leaf(x):
    shape = getattr(x, "shape", None)
    dtype = getattr(x, "dtype", None)
    if shape is not None and dtype is not None:
        return tuple(shape), str(dtype), bool(getattr(x, "weak_type", False))
    if isinstance(x, (bool, int, float, complex)):
        return type(x)
    return _hashable(x)


def check_no_state_args(args, kwargs, where: str) -> None:
    """Raise a clear error if a State is passed as a (possibly nested) argument."""
    for i, leaf in enumerate(jax.tree_util.tree_leaves((args, kwargs))):
        if isinstance(leaf, State):
            raise BrainStateError(
                f"{leaf._label()} was passed as an argument to {where}. States are not arguments: "
                f"a state-aware transform finds the states a function uses by itself, so use the "
                f"state directly inside the function (through a closure or a module attribute), or "
                f"pass `state.value` if you mean its current value.")


def check_no_state_out(out, where: str) -> None:
    """Raise a clear error if a function returns a State."""
    for leaf in jax.tree_util.tree_leaves(out):
        if isinstance(leaf, State):
            raise BrainStateError(
                f"The function transformed by {where} returned {leaf._label()}. A transformed function "
                f"returns arrays; return `state.value` instead, or keep the state in a module.")


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


class StatefulFunction:
    """A function together with the knowledge of which states it reads and writes.

    Args:
      fun: the function; it may read and write any `State` it can reach (closures, module
        attributes, globals).
      static_argnums, static_argnames: arguments treated as compile-time constants (hashed by
        value in the discovery cache).
      axis_env: `(name, size)` pairs for collective axis names used inside `fun` when it is
        traced on its own (passed to `jax.make_jaxpr`).
      name: a name for error messages.
      return_only_write: kept for API compatibility; `pure` always returns written values only.
      ir_optimizations: accepted for API compatibility; ignored.
      state_view: optional `(state, value) -> value | None`, how a state looks to `fun` when
        discovery first touches it (None: as it is). A mapping transform presents a batched
        state as one lane (or one shard), so discovery traces `fun` as the transform will run it.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> counter = brainstate.State(jnp.array(0))
      >>> def step(x):
      ...     counter.value += x
      ...     return counter.value
      >>> sf = brainstate.transform.StatefulFunction(step)
      >>> sf.get_write_states(1) == [counter]
      True
    """

    def __init__(self, fun: Callable, static_argnums=(), static_argnames=(), axis_env=None,
                 name: Optional[str] = None, return_only_write: bool = True, ir_optimizations=None,
                 state_view: Optional[Callable] = None):
        if not callable(fun):
            raise TypeError(f"StatefulFunction needs a callable, got {type(fun).__name__}: {fun!r}.")
        self.fun = fun
        self.static_argnums = _normalize_argnums(static_argnums)
        self.static_argnames = _normalize_argnames(static_argnames)
        self.axis_env = axis_env
        self.state_view = state_view
        self.name: str = name or getattr(fun, "__name__", None) or type(fun).__name__
        self._discoveries: Dict[Hashable, List[Discovery]] = {}

    # -- the call signature --------------------------------------------------------------------
    def split_static(self, args, kwargs):
        """Split arguments into (dynamic args, dynamic kwargs, static key, rebuild)."""
        n = len(args)
        static_pos = tuple(i % n if i < 0 else i for i in self.static_argnums if -n <= i < n)
        dyn_args = tuple(a for i, a in enumerate(args) if i not in static_pos)
        static_args = tuple((i, args[i]) for i in static_pos)
        dyn_kwargs = {k: v for k, v in kwargs.items() if k not in self.static_argnames}
        static_kwargs = tuple(sorted((k, v) for k, v in kwargs.items() if k in self.static_argnames))

        def rebuild(d_args, d_kwargs):
            it = iter(d_args)
            full = [args[i] if i in static_pos else next(it) for i in range(n)]
            return tuple(full), {**d_kwargs, **dict(static_kwargs)}

        return dyn_args, dyn_kwargs, (static_args, static_kwargs), rebuild

    def get_arg_cache_key(self, *args, **kwargs) -> Hashable:
        """The abstract signature of a call: shapes/dtypes of dynamic args, values of static ones."""
        dyn_args, dyn_kwargs, static, _ = self.split_static(args, kwargs)
        leaves, treedef = jax.tree_util.tree_flatten((dyn_args, dyn_kwargs))
        try:
            hash(static)
        except TypeError as e:
            raise TypeError(
                f"A static argument of {self.name} is not hashable ({e}). Static arguments are "
                f"compile-time constants compared by value; pass a hashable value (a tuple instead "
                f"of a list, say) or make the argument dynamic.") from None
        return treedef, tuple(_abstract_leaf(x) for x in leaves), static

    # -- discovery -----------------------------------------------------------------------------
    def discover(self, *args, **kwargs) -> Discovery:
        """Trace `fun` once (cached per call signature) and report the states it touches."""
        check_no_state_args(args, kwargs, self.name)
        key = self.get_arg_cache_key(*args, **kwargs)
        for found in self._discoveries.get(key, ()):
            if found.env_matches():
                return found
        found = self._trace(args, kwargs)
        self._discoveries.setdefault(key, []).append(found)
        return found

    def _trace(self, args, kwargs) -> Discovery:
        dyn_args, dyn_kwargs, _, rebuild = self.split_static(args, kwargs)
        box = []

        def run(d_args, d_kwargs):
            full_args, full_kwargs = rebuild(d_args, d_kwargs)
            with StateTrace(get_opaque_trace_state(), view=self.state_view) as trace:
                out = self.fun(*full_args, **full_kwargs)
                check_no_state_out(out, self.name)
                box.append(trace)
            return out

        jaxpr, out_shapes = jax.make_jaxpr(run, axis_env=self.axis_env, return_shape=True)(dyn_args, dyn_kwargs)
        return Discovery(box[0], out_shapes, jaxpr)

    def forget(self, *args, **kwargs) -> None:
        """Drop the cached discovery for this call signature."""
        self._discoveries.pop(self.get_arg_cache_key(*args, **kwargs), None)

    def clear_cache(self) -> None:
        """Drop every cached discovery."""
        self._discoveries.clear()

    # -- the pure function ---------------------------------------------------------------------
    def pure(self, states: Sequence[State], write_states: Sequence[State], env_keys=None) -> Callable:
        """`(state_values, *args, **kwargs) -> (written_values, out)` for a known state set.

        Raises `StaleStates` while tracing if `fun` touches a state outside `states`, writes
        one outside `write_states`, or (when `env_keys` is given) reads another environ key.
        """
        fun, name = self.fun, self.name
        writable = frozenset(map(id, write_states))
        states, write_states = tuple(states), tuple(write_states)

        def pure_fun(state_values, *args, **kwargs):
            with StateTrace(get_opaque_trace_state()) as trace:
                for state, value in zip(states, state_values):
                    trace.feed(state, value)
                out = fun(*args, **kwargs)
                check_no_state_out(out, name)
                written = [s._value for s in write_states]
                if (len(trace.states) != len(states)
                        or any(w and id(s) not in writable for s, w in zip(trace.states, trace.written))
                        or (env_keys is not None and not set(trace.env) <= set(env_keys))):
                    raise StaleStates(trace)
            return written, out

        pure_fun.__name__ = name  # names the compiled computation after the user's function
        return pure_fun

    # -- the shared recipe ---------------------------------------------------------------------
    def call(self, jax_call: Callable, args: tuple, kwargs: dict, write_back: Optional[Callable] = None):
        """Discover, read state values, run `jax_call(pure, state_values, discovery)`, write back.

        `jax_call` applies a JAX transform to `pure` and returns `(written_values, out)`;
        `write_back(discovery, written_values)` may replace the default checked write-back.
        """
        for _ in range(4):
            found = self.discover(*args, **kwargs)
            values = [s.value for s in found.states]
            try:
                written, out = jax_call(self.pure(found.states, found.write_states), values, found)
            except StaleStates:
                self.forget(*args, **kwargs)
                continue
            if write_back is not None:
                write_back(found, written)
            else:
                for state, value in zip(found.write_states, written):
                    state.value = value
            return out
        raise BrainStateError(
            f"The set of states used by {self.name} keeps changing between traces. A function "
            f"must touch the same states each time it is traced with the same argument shapes; "
            f"do not create or swap State objects based on traced values.")

    # -- inspection (API of the reference release) ---------------------------------------------
    def make_jaxpr(self, *args, **kwargs) -> "StatefulFunction":
        """Trace for these arguments (cached) and return self."""
        self.discover(*args, **kwargs)
        return self

    def get_states(self, *args, **kwargs) -> List[State]:
        """Every external state the function touches, in first-touch order."""
        return list(self.discover(*args, **kwargs).states)

    def get_read_states(self, *args, **kwargs) -> List[State]:
        """The states the function only reads."""
        return list(self.discover(*args, **kwargs).read_states)

    def get_write_states(self, *args, **kwargs) -> List[State]:
        """The states the function writes."""
        return list(self.discover(*args, **kwargs).write_states)

    def get_out_shapes(self, *args, **kwargs):
        """`jax.ShapeDtypeStruct`s of the function's output."""
        return self.discover(*args, **kwargs).out_shapes

    def get_out_treedef(self, *args, **kwargs):
        return jax.tree_util.tree_structure(self.get_out_shapes(*args, **kwargs))

    def get_jaxpr(self, *args, **kwargs) -> Any:
        """The jaxpr of `pure`: inputs are the state values, then the dynamic arguments."""
        found = self.discover(*args, **kwargs)
        dyn_args, dyn_kwargs, _, rebuild = self.split_static(args, kwargs)
        pure = self.pure(found.states, found.write_states)

        def flat(values, d_args, d_kwargs):
            full_args, full_kwargs = rebuild(d_args, d_kwargs)
            return pure(values, *full_args, **full_kwargs)

        return jax.make_jaxpr(flat, axis_env=self.axis_env)([s._value for s in found.states], dyn_args, dyn_kwargs)

    def jaxpr_call(self, state_vals: Sequence, *args, **kwargs):
        """Run the pure function: `(state_vals, *args) -> (written_values, out)` (no write-back)."""
        found = self.discover(*args, **kwargs)
        return self.pure(found.states, found.write_states)(list(state_vals), *args, **kwargs)

    def jaxpr_call_auto(self, *args, **kwargs):
        """Run the function through the pure path and write the states back."""
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
