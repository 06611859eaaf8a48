"""`shard_map`: `jax.shard_map` for a function that reads and writes states.

Discovery traces the function as one shard sees it (mapped arguments and sharded states at
their per-shard shape, `StatefulFunction(state_view=...)`, with the mesh's axis names bound for
collectives), which gives the state layout: the state values become extra inputs of
`jax.shard_map` and the written values extra outputs. The body then runs the function once
more, inside `jax.shard_map` (`run_fed`): only there do values carry which mesh axes they vary
over, which JAX needs to type collectives and replicated outputs (`check_vma`). So shard_map is
the one transform whose function runs twice on its first trace for a signature (once when the
layout is already cached).

Each state has a `PartitionSpec`: `state_in_specs` gives it (one spec for every state, or a
`{State: spec}` dict; default `P()`, replicated), and a written state comes back with its
`state_out_specs` spec (default: its input spec). Inputs are placed on the mesh with
`jax.device_put`, so the function works eagerly and under `jit`. A replicated state must be
written with a value that is the same on every shard (reduce it with a collective such as
`jax.lax.psum` first); with `check_vma=True` JAX checks this.
"""

from typing import Any, Callable, Dict, Optional, Union

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from .._errors import BatchAxisError, BrainStateError
from .._state import State
from ._stateful import StatefulFunction, check_no_state_args, run_fed

__all__ = ["shard_map"]

SpecOrDict = Optional[Union[PartitionSpec, Dict[State, PartitionSpec]]]


def _spec_for(specs, state, default) -> PartitionSpec:
    if specs is None:
        return default
    if isinstance(specs, PartitionSpec):
        return specs
    return specs.get(state, default)


def _check_specs(specs, where: str) -> None:
    if specs is None or isinstance(specs, PartitionSpec):
        return
    if not isinstance(specs, dict) or not all(isinstance(k, State) and isinstance(v, PartitionSpec)
                                              for k, v in specs.items()):
        raise TypeError(f"shard_map: {where} must be a PartitionSpec or a dict {{State: PartitionSpec}}, "
                        f"got {specs!r}.")


def _local_shape(shape, spec: PartitionSpec, mesh: Mesh, name: str):
    local = list(shape)
    for d, axes in enumerate(spec):
        if axes is None:
            continue
        if d >= len(local):
            raise ValueError(f"shard_map: {name} has shape {tuple(shape)} but its spec {spec} shards "
                             f"dimension {d}. Give a spec with at most one entry per dimension.")
        n = int(np.prod([mesh.shape[a] for a in (axes if isinstance(axes, tuple) else (axes,))]))
        if local[d] % n:
            raise ValueError(f"shard_map: {name} has size {local[d]} along dimension {d}, which does not "
                             f"split evenly over the {n} devices of mesh axes {axes!r} (spec {spec}).")
        local[d] //= n
    return tuple(local)


def _local(tree, spec, mesh, name):
    """The abstract value one shard sees of `tree` sharded by `spec`."""
    def leaf(x):
        aval = jax.eval_shape(lambda v: v, x)
        return jax.ShapeDtypeStruct(_local_shape(aval.shape, spec, mesh, name), aval.dtype, weak_type=aval.weak_type)

    return jax.tree_util.tree_map(leaf, tree)


