"""The read-only walk over an object graph: `iter_leaf`, `iter_node` and the shared traversal.

The walk is depth-first in the child order of `_node_types` (attributes and dict keys sorted).
States and leaves are reported in pre-order, where the walk meets them; graph nodes in
post-order, after everything under them (children first, the root last), as the reference
release lists them. Every State and every graph node is visited once, under the first path
that reaches it; revisits (shared references, cycles) are skipped. `None` and `Static` values
(PyTrees without leaves) are not leaves.

Hierarchy levels count graph nodes (Nodes and registered types, not lists/dicts) on the path,
not counting the root: the root is level 0, a sub-node of the root is level 1, and a State or
leaf has the level of the node that holds it. With `allowed_hierarchy=(low, high)` the walk
does not enter nodes deeper than `high`, so an object shared between a shallow and a deep path
is reported under the shallow one (`children()` lists a direct child also held deeper, earlier
in the sorted order); levels below `low` are walked but not reported.
"""

import enum
from typing import Any, FrozenSet, Iterator, List, Tuple

from .._state import State
from ._graphdef import Static
from ._node_types import is_tuple_like, node_type, tuple_items

__all__ = ["iter_leaf", "iter_node", "walk", "Kind", "MAX_LEVEL", "check_hierarchy"]

MAX_LEVEL = 2 ** 31 - 1
Path = Tuple[Any, ...]


class Kind(enum.Enum):
    STATE = "state"
    NODE = "node"
    LEAF = "leaf"


def check_hierarchy(allowed_hierarchy: Tuple[int, int], where: str) -> Tuple[int, int]:
    """Validate an `allowed_hierarchy` pair and return it as `(low, high)`.

    Raises:
      ValueError: unless it is two integers with `0 <= low <= high`.
    """
    try:
        low, high = allowed_hierarchy
        ok = isinstance(low, int) and isinstance(high, int) and 0 <= low <= high
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(
            f"{where}: allowed_hierarchy must be a pair of integers (low, high) with "
            f"0 <= low <= high, got {allowed_hierarchy!r}. Level 0 is the root and what it holds; "
            f"level 1 its sub-nodes; use (0, {MAX_LEVEL}) for everything.")
    return low, high


_ALL_KINDS = frozenset(Kind)


def walk(root: Any, kinds: FrozenSet[Kind] = _ALL_KINDS,
         levels: Tuple[int, int] = (0, MAX_LEVEL)) -> Iterator[Tuple[Path, Any, int, Kind]]:
    """Yield `(path, object, level, kind)` for every State, graph node and leaf, each once.

    States and leaves come in pre-order, nodes in post-order (see the module docstring).
    Containers (list, dict) and tuples are entered but not yielded themselves. With `kinds` and
    `levels`, only the objects of those kinds and levels are yielded, and nodes deeper than the
    highest level are not entered; path tuples are built only for what is yielded.

    The walk keeps an explicit stack, so a graph of any depth can be walked.
    """
    low, high = levels
    want_nodes = Kind.NODE in kinds
    seen = set()  # ids; every object stays alive through the graph while we walk it
    keys: List[Any] = []  # the path to the current object
    # One entry per entered node or tuple: (iterator over its (key, child) pairs, its level,
    # the node to yield once its children are done, or None).
    stack: List[Tuple[Iterator, int, Any]] = []
    x, level = root, 0
    while True:
        if isinstance(x, State):
            if id(x) not in seen:
                seen.add(id(x))
                if Kind.STATE in kinds and low <= level <= high:
                    yield tuple(keys), x, level, Kind.STATE
        else:
            impl = node_type(x)
            if impl is not None:
                own = level if impl.container or not keys else level + 1
                if own <= high and id(x) not in seen:
                    seen.add(id(x))
                    post = x if want_nodes and not impl.container and low <= own else None
                    children, _ = impl.flatten(x)
                    stack.append((iter(children), own, post))
                    keys.append(None)  # a placeholder for the first child's key
            elif is_tuple_like(x):
                stack.append((iter(tuple_items(x)), level, None))
                keys.append(None)
            elif Kind.LEAF in kinds and low <= level <= high and x is not None and type(x) is not Static:
                yield tuple(keys), x, level, Kind.LEAF
        # Move on to the next child of the innermost entered object that has one left; a node
        # whose children are all done is yielded as it leaves the stack.
        while stack:
            pending, level, post = stack[-1]
            item = next(pending, None)
            if item is not None:
                keys[-1], x = item
                break
            stack.pop()
            keys.pop()
            if post is not None:
                yield tuple(keys), post, level, Kind.NODE
        else:
            return


def iter_leaf(node: Any, allowed_hierarchy: Tuple[int, int] = (0, MAX_LEVEL)) -> Iterator[Tuple[Path, Any]]:
    """Yield `(path, leaf)` for every State and opaque leaf in the graph, in sorted pre-order.

    Args:
      node: the root of the graph.
      allowed_hierarchy: `(low, high)` levels to report (see the module docstring).

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> class M(brainstate.graph.Node):
      ...     def __init__(self):
      ...         self.s = brainstate.State(jnp.zeros(1))
      ...         self.n = 3
      >>> [path for path, _ in brainstate.graph.iter_leaf(M())]
      [('n',), ('s',)]
    """
    levels = check_hierarchy(allowed_hierarchy, "iter_leaf")
    for path, x, _, _ in walk(node, frozenset((Kind.STATE, Kind.LEAF)), levels):
        yield path, x


def iter_node(node: Any, allowed_hierarchy: Tuple[int, int] = (0, MAX_LEVEL)) -> Iterator[Tuple[Path, Any]]:
    """Yield `(path, node)` for every graph node (not list/dict), children first, the root last.

    Args:
      node: the root of the graph.
      allowed_hierarchy: `(low, high)` levels to report; the root is level 0.
    """
    levels = check_hierarchy(allowed_hierarchy, "iter_node")
    for path, x, _, _ in walk(node, frozenset((Kind.NODE,)), levels):
        yield path, x
