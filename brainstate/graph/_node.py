"""`Node`: the base class of objects that take part in the graph model.

A `Node`'s instance attributes are its edges: the graph walk visits them in sorted name order
and follows sub-nodes, lists, tuples, dicts, namedtuples and `State`s inside them; anything
else is an opaque leaf. Nothing needs registering: an attribute assigned at any time is part of
the graph from then on.

Rebuilding a node (`graph.treefy_merge`, `unflatten`, `clone`) creates it with
`object.__new__` and sets its attributes back one by one, so `__init__` is never re-run and
cycles can be restored (a node exists before its children are filled in).
"""

import threading
from typing import Any, Callable, List, Tuple

from . import _epoch

__all__ = ["Node"]

# Ids of the nodes whose repr is being built on this thread, so cycles print as `Type(...)`.
_printing = threading.local()


class Node:
    """Base class of graph objects; their attributes form the graph's edges.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> class Pair(brainstate.graph.Node):
      ...     def __init__(self):
      ...         self.a = brainstate.State(jnp.zeros(2))
      ...         self.b = brainstate.State(jnp.ones(2))
      >>> list(brainstate.graph.states(Pair()).keys())
      [('a',), ('b',)]
    """

    __module__ = "brainstate.graph"

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        if id(self) in _epoch.watched:
            _epoch.changed()

    def __delattr__(self, name: str) -> None:
        object.__delattr__(self, name)
        if id(self) in _epoch.watched:
            _epoch.changed()

    def _repr_fields(self) -> List[Tuple[str, Any]]:
        """The `(name, value)` pairs shown by `repr`: the public attributes, sorted."""
        return [(k, v) for k, v in sorted(vars(self).items()) if not k.startswith("_")]

    def __repr__(self) -> str:
        active = getattr(_printing, "ids", None)
        if active is None:
            active = _printing.ids = set()
        name = type(self).__name__
        if id(self) in active:
            return f"{name}(...)"
        active.add(id(self))
        try:
            fields = [f"{k}={_indent(repr(v))}" for k, v in self._repr_fields()]
        finally:
            active.discard(id(self))
        if not fields:
            return f"{name}()"
        return f"{name}(\n  " + ",\n  ".join(fields) + "\n)"


    def check_valid_context(self, error_msg: Callable[[], str]) -> None:
        """Raise `TraceContextError(error_msg())` if a State reachable from this node holds a
        JAX tracer from a transform that has finished (its value escaped that transform).

        A node has no trace context of its own; its States do. Each State is checked by reading
        its value, so inside a state-aware transform the node's States count as read there.

        Args:
          error_msg: called, with no argument, only when a State is invalid; its result is the
            message.

        Raises:
          TraceContextError: a reachable State holds a leaked tracer (the State's own error is
            the cause).

        Example:
          >>> import brainstate, jax.numpy as jnp
          >>> class Cell(brainstate.graph.Node):
          ...     def __init__(self):
          ...         self.h = brainstate.State(jnp.zeros(2))
          >>> Cell().check_valid_context(lambda: "Cell used outside its transform")  # no error
        """
        from .._errors import TraceContextError
        from .._state import State
        from ._walk import iter_leaf

        for _, leaf in iter_leaf(self):
            if isinstance(leaf, State):
                try:
                    leaf.value
                except TraceContextError as err:
                    raise TraceContextError(error_msg()) from err


def _indent(text: str) -> str:
    return text.replace("\n", "\n  ")
