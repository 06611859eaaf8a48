"""Find where a NaN or Inf comes from: `debug_nan` and `debug_nan_if`.

The function is traced once by the engine (`Discovery.jaxpr`: inputs are the arguments, then
the values of the states it touches; outputs are the result, then the written state values)
and the jaxpr is replayed equation by equation on concrete values. A report is raised
only if a NaN/Inf reaches an output (a written state or the result), so NaNs that are computed
and then masked away stay silent. The report names:

- the primitive that first turned finite inputs into NaN/Inf on the way to a contaminated
  output, with its source line (looking inside nested `jit`/`custom_jvp`/`checkpoint` calls);
- or, if the inputs were already bad, the arguments and states that carried the NaN/Inf in;
- every contaminated output, by state (name, where it was created) or output position.

`debug_nan` never writes states back: it inspects, it does not advance the computation. Inside
a transform the replay runs on the host through `call_host_if` (one callback, only when the
staged check finds a NaN/Inf), so it works under `jit`, loops and `vmap`.

The replay is one `jax.core.eval_jaxpr` call on the same jaxpr with every intermediate value
exposed as an output (`Jaxpr.replace(outvars=...)`), so no interpreter protocol is copied here.
"""

from typing import Callable, List, Optional

import jax
import jax.numpy as jnp
import numpy as np
from jax.extend import core as jcore
from jax.extend import source_info_util

from ._error_if import _as_flag, _is_traced, call_host_if
from .._state._commit import gather
from ._stateful import StatefulFunction

__all__ = ["debug_nan", "debug_nan_if"]

# Equations that call a sub-jaxpr once, with the same inputs and outputs: the replay looks
# inside them to pin the NaN on the primitive that made it.
_CALL_PRIMITIVES = {"pjit", "jit", "closed_call", "core_call", "custom_jvp_call", "custom_vjp_call",
                    "custom_vjp_call_jaxpr", "checkpoint", "remat", "remat2"}


def _bad(x) -> bool:
    x = np.asarray(x)
    return bool(np.issubdtype(x.dtype, np.inexact) and not np.isfinite(x).all())


def _count(x) -> str:
    x = np.asarray(x)
    return f"{x.dtype}{list(x.shape)}: {int(np.isnan(x).sum())} NaN, {int(np.isinf(x).sum())} Inf"


def _inner_jaxpr(eqn, values):
    """The sub-jaxpr a call-like equation runs on exactly `values`, or None."""
    if eqn.primitive.name not in _CALL_PRIMITIVES:
        return None
    for sub in jcore.jaxprs_in_params(eqn.params):
        jaxpr = sub.jaxpr if isinstance(sub, jcore.ClosedJaxpr) else sub
        consts = sub.consts if isinstance(sub, jcore.ClosedJaxpr) else []
        if (len(jaxpr.invars) == len(values) and len(jaxpr.outvars) == len(eqn.outvars)
                and all(tuple(v.aval.shape) == np.shape(x) for v, x in zip(jaxpr.invars, values))):
            return jaxpr, consts
    return None


def _replay(jaxpr, consts, inputs, trail=()):
    """Evaluate `jaxpr`; return (outputs, origin) where origin describes the first equation on the
    path to a bad output that made NaN/Inf out of finite inputs (None if inputs were bad)."""
    # One evaluation with every intermediate value exposed as an output.
    exposed = [v for eqn in jaxpr.eqns for v in eqn.outvars if not isinstance(v, jcore.DropVar)]
    values = jax.core.eval_jaxpr(jaxpr.replace(outvars=exposed + list(jaxpr.outvars)), consts, *inputs)
    env = dict(zip(jaxpr.constvars, consts))
    env.update(zip(jaxpr.invars, inputs))
    env.update(zip(exposed, values))
    read = lambda v: v.val if isinstance(v, jcore.Literal) else env.get(v)
    outputs = values[len(exposed):]
    fresh = {}  # equation index -> its inputs, for equations that made NaN/Inf from finite inputs
    for i, eqn in enumerate(jaxpr.eqns):
        ins = [read(v) for v in eqn.invars]
        outs = [read(v) for v in eqn.outvars if not isinstance(v, jcore.DropVar)]
        if any(_bad(x) for x in outs) and not any(_bad(x) for x in ins):
            fresh[i] = ins

    # Walk back from the bad outputs through bad values only, to the equations that made them.
    wanted = {v for v, x in zip(jaxpr.outvars, outputs) if not isinstance(v, jcore.Literal) and _bad(x)}
    origin = None
    for i in range(len(jaxpr.eqns) - 1, -1, -1):
        eqn = jaxpr.eqns[i]
        if not any(v in wanted for v in eqn.outvars):
            continue
        if i in fresh:
            origin = (eqn, trail, fresh[i])
        else:
            wanted.update(v for v in eqn.invars if not isinstance(v, jcore.Literal) and _bad(read(v)))
    if origin is not None:
        eqn, trail, ins = origin
        inner = _inner_jaxpr(eqn, ins)
        if inner is not None:
            name = eqn.params.get("name", eqn.primitive.name)
            _, deeper = _replay(*inner, ins, trail + (f"{eqn.primitive.name}({name})",))
            origin = deeper or origin
    return outputs, origin


