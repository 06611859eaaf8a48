"""Semantics-preserving optimisation passes over jaxprs.

Each pass maps a `Jaxpr` to a `Jaxpr` and a `ClosedJaxpr` to a `ClosedJaxpr`, rewrites every
sub-jaxpr (jit, scan, while, cond, custom_jvp / custom_vjp, remat bodies) as well, and keeps the
interface (see `_jaxpr_rewrite.py`): the result computes the same values from the same inputs.
Equations with effects (debug prints, io callbacks, ...) are never removed or merged. Each pass
reaches its fixed point in one sweep, so applying it twice gives the same jaxpr as once.

* `constant_fold`: an effect-free equation whose inputs are all literals and whose outputs are
  scalars is evaluated now; its outputs become literals. (Only scalars: JAX itself writes only
  scalars as literals, so array results stay equations. An equation computing one of the
  jaxpr's outputs stays too, its readers reading the literal, so the output is still an array.)
* `copy_propagation`: an equation that returns its input unchanged (a `copy`, a conversion to
  the same type, a reshape to the same shape, an identity transpose, a reduction over no axes)
  is removed and its readers read the input.
* `algebraic_simplification`: `x * 1`, `x / 1`, `x - 0`, `x + 0` (integers, or floats with
  `-0.0`: `x + 0.0` is not `x` when `x` is `-0.0`), `-(-x)`, `~~x`, `max(x, x)`,
  `select_n(p, x, x)`, `x ** 1`, ... become `x`, when the result has exactly the type of `x`.
* `common_subexpression_elimination`: an effect-free equation that repeats an earlier one (same
  primitive, params and inputs) is removed and its readers read the earlier outputs.
* `dead_code_elimination`: an effect-free equation none of whose outputs is read is removed.
"""

from typing import Any, Callable, Dict, List, Optional, Tuple, cast

import jax
import numpy as np

from .._compatible_import import AnyJaxpr, Jaxpr, JaxprEqn, Literal, Var, is_jaxpr
from ._jaxpr_rewrite import Rewriter, Substitution, check_jaxpr_arg, is_used

__all__ = ["constant_fold", "copy_propagation", "algebraic_simplification", "common_subexpression_elimination",
           "dead_code_elimination"]

# Collectives and axis queries: their value depends on the mapped axis they run under, so an
# equation of theirs with literal inputs is still not a constant.
_CONTEXT_DEPENDENT = frozenset({
    "psum", "pmax", "pmin", "pmean", "ppermute", "pshuffle", "pbroadcast", "pvary", "all_gather", "all_to_all",
    "reduce_scatter", "psum_scatter", "axis_index", "pgather", "psum_invariant", "all_gather_invariant",
})
# Effect-free but not a function of its inputs (XLA's stateful RNG): two calls differ.
_NONDETERMINISTIC = frozenset({"rng_uniform"})
_NEVER_FOLD = _CONTEXT_DEPENDENT | _NONDETERMINISTIC


# ----------------------------------------------------------------------------------------------
# constant folding


def _scalar_numeric(aval: Any) -> bool:
    dtype = getattr(aval, "dtype", None)
    return (getattr(aval, "shape", None) == () and dtype is not None and dtype != jax.dtypes.float0
            and not jax.dtypes.issubdtype(dtype, jax.dtypes.extended) and not getattr(aval, "vma", None))


def _literal(value: Any, aval: Any) -> Literal:
    """A literal holding `value` with the type `aval`: a Python scalar when `aval` is weakly typed
    (so that evaluating the jaxpr keeps the weak type), a NumPy scalar otherwise."""
    scalar = np.asarray(value, dtype=aval.dtype)[()]
    return Literal(scalar.item() if aval.weak_type else scalar, aval)