def shard_map(fun: Callable, mesh: Mesh, in_specs: Any, out_specs: Any, *, state_in_specs: SpecOrDict = None,
              state_out_specs: SpecOrDict = None, check_vma: bool = True) -> Callable:
    """Run `fun` on shards of its inputs across `mesh` (SPMD), with its states threaded.

    Args:
      fun: the function; keyword arguments are passed whole to every shard.
      mesh: the device mesh (`jax.make_mesh((8,), ('x',))`).
      in_specs: a `PartitionSpec` per positional argument (a tuple), or one for all of them.
      out_specs: the output's `PartitionSpec` (tree).
      state_in_specs: a `PartitionSpec` for every state, or `{State: PartitionSpec}`; states not
        listed are replicated (`P()`).
      state_out_specs: the same for written states; default: each state's input spec.
      check_vma: passed to `jax.shard_map`.

    Returns:
      The sharded function.

    Raises:
      ValueError: when `in_specs` does not have one entry per positional argument, or a
        dimension does not split evenly over the devices of its mesh axes.

    Example:
      >>> import brainstate, jax, jax.numpy as jnp
      >>> from jax.sharding import PartitionSpec as P
      >>> mesh = jax.make_mesh((1,), ('x',))
      >>> w = brainstate.State(jnp.array(3.))
      >>> f = brainstate.transform.shard_map(lambda x: x * w.value, mesh, in_specs=P('x'), out_specs=P('x'))
      >>> f(jnp.arange(2.)).tolist()
      [0.0, 3.0]
    """
    if not callable(fun):
        raise TypeError(f"shard_map expects a callable, got {type(fun).__name__}: {fun!r}.")
    _check_specs(state_in_specs, "state_in_specs")
    _check_specs(state_out_specs, "state_out_specs")
    replicated = PartitionSpec()

    def view(state, avals):
        spec = _spec_for(state_in_specs, state, replicated)
        if spec == replicated:
            return None
        return _local(avals, spec, mesh, state._label())

    sf = StatefulFunction(fun, axis_env=list(mesh.shape.items()), state_view=view)

    def put(tree, spec):
        return jax.tree_util.tree_map(lambda x: jax.device_put(x, NamedSharding(mesh, spec)), tree)

    def sharded(*args, **kwargs):
        check_no_state_args(args, kwargs, "shard_map")
        specs = tuple(in_specs) if isinstance(in_specs, (tuple, list)) else (in_specs,) * len(args)
        if len(specs) != len(args):
            raise ValueError(
                f"shard_map: in_specs has {len(specs)} entries but the function was called with {len(args)} "
                f"positional argument(s). Give one PartitionSpec per positional argument, or a single "
                f"PartitionSpec for all of them.")
        local_args = tuple(_local(a, sp, mesh, f"args[{i}]") for i, (a, sp) in enumerate(zip(args, specs)))

        def jax_call(pure, values, found):
            s_in = [_spec_for(state_in_specs, s, replicated) for s in found.states]
            index = {id(s): i for i, s in enumerate(found.states)}
            s_out = [_spec_for(state_out_specs, s, s_in[index[id(s)]]) for s in found.write_states]

            def body(vals, a):
                return run_fed(found, fun, found.states, vals, found.write_states, a, kwargs)

            vals = [put(v, sp) for v, sp in zip(values, s_in)]
            placed = tuple(put(a, sp) for a, sp in zip(args, specs))
            try:
                return jax.shard_map(body, mesh=mesh, in_specs=(s_in, specs), out_specs=(s_out, out_specs),
                                     check_vma=check_vma)(vals, placed)
            except BrainStateError:
                raise  # the function's own error (also a ValueError): not about output specs
            except ValueError as err:
                for k, state in enumerate(found.write_states):
                    def only(vals, a, k=k):
                        return run_fed(found, fun, found.states, vals, found.write_states, a, kwargs)[0][k]

                    try:
                        jax.eval_shape(jax.shard_map(only, mesh=mesh, in_specs=(s_in, specs), out_specs=s_out[k],
                                                     check_vma=check_vma), vals, placed)
                    except BrainStateError:
                        raise
                    except ValueError:
                        raise BatchAxisError(
                            f"{state._label()} was written inside shard_map with a value that differs "
                            f"between shards, but its output spec {s_out[k]} says it is the same on every "
                            f"shard. Reduce the value with a collective first (`jax.lax.psum(v, axis)`), "
                            f"or give the state a sharded spec in state_in_specs / state_out_specs. The "
                            f"state keeps its old value.") from err
                raise

        def restored(found):
            # Another output spec than the input one changes the global shape on purpose.
            reshaped = [_spec_for(state_out_specs, s, _spec_for(state_in_specs, s, replicated))
                        != _spec_for(state_in_specs, s, replicated) for s in found.write_states]
            return [a or b for a, b in zip(reshaped, found.write_restored())]

        return sf.call(jax_call, local_args, kwargs, restored=restored)

    setattr(sharded, "stateful_fun", sf)  # a function attribute, which mypy cannot declare
    return sharded
