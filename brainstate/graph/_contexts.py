"""`split_context` / `merge_context`: several splits (or merges) that share object identity.

`treefy_split` numbers the nodes and States of one graph; splitting two graphs that share a
State separately would give two independent copies when merged back. Inside a `split_context`,
every `ctx.treefy_split` call uses one `RefMap`: an object already met in an earlier call
becomes a reference (`NodeEdge`) to it instead of being split again. Inside a
`merge_context`, every `ctx.treefy_merge` call uses one `index -> object` table, so those
references resolve to the objects built by the earlier calls.

Invariant: merging, in one merge context and in the same order, what was split in one split
context rebuilds the sharing between all the graphs. Each call's result is only complete
together with the earlier ones.
"""

import contextlib
from typing import Any, Dict, Iterator, List, Tuple, cast

from .._state import State
from ._graphdef import GraphDef, flatten_graph, unflatten_graph
from ._refmap import RefMap
from ._split_merge import check_filters, split_sites

__all__ = ["SplitContext", "MergeContext", "split_context", "merge_context"]


class SplitContext:
    """Splits graphs with one shared `RefMap` (see `split_context`).

    Attributes:
      ref_index: object -> index for every node and State met so far.
      new_states: `(path in its graph, State)` for every State met so far, in order.
    """

    __module__ = "brainstate.graph"

    def __init__(self, ref_index: RefMap):
        self.ref_index = ref_index
        self.new_states: List[Tuple[Tuple[Any, ...], State]] = []

    def treefy_split(self, node: Any, *filters: Any) -> Tuple[Any, ...]:
        """Like `graph.treefy_split`; objects met by earlier calls become references.

        Raises:
          TypeError: if `node` is a State.
          ValueError: if some State matches no filter.
        """
        if isinstance(node, State):
            raise TypeError(
                f"SplitContext.treefy_split: the root is a {type(node).__name__} itself, which has no "
                f"path inside a graph. Split the object that holds it (or `[state]`).")
        predicates = check_filters(filters, "SplitContext.treefy_split")
        graphdef, sites = flatten_graph(node, self.ref_index)
        # flatten_graph builds every path tuple by default (paths=True), so none is None here.
        self.new_states.extend((cast(Tuple[Any, ...], path), state) for _, path, state in sites)
        return (graphdef, *split_sites(sites, filters, predicates, "SplitContext.treefy_split"))


class MergeContext:
    """Merges graphs with one shared `index -> object` table (see `merge_context`).

    Attributes:
      index_ref: index -> object for every node and State built so far.
    """

    __module__ = "brainstate.graph"

    def __init__(self, index_ref: Dict[int, Any]):
        self.index_ref = index_ref

    def treefy_merge(self, graphdef: GraphDef, *state_mappings: Any) -> Any:
        """Like `graph.treefy_merge`; references to objects built by earlier calls resolve to them.

        Raises:
          ValueError: if a reference points to an object no earlier call built, or a state is
            missing, duplicated or unused.
        """
        return unflatten_graph(graphdef, state_mappings, self.index_ref)


@contextlib.contextmanager
def split_context() -> Iterator[Tuple[SplitContext, RefMap]]:
    """A context in which several `ctx.treefy_split` calls share object identity.

    Yields:
      `(ctx, ref_index)`: the context and its shared `RefMap`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> shared = brainstate.State(jnp.zeros(2))
      >>> a, b = [shared], [shared]
      >>> with brainstate.graph.split_context() as (ctx, _):
      ...     split_a, split_b = ctx.treefy_split(a), ctx.treefy_split(b)
      >>> with brainstate.graph.merge_context() as (ctx, _):
      ...     new_a, new_b = ctx.treefy_merge(*split_a), ctx.treefy_merge(*split_b)
      >>> new_a[0] is new_b[0], new_a[0] is shared
      (True, False)
    """
    ref_index = RefMap()
    yield SplitContext(ref_index), ref_index


@contextlib.contextmanager
def merge_context() -> Iterator[Tuple[MergeContext, dict]]:
    """A context in which several `ctx.treefy_merge` calls share the objects they build.

    Yields:
      `(ctx, index_ref)`: the context and its shared `index -> object` dict.
    """
    index_ref: Dict[int, Any] = {}
    yield MergeContext(index_ref), index_ref
