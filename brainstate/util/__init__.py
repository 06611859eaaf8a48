"""Utilities shared by every layer.

Filters (`to_predicate`, `OfType`, ...); path-keyed dicts (`NestedDict`, `FlattedDict`);
`DictManager` and `DotDict`; immutable PyTree structures (`FrozenDict`, `dataclass`,
`PyTreeNode`, also gathered in `brainstate.util.struct`); the pretty-printing protocol
(`PrettyRepr`, `PrettyObject`, ...); and small helpers (`BoundedCache`, `flatten_dict`,
`get_unique_name`, `split_total`, `clear_buffer_memory`, `StateJaxTracer`).

This is the lowest layer after `typing`: nothing here imports the state, graph or transform
layers (`breakpoint_if` is looked up from `brainstate.transform` on first use).
"""

from . import filter
from ._filters import All, Any, Everything, Not, Nothing, OfType, PathContains, WithTag, to_predicate
from ._dicts import FlattedDict, NestedDict, flat_mapping, nest_mapping
from . import struct
from ._caching import BoundedCache
from ._device_memory import clear_buffer_memory
from ._dict_manager import DictManager
from ._dict_ops import flatten_dict, merge_dicts, unflatten_dict
from ._dot_dict import DotDict
from ._frozen_dict import FrozenDict, copy, freeze, pop, pretty_repr, unfreeze
from ._instance_checks import is_instance_eval, not_instance_eval
from ._jax_trace import StateJaxTracer
from ._naming import get_unique_name
from ._pretty import (MappingReprMixin, PrettyAttr, PrettyMapping, PrettyObject, PrettyRepr, PrettyType,
                      yield_unique_pretty_repr_items)
from ._pretty_containers import PrettyDict, PrettyList
from ._pytree_dataclass import PyTreeNode, dataclass, field, is_dataclass
from ._split_total import split_total


def __getattr__(name):
    # `breakpoint_if` lives in brainstate.transform, a higher layer that imports this package:
    # importing it here at module import time would be circular, so it is looked up on first use.
    if name == "breakpoint_if":
        import importlib

        return importlib.import_module("brainstate.transform").breakpoint_if
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), "breakpoint_if"])
