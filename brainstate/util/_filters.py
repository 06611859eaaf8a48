"""Filters: a tiny language for selecting states (and nodes) by kind, tag or path.

A filter is one of: a type (matches instances, and snapshots of that state type), a string (a
tag), `...` or `True` (everything), `None` or `False` (nothing), a list/tuple (any of), a
callable `(path, value) -> bool`, or one of the predicate classes below. `to_predicate` turns
any filter into a callable. The predicates are small, hashable and comparable, so filters can
be part of cache keys.
"""

import dataclasses
import typing
from typing import Callable, Tuple

__all__ = ["to_predicate", "OfType", "WithTag", "PathContains", "Any", "All", "Not", "Everything",
           "Nothing"]

_builtin_any = any
_builtin_all = all


def to_predicate(the_filter: typing.Any) -> Callable[[Tuple, typing.Any], bool]:
    """Turn any filter into a predicate `(path, value) -> bool`.

    Raises:
      TypeError: if `the_filter` is not a filter.
    """
    if isinstance(the_filter, type):
        return OfType(the_filter)
    if isinstance(the_filter, str):
        return WithTag(the_filter)
    if the_filter is Ellipsis or the_filter is True:
        return Everything()
    if the_filter is None or the_filter is False:
        return Nothing()
    if isinstance(the_filter, (list, tuple)):
        return Any(*the_filter)
    if callable(the_filter):
        return the_filter
    raise TypeError(
        f"{the_filter!r} is not a filter. Use a State type, a tag string, `...`, None, a list or "
        f"tuple of filters, a callable (path, value) -> bool, or a brainstate.util filter class.")


def _value_type(x):
    # Snapshots (TreefyState) stand for their state type.
    t = getattr(x, "type", None)
    return t if isinstance(t, type) and type(x).__name__ == "TreefyState" else type(x)


@dataclasses.dataclass(frozen=True)
class OfType:
    """Matches values that are instances of `type` (or snapshots of that state type)."""

    type: type

    def __call__(self, path, x) -> bool:
        return isinstance(x, self.type) or issubclass(_value_type(x), self.type)

    def __repr__(self):
        return f"OfType({self.type.__name__})"


@dataclasses.dataclass(frozen=True)
class WithTag:
    """Matches values whose `tag` set contains `tag`."""

    tag: str

    def __call__(self, path, x) -> bool:
        tags = getattr(x, "tag", None)
        return tags is not None and not isinstance(tags, str) and self.tag in tags or tags == self.tag


@dataclasses.dataclass(frozen=True)
class PathContains:
    """Matches values whose graph path contains `key`."""

    key: typing.Any

    def __call__(self, path, x) -> bool:
        return self.key in path


class Any:
    """Matches when any of the filters matches."""

    def __init__(self, *filters):
        self.filters = filters
        self.predicates = tuple(to_predicate(f) for f in filters)

    def __call__(self, path, x) -> bool:
        return _builtin_any(p(path, x) for p in self.predicates)

    def __repr__(self):
        return f"Any({', '.join(map(repr, self.filters))})"

    def __eq__(self, other):
        return isinstance(other, Any) and self.predicates == other.predicates

    def __hash__(self):
        return hash(("Any", self.predicates))


class All:
    """Matches when every filter matches."""

    def __init__(self, *filters):
        self.filters = filters
        self.predicates = tuple(to_predicate(f) for f in filters)

    def __call__(self, path, x) -> bool:
        return _builtin_all(p(path, x) for p in self.predicates)

    def __repr__(self):
        return f"All({', '.join(map(repr, self.filters))})"

    def __eq__(self, other):
        return isinstance(other, All) and self.predicates == other.predicates

    def __hash__(self):
        return hash(("All", self.predicates))


class Not:
    """Matches when the filter does not."""

    def __init__(self, collection_filter, /):
        self.filter = collection_filter
        self.predicate = to_predicate(collection_filter)

    def __call__(self, path, x) -> bool:
        return not self.predicate(path, x)

    def __repr__(self):
        return f"Not({self.filter!r})"

    def __eq__(self, other):
        return isinstance(other, Not) and self.predicate == other.predicate

    def __hash__(self):
        return hash(("Not", self.predicate))


def reads_path(predicate: Callable[[Tuple, typing.Any], bool]) -> bool:
    """Whether a predicate may look at the path it is given (False only when provably not).

    The predicates that judge by kind or tag, and combinations of them, never read the path, so
    a walk over a deep graph can skip building the path tuples they would be handed.

    Example:
      >>> from brainstate.util._filters import reads_path, to_predicate
      >>> reads_path(to_predicate(int)), reads_path(PathContains('a')), reads_path(lambda p, x: True)
      (False, True, True)
    """
    kind = type(predicate)
    if kind in (OfType, WithTag, Everything, Nothing):
        return False
    if isinstance(predicate, (Any, All)) and kind in (Any, All):
        return _builtin_any(reads_path(p) for p in predicate.predicates)
    if isinstance(predicate, Not) and kind is Not:
        return reads_path(predicate.predicate)
    return True


class Everything:
    """Matches everything."""

    def __call__(self, path, x) -> bool:
        return True

    def __repr__(self):
        return "Everything()"

    def __eq__(self, other):
        return isinstance(other, Everything)

    def __hash__(self):
        return hash(Everything)


class Nothing:
    """Matches nothing."""

    def __call__(self, path, x) -> bool:
        return False

    def __repr__(self):
        return "Nothing()"

    def __eq__(self, other):
        return isinstance(other, Nothing)

    def __hash__(self):
        return hash(Nothing)