def _fold(eqn: JaxprEqn) -> Optional[List[Literal]]:
    """The outputs of `eqn` as literals, or None when `eqn` is not a foldable constant."""
    if (eqn.effects or not eqn.invars or eqn.primitive.name in _NEVER_FOLD
            or not all(isinstance(a, Literal) for a in eqn.invars)
            or not all(_scalar_numeric(v.aval) for v in eqn.outvars)
            or any(is_jaxpr(p) or (isinstance(p, tuple) and any(map(is_jaxpr, p))) for p in eqn.params.values())):
        return None
    try:
        # Evaluate now even when called while an outer function is being traced.
        with jax.ensure_compile_time_eval():
            # Every input is a Literal (checked above; `all` does not narrow for mypy).
            out = eqn.primitive.bind(*[cast(Literal, a).val for a in eqn.invars], **eqn.params)
    except Exception:  # a primitive that cannot run on concrete literals here is simply not folded
        return None
    outs = list(out) if eqn.primitive.multiple_results else [out]
    # Array avals (ShapedArray) have shape and dtype; JAX's stubs type `aval` as the base class.
    if len(outs) != len(eqn.outvars) or any(
            np.shape(o) != () or np.asarray(o).dtype != v.aval.dtype  # type: ignore[attr-defined]
            for o, v in zip(outs, eqn.outvars)):
        return None
    return [_literal(o, v.aval) for o, v in zip(outs, eqn.outvars)]


def _fold_level(jaxpr: Jaxpr, eqns: List[JaxprEqn]) -> Tuple[List[JaxprEqn], List[Any]]:
    sub, kept, outputs = Substitution(), [], _outputs(jaxpr)
    for eqn in eqns:
        eqn = sub.eqn(eqn)
        literals = _fold(eqn)
        if literals is None or any(v in outputs for v in eqn.outvars):
            kept.append(eqn)  # an output stays computed, so evaluating the jaxpr still returns an array
        for var, lit in zip(eqn.outvars, literals or ()):
            if is_used(var):
                sub.set(var, lit)
    return kept, list(jaxpr.outvars)


def _outputs(jaxpr: Jaxpr) -> set:
    return {v for v in jaxpr.outvars if isinstance(v, Var)}


def constant_fold(jaxpr: AnyJaxpr) -> AnyJaxpr:
    """Evaluate the scalar equations whose inputs are all literals; their results become literals.

    Args:
      jaxpr: a `Jaxpr` or `ClosedJaxpr`. Sub-jaxprs (jit, loop, cond bodies) are folded too.

    Returns:
      A jaxpr of the same kind with the same inputs computing the same values.

    Example:
      >>> import jax, brainstate
      >>> closed = jax.make_jaxpr(lambda x: x * (jax.lax.mul(2.0, 3.0)))(1.0)
      >>> len(closed.jaxpr.eqns)
      2
      >>> folded = brainstate.transform.constant_fold(closed)
      >>> [str(e.primitive) for e in folded.jaxpr.eqns], folded.jaxpr.eqns[0].invars[1].val
      (['mul'], 6.0)
    """
    check_jaxpr_arg(jaxpr, "constant_fold")
    return Rewriter(_fold_level)(jaxpr)


# ----------------------------------------------------------------------------------------------
# forwarding passes: an equation whose output equals one of its inputs is removed

ForwardRule = Callable[[JaxprEqn, Dict[Var, JaxprEqn]], Any]


def _aval(atom: Any) -> Any:
    return atom.aval


