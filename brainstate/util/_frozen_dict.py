"""`FrozenDict`: an immutable, hashable mapping that is a JAX PyTree.

Configuration and static structure often travel through JAX as mappings that must not change
and may need to be hashed (a `jit` static argument, a cache key). A `FrozenDict` is such a
mapping; `freeze`/`unfreeze` convert to and from plain dicts, and `copy`/`pop` give the
"changed copy" operations on either kind.

Invariants: nested dicts are frozen on construction, so a FrozenDict never holds a mutable
dict; its children as a PyTree come in sorted key order (`key_order`), so equal FrozenDicts
have equal tree structures whatever order their keys were given in.
"""

from collections.abc import Mapping
from typing import Any, Dict, Iterator, Optional, Tuple, TypeVar, Union

import jax

from ._dicts import key_order

__all__ = ["FrozenDict", "freeze", "unfreeze", "copy", "pop", "pretty_repr"]

K = TypeVar("K")
V = TypeVar("V")


def _freeze_value(value: Any) -> Any:
    return FrozenDict(value) if isinstance(value, dict) else value


class FrozenDict(Mapping):
    """An immutable mapping; nested dicts become FrozenDicts too.

    Takes the same arguments as `dict`. Hashable when its values are.

    Example:
      >>> from brainstate.util import FrozenDict
      >>> d = FrozenDict({'lr': 0.1, 'sizes': {'in': 2}})
      >>> d['sizes']['in']
      2
      >>> d.copy({'lr': 0.2})['lr']
      0.2
    """

    __module__ = "brainstate.util"
    __slots__ = ("_data", "_hash")
    _data: Dict[Any, Any]
    _hash: Optional[int]

    def __init__(self, *args: Any, **kwargs: Any):
        object.__setattr__(self, "_data", {k: _freeze_value(v) for k, v in dict(*args, **kwargs).items()})
        object.__setattr__(self, "_hash", None)

    def __getitem__(self, key: Any) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __setitem__(self, key: Any, value: Any) -> None:
        raise TypeError(
            f"FrozenDict is immutable, so key {key!r} cannot be set. Use `d.copy({{{key!r}: value}})` "
            f"for a changed copy, or `unfreeze(d)` for a mutable dict.")

    def __delitem__(self, key: Any) -> None:
        raise TypeError(
            f"FrozenDict is immutable, so key {key!r} cannot be deleted. Use `d.pop({key!r})` for a "
            f"copy without it, or `unfreeze(d)` for a mutable dict.")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"FrozenDict is immutable; attribute {name!r} cannot be set.")

    def __hash__(self) -> int:
        value = self._hash
        if value is None:
            try:
                value = hash(frozenset(self._data.items()))
            except TypeError as e:
                raise TypeError(
                    f"FrozenDict cannot be hashed because one of its values is not hashable ({e}). "
                    f"Only FrozenDicts of hashable values (numbers, strings, tuples, ...) can be "
                    f"static arguments or cache keys.") from None
            object.__setattr__(self, "_hash", value)
        return value

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrozenDict):
            return self._data == other._data
        if isinstance(other, Mapping):
            return self._data == dict(other.items())
        return NotImplemented

    def __reduce__(self):
        return FrozenDict, (self.unfreeze(),)

    def __repr__(self) -> str:
        return pretty_repr(self)

    def copy(self, add_or_replace: Optional[Mapping] = None) -> "FrozenDict":
        """A new FrozenDict with the entries of `add_or_replace` added or replacing old ones."""
        return FrozenDict({**self._data, **(add_or_replace or {})})

    def pop(self, key: Any) -> Tuple["FrozenDict", Any]:
        """`(copy without key, its value)`.

        Raises:
          KeyError: if `key` is not present.
        """
        if key not in self._data:
            raise KeyError(f"FrozenDict.pop: no key {key!r}; present keys: {list(self._data)}.")
        rest = dict(self._data)
        value = rest.pop(key)
        return FrozenDict(rest), value

    def unfreeze(self) -> Dict[Any, Any]:
        """A plain, mutable dict (nested FrozenDicts become dicts too)."""
        return unfreeze(self)

    def pretty_repr(self, indent: int = 2) -> str:
        """The multi-line representation (see `pretty_repr`)."""
        return pretty_repr(self, indent)

    def tree_flatten_with_keys(self) -> Tuple[list, Tuple[Any, ...]]:
        """`([(DictKey(k), value), ...], keys)` in sorted key order: the PyTree flattening.

        Example:
          >>> from brainstate.util import FrozenDict
          >>> children, keys = FrozenDict(b=2, a=1).tree_flatten_with_keys()
          >>> keys, [v for _, v in children]
          (('a', 'b'), [1, 2])
          >>> dict(FrozenDict.tree_unflatten(keys, [10, 20]))
          {'a': 10, 'b': 20}
        """
        return _flatten_with_keys(self)

    @classmethod
    def tree_unflatten(cls, keys: Tuple[Any, ...], values: list) -> "FrozenDict":
        """Rebuild from the keys and the (possibly transformed) children of a flattening.

        Raises:
          ValueError: if `keys` and `values` differ in length.
        """
        values = list(values)
        if len(keys) != len(values):
            raise ValueError(f"FrozenDict.tree_unflatten: {len(keys)} keys but {len(values)} values; give "
                             f"one value per key, as `tree_flatten_with_keys` returned them.")
        return _unflatten(tuple(keys), values)


