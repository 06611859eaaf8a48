"""Public names for the edges of a `GraphDef`, and `Static`, a leafless PyTree wrapper.

The edge classes are defined with `GraphDef` in `_graphdef`; the public API knows them by the
reference release's names:

- `NodeSpec` (`NodeDef`): a graph node met for the first time: type, index, `metadata` (the aux
  data of its node type), fields;
- `NodeEdge` (`Ref`): a node or State met before, by index (sharing and cycles);
- `StateEdge` (`StateDef`): a State met for the first time (its value lives in the state mapping);
- `PytreeEdge` (`TupleDef`): a tuple or namedtuple rebuilt from its fields;
- `StaticEdge` / `Static`: an opaque value carried in the structure.

`Static` is also registered as a PyTree with no leaves: wrapping a value in `Static` carries it
through `jax.tree` functions and transforms as static data (it must then be hashable).

`StateLeafEdge` names the reference's edge for a bare `TreefyState` held inside a graph. This
implementation never emits it: a snapshot found inside a live graph is an opaque leaf (`Static`),
so the class is only exported for code that refers to the name.
"""

import dataclasses
from typing import Any, Tuple

import jax

from ._graphdef import GraphDef, NodeDef, Ref, StateDef, Static, TupleDef

__all__ = ["NodeEdge", "NodeSpec", "PytreeEdge", "StateEdge", "StateLeafEdge", "Static", "StaticEdge"]

NodeSpec = NodeDef
NodeEdge = Ref
StateEdge = StateDef
PytreeEdge = TupleDef
StaticEdge = Static

jax.tree_util.register_pytree_node(Static, lambda s: ((), s.value), lambda value, _: Static(value))
# A GraphDef is structure only: as a `jax.jit` argument it is part of the cache key (it hashes
# and compares structurally), so `jit(lambda gd, st: treefy_merge(gd, st)...)(gd, st)` works.
jax.tree_util.register_static(GraphDef)


@dataclasses.dataclass(frozen=True)
class StateLeafEdge:
    """A bare `TreefyState` leaf at `path` of the state mapping (not emitted by this `flatten`)."""

    __module__ = "brainstate.graph"

    path: Tuple[Any, ...]
