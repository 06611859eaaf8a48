"""State-aware `jit`: compile once per call signature, thread states at hand-written speed.

Per compiled function we keep one list of the states it touches and one of the states it
writes. A call gathers the state values into lists, lets `jax.jit`'s C++ dispatch match the
argument signature, and stores the written values back with a `zip`; nothing else runs per
call (no Python hashing of arguments, no per-state checks, no blocking on results).

Everything that can change which states are touched is caught at trace time instead:
- the pure function raises `StaleStates` if a trace touches a state outside the lists, writes
  another one, or reads an `environ` key outside the recorded keys; the lists grow to the union
  and the call is retried (this is how the very first call discovers the states: it traces
  once with empty lists, then once more with the states as inputs);
- `environ` values read while tracing select among separate `jax.jit` objects, so a different
  `dt` compiles a new entry instead of reusing the old constant;
- when a state object was created anywhere since the last call (a module may have swapped a
  state for a new object), the next call re-discovers the states once before trusting them.
A state reshaped on purpose (`restore_value`) changes the argument signature, so `jax.jit`
retraces by itself. Every retrace after the first is explained in `explain_retraces()`.

State donation is opt-in (`donate_states=True` or a filter): the buffers of written states are
then reused for their new values, which saves memory, but any array the user kept from such a
state's earlier `.value` becomes invalid after the call. It is only safe when nothing outside
the state holds on to its old values.
"""

import functools
import weakref
from typing import Any, Callable, Dict, List

import jax

from .._state import _epoch
from .._state._trace import _local as _trace_local, environ_read
from ..environ._settings import lookup
from ..util._filters import to_predicate
from ._diagnostics import (_root_of, call_signature, explain_signature_change, label, report_states,
                           state_paths, warn_costly)
from ._state_sharding import check_sharding, constrain, state_sharding_resolver
from ._stateful import StaleStates, StatefulFunction, _hashable, _normalize_argnames, _normalize_argnums, \
    check_no_state_args

__all__ = ["jit", "JittedFunction"]

_UNSPECIFIED = object()


