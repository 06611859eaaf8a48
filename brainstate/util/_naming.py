"""`get_unique_name`: process-wide unique default names, numbered per type.

Objects created without a name (modules, states) get `<prefix><type><n>`, where `n` counts the
names handed out for that type so far. The counters are shared by all threads (under a lock), so
two objects never get the same default name in one process.
"""

import itertools
import threading
from typing import Dict, Iterator

__all__ = ["get_unique_name"]

_counters: Dict[str, Iterator[int]] = {}
_lock = threading.Lock()


def get_unique_name(type_: str, prefix: str = "") -> str:
    """A new name `f"{prefix}{type_}{n}"`, with `n` = 0, 1, 2, ... per `type_`.

    Example:
      >>> from brainstate.util import get_unique_name
      >>> a, b = get_unique_name('DocExample'), get_unique_name('DocExample', prefix='my_')
      >>> a, b
      ('DocExample0', 'my_DocExample1')
    """
    with _lock:
        counter = _counters.setdefault(type_, itertools.count())
        return f"{prefix}{type_}{next(counter)}"
