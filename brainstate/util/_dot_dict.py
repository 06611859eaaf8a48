"""`DotDict`: a dict whose string keys can also be read and written as attributes.

Meant for configuration trees (`cfg.optim.lr`). Nested dicts, including those inside lists
and tuples, become DotDicts when stored, so attribute access works at every depth.

Invariants: an attribute is a key, nothing else: reading a missing one raises
`AttributeError` (so `hasattr`, `getattr(d, k, default)`, `copy` and `pickle` behave as for
any object); a key that would shadow a dict method (`items`, `keys`, ...) can be stored with
`d['items'] = ...` but not set as an attribute. A DotDict is a JAX PyTree whose children are its
values in insertion order.
"""

import copy as _copy
from collections.abc import Mapping
from typing import Any, Dict, Iterable, List, TYPE_CHECKING, Tuple, Union

import jax

if TYPE_CHECKING:
    from _typeshed import SupportsKeysAndGetItem

__all__ = ["DotDict"]


def _to_dot(value: Any) -> Any:
    if isinstance(value, DotDict):
        return value
    if isinstance(value, dict):
        return DotDict(value)
    if type(value) in (list, tuple):
        return type(value)(_to_dot(v) for v in value)
    return value


def _to_plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _to_plain(v) for k, v in value.items()}
    if type(value) in (list, tuple):
        return type(value)(_to_plain(v) for v in value)
    return value


class DotDict(dict):
    """A dict with attribute access to its keys; nested dicts become DotDicts.

    Example:
      >>> from brainstate.util import DotDict
      >>> cfg = DotDict({'optim': {'lr': 0.1}})
      >>> cfg.optim.lr
      0.1
      >>> cfg.seed = 0
      >>> cfg['seed']
      0
    """

    __module__ = "brainstate.util"
    __slots__ = ()

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__()
        self.update(*args, **kwargs)

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(key, _to_dot(value))

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(
                f"DotDict has no key or attribute {name!r}. Present keys: {list(self)}.") from None

    def __setattr__(self, name: str, value: Any) -> None:
        if hasattr(dict, name):
            raise AttributeError(
                f"DotDict: cannot set attribute {name!r}, it would hide the dict method of that "
                f"name. Store it as an item instead: d[{name!r}] = value.")
        self[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self[name]
        except KeyError:
            raise AttributeError(
                f"DotDict has no key or attribute {name!r} to delete. Present keys: {list(self)}.") from None

    def __dir__(self) -> List[str]:
        return list(super().__dir__()) + [k for k in self if isinstance(k, str) and k.isidentifier()]

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Like `dict.update`; nested dicts are converted to DotDicts."""
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def setdefault(self, key: Any, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    def copy(self) -> "DotDict":
        """A shallow copy (nested DotDicts are shared)."""
        return DotDict(self)

    def deepcopy(self) -> "DotDict":
        """A deep copy."""
        return _copy.deepcopy(self)

    def to_dict(self) -> Dict[Any, Any]:
        """Plain dicts all the way down (inside lists and tuples too)."""
        return _to_plain(self)

    @classmethod
    def from_dict(cls, d: Mapping) -> "DotDict":
        """A DotDict of the mapping `d`."""
        return cls(d)

    def __or__(self, other: Mapping) -> "DotDict":
        out = DotDict(self)
        out.update(other)
        return out

    def __ror__(self, other: Mapping) -> "DotDict":
        out = DotDict(other)
        out.update(self)
        return out

    def __ior__(self, other: Union["SupportsKeysAndGetItem[Any, Any]", Iterable[Tuple[Any, Any]]]) -> "DotDict":
        self.update(other)
        return self

    def __repr__(self) -> str:
        return f"DotDict({dict.__repr__(self)})"

    def tree_flatten(self) -> Tuple[Tuple[Any, ...], Tuple[Any, ...]]:
        return tuple(self.values()), tuple(self.keys())

    @classmethod
    def tree_unflatten(cls, keys: Tuple[Any, ...], values: Iterable[Any]) -> "DotDict":
        out = cls.__new__(cls)
        dict.update(out, zip(keys, values))
        return out


jax.tree_util.register_pytree_with_keys(
    DotDict,
    lambda d: ([(jax.tree_util.DictKey(k), v) for k, v in d.items()], tuple(d.keys())),
    DotDict.tree_unflatten,
    lambda d: d.tree_flatten(),
)
