"""`treefy_split` / `treefy_merge`: a live graph to (structure, state snapshots) and back.

`treefy_split(node, *filters)` returns the `GraphDef` and one `NestedDict` of `TreefyState`
snapshots per filter. Every State goes to exactly one mapping (first matching filter wins) and
the filters must cover every State, so nothing is silently lost. `treefy_merge(graphdef,
*mappings)` builds a *new* live graph: new nodes, new States, the same sharing pattern and
cycles. The round trip is lossless: `treefy_merge(*treefy_split(g))` is structurally equal to
`g` and independent of it.

`NodeStates` bundles a graphdef with its mappings as one PyTree (the graphdef is static).
"""

import dataclasses
from typing import Any, List, Optional, Tuple

import jax

from .._state import State
from ..util._dicts import NestedDict
from ..util._filters import reads_path, to_predicate
from ..util._paths import cell_path, nest_cells, show_paths
from ._graphdef import GraphDef, StateSite, flatten_graph, unflatten_graph

__all__ = ["treefy_split", "treefy_merge", "graphdef", "clone", "NodeStates", "check_filters", "split_sites"]


def check_filters(filters: Tuple[Any, ...], where: str) -> list:
    """The predicates of `filters` (all of them if empty: `...`).

    Raises:
      ValueError: if `...` is not the last filter.
    """
    filters = filters or (...,)
    for i, f in enumerate(filters[:-1]):
        if f is Ellipsis:
            raise ValueError(
                f"{where}: filter #{i} is `...`, which matches everything, so the filters after it "
                f"({', '.join(map(repr, filters[i + 1:]))}) would never match. Put `...` last.")
    return [to_predicate(f) for f in filters]


def split_sites(sites: List[StateSite], filters: Tuple[Any, ...], predicates: list,
                where: str) -> List[NestedDict]:
    """One `NestedDict` of snapshots per filter, each state in the first one that matches.

    Raises:
      ValueError: if some state matches no filter (listing the paths).
    """
    groups: List[list] = [[] for _ in predicates]
    leftover = []
    for cell, path, state in sites:
        for group, predicate in zip(groups, predicates):
            if predicate(path, state):
                group.append((cell, state.to_state_ref()))
                break
        else:
            leftover.append(cell_path(cell) if path is None else path)
    if leftover:
        raise ValueError(
            f"{where}: no filter matches the entries at paths {show_paths(leftover)}; the filters "
            f"({', '.join(map(repr, filters or (...,)))}) must cover every entry so that none is lost. Add a "
            f"filter for them, or end the filters with `...` to collect the rest.")
    return [nest_cells(group) for group in groups]


def treefy_split(node: Any, *filters: Any) -> Tuple[Any, ...]:
    """Split a graph into its `GraphDef` and `NestedDict`s of state snapshots.

    Args:
      node: the root of the graph (a node or container, not a bare State).
      *filters: one mapping is returned per filter; the first matching filter wins. With no
        filters, all states go into a single mapping. The last filter may be `...`.

    Returns:
      `(graphdef, mapping, ...)`: one `NestedDict` of `TreefyState` per filter.

    Raises:
      ValueError: if some State matches no filter (the message lists the paths), or `...` is
        not the last filter.
      TypeError: if `node` is a State.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> model = brainstate.nn.Linear(2, 3)
      >>> graphdef, params = brainstate.graph.treefy_split(model)
      >>> list(params.keys())
      ['weight']
      >>> new_model = brainstate.graph.treefy_merge(graphdef, params)
    """
    if isinstance(node, State):
        raise TypeError(
            f"treefy_split: the root is a {type(node).__name__} itself, which has no path inside a "
            f"graph. Split the object that holds it (or `[state]`).")
    predicates = check_filters(filters, "treefy_split")
    # Path tuples cost quadratic time on a deep chain: build them only for filters that read them.
    graphdef, sites = flatten_graph(node, paths=any(map(reads_path, predicates)))
    return (graphdef, *split_sites(sites, filters, predicates, "treefy_split"))


def treefy_merge(graphdef: GraphDef, *state_mappings: Any) -> Any:
    """Build a new live graph from a `GraphDef` and the mappings `treefy_split` returned.

    Each TreefyState becomes a new State (its constructor is not re-run); each node is created
    with `object.__new__` and its attributes set back. Sharing and cycles are restored. A path
    present in several mappings takes the entry of the last one (`treefy_merge(graphdef, state,
    new_params)` overrides the params).

    Raises:
      ValueError: if a state is missing from every mapping, or has no place in the graph.
      TypeError: if an entry is not a TreefyState or State.
    """
    return unflatten_graph(graphdef, state_mappings)


