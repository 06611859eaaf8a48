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

Depth. `flatten` and `unflatten` keep explicit stacks, and a `NodeDef`/`TupleDef` computes its
hash once when built (from its children's, already computed) and compares with an explicit
stack, so graphs of any depth split, merge, hash, compare and print. Paths are kept as linked
cells (`util._paths`) and turned into tuples only where a caller asks for them.
"""

import builtins
import dataclasses
import functools
import itertools
from typing import Any, Hashable, List, Optional, Tuple

from .._state import State, TreefyState
from ..util._deep_repr import Child, Layout, container_layout, render
from ..util._dicts import NestedDict
from ..util._paths import Cell, nest_cells
from ._node_types import is_tuple_like, node_type, node_type_for, tuple_items
from ._refmap import RefMap
from ._state_source import StateSource

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


class _Composite:
    """Shared behaviour of `TupleDef` and `NodeDef`: the hash is computed once, when built.

    Children are built first, so hashing the fields only reads their stored hashes, and
    equality walks both trees with an explicit stack: neither recurses, at any depth.
    """

    _hash: int  # set once in __post_init__ (the subclasses are frozen dataclasses)
    fields: Tuple[Tuple[Hashable, Any], ...]  # declared by each subclass

    def __post_init__(self):
        object.__setattr__(self, "_hash", hash((type(self),) + self._own() + (self.fields,)))

    def _own(self) -> tuple:
        raise NotImplementedError

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: Any) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return _edges_equal(self, other)

    def __repr__(self) -> str:
        return _edge_repr(self)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class TupleDef(_Composite):
    """A tuple or namedtuple, rebuilt from its fields."""

    type: type
    fields: Tuple[Tuple[Hashable, Any], ...]

    def _own(self) -> tuple:
        return (self.type,)

    @property
    def metadata(self) -> builtins.type:
        """The tuple type (the name `PytreeEdge` users read)."""
        return self.type


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class NodeDef(_Composite):
    """A graph node met for the first time: its type, index, aux data and fields."""

    type: type
    index: int
    aux: Static
    fields: Tuple[Tuple[Hashable, Any], ...]

    def _own(self) -> tuple:
        return (self.type, self.index, self.aux)

    @property
    def metadata(self) -> Any:
        """The aux data from the node type's `flatten` (the name `NodeSpec` users read)."""
        return self.aux.value


def _edges_equal(a: Any, b: Any) -> bool:
    """Structural equality of two edges, with an explicit stack."""
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        if x is y:
            continue
        if isinstance(x, _Composite):
            if (x.__class__ is not y.__class__ or x._hash != y._hash or x._own() != y._own()
                    or len(x.fields) != len(y.fields)):
                return False
            for (kx, ex), (ky, ey) in zip(x.fields, y.fields):
                if not kx == ky:
                    return False
                stack.append((ex, ey))
        elif not x == y:
            return False
    return True


def _edge_repr(root: Any) -> str:
    """The dataclass-style repr of a GraphDef or edge, built with an explicit stack."""
    active: set = set()

    def expand(x):
        if isinstance(x, GraphDef):
            return Layout(["GraphDef(root=", Child(x.root), ")"])
        if isinstance(x, NodeDef):
            return Layout([f"NodeDef(type={x.type!r}, index={x.index!r}, aux={x.aux!r}, fields=", Child(x.fields), ")"])
        if isinstance(x, TupleDef):
            return Layout([f"TupleDef(type={x.type!r}, fields=", Child(x.fields), ")"])
        return container_layout(x, active)

    return render(root, expand, active=active)


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

    def __repr__(self) -> str:
        return _edge_repr(self)

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


StateSite = Tuple[Cell, Optional[Path], State]
_DONE: Any = object()  # a sentinel compared by identity; Any so `next(it, _DONE)` keeps the item type


def flatten_graph(node: Any, refs: Optional[RefMap] = None, *,
                  paths: bool = True) -> Tuple[GraphDef, List[StateSite]]:
    """`(GraphDef, [(cell, path, live State)])`, States in walk order.

    Objects already in `refs` become `Ref`s; every node and State met is added to it. Each
    State comes with its path as a linked cell (see `util._paths`) and, if `paths`, as a tuple
    (else None: building every path tuple of a deep chain costs quadratic time).
    """
    refs = RefMap() if refs is None else refs
    counter = itertools.count(max(refs.values(), default=-1) + 1)
    sites: List[StateSite] = []
    keys: List[Any] = []  # the path to the object being visited
    # One frame per node or tuple being built: [edge class, type, index, aux, children, fields, cell].
    frames: List[list] = []

    def enter(x, parent: Cell, key: Any):
        """The edge of `x` if complete at once; else push a frame for it and return None."""
        if isinstance(x, State):
            if x in refs:
                return Ref(refs[x])
            refs[x] = index = next(counter)
            sites.append(((parent, key) if keys else None, tuple(keys) if paths else None, x))
            return StateDef(type(x), index)
        impl = node_type(x)
        if impl is not None:
            if x in refs:
                return Ref(refs[x])
            refs[x] = index = next(counter)
            children, aux = impl.flatten(x)
            frames.append([NodeDef, type(x), index, Static(aux), iter(children), [], (parent, key) if keys else None])
            return None
        if is_tuple_like(x):
            frames.append([TupleDef, type(x), None, None, iter(tuple_items(x)), [], (parent, key) if keys else None])
            return None
        return Static(x)

    root = enter(node, None, None)
    while frames:
        frame = frames[-1]
        item = next(frame[4], _DONE)
        if item is _DONE:
            frames.pop()
            kind, typ, index, aux, _, fields, cell = frame
            edge = NodeDef(typ, index, aux, tuple(fields)) if kind is NodeDef else TupleDef(typ, tuple(fields))
            if frames:
                keys.pop()
                frames[-1][5].append((cell[1], edge))
            else:
                root = edge
            continue
        key, child = item
        keys.append(key)
        edge = enter(child, frame[6], key)
        if edge is not None:
            keys.pop()
            frame[5].append((key, edge))
    return GraphDef(root), sites


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
    graphdef, sites = flatten_graph(node, ref_index, paths=False)
    if treefy_state:
        return graphdef, nest_cells((cell, TreefyState.from_state(s)) for cell, _, s in sites)
    return graphdef, nest_cells((cell, s) for cell, _, s in sites)


_PENDING = object()  # `enter` pushed a frame: the object is built when its fields are


def unflatten_graph(graphdef: GraphDef, mappings: Tuple[Any, ...], index_ref: Optional[dict] = None,
                    index_ref_cache: Optional[dict] = None) -> Any:
    """Build a live graph from `graphdef` and the states in `mappings`: new objects, except those
    `index_ref_cache` holds for an index (updated in place, see `unflatten`)."""
    if not isinstance(graphdef, GraphDef):
        raise TypeError(
            f"unflatten: expected a GraphDef as first argument, got {type(graphdef).__name__}. "
            f"Pass the graphdef returned by treefy_split / flatten / graphdef.")
    objects = {} if index_ref is None else index_ref
    cache = index_ref_cache
    source = StateSource(mappings)
    keys: List[Any] = []  # the path to the edge being built
    # One frame per node or tuple being built: [edge, impl, object or values, fields, cursors].
    frames: List[list] = []

    def enter(edge, cursors: Optional[tuple]):
        """The object of `edge` if complete at once, else `_PENDING` after pushing a frame.

        `cursors` are the parent's (None at the root).
        """
        if isinstance(edge, Static):
            return edge.value
        if isinstance(edge, Ref):
            try:
                return objects[edge.index] if edge.index in objects or cache is None else cache[edge.index]
            except KeyError:
                raise ValueError(
                    f"unflatten: the graphdef refers to object #{edge.index} at path {tuple(keys)}, which "
                    f"it does not define (it was known before flatten through `ref_index`). Pass it "
                    f"in `index_ref={{{edge.index}: obj}}`.") from None
        if isinstance(edge, StateDef):
            state = source.take(cursors, keys)
            if cache is not None and edge.index in cache:
                state = _refreshed(cache[edge.index], state, edge.index, keys)
            objects[edge.index] = state
            return state
        own = source.roots if cursors is None else source.step(cursors, keys[-1])
        if isinstance(edge, TupleDef):
            frames.append([edge, None, [], iter(edge.fields), own])
            return _PENDING
        impl = node_type_for(edge.type)
        if impl is None:
            raise TypeError(
                f"unflatten: the graphdef has a {edge.type.__name__} at path {tuple(keys)}, which is not a "
                f"graph node type. Register it with graph.register_graph_node_type before unflattening.")
        # Register before filling: children that point back (cycles) must find this object.
        if cache is not None and edge.index in cache:
            obj = _emptied(cache[edge.index], edge, impl, keys)
        else:
            obj = impl.create_empty(edge.aux.value)
        objects[edge.index] = obj
        frames.append([edge, impl, obj, iter(edge.fields), own])
        return _PENDING

    root = enter(graphdef.root, None)
    while frames:
        frame = frames[-1]
        item = next(frame[3], None)
        if item is None:
            frames.pop()
            edge, impl, built, _, _ = frame
            if impl is None:
                built = edge.type._make(built) if hasattr(edge.type, "_fields") else tuple(built)
            if not frames:
                root = built
                break
            value = built
        else:
            key, child = item
            keys.append(key)
            value = enter(child, frame[4])
            if value is _PENDING:
                continue
        # `value` is complete: hand it to its parent, the frame on top, at the key on top.
        parent = frames[-1]
        key = keys.pop()
        if parent[1] is None:
            parent[2].append(value)
        else:
            parent[1].set_key(parent[2], key, value)
    source.check_all_used()
    return root


def unflatten(graphdef: GraphDef, state_mapping: Any, /, *, index_ref: Optional[dict] = None,
              index_ref_cache: Optional[dict] = None) -> Any:
    """Rebuild a new live graph from `flatten`'s output.

    Args:
      graphdef: the structure from `flatten`.
      state_mapping: the states by path (nested or `FlattedDict`), TreefyStates or live States.
        TreefyStates become new States; live States are put in the graph as they are.
      index_ref: `index -> object` for objects that were in `flatten`'s `ref_index` beforehand;
        every object built is added to it.
      index_ref_cache: `index -> object` of objects to reuse instead of building new ones, such
        as the `index_ref` of an earlier `unflatten` of a graph with the same structure: a node
        found there is emptied and filled again, a state keeps its identity and takes the new
        value (`restore_value`: its shape may change, as in a checkpoint load).

    Raises:
      ValueError: if a state path is missing, duplicated or unused, or an object in
        `index_ref_cache` is not of the kind the graphdef has at its index.
      TypeError: if an entry is not a TreefyState or State.
    """
    return unflatten_graph(graphdef, (state_mapping,), index_ref, index_ref_cache)


def _refreshed(cached: Any, state: State, index: int, keys: List[Any]) -> State:
    """`cached`, a State, holding the value of `state` (`unflatten`'s `index_ref_cache`)."""
    if not isinstance(cached, State):
        raise ValueError(
            f"unflatten: index_ref_cache[{index}] is a {type(cached).__name__}, but the graphdef has a state "
            f"at path {tuple(keys)}. Pass the index_ref of an unflatten of a graph with the same structure.")
    if cached is not state:
        cached.restore_value(state.value)
    return cached


def _emptied(cached: Any, edge: Any, impl: Any, keys: List[Any]) -> Any:
    """`cached`, a node of the graphdef's type at `edge`, without its children (kept: attributes
    the graph does not see, `graph_invisible_attrs`)."""
    if type(cached) is not edge.type:
        raise ValueError(
            f"unflatten: index_ref_cache[{edge.index}] is a {type(cached).__name__}, but the graphdef has a "
            f"{edge.type.__name__} at path {tuple(keys)}. Pass the index_ref of an unflatten of a graph with "
            f"the same structure.")
    if getattr(cached, "graph_invisible_attrs", None):
        for key, _ in impl.flatten(cached)[0]:
            impl.pop_key(cached, key)
    else:
        impl.clear(cached)
    return cached
