"""`GraphDef` and `flatten`/`unflatten`: an object graph as static structure plus its states.

`flatten` walks the graph (same order as `_walk`) and returns a `GraphDef`, the graph without
its data, and the States keyed by the path where each was first met. `unflatten` rebuilds a
new live graph from the two.

A GraphDef is a tree of edges:

- `NodeDef(type, index, aux, fields)`: a graph node met for the first time; `fields` are
  `(key, edge)` pairs in walk order;
- `StateDef(type, index)`: a State met for the first time; its value lives in the mapping at
  the current path;
- `Ref(index)`: a node or State met before (sharing, cycles);
- `TupleDef(type, fields)`: a tuple or namedtuple;
- `Static(value)`: an opaque leaf, carried by reference.

Invariants: a GraphDef holds no State values; it is hashable, and equal for structurally equal
graphs (same types, keys, sharing pattern and equal static leaves). Indices number nodes and
States together in first-visit order. Unhashable static leaves (arrays kept outside a State,
sets, ...) hash and compare by identity, so graphs holding them are equal only if they hold
the very same object.
"""

import builtins
import dataclasses
import functools
from collections.abc import Mapping
from typing import Any, Dict, Hashable, Optional, Tuple

from .._state import State, TreefyState
from ..util._dicts import FlattedDict, NestedDict, flat_mapping
from ._node_types import is_tuple_like, node_type, node_type_for, tuple_items
from ._refmap import RefMap

__all__ = ["GraphDef", "NodeDef", "StateDef", "Ref", "TupleDef", "Static", "flatten", "unflatten",
           "flatten_graph", "unflatten_graph"]

Path = Tuple[Any, ...]


class Static:
    """An opaque leaf in a GraphDef: hashes by value when it can, else by identity."""

    __slots__ = ("value",)

    def __init__(self, value: Any):
        self.value = value

    def __eq__(self, other: Any) -> bool:
        if not isinstance(other, Static):
            return NotImplemented
        a, b = self.value, other.value
        if a is b:
            return True
        if type(a) is not type(b) or not (_hashable(a) and _hashable(b)):
            return False
        try:
            return bool(a == b)
        except Exception:  # an __eq__ returning an array, say: not provably equal
            return False

    def __hash__(self) -> int:
        try:
            return hash((type(self.value), self.value))
        except TypeError:
            return id(self.value)

    def __repr__(self) -> str:
        return f"Static({self.value!r})"


def _hashable(x: Any) -> bool:
    try:
        hash(x)
    except TypeError:
        return False
    return True


@dataclasses.dataclass(frozen=True)
class Ref:
    """A node or State already met at an earlier path, by index."""

    index: int


@dataclasses.dataclass(frozen=True)
class StateDef:
    """A State met for the first time; its value is in the mapping at this path."""

    type: type
    index: int


@dataclasses.dataclass(frozen=True)
class TupleDef:
    """A tuple or namedtuple, rebuilt from its fields."""

    type: type
    fields: Tuple[Tuple[Hashable, Any], ...]

    @property
    def metadata(self) -> type:
        """The tuple type (the name `PytreeEdge` users read)."""
        return self.type


@dataclasses.dataclass(frozen=True)
class NodeDef:
    """A graph node met for the first time: its type, index, aux data and fields."""

    type: type
    index: int
    aux: Static
    fields: Tuple[Tuple[Hashable, Any], ...]

    @property
    def metadata(self) -> Any:
        """The aux data from the node type's `flatten` (the name `NodeSpec` users read)."""
        return self.aux.value


