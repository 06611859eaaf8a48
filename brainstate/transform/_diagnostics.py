"""Diagnostics: which states a transformed function touches, and why a compiled call retraced.

`report_states(fn, *args)` traces `fn` once (nothing is computed, no state changes) and lists
the states it reads, writes, creates and donates, each by graph path (relative to a root
module, found automatically for modules and their bound methods), with shapes and dtypes, plus
warnings for costly patterns. `explain_signature_change` turns two call signatures into
sentences such as "`layers.3.weight` changed dtype float32 → float64"; `jit` uses it to keep a
log of why each retrace happened (`JittedFunction.explain_retraces()`).
"""

import dataclasses
import functools
import inspect
import warnings
from typing import Any, Callable, Dict, List, Optional, Sequence

import jax

from .._state import State
from .._state._signature import describe

__all__ = ["PerformanceWarning", "StateInfo", "StateReport", "report_states", "state_paths",
           "explain_signature_change", "call_signature"]


class PerformanceWarning(UserWarning):
    """A state-usage pattern that costs time or memory on every call."""


@dataclasses.dataclass(frozen=True)
class StateInfo:
    """One state in a report: its path (or name), kind and signature."""

    path: str
    kind: str
    signature: str
    state: State = dataclasses.field(repr=False, compare=False)

    def __str__(self):
        return f"{self.path:32s} {self.kind:16s} {self.signature}"


@dataclasses.dataclass
class StateReport:
    """The states a call touches, grouped by use."""

    reads: List[StateInfo]
    writes: List[StateInfo]
    creates: List[StateInfo]
    donates: List[StateInfo]
    warnings: List[str]

    def __str__(self) -> str:
        lines = []
        for title, infos in (("reads", self.reads), ("writes", self.writes), ("creates", self.creates),
                             ("donates", self.donates)):
            lines.append(f"{title} ({len(infos)}):")
            lines.extend(f"  {info}" for info in infos)
        if self.warnings:
            lines.append("warnings:")
            lines.extend(f"  {w}" for w in self.warnings)
        return "\n".join(lines)


def _root_of(fun) -> Optional[Any]:
    """The module a function belongs to, if any (a module, its bound method, a partial on it)."""
    from ..graph import Node

    for _ in range(8):
        if isinstance(fun, Node):
            return fun
        owner = getattr(fun, "__self__", None)
        if isinstance(owner, Node):
            return owner
        if isinstance(fun, functools.partial):
            if fun.args and isinstance(fun.args[0], Node):
                return fun.args[0]
            fun = fun.func
            continue
        inner = getattr(fun, "stateful_fun", None)
        inner = getattr(inner, "fun", None) or getattr(fun, "__wrapped__", None)
        if inner is None or inner is fun:
            return None
        fun = inner
    return None


def state_paths(root) -> Dict[int, str]:
    """`id(state) -> 'a.b.0.c'` for every state reachable from `root` (a node or a dict of nodes)."""
    from .. import graph

    if root is None:
        return {}
    roots = root if isinstance(root, dict) else {"": root}
    paths: Dict[int, str] = {}
    for prefix, node in roots.items():
        found: Any = graph.states(node)  # one filter: a single FlattedDict
        for path, state in found.items():
            text = ".".join(str(p) for p in ((prefix,) if prefix else ()) + tuple(path))
            paths.setdefault(id(state), text or "<root>")
    return paths


def label(state: State, paths: Dict[int, str]) -> str:
    """How diagnostics name a state: its graph path, else its name, else where it was created."""
    if id(state) in paths:
        return paths[id(state)]
    if state.name:
        return state.name
    return f"<{type(state).__name__} created at {state.source_info}>"


def _info(state: State, paths) -> StateInfo:
    return StateInfo(label(state, paths), type(state).__name__, describe(*state._sig), state)


def report_states(fn: Callable, *args, root=None, **kwargs) -> StateReport:
    """Report the states `fn(*args, **kwargs)` reads, writes, creates and donates.

    Args:
      fn: any function, module or state-aware transformed function.
      *args, **kwargs: example arguments (only their shapes matter).
      root: a module (or a dict `{prefix: module}`) to name states by graph path; defaults to
        the module `fn` is, or is a method of.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> w = brainstate.ParamState(jnp.ones(3), name='w')
      >>> h = brainstate.State(jnp.zeros(3), name='h')
      >>> def step(x):
      ...     h.value = w.value * x
      >>> print(brainstate.transform.report_states(step, 2.0).writes[0])  # doctest: +NORMALIZE_WHITESPACE
      h  State  float32[3]
    """
    from ._stateful import StatefulFunction

    sf = getattr(fn, "stateful_fun", None)
    if not isinstance(sf, StatefulFunction):
        sf = StatefulFunction(fn)
    found = sf.discover(*args, **kwargs)
    paths = state_paths(root if root is not None else _root_of(fn))
    written = set(map(id, found.write_states))
    donated = set(map(id, fn.donated_states(*args, **kwargs))) if hasattr(fn, "donated_states") else set()
    reads = [_info(s, paths) for s, r in zip(found.states, found.was_read) if r]
    writes = [_info(s, paths) for s in found.write_states]
    creates = [_info(s, paths) for s in found.created]
    donates = [_info(s, paths) for s in found.states if id(s) in donated and id(s) in written]
    return StateReport(reads, writes, creates, donates, costly_patterns(found, paths))


