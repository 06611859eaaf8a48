"""Placing the states of a model on a device mesh: `shard_states`, `resolve_sharding`, `get_sharding`.

A state declares how its value is laid out across devices, in this order of precedence:
1. an entry of `specs` (`{filter or State: declaration}`, first match wins), given when placing;
2. its `logical_axes` metadata (`ParamState(w, logical_axes=('in', 'hidden'))`), resolved by
   the rules (see `_logical.py`);
3. its `sharding` metadata: a `PartitionSpec`, or a `NamedSharding` (its spec is re-targeted
   to the mesh being placed on);
4. nothing: the state is replicated on every device of the mesh (`PartitionSpec()`).

A declaration is a `PartitionSpec`, a `NamedSharding`, a tuple of logical names, or, for a
state whose value is a PyTree, a tree of those shaped like the value (a tree prefix, e.g.
`{'weight': ('in', 'hidden'), 'bias': ('hidden',)}` for `nn.Linear`).

Placing resolves each declaration to `NamedSharding`s of the mesh, stores them in the state's
`sharding` metadata (so `brainstate.transform.jit` keeps the state there across calls) and
moves the value with `jax.device_put`. Placement is all or nothing: every state is checked
before any is moved, and an error names the state, its graph path and where it was created.
"""

from typing import Any, Callable, List, Mapping, Optional, Sequence, Tuple, Union

import jax
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from .._errors import BrainStateError
from .._state import State
from .._state._trace import trace_stack
from .. import graph
from ..transform._state_sharding import check_sharding
from ..util import FlattedDict, to_predicate
from ._logical import Rules, check_rules, is_logical_axes, logical_to_mesh_axes

__all__ = ["shard_states", "resolve_sharding", "get_sharding", "has_declared_sharding"]

Specs = Optional[Union[Mapping[Any, Any], Sequence[Tuple[Any, Any]]]]


class Located:
    """Names a state (or a `TreefyState` snapshot) in messages: kind, name, graph path, creation site."""

    def __init__(self, state: Any, path: Tuple[Any, ...]):
        self.state = state
        self.path = path

    def _label(self) -> str:
        state = self.state
        kind = state.type.__name__ if hasattr(state, "to_state") and hasattr(state, "type") else type(state).__name__
        name = getattr(state, "name", None)
        where = ".".join(str(p) for p in self.path) or "<root>"
        source = getattr(state, "_source", "<unknown>")
        return f"{kind}{' ' + repr(name) if name else ''} at path {where!r} (created at {source})"


def _is_declaration(x: Any) -> bool:
    return isinstance(x, (jax.sharding.Sharding, PartitionSpec)) or is_logical_axes(x)


def override_rules(specs: Specs) -> List[Tuple[Callable, Any]]:
    """`specs` as `(predicate(path, state), declaration)` pairs, checked when placing starts."""
    if specs is None:
        return []
    items = list(specs.items()) if isinstance(specs, Mapping) else list(specs)
    result: List[Tuple[Callable, Any]] = []
    for item in items:
        if not (isinstance(item, tuple) and len(item) == 2):
            raise TypeError(f"specs: expected a dict {{filter or State: declaration}} or (filter, declaration) "
                            f"pairs, got the entry {item!r}.")
        key, declaration = item
        if isinstance(key, State):
            result.append((lambda path, s, k=key: s is k, declaration))
        else:
            result.append((to_predicate(key), declaration))
    return result


def declaration_of(state: Any, path: Tuple[Any, ...], overrides: List[Tuple[Callable, Any]]) -> Any:
    """What `state` declares about its layout (see the module docstring for the precedence)."""
    for match, declaration in overrides:
        if match(path, state):
            return declaration
    for attr in ("logical_axes", "sharding"):
        declaration = getattr(state, attr, None)
        if declaration is not None:
            return declaration
    return PartitionSpec()


def _trimmed(spec: PartitionSpec) -> PartitionSpec:
    """`spec` without trailing None entries: the form JAX gives the shardings of jit outputs, so
    that a declared sharding compares equal to the one a state's value comes back with."""
    entries = list(spec)
    while entries and entries[-1] is None:
        entries.pop()
    return spec if len(entries) == len(spec) else PartitionSpec(*entries)


