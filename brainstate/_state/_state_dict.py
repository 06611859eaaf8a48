"""`StateDictManager`: a `DictManager` that holds only States, with value-level operations.

The names → States mappings that collect what a program uses (found states, a model's
parameters) are sliced by state kind like any `DictManager`; on top, they read and write the
*values* of their states as plain dicts (`collect_values`, `split_values`, `assign_values`).

Invariant: every value is a `State` (checked when stored). Writes go through `State.value`, so
the usual signature checks and trace recording apply.
"""

from collections.abc import Mapping
from typing import Any, Dict, Tuple

from ..util._dict_manager import DictManager
from ._state import State

__all__ = ["StateDictManager"]


class StateDictManager(DictManager):
    """A dict of named `State`s, sliced by state kind and read/written by value.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> w = brainstate.ParamState(jnp.ones(2))
      >>> h = brainstate.ShortTermState(jnp.zeros(2))
      >>> states = brainstate.StateDictManager(w=w, h=h)
      >>> params, others = states.split(brainstate.ParamState)
      >>> list(params), list(others)
      (['w'], ['h'])
      >>> states.assign_values({'h': jnp.ones(2)})
      >>> h.value.tolist()
      [1.0, 1.0]
    """

    __module__ = "brainstate"

    def _check_elem(self, elem: Any) -> None:
        if not isinstance(elem, State):
            raise TypeError(
                f"StateDictManager holds States only, got a {type(elem).__name__} ({elem!r}). Wrap "
                f"the value in a State, or use a brainstate.util.DictManager for other objects.")

    def split(self, first: type, *others: type) -> Tuple["StateDictManager", ...]:  # type: ignore[override]
        """One manager per state type (first match wins), plus one for the remaining States."""
        return super().split(first, *others)  # type: ignore[return-value]  # same class on the way out

    def assign_values(self, *args: Mapping) -> None:
        """Write values into the States by name; mappings are applied in order.

        Raises:
          KeyError: if a name is not held (nothing is written then).
        """
        writes: Dict[Any, Any] = {}
        for mapping in args:
            for key, value in mapping.items():
                if key not in self:
                    raise KeyError(
                        f"StateDictManager.assign_values: no state named {key!r}, so its value has "
                        f"nowhere to go. Held names: {list(self)}.")
                writes[key] = value
        for key, value in writes.items():
            self[key].value = value

    def collect_values(self) -> DictManager:
        """The current value of every State, as a `DictManager` under the same names."""
        return DictManager((k, s.value) for k, s in self.items())

    def split_values(self, *filters: type) -> Tuple[DictManager, ...]:
        """The values of `split(*filters)`: one `DictManager` per type, plus one for the rest."""
        return tuple(group.collect_values() for group in self.split(*filters))

    def to_dict_values(self) -> Dict[Any, Any]:
        """A plain dict from name to current value."""
        return {k: s.value for k, s in self.items()}
