"""`HiData`: an immutable, hierarchical container of named values that is a JAX PyTree.

Composed dynamics keep the state of each child under the child's attribute name; a `HiData`
holds those values (arrays, None, or nested `HiData`) in a dict `children`, readable as
`data.key` or `data['key']`. It is a PyTree: the children are leaves/subtrees (in insertion
order), the `name` is static, so it passes through `jit`, `vmap` and `jax.tree.map`. It is
immutable: `add`, `pop` and `replace` return new containers.
"""

from typing import Any, Dict, Iterator, Optional, TypeVar

import jax

__all__ = ["HiData"]

T = TypeVar("T", bound="HiData")


@jax.tree_util.register_pytree_with_keys_class
class HiData:
    """A named, nested container of values: `HiData(name='syn', g=g, x=x)`.

    Args:
      children: a dict of the values, by name.
      name: an optional (static) name.
      **kwargs: more values, by name.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> from brainstate.nn import HiData
      >>> d = HiData(name='neuron', v=jnp.zeros(3), syn=HiData(g=jnp.ones(3)))
      >>> d.syn.g.tolist(), d.state_size
      ([1.0, 1.0, 1.0], 2)
      >>> jax.tree.map(lambda x: x + 1, d).v.tolist()
      [1.0, 1.0, 1.0]
    """

    __module__ = "brainstate.nn"

    def __init__(self, children: Optional[Dict[str, Any]] = None, name: Optional[str] = None, **kwargs: Any):
        merged = dict(children) if children is not None else {}
        merged.update(kwargs)
        object.__setattr__(self, "children", merged)
        object.__setattr__(self, "name", name)

    # -- PyTree --------------------------------------------------------------------------------
    def tree_flatten_with_keys(self):
        keys = tuple(self.children)
        return [(jax.tree_util.DictKey(k), self.children[k]) for k in keys], (keys, self.name)

    @classmethod
    def tree_unflatten(cls, aux, values):
        keys, name = aux
        return cls(children=dict(zip(keys, values, strict=True)), name=name)

    # -- immutability and access ---------------------------------------------------------------
    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError(f"HiData is immutable: cannot set {key!r}. Use data.replace({key}=...) or "
                             f"data.add({key}=...), which return a new HiData.")

    def __getattr__(self, key: str) -> Any:
        try:
            return self.__dict__["children"][key]
        except KeyError:
            raise AttributeError(f"HiData {self.__dict__.get('name')!r} has no child {key!r}; its children "
                                 f"are {list(self.__dict__.get('children', ()))}.") from None

    def __getitem__(self, key: str) -> Any:
        """The child named `key` (KeyError if absent)."""
        return self.children[key]

    def __contains__(self, key: str) -> bool:
        return key in self.children

    def __len__(self) -> int:
        return len(self.children)

    def __iter__(self) -> Iterator[str]:
        return iter(self.children)

    def keys(self):
        """The children's names."""
        return self.children.keys()

    def values(self):
        """The children."""
        return self.children.values()

    def items(self):
        """`(name, child)` pairs."""
        return self.children.items()

    # -- derived containers --------------------------------------------------------------------
    def clone(self: T) -> T:
        """A new container; children with a `clone()` method (e.g. nested HiData) are cloned."""
        return type(self)(children={k: v.clone() if hasattr(v, "clone") else v for k, v in self.children.items()},
                          name=self.name)

    def add(self: T, *args: Any, **updates: Any) -> T:
        """A new container with the children of the mappings in `args`, then `updates`, added.

        Raises:
          TypeError: if an argument is not a HiData or a dict.
        """
        children = dict(self.children)
        for arg in args:
            if not isinstance(arg, (HiData, dict)):
                raise TypeError(f"HiData.add: positional arguments must be HiData or dict, got "
                                f"{type(arg).__name__} {arg!r}. Pass new children as keywords: add(x=...).")
            children.update(arg.items())
        children.update(updates)
        return type(self)(children=children, name=self.name)

    def pop(self: T, *keys: str) -> T:
        """A new container without the children named `keys` (KeyError if one is absent)."""
        children = dict(self.children)
        for key in keys:
            del children[key]
        return type(self)(children=children, name=self.name)

    def replace(self: T, **updates: Any) -> T:
        """A new container with the given children set (new names are added)."""
        return type(self)(children={**self.children, **updates}, name=self.name)

    # -- summaries and conversion --------------------------------------------------------------
    @property
    def state_size(self) -> int:
        """The number of non-None leaves-or-values, counting into nested HiData."""
        return sum(v.state_size if isinstance(v, HiData) else 1 for v in self.children.values() if v is not None)

    @property
    def dtype(self) -> Any:
        """The dtype of the first child that has one (searching nested HiData).

        Raises:
          ValueError: if no child has a dtype.
        """
        for v in self.children.values():
            if isinstance(v, HiData):
                try:
                    return v.dtype
                except ValueError:
                    continue
            if hasattr(v, "dtype"):
                return v.dtype
        raise ValueError(f"HiData {self.name!r}: no child is an array, so there is no dtype "
                         f"(children: {list(self.children)}).")

    def to_dict(self) -> Dict[str, Any]:
        """A plain nested dict (nested HiData become dicts)."""
        return {k: v.to_dict() if isinstance(v, HiData) else v for k, v in self.children.items()}

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "HiData":
        """A HiData from a nested dict (nested dicts become HiData)."""
        return cls(children={k: cls.from_dict(v) if isinstance(v, dict) else v for k, v in d.items()})

    def __repr__(self) -> str:
        if not self.children:
            return f"HiData(name={self.name!r})"
        lines = [f"  {k}={_short(v)}".replace("\n", "\n  ") for k, v in self.children.items()]
        return "HiData(\n  name=" + repr(self.name) + ",\n" + ",\n".join(lines) + "\n)"


def _short(v: Any) -> str:
    if isinstance(v, HiData):
        return repr(v)
    if hasattr(v, "shape") and hasattr(v, "dtype"):
        return f"Array(shape={tuple(v.shape)}, dtype={v.dtype})"
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."
