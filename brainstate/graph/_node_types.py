"""Which Python objects the graph walk enters, and how it takes them apart and rebuilds them.

The walk sorts every object it meets into one of four kinds:

- **states** (`State` and subclasses): leaves with identity, the graph's data;
- **graph nodes**: `Node` instances, `list`, `dict`, and types registered with
  `register_graph_node_type`. They have identity, so sharing and cycles are preserved, and they
  are rebuilt empty-then-filled (`create_empty`, then `set_key` per child), which is what lets
  a cycle be restored;
- **tuples** (exact `tuple` and namedtuples): immutable, rebuilt from their children, no identity;
- **everything else**: opaque leaves carried by reference.

`list` and `dict` are *containers*: they are transparent for hierarchy levels and do not show
up in `graph.nodes`. Subclasses of `dict` (`OrderedDict`, `defaultdict`, `NestedDict`,
`FlattedDict`, ...) are containers too, rebuilt with `cls.__new__(cls)` (plus the
`default_factory`, if any) so that States kept in them are never silently dropped. Subclasses
of `list` are opaque leaves unless registered.

Child order is part of the contract: `Node` attributes by name, dict keys sorted (see
`util.key_order`; a rebuilt dict holds its keys in that order) except in an `OrderedDict`,
whose order is part of its value and is kept, list/tuple by index, namedtuples by field, registered types as their
`flatten` returns them. Every traversal in this package goes through `node_type` and
`tuple_items`, so they all agree on that order.
"""

import builtins
import collections
import dataclasses
from typing import Any, Callable, Dict, Hashable, Iterable, Optional, Sequence, Tuple, Type

from .._state import State
from ..util._dicts import key_order
from . import _epoch
from ._node import Node

__all__ = ["NodeType", "register_graph_node_type", "node_type", "node_type_for", "is_tuple_like",
           "tuple_items"]

Key = Hashable


@dataclasses.dataclass(frozen=True)
class NodeType:
    """How to take apart and rebuild one type of graph node.

    Attributes:
      type: the node type.
      flatten: `node -> (sequence of (key, child), aux)`; `aux` must be hashable and is
        stored in the GraphDef and handed to `create_empty`.
      set_key: `(node, key, child) -> None`.
      pop_key: `(node, key) -> child`, removes the child.
      create_empty: `aux -> node`, a new node without children.
      clear: `node -> None`, removes every child.
      container: True for `list` and `dict`, which are transparent for hierarchy levels.
    """

    # Keys and `aux` are typed Any: each node type has its own (attribute names, indices, dict
    # keys; a type, a tuple, None), and its callbacks are written for exactly those.
    type: type
    flatten: Callable[[Any], Tuple[Sequence[Tuple[Any, Any]], Any]]
    set_key: Callable[[Any, Any, Any], None]
    pop_key: Callable[[Any, Any], Any]
    create_empty: Callable[[Any], Any]
    clear: Callable[[Any], None]
    container: bool = False


def _list_set(xs: list, key: int, value: Any) -> None:
    # Rebuilding visits indices in order, so a new list grows by appending.
    if key == len(xs):
        xs.append(value)
    else:
        xs[key] = value


def _dict_set(d: dict, key: Any, value: Any) -> None:
    d[key] = value


def _node_set(node: Node, key: str, value: Any) -> None:
    # object.__setattr__ bypasses any __setattr__ a subclass defines for its users; compiled
    # functions that reach the node are told, as `Node.__setattr__` tells them.
    object.__setattr__(node, key, value)
    _changed(node)


def _node_pop(node: Node, key: str) -> Any:
    value = getattr(node, key)
    object.__delattr__(node, key)
    _changed(node)
    return value


def _node_clear(node: Node) -> None:
    vars(node).clear()
    _changed(node)


def _changed(node: Node) -> None:
    if id(node) in _epoch.watched:
        _epoch.changed()


def _node_items(node: Node) -> list:
    """The node's attributes, sorted, without those its class lists in `graph_invisible_attrs`."""
    hidden = node.graph_invisible_attrs
    if hidden:
        return sorted((k, v) for k, v in vars(node).items() if k not in hidden)
    return sorted(vars(node).items())


_NODE = NodeType(
    type=Node,
    flatten=lambda node: (_node_items(node), type(node)),
    set_key=_node_set,
    pop_key=_node_pop,
    create_empty=lambda node_type: object.__new__(node_type),
    clear=_node_clear,
)


