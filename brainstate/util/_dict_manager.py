"""`DictManager`: a dict of named items that can be filtered and split by type or predicate.

Collections of named objects (states, modules, ...) are constantly sliced by kind: "the
ParamStates", "everything but the hidden states". `DictManager` is a plain `dict` with those
slicing operations, each returning a new manager of the same class, plus set-like operations
by key or by value. Values compare *by identity* by default (`by='id'`), because the items are
usually mutable objects where "the same object" is what matters.

Subclasses restrict what they hold by overriding `_check_elem`, which sees every value put in
through the constructor, `[]=`, `update`, `setdefault` and the operators. Every subclass is a
JAX PyTree whose children are the values in insertion order (the keys are static).
"""

from collections.abc import Iterable, Mapping
from typing import Any, Callable, Dict, TYPE_CHECKING, Tuple, Type, Union

import jax

if TYPE_CHECKING:
    from _typeshed import SupportsKeysAndGetItem

__all__ = ["DictManager"]

TypeSpec = Union[type, Tuple[type, ...]]


def _value_predicate(sep: Any, where: str) -> Callable[[Any], bool]:
    if isinstance(sep, type) or (isinstance(sep, tuple) and all(isinstance(t, type) for t in sep)):
        return lambda v: isinstance(v, sep)
    if callable(sep):
        return sep
    raise TypeError(
        f"{where}: expected a type, a tuple of types or a predicate `value -> bool`, got "
        f"{sep!r}. Pass e.g. brainstate.ParamState or (int, float).")


def _contains(values: list, value: Any, by: str, where: str) -> bool:
    if by == "id":
        return any(value is v for v in values)
    if by == "value":
        return any(value is v or bool(value == v) for v in values)
    raise ValueError(
        f"{where}: by={by!r} is not a comparison; use by='id' (the same object) or by='value' "
        f"(equal by `==`).")


