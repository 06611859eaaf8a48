"""Computation modes: `Mode`, `Training`, `Batching`, and `JointMode` for several at once.

A mode is a small value saying *how* a model should compute (training or not, batched or not)
that is passed to layers so they can adapt (dropout on, leading batch axis, ...). Modes compare
by type: `Batching(2) == Batching(8)`, because code asks "is this batching?" with
`mode.has(Batching)` and reads the details (`batch_size`) separately.

`is_a(T)` asks "exactly this mode"; `has(T)` asks "includes this kind of mode" (subclasses, and
any member of a `JointMode`).
"""

from typing import Any

from ._mixin import Mixin
from ._type_combinators import _CombinedTypes

__all__ = ["Mode", "JointMode", "Batching", "Training"]


def _check_type(mode: Any, where: str) -> None:
    if not isinstance(mode, (type, _CombinedTypes)):
        raise TypeError(
            f"{where} expects a mode class such as brainstate.mixin.Training, got {mode!r}. Pass the "
            f"class, not an instance.")


class Mode(Mixin):
    """Base class of computation modes.

    Example:
      >>> import brainstate
      >>> mode = brainstate.mixin.Training()
      >>> mode.is_a(brainstate.mixin.Training), mode.has(brainstate.mixin.Mode)
      (True, True)
    """

    __module__ = "brainstate.mixin"

    def __repr__(self) -> str:
        return type(self).__name__

    def __eq__(self, other: Any) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(type(self))

    def is_a(self, mode: type) -> bool:
        """True if this mode is exactly of type `mode`.

        Raises:
          TypeError: if `mode` is not a class.
        """
        _check_type(mode, f"{type(self).__name__}.is_a")
        return type(self) is mode

    def has(self, mode: type) -> bool:
        """True if this mode is an instance of `mode` (a subclass counts).

        Raises:
          TypeError: if `mode` is not a class.
        """
        _check_type(mode, f"{type(self).__name__}.has")
        return isinstance(self, mode)


class JointMode(Mode):
    """Several modes at once, e.g. training and batching.

    Attributes of the member modes are readable on the joint mode (`joint.batch_size`).

    Args:
      *modes: the member modes.

    Raises:
      TypeError: if a member is not a `Mode` instance.

    Example:
      >>> from brainstate.mixin import Batching, JointMode, JointTypes, Training
      >>> mode = JointMode(Training(), Batching(batch_size=8))
      >>> mode.has(Training), mode.batch_size, mode.is_a(JointTypes[Batching, Training])
      (True, 8, True)
    """

    __module__ = "brainstate.mixin"

    def __init__(self, *modes: Mode):
        for mode in modes:
            if not isinstance(mode, Mode):
                raise TypeError(
                    f"JointMode: every member must be a Mode instance, got {mode!r} "
                    f"({type(mode).__name__}). Pass e.g. JointMode(Training(), Batching()).")
        self.modes = tuple(modes)
        self.types = set(type(m) for m in modes)

    def __repr__(self) -> str:
        return f"JointMode({', '.join(map(repr, self.modes))})"

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, JointMode) and self.types == other.types

    def __hash__(self) -> int:
        return hash(frozenset(self.types))

    def has(self, mode: type) -> bool:
        """True if any member mode is an instance of `mode`."""
        _check_type(mode, "JointMode.has")
        return any(isinstance(m, mode) for m in self.modes)

    def is_a(self, cls: Any) -> bool:
        """True if the member types are exactly `cls`: a `JointTypes[...]`, or one mode class."""
        _check_type(cls, "JointMode.is_a")
        wanted = set(cls.__args__) if isinstance(cls, _CombinedTypes) else {cls}
        return self.types == wanted

    def __getattr__(self, item: str) -> Any:
        # Only called for names not found normally; `modes` itself may be missing while
        # unpickling, so never look it up through here.
        if item.startswith("__") or item in ("modes", "types"):
            raise AttributeError(item)
        for mode in self.__dict__.get("modes", ()):
            if hasattr(mode, item):
                return getattr(mode, item)
        raise AttributeError(f"JointMode: none of the modes {self.__dict__.get('modes', ())} has attribute {item!r}.")


class Batching(Mode):
    """Batched computation: inputs carry a batch axis.

    Args:
      batch_size: the number of samples per batch.
      batch_axis: the axis of the batch dimension.
    """

    __module__ = "brainstate.mixin"

    def __init__(self, batch_size: int = 1, batch_axis: int = 0):
        self.batch_size = batch_size
        self.batch_axis = batch_axis

    def __repr__(self) -> str:
        return f"Batching(batch_size={self.batch_size}, batch_axis={self.batch_axis})"


class Training(Mode):
    """Training computation (dropout active, batch statistics updated, ...)."""

    __module__ = "brainstate.mixin"
