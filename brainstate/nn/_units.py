"""Physical units at the boundary: the one place `nn` touches the optional `brainunit` package.

Dynamics models accept parameters and inputs that carry units (`brainunit.Quantity`, e.g.
`10 * u.ms`). `brainunit` is an optional extra, so nothing here imports it eagerly: a value can
only be a Quantity if the package that defines the class is already loaded, which
`is_quantity` checks through `sys.modules` at no cost.

Models keep the continuous part of an update in units (brainunit's arithmetic checks the
dimensions) and do their discrete logic (thresholds, `where`, resets) on plain mantissas:
`mantissa(x, unit)` converts into a given unit and `attach(m, unit)` puts it back.

Invariant: `unit is None` means "plain numbers"; a plain value never silently mixes with a
Quantity of another dimension (the conversion raises, naming the owner and argument). The one
deliberate exception is a layer's plain bias, which `add_bias` reads in the output's unit (the
reference release's layers store their default bias as plain zeros whatever the weight's unit).
"""

import sys
from typing import Any, Optional, Tuple

import jax.numpy as jnp


__all__ = ["is_quantity", "is_unit_sparse", "split", "attach", "mantissa", "decimal", "unit_of", "check_same_dim",
           "add_bias"]


def _saiunit():
    # brainunit re-exports saiunit's Quantity; either module being loaded is enough.
    return sys.modules.get("saiunit") or sys.modules.get("brainunit")


def is_quantity(x: Any) -> bool:
    """True if `x` is a `brainunit.Quantity` (False when brainunit was never imported)."""
    mod = _saiunit()
    return mod is not None and isinstance(x, mod.Quantity)


def is_unit_sparse(x: Any) -> bool:
    """True if `x` is a brainunit sparse matrix (`u.sparse.CSR`, `CSC`, `COO`)."""
    mod = sys.modules.get("saiunit")
    return mod is not None and isinstance(x, mod.sparse.SparseMatrix)


def unit_of(x: Any):
    """The unit of a Quantity, or None for a plain value."""
    return x.unit if is_quantity(x) else None


def split(x: Any) -> Tuple[Any, Any]:
    """`(mantissa, unit)` of `x`; `unit` is None for a plain value."""
    if is_quantity(x):
        return x.mantissa, x.unit
    return x, None


def attach(m: Any, unit: Any) -> Any:
    """`m` with `unit` attached (`m` itself when `unit` is None or dimensionless)."""
    if unit is None:
        return m
    mod = _saiunit()
    return mod.maybe_decimal(mod.Quantity(m, unit=unit))


def mantissa(x: Any, unit: Any, owner: str = "", arg: str = "value") -> Any:
    """The numbers of `x` expressed in `unit` (`unit=None`: `x` must be plain).

    Raises:
      ValueError: if `x` has units where plain numbers are expected, has none where `unit` is
        expected (other than an exact zero), or has the wrong dimension.
    """
    if unit is None:
        if is_quantity(x):
            if x.unit.is_unitless:
                return x.mantissa
            raise ValueError(
                f"{owner}: {arg} carries the unit {x.unit} but the model works in plain numbers. "
                f"Give every parameter and input units, or none of them.")
        return x
    if not is_quantity(x):
        # A plain zero is unambiguous in any unit (e.g. the default input `0.`).
        if isinstance(x, (int, float)) and x == 0:
            return x
        raise ValueError(
            f"{owner}: {arg} is a plain number ({_short(x)}) but the model works in {unit}. "
            f"Give every parameter and input units, or none of them (e.g. {arg}=... * u.mV).")
    try:
        return x.to_decimal(unit)
    except Exception:
        raise ValueError(
            f"{owner}: {arg} has the unit {x.unit}, which cannot be converted to {unit}. Use a "
            f"value of the same physical dimension.") from None


def decimal(x: Any, owner: str = "", arg: str = "value") -> Any:
    """`x` as a plain number; a Quantity must be dimensionless (e.g. `dt / tau`)."""
    if is_quantity(x):
        if x.unit.is_unitless:
            return x.to_decimal()
        raise ValueError(
            f"{owner}: {arg} should be dimensionless but has the unit {x.unit}. Check that "
            f"related parameters (e.g. `dt` and time constants) are given in compatible units.")
    return x


def _short(x: Any) -> str:
    text = repr(x)
    return text if len(text) < 40 else text[:37] + "..."


def zeros_like(x: Any) -> Any:
    """Zeros with the shape, dtype and unit of `x`."""
    m, unit = split(x)
    return attach(jnp.zeros_like(m), unit)


def _dim(unit: Any) -> Any:
    """The physical dimension of a unit (None: dimensionless)."""
    return None if unit is None or unit.is_unitless else unit.dim


def check_same_dim(owner: str, a: Any, b: Any, what: str, fix: str) -> None:
    """Raise a ValueError naming `owner` unless `a` and `b` have the same physical dimension.

    Units are static (they live in the PyTree structure), so this check is trace-safe.

    Raises:
      ValueError: the dimensions differ (a plain value counts as dimensionless).
    """
    ua, ub = unit_of(a), unit_of(b)
    if _dim(ua) != _dim(ub):
        raise ValueError(f"{owner}: {what}: {ua or 'no unit'} and {ub or 'no unit'} have different physical "
                         f"dimensions, so they cannot be added. {fix}")


def add_bias(owner: str, y: Any, bias: Any, what: str, fix: str) -> Any:
    """`y + bias`, where a plain `bias` is read in the unit of `y`.

    A layer's default bias is plain zeros even when its weight carries a unit (the reference
    release's parameter layout, so its checkpoints load), so a plain bias adds its numbers to
    those of `y`, in whatever unit `y` has. This works the same eagerly and under a trace, where
    brainunit itself could not tell a zero bias from another. A bias that carries a unit must
    have the dimension of `y`.

    Raises:
      ValueError: `bias` carries a unit of another dimension than `y` (see `check_same_dim`).
    """
    if is_quantity(bias):
        check_same_dim(owner, y, bias, what, fix)
        return y + bias
    m, unit = split(y)
    return attach(m + bias, unit)