def _sorted_items(d: dict) -> list:
    return sorted(d.items(), key=lambda kv: key_order(kv[0]))


def _new_dict_like(aux: Tuple[Type[dict], Any]) -> dict:
    # __new__ without __init__, like Node: the subclass's constructor may need arguments.
    cls, factory = aux
    d = cls.__new__(cls)
    if factory is not None:
        setattr(d, "default_factory", factory)  # a defaultdict, or any dict subclass with one
    return d


_DICT_SUBCLASS = NodeType(
    type=dict,
    flatten=lambda d: (_sorted_items(d), (type(d), getattr(d, "default_factory", None))),
    set_key=_dict_set,
    pop_key=lambda d, k: d.pop(k),
    create_empty=_new_dict_like,
    clear=lambda d: d.clear(),
    container=True,
)

# An OrderedDict's order is part of its value (its `==` compares it), so it keeps it.
_ORDERED_DICT = dataclasses.replace(
    _DICT_SUBCLASS, flatten=lambda d: (list(d.items()), (type(d), getattr(d, "default_factory", None))))

_REGISTRY: Dict[type, NodeType] = {
    list: NodeType(list, lambda xs: (list(enumerate(xs)), None), _list_set, lambda xs, k: xs.pop(k),
                   lambda aux: [], lambda xs: xs.clear(), container=True),
    dict: NodeType(dict, lambda d: (_sorted_items(d), None), _dict_set,
                   lambda d, k: d.pop(k), lambda aux: {}, lambda d: d.clear(), container=True),
}


def register_graph_node_type(
    type: type,
    flatten: Callable[[Any], Tuple[Sequence[Tuple[Key, Any]], Hashable]],
    set_key: Callable[[Any, Key, Any], None],
    pop_key: Callable[[Any, Key], Any],
    create_empty: Callable[[Hashable], Any],
    clear: Callable[[Any], None],
) -> None:
    """Make instances of `type` (exactly that type) graph nodes.

    Args:
      type: the class to register.
      flatten: `node -> (sequence of (key, child), aux)`; children are visited in that order
        and `aux` (hashable) is kept in the GraphDef.
      set_key: `(node, key, child) -> None`, adds or replaces a child.
      pop_key: `(node, key) -> child`, removes a child and returns it.
      create_empty: `aux -> node`, a new node with no children yet.
      clear: `node -> None`, removes every child.

    Raises:
      TypeError: if `type` is not a class.
      ValueError: if `type` is a State, a Node, list, dict or tuple, which the walk already knows.
        (A registered dict subclass replaces the generic dict-subclass handling.)
    """
    if not isinstance(type, builtins.type):
        raise TypeError(
            f"register_graph_node_type: `type` must be a class, got {type!r}. Pass the class "
            f"itself, e.g. register_graph_node_type(MyContainer, ...).")
    if issubclass(type, (State, Node)) or type in (list, dict, tuple):
        raise ValueError(
            f"register_graph_node_type: {type.__name__} is already handled by the graph walk "
            f"(States, Nodes, list, dict and tuple are built in), so registering it would change "
            f"how existing graphs are split. Register your own container class instead.")
    _REGISTRY[type] = NodeType(type, flatten, set_key, pop_key, create_empty, clear)



def node_type(x: Any) -> Optional[NodeType]:
    """The `NodeType` of `x` if it is a graph node, else None."""
    impl = _REGISTRY.get(type(x))
    if impl is None:
        if isinstance(x, Node):
            return _NODE
        if isinstance(x, dict):
            return _ORDERED_DICT if isinstance(x, collections.OrderedDict) else _DICT_SUBCLASS
    return impl


def node_type_for(cls: type) -> Optional[NodeType]:
    """The `NodeType` for instances of `cls`, or None."""
    impl = _REGISTRY.get(cls)
    if impl is None:
        if issubclass(cls, Node):
            return _NODE
        if issubclass(cls, dict):
            return _ORDERED_DICT if issubclass(cls, collections.OrderedDict) else _DICT_SUBCLASS
    return impl


def is_tuple_like(x: Any) -> bool:
    """True for exact tuples and namedtuples (rebuilt from their children)."""
    return type(x) is tuple or (isinstance(x, tuple) and hasattr(type(x), "_fields"))


def tuple_items(x: tuple) -> Iterable[Tuple[Key, Any]]:
    """`(key, child)` pairs of a tuple: indices, or field names for a namedtuple."""
    fields = getattr(type(x), "_fields", None)
    return zip(fields, x) if fields is not None else enumerate(x)