def graphdef(node: Any) -> GraphDef:
    """The `GraphDef` of a graph: its structure without state values (hashable)."""
    return flatten_graph(node, paths=False)[0]


def clone(node: Any) -> Any:
    """A deep copy of the graph: new nodes and new States, same values and sharing pattern.

    Writing a State of the clone leaves the original untouched. Opaque leaves (plain Python
    objects, arrays held outside States) are shared, not copied.
    """
    return treefy_merge(*treefy_split(node))


@jax.tree_util.register_pytree_node_class
@dataclasses.dataclass(frozen=True)
class NodeStates:
    """A graphdef and its state mappings as one PyTree; the graphdef and metadata are static.

    Attributes:
      graphdef: the structure, or None when only states are carried (the field is `_graphdef`,
        as in the reference, so `NodeStates(_graphdef=..., states=...)` builds one too).
      states: the mappings, one per filter.
      metadata: any hashable extra data.
    """

    __module__ = "brainstate.graph"

    _graphdef: Optional[GraphDef]
    states: Tuple[Any, ...]
    metadata: Any = None

    @property
    def graphdef(self) -> Optional[GraphDef]:
        """The structure, or None when only states are carried (`from_states`, `from_prefixes`)."""
        return self._graphdef

    @classmethod
    def from_split(cls, node: Any, *filters: Any, metadata: Any = None) -> "NodeStates":
        """`treefy_split(node, *filters)` packed into a NodeStates.

        The reference's form `from_split(graphdef, state, *states)`, packing an existing split,
        is accepted too: when the first argument is a `GraphDef` the rest are its mappings.
        """
        if isinstance(node, GraphDef):
            if not filters:
                raise TypeError("NodeStates.from_split(graphdef, state, *states): give at least one state "
                                "mapping after the graphdef (what treefy_split returned with it).")
            return cls(node, tuple(filters), metadata)
        graphdef, *mappings = treefy_split(node, *filters)
        return cls(graphdef, tuple(mappings), metadata)

    @classmethod
    def from_states(cls, *states: NestedDict, metadata: Any = None) -> "NodeStates":
        """States without a graphdef."""
        return cls(None, tuple(states), metadata)

    @classmethod
    def from_prefixes(cls, prefixes: Any, /, *, metadata: Any = None) -> "NodeStates":
        """Any values (e.g. per-mapping axis prefixes for a transform) carried as the states,
        without a graphdef.

        Example:
          >>> import brainstate
          >>> ns = brainstate.graph.NodeStates.from_prefixes([0, None], metadata="axes")
          >>> ns.states, ns.graphdef, ns.metadata
          ((0, None), None, 'axes')
        """
        return cls(None, tuple(prefixes), metadata)

    def replace(self, **updates: Any) -> "NodeStates":
        """A copy with some fields replaced: `graphdef`, `states` and/or `metadata`.

        Raises:
          TypeError: naming an unknown field.

        Example:
          >>> import brainstate
          >>> ns = brainstate.graph.NodeStates.from_prefixes([1])
          >>> ns.replace(metadata="m").metadata, ns.metadata
          ('m', None)
        """
        if "graphdef" in updates:
            updates["_graphdef"] = updates.pop("graphdef")
        unknown = sorted(set(updates) - {"_graphdef", "states", "metadata"})
        if unknown:
            raise TypeError(f"NodeStates.replace: unknown field(s) {unknown}; the fields are graphdef, "
                            f"states and metadata.")
        if "states" in updates:
            updates["states"] = tuple(updates["states"])
        return dataclasses.replace(self, **updates)

    @property
    def state(self) -> NestedDict:
        """The single mapping.

        Raises:
          ValueError: if there is not exactly one.
        """
        if len(self.states) != 1:
            raise ValueError(
                f"NodeStates.state: there are {len(self.states)} mappings, not one. Use "
                f"`.states[i]` to pick one.")
        return self.states[0]

    def to_node(self) -> Any:
        """Rebuild the live graph (see `treefy_merge`).

        Raises:
          ValueError: if there is no graphdef.
        """
        if self.graphdef is None:
            raise ValueError(
                "NodeStates.to_node: this NodeStates carries no graphdef (made by from_states), so "
                "there is no structure to rebuild. Use NodeStates.from_split(node, ...) instead.")
        return treefy_merge(self.graphdef, *self.states)

    def tree_flatten(self):
        return (self.states,), (self.graphdef, self.metadata)

    @classmethod
    def tree_unflatten(cls, aux, children):
        return cls(aux[0], children[0], aux[1])
