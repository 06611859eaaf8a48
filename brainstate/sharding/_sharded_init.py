"""`sharded_init`: build a model whose states are created directly in their sharded layout.

A model too large for one device cannot be built eagerly and then spread out: the eager
build already needs the whole of every state on one device. `sharded_init` never builds it
eagerly. In three steps:

1. Abstract build. `brainstate.transform.eval_shape` runs the factory abstractly and splits the
   model it returns (`graph.treefy_split`): this gives every state's path, kind, metadata and
   shape, and no array is computed (the random stream does not advance either).
2. Layout. Each state's declaration (`specs`, `logical_axes` or `sharding` metadata, else
   replicated; see `_placement.py`) is resolved on the mesh and checked against its shape.
3. Sharded build. The same factory runs under `brainstate.transform.jit` with those shardings as
   `out_shardings`, returning only the state values; XLA computes each shard on its own device
   (random draws included, JAX's threefry being partitionable), so a state exists only in its
   sharded form. The values are merged back into the graph structure from step 1.

The factory runs several times (traced, never eagerly); it must build the same graph each time
and keep all its arrays in States: an array attribute that is not a State would be a tracer
after the build, and is refused. The random stream advances exactly as one eager call of the
factory would advance it, so `sharded_init` gives the same values as the eager build.
"""

from typing import Any, Callable, Dict, Optional

import jax
from jax.sharding import Mesh

from .._errors import BrainStateError
from .. import graph
from ..transform import eval_shape, jit
from ..util import FlattedDict
from ._logical import Rules, check_rules
from ._placement import Located, Specs, _check_mesh, declaration_of, override_rules, to_named

__all__ = ["sharded_init"]


def sharded_init(factory: Callable[[], Any], mesh: Mesh, rules: Optional[Rules] = None, *,
                 specs: Specs = None) -> Any:
    """Build `factory()`'s model with every state created directly in its sharded layout.

    Args:
      factory: a function of no arguments that builds and returns the model (a module, a dict
        of modules, ...). It is traced, never run eagerly, and may be traced more than once.
      mesh: the device mesh.
      rules: logical axis rules, `{logical name: mesh axis, tuple of mesh axes, or None}`.
      specs: `{filter: declaration}` overriding the states' own metadata; filters see each
        state's path and a `TreefyState` snapshot (state types, tags and `PathContains` work).

    Returns:
      The model, whose states hold arrays sharded over `mesh` and carry their `NamedSharding` in
      their `sharding` metadata (as after `shard_states`).

    Raises:
      ValueError: a state's layout uses an axis the mesh does not have, a logical axis without
        a rule, or a mesh axis that does not divide its dimension (naming the state and path).
      BrainStateError: the factory stored an array outside a State.

    Example:
      >>> import brainstate, jax
      >>> mesh = jax.make_mesh((1,), ('model',))
      >>> layer = brainstate.sharding.sharded_init(
      ...     lambda: brainstate.nn.Linear(4, 8), mesh,
      ...     specs={brainstate.ParamState: {'weight': jax.P(None, 'model'), 'bias': jax.P('model')}})
      >>> layer.weight.value['weight'].sharding.spec
      P(None, 'model')
    """
    _check_mesh(mesh, "sharded_init")
    if not callable(factory):
        raise TypeError(f"sharded_init: factory must be a function of no arguments that builds the model, got "
                        f"{type(factory).__name__}.")
    table, overrides = check_rules(rules), override_rules(specs)
    built: Dict[str, Any] = {}  # what `build` made while traced: its graphdef and state items

    def build():
        node = factory()
        graphdef, tree = graph.treefy_split(node)
        items = list(FlattedDict.from_nest(tree).items())
        built.update(graphdef=graphdef, items=items)
        return [ref.value for _, ref in items]

    shapes = eval_shape(build)
    shardings, snapshots = [], built["items"]
    for (path, ref), shape in zip(snapshots, shapes):
        shardings.append(to_named(declaration_of(ref, path, overrides), mesh, table, Located(ref, path), shape))

    values = jit(build, out_shardings=shardings)()
    node = graph.treefy_merge(built["graphdef"], FlattedDict(
        (path, ref.replace(value)) for (path, ref), value in zip(built["items"], values)).to_nest())
    for path, leaf in graph.iter_leaf(node):
        if any(isinstance(x, jax.core.Tracer) for x in jax.tree_util.tree_leaves(leaf)):
            raise BrainStateError(
                f"sharded_init: the factory stored an array at path {'.'.join(map(str, path))!r} outside a "
                f"State, so it only existed inside the traced build. Keep model arrays in States, or "
                f"build such constants from concrete values (NumPy) in the factory.")
    placed = dict(zip((path for path, _ in snapshots), shardings))
    for path, state in graph.states(node).items():
        state.sharding = placed[path]
    return node
