"""Pretty printing: objects describe themselves as a header plus attributes, one per line.

The protocol is two small records. An object's `__pretty_repr__` yields one `PrettyType` (the
header: a name plus opening/closing brackets) followed by any number of `PrettyAttr` (one
`key=value` line each). `pretty_repr_object` lays them out::

    Name(
      key=value,
      other=Nested(
        x=1
      )
    )

`PrettyRepr` is the base class whose `__repr__` does this; `PrettyObject` fills the
attributes from `vars(self)`; `PrettyDict` / `PrettyList` / `PrettyMapping` print containers
the same way.

Invariant: printing never loops. An object whose repr is already being built further up the
same thread prints as `Name(...)`, so cycles (a child pointing back at its parent) are safe.
"""

import abc
import dataclasses
import threading
from collections.abc import Mapping
from typing import Any, Callable, Iterator, Optional, Tuple, Union


__all__ = ["PrettyType", "PrettyAttr", "PrettyRepr", "PrettyObject",
           "PrettyMapping", "MappingReprMixin", "pretty_repr_object", "yield_unique_pretty_repr_items"]

PrettyItem = Union["PrettyType", "PrettyAttr"]

# Per thread: ids of the objects whose repr is being built (by `pretty_repr_object`) and whose
# items are being generated (by `yield_unique_pretty_repr_items`). Two sets, because the second
# usually runs *inside* the first for the same object.
_local = threading.local()


def _active(kind: str) -> set:
    ids = getattr(_local, kind, None)
    if ids is None:
        ids = set()
        setattr(_local, kind, ids)
    return ids


@dataclasses.dataclass
class PrettyType:
    """The header of a pretty representation.

    Attributes:
      type: the name to print, or a class (its `__name__` is printed).
      start: the opening bracket.
      end: the closing bracket.
      value_sep: what goes between an attribute's key and its value.
      elem_indent: the indentation of each attribute line.
      empty_repr: what goes between the brackets when there are no attributes.
    """

    type: Union[str, type]
    start: str = "("
    end: str = ")"
    value_sep: str = "="
    elem_indent: str = "  "
    empty_repr: str = ""

    @property
    def name(self) -> str:
        return self.type if isinstance(self.type, str) else self.type.__name__


@dataclasses.dataclass
class PrettyAttr:
    """One attribute line: `key`, then the header's `value_sep`, then `value`.

    A `str` value is printed as it is (it is taken to be a repr already); anything else is
    printed with `repr`.
    """

    key: str
    value: Union[str, Any]
    start: str = ""
    end: str = ""


def _text(value: Any) -> str:
    return value if isinstance(value, str) else repr(value)


def pretty_repr_object(obj: Any) -> str:
    """Lay out the items `obj.__pretty_repr__()` yields as a multi-line string.

    Raises:
      TypeError: if the first item is not a `PrettyType`, or a later one is not a `PrettyAttr`.
    """
    items = obj.__pretty_repr__()
    try:
        header = next(iter(items), None)
        if not isinstance(header, PrettyType):
            raise TypeError(
                f"{type(obj).__name__}.__pretty_repr__ must yield a PrettyType first, got "
                f"{type(header).__name__}. Yield PrettyType(type=...) before the PrettyAttr items.")
        active = _active("printing")
        if id(obj) in active:
            return f"{header.name}{header.start}...{header.end}"
        active.add(id(obj))
        try:
            lines = []
            for attr in items:
                if not isinstance(attr, PrettyAttr):
                    raise TypeError(
                        f"{type(obj).__name__}.__pretty_repr__ yielded a {type(attr).__name__} after "
                        f"the header; only PrettyAttr items may follow the PrettyType.")
                value = _text(attr.value).replace("\n", "\n" + header.elem_indent)
                lines.append(f"{header.elem_indent}{attr.start}{attr.key}{header.value_sep}{value}{attr.end}")
        finally:
            active.discard(id(obj))
    finally:
        close = getattr(items, "close", None)
        if close is not None:
            close()
    if not lines:
        return f"{header.name}{header.start}{header.empty_repr}{header.end}"
    return f"{header.name}{header.start}\n" + ",\n".join(lines) + f"\n{header.end}"


