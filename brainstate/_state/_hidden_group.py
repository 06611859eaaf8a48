"""Several hidden variables of one population kept in a single state.

`HiddenGroupState` stacks `num_state` hidden arrays of shape `varshape` along a last axis, so a
model with many per-neuron variables (voltage, adaptation current, ...) threads one array.
`HiddenTreeState` does the same for a dict or sequence of same-shaped arrays and remembers
their names.
"""

from typing import Any, Dict, Sequence, Union

import jax.numpy as jnp

from ._state import HiddenState

__all__ = ["HiddenGroupState", "HiddenTreeState"]


class HiddenGroupState(HiddenState):
    """`num_state` hidden arrays of shape `varshape`, stacked along the last axis.

    Args:
      value: an array of shape `(*varshape, num_state)` (at least 2-D).

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> g = brainstate.HiddenGroupState(jnp.zeros((4, 2)))
      >>> g.num_state, g.varshape
      (2, (4,))
      >>> g.set_value({1: jnp.ones(4)}); g.get_value(1).tolist()
      [1.0, 1.0, 1.0, 1.0]
    """

    __module__ = "brainstate"

    def __init__(self, value: Any, **kwargs):
        if jnp.ndim(value) < 2:
            raise ValueError(
                f"HiddenGroupState needs an array of shape (*varshape, num_state) with at least 2 "
                f"dimensions, got shape {jnp.shape(value)}. Add a trailing axis for one variable.")
        super().__init__(value, **kwargs)
        if "name2index" not in vars(self):
            self.name2index = {str(i): i for i in range(self.num_state)}

    @property
    def varshape(self) -> tuple:
        """Shape of one hidden variable, as the running function sees it (inside `vmap`, one lane's)."""
        return self._seen_shape()[:-1]

    @property
    def num_state(self) -> int:
        """Number of hidden variables in the group."""
        return self._seen_shape()[-1]

    def _index(self, item) -> int:
        if isinstance(item, str) and item.isdigit():
            item = int(item)
        if not isinstance(item, int) or not 0 <= item < self.num_state:
            raise IndexError(
                f"{self._label()} has {self.num_state} hidden variables; index {item!r} is out of range.")
        return item

    def get_value(self, item: Union[int, str]):
        """The value of hidden variable `item` (an index or its string form)."""
        return self.value[..., self._index(item)]

    def set_value(self, val: Union[Dict[Union[int, str], Any], Sequence[Any]]) -> None:
        """Write hidden variables: `{index: array of shape varshape}`, or a list/tuple of arrays
        for the first variables in order."""
        val = _as_dict(val)
        value = self.value
        for item, v in val.items():
            i = self._index(item)
            if jnp.shape(v) != self.varshape:
                raise ValueError(
                    f"{self._label()}: hidden variable {item!r} has shape {self.varshape}, got {jnp.shape(v)}.")
            value = value.at[..., i].set(v)
        self.value = value


class HiddenTreeState(HiddenGroupState):
    """Named hidden variables of one shape (a dict or a sequence), stored as one stacked array.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> t = brainstate.HiddenTreeState({'v': jnp.zeros(3), 'w': jnp.ones(3)})
      >>> t.get_value('w').tolist()
      [1.0, 1.0, 1.0]
    """

    __module__ = "brainstate"

    def __init__(self, value: Union[Dict[str, Any], Sequence[Any]], **kwargs):
        if isinstance(value, dict):
            names = list(value)
            arrays = [value[k] for k in names]
        elif isinstance(value, (list, tuple)):
            names = [str(i) for i in range(len(value))]
            arrays = list(value)
        else:
            raise TypeError(f"HiddenTreeState takes a dict or a sequence of arrays, got {type(value).__name__}.")
        shapes = {jnp.shape(a) for a in arrays}
        if len(shapes) != 1:
            raise ValueError(f"HiddenTreeState needs arrays of one shape, got shapes {sorted(shapes)}.")
        self.name2index = {n: i for i, n in enumerate(names)}
        # Variables with units (a voltage in mV next to a plain adaptation variable) are stored
        # as their mantissas; `get_value` puts the unit back, `set_value` converts into it.
        split = [_split_unit(a) for a in arrays]
        self.index2unit = [unit for _, unit in split]
        self.name2unit = {n: unit for n, unit in zip(names, self.index2unit)}
        super().__init__(jnp.stack([jnp.asarray(m) for m, _ in split], axis=-1), **kwargs)

    def _index(self, item) -> int:
        if isinstance(item, str) and item in self.name2index:
            return self.name2index[item]
        if isinstance(item, str):
            raise KeyError(f"{self._label()} has no hidden variable {item!r}; it has {list(self.name2index)}.")
        return super()._index(item)

    def get_value(self, item: Union[int, str]):
        """The value of hidden variable `item` (a name or an index), with its unit if it has one."""
        i = self._index(item)
        unit = self.index2unit[i]
        m = self.value[..., i]
        return m if unit is None else m * unit

    def set_value(self, val: Union[Dict[Union[int, str], Any], Sequence[Any]]) -> None:
        """Write hidden variables: `{name or index: value}` (or a list/tuple in order), each in
        its variable's unit."""
        val = _as_dict(val)
        plain = {}
        for item, v in val.items():
            unit = self.index2unit[self._index(item)]
            m, given = _split_unit(v)
            if unit is None and given is not None:
                raise ValueError(f"{self._label()}: hidden variable {item!r} has no unit, got a value in {given}.")
            if unit is not None:
                if given is None:
                    raise ValueError(f"{self._label()}: hidden variable {item!r} is in {unit}, got a plain value.")
                m = v.to(unit).mantissa  # raises if the dimensions differ
            plain[item] = m
        super().set_value(plain)


def _as_dict(val: Any) -> dict:
    if isinstance(val, (list, tuple)):
        return dict(enumerate(val))
    if not isinstance(val, dict):
        raise TypeError(f"set_value takes a dict {{name or index: value}} or a list of values, got "
                        f"{type(val).__name__}.")
    return val


def _split_unit(x: Any) -> tuple:
    """`(mantissa, unit)` of a `brainunit.Quantity` with a dimension; `(x, None)` otherwise."""
    unit = getattr(x, "unit", None)
    if unit is None or not hasattr(x, "mantissa"):
        return x, None
    if getattr(unit, "is_unitless", False):
        return x.mantissa, None
    return x.mantissa, unit
