"""Restructuring jaxprs: inlining jit calls, and building a jaxpr from a list of equations.

`inline_jit` replaces a `jit` (pjit / closed_call) equation by the equations of its body, with
fresh variables each time (a body inlined twice must not define a variable twice); the values
computed are the same, only the call boundary, and with it any sharding annotation of the call,
is gone. `eqns_to_jaxpr` closes a slice of equations into a jaxpr, inferring its inputs (what the
equations read but do not define) and outputs (what they define but do not read).
"""

from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from .._compatible_import import AnyJaxpr, DropVar, Jaxpr, JaxprEqn, Literal, Var, new_jaxpr, open_and_consts
from ._jaxpr_rewrite import Rewriter, Substitution, check_jaxpr_arg, is_used

__all__ = ["inline_jit", "eqns_to_jaxpr", "eqns_to_closed_jaxpr"]

_CALLS = {"pjit": "jaxpr", "jit": "jaxpr", "closed_call": "call_jaxpr"}


def _body(eqn: JaxprEqn) -> Optional[Tuple[Jaxpr, List[Any]]]:
    """The open body of a call equation and its const values, when it can be inlined."""
    key = _CALLS.get(eqn.primitive.name)
    if key is None or key not in eqn.params:
        return None
    inner, consts = open_and_consts(eqn.params[key])
    if len(consts) != len(inner.constvars) or any(np.shape(c) != () for c in consts):
        return None  # an array const could only be written into the caller as a (non-scalar) literal
    if any(hasattr(effect, "input_index") for effect in inner.effects):
        return None  # an effect on one of the body's inputs (a mutable ref) names it by position
    if (len(inner.invars) != len(eqn.invars) or len(inner.outvars) != len(eqn.outvars)
            or any(a.aval != b.aval for a, b in zip(inner.invars, eqn.invars))
            or any(a.aval != b.aval for a, b in zip(inner.outvars, eqn.outvars))):
        return None
    return inner, consts


def _inline(eqn: JaxprEqn, inner: Jaxpr, consts: List[Any], sub: Substitution) -> List[JaxprEqn]:
    env: Dict[Var, Any] = {v: Literal(c, v.aval) for v, c in zip(inner.constvars, consts)}
    env.update(zip(inner.invars, eqn.invars))

    def read(atom: Any) -> Any:
        return atom if isinstance(atom, Literal) else env.get(atom, atom)

    def bind(var: Var) -> Var:
        new = DropVar(var.aval) if isinstance(var, DropVar) else Var(var.aval)
        env[var] = new
        return new

    new_eqns = []
    for e in inner.eqns:
        invars = [read(a) for a in e.invars]
        new_eqns.append(e.replace(invars=invars, outvars=[bind(v) for v in e.outvars]))
    for outer, atom in zip(eqn.outvars, inner.outvars):
        if is_used(outer):
            sub.set(outer, read(atom))
    return new_eqns


def inline_jit(jaxpr: AnyJaxpr, should_expand: Optional[Callable[[JaxprEqn], bool]] = None) -> AnyJaxpr:
    """Replace jit calls by the equations of their bodies, at every nesting level.

    Args:
      jaxpr: a `Jaxpr` or `ClosedJaxpr`.
      should_expand: called with each jit equation (its body already inlined where asked);
        the call is inlined when it returns True. Default: inline every jit call. Calls whose
        body has array constants or effects on its inputs are kept.

    Returns:
      A jaxpr of the same kind with the same inputs computing the same values.

    Raises:
      TypeError: `jaxpr` is not a jaxpr, or `should_expand` is not callable.

    Example:
      >>> import jax, brainstate
      >>> inner = jax.jit(lambda x: x + 1.0)
      >>> closed = jax.make_jaxpr(lambda x: inner(x) * 2.0)(1.0)
      >>> [str(e.primitive) for e in closed.jaxpr.eqns]
      ['jit', 'mul']
      >>> [str(e.primitive) for e in brainstate.transform.inline_jit(closed).jaxpr.eqns]
      ['add', 'mul']
    """
    check_jaxpr_arg(jaxpr, "inline_jit")
    if should_expand is not None and not callable(should_expand):
        raise TypeError(f"inline_jit(should_expand=...) must be a predicate on jit equations or None, "
                        f"got {type(should_expand).__name__}.")

    def level(jx: Jaxpr, eqns: List[JaxprEqn]) -> Tuple[List[JaxprEqn], List[Any]]:
        sub, out = Substitution(), []
        for eqn in eqns:
            eqn = sub.eqn(eqn)
            body = _body(eqn)
            if body is not None and (should_expand is None or should_expand(eqn)):
                out.extend(_inline(eqn, *body, sub))
            else:
                out.append(eqn)
        return out, sub.atoms(jx.outvars)

    return Rewriter(level)(jaxpr)