def _state_leaf_labels(state, prefix: str = "") -> List[str]:
    paths = jax.tree_util.tree_flatten_with_path(state._value)[0]
    return [prefix + state._label() + jax.tree_util.keystr(p) for p, _ in paths]


def _leaf_labels(found, args) -> List[str]:
    """Names of the jaxpr's inputs: the arguments, then the states' leaves."""
    labels = ["argument" + jax.tree_util.keystr(path) for path, _ in jax.tree_util.tree_flatten_with_path(args)[0]]
    for state in found.states:
        labels += _state_leaf_labels(state)
    return labels


def _out_labels(found, out_shapes) -> List[str]:
    """Names of the jaxpr's outputs: the result, then the written states' leaves."""
    labels = ["output" + jax.tree_util.keystr(path) for path, _ in jax.tree_util.tree_flatten_with_path(out_shapes)[0]]
    for state in found.write_states:
        labels += _state_leaf_labels(state, "written ")
    return labels


def _report(name: str, phase: str, jaxpr, consts, in_labels, out_labels, inputs) -> Optional[str]:
    outputs, origin = _replay(jaxpr, list(consts), list(inputs))
    bad_outputs = [f"    {label}: {_count(x)}" for label, x in zip(out_labels, outputs) if _bad(x)]
    if not bad_outputs:
        return None
    lines = [f"{'[' + phase + '] ' if phase else ''}NaN/Inf in the output of {name}."]
    if origin is not None:
        eqn, trail, _ = origin
        where = " inside " + " > ".join(trail) if trail else ""
        lines.append(f"  Introduced by primitive `{eqn.primitive.name}`{where}, from finite inputs,")
        lines.append(f"  at {source_info_util.summarize(eqn.source_info)}")
    else:
        bad_inputs = [f"    {label}: {_count(x)}" for label, x in zip(in_labels, inputs) if _bad(x)]
        lines.append("  No primitive created it: NaN/Inf was already in these inputs:")
        lines += bad_inputs
    lines.append("  Contaminated outputs:")
    lines += bad_outputs
    lines.append("  Fix the computation at that point (guard the domain, e.g. with jnp.where or a "
                 "clip), or check where the bad input comes from.")
    return "\n".join(lines)


def _inspector(fn: Callable, args, phase: str):
    """Trace `fn` once; return (values to check, host function raising the report for them)."""
    if not callable(fn):
        raise TypeError(f"debug_nan expects a callable, got {type(fn).__name__}: {fn!r}.")
    stateful = StatefulFunction(fn, name=getattr(fn, "__name__", None))
    found = stateful.discover(*args)
    closed = found.jaxpr
    values = gather(found.states)  # an enclosing transform records these reads
    inputs = found.arg_leaves(args, {}) + jax.tree_util.tree_leaves(values)
    in_labels, out_labels = _leaf_labels(found, args), _out_labels(found, found.out_shapes)
    n_consts = len(closed.consts)

    def host(consts_and_inputs):
        consts, inputs = consts_and_inputs[:n_consts], consts_and_inputs[n_consts:]
        report = _report(stateful.name, phase, closed.jaxpr, consts, in_labels, out_labels, inputs)
        if report is not None:
            raise RuntimeError(report)

    # Constants may be tracers of an enclosing transform (arrays `fn` closes over); they travel
    # to the host with the inputs.
    return closed, list(closed.consts) + inputs, host


def debug_nan(fn: Callable, *args, phase: str = '') -> None:
    """Run `fn(*args)` and raise a readable report if NaN/Inf reaches its outputs.

    The outputs are the result and the states `fn` writes; NaNs computed and then discarded do
    not count. States are not updated (this is an inspection). Works eagerly and inside `jit`,
    loops and `vmap` (there the report is raised when the compiled call runs).

    Args:
      fn: the function to inspect; it may read and write states.
      *args: its arguments.
      phase: a label put in front of the report (e.g. "training step").

    Raises:
      RuntimeError: naming the primitive (and source line) that produced the NaN/Inf, or the
        arguments/states it came in with, and every contaminated output.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> brainstate.transform.debug_nan(jnp.log, jnp.array([1.0, 2.0]))  # finite: nothing happens
    """
    closed, values, host = _inspector(fn, args, phase)
    if not _is_traced(values):
        return host(values)
    outputs = jax.core.eval_jaxpr(closed.jaxpr, values[:len(closed.consts)], *values[len(closed.consts):])
    checks = [jnp.any(~jnp.isfinite(x)) for x in outputs if jnp.issubdtype(jnp.result_type(x), jnp.inexact)]
    if checks:
        call_host_if(jnp.any(jnp.stack(checks)), host, values, "debug_nan")


def debug_nan_if(has_nan, fn: Callable, *args, phase: str = '') -> None:
    """Run `debug_nan(fn, *args, phase=phase)` only when `has_nan` is true.

    Usable inside `jit`, loops and `vmap`: the replay is staged behind a `lax.cond`, so the
    compiled program only reaches the host when `has_nan` holds (for any lane).

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> x = jnp.array([1.0, 2.0])
      >>> brainstate.transform.debug_nan_if(jnp.isnan(x).any(), jnp.log, x)
    """
    if not _is_traced(has_nan):
        if bool(_as_flag(has_nan, "debug_nan_if")):
            debug_nan(fn, *args, phase=phase)
        return
    _, values, host = _inspector(fn, args, phase)
    call_host_if(has_nan, host, values, "debug_nan_if")
