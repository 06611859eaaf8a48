"""Nested and flat dictionaries keyed by graph paths.

The states of an object graph can be viewed two ways:

- nested, mirroring the graph: `NestedDict` ``{'layer': {'weight': s}}``;
- flat, keyed by the full path tuple: `FlattedDict` ``{('layer', 'weight'): s}``.

Both are ordinary `dict` subclasses that add:

- attribute access for present keys (``d.layer.weight``). A missing attribute raises
  `AttributeError`, so `hasattr`, `getattr(d, k, default)`, `copy` and checkpoint libraries
  that probe attributes behave as with any object;
- registration as JAX PyTrees whose children come in a deterministic sorted key order (keys of
  different types, e.g. the ints and strings of a path, sort by type first, then by value);
- `filter`/`split` with `brainstate.util` filters, `merge` (also `a | b`, later entries win),
  `a - b` (the entries of `a` whose paths `b` lacks), `treefy_state`, and conversion to plain dicts.

Invariants: `FlattedDict` keys are tuples (paths); `d.to_flat().to_nest() == d` for a
`NestedDict` without empty sub-dicts; a filter sees `(path, value)` with the full path tuple.

Depth. Every operation here (nesting, flattening, conversion, `repr`, PyTree flattening) uses
an explicit stack, so the dicts of a graph ten thousand levels deep work like shallow ones
(see `_dict_pytree` for how deep nestings flatten as PyTrees).
"""

from collections.abc import Mapping
from typing import Any, Callable, Dict, Hashable, Iterable, List, Optional, Sequence, Tuple, Union

import jax

from ._deep_repr import Layout, container_layout, render
from ._depth_first import DepthFirst
from ._dict_pytree import register_path_dict
from ._filters import to_predicate
from ._key_order import key_order, sorted_keys

__all__ = ["NestedDict", "FlattedDict", "flat_mapping", "nest_mapping", "key_order", "sorted_keys",
           "partition_items"]

Path = Tuple[Hashable, ...]


def partition_items(items: Iterable[Tuple[Path, Any]], filters: Sequence[Any], *, exhaustive: bool,
                    where: str) -> List[List[Tuple[Path, Any]]]:
    """Put each `(path, value)` into the group of the first filter that matches it.

    Args:
      items: `(path, value)` pairs, in the order the groups should keep.
      filters: one filter per group; `...` may only come last.
      exhaustive: if True, an item that no filter matches is an error.
      where: the caller's name, used in error messages.

    Raises:
      ValueError: if `...` is not the last filter, or `exhaustive` and some item is unmatched.
    """
    for i, f in enumerate(filters[:-1]):
        if f is Ellipsis:
            raise ValueError(
                f"{where}: filter #{i} is `...`, which matches everything, so the filters after it "
                f"({', '.join(map(repr, filters[i + 1:]))}) would never match. Put `...` last.")
    predicates = [to_predicate(f) for f in filters]
    groups: List[List[Tuple[Path, Any]]] = [[] for _ in filters]
    leftover = []
    for path, value in items:
        for group, predicate in zip(groups, predicates):
            if predicate(path, value):
                group.append((path, value))
                break
        else:
            leftover.append(path)
    if exhaustive and leftover:
        raise ValueError(
            f"{where}: no filter matches the entries at paths {leftover}; the filters "
            f"({', '.join(map(repr, filters))}) must cover every entry so that none is lost. Add a "
            f"filter for them, or end the filters with `...` to collect the rest.")
    return groups


def _one_or_tuple(dicts: list):
    return dicts[0] if len(dicts) == 1 else tuple(dicts)


def _leaf_value(x: Any) -> Any:
    """The value of a State or TreefyState, anything else unchanged."""
    # util sits below the state layer and must not import it; as in `_filters`, States and
    # their snapshots are recognised by class name.
    is_state = any(c.__name__ in ("State", "TreefyState") for c in type(x).__mro__)
    return x.value if is_state else x


