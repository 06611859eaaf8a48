"""`optimize_jaxpr`: run the jaxpr passes of `_jaxpr_passes.py` in order until nothing changes.

This is the one-call hook for code that wants optimised jaxprs (e.g. a stateful function built
with `ir_optimizations=...`): `optimize_jaxpr(closed_jaxpr, optimizations=names)` returns a
jaxpr of the same kind with the same inputs and the same number and types of outputs.
"""

from typing import Callable, Dict, Optional, Sequence, Union

from .._compatible_import import AnyJaxpr
from ._jaxpr_passes import (algebraic_simplification, common_subexpression_elimination, constant_fold,
                            copy_propagation, dead_code_elimination)
from ._jaxpr_rewrite import check_jaxpr_arg, count_eqns

__all__ = ["optimize_jaxpr", "OPTIMIZATIONS", "DEFAULT_OPTIMIZATIONS"]

OPTIMIZATIONS: Dict[str, Callable[[AnyJaxpr], AnyJaxpr]] = {
    "constant_fold": constant_fold,
    "algebraic_simplification": algebraic_simplification,
    "copy_propagation": copy_propagation,
    "cse": common_subexpression_elimination,
    "dce": dead_code_elimination,
}
# Long spellings, named after the pass functions.
_ALIASES = {"common_subexpression_elimination": "cse", "dead_code_elimination": "dce"}
# Folding and simplifying first exposes copies and duplicates; removing dead code comes last.
DEFAULT_OPTIMIZATIONS = ("constant_fold", "algebraic_simplification", "copy_propagation", "cse", "dce")


def _resolve(optimizations: Union[str, Sequence[str], None]) -> Sequence[str]:
    if optimizations is None:
        return DEFAULT_OPTIMIZATIONS
    names = (optimizations,) if isinstance(optimizations, str) else tuple(optimizations)
    bad = [n for n in names if not isinstance(n, str) or _ALIASES.get(n, n) not in OPTIMIZATIONS]
    if bad:
        known = ", ".join(sorted(OPTIMIZATIONS) + sorted(_ALIASES))
        raise ValueError(f"optimize_jaxpr(optimizations=...) got unknown optimization(s) {bad}; "
                         f"use names from: {known}.")
    return tuple(_ALIASES.get(n, n) for n in names)


def optimize_jaxpr(jaxpr: AnyJaxpr, max_iterations: int = 3, optimizations: Union[str, Sequence[str], None] = None,
                   verbose: bool = False) -> AnyJaxpr:
    """Apply jaxpr optimisation passes in order, repeating the sequence until it changes nothing.

    Args:
      jaxpr: a `Jaxpr` or `ClosedJaxpr`; sub-jaxprs are optimised too.
      max_iterations: the most times the whole sequence runs (at least 1).
      optimizations: pass names, applied in this order: any of `'constant_fold'`,
        `'algebraic_simplification'`, `'copy_propagation'`, `'cse'` (or
        `'common_subexpression_elimination'`), `'dce'` (or `'dead_code_elimination'`); a single
        name may be given as a string. Default: all five, in that order.
      verbose: print the equation count after each pass that changed something.

    Returns:
      A jaxpr of the same kind with the same inputs computing the same values.

    Raises:
      TypeError: `jaxpr` is not a jaxpr, or `max_iterations` is not an int.
      ValueError: an unknown optimization name, or `max_iterations < 1`.

    Example:
      >>> import jax, jax.numpy as jnp, brainstate
      >>> def f(x):
      ...     dead = jnp.cos(x)
      ...     return jnp.sin(x) * (2.0 * 3.0) + jnp.sin(x) * 1.0
      >>> closed = jax.make_jaxpr(f)(1.0)
      >>> print(brainstate.transform.optimize_jaxpr(closed))
      { lambda ; a:f32[]. let
          b:f32[] = sin a
          c:f32[] = mul b 6.0:f32[]
          d:f32[] = add c b
        in (d,) }
    """
    check_jaxpr_arg(jaxpr, "optimize_jaxpr")
    if isinstance(max_iterations, bool) or not isinstance(max_iterations, int):
        raise TypeError(f"optimize_jaxpr(max_iterations=...) must be an int, got {type(max_iterations).__name__}.")
    if max_iterations < 1:
        raise ValueError(f"optimize_jaxpr(max_iterations={max_iterations}) must be at least 1: it is how many "
                         f"times the sequence of passes may run.")
    names = _resolve(optimizations)
    if verbose:
        print(f"optimize_jaxpr: {count_eqns(jaxpr)} equations; passes: {' -> '.join(names) or '(none)'}")
    for iteration in range(1, max_iterations + 1):
        start = jaxpr
        for name in names:
            before = jaxpr
            jaxpr = OPTIMIZATIONS[name](jaxpr)
            if verbose and jaxpr is not before:
                print(f"  iteration {iteration}, {name}: {count_eqns(before)} -> {count_eqns(jaxpr)} equations")
        if jaxpr is start:
            if verbose:
                print(f"optimize_jaxpr: converged after {iteration} iteration(s), {count_eqns(jaxpr)} equations")
            break
    return jaxpr
