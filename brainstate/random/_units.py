"""Physical units on draws: `brainunit` Quantities in, Quantities out.

A draw whose parameters have a physical meaning (a location, a scale, bounds, a population)
accepts `brainunit.Quantity` values for them and returns its samples in their unit:
`normal(1. * u.mV, 0.5 * u.mV, size=2)` is a Quantity in mV. The sampling code never sees a
Quantity: the draw first turns its parameters into plain numbers and one unit (`split_unit`),
samples as before, and puts the unit on the result (`attach_unit`). Same key, same numbers:
the samples' values are those of the unit-less draw with the plain parameters.

Rules, those of the reference release:
- the parameters that carry a unit share it. The first dimensional Quantity among them, in
  signature order, fixes the unit; another Quantity is converted to it (1 V next to 0 mV
  becomes 1000 mV); a plain number is taken in it; a Quantity of another dimension (including a
  dimensionless one next to mV) raises `brainunit.UnitMismatchError` naming both parameters;
- parameters without a physical dimension (probabilities, counts, shapes, degrees of freedom,
  angles) accept a dimensionless Quantity, whose value is used, and raise ValueError for a
  dimensional one (`plain_values`);
- a draw whose parameters are all plain or dimensionless returns a plain array, as the
  reference's `brainunit.maybe_decimal` does.

brainunit is an optional dependency and is never imported here. A Quantity exists only once
the package that defines it is imported, so while neither `brainunit` nor `saiunit` (where
brainunit's Quantity lives) is in `sys.modules` every value is plain, and the check costs two
dictionary look-ups; with them loaded it is one `isinstance` per parameter.
"""

import sys
from typing import Any, Tuple

import jax

__all__ = ["quantity_type", "is_quantity", "split_unit", "plain_values", "attach_unit", "drop_unit",
           "unit_mismatch"]

# brainunit re-exports saiunit's Quantity; either may be imported without the other.
_UNIT_PACKAGES = ("brainunit", "saiunit")


def quantity_type() -> Any:
    """The Quantity class if a units package is loaded, else None (then no value is a Quantity)."""
    for name in _UNIT_PACKAGES:
        module = sys.modules.get(name)
        if module is not None:
            cls = getattr(module, "Quantity", None)
            if cls is not None:
                return cls
    return None


def is_quantity(value: Any) -> bool:
    """Whether `value` is a brainunit Quantity (False whenever no units package is loaded)."""
    cls = quantity_type()
    return cls is not None and isinstance(value, cls)


def _holds_quantity(value: Any, cls: Any) -> bool:
    """`value` is a Quantity, or a list/tuple with one among its entries (`[0 * mV, 1 * mV]`)."""
    if isinstance(value, cls):
        return True
    if isinstance(value, (list, tuple)):
        leaves = jax.tree_util.tree_leaves(value, is_leaf=lambda x: isinstance(x, cls))
        return any(isinstance(x, cls) for x in leaves)
    return False


def _any_quantity(values: Any, cls: Any) -> bool:
    """Whether one of `values` holds a Quantity (a plain loop: this runs on every draw)."""
    if cls is None:
        return False
    for v in values:
        if isinstance(v, cls) or (isinstance(v, (list, tuple)) and _holds_quantity(v, cls)):
            return True
    return False


def _as_quantity(value: Any, cls: Any) -> Any:
    """A list/tuple holding Quantities as one Quantity array (its entries' units must agree);
    anything else unchanged (a plain list stays plain, to be taken in the shared unit)."""
    if isinstance(value, (list, tuple)) and _holds_quantity(value, cls):
        return sys.modules[cls.__module__.split(".")[0]].math.asarray(value)
    return value


def unit_mismatch(message: str) -> Exception:
    """`brainunit.UnitMismatchError` (what the reference raises and users catch) with `message`.

    Called only after a Quantity was seen, so its package is loaded.
    """
    cls = quantity_type()
    assert cls is not None, "unit_mismatch is only called once a Quantity was seen"
    return sys.modules[cls.__module__.split(".")[0]].UnitMismatchError(message)


def split_unit(fn: str, **params: Any) -> Tuple[Any, ...]:
    """The parameters as plain values in one shared unit, followed by that unit (None if none).

    Args:
      fn: the draw's name, for error messages.
      **params: the unit-bearing parameters in signature order; None (a default) stays None.

    Returns:
      `(*values, unit)`: each value a plain number or array expressed in `unit`.

    Raises:
      brainunit.UnitMismatchError: two parameters have different dimensions.

    Example:
      >>> import brainunit as u
      >>> loc, scale, unit = split_unit("normal", loc=0. * u.mV, scale=1. * u.volt)
      >>> float(scale), str(unit)
      (1000.0, 'mV')
    """
    cls = quantity_type()
    if not _any_quantity(params.values(), cls):
        return (*params.values(), None)
    params = {name: _as_quantity(v, cls) for name, v in params.items()}
    owner = next((name for name, v in params.items()
                  if isinstance(v, cls) and not v.dim.is_dimensionless), None)
    if owner is None:  # only dimensionless Quantities (radian, mV/V): plain numbers
        return (*(v.to_decimal() if isinstance(v, cls) else v for v in params.values()), None)
    unit = params[owner].unit
    values = []
    for name, v in params.items():
        if isinstance(v, cls):
            if v.dim != unit.dim:
                shown = "dimensionless" if v.dim.is_dimensionless else f"in {v.unit}"
                raise unit_mismatch(
                    f"{fn}: `{name}` is {shown}, which cannot be converted to {unit}, the unit of "
                    f"`{owner}`. The samples take their unit from `{owner}`, so `{name}` needs a "
                    f"unit of the same dimension (mV and V both work) or a plain number, which "
                    f"is taken in {unit}.")
            v = v.to_decimal(unit)
        values.append(v)
    return (*values, unit)


def plain_values(fn: str, **params: Any) -> Tuple[Any, ...]:
    """The parameters as plain values; each must be plain or a dimensionless Quantity.

    Args:
      fn: the draw's name, for error messages.
      **params: parameters that have no physical dimension (probabilities, counts, shapes).

    Returns:
      The values in order, dimensionless Quantities replaced by their plain value.

    Raises:
      ValueError: a parameter is a Quantity with a physical dimension.

    Example:
      >>> import brainunit as u
      >>> plain_values("poisson", lam=u.Quantity(3.0))
      (3.0,)
    """
    cls = quantity_type()
    if not _any_quantity(params.values(), cls):
        return tuple(params.values())
    values = []
    for name, v in params.items():
        v = _as_quantity(v, cls)
        if isinstance(v, cls):
            if not v.dim.is_dimensionless:
                raise ValueError(
                    f"{fn}: `{name}` must be dimensionless, got a Quantity in {v.unit}. It is a "
                    f"pure number (a probability, count, shape or angle), so it takes no physical "
                    f"unit: pass a plain number.")
            v = v.to_decimal()
        values.append(v)
    return tuple(values)


def attach_unit(x: Any, unit: Any) -> Any:
    """`x` in `unit` as a Quantity; `x` itself when `unit` is None."""
    if unit is None:
        return x
    cls = quantity_type()
    assert cls is not None, "a unit comes from a Quantity, so its package is loaded"
    return cls(x, unit=unit)


def drop_unit(x: Any) -> Any:
    """The plain values of `x` in its own unit (for templates: only their shape and dtype count)."""
    return x.mantissa if is_quantity(x) else x
