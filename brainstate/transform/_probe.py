"""The new-state probe flag: is the caller running inside a throw-away discovery pass?

Transforms that create states per batch element (`vmap_new_states` and friends) may run the
function once extra, only to see which states it creates; that pass's states are discarded.
Code with a one-shot side effect bound to freshly created states (caching something keyed on
them, say) can ask `in_new_state_probe()` and skip the work during that pass. The flag is a
per-thread depth counter so probes can nest.
"""

import contextlib
import threading

__all__ = ["in_new_state_probe", "new_state_probe"]

_local = threading.local()


def in_new_state_probe() -> bool:
    """True while the calling code runs inside a new-state discovery probe, else False.

    Example:
      >>> import brainstate
      >>> brainstate.transform.in_new_state_probe()
      False
    """
    return getattr(_local, "depth", 0) > 0


@contextlib.contextmanager
def new_state_probe():
    """Mark the enclosed code as a discovery probe (used by the `*_new_states` transforms)."""
    _local.depth = getattr(_local, "depth", 0) + 1
    try:
        yield
    finally:
        _local.depth -= 1