def _is_state(x: Any) -> bool:
    """Whether `x` is a State (recognised by class name, as in `_leaf_value`)."""
    return any(c.__name__ == "State" for c in type(x).__mro__)


class _PathDict(dict):
    """Shared behaviour of `NestedDict` and `FlattedDict`."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(
                f"{type(self).__name__} has no key or attribute {name!r}. Present keys: "
                f"{sorted(self, key=key_order)}.") from None

    def __dir__(self):
        return list(super().__dir__()) + [k for k in self if isinstance(k, str) and k.isidentifier()]

    def __repr__(self) -> str:
        active: set = set()

        def expand(x):
            if isinstance(x, _PathDict) and type(x).__repr__ is _PathDict.__repr__:
                name = type(x).__name__
                if id(x) in active:
                    return f"{name}({{...}})"
                inner = container_layout(dict(x), active)  # dict(x): the items of x, printed as a dict
                return Layout([f"{name}(", *inner.parts, ")"], ident=id(x))
            return container_layout(x, active)

        return render(self, expand, active=active)

    def copy(self):
        """A shallow copy of the same class."""
        return type(self)(self)

    def __or__(self, other: Any):
        """`a | b`: the entries of both, merged by path (see `merge`); `b`'s win."""
        if not isinstance(other, Mapping):
            return NotImplemented
        return self.merge(other)

    def __ior__(self, other: Any):
        if not isinstance(other, Mapping):
            return NotImplemented
        merged = self.merge(other)
        self.clear()
        self.update(merged)
        return self

    def __sub__(self, other: Any):
        """`a - b`: the entries of `a` whose paths are not in `b`."""
        if not isinstance(other, Mapping):
            return NotImplemented
        return self.without(other)

    def treefy_state(self):
        """A copy in which every State is replaced by its snapshot (`state.to_state_ref()`)."""
        def snapshot(x):
            return x.to_state_ref() if _is_state(x) else x

        return jax.tree_util.tree_map(snapshot, self, is_leaf=_is_state)

    def subset(self, *filters: Any):
        """The same as `filter`."""
        return self.filter(*filters)


class FlattedDict(_PathDict):
    """A flat dict from path tuples to values (usually States or TreefyStates).

    Example:
      >>> from brainstate.util import FlattedDict
      >>> d = FlattedDict({('layer', 'weight'): 1, ('layer', 'bias'): 2})
      >>> d.to_nest().layer.weight
      1
    """

    __module__ = "brainstate.util"

    __slots__ = ()

    @classmethod
    def from_nest(cls, nested: Mapping) -> "FlattedDict":
        """Flatten a nested mapping (see `flat_mapping`)."""
        return flat_mapping(nested)

    def to_nest(self) -> "NestedDict":
        """The equivalent `NestedDict`.

        Raises:
          ValueError: if a key is the empty path `()`, or one path lies under another.
        """
        return nest_mapping(self)

    def filter(self, *filters: Any) -> Union["FlattedDict", Tuple["FlattedDict", ...]]:
        """Entries matching the filters: one dict per filter, first matching filter wins.

        Entries no filter matches are dropped. One filter gives one dict.
        """
        groups = partition_items(self.items(), filters, exhaustive=False, where=f"{type(self).__name__}.filter")
        return _one_or_tuple([type(self)(g) for g in groups])

    def split(self, *filters: Any) -> Union["FlattedDict", Tuple["FlattedDict", ...]]:
        """Like `filter`, but every entry must be matched (the last filter may be `...`).

        Raises:
          ValueError: listing the paths no filter matches.
        """
        groups = partition_items(self.items(), filters, exhaustive=True, where=f"{type(self).__name__}.split")
        return _one_or_tuple([type(self)(g) for g in groups])

    def merge(self, *others: Mapping) -> "FlattedDict":
        """A new dict with the entries of `self` then `others`; later entries win."""
        out = type(self)(self)
        for other in others:
            out.update(other)
        return out

    def without(self, other: Mapping) -> "FlattedDict":
        """A new dict without the paths that are keys of `other` (`self - other`)."""
        return type(self)((path, v) for path, v in self.items() if path not in other)

    def to_dict(self) -> dict:
        """A plain dict with the same entries."""
        return dict(self)

    def to_pure_dict(self) -> dict:
        """A plain dict from path to value, with States/TreefyStates replaced by their values."""
        return {path: _leaf_value(v) for path, v in self.items()}

    to_dict_values = to_pure_dict

    def assign_dict_values(self, data: Mapping) -> None:
        """Assign a value to every path: a State gets `state.value = data[path]`, any other
        entry is replaced by `data[path]`.

        Raises:
          KeyError: naming the paths of `self` missing from `data` (nothing is assigned then).

        Example:
          >>> import brainstate, jax.numpy as jnp
          >>> from brainstate.util import FlattedDict
          >>> w = brainstate.ParamState(jnp.zeros(2))
          >>> d = FlattedDict({('w',): w, ('n',): 0})
          >>> d.assign_dict_values({('w',): jnp.ones(2), ('n',): 5})
          >>> w.value.tolist(), d[('n',)]
          ([1.0, 1.0], 5)
        """
        missing = [path for path in self if path not in data]
        if missing:
            raise KeyError(f"FlattedDict.assign_dict_values: no value for the paths {missing}; give one "
                           f"value per path of the dict (its keys: {sorted(self, key=key_order)}).")
        for path, old in self.items():
            if _is_state(old):
                old.value = data[path]
            else:
                self[path] = data[path]


