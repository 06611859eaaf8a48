"""Mixins and modes: behaviour-only base classes, computation modes, deferred construction.

- `Mixin`, the base of behaviour-only classes; `not_implemented` / `is_not_implemented`;
- modes: `Mode`, `Training`, `Batching`, `JointMode`, combined with `JointTypes` / `OneOfTypes`;
- deferred construction: `ParamDesc.desc(...)` → `ParamDescriber`, `HashableDict`, `hashable`.

The typing names the reference module exposes (`Any`, `Optional`, `T`, ...) are re-exported.
"""

from typing import Any, Optional, Sequence, TypeVar, Union

import jax

from ..typing import ArrayLike
from ._mixin import Mixin, is_not_implemented, not_implemented
from ._modes import Batching, JointMode, Mode, Training
from ._param_desc import HashableDict, NoSubclassMeta, ParamDesc, ParamDescriber, hashable
from ._type_combinators import JointTypes, OneOfTypes, _JointGenericAlias, _OneOfGenericAlias

T = TypeVar("T")

__all__ = [
    "Mixin", "Mode", "JointMode", "Batching", "Training", "ParamDesc", "ParamDescriber", "HashableDict",
    "NoSubclassMeta", "JointTypes", "OneOfTypes", "hashable", "not_implemented", "is_not_implemented",
    "_JointGenericAlias", "_OneOfGenericAlias",
]


# Compatibility: the reference release forwards two names that moved to brainpy, with a
# DeprecationWarning (brainpy must be installed to use them).
_moved_to_brainpy = ("AlignPost", "BindCondData")


def __getattr__(name: str) -> Any:
    if name in _moved_to_brainpy:
        import importlib
        import warnings

        warnings.warn(f"brainstate.mixin.{name} is deprecated; use brainpy.mixin.{name} instead.",
                      DeprecationWarning, stacklevel=2)
        try:
            return getattr(importlib.import_module("brainpy.mixin"), name)
        except ImportError:
            raise AttributeError(f"brainstate.mixin.{name} moved to brainpy.mixin.{name}; install brainpy "
                                 f"(`pip install brainpy`) to use it.") from None
    raise AttributeError(f"module 'brainstate.mixin' has no attribute {name!r}")
