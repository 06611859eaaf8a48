"""The change counter of watched graph nodes.

Compiled functions remember the graph they were traced against (see `_watch.py`). Rather than
re-walking it on every call, they compare `epoch` with the value they saw last: it moves
whenever an attribute of a *watched* node is set or deleted (`Node.__setattr__` /
`__delattr__`). Nodes become watched when a compiled function's fingerprint walk meets them,
so building new models, or changing ones no compiled function uses, never moves it.

Counter values are unique (`itertools.count`), so a reader that saw one value notices any later
change even when two threads bump at once.
"""

import itertools
import weakref
from typing import Any

from .._state import _state

__all__ = ["epoch", "changed", "watch", "watched"]

epoch = 0
_counter = itertools.count(1)
watched: set = set()  # ids of watched nodes; a finalizer removes an id when its node dies


def changed() -> None:
    """Tell compiled functions that a watched object changed (they recheck on their next call)."""
    global epoch
    epoch = next(_counter)


def watch(obj: Any) -> None:
    """Move `epoch` whenever an attribute of `obj` is set or deleted from now on."""
    key = id(obj)
    if key not in watched:
        watched.add(key)
        weakref.finalize(obj, watched.discard, key)


# A finished state given a value eagerly is a state again for compiled code: the fingerprint
# identified it by type only (`_watch.fingerprint`), so the walk must run again.
_state.revived_hook = changed
