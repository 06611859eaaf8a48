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