def _forwarding(rule: ForwardRule):
    """A level function removing every single-output, effect-free equation for which `rule`
    names an atom with exactly the output's type, its readers reading that atom instead."""

    def level(jaxpr: Jaxpr, eqns: List[JaxprEqn]) -> Tuple[List[JaxprEqn], List[Any]]:
        sub, kept, outputs = Substitution(), [], _outputs(jaxpr)
        producers: Dict[Var, JaxprEqn] = {}
        for eqn in eqns:
            eqn = sub.eqn(eqn)
            if not eqn.effects and len(eqn.outvars) == 1 and is_used(eqn.outvars[0]):
                atom = rule(eqn, producers)
                # A literal never replaces an output (evaluating the jaxpr must still return an array).
                if (atom is not None and _aval(atom) == eqn.outvars[0].aval
                        and not (isinstance(atom, Literal) and eqn.outvars[0] in outputs)):
                    sub.set(eqn.outvars[0], atom)
                    continue
            producers.update((v, eqn) for v in eqn.outvars if is_used(v))
            kept.append(eqn)
        return kept, sub.atoms(jaxpr.outvars)

    return level


def _identity_axes(params: Dict[str, Any], key: str, ndim: int) -> bool:
    return tuple(params[key]) == tuple(range(ndim))


def _copy_rule(eqn: JaxprEqn, producers: Dict[Var, JaxprEqn]) -> Any:
    name, params, x = eqn.primitive.name, eqn.params, eqn.invars[0] if eqn.invars else None
    if x is None or len(eqn.invars) != 1:
        return None
    ndim = len(getattr(x.aval, "shape", ()))
    if name in ("copy", "convert_element_type"):
        return x
    if name == "reshape" and params.get("dimensions") is None:
        return x
    if name == "broadcast_in_dim" and _identity_axes(params, "broadcast_dimensions", ndim):
        return x
    if name == "transpose" and _identity_axes(params, "permutation", ndim):
        return x
    if name in ("squeeze", "rev") and tuple(params["dimensions"]) == ():
        return x
    if name.startswith("reduce_") and tuple(params.get("axes", (0,))) == ():
        return x
    if name == "device_put" and all(d is None for d in params.get("devices", (0,))):
        return x
    return None


def copy_propagation(jaxpr: AnyJaxpr) -> AnyJaxpr:
    """Remove the equations that return their input unchanged; their readers read the input.

    Copies, conversions to the input's own type, reshapes / broadcasts to the same shape,
    identity transposes and reductions over no axes qualify. Recurses into sub-jaxprs.

    Args:
      jaxpr: a `Jaxpr` or `ClosedJaxpr`.

    Returns:
      A jaxpr of the same kind with the same inputs computing the same values.

    Example:
      >>> import jax, jax.numpy as jnp, brainstate
      >>> closed = jax.make_jaxpr(lambda x: jnp.sin(jnp.copy(x)))(jnp.ones(3))
      >>> [str(e.primitive) for e in closed.jaxpr.eqns]
      ['copy', 'sin']
      >>> [str(e.primitive) for e in brainstate.transform.copy_propagation(closed).jaxpr.eqns]
      ['sin']
    """
    check_jaxpr_arg(jaxpr, "copy_propagation")
    return Rewriter(_forwarding(_copy_rule))(jaxpr)


def _constant(atom: Any, producers: Dict[Var, JaxprEqn]) -> Optional[np.ndarray]:
    """The scalar every element of `atom` equals, when it is a literal or a broadcast of one."""
    if isinstance(atom, Literal):
        return np.asarray(atom.val) if np.shape(atom.val) == () else None
    eqn = producers.get(atom)
    if eqn is not None and eqn.primitive.name == "broadcast_in_dim" and isinstance(eqn.invars[0], Literal):
        return _constant(eqn.invars[0], producers)
    return None


def _is(atom: Any, value: float, producers: Dict[Var, JaxprEqn], sign: Optional[bool] = None) -> bool:
    c = _constant(atom, producers)
    return c is not None and bool(c == value) and (sign is None or bool(np.signbit(c)) == sign)


def _inexact(atom: Any) -> bool:
    return bool(jax.dtypes.issubdtype(atom.aval.dtype, np.inexact))


def _unary_of(atom: Any, name: str, producers: Dict[Var, JaxprEqn]) -> Any:
    eqn = producers.get(atom) if isinstance(atom, Var) else None
    return eqn.invars[0] if eqn is not None and eqn.primitive.name == name else None


