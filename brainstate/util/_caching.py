"""`BoundedCache`: a thread-safe least-recently-used cache of bounded size.

Compiled artefacts (traced jaxprs, compiled functions) are cached per call signature; without a
bound, a program that calls with ever-new shapes grows without limit. A `BoundedCache` holds at
most `maxsize` entries and evicts the least recently used.

Invariants: entries are written once (`set` refuses to overwrite, `replace` refuses to
create), so a cached artefact is never silently swapped; `len(cache) <= maxsize`; every
operation holds one lock, so concurrent threads see a consistent cache.
"""

import threading
from collections import OrderedDict
from typing import Any, Dict, List

__all__ = ["BoundedCache"]


class BoundedCache:
    """A thread-safe LRU cache holding at most `maxsize` items.

    Args:
      maxsize: the most items kept; the least recently used is evicted beyond that.

    Raises:
      ValueError: if `maxsize` is not a positive integer.

    Example:
      >>> from brainstate.util import BoundedCache
      >>> cache = BoundedCache(maxsize=2)
      >>> cache.set('a', 1); cache.set('b', 2)
      >>> cache.get('a')
      1
      >>> cache.set('c', 3)  # evicts 'b', the least recently used
      >>> sorted(cache.keys())
      ['a', 'c']
    """

    __module__ = "brainstate.util"

    def __init__(self, maxsize: int = 128):
        if isinstance(maxsize, bool) or not isinstance(maxsize, int) or maxsize < 1:
            raise ValueError(
                f"BoundedCache: maxsize must be a positive integer, got {maxsize!r}; a cache that "
                f"can hold nothing would recompute every time.")
        self._maxsize = maxsize
        self._items: "OrderedDict[Any, Any]" = OrderedDict()
        self._lock = threading.RLock()
        self._hits = 0
        self._misses = 0

    @property
    def maxsize(self) -> int:
        """The most items the cache keeps."""
        return self._maxsize

    def get(self, key: Any, default: Any = None, raise_on_miss: bool = False,
            error_context: str = "item") -> Any:
        """The value for `key` (now the most recently used), else `default`.

        Args:
          key: the cache key.
          default: returned on a miss.
          raise_on_miss: raise instead of returning `default`.
          error_context: what is cached, named in the error message.

        Raises:
          ValueError: on a miss with `raise_on_miss`, listing the cached keys.
        """
        with self._lock:
            if key in self._items:
                self._hits += 1
                self._items.move_to_end(key)
                return self._items[key]
            self._misses += 1
            if raise_on_miss:
                available = "".join(f"\n  {k!r}" for k in self._items) or " (none)"
                raise ValueError(
                    f"BoundedCache: no {error_context} is cached for the key {key!r}. Cached keys:"
                    f"{available}\nCreate it first with the same arguments (set), or check that the "
                    f"key is built the same way.")
            return default

    def set(self, key: Any, value: Any) -> None:
        """Add a new entry, evicting the least recently used one if the cache is full.

        Raises:
          ValueError: if `key` is already cached (use `replace`).
        """
        with self._lock:
            if key in self._items:
                raise ValueError(
                    f"BoundedCache: key {key!r} is already cached, and set() does not overwrite. Use "
                    f"replace() to change the entry, or pop() it first.")
            self._items[key] = value
            if len(self._items) > self._maxsize:
                self._items.popitem(last=False)

    def replace(self, key: Any, value: Any) -> None:
        """Change the value of an existing entry (it becomes the most recently used).

        Raises:
          KeyError: if `key` is not cached (use `set`).
        """
        with self._lock:
            if key not in self._items:
                raise KeyError(
                    f"BoundedCache: key {key!r} is not cached, so there is nothing to replace. Use "
                    f"set() to add it.")
            self._items[key] = value
            self._items.move_to_end(key)

    def pop(self, key: Any, default: Any = None) -> Any:
        """Remove `key` and return its value, or `default` if it is not cached."""
        with self._lock:
            return self._items.pop(key, default)

    def __contains__(self, key: Any) -> bool:
        with self._lock:
            return key in self._items

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def clear(self) -> None:
        """Remove every entry and reset the hit/miss counts."""
        with self._lock:
            self._items.clear()
            self._hits = self._misses = 0

    def keys(self) -> List[Any]:
        """The cached keys, least recently used first."""
        with self._lock:
            return list(self._items)

    def get_stats(self) -> Dict[str, Any]:
        """`size`, `maxsize`, `hits`, `misses` and `hit_rate` (percent of lookups that hit)."""
        with self._lock:
            lookups = self._hits + self._misses
            return {"size": len(self._items), "maxsize": self._maxsize, "hits": self._hits,
                    "misses": self._misses, "hit_rate": 100.0 * self._hits / lookups if lookups else 0.0}