def to_named(declaration: Any, mesh: Mesh, rules: Rules, located: Located, value: Any) -> Any:
    """A declaration as a `NamedSharding` of `mesh` (or a tree of them, for a tree declaration),
    after checking that it can hold `value` (an error names the state)."""
    where = located._label()

    def spec(d):
        if isinstance(d, NamedSharding):
            return _trimmed(d.spec)
        if isinstance(d, PartitionSpec):
            return _trimmed(d)
        if is_logical_axes(d):
            return _trimmed(logical_to_mesh_axes(d, rules, where=where))
        raise TypeError(
            f"{where} declares the layout {d!r}, which cannot be placed on a mesh. Declare a PartitionSpec, a "
            f"NamedSharding, or a tuple of logical axis names (with rules mapping them to mesh axes).")

    is_tree = not _is_declaration(declaration)
    specs = jax.tree_util.tree_map(spec, declaration, is_leaf=_is_declaration) if is_tree else spec(declaration)
    with jax.set_mesh(mesh):  # check the bare specs against this mesh, before JAX builds shardings of them
        check_sharding(located, specs, value)
    if is_tree:
        return jax.tree_util.tree_map(lambda s: NamedSharding(mesh, s), specs, is_leaf=_is_declaration)
    return NamedSharding(mesh, specs)


def _check_mesh(mesh: Any, where: str) -> None:
    if not isinstance(mesh, Mesh):
        raise TypeError(f"{where}: mesh must be a jax.sharding.Mesh (e.g. `jax.make_mesh((8,), ('data',))`), "
                        f"got {type(mesh).__name__}.")


def resolve_sharding(state: State, mesh: Mesh, rules: Optional[Rules] = None, *, specs: Specs = None,
                     path: Tuple[Any, ...] = ()) -> Any:
    """The `NamedSharding` that `shard_states` would give `state` on `mesh`, without moving it.

    Args:
      state: the state.
      mesh: the device mesh.
      rules: logical axis rules (see `check_rules`).
      specs: `{filter or State: declaration}` overriding the state's own metadata.
      path: the state's graph path (used by path filters in `specs` and in messages).

    Returns:
      A `NamedSharding`, or a tree of them shaped like the state's value.

    Raises:
      ValueError: the declaration uses an axis the mesh does not have, a logical name without a
        rule, or a mesh axis that does not divide the dimension it splits (naming the state).

    Example:
      >>> import brainstate, jax, jax.numpy as jnp
      >>> mesh = jax.make_mesh((1,), ('model',))
      >>> w = brainstate.ParamState(jnp.ones((4, 8)), logical_axes=('in', 'hidden'))
      >>> brainstate.sharding.resolve_sharding(w, mesh, {'in': None, 'hidden': 'model'}).spec
      P(None, 'model')
    """
    _check_mesh(mesh, "resolve_sharding")
    return to_named(declaration_of(state, path, override_rules(specs)), mesh, check_rules(rules),
                    Located(state, path), state.value)