def _flatten_with_keys(d: FrozenDict):
    keys = tuple(sorted(d._data, key=key_order))
    return [(jax.tree_util.DictKey(k), d._data[k]) for k in keys], keys


def _unflatten(keys, children) -> FrozenDict:
    # Children may be anything JAX puts in a tree (tracers, None, object()), so no re-freezing.
    out = object.__new__(FrozenDict)
    object.__setattr__(out, "_data", dict(zip(keys, children)))
    object.__setattr__(out, "_hash", None)
    return out


def _flatten(d: FrozenDict):
    keys = tuple(sorted(d._data, key=key_order))
    return [d._data[k] for k in keys], keys


jax.tree_util.register_pytree_with_keys(FrozenDict, _flatten_with_keys, _unflatten, _flatten)


def freeze(x: Mapping) -> FrozenDict:
    """`x` as a FrozenDict (nested dicts frozen too)."""
    return FrozenDict(x)


def unfreeze(x: Union[FrozenDict, Dict]) -> Dict:
    """A plain dict with every nested FrozenDict or dict turned into a new plain dict.

    Non-mapping values are shared, not copied.
    """
    if isinstance(x, (FrozenDict, dict)):
        return {k: unfreeze(v) for k, v in x.items()}
    return x


def _check_dict(x: Any, where: str) -> None:
    if not isinstance(x, (FrozenDict, dict)):
        raise TypeError(
            f"{where}: expected a FrozenDict or dict, got {type(x).__name__}. Convert it with "
            f"`dict(x)` or `freeze(x)` first.")


def copy(x: Union[FrozenDict, Dict], add_or_replace: Optional[Mapping] = None) -> Union[FrozenDict, Dict]:
    """A copy of `x` (same kind) with the entries of `add_or_replace` added or replaced.

    Raises:
      TypeError: if `x` is neither a FrozenDict nor a dict.

    Example:
      >>> from brainstate.util import copy
      >>> copy({'a': 1}, {'b': 2})
      {'a': 1, 'b': 2}
    """
    _check_dict(x, "copy")
    if isinstance(x, FrozenDict):
        return x.copy(add_or_replace)
    return {**x, **(add_or_replace or {})}


def pop(x: Union[FrozenDict, Dict], key: Any) -> Tuple[Union[FrozenDict, Dict], Any]:
    """`(copy of x without key, the value)`, the copy of the same kind as `x`; `x` is unchanged.

    Raises:
      TypeError: if `x` is neither a FrozenDict nor a dict.
      KeyError: if `key` is not present.
    """
    _check_dict(x, "pop")
    if isinstance(x, FrozenDict):
        return x.pop(key)
    if key not in x:
        raise KeyError(f"pop: no key {key!r}; present keys: {list(x)}.")
    rest = dict(x)
    value = rest.pop(key)
    return rest, value


def pretty_repr(x: Any, indent: int = 2) -> str:
    """A multi-line string for nested mappings, one entry per line; `repr` for anything else.

    Mappings print as `{key: value}` (a top-level FrozenDict as `FrozenDict({...})`), each level
    indented by `indent` more spaces. A dict that contains itself prints as `{...}` there.

    Example:
      >>> from brainstate.util import pretty_repr
      >>> print(pretty_repr({'a': {'b': 1}}))
      {
        'a': {
          'b': 1
        }
      }
    """
    pad = " " * indent

    def visit(value, active):
        if not isinstance(value, Mapping):
            return repr(value)
        if id(value) in active:
            return "{...}"
        if not value:
            return "{}"
        active = active | {id(value)}
        lines = [f"{pad}{k!r}: {visit(v, active)}".replace("\n", "\n" + pad) for k, v in value.items()]
        return "{\n" + ",\n".join(lines) + "\n}"

    text = visit(x, frozenset())
    return f"FrozenDict({text})" if isinstance(x, FrozenDict) else text
