"""Selecting the states and nodes of a live graph by filter, and changing its states in place.

`states`, `treefy_states` and `nodes` report each object once, under its first path in the
sorted walk (`_walk`: States in pre-order, nodes children first), and sort objects into one
dict per filter with the first matching filter winning. They never require the filters to cover everything (`treefy_split` does).
Filters are called as `filter(path, obj)` with the live State or node.

`update_states` writes values into the existing States by path (through `State.value`, so
the usual signature checks apply and transforms see the writes); `pop_states` detaches
matching States from every place in the graph that holds them.
"""

from collections.abc import Mapping
from typing import Any, Dict, List, Tuple, Union, overload

from .._state import State, TreefyState
from ..util._depth_first import DepthFirst
from ..util._dicts import FlattedDict, NestedDict, flat_mapping, partition_items
from ..util._paths import show_paths
from ._node_types import is_tuple_like, node_type, tuple_items
from ._walk import MAX_LEVEL, Kind, check_hierarchy, walk

__all__ = ["states", "treefy_states", "nodes", "update_states", "pop_states"]

Path = Tuple[Any, ...]


def _select(node, kind, filters, allowed_hierarchy, where) -> List[List[Tuple[Path, Any]]]:
    levels = check_hierarchy(allowed_hierarchy, where)
    items = [(p, x) for p, x, _, _ in walk(node, frozenset((kind,)), levels)]
    if not filters:
        return [items]
    return partition_items(items, filters, exhaustive=False, where=where)


def _one_or_tuple(dicts: list):
    return dicts[0] if len(dicts) == 1 else tuple(dicts)


# With no filter or one, one mapping; with two or more, a tuple of them (one per filter).
@overload
def states(node: Any, /, *, allowed_hierarchy: Tuple[int, int] = ...) -> FlattedDict: ...
@overload
def states(node: Any, filter: Any, /, *, allowed_hierarchy: Tuple[int, int] = ...) -> FlattedDict: ...
@overload
def states(node: Any, filter1: Any, filter2: Any, /, *filters: Any,
           allowed_hierarchy: Tuple[int, int] = ...) -> Tuple[FlattedDict, ...]: ...


def states(node: Any, *filters: Any,
           allowed_hierarchy: Tuple[int, int] = (0, MAX_LEVEL)) -> Union[FlattedDict, Tuple[FlattedDict, ...]]:
    """The live States of a graph, keyed by path tuple.

    Args:
      node: the root of the graph.
      *filters: with none, every State in one dict; otherwise one dict per filter (first
        matching filter wins; States no filter matches are left out).
      allowed_hierarchy: `(low, high)` levels of the nodes whose States to report; 0 is the
        root's own States, 1 those of its sub-nodes, and so on.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> class M(brainstate.graph.Node):
      ...     def __init__(self):
      ...         self.w = brainstate.ParamState(jnp.ones(2))
      ...         self.h = brainstate.ShortTermState(jnp.zeros(2))
      >>> params, others = brainstate.graph.states(M(), brainstate.ParamState, ...)
      >>> list(params), list(others)
      ([('w',)], [('h',)])
    """
    groups = _select(node, Kind.STATE, filters, allowed_hierarchy, "graph.states")
    return _one_or_tuple([FlattedDict(g) for g in groups])


@overload
def treefy_states(node: Any, /) -> NestedDict: ...
@overload
def treefy_states(node: Any, filter: Any, /) -> NestedDict: ...
@overload
def treefy_states(node: Any, filter1: Any, filter2: Any, /, *filters: Any) -> Tuple[NestedDict, ...]: ...


def treefy_states(node: Any, *filters: Any) -> Union[NestedDict, Tuple[NestedDict, ...]]:
    """Like `states`, but nested and holding `TreefyState` snapshots instead of live States."""
    groups = _select(node, Kind.STATE, filters, (0, MAX_LEVEL), "graph.treefy_states")
    return _one_or_tuple([FlattedDict((p, s.to_state_ref()) for p, s in g).to_nest() for g in groups])


@overload
def nodes(node: Any, /, *, allowed_hierarchy: Tuple[int, int] = ...) -> FlattedDict: ...
@overload
def nodes(node: Any, filter: Any, /, *, allowed_hierarchy: Tuple[int, int] = ...) -> FlattedDict: ...
@overload
def nodes(node: Any, filter1: Any, filter2: Any, /, *filters: Any,
          allowed_hierarchy: Tuple[int, int] = ...) -> Tuple[FlattedDict, ...]: ...


def nodes(node: Any, *filters: Any,
          allowed_hierarchy: Tuple[int, int] = (0, MAX_LEVEL)) -> Union[FlattedDict, Tuple[FlattedDict, ...]]:
    """The graph nodes (Nodes and registered types; not lists/dicts), keyed by path tuple.

    Children come before their parents; the root, if it is a node, comes last under the path `()`.

    Args:
      node: the root of the graph.
      *filters: with none, every node in one dict; otherwise one dict per filter (first match
        wins), e.g. `nodes(model, brainstate.nn.Linear)`.
      allowed_hierarchy: `(low, high)` levels; the root is level 0, its sub-nodes level 1.
    """
    groups = _select(node, Kind.NODE, filters, allowed_hierarchy, "graph.nodes")
    return _one_or_tuple([FlattedDict(g) for g in groups])


