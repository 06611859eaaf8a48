"""`Mixin`: the marker base class of behaviour-only extensions, and not-implemented markers.

A mixin adds methods to the classes that inherit it and holds no state of its own, so it defines
no `__init__` and can be combined freely with other bases. `not_implemented` marks a method
that subclasses are expected to provide, in a way code can check (`is_not_implemented`) before
calling it.
"""

import functools
from typing import Any, Callable

__all__ = ["Mixin", "not_implemented", "is_not_implemented"]


class Mixin:
    """Base class of mixins: classes that only add behaviour (methods), never `__init__` state.

    Example:
      >>> import brainstate
      >>> class Describe(brainstate.mixin.Mixin):
      ...     def describe(self):
      ...         return type(self).__name__
      >>> class Model(Describe):
      ...     pass
      >>> Model().describe()
      'Model'
    """

    __module__ = "brainstate.mixin"


def not_implemented(func: Callable) -> Callable:
    """Mark `func` as a method subclasses must provide; calling it raises `NotImplementedError`.

    The wrapper carries `not_implemented = True`, which `is_not_implemented` reads.

    Example:
      >>> import brainstate
      >>> class Base:
      ...     @brainstate.mixin.not_implemented
      ...     def update(self, x):
      ...         pass
      >>> brainstate.mixin.is_not_implemented(Base.update)
      True
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any):
        raise NotImplementedError(
            f"{func.__qualname__} is not implemented. Override it in a subclass before calling it.")

    setattr(wrapper, "not_implemented", True)  # a function attribute, which mypy cannot declare
    return wrapper


def is_not_implemented(fn: Any) -> bool:
    """True if `fn` was marked with `not_implemented` (and not overridden)."""
    return getattr(fn, "not_implemented", False) is True