class NestedDict(_PathDict):
    """A nested dict mirroring an object graph; interior nodes are `NestedDict`s.

    Example:
      >>> from brainstate.util import NestedDict
      >>> d = NestedDict({'layer': NestedDict({'weight': 1})})
      >>> d.layer.weight, d.to_flat()
      (1, FlattedDict({('layer', 'weight'): 1}))
    """

    __module__ = "brainstate.util"

    __slots__ = ()

    def __eq__(self, other: Any) -> bool:
        # dict's own == recurses (in C) once per level of nesting; this compares the same way,
        # item by item, with an explicit stack.
        if not isinstance(other, dict):
            return NotImplemented
        return _nestings_equal(self, other)

    def __ne__(self, other: Any) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = None  # type: ignore[assignment]  # a dict: mutable, so never hashable

    @classmethod
    def from_flat(cls, flat: Mapping) -> "NestedDict":
        """Nest a mapping from path tuples to values (see `nest_mapping`)."""
        return nest_mapping(flat)

    def to_flat(self) -> FlattedDict:
        """The equivalent `FlattedDict` (paths through every sub-mapping)."""
        return flat_mapping(self)

    def filter(self, *filters: Any) -> Union["NestedDict", Tuple["NestedDict", ...]]:
        """Leaves matching the filters (called with the full path): one dict per filter.

        The first matching filter wins; unmatched leaves are dropped.
        """
        groups = partition_items(self.to_flat().items(), filters, exhaustive=False, where="NestedDict.filter")
        return _one_or_tuple([nest_mapping(dict(g)) for g in groups])

    def split(self, *filters: Any) -> Union["NestedDict", Tuple["NestedDict", ...]]:
        """Like `filter`, but every leaf must be matched (the last filter may be `...`).

        Raises:
          ValueError: listing the paths no filter matches.
        """
        groups = partition_items(self.to_flat().items(), filters, exhaustive=True, where="NestedDict.split")
        return _one_or_tuple([nest_mapping(dict(g)) for g in groups])

    def merge(self, *others: Mapping) -> "NestedDict":
        """A new dict with the leaves of `self` then `others`, merged by path; later leaves win."""
        flat = dict(self.to_flat())
        for other in others:
            flat.update(flat_mapping(other))
        return nest_mapping(flat)

    def without(self, other: Mapping) -> "NestedDict":
        """A new dict without the leaves whose paths are leaf paths of `other` (`self - other`)."""
        drop = flat_mapping(other)
        return nest_mapping({path: v for path, v in self.to_flat().items() if path not in drop})

    def to_dict(self) -> dict:
        """Plain nested dicts all the way down."""
        return _to_plain(self, lambda v: v)

    def to_pure_dict(self) -> dict:
        """Plain nested dicts whose leaves are values (States/TreefyStates unwrapped)."""
        return _to_plain(self, _leaf_value)

    def replace_by_pure_dict(self, pure_dict: Mapping,
                             replace_fn: Optional[Callable[[Any, Any], Any]] = None) -> None:
        """Replace leaves, in place, by the values of a plain nested dict (`to_pure_dict`'s form).

        Args:
          pure_dict: nested dicts whose leaf paths are paths of `self`; leaves it does not
            mention keep their value. At a leaf path of `self` the value is taken whole, even
            when it is a dict (a State whose value is a dict of arrays).
          replace_fn: `(old_leaf, new_value) -> new_leaf`. By default a leaf with a `replace`
            method (a TreefyState or State) becomes `old.replace(value)`, any other leaf the value.

        Raises:
          ValueError: naming a path of `pure_dict` that `self` does not have (nothing is
            replaced then).

        Example:
          >>> from brainstate.util import NestedDict
          >>> d = NestedDict({'layer': NestedDict({'w': 1, 'b': 2})})
          >>> d.replace_by_pure_dict({'layer': {'w': 10}})
          >>> d.to_dict()
          {'layer': {'w': 10, 'b': 2}}
        """
        if replace_fn is None:
            def replace_fn(old, value):
                return old.replace(value) if hasattr(old, "replace") else value
        current = self.to_flat()
        # A leaf of `self` may hold a dict value (a layer's `weight` State holds {'weight', 'bias'}),
        # so `pure_dict` is flattened only down to the leaf paths of `self`, never into a leaf.
        updates = flat_mapping(pure_dict, is_leaf=lambda path, _: path in current)
        unknown = [path for path in updates if path not in current]
        if unknown:
            raise ValueError(f"NestedDict.replace_by_pure_dict: the paths {unknown} of pure_dict are not in "
                             f"this dict (its paths: {sorted(current, key=key_order)}). Give values only for "
                             f"existing paths.")
        for path, value in updates.items():
            current[path] = replace_fn(current[path], value)
        self.update(nest_mapping(current))


