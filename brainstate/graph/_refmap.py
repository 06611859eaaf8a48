"""`RefMap`: a mutable mapping keyed by object identity.

Graph walks must tell "the same object reached twice" from "two equal objects", and States,
Nodes, lists and dicts are unhashable or hash by value. A `RefMap` compares keys with `is`.
It keeps each key alive (it stores the key next to the value), so an id is never reused by
another object while the map exists.
"""

from collections.abc import MutableMapping
from typing import Any, Iterable, Iterator, Mapping, Tuple, TypeVar, Union

__all__ = ["RefMap"]

K = TypeVar("K")
V = TypeVar("V")


class RefMap(MutableMapping):
    """A dict whose keys are compared by identity (`is`), not by `==`/`hash`.

    Args:
      mapping: initial entries, a mapping or an iterable of `(key, value)` pairs.

    Example:
      >>> from brainstate.graph import RefMap
      >>> a, b = [], []
      >>> m = RefMap([(a, 1)])
      >>> a in m, b in m
      (True, False)
    """

    __module__ = "brainstate.graph"

    def __init__(self, mapping: Union[Mapping[Any, Any], Iterable[Tuple[Any, Any]]] = ()):
        self._entries: dict = {}
        items = mapping.items() if isinstance(mapping, Mapping) else mapping
        for key, value in items:
            self[key] = value

    def __getitem__(self, key: Any) -> Any:
        try:
            return self._entries[id(key)][1]
        except KeyError:
            raise KeyError(key) from None

    def __setitem__(self, key: Any, value: Any) -> None:
        self._entries[id(key)] = (key, value)

    def __delitem__(self, key: Any) -> None:
        try:
            del self._entries[id(key)]
        except KeyError:
            raise KeyError(key) from None

    def __contains__(self, key: Any) -> bool:
        return id(key) in self._entries

    def __iter__(self) -> Iterator[Any]:
        return (key for key, _ in self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        items = ", ".join(f"{type(k).__name__}@{id(k):#x}: {v!r}" for k, v in self._entries.values())
        return f"RefMap({{{items}}})"
