"""`Node`: the base class of objects that take part in the graph model.

A `Node`'s instance attributes are its edges: the graph walk visits them in sorted name order
and follows sub-nodes, lists, tuples, dicts, namedtuples and `State`s inside them; anything
else is an opaque leaf. Nothing needs registering: an attribute assigned at any time is part of
the graph from then on.

Attributes named in the class's `graph_invisible_attrs` (a tuple of names) are not edges: the
walk, split/merge, `clone`, checkpoints and `repr` leave them out (a cache, a handle to
something outside the model). Compiled code does not watch them either: an invisible attribute
a jitted function reads is baked in when it is traced.

Rebuilding a node (`graph.treefy_merge`, `unflatten`, `clone`) creates it with
`object.__new__` and sets its attributes back one by one, so `__init__` is never re-run and
cycles can be restored (a node exists before its children are filled in).

Printing. `repr` shows the public attributes, one per line, nested nodes indented. It is built
with an explicit stack (`util._deep_repr`), expanding nodes and the lists, tuples and dicts
between them itself, so a chain of any depth prints. Nodes nested more than `MAX_INDENT` levels
deep are printed after the main text, in numbered sections headed by their path (`#1 =
root.next.next...:`), so the text stays linear in the size of the graph instead of growing with
the square of its depth.
"""

import threading
from typing import Any, Callable, List, Tuple

from ..util._deep_repr import Child, Layout, container_layout, render
from . import _epoch

__all__ = ["Node", "MAX_INDENT"]

# Ids of the objects whose repr is being built on this thread, so cycles print as `Type(...)`.
_printing = threading.local()

# Deeper than any hand-built model nests, yet shallow enough that indentation stays readable.
MAX_INDENT = 32


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

    graph_invisible_attrs: Tuple[str, ...] = ()  # attribute names that are not graph edges

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
        hidden = self.graph_invisible_attrs
        return [(k, v) for k, v in sorted(vars(self).items()) if not k.startswith("_") and k not in hidden]

    def __repr__(self) -> str:
        active = getattr(_printing, "ids", None)
        if active is None:
            active = _printing.ids = set()
        return render(self, lambda x: _layout(x, active), active=active, max_level=MAX_INDENT)

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


def _layout(x: Any, active: set):
    """How `repr` lays out `x`: a node's fields, a container's items, else None (`repr(x)`)."""
    if not isinstance(x, Node) or type(x).__repr__ is not Node.__repr__:
        return container_layout(x, active)
    name = type(x).__name__
    if id(x) in active:
        return f"{name}(...)"
    fields = x._repr_fields()
    if not fields:
        return f"{name}()"
    parts: List[Any] = [f"{name}(\n  "]
    for i, (key, value) in enumerate(fields):
        parts.append(f",\n  {key}=" if i else f"{key}=")
        parts.append(Child(value, indent="  ", step=f".{key}"))
    parts.append("\n)")
    return Layout(parts, ident=id(x), deferrable=True, placeholder=lambda n: f"{name}(... #{n})")