_ABSENT = object()


def _compared_as_dict(x: Any) -> bool:
    """True for a dict whose `==` is dict's (or NestedDict's, which agrees with it)."""
    return isinstance(x, dict) and type(x).__eq__ in (dict.__eq__, NestedDict.__eq__)


def _nestings_equal(a: dict, b: dict) -> bool:
    """`a == b` as dicts compare (same keys, values equal; identity first), without recursion."""
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        if len(x) != len(y):
            return False
        for key, value in x.items():
            other = y.get(key, _ABSENT)
            if other is _ABSENT:
                return False
            if value is other:
                continue
            if _compared_as_dict(value) and _compared_as_dict(other):
                stack.append((value, other))
            elif not value == other:
                return False
    return True


def _to_plain(root: "NestedDict", leaf: Callable[[Any], Any]) -> dict:
    """`root` as plain nested dicts, sub-`NestedDict`s converted and `leaf` applied to the rest."""
    out: dict = {}
    stack = [(root, out)]
    while stack:
        src, dst = stack.pop()
        for k, v in src.items():
            if isinstance(v, NestedDict):
                sub: dict = {}
                dst[k] = sub
                stack.append((v, sub))
            else:
                dst[k] = leaf(v)
    return out


def flat_mapping(xs: Mapping, /, *, keep_empty_nodes: bool = False,
                 is_leaf: Optional[Callable[[Path, Any], bool]] = None,
                 sep: Optional[str] = None) -> FlattedDict:
    """Flatten a nested mapping into a `FlattedDict` keyed by path tuples.

    Args:
      xs: the nested mapping; every `Mapping` inside it is an interior node.
      keep_empty_nodes: keep empty sub-mappings as leaves (an empty `{}` value).
      is_leaf: `(path, value) -> bool`; a mapping for which it returns True is kept whole.
      sep: if given, keys are the path elements joined by `sep` instead of tuples.

    Example:
      >>> from brainstate.util import flat_mapping
      >>> flat_mapping({'a': {'b': 1, 'c': 2}})
      FlattedDict({('a', 'b'): 1, ('a', 'c'): 2})
    """
    out: Dict[Any, Any] = {}
    if not isinstance(xs, Mapping) or (is_leaf is not None and is_leaf((), xs)):
        out[()] = xs
    else:
        walker = DepthFirst(xs.items())  # depth-first, in insertion order
        for _, key, value in walker:
            path = (*walker.keys, key)
            if isinstance(value, Mapping) and not (is_leaf is not None and is_leaf(path, value)):
                if not value and keep_empty_nodes:
                    out[path] = {}
                walker.enter(value, value.items())
            else:
                out[path] = value
    if sep is not None:
        out = {sep.join(map(str, path)): v for path, v in out.items()}
    return FlattedDict(out)