@dataclasses.dataclass(frozen=True, eq=False)
class GraphDef:
    """The static structure of an object graph: everything but the States' values.

    Hashable (the hash is computed once) and equal for structurally equal graphs, so it can
    key a compilation cache.
    """

    __module__ = "brainstate.graph"

    root: Any

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, GraphDef) and (self is other or self.root == other.root)

    @functools.cached_property
    def _hash(self) -> int:
        return hash(self.root)

    def __hash__(self) -> int:
        return self._hash

    @property
    def index(self) -> int:
        """The root node's index in the walk (0 for a graph split on its own); 0 when the root is
        a tuple or an opaque leaf rather than a node.

        Example:
          >>> import brainstate
          >>> graphdef = brainstate.graph.graphdef(brainstate.nn.Linear(2, 3))
          >>> graphdef.index, graphdef.type.__name__
          (0, 'Linear')
        """
        return self.root.index if isinstance(self.root, NodeDef) else 0

    @property
    def type(self) -> type:
        """The type of the root: its node class (a Module, `list`, `dict`, ...), its tuple type,
        or, for an opaque leaf, the leaf's type."""
        root = self.root
        if isinstance(root, (NodeDef, TupleDef)):
            return root.type
        return builtins.type(root.value) if isinstance(root, Static) else builtins.type(root)


def flatten_graph(node: Any, refs: Optional[RefMap] = None) -> Tuple[GraphDef, Dict[Path, State]]:
    """`(GraphDef, {path: live State})`, States in walk order.

    Objects already in `refs` become `Ref`s; every node and State met is added to it.
    """
    refs = RefMap() if refs is None else refs
    counter = iter(range(max(refs.values(), default=-1) + 1, 2 ** 63))
    states: Dict[Path, State] = {}

    def visit(x, path):
        if isinstance(x, State):
            if x in refs:
                return Ref(refs[x])
            refs[x] = index = next(counter)
            states[path] = x
            return StateDef(type(x), index)
        impl = node_type(x)
        if impl is not None:
            if x in refs:
                return Ref(refs[x])
            refs[x] = index = next(counter)
            children, aux = impl.flatten(x)
            return NodeDef(type(x), index, Static(aux), tuple((k, visit(v, path + (k,))) for k, v in children))
        if is_tuple_like(x):
            return TupleDef(type(x), tuple((k, visit(v, path + (k,))) for k, v in tuple_items(x)))
        return Static(x)

    return GraphDef(visit(node, ())), states


def flatten(node: Any, /, ref_index: Optional[RefMap] = None,
            treefy_state: bool = True) -> Tuple[GraphDef, NestedDict]:
    """Split a graph into its `GraphDef` and a `NestedDict` of its states by path.

    Args:
      node: the root; a graph node or container, not a bare State.
      ref_index: a `RefMap` filled with `object -> index` for every node and State met.
        Objects already in it are recorded as references to that index, not walked again.
      treefy_state: if True the dict holds `TreefyState` snapshots, else the live States.

    Raises:
      TypeError: if `node` is a State.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> graphdef, states = brainstate.graph.flatten([brainstate.State(jnp.zeros(2))])
      >>> list(states.keys())
      [0]
    """
    if isinstance(node, State):
        raise TypeError(
            f"flatten: the root is a {type(node).__name__} itself, and a State has no path inside "
            f"the graph to be stored under. Flatten the object that holds it (or `[state]`).")
    graphdef, states = flatten_graph(node, ref_index)
    if treefy_state:
        states = {path: TreefyState.from_state(s) for path, s in states.items()}
    return graphdef, FlattedDict(states).to_nest()