def _infer(eqns: Sequence[JaxprEqn], constvars: Sequence[Var], invars: Optional[Sequence[Var]],
           outvars: Optional[Sequence[Any]]) -> Tuple[List[Var], List[Any]]:
    """The inputs and outputs to use (given or inferred), after checking every variable is bound."""
    given = list(constvars) + list(invars or ())
    if len(set(given)) != len(given):
        raise ValueError("eqns_to_jaxpr: a variable appears twice among constvars and invars; each input of a "
                         "jaxpr is one distinct variable.")
    defined, free, read = set(given), [], set()
    for i, eqn in enumerate(eqns):
        if not isinstance(eqn, JaxprEqn):
            raise TypeError(f"eqns_to_jaxpr: eqns[{i}] is a {type(eqn).__name__}, not a JaxprEqn.")
        for atom in eqn.invars:
            if isinstance(atom, Literal):
                continue
            read.add(atom)
            if atom not in defined:
                if invars is not None:
                    raise ValueError(f"eqns_to_jaxpr: eqns[{i}] ({eqn.primitive}) reads {atom}, which is neither "
                                     f"an input nor defined by an earlier equation. Add it to `invars` (or leave "
                                     f"`invars=None` to infer the inputs).")
                free.append(atom)
                defined.add(atom)
        for var in eqn.outvars:
            if is_used(var):
                if var in defined:
                    raise ValueError(f"eqns_to_jaxpr: eqns[{i}] ({eqn.primitive}) defines {var}, which is already "
                                     f"an input or defined by an earlier equation; a jaxpr binds each variable once.")
                defined.add(var)
    if outvars is None:
        outvars = [v for e in eqns for v in e.outvars if is_used(v) and v not in read]
    for atom in outvars:
        if not isinstance(atom, Literal) and atom not in defined:
            if invars is not None:
                raise ValueError(f"eqns_to_jaxpr: output {atom} is neither an input nor defined by an equation. "
                                 f"Add it to `invars`, or leave `invars=None` to infer the inputs.")
            free.append(atom)  # an input returned as it is
            defined.add(atom)
    return (list(invars) if invars is not None else free), list(outvars)


def eqns_to_jaxpr(eqns: Sequence[JaxprEqn], invars: Optional[Sequence[Var]] = None,
                  outvars: Optional[Sequence[Any]] = None, constvars: Optional[Sequence[Var]] = None) -> Jaxpr:
    """Build a jaxpr from equations (e.g. a slice of another jaxpr's equations).

    Args:
      eqns: the equations, in order.
      invars: the inputs. Default: every variable the equations read but do not define, in the
        order first read.
      outvars: the outputs. Default: every variable the equations define but do not read.
      constvars: inputs that are constants (given values by `eqns_to_closed_jaxpr`). Default:
        none. On jax >= 0.11.1 a jaxpr without values has no separate constvars: they become
        its leading invars.

    Returns:
      An open `Jaxpr` whose effects are those of its equations.

    Raises:
      TypeError: an element of `eqns` is not a `JaxprEqn`.
      ValueError: an equation reads a variable that is not bound, a variable is bound twice, or
        an output is not bound.

    Example:
      >>> import jax, jax.numpy as jnp, brainstate
      >>> closed = jax.make_jaxpr(lambda x, y: jnp.cos(jnp.sin(x) * y))(1.0, 2.0)
      >>> part = brainstate.transform.eqns_to_jaxpr(closed.jaxpr.eqns[1:])
      >>> [str(e.primitive) for e in part.eqns], len(part.invars), len(part.outvars)
      (['mul', 'cos'], 2, 1)
    """
    eqns = list(eqns)
    constvars = list(constvars or ())
    invars, outvars = _infer(eqns, constvars, invars, outvars)
    effects = frozenset().union(*(e.effects for e in eqns))
    return new_jaxpr(constvars, invars, outvars, eqns, effects, origin="eqns_to_jaxpr")


def eqns_to_closed_jaxpr(eqns: Sequence[JaxprEqn], invars: Optional[Sequence[Var]] = None,
                         outvars: Optional[Sequence[Any]] = None, constvars: Optional[Sequence[Var]] = None,
                         consts: Optional[Sequence[Any]] = None) -> AnyJaxpr:
    """Build a closed jaxpr from equations, `consts` being the values of `constvars`.

    Args:
      eqns: the equations, in order.
      invars: the inputs; inferred when None (see `eqns_to_jaxpr`).
      outvars: the outputs; inferred when None.
      constvars: the constant inputs.
      consts: one value per constvar.

    Returns:
      A `ClosedJaxpr`.

    Raises:
      ValueError: `consts` and `constvars` differ in length, or as in `eqns_to_jaxpr`.

    Example:
      >>> import jax, jax.numpy as jnp, brainstate
      >>> closed = jax.make_jaxpr(lambda x: jnp.sin(x) + 1.0)(1.0)
      >>> x = closed.jaxpr.invars[0]
      >>> again = brainstate.transform.eqns_to_closed_jaxpr(closed.jaxpr.eqns, constvars=[x], consts=[0.5], invars=[])
      >>> float(jax.core.eval_jaxpr(again.jaxpr, again.consts)[0])
      1.479425...
    """
    constvars = list(constvars or ())
    consts = list(consts or ())
    if len(consts) != len(constvars):
        raise ValueError(f"eqns_to_closed_jaxpr: {len(consts)} consts for {len(constvars)} constvars; give one value "
                         f"per constant variable.")
    eqns = list(eqns)
    invars, outvars = _infer(eqns, constvars, invars, outvars)
    effects = frozenset().union(*(e.effects for e in eqns))
    return new_jaxpr(constvars, invars, outvars, eqns, effects, consts=consts, origin="eqns_to_closed_jaxpr")
