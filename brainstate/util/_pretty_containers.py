"""`PrettyDict` and `PrettyList`: a `dict` and a `list` printed one entry per line.

Besides printing, they carry the small container API released libraries call on them:
`PrettyDict` filters, splits and merges its entries with `brainstate.util` filters (a filter
sees `(path, value)`, the path being the key as a tuple) and turns the States it holds into
snapshots (`treefy_state`); `PrettyList` is a JAX PyTree like `list`, with the flattening as
methods (`tree_flatten` / `tree_unflatten`).
"""

from typing import Any, Dict, Iterator, Tuple, Union

import jax

from ._dicts import _is_state, partition_items
from ._pretty import MappingReprMixin, PrettyAttr, PrettyItem, PrettyRepr, PrettyType

__all__ = ["PrettyDict", "PrettyList"]


class PrettyDict(dict, MappingReprMixin, PrettyRepr):
    """A `dict` printed one entry per line, with filter/split/merge over its entries.

    Example:
      >>> from brainstate.util import PrettyDict
      >>> PrettyDict(a=1)
      {
        'a': 1
      }
      >>> d = PrettyDict(w=1.0, n=2)
      >>> ints, rest = d.split(lambda path, v: isinstance(v, int), ...)
      >>> ints.to_dict(), rest.to_dict()
      ({'n': 2}, {'w': 1.0})
    """

    __module__ = "brainstate.util"
    __repr__ = PrettyRepr.__repr__

    def _items_by_path(self) -> Iterator[Tuple[tuple, Any, Any]]:
        for key, value in self.items():
            yield (key if isinstance(key, tuple) else (key,)), key, value

    def _groups(self, filters: Tuple[Any, ...], exhaustive: bool, where: str):
        if not filters:
            raise TypeError(f"{where} needs at least one filter (a State type, a tag, a callable "
                            f"(path, value) -> bool, or `...` for every entry).")
        keys = {path: key for path, key, _ in self._items_by_path()}
        groups = partition_items(((p, v) for p, _, v in self._items_by_path()), filters,
                                 exhaustive=exhaustive, where=where)
        out = [type(self)((keys[p], v) for p, v in g) for g in groups]
        return out[0] if len(out) == 1 else tuple(out)

    def filter(self, *filters: Any) -> Union["PrettyDict", Tuple["PrettyDict", ...]]:
        """Entries matching the filters: one dict per filter, the first matching filter wins.

        Entries no filter matches are dropped; one filter gives one dict. A filter is called
        with `(path, value)`, the path being the key as a tuple (`('w',)`).

        Raises:
          TypeError: no filter was given.
        """
        return self._groups(filters, False, f"{type(self).__name__}.filter")

    def subset(self, *filters: Any) -> Union["PrettyDict", Tuple["PrettyDict", ...]]:
        """The same as `filter`."""
        return self._groups(filters, False, f"{type(self).__name__}.subset")

    def split(self, *filters: Any) -> Union["PrettyDict", Tuple["PrettyDict", ...]]:
        """Like `filter`, but every entry must be matched (the last filter may be `...`).

        Raises:
          TypeError: no filter was given.
          ValueError: listing the paths no filter matches.
        """
        return self._groups(filters, True, f"{type(self).__name__}.split")

    def merge(self, *states: Dict) -> "PrettyDict":
        """A new dict with the entries of `self`, then of each of `states`; later entries win."""
        out = type(self)(self)
        for other in states:
            out.update(other)
        return out

    def to_dict(self) -> Dict[Any, Any]:
        """A plain `dict` with the same entries."""
        return dict(self)

    def treefy_state(self) -> "PrettyDict":
        """A copy in which every State (also inside nested containers) is replaced by its
        snapshot (`state.to_state_ref()`).

        Example:
          >>> import brainstate
          >>> from brainstate.util import PrettyDict
          >>> d = PrettyDict(w=brainstate.ParamState(1.0), n=2).treefy_state()
          >>> type(d['w']).__name__, d['w'].value, d['n']
          ('TreefyState', 1.0, 2)
        """
        def snapshot(x):
            return x.to_state_ref() if _is_state(x) else x

        return type(self)((k, jax.tree_util.tree_map(snapshot, v, is_leaf=_is_state)) for k, v in self.items())


class PrettyList(list, PrettyRepr):
    """A `list` printed one item per line; a JAX PyTree like `list`.

    Example:
      >>> from brainstate.util import PrettyList
      >>> PrettyList([1, 2])
      [
        1,
        2
      ]
    """

    __module__ = "brainstate.util"

    def __pretty_repr__(self) -> Iterator[PrettyItem]:
        yield PrettyType("", start="[", end="]", value_sep="")
        for item in self:
            yield PrettyAttr("", repr(item))

    __repr__ = PrettyRepr.__repr__

    def tree_flatten(self) -> Tuple[list, Tuple]:
        """`(items, ())`: the PyTree flattening (the items are the children).

        Example:
          >>> from brainstate.util import PrettyList
          >>> children, aux = PrettyList([1, 2]).tree_flatten()
          >>> children, aux, list(PrettyList.tree_unflatten(aux, [3, 4]))
          ([1, 2], (), [3, 4])
        """
        return list(self), ()

    @classmethod
    def tree_unflatten(cls, aux_data: Tuple, children: list) -> "PrettyList":
        """Rebuild from the children of `tree_flatten` (`aux_data` carries nothing)."""
        return cls(children)


jax.tree_util.register_pytree_node(PrettyList, PrettyList.tree_flatten, PrettyList.tree_unflatten)