def shard_states(node: Any, mesh: Mesh, rules: Optional[Rules] = None, *, filter: Any = ...,
                 specs: Specs = None) -> FlattedDict:
    """Place the states of a model on a device mesh, each as it declares, and remember the layout.

    Every state that `filter` selects gets a `NamedSharding` of `mesh` (see the module docstring
    for how it is chosen; undeclared states are replicated), stored in its `sharding` metadata,
    and its value is moved there with `jax.device_put`. `brainstate.transform.jit` then keeps the
    state in that layout across calls.

    Args:
      node: the model (any graph: a module, an optimizer, a dict of both, a list of States).
      mesh: the device mesh.
      rules: logical axis rules, `{logical name: mesh axis, tuple of mesh axes, or None}`.
      filter: which states to place (a brainstate filter); the others are left as they are.
      specs: `{filter or State: declaration}` overriding the states' own metadata, e.g.
        `{brainstate.HiddenState: ('neuron',)}` for states a layer creates itself.

    Returns:
      A `FlattedDict` from each placed state's graph path to its `NamedSharding` (or tree).

    Raises:
      TypeError: `mesh` is not a `Mesh`, or a declaration is not a layout.
      ValueError: a sharding uses an axis the mesh does not have, a logical axis has no rule,
        or a dimension is not divisible by its mesh axes. The message names the state; no state
        is moved then.
      BrainStateError: called inside a traced function, or a selected state holds a JAX tracer
        (placement runs outside `jit`).

    Example:
      >>> import brainstate, jax, jax.numpy as jnp
      >>> mesh = jax.make_mesh((1,), ('data',))
      >>> model = brainstate.nn.Linear(4, 2)
      >>> placed = brainstate.sharding.shard_states(model, mesh)
      >>> placed[('weight',)].spec
      P()
    """
    _check_mesh(mesh, "shard_states")
    if trace_stack():
        raise BrainStateError(
            "shard_states was called inside a traced function (jit, grad, a loop, ...). Place states "
            "once, before compiling; inside, `jit(..., state_shardings=...)` or "
            "`jax.lax.with_sharding_constraint` constrain layouts.")
    table, overrides = check_rules(rules), override_rules(specs)
    plan = []
    for path, state in graph.states(node, filter).items():
        located = Located(state, path)
        if any(isinstance(x, jax.core.Tracer) for x in jax.tree_util.tree_leaves(state.value)):
            raise BrainStateError(
                f"shard_states: {located._label()} holds a JAX tracer. Place states outside traced "
                f"functions (before `jit`), on concrete values.")
        named = to_named(declaration_of(state, path, overrides), mesh, table, located, state.value)
        plan.append((path, state, named))
    for path, state, named in plan:
        state.restore_value(jax.device_put(state.value, named))
        state.sharding = named
    return FlattedDict((path, named) for path, _, named in plan)


def get_sharding(state: State) -> Any:
    """Where a state's value lives now: its `jax.sharding.Sharding` (a tree of them for a PyTree value).

    Leaves that are not JAX arrays (NumPy arrays, Python numbers) have None. Compare with the
    declared layout in `state.sharding` to check that a state kept its sharding.

    Example:
      >>> import brainstate, jax, jax.numpy as jnp
      >>> mesh = jax.make_mesh((1,), ('data',))
      >>> w = brainstate.ParamState(jnp.ones(4), sharding=jax.sharding.PartitionSpec('data'))
      >>> _ = brainstate.sharding.shard_states([w], mesh)
      >>> brainstate.sharding.get_sharding(w) == w.sharding
      True
    """
    leaves, treedef = jax.tree_util.tree_flatten(state.value)
    shardings = [x.sharding if isinstance(x, jax.Array) else None for x in leaves]
    if jax.tree_util.treedef_is_leaf(treedef) and len(leaves) == 1:  # the value is one leaf
        return shardings[0]
    return jax.tree_util.tree_unflatten(treedef, shardings)


def has_declared_sharding(state: State) -> bool:
    """True when every leaf of the state's value lives in the layout its `sharding` metadata declares.

    Layouts are compared by equivalence (the same devices hold the same pieces), so a spec with
    or without trailing None entries counts as the same. A state without `sharding` metadata has
    nothing declared and gives False.

    Example:
      >>> import brainstate, jax, jax.numpy as jnp
      >>> mesh = jax.make_mesh((1,), ('data',))
      >>> w = brainstate.ParamState(jnp.ones((4, 2)), sharding=jax.P('data', None))
      >>> _ = brainstate.sharding.shard_states([w], mesh)
      >>> brainstate.sharding.has_declared_sharding(w)
      True
    """
    declared = getattr(state, "sharding", None)
    if declared is None:
        return False
    leaves = jax.tree_util.tree_leaves(state.value)
    if isinstance(declared, jax.sharding.Sharding):
        pairs = [(declared, x) for x in leaves]
    else:
        shardings, treedef = jax.tree_util.tree_flatten(declared, is_leaf=_is_declaration)
        try:
            # jaxlib ships no stub for PyTreeDef (and flatten_up_to has no public function form).
            parts = treedef.flatten_up_to(state.value)  # type: ignore[attr-defined]
        except ValueError:
            return False
        pairs = [(s, x) for s, part in zip(shardings, parts) for x in jax.tree_util.tree_leaves(part)]
    return all(isinstance(s, jax.sharding.Sharding) and isinstance(x, jax.Array)
               and x.sharding.is_equivalent_to(s, x.ndim) for s, x in pairs)