def nest_mapping(xs: Mapping, /, *, sep: Optional[str] = None) -> NestedDict:
    """Turn a mapping from path tuples (or `sep`-joined strings) into a `NestedDict`.

    Raises:
      ValueError: if a path is empty or lies under another path that holds a leaf.

    Example:
      >>> from brainstate.util import nest_mapping
      >>> nest_mapping({('a', 'b'): 1}).a.b
      1
    """
    out = NestedDict()
    # `chain[i]` is the sub-dict at `prev[:i]`: consecutive paths (from a graph walk) share long
    # prefixes, and resuming from the deepest shared one keeps a deep chain linear, not quadratic.
    prev: Tuple[Any, ...] = ()
    chain: List[NestedDict] = [out]
    for key, value in xs.items():
        path = tuple(key.split(sep)) if sep is not None else (key if isinstance(key, tuple) else (key,))
        if not path:
            raise ValueError(
                "nest_mapping: the empty path () cannot be nested: it names the root itself, not an "
                "entry under it. Keep such a value in a FlattedDict, or wrap the root in a container.")
        shared = _shared_prefix(prev, path, len(chain) - 1)
        del chain[shared + 1:]
        node = chain[shared]
        for i in range(shared, len(path) - 1):
            k = path[i]
            child = node.setdefault(k, NestedDict())
            if not isinstance(child, NestedDict):
                raise ValueError(
                    f"nest_mapping: path {path} lies under {path[:i + 1]}, which already holds a leaf "
                    f"({type(child).__name__}). A path cannot be both a leaf and a sub-dict; rename one.")
            node = child
            chain.append(node)
        prev = path
        if isinstance(node.get(path[-1]), NestedDict):
            raise ValueError(
                f"nest_mapping: path {path} holds a leaf but other paths lie under it. A path cannot "
                f"be both a leaf and a sub-dict; rename one.")
        node[path[-1]] = value
    return out


def _shared_prefix(prev: tuple, path: tuple, limit: int) -> int:
    """The largest `n <= limit`, `n < len(path)`, with `prev[:n] == path[:n]`."""
    n = min(limit, len(path) - 1)
    if n <= 0 or prev[:n] == path[:n]:  # one comparison in C for the usual walk order
        return max(n, 0)
    low, high = 0, n - 1  # prev[:low] == path[:low] holds; find the largest such length
    while low < high:
        mid = (low + high + 1) // 2
        if prev[:mid] == path[:mid]:
            low = mid
        else:
            high = mid - 1
    return low


register_path_dict(NestedDict, deep=True)
register_path_dict(FlattedDict, deep=False)