def _algebra_rule(eqn: JaxprEqn, producers: Dict[Var, JaxprEqn]) -> Any:
    name, ins = eqn.primitive.name, eqn.invars
    if name in ("add", "add_any"):
        for x, c in ((ins[0], ins[1]), (ins[1], ins[0])):
            # x + (+0.0) is +0.0, not x, when x is -0.0: floats drop only a -0.0 addend.
            if _is(c, 0, producers, sign=True if _inexact(c) else None):
                return x
    elif name == "sub" and _is(ins[1], 0, producers, sign=False if _inexact(ins[1]) else None):
        return ins[0]
    elif name == "mul":
        for x, c in ((ins[0], ins[1]), (ins[1], ins[0])):
            if _is(c, 1, producers):
                return x
    elif name == "div" and _is(ins[1], 1, producers):
        return ins[0]
    elif name in ("neg", "not"):
        return _unary_of(ins[0], name, producers)
    elif name in ("and", "or", "max", "min") and ins[0] is ins[1] and isinstance(ins[0], Var):
        return ins[0]
    # Array avals (ShapedArray) have shape and dtype; JAX's stubs type `aval` as the base class.
    elif name in ("and", "or") and ins[0].aval.dtype == np.bool_:  # type: ignore[attr-defined]
        for x, c in ((ins[0], ins[1]), (ins[1], ins[0])):
            if _is(c, name == "and", producers):
                return x
    elif name == "select_n":
        cases = ins[1:]
        if all(c is cases[0] for c in cases) and (isinstance(cases[0], Var) or len(cases) == 1):
            return cases[0]
    elif name == "integer_pow" and eqn.params["y"] == 1:
        return ins[0]
    return None


def algebraic_simplification(jaxpr: AnyJaxpr) -> AnyJaxpr:
    """Rewrite algebraic identities (`x * 1`, `x - 0`, `-(-x)`, `select_n(p, x, x)`, ...) to `x`.

    An identity applies only where it holds for every value, `-0.0`, `inf` and `nan` included,
    and where the result has exactly the type of `x` (no broadcasting or promotion is lost).
    Constants are literals or broadcasts of a scalar literal. Recurses into sub-jaxprs.

    Args:
      jaxpr: a `Jaxpr` or `ClosedJaxpr`.

    Returns:
      A jaxpr of the same kind with the same inputs computing the same values.

    Example:
      >>> import jax, jax.numpy as jnp, brainstate
      >>> closed = jax.make_jaxpr(lambda x: -(-x) * 1.0 - 0.0)(jnp.ones(3))
      >>> len(closed.jaxpr.eqns), len(brainstate.transform.algebraic_simplification(closed).jaxpr.eqns)
      (4, 1)
    """
    check_jaxpr_arg(jaxpr, "algebraic_simplification")
    return Rewriter(_forwarding(_algebra_rule))(jaxpr)


# ----------------------------------------------------------------------------------------------
# common subexpression elimination


class _Unkeyable(Exception):
    """A param value that cannot be compared safely: its equation is not merged."""