class JittedFunction:
    """A compiled, state-aware function; the result of `brainstate.transform.jit`.

    Attributes:
      stateful_fun: the underlying `StatefulFunction` (state discovery and the pure function).
    """

    def __init__(self, fun: Callable, static_argnums=None, static_argnames=None, donate_argnums=None,
                 donate_argnames=None, in_shardings=_UNSPECIFIED, out_shardings=_UNSPECIFIED,
                 keep_unused: bool = False, device=None, backend=None, inline: bool = False,
                 abstracted_axes=None, donate_states=False, state_shardings=None, **kwargs):
        self.stateful_fun = StatefulFunction(fun, static_argnums, static_argnames)
        self.fun = fun
        self._options = dict(static_argnums=static_argnums, static_argnames=static_argnames,
                             donate_argnums=donate_argnums, donate_argnames=donate_argnames,
                             in_shardings=in_shardings, out_shardings=out_shardings, keep_unused=keep_unused,
                             device=device, backend=backend, inline=inline, abstracted_axes=abstracted_axes,
                             donate_states=donate_states, state_shardings=state_shardings, **kwargs)
        self._sharding_of = state_sharding_resolver(state_shardings)
        self._bound: "weakref.WeakKeyDictionary[Any, JittedFunction]" = weakref.WeakKeyDictionary()
        # The pure function takes (kept state values, donated state values, *args): shift by 2.
        shift = lambda nums: tuple(i + 2 if i >= 0 else i for i in _normalize_argnums(nums))
        jit_kwargs = dict(static_argnums=shift(static_argnums), static_argnames=_normalize_argnames(static_argnames),
                          donate_argnums=(1, *shift(donate_argnums)),
                          donate_argnames=_normalize_argnames(donate_argnames),
                          keep_unused=keep_unused, inline=inline, **kwargs)
        if device is not None:
            jit_kwargs["device"] = device
        if backend is not None:
            jit_kwargs["backend"] = backend
        if abstracted_axes is not None:
            jit_kwargs["abstracted_axes"] = abstracted_axes
        if in_shardings is not _UNSPECIFIED:
            # State values come first and stay where they are (None: unconstrained).
            user = in_shardings if isinstance(in_shardings, (tuple, list)) else (in_shardings,)
            jit_kwargs["in_shardings"] = (None, None, *user)
        if out_shardings is not _UNSPECIFIED:
            jit_kwargs["out_shardings"] = (None, out_shardings)
        self._jit_kwargs = jit_kwargs
        self._donate = None if donate_states is False else to_predicate(donate_states)
        self._retraces: List[str] = []
        self._warned = False
        self._reset(states=(), write_states=(), env_keys=())
        functools.update_wrapper(self, fun, updated=())

    # -- compiled entries ----------------------------------------------------------------------
    def _reset(self, states, write_states, env_keys) -> None:
        self._states = list(states)
        self._write_states = list(write_states)
        donated = [s for s in self._write_states if self._donate is not None and self._donate((), s)]
        donated_ids = set(map(id, donated))
        self._kept = [s for s in self._states if id(s) not in donated_ids]
        self._donated = donated
        self._env_keys = tuple(env_keys)
        self._by_env: Dict[tuple, Any] = {}
        self._jitted = self._new_jit()
        self._epoch = _epoch.value

    def _new_jit(self):
        pure = self.stateful_fun.pure(self._states, self._write_states, self._env_keys)
        n = len(self._states)
        positions = {id(s): i for i, s in enumerate(self._states)}
        kept_idx = [positions[id(s)] for s in self._kept]
        donated_idx = [positions[id(s)] for s in self._donated]
        signatures = []  # one per trace of this jax.jit object, to explain its retraces

        def traced(kept_values, donated_values, *args, **kwargs):
            values = [None] * n
            for i, v in zip(kept_idx, kept_values):
                values[i] = v
            for i, v in zip(donated_idx, donated_values):
                values[i] = v
            self._on_trace(signatures, values, args, kwargs)
            shardings = [self._sharding_of(s) for s in self._states]
            for i, (state, sharding) in enumerate(zip(self._states, shardings)):
                if sharding is not None:
                    check_sharding(state, sharding, values[i])
                    values[i] = constrain(values[i], sharding)
            written, out = pure(values, *args, **kwargs)
            out_shardings = [self._sharding_of(s) for s in self._write_states]
            written = [v if sh is None else constrain(v, sh) for v, sh in zip(written, out_shardings)]
            return written, out

        traced.__name__ = pure.__name__
        return jax.jit(traced, **self._jit_kwargs)

    def _on_trace(self, signatures, values, args, kwargs) -> None:
        """Record this trace's signature; explain it if the same entry was traced before."""
        sf = self.stateful_fun
        sig = call_signature(self.fun, self._states, values, args, kwargs, sf.static_argnums, sf.static_argnames)
        if signatures:
            reasons = explain_signature_change(signatures[-1], sig, state_paths(_root_of(self.fun)))
            self._retraces.append("; ".join(reasons) or "the compiled entry was evicted from the cache")
        signatures.append(sig)

    def _grow(self, stale: StaleStates) -> None:
        """Extend the state lists and environ keys to the union with what a trace touched."""
        states = list(self._states)
        seen = set(map(id, states))
        new = [s for s in stale.states if id(s) not in seen]
        states.extend(new)
        writes = {id(s) for s in self._write_states}
        writes.update(id(s) for s, w in zip(stale.states, stale.written) if w)
        env_keys = self._env_keys + tuple(k for k in stale.env if k not in self._env_keys)
        if self._states or self._env_keys:
            paths = state_paths(_root_of(self.fun))
            what = [f"`{label(s, paths)}`" for s in new] + [f"environ `{k}`" for k in stale.env if k not in self._env_keys]
            self._retraces.append(f"the function touched {', '.join(what) or 'another state set'} for the first time")
        if not self._warned:
            self._warned = True
            warn_costly(stale, self.fun)
        self._reset(states, [s for s in states if id(s) in writes], env_keys)

    def _revalidate(self, args, kwargs) -> None:
        """States were created since the last call: re-discover ours once."""
        self.stateful_fun.forget(*args, **kwargs)
        found = self.stateful_fun.discover(*args, **kwargs)
        if set(map(id, found.states)) != set(map(id, self._states)) \
                or not set(map(id, found.write_states)) <= set(map(id, self._write_states)):
            self._retraces.append("the function now reaches different state objects (a state was replaced)")
            self._reset(found.states, found.write_states, self._env_keys + tuple(
                k for k in found.env if k not in self._env_keys))
        self._epoch = _epoch.value

    def _entry(self):
        keys = self._env_keys
        if not keys:
            return self._jitted
        values = tuple(_hashable(lookup(k)) for k in keys)
        entry = self._by_env.get(values)
        if entry is None:
            if self._by_env:
                before = next(reversed(self._by_env))
                changes = [f"environ `{k}` changed {a!r} → {b!r}" for k, a, b in zip(keys, before, values) if a != b]
                self._retraces.append("; ".join(changes))
                entry = self._new_jit()
            else:
                entry = self._jitted
            self._by_env[values] = entry
        return entry

    # -- calling -------------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        if _trace_local.stack:
            return self._call_traced(args, kwargs)
        if self._epoch != _epoch.value:
            self._revalidate(args, kwargs)
        try:
            written, out = (self._jitted if not self._env_keys else self._entry())(
                [s._value for s in self._kept], [s._value for s in self._donated] if self._donated else (),
                *args, **kwargs)
        except StaleStates as stale:
            self._grow(stale)
            return self(*args, **kwargs)
        except TypeError:
            check_no_state_args(args, kwargs, f"jit({self.stateful_fun.name})")
            raise
        for state, value in zip(self._write_states, written):
            state._value = value
        return out

    def _call_traced(self, args, kwargs):
        """Called inside another transform: reads and writes go through the recording path."""
        check_no_state_args(args, kwargs, f"jit({self.stateful_fun.name})")
        for key in self._env_keys:
            environ_read(key, lookup(key))
        for state in self._states:
            state.value  # record the read in the enclosing trace
        try:
            written, out = self._entry()([s._value for s in self._kept],
                                         [s._value for s in self._donated] if self._donated else (), *args, **kwargs)
        except StaleStates as stale:
            self._grow(stale)
            return self._call_traced(args, kwargs)
        for state, value in zip(self._write_states, written):
            state.value = value
        return out

    # -- inspection ----------------------------------------------------------------------------
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

    def lower(self, *args, **kwargs):
        """Lower for these arguments with the current states (`jax.stages.Lowered`)."""
        found = self.stateful_fun.discover(*args, **kwargs)
        if not {id(s) for s in found.states} <= {id(s) for s in self._states}:
            self._reset(found.states, found.write_states, tuple(found.env))
        return self._entry().lower([s._value for s in self._kept],
                                   [s._value for s in self._donated] if self._donated else (), *args, **kwargs)

    def eval_shape(self, *args, **kwargs):
        """Output shapes of a call with these arguments."""
        return self.stateful_fun.get_out_shapes(*args, **kwargs)

    def clear_cache(self) -> None:
        """Forget every compiled entry and every discovered state set."""
        self.stateful_fun.clear_cache()
        self._reset((), (), ())

    def __get__(self, obj, objtype=None):
        # Used as a method decorator: `obj.method` is a jitted function of its own, with `obj`
        # bound by closure (it is not an array, so it cannot be a traced argument).
        if obj is None:
            return self
        try:
            bound = self._bound.get(obj)
            if bound is None:
                bound = self._bound[obj] = JittedFunction(functools.partial(self.fun, obj), **self._options)
            return bound
        except TypeError:  # not weak-referenceable or not hashable
            return JittedFunction(functools.partial(self.fun, obj), **self._options)

    def __repr__(self) -> str:
        return f"jit({self.stateful_fun.name})"


