"""Type aliases used across BrainState's public signatures.

Nothing here has behaviour except `Missing` (a sentinel type for "argument not given"), and
`PyTree`/`Array` which can be subscripted for documentation (`PyTree[Array]`).
"""

from __future__ import annotations

import builtins
import functools
import importlib
import inspect
import typing as tp
from types import EllipsisType
from typing import (TYPE_CHECKING, Any, Callable, Generic, Hashable, List, Protocol, Sequence, Tuple, TypeVar,
                    Union, runtime_checkable)

import jax
import numpy as np

__all__ = ["Array", "ArrayLike", "Axes", "DType", "DTypeLike", "Filter", "FilterLiteral", "Key", "Missing",
           "PathParts", "Predicate", "PyTree", "SeedOrKey", "Shape", "Size", "SupportsDType", "K",
           "Ellipsis", "EllipsisType"]

K = TypeVar("K")
Ellipsis = EllipsisType


@runtime_checkable
class Key(Hashable, Protocol):
    """A graph path element: an attribute name, an index or a dict key."""

    def __lt__(self, value: Any, /) -> bool: ...


PathParts = Tuple[Key, ...]
Predicate = Callable[[PathParts, Any], bool]
FilterLiteral = Union[type, str, Predicate, bool, EllipsisType, None]
Filter = Union[FilterLiteral, Tuple["Filter", ...], List["Filter"]]


class _Subscriptable:
    """Base of documentation-only types that can be written as `Name[...]`."""

    def __class_getitem__(cls, item):
        return cls


class PyTree(_Subscriptable):
    """Any JAX PyTree (annotation only): `PyTree[Array]`."""


class Array(_Subscriptable):
    """A JAX or NumPy array (annotation only): `Array['batch features']`."""


ArrayLike = Union[jax.Array, np.ndarray, np.bool_, np.number, bool, int, float, complex]


@runtime_checkable
class SupportsDType(Protocol):
    @property
    def dtype(self) -> np.dtype: ...


DType = np.dtype
DTypeLike = Union[str, type, np.dtype, SupportsDType]
Shape = Sequence[int]
Size = Union[int, Sequence[int], np.integer, Sequence[np.integer]]
Axes = Union[int, Sequence[int]]
SeedOrKey = Union[int, jax.Array, np.ndarray]


class Missing:
    """Sentinel type: an argument that was not given.

    Every transform accepts an instance in place of the function and then returns a decorator
    (`jit(Missing(), static_argnums=1)` is `jit(static_argnums=1)`).
    """

    def __repr__(self) -> str:
        return "MISSING"


MISSING = Missing()  # the one "not given" default used across the package


def __getattr__(name: str):
    # `u` is brainunit, as in the reference release (which imports it here); loaded on first use.
    if name == "u":
        try:
            import brainunit
        except ImportError:
            raise ModuleNotFoundError(f"{__name__}.u is the optional package 'brainunit'; install it with "
                                      f"`pip install brainunit` (or `pip install brainstate[units]`).") from None
        return brainunit
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
