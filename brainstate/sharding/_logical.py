"""Logical axis names, and the rules that map them onto the axes of a device mesh.

A model names the dimensions of its states by what they mean (`('in', 'hidden')` for a weight,
`('neuron',)` for a membrane potential); a mesh names its axes by how devices are laid out
(`'data'`, `'model'`). Rules join the two: `{'batch': 'data', 'hidden': 'model', 'in': None}`
says that dimensions named 'hidden' are split over mesh axis 'model' and dimensions named 'in'
are kept whole. The same model then runs data-parallel, tensor-parallel or on one device by
changing the rules only, never the model.

A rule's value is a mesh axis name, a tuple of mesh axis names (the dimension is split over
their product), or None (replicated). A logical axis written as None in a state's
`logical_axes` is always replicated. Invariants checked here:
- every logical name a state uses has a rule (a missing rule is an error, never a silent
  replication, so a typo cannot turn a sharded model into a replicated one);
- no mesh axis shards two dimensions of the same array (JAX would refuse it later, with a
  message that does not name the state).
Whether the mesh has the axes and whether they divide the dimensions is checked when a state is
placed (`brainstate.transform._state_sharding.check_sharding`).
"""

from typing import Any, Dict, Mapping, Optional, Sequence, Tuple, Union

from jax.sharding import PartitionSpec

__all__ = ["Rules", "LogicalAxes", "check_rules", "is_logical_axes", "logical_to_mesh_axes"]

MeshAxes = Union[None, str, Tuple[str, ...]]
Rules = Union[Mapping[str, MeshAxes], Sequence[Tuple[str, MeshAxes]]]
LogicalAxes = Tuple[Optional[str], ...]


def is_logical_axes(x: Any) -> bool:
    """True for a tuple or list of logical names (strings or None), the leaf of `logical_axes`."""
    return isinstance(x, (tuple, list)) and not isinstance(x, PartitionSpec) \
        and all(a is None or isinstance(a, str) for a in x)


def _mesh_axes(value: Any, logical: str) -> MeshAxes:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (tuple, list)) and value and all(isinstance(a, str) for a in value):
        return tuple(value)
    raise TypeError(
        f"sharding rules: the rule for logical axis {logical!r} is {value!r}; a rule maps to a mesh axis "
        f"name, a tuple of mesh axis names, or None (replicated).")


def check_rules(rules: Optional[Rules]) -> Dict[str, MeshAxes]:
    """`rules` as a dict `{logical name: mesh axes}`, after checking every entry.

    Args:
      rules: a mapping or a sequence of `(logical name, mesh axes)` pairs; None means no rules.

    Raises:
      TypeError: a logical name is not a string, or a rule is not a mesh axis name, a tuple of
        them, or None.
      ValueError: a logical name is given two rules (in a sequence of pairs).

    Example:
      >>> from brainstate.sharding import check_rules
      >>> check_rules([('batch', 'data'), ('hidden', ('x', 'y')), ('in', None)])
      {'batch': 'data', 'hidden': ('x', 'y'), 'in': None}
    """
    if rules is None:
        return {}
    pairs = list(rules.items()) if isinstance(rules, Mapping) else list(rules)
    result: Dict[str, MeshAxes] = {}
    for pair in pairs:
        if not (isinstance(pair, tuple) and len(pair) == 2):
            raise TypeError(f"sharding rules: expected (logical name, mesh axes) pairs or a dict, got the entry "
                            f"{pair!r}.")
        logical, value = pair
        if not isinstance(logical, str):
            raise TypeError(f"sharding rules: logical axis names are strings, got {logical!r}.")
        if logical in result:
            raise ValueError(f"sharding rules: logical axis {logical!r} has two rules ({result[logical]!r} and "
                             f"{value!r}). Keep one.")
        result[logical] = _mesh_axes(value, logical)
    return result


def logical_to_mesh_axes(logical_axes: Sequence[Optional[str]], rules: Optional[Rules],
                         *, where: str = "logical_to_mesh_axes") -> PartitionSpec:
    """The `PartitionSpec` of mesh axes for one array's logical axis names.

    Args:
      logical_axes: one logical name (or None) per leading dimension of the array.
      rules: `{logical name: mesh axes}` (see `check_rules`).
      where: how error messages name the array (for a state: its label and path).

    Returns:
      A `PartitionSpec` with one entry per logical axis.

    Raises:
      ValueError: a logical name has no rule, or two dimensions map to the same mesh axis.

    Example:
      >>> from brainstate.sharding import logical_to_mesh_axes
      >>> logical_to_mesh_axes(('in', 'hidden'), {'in': None, 'hidden': 'model'})
      P(None, 'model')
    """
    if not is_logical_axes(logical_axes):
        raise TypeError(f"{where}: logical axes are a tuple of names (strings or None), got {logical_axes!r}.")
    table = check_rules(rules)
    entries: list = []  # per dimension: None, a mesh axis name or a tuple of them
    used: Dict[str, str] = {}
    for logical in logical_axes:
        if logical is None:
            entries.append(None)
            continue
        if logical not in table:
            known = ", ".join(repr(k) for k in table) or "none"
            raise ValueError(
                f"{where}: logical axis {logical!r} (of {tuple(logical_axes)}) has no sharding rule; the "
                f"rules cover {known}. Add a rule such as {{{logical!r}: 'data'}}, or {{{logical!r}: None}} "
                f"to keep that dimension whole.")
        mesh_axes = table[logical]
        for axis in () if mesh_axes is None else (mesh_axes,) if isinstance(mesh_axes, str) else mesh_axes:
            if axis in used:
                raise ValueError(
                    f"{where}: logical axes {used[axis]!r} and {logical!r} (of {tuple(logical_axes)}) both map to "
                    f"mesh axis {axis!r}, but a mesh axis can split only one dimension of an array. Map one "
                    f"of them to another mesh axis or to None.")
            used[axis] = logical
        entries.append(mesh_axes)
    return PartitionSpec(*entries)
