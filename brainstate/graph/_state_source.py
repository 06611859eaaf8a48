"""Where `unflatten` finds each state: the entry at its path in one of the mappings given.

`StateSource` looks states up across several mappings (nested, or `FlattedDict`s keyed by path
tuple), refuses a path found in none of them, takes the last mapping's entry for a path found
in several (so `treefy_merge(graphdef, state, new_params)` overrides the params, as a dict
update would), and at the end reports the entries no state took. Nested mappings are followed along the walk with *cursors* (the sub-mapping at the
current path), so each lookup costs one step, not one per level of the path: unflattening a
chain n levels deep stays linear.
"""

from collections.abc import Mapping
from typing import Any, List, Optional, Tuple

from .._state import State, TreefyState
from ..util._depth_first import DepthFirst
from ..util._dicts import FlattedDict
from ..util._paths import show_paths

__all__ = ["StateSource"]

Path = Tuple[Any, ...]

_MISSING = object()
_FLAT = object()  # the cursor of a FlattedDict mapping: looked up by whole path


class StateSource:
    """Finds the state for each path across several mappings and notices what went unused.

    The nested mappings are followed along the walk: each frame holds, per mapping, the
    sub-mapping at its path (a *cursor*), so finding a state costs one lookup, not one per
    level of its path.
    """

    def __init__(self, mappings: Tuple[Any, ...]):
        self.mappings = mappings
        self.roots = tuple(_FLAT if isinstance(m, FlattedDict) else m for m in mappings)
        self.used_nested: set = set()  # (id(sub-mapping), key)
        self.used_flat: set = set()  # paths

    @staticmethod
    def step(cursors: tuple, key: Any) -> tuple:
        """The cursors one level down, at `key`."""
        return tuple(c if c is _FLAT else (c[key] if isinstance(c, Mapping) and key in c else _MISSING)
                     for c in cursors)

    def take(self, cursors: Optional[tuple], keys: List[Any]) -> State:
        """The state at path `keys`; `cursors` are those of its parent (None for the root)."""
        path = None
        found: List[Tuple[int, Any, Optional[Mapping]]] = []  # (mapping number, entry, its container)
        for i, (mapping, c) in enumerate(zip(self.mappings, cursors or self.roots)):
            if c is _FLAT:
                path = tuple(keys) if path is None else path
                if path in mapping:
                    found.append((i, mapping[path], None))
            elif cursors is None:
                found.append((i, mapping, None))
            elif isinstance(c, Mapping) and keys[-1] in c:
                found.append((i, c[keys[-1]], c))
        if not found:
            raise ValueError(
                f"unflatten: the graphdef has a state at path {tuple(keys)} but no mapping has an entry "
                f"there. Pass every mapping returned by treefy_split / flatten for this graph.")
        for _, _, container in found:  # every entry at this path is used; the last one wins
            if container is not None:
                self.used_nested.add((id(container), keys[-1]))
            else:
                self.used_flat.add(tuple(keys))
        _, value, _ = found[-1]
        if isinstance(value, TreefyState):
            return value.to_state()
        if isinstance(value, State):
            return value  # live states (flatten(..., treefy_state=False)) are reused as they are
        raise TypeError(
            f"unflatten: the entry at path {tuple(keys)} is a {type(value).__name__}, not a TreefyState "
            f"or State, so the kind and metadata of the state are unknown. Pass the mappings from "
            f"treefy_split / flatten; to load plain values into an existing graph use "
            f"graph.update_states.")

    def check_all_used(self) -> None:
        unused: List[Tuple[Any, ...]] = []
        for m in self.mappings:
            if isinstance(m, FlattedDict):
                unused.extend(p for p in m if p not in self.used_flat)
            elif not isinstance(m, Mapping):
                if () not in self.used_flat:
                    unused.append(())
            else:
                unused.extend(self._unused_nested(m))
        if unused:
            raise ValueError(
                f"unflatten: the mappings hold entries at paths {show_paths(unused)} where the graphdef has no "
                f"state. The mappings must come from a graph with this graphdef; drop the extra "
                f"entries or use the matching graphdef.")

    def _unused_nested(self, mapping: Mapping) -> List[Path]:
        """Paths of the leaves of a nested mapping that no state took, in insertion order."""
        if () in self.used_flat:
            return []
        unused = []
        walker = DepthFirst(mapping.items(), mapping)
        for container, key, value in walker:
            if (id(container), key) in self.used_nested:
                continue
            if isinstance(value, Mapping):
                walker.enter(value, value.items())
            else:
                unused.append((*walker.keys, key))
        return unused