def costly_patterns(found, paths) -> List[str]:
    """Readable warnings for state patterns that cost something on every call."""
    notes = []
    for state, was_read, w in zip(found.states, found.was_read, found.written):
        if w and not was_read:
            notes.append(
                f"`{label(state, paths)}` is written but its previous value is never read: it is still "
                f"passed in on every call (and carried through loops). If it only holds a result, "
                f"return the value instead of storing it in a state.")
    return notes


def warn_costly(found, fun) -> None:
    """Emit the costly-pattern notes of a discovery as `PerformanceWarning`s."""
    paths = state_paths(_root_of(fun))
    for note in costly_patterns(found, paths):
        warnings.warn(note, PerformanceWarning, stacklevel=4)


# -- retrace explanations ----------------------------------------------------------------------
def _aval(x):
    shape, dtype = getattr(x, "shape", None), getattr(x, "dtype", None)
    if shape is not None and dtype is not None:
        return tuple(shape), str(dtype)
    return ("value", x)


def call_signature(fun, states, state_values, args, kwargs, static_argnums, static_argnames) -> dict:
    """A comparable description of one traced call."""
    names = _arg_names(fun, len(args))
    n = len(args)
    static_pos = {i % n for i in static_argnums if -n <= i < n} if n else set()
    arg_sig = {}
    for i, a in enumerate(args):
        name = names[i] if i < len(names) else f"argument {i}"
        leaves, treedef = jax.tree_util.tree_flatten(a)
        arg_sig[name] = ("static", _safe(a)) if i in static_pos else (treedef, tuple(map(_aval, leaves)))
    for k, v in kwargs.items():
        leaves, treedef = jax.tree_util.tree_flatten(v)
        arg_sig[k] = ("static", _safe(v)) if k in static_argnames else (treedef, tuple(map(_aval, leaves)))
    state_sig = {id(s): (s, tuple(_aval(x) for x in jax.tree_util.tree_leaves(v))) for s, v in zip(states, state_values)}
    return {"args": arg_sig, "states": state_sig}


def _safe(v):
    try:
        hash(v)
        return v
    except TypeError:
        return repr(v)


def _arg_names(fun, n) -> List[str]:
    try:
        params = list(inspect.signature(fun).parameters.values())
    except (TypeError, ValueError):
        return []
    names = []
    for p in params:
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            names.append(f"argument `{p.name}`")
        elif p.kind == p.VAR_POSITIONAL:
            names.extend(f"argument {i}" for i in range(len(names), n))
    return names


def _fmt_leaves(leaves) -> str:
    return ", ".join(f"{d}{list(s)}" if s != "value" else repr(d) for s, d in leaves)


def explain_signature_change(old: dict, new: dict, paths: Dict[int, str]) -> List[str]:
    """Sentences describing how `new` differs from `old` (see `call_signature`)."""
    reasons = []
    for name, sig in new["args"].items():
        before = old["args"].get(name)
        if before is None:
            reasons.append(f"{name} is new")
        elif before != sig:
            reasons.append(_describe_change(name, before, sig))
    for name in old["args"]:
        if name not in new["args"]:
            reasons.append(f"{name} is no longer passed")
    for key, (state, sig) in new["states"].items():
        if key in old["states"] and old["states"][key][1] != sig:
            reasons.append(_describe_change(f"`{label(state, paths)}`", old["states"][key][1], sig, is_state=True))
    return reasons


def _describe_change(name, before, after, is_state=False) -> str:
    if not is_state:
        if before[0] == "static" or after[0] == "static":
            return f"static {name} changed {before[1]!r} → {after[1]!r}"
        if before[0] != after[0]:
            return f"{name} changed structure"
        before, after = before[1], after[1]
    if len(before) != len(after):
        return f"{name} changed structure"
    for (s0, d0), (s1, d1) in zip(before, after):
        if s0 == "value" or s1 == "value":
            if (s0, d0) != (s1, d1):
                return f"{name} changed {d0!r} → {d1!r}"
            continue
        if d0 != d1 and s0 == s1:
            return f"{name} changed dtype {d0} → {d1}"
        if s0 != s1:
            return f"{name} changed shape {s0} → {s1}" + (f" and dtype {d0} → {d1}" if d0 != d1 else "")
    return f"{name} changed ({_fmt_leaves(before)} → {_fmt_leaves(after)})"
