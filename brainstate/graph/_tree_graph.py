"""`graph_to_tree` / `tree_to_graph`: PyTrees that hold graph nodes, as pure PyTrees and back.

Arguments of a JAX transform are PyTrees; a model (a `Node`) is not. `graph_to_tree` replaces
every graph node in a PyTree by a `NodeStates` (its `GraphDef`, static, plus its state
snapshots as leaves), giving a pure PyTree JAX can carry. `tree_to_graph` turns each
`NodeStates` back into a live node.

All nodes of one call are split in one `split_context` (and merged in one `merge_context`), in
JAX's leaf order, so sharing is preserved *across the whole tree*: a node or State that several
leaves reach is split once, later leaves refer to it, and the rebuilt tree has one object there
again. Ordinary containers (lists, dicts, tuples) are PyTree structure, rebuilt by JAX, so they
are not shared objects afterwards.

A prefix tree (like `vmap`'s `in_axes`) can be broadcast over the leaves and handed to the
split/merge functions; an object reached from leaves with different prefixes is an error, since
it cannot be, say, both batched and not batched.
"""

from typing import Any, Callable, Dict, List, Tuple

import jax

from ..typing import Missing
from ._contexts import MergeContext, SplitContext, merge_context, split_context
from ._node_types import node_type
from ._split_merge import NodeStates
from ._walk import Kind, walk

__all__ = ["graph_to_tree", "tree_to_graph"]

KeyPath = Tuple[Any, ...]


def _is_graph_node(x: Any) -> bool:
    impl = node_type(x)
    return impl is not None and not impl.container


def _is_tree_node(x: Any) -> bool:
    return isinstance(x, NodeStates)


def _plain_path(keypath: KeyPath) -> Tuple[Any, ...]:
    """JAX key entries (`DictKey`, `SequenceKey`, `GetAttrKey`, ...) as plain keys."""
    out = []
    for entry in keypath:
        for attr in ("key", "idx", "name"):
            if hasattr(entry, attr):
                out.append(getattr(entry, attr))
                break
        else:
            out.append(entry)
    return tuple(out)


def _broadcast_prefix(prefix: Any, tree: Any, n_leaves: int, is_leaf: Callable, where: str) -> List[Any]:
    """The prefix value for each leaf of `tree` (flattened with `is_leaf`)."""
    if prefix is Missing:
        return [Missing] * n_leaves
    result: List[Any] = []

    def add(value, subtree):
        result.extend([value] * len(jax.tree_util.tree_leaves(subtree, is_leaf=is_leaf)))

    try:
        jax.tree_util.tree_map(add, prefix, tree, is_leaf=lambda x: x is None)
    except (ValueError, TypeError) as e:
        raise ValueError(
            f"{where}: prefix {prefix!r} is not a tree prefix of the input (its structure must match "
            f"the input's down to its own leaves, each of which then applies to a whole subtree). "
            f"JAX says: {e}") from None
    return result


def _same(a: Any, b: Any) -> bool:
    if a is b:
        return True
    try:
        return bool(a == b)
    except Exception:  # an __eq__ returning an array, say: not provably equal
        return False


def _check_aliasing(leaves: List[Tuple[KeyPath, Any]], prefixes: List[Any]) -> None:
    owners: Dict[int, Tuple[KeyPath, Any]] = {}
    for (keypath, leaf), prefix in zip(leaves, prefixes):
        if not _is_graph_node(leaf):
            continue
        for path, obj, _, kind in walk(leaf):
            if kind is Kind.LEAF:
                continue
            first_keypath, first_prefix = owners.setdefault(id(obj), (keypath, prefix))
            if first_keypath is not keypath and not _same(first_prefix, prefix):
                raise ValueError(
                    f"graph_to_tree: the same {type(obj).__name__} is reached from "
                    f"{jax.tree_util.keystr(first_keypath) or 'the root'} with prefix {first_prefix!r} "
                    f"and from {jax.tree_util.keystr(keypath) or 'the root'} (at {path}) with prefix "
                    f"{prefix!r}. A shared object must get one prefix; give both leaves the same "
                    f"prefix, or stop sharing it.")


def _default_split_fn(ctx: SplitContext, keypath: KeyPath, prefix: Any, leaf: Any) -> Any:
    if not _is_graph_node(leaf):
        return leaf
    graphdef, *states = ctx.treefy_split(leaf)
    return NodeStates(graphdef, tuple(states))


def _merge_tree_node(ctx: MergeContext, keypath: KeyPath, prefix: Any, leaf: Any) -> Any:
    if not isinstance(leaf, NodeStates):
        return leaf
    if leaf.graphdef is None:
        raise ValueError(
            f"tree_to_graph: the NodeStates at {jax.tree_util.keystr(keypath) or 'the root'} carries no "
            f"graphdef (made by NodeStates.from_states), so there is no node to rebuild. Produce the "
            f"tree with graph_to_tree, or pass a merge_fn that handles it.")
    return ctx.treefy_merge(leaf.graphdef, *leaf.states)


