"""`DepthFirst`: a pre-order walk over a nesting that keeps an explicit stack, never recursing.

A recursive walk spends a level of Python's recursion limit per level of nesting, so the dicts
and graphs of a chain a thousand levels deep cannot be walked that way. `DepthFirst` yields each
`(parent, key, value)` item and lets the caller decide, item by item, whether to descend into the
value (`enter`); it keeps the path to the current parent in `keys`.
"""

from typing import Any, Iterable, Iterator, List, Tuple

__all__ = ["DepthFirst"]

_END: Any = object()  # a sentinel compared by identity; typed Any so `next(items, _END)` keeps the item type


class DepthFirst:
    """Pre-order walk: iterate for `(parent, key, value)`; call `enter` to descend into a value.

    `keys` is the path from the top to the parent of the item just yielded (a list that changes
    as the walk goes on: copy it to keep it). `enter(value, items)` descends into `value`, whose
    items come next, before the rest of its parent's.

    Args:
      items: the `(key, value)` pairs at the top.
      parent: what the walk reports as the parent of the top items.

    Example:
      >>> from brainstate.util._depth_first import DepthFirst
      >>> walker = DepthFirst({'a': {'b': 1}, 'c': 2}.items())
      >>> leaves = []
      >>> for _, key, value in walker:
      ...     if isinstance(value, dict):
      ...         walker.enter(value, value.items())
      ...     else:
      ...         leaves.append((*walker.keys, key))
      >>> leaves
      [('a', 'b'), ('c',)]
    """

    __slots__ = ("keys", "_stack", "_key")

    def __init__(self, items: Iterable[Tuple[Any, Any]], parent: Any = None):
        self.keys: List[Any] = []  # one key per frame above the top one
        self._stack: List[Tuple[Any, Iterator]] = [(parent, iter(items))]
        self._key: Any = None

    def __iter__(self) -> Iterator[Tuple[Any, Any, Any]]:
        stack = self._stack
        while stack:
            parent, items = stack[-1]
            item = next(items, _END)
            if item is _END:
                stack.pop()
                if self.keys:
                    self.keys.pop()
                continue
            self._key, value = item
            yield parent, self._key, value

    def enter(self, value: Any, items: Iterable[Tuple[Any, Any]]) -> None:
        """Descend into `value` (the value just yielded): its `items` are walked next."""
        self.keys.append(self._key)
        self._stack.append((value, iter(items)))
