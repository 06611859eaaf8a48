"""Dataclasses that are JAX PyTrees: `dataclass`, `field(pytree_node=...)`, `PyTreeNode`.

A field is either a *child* (a PyTree node: arrays, nested structures; transformed, traced and
differentiated by JAX) or *static* (`field(pytree_node=False)`: part of the tree structure,
so it must be hashable, and a change means a new trace under `jit`).

Invariants: the classes are frozen by default (`replace` gives changed copies); flattening
lists children in field order under `GetAttrKey(name)`; unflattening does not call `__init__`
or `__post_init__`, because JAX rebuilds trees with placeholder leaves (tracers, `None`,
`object()`) that a constructor's validation would reject.
"""

import dataclasses
from typing import Any, Optional, Type, TypeVar, cast

import jax

__all__ = ["dataclass", "field", "is_dataclass", "PyTreeNode"]

T = TypeVar("T")

_MARKER = "_brainstate_dataclass"


def field(pytree_node: bool = True, **kwargs: Any) -> dataclasses.Field:
    """A `dataclasses.field` that also says whether the field is a PyTree child.

    Args:
      pytree_node: True for a child (default); False for a static field, kept in the tree
        structure (it must be hashable).
      **kwargs: passed to `dataclasses.field` (`default`, `default_factory`, `metadata`, ...).
    """
    metadata = {**(kwargs.pop("metadata", None) or {}), "pytree_node": pytree_node}
    return dataclasses.field(metadata=metadata, **kwargs)


def _register(cls: type) -> None:
    fields = dataclasses.fields(cls)
    children = tuple(f.name for f in fields if f.metadata.get("pytree_node", True))
    static = tuple(f.name for f in fields if not f.metadata.get("pytree_node", True))

    def flatten_with_keys(x):
        return [(jax.tree_util.GetAttrKey(n), getattr(x, n)) for n in children], tuple(getattr(x, n) for n in static)

    def flatten(x):
        return [getattr(x, n) for n in children], tuple(getattr(x, n) for n in static)

    def unflatten(aux, values):
        obj = object.__new__(cls)
        for name, value in zip(children + static, tuple(values) + tuple(aux)):
            object.__setattr__(obj, name, value)
        return obj

    jax.tree_util.register_pytree_with_keys(cls, flatten_with_keys, unflatten, flatten)


def _replace(self: T, **updates: Any) -> T:
    """A copy with the given fields changed (runs `__init__`, like `dataclasses.replace`)."""
    return dataclasses.replace(cast(Any, self), **updates)  # `self` is a dataclass instance by construction


def dataclass(cls: Optional[Type[T]] = None, **kwargs: Any) -> Any:
    """Make `cls` a (frozen by default) dataclass registered as a JAX PyTree.

    Args:
      cls: the class; when omitted, returns a decorator (`@dataclass(frozen=False)`).
      **kwargs: passed to `dataclasses.dataclass`; `frozen` defaults to True.

    Fields declared with `field(pytree_node=False)` are static; all others are children. The
    class gains a `replace(**updates)` method. Decorating a class twice changes nothing.

    Example:
      >>> import jax
      >>> from brainstate.util import dataclass, field
      >>> @dataclass
      ... class Params:
      ...     w: float
      ...     name: str = field(pytree_node=False, default='p')
      >>> jax.tree.leaves(Params(1.0))
      [1.0]
    """
    if cls is None:
        return lambda c: dataclass(c, **kwargs)
    if cls.__dict__.get(_MARKER, False):
        return cls
    kwargs.setdefault("frozen", True)
    cls = dataclasses.dataclass(cls, **kwargs)
    if "replace" not in cls.__dict__:
        setattr(cls, "replace", _replace)
    setattr(cls, _MARKER, True)
    _register(cls)
    return cls


def is_dataclass(cls: Any) -> bool:
    """True if `cls` (a class or an instance) was made by `brainstate.util.dataclass`."""
    return dataclasses.is_dataclass(cls) and getattr(cls, _MARKER, False) is True


class PyTreeNode:
    """Base class whose subclasses are automatically `brainstate.util.dataclass`es.

    Class keyword arguments go to `dataclasses.dataclass` (e.g. `class P(PyTreeNode,
    frozen=False)`).

    Example:
      >>> import jax, jax.numpy as jnp
      >>> from brainstate.util import PyTreeNode, field
      >>> class Linear(PyTreeNode):
      ...     w: jax.Array
      ...     act: str = field(pytree_node=False, default='relu')
      >>> layer = Linear(jnp.ones(2))
      >>> layer.replace(act='tanh').act
      'tanh'
    """

    __module__ = "brainstate.util"

    def __init_subclass__(cls, **kwargs: Any):
        dataclass_kwargs = {k: kwargs.pop(k) for k in list(kwargs)
                            if k in ("init", "repr", "eq", "order", "unsafe_hash", "frozen", "kw_only",
                                     "match_args")}
        super().__init_subclass__(**kwargs)
        dataclass(cls, **dataclass_kwargs)

    def replace(self: T, **updates: Any) -> T:
        """A copy with the given fields changed."""
        return dataclasses.replace(cast(Any, self), **updates)  # `self` is a dataclass instance by construction
