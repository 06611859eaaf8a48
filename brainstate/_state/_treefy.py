"""`TreefyState`: an immutable PyTree snapshot of a state.

The state's kind and metadata are static (part of the tree definition); its value is the only
child. `graph.treefy_split` returns these, and `.to_state()` turns one back into a live state
without running the state's constructor (so kinds with custom constructors round-trip).
"""

from typing import Any

import jax

from ._signature import describe, signature

__all__ = ["TreefyState"]


@jax.tree_util.register_pytree_node_class
class TreefyState:
    """A snapshot of a `State`: its type, value and metadata.

    Args:
      type: the State subclass.
      value: the value (any PyTree).
      **metadata: the state's metadata (name, tag, ...).
    """

    __module__ = "brainstate"
    __slots__ = ("type", "value", "_metadata", "_source")

    def __init__(self, type: type, value: Any, **metadata: Any):
        object.__setattr__(self, "type", type)
        object.__setattr__(self, "value", value)
        object.__setattr__(self, "_source", metadata.pop("_source", "<snapshot>"))
        object.__setattr__(self, "_metadata", metadata)

    @classmethod
    def from_state(cls, state) -> "TreefyState":
        meta = state.metadata()
        if "tag" in meta:  # frozen so the snapshot's tree definition stays hashable
            meta["tag"] = frozenset(meta["tag"])
        return cls(type(state), state._value, _source=state._source, **meta)

    def __setattr__(self, key, value):
        raise AttributeError("TreefyState is immutable; use `.replace(value)` to get a new one.")

    def __reduce__(self):
        """Copy and pickle through the constructor (the object is immutable)."""
        return _rebuild, (self.type, self.value, self._source, self._metadata)

    def __getattr__(self, key):
        if key.startswith("__") or key in TreefyState.__slots__:
            raise AttributeError(key)  # not set yet (copy and pickle build the object empty)
        try:
            return self._metadata[key]
        except KeyError:
            raise AttributeError(f"TreefyState of {self.type.__name__} has no attribute {key!r}") from None

    @property
    def name(self):
        return self._metadata.get("name")

    def get_metadata(self) -> dict:
        return dict(self._metadata)

    def replace(self, value: Any) -> "TreefyState":
        return TreefyState(self.type, value, _source=self._source, **self._metadata)

    def copy(self) -> "TreefyState":
        return self.replace(self.value)

    def to_state(self):
        """A new live state of `self.type` holding this value and metadata."""
        state = object.__new__(self.type)
        meta = dict(self._metadata)
        name = meta.pop("name", None)
        state._init_raw(self.value, name, meta, self._source)
        return state

    def tree_flatten(self):
        meta = tuple(sorted(self._metadata.items(), key=lambda kv: kv[0]))
        return (self.value,), (self.type, meta, _Site(self._source))

    @classmethod
    def tree_unflatten(cls, aux, children):
        type_, meta, site = aux
        return cls(type_, children[0], _source=site.text, **dict(meta))

    def __eq__(self, other):
        if not isinstance(other, TreefyState):
            return NotImplemented
        return self.type is other.type and self._metadata == other._metadata and _tree_equal(self.value, other.value)

    __hash__ = None  # type: ignore[assignment]  # mutable value inside: not hashable

    def __repr__(self) -> str:
        treedef, leaves, sigs, _ = signature(self.value)
        meta = "".join(f", {k}={v!r}" for k, v in self._metadata.items())
        return f"TreefyState({self.type.__name__}, value={describe(treedef, sigs)}{meta})"


class _Site:
    """Where the state was created (for error messages), carried in the tree definition but
    equal to every other site: two models built on different lines have the same tree
    definition, so `jax.tree.map` over both works and `jax.jit` compiles once for both."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text

    def __eq__(self, other) -> bool:
        return isinstance(other, _Site)

    def __hash__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return repr(self.text)


def _tree_equal(a, b) -> bool:
    import numpy as np

    la, ta = jax.tree_util.tree_flatten(a)
    lb, tb = jax.tree_util.tree_flatten(b)
    if ta != tb:  # type: ignore[operator]  # PyTreeDef has __eq__; the stubs miss it
        return False
    try:
        return all(np.array_equal(np.asarray(x), np.asarray(y)) for x, y in zip(la, lb))
    except Exception:
        return all(x is y for x, y in zip(la, lb))


def _rebuild(type_: type, value: Any, source: str, metadata: dict) -> TreefyState:
    return TreefyState(type_, value, _source=source, **metadata)
