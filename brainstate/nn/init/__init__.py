"""Initializers: callable objects `init(shape, dtype=None) -> array`, and `param`.

Random initializers draw from `brainstate.random`. Layers accept an initializer, any function of
the shape, or an array wherever an initial value is asked for; `param` turns any of these into
an array of the right shape.

Example:
  >>> import brainstate
  >>> w = brainstate.nn.init.KaimingNormal()((3, 4))
  >>> w.shape
  (3, 4)
"""

from __future__ import annotations

import math
from typing import Any, Callable, Optional, Sequence, Tuple, Union

import jax
import jax.numpy as jnp
import numpy as np

from ... import environ, random
from ..._state import State
from ...typing import ArrayLike, SeedOrKey
from ._base import (Initializer as Initializer, are_broadcastable_shapes as are_broadcastable_shapes,
                    calculate_init_gain as calculate_init_gain, param as param, to_size as to_size)
from ._random_inits import (
    DeltaOrthogonal as DeltaOrthogonal, Exponential as Exponential, Gamma as Gamma,
    KaimingNormal as KaimingNormal, KaimingUniform as KaimingUniform, LecunNormal as LecunNormal,
    LecunUniform as LecunUniform, Normal as Normal, Orthogonal as Orthogonal,
    TruncatedNormal as TruncatedNormal, Uniform as Uniform, VarianceScaling as VarianceScaling,
    XavierNormal as XavierNormal, XavierUniform as XavierUniform,
)
from ._regular_inits import Constant as Constant, Identity as Identity, ZeroInit as ZeroInit



def __getattr__(name):
    # `u` is the optional brainunit package, re-exported as in the reference API. It is imported
    # on first use only: importing it costs over a second.
    if name == "u":
        import brainunit

        return brainunit
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "Initializer", "param", "to_size", "are_broadcastable_shapes", "calculate_init_gain",
    "ZeroInit", "Constant", "Identity", "Normal", "TruncatedNormal", "Uniform", "Gamma", "Exponential",
    "VarianceScaling", "KaimingNormal", "KaimingUniform", "XavierNormal", "XavierUniform",
    "LecunNormal", "LecunUniform", "Orthogonal", "DeltaOrthogonal",
]

from ...util import PrettyAttr as PrettyAttr, PrettyRepr as PrettyRepr, PrettyType as PrettyType


def set_module_as(module: str):
    """Decorator: set the `__module__` of a function or class (how it prints and documents)."""

    def wrapper(obj):
        obj.__module__ = module
        return obj

    return wrapper
