"""Shardings of states inside compiled functions.

A state may carry a sharding in its `sharding` metadata (a `jax.sharding.Sharding`, or a
`PartitionSpec` resolved against the mesh in context), and `jit(..., state_shardings=...)`
may assign shardings per state or per filter. At trace time — never per call — the compiled
function constrains each such state's input value and its written value to that sharding, so a
sharded state comes back with the sharding it went in with. Invalid shardings are reported with
the state's name and creation site: an axis the mesh does not have, or a dimension the mesh axis
does not divide. A state whose value is a PyTree may carry one sharding for every leaf, or a tree
of shardings shaped like its value (a tree prefix: `{'weight': s1, 'bias': s2}`).
"""

from typing import Any, Dict, Optional

import jax
from jax.sharding import NamedSharding, PartitionSpec

from ..util._filters import to_predicate

__all__ = ["state_sharding_resolver", "check_sharding", "constrain"]


def state_sharding_resolver(state_shardings: Optional[Dict[Any, Any]]):
    """A function `state -> sharding or None` from a jit's `state_shardings` and state metadata."""
    rules = []
    for key, sharding in (state_shardings or {}).items():
        if hasattr(key, "_sig") and hasattr(key, "_value"):  # a State: match by identity
            rules.append((lambda s, k=key: s is k, sharding))
        else:
            predicate = to_predicate(key)
            rules.append((lambda s, p=predicate: p((), s), sharding))

    def resolve(state):
        for match, sharding in rules:
            if match(state):
                return sharding
        return getattr(state, "sharding", None)

    return resolve


def _mesh_in_context():
    try:
        mesh = jax.sharding.get_abstract_mesh()
        return None if mesh.empty else mesh
    except Exception:  # older JAX: no ambient mesh API
        return None


def _is_sharding(x) -> bool:
    return isinstance(x, (jax.sharding.Sharding, PartitionSpec))


class _Leaf:
    """Names one leaf of a state's value in messages."""

    def __init__(self, state, keys: str):
        self.state, self.keys = state, keys

    def _label(self) -> str:
        return f"{self.state._label()} (leaf {self.keys})"


def check_sharding(state, sharding, value) -> None:
    """Raise a ValueError naming `state` if `sharding` (or a tree of shardings) cannot hold `value`."""
    if not _is_sharding(sharding):
        shardings, treedef = jax.tree_util.tree_flatten_with_path(sharding, is_leaf=_is_sharding)
        try:
            parts = treedef.flatten_up_to(value)  # type: ignore[attr-defined]  # public PyTreeDef method
        except ValueError as err:
            raise ValueError(
                f"{state._label()}: its tree of shardings {sharding!r} does not match the structure of "
                f"its value ({err}). Give one sharding for the whole value, or one per leaf in the "
                f"value's own structure.") from None
        for (path, one), part in zip(shardings, parts):
            check_sharding(_Leaf(state, jax.tree_util.keystr(path)), one, part)
        return
    spec = sharding.spec if isinstance(sharding, NamedSharding) else sharding
    if not isinstance(spec, PartitionSpec):
        return  # other Sharding kinds are validated by JAX itself
    mesh = sharding.mesh if isinstance(sharding, NamedSharding) else _mesh_in_context()
    if mesh is None:
        raise ValueError(
            f"{state._label()} has sharding {spec} but no mesh is in context. Give a "
            f"NamedSharding(mesh, spec), or call inside `with jax.set_mesh(mesh):`.")
    sizes = dict(zip(mesh.axis_names, mesh.axis_sizes)) if hasattr(mesh, "axis_sizes") else dict(mesh.shape)
    leaves = jax.tree_util.tree_leaves(value)
    for leaf in leaves:
        shape = getattr(leaf, "shape", ())
        if len(spec) > len(shape):
            raise ValueError(
                f"{state._label()}: sharding {spec} has {len(spec)} entries but the value has "
                f"{len(shape)} dimensions {tuple(shape)}. Use one entry per dimension at most.")
        for dim, axes in enumerate(spec):
            if axes is None:
                continue
            names = axes if isinstance(axes, tuple) else (axes,)
            for name in names:
                if name not in sizes:
                    raise ValueError(
                        f"{state._label()}: sharding {spec} uses mesh axis {name!r}, but the mesh only "
                        f"has axes {tuple(sizes)}. Fix the PartitionSpec or the logical-axis rules.")
            parts = 1
            for name in names:
                parts *= sizes[name]
            if shape[dim] % parts:
                raise ValueError(
                    f"{state._label()}: dimension {dim} of shape {tuple(shape)} is {shape[dim]}, which mesh "
                    f"axis {axes!r} (size {parts}) does not divide. Pad the dimension to a multiple of "
                    f"{parts} or shard it over another axis.")


def constrain(value, sharding):
    """`value` constrained to `sharding` (every leaf), or to a tree of shardings (a tree prefix)."""
    if not _is_sharding(sharding):
        return jax.lax.with_sharding_constraint(value, sharding)
    return jax.tree_util.tree_map(lambda x: jax.lax.with_sharding_constraint(x, sharding), value)
