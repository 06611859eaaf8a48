"""Checkpoint keys held as a trie, so that deep graphs cost memory and time linear in their size.

A state's checkpoint key is its graph path with the elements joined by '.' (`'layers.0.weight'`).
Spelled out, the keys of a chain of N nested modules add up to N²/2 path elements: at a depth of
10,000 that is hundreds of megabytes of text. `PathTable` stores each key once as a node of a
trie over its '.'-separated parts instead (node = parent node + last part), so a key costs one
node more than its parent's, and it turns a key back into text only when asked (an error message,
a report entry that is read). Splitting on '.' makes node identity the same as key identity: two
paths have the same node exactly when they have the same key, as in the files written before the
table existed (the one exception, the empty key, is handled by `state_node`).

A walk adds each key as its parent's node plus one element (`add_text`), so a graph costs one
node per '.'-separated part of its keys' distinct prefixes, whatever its depth. `PathList` and `PathMap` are read-only views keyed by the text of the nodes they hold, for the
reports and `Checkpoint` contents handed to users.
"""

from collections.abc import Mapping, Sequence
from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple

import jax

__all__ = ["PathTable", "PathList", "PathMap", "element_text"]


def element_text(key: Any) -> str:
    """One graph-path element or PyTree key-path entry as text."""
    tu = jax.tree_util
    if isinstance(key, (tu.DictKey, tu.FlattenedIndexKey)):
        return str(key.key)
    if isinstance(key, tu.SequenceKey):
        return str(key.idx)
    if isinstance(key, tu.GetAttrKey):
        return key.name
    return str(key)


class PathTable:
    """A trie of checkpoint keys: node 0 is the empty key, every other node a parent and a part.

    Example:
      >>> table = PathTable()
      >>> w = table.add_text(table.add_text(0, "layers.0"), "weight")
      >>> table.key(w), table.key(table.parent[w])
      ('layers.0.weight', 'layers.0')
      >>> table.find("layers.0.weight") == w, table.find("layers.1") is None
      (True, True)
    """

    def __init__(self):
        self.parent: List[int] = [-1]
        self.part: List[str] = [""]
        self.length: List[int] = [0]  # the length of each node's key, without building it
        self._children: Dict[Tuple[int, str], int] = {}

    def __len__(self) -> int:
        return len(self.parent)

    def child(self, node: int, part: str) -> int:
        """The node of `node`'s key plus '.' plus `part` (a part holds no '.'), created if new."""
        found = self._children.get((node, part))
        if found is None:
            found = len(self.parent)
            self._children[(node, part)] = found
            self.parent.append(node)
            self.part.append(part)
            self.length.append(self.length[node] + (node != 0) + len(part))
        return found

    def add_text(self, node: int, text: str) -> int:
        """The node of `node`'s key extended by `text`, which may hold '.'s."""
        for part in text.split("."):
            node = self.child(node, part)
        return node

    def state_node(self, node: int) -> int:
        """The node that identifies a state: the key of a lone empty part ('', the path `('',)`)
        is the empty key, the root's, so both name one state as their joined text does."""
        return 0 if self.parent[node] == 0 and self.part[node] == "" else node

    def key(self, node: int) -> str:
        """The text of a node's key."""
        parts = []
        while node > 0:
            parts.append(self.part[node])
            node = self.parent[node]
        return ".".join(reversed(parts))

    def find(self, key: str) -> Optional[int]:
        """The state node of a key, or None if no key of the table is `key`."""
        if key == "":
            return 0
        node = 0
        for part in key.split("."):
            found = self._children.get((node, part))
            if found is None:
                return None
            node = found
        return self.state_node(node)

    def rows(self) -> List[list]:
        """Every node but the root as `[parent, part]`, in node order (parents come first)."""
        return [[p, s] for p, s in zip(self.parent[1:], self.part[1:])]

    @classmethod
    def from_rows(cls, rows: Iterable[Any]) -> "PathTable":
        """The table whose `rows()` are `rows`.

        Raises:
          ValueError: a row is not `[parent, part]` with an earlier node as parent and a part
            without '.', or two rows are the same node.
        """
        table = cls()
        for i, row in enumerate(rows, start=1):
            parent, part = row
            if not (type(parent) is int and 0 <= parent < i and isinstance(part, str) and "." not in part):
                raise ValueError(f"path row {i} {row!r} is not [an earlier node, a part without '.']")
            if table.child(parent, part) != i:
                raise ValueError(f"path row {i} {row!r} repeats an earlier node")
        return table


class PathList(Sequence):
    """A read-only sequence of the keys of some nodes of a table, built as text when read.

    It compares equal to any sequence of the same strings (`report.restored == ('w', 'b')`).
    """

    def __init__(self, table: PathTable, nodes: Sequence[int]):
        self._table = table
        self._nodes = tuple(nodes)

    def __len__(self) -> int:
        return len(self._nodes)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return PathList(self._table, self._nodes[index])
        return self._table.key(self._nodes[index])

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._table.find(key) in set(self._nodes)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other))

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return repr(tuple(self))


class PathMap(Mapping):
    """A read-only mapping from the keys of some nodes of a table to values, keys built when read."""

    def __init__(self, table: PathTable, nodes: Sequence[int], values: Sequence[Any]):
        if len(nodes) != len(values):
            raise ValueError(f"PathMap: {len(nodes)} nodes but {len(values)} values")
        self._table = table
        self._nodes = tuple(nodes)
        self._index = {node: i for i, node in enumerate(self._nodes)}
        self._values = tuple(values)

    def __len__(self) -> int:
        return len(self._nodes)

    def __iter__(self) -> Iterator[str]:
        return (self._table.key(node) for node in self._nodes)

    def __getitem__(self, key: str) -> Any:
        node = self._table.find(key) if isinstance(key, str) else None
        i = None if node is None else self._index.get(node)
        if i is None:
            raise KeyError(key)
        return self._values[i]

    def __repr__(self) -> str:
        return repr(dict(self.items()))
