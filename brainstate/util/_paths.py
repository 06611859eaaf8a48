"""Graph paths as linked cells, so that walking a deep graph stays linear.

A path tuple costs its length to build, so giving each object of a chain n levels deep its own
tuple costs O(n²) in time and memory (ten thousand levels: fifty million elements). A walk that
does not need every path gives each object a *cell* instead, `(parent_cell, key)`, the root's
cell being `None`: one small tuple per object, sharing its prefix with its parent.

`cell_path` turns a cell into the path tuple when one is needed (a dict keyed by path, an error
message); `nest_cells` builds the `NestedDict` of `(cell, value)` pairs directly, one sub-dict
per shared prefix, equal to nesting the same pairs keyed by their path tuples.
"""

from typing import Any, Dict, Iterable, List, Optional, Tuple

from ._dicts import NestedDict

__all__ = ["Cell", "cell_path", "nest_cells", "show_paths"]

Cell = Optional[Tuple[Any, Any]]  # (parent cell, key), or None for the root
_MISSING = object()
# Enough paths for an error message to show the pattern; all of a deep graph's would run to megabytes.
SHOWN_PATHS = 8


def cell_path(cell: Cell) -> Tuple[Any, ...]:
    """The path tuple of a cell.

    Example:
      >>> from brainstate.util._paths import cell_path
      >>> cell_path(((None, 'layer'), 'weight'))
      ('layer', 'weight')
    """
    keys: List[Any] = []
    while cell is not None:
        cell, key = cell
        keys.append(key)
    keys.reverse()
    return tuple(keys)


def show_paths(paths: Iterable[Tuple[Any, ...]], limit: int = SHOWN_PATHS) -> str:
    """A list of paths for an error message: the first `limit` of them, then how many more.

    Example:
      >>> from brainstate.util._paths import show_paths
      >>> show_paths([('a',), ('b',)])
      "[('a',), ('b',)]"
      >>> show_paths([(i,) for i in range(5)], limit=2)
      '[(0,), (1,), ... 3 more]'
    """
    paths = list(paths)
    if len(paths) <= limit:
        return repr(paths)
    return "[" + ", ".join(map(repr, paths[:limit])) + f", ... {len(paths) - limit} more]"


def nest_cells(items: Iterable[Tuple[Cell, Any]]) -> NestedDict:
    """A `NestedDict` holding each value at its cell's path, in the order given.

    Raises:
      ValueError: if a path is the root itself, or lies under (or above) another path's value.

    Example:
      >>> from brainstate.util._paths import nest_cells
      >>> layer = (None, 'layer')
      >>> nest_cells([((layer, 'w'), 1), ((layer, 'b'), 2)])
      NestedDict({'layer': NestedDict({'w': 1, 'b': 2})})
    """
    out = NestedDict()
    dicts: Dict[int, NestedDict] = {}  # id(cell) -> the sub-dict at its path; the cells stay alive through `items`
    for cell, value in items:
        if cell is None:
            raise ValueError(
                "nest_cells: a value sits at the root path (), which names the nesting itself, not an "
                "entry in it. Keep such a value in a FlattedDict, or wrap the root in a container.")
        parent, key = cell
        node = out if parent is None else dicts.get(id(parent))
        if node is None:
            pending = []
            up = parent
            while up is not None and id(up) not in dicts:
                pending.append(up)
                up = up[0]
            node = out if up is None else dicts[id(up)]
            for link in reversed(pending):
                child = node.get(link[1], _MISSING)
                if child is _MISSING:
                    child = node[link[1]] = NestedDict()
                elif not isinstance(child, NestedDict):
                    raise ValueError(
                        f"nest_cells: path {cell_path(cell)} lies under {cell_path(link)}, which already "
                        f"holds a leaf ({type(child).__name__}). A path cannot be both a leaf and a "
                        f"sub-dict.")
                dicts[id(link)] = node = child
        if isinstance(node.get(key), NestedDict):
            raise ValueError(
                f"nest_cells: path {cell_path(cell)} holds a leaf but other paths lie under it. A path "
                f"cannot be both a leaf and a sub-dict.")
        node[key] = value
    return out