def _freeze(value: Any) -> Any:
    """A hashable key that equals another's only when the two param values are equal."""
    if is_jaxpr(value):
        return ("jaxpr", id(value))  # sub-jaxprs are compared by identity (a shared body is one object)
    if isinstance(value, (tuple, list)):
        return (type(value).__name__, tuple(_freeze(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple(sorted((k, _freeze(v)) for k, v in value.items())))
    if isinstance(value, np.ndarray):
        return ("array", value.dtype.str, value.shape, value.tobytes())
    try:
        hash(value)
    except TypeError:
        raise _Unkeyable from None
    return (type(value), value)


def _atom_key(atom: Any) -> Any:
    if isinstance(atom, Literal):
        value = np.asarray(atom.val)
        return ("literal", atom.aval, value.dtype.str, value.shape, value.tobytes())
    return ("var", atom)


def _cse_key(eqn: JaxprEqn) -> Any:
    if eqn.effects or not eqn.outvars or eqn.primitive.name in _NONDETERMINISTIC:
        return None
    try:
        params = tuple(sorted((k, _freeze(v)) for k, v in eqn.params.items()))
    except _Unkeyable:
        return None
    return eqn.primitive, tuple(_atom_key(a) for a in eqn.invars), params


def _cse_level(jaxpr: Jaxpr, eqns: List[JaxprEqn]) -> Tuple[List[JaxprEqn], List[Any]]:
    sub, kept = Substitution(), []
    seen: Dict[Any, JaxprEqn] = {}
    for eqn in eqns:
        eqn = sub.eqn(eqn)
        key = _cse_key(eqn)
        first = seen.get(key) if key is not None else None
        if first is not None and all(not is_used(a) or (is_used(b) and a.aval == b.aval)
                                     for a, b in zip(eqn.outvars, first.outvars)):
            for a, b in zip(eqn.outvars, first.outvars):
                if is_used(a):
                    sub.set(a, b)
            continue
        if key is not None and first is None:
            seen[key] = eqn
        kept.append(eqn)
    return kept, sub.atoms(jaxpr.outvars)


def common_subexpression_elimination(jaxpr: AnyJaxpr) -> AnyJaxpr:
    """Remove effect-free equations that repeat an earlier one; their readers read the first.

    Two equations repeat each other when they apply the same primitive with equal params
    (sub-jaxprs compared by identity) to the same inputs. Recurses into sub-jaxprs.

    Args:
      jaxpr: a `Jaxpr` or `ClosedJaxpr`.

    Returns:
      A jaxpr of the same kind with the same inputs computing the same values.

    Example:
      >>> import jax, jax.numpy as jnp, brainstate
      >>> closed = jax.make_jaxpr(lambda x: jnp.sin(x) + jnp.sin(x))(1.0)
      >>> [str(e.primitive) for e in brainstate.transform.common_subexpression_elimination(closed).jaxpr.eqns]
      ['sin', 'add']
    """
    check_jaxpr_arg(jaxpr, "common_subexpression_elimination")
    return Rewriter(_cse_level)(jaxpr)


# ----------------------------------------------------------------------------------------------
# dead code elimination


def _dce_level(jaxpr: Jaxpr, eqns: List[JaxprEqn]) -> Tuple[List[JaxprEqn], List[Any]]:
    live = {v for v in jaxpr.outvars if isinstance(v, Var)}
    kept = []
    for eqn in reversed(eqns):
        if eqn.effects or any(is_used(v) and v in live for v in eqn.outvars):
            kept.append(eqn)
            live.update(v for v in eqn.invars if isinstance(v, Var))
    kept.reverse()
    return kept, list(jaxpr.outvars)


def dead_code_elimination(jaxpr: AnyJaxpr) -> AnyJaxpr:
    """Remove the effect-free equations none of whose outputs is read.

    The jaxpr's inputs and outputs stay as they are (an unused input is kept); effectful
    equations (prints, callbacks) always stay. Recurses into sub-jaxprs.

    Args:
      jaxpr: a `Jaxpr` or `ClosedJaxpr`.

    Returns:
      A jaxpr of the same kind with the same inputs computing the same values.

    Example:
      >>> import jax, jax.numpy as jnp, brainstate
      >>> def f(x):
      ...     unused = jnp.cos(x)
      ...     return jnp.sin(x)
      >>> closed = jax.make_jaxpr(f)(1.0)
      >>> [str(e.primitive) for e in brainstate.transform.dead_code_elimination(closed).jaxpr.eqns]
      ['sin']
    """
    check_jaxpr_arg(jaxpr, "dead_code_elimination")
    return Rewriter(_dce_level)(jaxpr)
