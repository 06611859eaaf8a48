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
        self._value = value
        self._name = name
        for k, v in kwargs.items():
            setattr(self, k, v)

    @property
    def value(self) -> Any:
        """The held value (never recorded by any transform)."""
        return self._value

    @value.setter
    def value(self, value: Any) -> None:
        self._value = value

    @property
    def name(self) -> Optional[str]:
        return self._name

    @name.setter
    def name(self, name: Optional[str]) -> None:
        self._name = name

    def __repr__(self) -> str:
        return f"FakeState(value={self.value!r}{', name=' + repr(self.name) if self.name else ''})"
