"""The one deterministic order of dict keys and graph paths: `key_order` and `sorted_keys`.

Keys of mixed types (the ints and strings of a path, say) cannot be compared by Python, so
`key_order` maps each key to a sort key: numbers first, then strings, then tuples (element by
element), then anything else by type name and `repr`. Graph walks, dict PyTrees and FrozenDicts
all order keys this way.

`sorted_keys` gives the same order faster. `key_order` costs a Python call per element of a
tuple key, which for the paths of a graph thousands of levels deep (FlattedDict keys of a deep
chain hold millions of elements together) takes seconds; when every key is a string, every key
an int, or every key a tuple of strings, Python's own comparison gives exactly `key_order`'s
order, so those cases are sorted natively.
"""

from typing import Any, Iterable, List

__all__ = ["key_order", "sorted_keys"]


def key_order(key: Any) -> tuple:
    """A sort key that orders keys of mixed types deterministically.

    Numbers sort before strings, strings before tuples (compared element by element), and
    anything else sorts last by its type name and `repr`.

    Example:
      >>> from brainstate.util._key_order import key_order
      >>> sorted(['b', 2, ('a',), 'a', 1], key=key_order)
      [1, 2, 'a', 'b', ('a',)]
    """
    if isinstance(key, (int, float)):
        return (0, key, "")
    if isinstance(key, str):
        return (1, 0, key)
    if isinstance(key, tuple):
        return (2, 0, tuple(key_order(k) for k in key))
    return (3, 0, f"{type(key).__qualname__}:{key!r}")


def _natively_ordered(keys: List[Any]) -> bool:
    """True if Python's comparison of these keys agrees with `key_order`."""
    if all(type(k) is str for k in keys) or all(type(k) is int for k in keys):
        return True
    if not all(type(k) is tuple for k in keys):
        return False
    try:
        for k in keys:
            # str.join type-checks every element in C, so a long path costs a copy, not a loop.
            "".join(k)
    except TypeError:
        return False
    return True


def sorted_keys(keys: Iterable[Any]) -> List[Any]:
    """The keys in `key_order` order.

    Example:
      >>> from brainstate.util._key_order import sorted_keys
      >>> sorted_keys([('b',), ('a', 'c'), ('a',)])
      [('a',), ('a', 'c'), ('b',)]
    """
    keys = list(keys)
    if _natively_ordered(keys):
        return sorted(keys)
    return sorted(keys, key=key_order)
