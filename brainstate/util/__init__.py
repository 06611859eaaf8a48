"""Utilities shared by every layer: filters, nested/flat dictionaries, pretty printing."""

from . import _filters as filter
from ._filters import All, Any, Everything, Not, Nothing, OfType, PathContains, WithTag, to_predicate
from ._dicts import FlattedDict, NestedDict, flat_mapping, nest_mapping
