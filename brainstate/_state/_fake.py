"""`FakeState`: something with a `.value` that transforms do not track.

Useful where code expects a state-like object but the value must stay a plain Python-side
constant (it is closed over by traces, never threaded).
"""

from typing import Any, Optional

__all__ = ["FakeState"]


class FakeState:
    """A plain holder with `.value` and `.name`; invisible to state-aware transforms."""

    __module__ = "brainstate"

    def __init__(self, value: Any, name: Optional[str] = None, **kwargs):
        self.value = value
        self.name = name
        for k, v in kwargs.items():
            setattr(self, k, v)

    def __repr__(self) -> str:
        return f"FakeState(value={self.value!r}{', name=' + repr(self.name) if self.name else ''})"
