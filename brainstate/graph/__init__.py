"""The graph model: object graphs of nodes and States, split into structure and data.

A model is an ordinary object graph: `Node` attributes (and lists, tuples, dicts,
namedtuples, registered types) hold sub-nodes and `State`s. `treefy_split` turns it into a
hashable `GraphDef` plus `NestedDict`s of state snapshots; `treefy_merge` builds a new live
graph back. Shared references and cycles are preserved; paths are tuples of attribute names,
indices and dict keys, the root being `()`.
"""

from ._graphdef import GraphDef, flatten, unflatten
from ._node import Node
from ._node_types import register_graph_node_type
from ._refmap import RefMap
from ._select import nodes, pop_states, states, treefy_states, update_states
from ._split_merge import NodeStates, clone, graphdef, treefy_merge, treefy_split
from ._walk import iter_leaf, iter_node
from ._edges import NodeEdge, NodeSpec, PytreeEdge, StateEdge, StateLeafEdge, Static, StaticEdge
from ._contexts import merge_context, split_context
from ._tree_graph import graph_to_tree, tree_to_graph

__all__ = [
    "GraphDef", "Node", "NodeStates", "RefMap", "clone", "flatten", "graphdef", "iter_leaf",
    "iter_node", "nodes", "pop_states", "register_graph_node_type", "states", "treefy_merge",
    "treefy_split", "treefy_states", "unflatten", "update_states", "NodeEdge", "NodeSpec", "PytreeEdge",
    "StateEdge", "StateLeafEdge", "Static", "StaticEdge", "graph_to_tree", "tree_to_graph", "split_context",
    "merge_context",
]
