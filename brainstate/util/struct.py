"""Immutable, PyTree-registered structures: PyTree dataclasses and `FrozenDict`.

`brainstate.util.struct` gathers the names that define such structures; they are also
available directly from `brainstate.util`.
"""

from ._frozen_dict import FrozenDict as FrozenDict
from ._frozen_dict import copy as copy
from ._frozen_dict import freeze as freeze
from ._frozen_dict import pop as pop
from ._frozen_dict import pretty_repr as pretty_repr
from ._frozen_dict import unfreeze as unfreeze
from ._pytree_dataclass import PyTreeNode as PyTreeNode
from ._pytree_dataclass import dataclass as dataclass
from ._pytree_dataclass import field as field
from ._pytree_dataclass import is_dataclass as is_dataclass

__all__ = ["field", "is_dataclass", "dataclass", "PyTreeNode", "FrozenDict", "freeze", "unfreeze", "copy",
           "pop", "pretty_repr"]