def graph_to_tree(may_have_graph_nodes: Any, /, *, prefix: Any = Missing,
                  split_fn: Callable[[SplitContext, KeyPath, Any, Any], Any] = _default_split_fn,
                  map_non_graph_nodes: bool = False,
                  check_aliasing: bool = True) -> Tuple[Any, Dict[Tuple[Any, ...], Any]]:
    """Replace every graph node in a PyTree by a pure PyTree (a `NodeStates` by default).

    Args:
      may_have_graph_nodes: a PyTree whose leaves may be graph nodes (`Node`s, registered types).
      prefix: a tree prefix of the input broadcast to its leaves and passed to `split_fn`;
        `Missing` (default) passes `Missing` everywhere.
      split_fn: `(ctx, keypath, prefix, leaf) -> replacement`, called for each graph node (and
        each other leaf with `map_non_graph_nodes`). `ctx.treefy_split` splits with the identity
        shared across the whole call. The default returns `NodeStates(graphdef, states)`.
      map_non_graph_nodes: also call `split_fn` on leaves that are not graph nodes.
      check_aliasing: with a `prefix`, check that every node and State reachable from several
        leaves gets the same prefix from each.

    Returns:
      `(tree, found_states)`: the pure PyTree, and `{path: State}` for every State met, keyed by
      the leaf's key path (plain keys) followed by the State's path inside that node.

    Raises:
      ValueError: if `prefix` is not a tree prefix of the input, or (with `check_aliasing`) a
        shared object gets two different prefixes.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> layer = brainstate.nn.Linear(2, 3)
      >>> tree, found = brainstate.graph.graph_to_tree({'a': layer, 'b': layer})
      >>> back = brainstate.graph.tree_to_graph(tree)
      >>> back['a'] is back['b'], back['a'] is layer
      (True, False)
    """
    leaves, treedef = jax.tree_util.tree_flatten_with_path(may_have_graph_nodes, is_leaf=_is_graph_node)
    prefixes = _broadcast_prefix(prefix, may_have_graph_nodes, len(leaves), _is_graph_node, "graph_to_tree")
    if check_aliasing and prefix is not Missing:
        _check_aliasing(leaves, prefixes)
    found: Dict[Tuple[Any, ...], Any] = {}
    out = []
    with split_context() as (ctx, _):
        for (keypath, leaf), leaf_prefix in zip(leaves, prefixes):
            if _is_graph_node(leaf) or map_non_graph_nodes:
                start = len(ctx.new_states)
                leaf = split_fn(ctx, keypath, leaf_prefix, leaf)
                base = _plain_path(keypath)
                found.update((base + path, state) for path, state in ctx.new_states[start:])
            out.append(leaf)
    return jax.tree_util.tree_unflatten(treedef, out), found


def tree_to_graph(tree: Any, /, *, prefix: Any = Missing,
                  merge_fn: Callable[[MergeContext, KeyPath, Any, Any], Any] = _merge_tree_node,
                  is_node_leaf: Callable[[Any], bool] = _is_tree_node,
                  is_leaf: Callable[[Any], bool] = _is_tree_node,
                  map_non_graph_nodes: bool = False) -> Any:
    """Turn the `NodeStates` in a PyTree back into live graph nodes (inverse of `graph_to_tree`).

    Args:
      tree: a PyTree, typically the first output of `graph_to_tree` (possibly after passing
        through a JAX transform).
      prefix: a tree prefix broadcast to the leaves and passed to `merge_fn`.
      merge_fn: `(ctx, keypath, prefix, leaf) -> node`, called for each leaf `is_node_leaf`
        accepts (and each other leaf with `map_non_graph_nodes`). `ctx.treefy_merge` merges with
        the identity shared across the whole call. The default merges a `NodeStates`.
      is_node_leaf: which leaves are packed nodes (default: `NodeStates`).
      is_leaf: where flattening `tree` stops (default: at `NodeStates`).
      map_non_graph_nodes: also call `merge_fn` on the other leaves.

    Returns:
      The PyTree with new live nodes in place of the packed ones; objects that were shared
      across leaves when split are one object again.

    Raises:
      ValueError: if `prefix` is not a tree prefix of `tree`, or a `NodeStates` has no graphdef.
    """
    leaves, treedef = jax.tree_util.tree_flatten_with_path(tree, is_leaf=is_leaf)
    prefixes = _broadcast_prefix(prefix, tree, len(leaves), is_leaf, "tree_to_graph")
    out = []
    with merge_context() as (ctx, _):
        for (keypath, leaf), leaf_prefix in zip(leaves, prefixes):
            if is_node_leaf(leaf) or map_non_graph_nodes:
                leaf = merge_fn(ctx, keypath, leaf_prefix, leaf)
            out.append(leaf)
    return jax.tree_util.tree_unflatten(treedef, out)