def update_states(node: Any, state_dict: Mapping, /, *state_dicts: Mapping) -> None:
    """Write values into the States of a graph, by path; put States back where there are none.

    Args:
      node: the root of the graph.
      state_dict: a `FlattedDict` (path tuple -> value) or a nested mapping (e.g. a
        `NestedDict` from `treefy_split`, or `to_pure_dict()` output). Entries may be
        TreefyStates, States or plain values.
      *state_dicts: more mappings, applied in order.

    A path where the graph holds a State gets the entry's value (`state.value = ...`). A path
    where it holds nothing, under an existing node or dict, takes a State entry as it is (a
    TreefyState becomes a new State): so `update_states(model, pop_states(model, ...))` puts
    popped states back.

    Raises:
      ValueError: if a path names neither a State of the graph nor a free place for a State
        entry (a plain value there has nowhere to go); nothing is written then.
    """
    live = states(node)
    # Keyed by state, not path: hashing a path tuple costs its length, a lot on a deep chain.
    writes: Dict[int, Tuple[State, Any]] = {}
    inserts: Dict[Path, Tuple[Any, Any, Any, Any]] = {}  # path -> (impl, holder, key, entry)
    for mapping in (state_dict,) + state_dicts:
        flat = mapping if isinstance(mapping, FlattedDict) else flat_mapping(mapping, is_leaf=lambda p, _: p in live)
        for path, value in flat.items():
            state = live.get(path)
            if state is not None:
                writes[id(state)] = state, value.value if isinstance(value, (State, TreefyState)) else value
                continue
            place = _free_place(node, path) if isinstance(value, (State, TreefyState)) else None
            if place is None:
                raise ValueError(
                    f"update_states: {type(node).__name__} has no state at path {path}, so the value "
                    f"there has nowhere to go. Its state paths are {show_paths(live)}; check the keys "
                    f"of the dict or the model it came from.")
            inserts[path] = (*place, value)
    for state, value in writes.values():
        state.value = value
    for impl, holder, key, entry in inserts.values():
        impl.set_key(holder, key, entry.to_state() if isinstance(entry, TreefyState) else entry)


def _free_place(root: Any, path: Path):
    """`(impl, holder, key)` if `path[:-1]` leads to a node or dict without the key `path[-1]`."""
    x = root
    for key in path[:-1]:
        impl = node_type(x)
        items = impl.flatten(x)[0] if impl is not None else tuple_items(x) if is_tuple_like(x) else ()
        x = next((child for k, child in items if k == key), _ABSENT)
        if x is _ABSENT:
            return None
    impl = node_type(x)
    if impl is None or isinstance(x, list) or any(k == path[-1] for k, _ in impl.flatten(x)[0]):
        return None  # not a node or dict (a list would shift), or the key holds something else
    return impl, x, path[-1]


_ABSENT = object()


def _holders(node: Any, targets: set) -> list:
    """`(impl, holder, key)` for every place in the graph that holds a State in `targets`.

    Raises:
      ValueError: if one of them is a tuple.
    """
    seen = set()

    def expand(x):
        """`((impl or None for a tuple, x), its (key, child) pairs)`, or None for a leaf or a
        node met before."""
        impl = node_type(x)
        if impl is not None:
            if id(x) in seen:
                return None
            seen.add(id(x))
            return (impl, x), impl.flatten(x)[0]
        if is_tuple_like(x):
            return (None, x), tuple_items(x)
        return None

    top = expand(node)
    if top is None:
        return []
    removals = []
    walker = DepthFirst(top[1], top[0])
    for (impl, holder), key, child in walker:
        if isinstance(child, State):
            if id(child) in targets:
                if impl is None:
                    raise ValueError(
                        f"pop_states: the state at path {(*walker.keys, key)} sits in a tuple, which cannot "
                        f"be changed in place. Hold it in a list, dict or attribute instead, or "
                        f"choose filters that leave it out.")
                removals.append((impl, holder, key))
            continue
        inner = expand(child)
        if inner is not None:
            walker.enter(*inner)
    return removals


def pop_states(node: Any, *filters: Any) -> Union[NestedDict, Tuple[NestedDict, ...]]:
    """Remove the States matching the filters from the graph and return them.

    A State held in several places is removed from all of them and returned once, under its
    first path. Removing an item from a list shifts the later items down.

    Args:
      node: the root of the graph.
      *filters: at least one; one `NestedDict` of live States per filter (first match wins).

    Raises:
      ValueError: with no filters, or if a matching State sits inside a tuple (tuples cannot
        be changed in place); nothing is removed then.
    """
    if not filters:
        raise ValueError(
            "pop_states: no filter given, so nothing would be selected. Pass the kinds of state to "
            "remove (e.g. pop_states(model, brainstate.ShortTermState)), or `...` to remove all.")
    groups = _select(node, Kind.STATE, filters, (0, MAX_LEVEL), "graph.pop_states")
    targets = {id(s) for group in groups for _, s in group}
    removals = _holders(node, targets)
    # Lists shift on removal: remove from the highest index down so earlier keys stay valid.
    removals.sort(key=lambda r: -r[2] if isinstance(r[1], list) else 0)
    for impl, holder, key in removals:
        impl.pop_key(holder, key)
    return _one_or_tuple([FlattedDict(g).to_nest() for g in groups])