def jit(fun: Any = _UNSPECIFIED, in_shardings: Any = _UNSPECIFIED, out_shardings: Any = _UNSPECIFIED,
        static_argnums=None, donate_argnums=None, static_argnames=None, donate_argnames=None,
        keep_unused: bool = False, device=None, backend=None, inline: bool = False,
        abstracted_axes=None, donate_states=False, state_shardings=None, **kwargs):
    """Compile a function that reads and writes `State`s.

    Usable as `jit(f)`, `@jit`, `@jit(static_argnums=...)` and on a module instance
    (`jit(model)`). The states the function touches are found by tracing it; states it writes
    are updated after every call, exactly as an eager call would leave them.

    Args:
      fun: the function (or callable module) to compile.
      in_shardings, out_shardings: as in `jax.jit`, for the arguments and the output.
      static_argnums, static_argnames: compile-time constant arguments.
      donate_argnums, donate_argnames: arguments whose buffers may be reused.
      donate_states: False (default), True, or a filter: written states whose buffers are reused
        for their new values. Saves memory; only safe when no array obtained from such a
        state's `.value` is used after the call.
      state_shardings: `{filter or State: sharding}`; states without an entry use their own
        `sharding` metadata. Each such state's value is constrained to its sharding on the way in
        and its written value on the way out, so it stays sharded across calls.
      keep_unused, device, backend, inline, abstracted_axes, **kwargs: passed to `jax.jit`.

    Returns:
      A `JittedFunction`: call it like `fun`; `.clear_cache()`, `.lower(...)`,
      `.get_read_states(...)`, `.get_write_states(...)`, `.report(...)`,
      `.explain_retraces()`, `.stateful_fun`.

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
    if fun is _UNSPECIFIED:
        return lambda f: JittedFunction(f, **options)
    if not callable(fun):
        raise TypeError(f"jit expects a callable (a function or a module), got {type(fun).__name__}: {fun!r}.")
    return JittedFunction(fun, **options)
