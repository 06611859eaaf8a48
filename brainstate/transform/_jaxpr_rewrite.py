"""Rewriting a jaxpr level by level while keeping its interface.

Every jaxpr pass of this package (`_jaxpr_passes.py`, `_jaxpr_inline.py`) is a function from one
level of equations to a new list of equations. `Rewriter` applies such a function to a jaxpr
and, first, to every sub-jaxpr found in its equations' params (jit bodies, scan / while / cond
bodies, custom_jvp / custom_vjp and remat bodies, ...), bottom-up.

Invariants every pass keeps, which make recursing into any primitive's sub-jaxpr safe:

* the constvars and invars of a rewritten jaxpr are the same objects, its outvars the same
  number with the same avals (an outvar may become another atom computing the same value);
* an equation with effects is never removed, merged or reordered against another effectful one;
* a jaxpr (or equation) that a pass does not change is returned as the same object, so
  "changed" is an identity test and sub-jaxprs shared by several equations stay shared.
"""

from typing import Any, Callable, Dict, List, Sequence, Tuple

from .._compatible_import import AnyJaxpr, DropVar, Jaxpr, JaxprEqn, Literal, Var, is_jaxpr, map_open, open_and_consts

__all__ = ["Rewriter", "Substitution", "count_eqns", "check_jaxpr_arg", "is_used"]

LevelFn = Callable[[Jaxpr, List[JaxprEqn]], Tuple[List[JaxprEqn], List[Any]]]


class Substitution:
    """A renaming of variables to atoms (vars or literals), applied to equation inputs and outvars."""

    def __init__(self):
        self._map: Dict[Var, Any] = {}

    def __bool__(self) -> bool:
        return bool(self._map)

    def set(self, var: Var, atom: Any) -> None:
        self._map[var] = self.read(atom)

    def read(self, atom: Any) -> Any:
        if isinstance(atom, Literal):
            return atom
        return self._map.get(atom, atom)

    def atoms(self, atoms: Sequence[Any]) -> List[Any]:
        return [self.read(a) for a in atoms]

    def eqn(self, eqn: JaxprEqn) -> JaxprEqn:
        """`eqn` with its inputs renamed (the same object when none is)."""
        if not self._map:
            return eqn
        invars = self.atoms(eqn.invars)
        if all(a is b for a, b in zip(invars, eqn.invars)):
            return eqn
        return eqn.replace(invars=invars)


class Rewriter:
    """Apply `level` to a jaxpr and (bottom-up, memoized) to all its sub-jaxprs.

    `level(jaxpr, eqns)` gets the jaxpr of one level and its equations (whose sub-jaxprs are
    already rewritten) and returns the new equations and new outvars.
    """

    def __init__(self, level: LevelFn):
        self._level = level
        # id -> (original, rewritten): the original is kept alive so its id is never reused.
        self._memo: Dict[int, Tuple[Any, Any]] = {}

    def __call__(self, x: AnyJaxpr) -> AnyJaxpr:
        hit = self._memo.get(id(x))
        if hit is not None:
            return hit[1]
        new = map_open(x, self._open)
        self._memo[id(x)] = (x, new)
        return new

    def _open(self, jaxpr: Jaxpr) -> Jaxpr:
        eqns = [self.eqn_params(e) for e in jaxpr.eqns]
        new_eqns, outvars = self._level(jaxpr, eqns)
        if _same(new_eqns, jaxpr.eqns) and _same(outvars, jaxpr.outvars):
            return jaxpr
        return jaxpr.replace(eqns=list(new_eqns), outvars=list(outvars))

    def eqn_params(self, eqn: JaxprEqn) -> JaxprEqn:
        """`eqn` with every sub-jaxpr in its params rewritten (the same object when none changes)."""
        params = None
        for key, value in eqn.params.items():
            new: Any
            if is_jaxpr(value):
                new = self(value)
            elif isinstance(value, tuple) and any(is_jaxpr(v) for v in value):
                items = tuple(self(v) if is_jaxpr(v) else v for v in value)
                new = value if _same(items, value) else items
            else:
                continue
            if new is not value:
                params = dict(eqn.params) if params is None else params
                params[key] = new
        return eqn if params is None else eqn.replace(params=params)


def _same(a: Sequence[Any], b: Sequence[Any]) -> bool:
    return len(a) == len(b) and all(x is y for x, y in zip(a, b))


def count_eqns(x: AnyJaxpr) -> int:
    """The number of equations in `x`, counting those of sub-jaxprs (each shared one once)."""
    seen: Dict[int, Any] = {}

    def visit(j: Any) -> int:
        if id(j) in seen:
            return 0
        seen[id(j)] = j
        body, _ = open_and_consts(j)
        total = 0
        for eqn in body.eqns:
            total += 1
            for value in eqn.params.values():
                for v in value if isinstance(value, tuple) else (value,):
                    if is_jaxpr(v):
                        total += visit(v)
        return total

    return visit(x)


def is_used(var: Any) -> bool:
    """Whether `var` is a binder something can read (not a `DropVar`)."""
    return not isinstance(var, DropVar)


def check_jaxpr_arg(x: Any, fn_name: str) -> None:
    """Raise a `TypeError` naming `fn_name` unless `x` is a `Jaxpr` or `ClosedJaxpr`."""
    if not is_jaxpr(x):
        raise TypeError(f"{fn_name}() takes a jax Jaxpr or ClosedJaxpr, got {type(x).__name__}. "
                        f"Make one with `jax.make_jaxpr(f)(*args)` (a ClosedJaxpr; `.jaxpr` is the open Jaxpr).")
