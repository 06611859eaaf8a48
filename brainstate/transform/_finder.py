"""`StateFinder`: the states a function touches, selected by filter and usage."""

from typing import Callable, Literal, Optional

from ..util._filters import to_predicate
from ._stateful import StatefulFunction

__all__ = ["StateFinder"]


class StateFinder:
    """Find the states `fn` reads and/or writes for given arguments.

    Args:
      fn: the function.
      filter: a state filter (see `brainstate.util`); None keeps every state.
      usage: 'all' (every touched state), 'read' (only read), 'write' (written), or 'both'
        (a dict `{'read': ..., 'write': ...}`).
      return_type: 'dict' (keyed by `key_fn(index, state)`, default the index), 'list' or 'tuple'.
      key_fn: builds the dict keys.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> w = brainstate.ParamState(jnp.ones(2)); h = brainstate.State(jnp.zeros(2))
      >>> def f(x):
      ...     h.value = w.value * x
      >>> brainstate.transform.StateFinder(f, usage='write', return_type='list')(1.0) == [h]
      True
    """

    def __init__(self, fn: Callable, filter=None, *, usage: Literal["all", "read", "write", "both"] = "all",
                 return_type: Literal["dict", "list", "tuple"] = "dict", key_fn: Optional[Callable] = None):
        if usage not in ("all", "read", "write", "both"):
            raise ValueError(f"StateFinder usage must be 'all', 'read', 'write' or 'both', got {usage!r}.")
        if return_type not in ("dict", "list", "tuple"):
            raise ValueError(f"StateFinder return_type must be 'dict', 'list' or 'tuple', got {return_type!r}.")
        self.stateful_fun = StatefulFunction(fn)
        self.predicate = None if filter is None else to_predicate(filter)
        self.usage = usage
        self.return_type = return_type
        self.key_fn = key_fn or (lambda i, state: i)

    def _pack(self, states):
        if self.predicate is not None:
            states = [s for s in states if self.predicate((), s)]
        if self.return_type == "list":
            return list(states)
        if self.return_type == "tuple":
            return tuple(states)
        return {self.key_fn(i, s): s for i, s in enumerate(states)}

    def find(self, *args, **kwargs):
        """The states selected for a call with these arguments (the same as calling the finder)."""
        return self(*args, **kwargs)

    def __call__(self, *args, **kwargs):
        found = self.stateful_fun.discover(*args, **kwargs)
        if self.usage == "both":
            return {"read": self._pack(found.read_states), "write": self._pack(found.write_states)}
        states = {"all": found.states, "read": found.read_states, "write": found.write_states}[self.usage]
        return self._pack(states)
