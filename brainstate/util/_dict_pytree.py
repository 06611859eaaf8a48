"""`NestedDict` and `FlattedDict` as JAX PyTrees: children in sorted key order, deep nestings flat.

A path dict is a PyTree node whose children are its values in `key_order` order, with the
sorted keys as aux data (and `DictKey`s in key paths), so two dicts with the same keys give the
same treedef whatever their insertion order.

Deep nestings. JAX flattens PyTrees recursively, spending about one level of Python's recursion
limit per level of nesting, so the `NestedDict` of a graph a thousand levels deep cannot be
flattened level by level. A `NestedDict` whose sub-`NestedDict`s nest deeper than `DEEP` levels
is therefore flattened in one call: its children are the values at the leaves of the whole
nesting (in the same sorted pre-order the level-by-level flattening gives), and its aux data
describes the nesting as a flat tuple of `(depth, key, is_sub_dict)` entries, so the treedef
stays linear in size. In a key path each such leaf has one `DictKey` holding its whole path.
Nestings up to `DEEP` levels (every hand-built model) flatten level by level as before.
"""

from typing import Any, List, Tuple

import jax

from ._depth_first import DepthFirst
from ._key_order import sorted_keys

__all__ = ["register_path_dict", "DEEP"]

# Nesting deeper than any hand-built model, yet far below the ~1000 levels JAX's recursive
# flatten can reach inside Python's default recursion limit.
DEEP = 64


def _nests_deeper_than(d: dict, limit: int) -> bool:
    """True if sub-dicts of `d`'s own type nest more than `limit` levels below it."""
    cls = type(d)
    stack = [(d, 0)]
    while stack:
        x, depth = stack.pop()
        for value in x.values():
            if type(value) is cls:
                if depth + 1 > limit:
                    return True
                stack.append((value, depth + 1))
    return False


class _Nesting:
    """The aux data of a deep nesting: `(depth, key, is_sub_dict)` entries in pre-order."""

    __slots__ = ("entries", "_hash")

    def __init__(self, entries: Tuple[Tuple[int, Any, bool], ...]):
        self.entries = entries
        self._hash = hash(entries)

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, _Nesting) and self.entries == other.entries

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        return f"<nesting of {len(self.entries)} entries>"


def _sorted_items(d: dict) -> List[Tuple[Any, Any]]:
    return [(k, d[k]) for k in sorted_keys(d)]


def _flatten_deep(d: dict, with_keys: bool):
    """`(children, aux)` of a whole nesting: leaf values in sorted pre-order, structure entries."""
    cls = type(d)
    children: List[Any] = []
    structure: List[Tuple[int, Any, bool]] = []
    walker = DepthFirst(_sorted_items(d))
    for _, key, value in walker:
        depth = len(walker.keys)
        if type(value) is cls:
            structure.append((depth, key, True))
            walker.enter(value, _sorted_items(value))
        else:
            structure.append((depth, key, False))
            children.append((jax.tree_util.DictKey((*walker.keys, key)), value) if with_keys else value)
    return children, _Nesting(tuple(structure))


def _unflatten_deep(cls, structure, children):
    root = cls()
    levels = [root]
    leaves = iter(children)
    for depth, key, is_dict in structure:
        del levels[depth + 1:]
        if is_dict:
            sub = cls()
            levels[depth][key] = sub
            levels.append(sub)
        else:
            levels[depth][key] = next(leaves)
    return root


def register_path_dict(cls: type, deep: bool) -> None:
    """Register `cls` (a dict subclass) as a PyTree; with `deep`, deep nestings flatten in one call."""

    def flatten_with_keys(d):
        if deep and _nests_deeper_than(d, DEEP):
            return _flatten_deep(d, with_keys=True)
        keys = sorted_keys(d)
        return [(jax.tree_util.DictKey(k), d[k]) for k in keys], tuple(keys)

    def flatten(d):
        if deep and _nests_deeper_than(d, DEEP):
            return _flatten_deep(d, with_keys=False)
        keys = tuple(sorted_keys(d))
        return [d[k] for k in keys], keys

    def unflatten(aux, children):
        if isinstance(aux, _Nesting):
            return _unflatten_deep(cls, aux.entries, children)
        return cls(zip(aux, children))

    jax.tree_util.register_pytree_with_keys(cls, flatten_with_keys, unflatten, flatten)