class DictManager(dict):
    """A `dict` of named items with filtering and splitting by type or predicate.

    Example:
      >>> from brainstate.util import DictManager
      >>> d = DictManager(a=1, b=2.0, c='x')
      >>> d.subset(int)
      DictManager({'a': 1})
      >>> numbers, rest = d.split((int, float))
      >>> list(numbers), list(rest)
      (['a', 'b'], ['c'])
    """

    __module__ = "brainstate.util"

    def __init_subclass__(cls, **kwargs: Any):
        super().__init_subclass__(**kwargs)
        _register(cls)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__()
        self.update(*args, **kwargs)

    def _check_elem(self, elem: Any) -> None:
        """Validate a value before it is stored; subclasses raise here. Accepts anything."""

    def __setitem__(self, key: Any, value: Any) -> None:
        self._check_elem(value)
        super().__setitem__(key, value)

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def setdefault(self, key: Any, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    def _new(self, items: Iterable[Tuple[Any, Any]]) -> "DictManager":
        return type(self)(items)

    # Selecting by type or predicate.

    def subset(self, sep: Union[TypeSpec, Callable[[Any], bool]]) -> "DictManager":
        """The items whose value is an instance of `sep` (a type or tuple of types), or for which
        `sep(value)` is true.

        Raises:
          TypeError: if `sep` is neither a type, a tuple of types nor a callable.
        """
        keep = _value_predicate(sep, f"{type(self).__name__}.subset")
        return self._new((k, v) for k, v in self.items() if keep(v))

    def not_subset(self, sep: Union[TypeSpec, Callable[[Any], bool]]) -> "DictManager":
        """The items `subset(sep)` leaves out."""
        keep = _value_predicate(sep, f"{type(self).__name__}.not_subset")
        return self._new((k, v) for k, v in self.items() if not keep(v))

    def filter_by_predicate(self, predicate: Callable[[Any, Any], bool]) -> "DictManager":
        """The items for which `predicate(key, value)` is true."""
        return self._new((k, v) for k, v in self.items() if predicate(k, v))

    def split(self, *types: TypeSpec) -> Tuple["DictManager", ...]:
        """One manager per type (first matching type wins), plus one for the rest.

        Raises:
          TypeError: if an argument is not a type or a tuple of types.
        """
        where = f"{type(self).__name__}.split"
        for t in types:
            if callable(t) and not isinstance(t, (type, tuple)):
                raise TypeError(f"{where}: expected types, got the callable {t!r}. Use "
                                f"filter_by_predicate or subset to select with a predicate.")
        predicates = [_value_predicate(t, where) for t in types]
        groups: list = [[] for _ in range(len(types) + 1)]
        for k, v in self.items():
            i = next((i for i, p in enumerate(predicates) if p(v)), len(types))
            groups[i].append((k, v))
        return tuple(self._new(g) for g in groups)

    # Uniqueness (by identity).

    def add_unique_key(self, key: Any, val: Any) -> None:
        """Add `key: val`; the key may already be present only with this very object.

        Raises:
          ValueError: if `key` already holds a different object.
        """
        if key in self and self[key] is not val:
            raise ValueError(
                f"{type(self).__name__}.add_unique_key: key {key!r} already holds a different object "
                f"({self[key]!r}), so {val!r} cannot be added under it. Use another key, or assign "
                f"with `d[key] = val` to replace it.")
        self[key] = val

    def add_unique_value(self, key: Any, val: Any) -> bool:
        """Add `key: val` unless the object `val` is already held; True if it was added."""
        if any(v is val for v in self.values()):
            return False
        self[key] = val
        return True

    def unique(self) -> "DictManager":
        """The items whose value was not held under an earlier key (by identity)."""
        seen: set = set()
        out = []
        for k, v in self.items():
            if id(v) not in seen:
                seen.add(id(v))
                out.append((k, v))
        return self._new(out)

    def unique_(self) -> "DictManager":
        """Like `unique`, but in place; returns `self`."""
        kept = self.unique()
        dict.clear(self)
        dict.update(self, kept)
        return self

    # Set-like operations by key or value.

    def assign(self, *args: Mapping, **kwargs: Any) -> None:
        """Add the items of every mapping in `args`, then `kwargs`; later entries win."""
        for mapping in args:
            self.update(mapping)
        self.update(kwargs)

    def pop_by_keys(self, keys: Iterable[Any]) -> None:
        """Remove the given keys; absent keys are ignored."""
        for key in list(keys):
            self.pop(key, None)

    def pop_by_values(self, values: Iterable[Any], by: str = "id") -> None:
        """Remove the items whose value is among `values` (`by='id'` or `'value'`)."""
        drop = self.intersection_by_values(values, by=by)
        for key in drop:
            del self[key]

    def difference_by_keys(self, keys: Iterable[Any]) -> "DictManager":
        """The items whose key is not in `keys`."""
        keys = set(keys)
        return self._new((k, v) for k, v in self.items() if k not in keys)

    def intersection_by_keys(self, keys: Iterable[Any]) -> "DictManager":
        """The items whose key is in `keys`."""
        keys = set(keys)
        return self._new((k, v) for k, v in self.items() if k in keys)

    def difference_by_values(self, values: Iterable[Any], by: str = "id") -> "DictManager":
        """The items whose value is not among `values`.

        Args:
          values: the values to leave out.
          by: `'id'` (the same object) or `'value'` (equal by `==`).

        Raises:
          ValueError: if `by` is neither.
        """
        values = list(values)
        where = f"{type(self).__name__}.difference_by_values"
        return self._new((k, v) for k, v in self.items() if not _contains(values, v, by, where))

    def intersection_by_values(self, values: Iterable[Any], by: str = "id") -> "DictManager":
        """The items whose value is among `values` (`by='id'` or `'value'`, as in
        `difference_by_values`)."""
        values = list(values)
        where = f"{type(self).__name__}.intersection_by_values"
        return self._new((k, v) for k, v in self.items() if _contains(values, v, by, where))

    # Mapping.

    def map_values(self, func: Callable[[Any], Any]) -> "DictManager":
        """A plain `DictManager` with `func(value)` under each key (the results may be of any
        type, so a restricting subclass is not kept)."""
        return DictManager((k, func(v)) for k, v in self.items())

    def map_keys(self, func: Callable[[Any], Any]) -> "DictManager":
        """The same values under `func(key)`."""
        return self._new((func(k), v) for k, v in self.items())

    def __add__(self, other: Mapping) -> "DictManager":
        return self._new([*self.items(), *other.items()])

    def __or__(self, other: Mapping) -> "DictManager":
        return self.__add__(other)

    def __ior__(self, other: Union["SupportsKeysAndGetItem[Any, Any]", Iterable[Tuple[Any, Any]]]) -> "DictManager":
        self.update(other)
        return self

    def to_dict(self) -> Dict[Any, Any]:
        """A plain `dict` with the same items."""
        return dict(self)

    def __copy__(self) -> "DictManager":
        return self._new(self.items())

    def copy(self) -> "DictManager":
        """A shallow copy of the same class."""
        return self.__copy__()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({dict.__repr__(self)})"

    def tree_flatten(self) -> Tuple[Tuple[Any, ...], Tuple[Any, ...]]:
        return tuple(self.values()), tuple(self.keys())

    @classmethod
    def tree_unflatten(cls, keys: Tuple[Any, ...], values: Iterable[Any]) -> "DictManager":
        # Leaves may be tracers or placeholders, which `_check_elem` must not see.
        out = cls.__new__(cls)
        dict.update(out, zip(keys, values))
        return out


def _register(cls: Type["DictManager"]) -> None:
    jax.tree_util.register_pytree_with_keys(
        cls,
        lambda d: ([(jax.tree_util.DictKey(k), v) for k, v in d.items()], tuple(d.keys())),
        cls.tree_unflatten,
        lambda d: d.tree_flatten(),
    )


_register(DictManager)