class _StateSource:
    """Finds the state for each path across several mappings and notices what went unused."""

    def __init__(self, mappings: Tuple[Any, ...]):
        self.mappings = mappings
        self.used: set = set()

    def take(self, path: Path) -> State:
        found = [(i, v) for i, m in enumerate(self.mappings) for v in self._lookup(m, path)]
        if not found:
            raise ValueError(
                f"unflatten: the graphdef has a state at path {path} but no mapping has an entry "
                f"there. Pass every mapping returned by treefy_split / flatten for this graph.")
        if len(found) > 1:
            raise ValueError(
                f"unflatten: path {path} appears in mappings #{found[0][0]} and #{found[1][0]}; "
                f"each state must be in exactly one mapping. Split with non-overlapping filters.")
        self.used.add(path)
        value = found[0][1]
        if isinstance(value, TreefyState):
            return value.to_state()
        if isinstance(value, State):
            return value  # live states (flatten(..., treefy_state=False)) are reused as they are
        raise TypeError(
            f"unflatten: the entry at path {path} is a {type(value).__name__}, not a TreefyState "
            f"or State, so the kind and metadata of the state are unknown. Pass the mappings from "
            f"treefy_split / flatten; to load plain values into an existing graph use "
            f"graph.update_states.")

    @staticmethod
    def _lookup(mapping, path):
        if isinstance(mapping, FlattedDict):
            return [mapping[path]] if path in mapping else []
        x = mapping
        for key in path:
            if not isinstance(x, Mapping) or key not in x:
                return []
            x = x[key]
        return [x]

    def check_all_used(self) -> None:
        unused = [p for m in self.mappings
                  for p in (m if isinstance(m, FlattedDict) else flat_mapping(m, is_leaf=lambda p, _: p in self.used))
                  if p not in self.used]
        if unused:
            raise ValueError(
                f"unflatten: the mappings hold entries at paths {unused} where the graphdef has no "
                f"state. The mappings must come from a graph with this graphdef; drop the extra "
                f"entries or use the matching graphdef.")


def unflatten_graph(graphdef: GraphDef, mappings: Tuple[Any, ...], index_ref: Optional[dict] = None) -> Any:
    """Build a new live graph from `graphdef` and the states in `mappings`."""
    if not isinstance(graphdef, GraphDef):
        raise TypeError(
            f"unflatten: expected a GraphDef as first argument, got {type(graphdef).__name__}. "
            f"Pass the graphdef returned by treefy_split / flatten / graphdef.")
    objects = {} if index_ref is None else index_ref
    source = _StateSource(mappings)

    def build(edge, path):
        if isinstance(edge, Static):
            return edge.value
        if isinstance(edge, Ref):
            try:
                return objects[edge.index]
            except KeyError:
                raise ValueError(
                    f"unflatten: the graphdef refers to object #{edge.index} at path {path}, which "
                    f"it does not define (it was known before flatten through `ref_index`). Pass it "
                    f"in `index_ref={{{edge.index}: obj}}`.") from None
        if isinstance(edge, StateDef):
            objects[edge.index] = state = source.take(path)
            return state
        if isinstance(edge, TupleDef):
            values = [build(e, path + (k,)) for k, e in edge.fields]
            return edge.type._make(values) if hasattr(edge.type, "_fields") else tuple(values)
        impl = node_type_for(edge.type)
        if impl is None:
            raise TypeError(
                f"unflatten: the graphdef has a {edge.type.__name__} at path {path}, which is not a "
                f"graph node type. Register it with graph.register_graph_node_type before unflattening.")
        # Register before filling: children that point back (cycles) must find this object.
        objects[edge.index] = obj = impl.create_empty(edge.aux.value)
        for key, child in edge.fields:
            impl.set_key(obj, key, build(child, path + (key,)))
        return obj

    root = build(graphdef.root, ())
    source.check_all_used()
    return root


def unflatten(graphdef: GraphDef, state_mapping: Any, /, *, index_ref: Optional[dict] = None) -> Any:
    """Rebuild a new live graph from `flatten`'s output.

    Args:
      graphdef: the structure from `flatten`.
      state_mapping: the states by path (nested or `FlattedDict`), TreefyStates or live States.
        TreefyStates become new States; live States are put in the graph as they are.
      index_ref: `index -> object` for objects that were in `flatten`'s `ref_index` beforehand;
        every object built is added to it.

    Raises:
      ValueError: if a state path is missing, duplicated or unused.
      TypeError: if an entry is not a TreefyState or State.
    """
    return unflatten_graph(graphdef, (state_mapping,), index_ref)