class PrettyRepr(abc.ABC):
    """Base class of objects printed through `__pretty_repr__`.

    Example:
      >>> from brainstate.util import PrettyAttr, PrettyRepr, PrettyType
      >>> class Point(PrettyRepr):
      ...     def __pretty_repr__(self):
      ...         yield PrettyType("Point")
      ...         yield PrettyAttr("x", 1)
      >>> Point()
      Point(
        x=1
      )
    """

    __module__ = "brainstate.util"
    __slots__ = ()

    @abc.abstractmethod
    def __pretty_repr__(self) -> Iterator[PrettyItem]:
        """Yield one `PrettyType`, then a `PrettyAttr` per attribute to show."""

    def __repr__(self) -> str:
        return pretty_repr_object(self)


def _default_repr_object(node: Any) -> Iterator[PrettyItem]:
    yield PrettyType(type(node))


def _default_repr_attr(node: Any) -> Iterator[PrettyItem]:
    for key, value in vars(node).items():
        yield PrettyAttr(key, repr(value))


def yield_unique_pretty_repr_items(node: Any, repr_object: Optional[Callable] = None,
                                   repr_attr: Optional[Callable] = None) -> Iterator[PrettyItem]:
    """The pretty items of `node`: its header, then its attributes; cycles are cut.

    Args:
      node: the object to describe.
      repr_object: `node -> iterator` yielding the header (default: `PrettyType(type(node))`).
      repr_attr: `node -> iterator` yielding the attributes (default: one `PrettyAttr` per
        entry of `vars(node)`, with the value's `repr`).

    If `node` is already being described further up on this thread (a cycle), only the header
    is yielded, with `...` as its empty representation.

    Example:
      >>> from brainstate.util import yield_unique_pretty_repr_items
      >>> class Link:
      ...     def __init__(self):
      ...         self.to = None
      >>> header, *attrs = yield_unique_pretty_repr_items(Link())
      >>> header.name, [(a.key, a.value) for a in attrs]
      ('Link', [('to', 'None')])
    """
    repr_object = _default_repr_object if repr_object is None else repr_object
    repr_attr = _default_repr_attr if repr_attr is None else repr_attr
    active = _active("yielding")
    if id(node) in active:
        for item in repr_object(node):
            yield dataclasses.replace(item, empty_repr="...") if isinstance(item, PrettyType) else item
            return
        return
    active.add(id(node))
    try:
        yield from repr_object(node)
        yield from repr_attr(node)
    finally:
        active.discard(id(node))


class PrettyObject(PrettyRepr):
    """A `PrettyRepr` that shows every instance attribute (`vars(self)`).

    Override `__pretty_repr_item__(key, value)` to rename or hide attributes: return a new
    `(key, value)` pair, or None to leave the attribute out.

    Example:
      >>> from brainstate.util import PrettyObject
      >>> class Cell(PrettyObject):
      ...     def __init__(self):
      ...         self.size = 3
      ...         self.parent = self
      >>> Cell()
      Cell(
        size=3,
        parent=Cell(...)
      )
    """

    __module__ = "brainstate.util"

    def __pretty_repr_item__(self, key: Any, value: Any) -> Optional[Tuple[Any, Any]]:
        """The `(key, value)` to show for an attribute, or None to hide it."""
        return key, value

    def __pretty_repr__(self) -> Iterator[PrettyItem]:
        def attrs(node):
            for key, value in vars(node).items():
                item = node.__pretty_repr_item__(key, value)
                if item is not None:
                    yield PrettyAttr(str(item[0]), repr(item[1]))

        return yield_unique_pretty_repr_items(self, repr_attr=attrs)


class MappingReprMixin(Mapping):
    """Gives a `Mapping` a `__pretty_repr__` that prints it as `{key: value, ...}`.

    It does not change `__repr__`: combine it with `PrettyRepr` (before it in the bases) for
    that, as `PrettyDict` does.
    """

    __module__ = "brainstate.util"

    def __pretty_repr__(self) -> Iterator[PrettyItem]:
        yield PrettyType("", start="{", end="}", value_sep=": ")
        for key, value in self.items():
            yield PrettyAttr(repr(key), repr(value))


@dataclasses.dataclass(repr=False)
class PrettyMapping(PrettyRepr):
    """Prints any mapping as `type_name{key: value, ...}`, one entry per line.

    Example:
      >>> from brainstate.util import PrettyMapping
      >>> PrettyMapping({'a': 1}, type_name='Config')
      Config{
        'a': 1
      }
    """

    __module__ = "brainstate.util"

    mapping: Mapping
    type_name: str = ""

    def __pretty_repr__(self) -> Iterator[PrettyItem]:
        yield PrettyType(self.type_name, start="{", end="}", value_sep=": ")
        for key, value in self.mapping.items():
            yield PrettyAttr(repr(key), repr(value))

