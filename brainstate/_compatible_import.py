"""The one place that touches JAX's IR types and the details that differ between JAX releases.

Everything here comes from the public `jax.extend.core` module; what this module adds is the
knowledge of how those types changed between the JAX releases we support (jax 0.10 to 0.12):

* jax 0.11.1 folded `ClosedJaxpr` into `Jaxpr`: a `Jaxpr` may carry the values of its leading
  inputs (its "consts"), and `jax.extend.core.ClosedJaxpr` is the same class as `Jaxpr`.
  Before, a `ClosedJaxpr` wrapped an open `Jaxpr` and a list of consts.
* jax 0.12 replaced `scan`'s `num_consts` / `num_carry` parameters by the `ft_in` trees.

Code elsewhere imports these names and helpers instead of `jax.core` / `jax._src`, so a JAX
release that moves them again needs a change here only.
"""

from typing import Any, Callable, List, Sequence, Tuple, Union

from jax.extend.core import (
    ClosedJaxpr,  # a jaxpr paired with the values of its constvars (the type jax.make_jaxpr returns)
    DebugInfo,  # where a jaxpr came from; a jaxpr built without one triggers a DeprecationWarning
    DropVar,  # the binder of an equation output that nothing reads (printed `_`)
    Jaxpr,  # the open IR: constvars, invars, equations, outvars
    JaxprEqn,  # one equation: primitive, params, input atoms, output vars, effects
    Literal,  # a constant input atom written into an equation
    Primitive,  # the operation an equation applies (its `.name` keys code generators)
    Var,  # an IR variable; identity (not name) is what matters
)

__all__ = ["ClosedJaxpr", "DebugInfo", "DropVar", "Jaxpr", "JaxprEqn", "Literal", "Primitive", "Var", "CLOSED_IS_JAXPR",
           "AnyJaxpr", "is_jaxpr", "map_open", "open_and_consts", "new_jaxpr", "scan_counts"]

# True on jax >= 0.11.1, where one `Jaxpr` class serves as both the open and the closed jaxpr.
CLOSED_IS_JAXPR: bool = ClosedJaxpr is Jaxpr

AnyJaxpr = Union[Jaxpr, ClosedJaxpr]


def is_jaxpr(x: Any) -> bool:
    """Whether `x` is a `Jaxpr` or a `ClosedJaxpr` (on every supported JAX)."""
    return isinstance(x, (Jaxpr, ClosedJaxpr))


def open_and_consts(x: AnyJaxpr) -> Tuple[Jaxpr, List[Any]]:
    """The open jaxpr of `x` (whose `constvars` are the const binders) and the const values known.

    An open `Jaxpr` on jax < 0.11.1 has no values: the list is then empty even when it has
    constvars.
    """
    if not CLOSED_IS_JAXPR and isinstance(x, ClosedJaxpr):
        return x.jaxpr, list(x.consts)
    return x, list(getattr(x, "consts", ()))  # jax >= 0.11.1 attaches the values to the Jaxpr


def map_open(x: AnyJaxpr, fn: Callable[[Jaxpr], Jaxpr]) -> AnyJaxpr:
    """Apply `fn` to the open jaxpr inside `x` and rewrap it like `x` (same consts).

    `fn` must keep the constvars and invars; it should rebuild with `jaxpr.replace(...)`, which
    keeps any values attached to the constvars on jax >= 0.11.1. Returns `x` itself when `fn`
    returns its argument unchanged.
    """
    if not CLOSED_IS_JAXPR and isinstance(x, ClosedJaxpr):
        new = fn(x.jaxpr)
        return x if new is x.jaxpr else ClosedJaxpr(new, x.consts)
    return fn(x)


def new_jaxpr(constvars: Sequence[Var], invars: Sequence[Var], outvars: Sequence[Any], eqns: Sequence[JaxprEqn],
              effects: Any, consts: Union[Sequence[Any], None] = None, origin: str = "brainstate") -> AnyJaxpr:
    """Build a jaxpr; with `consts` (one value per constvar), a closed one. `origin` names the
    builder in the jaxpr's debug info (its argument and result names are unknown)."""
    info = DebugInfo(origin, f"<{origin}>", None, None)
    parts = (list(constvars), list(invars), list(outvars), list(eqns), effects, info)
    if consts is None:
        return Jaxpr(*parts)
    if CLOSED_IS_JAXPR:
        return Jaxpr(*parts, consts=list(consts))
    return ClosedJaxpr(Jaxpr(*parts), list(consts))


def scan_counts(params: dict, num_operands: int) -> Tuple[int, int]:
    """`(num_consts, num_carry)` of a `scan` equation with `num_operands` inputs, on every JAX."""
    if "num_consts" in params:
        return params["num_consts"], params["num_carry"]
    # jax >= 0.12: `ft_in` is a flat tree grouping the operands as (consts, carry, xs).
    consts, carry, _ = params["ft_in"].update(list(range(num_operands))).unpack()
    return len(list(consts)), len(list(carry))
