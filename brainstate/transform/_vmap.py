"""`vmap`, `vmap2` and `unvmap`: vectorising a function that reads and writes states.

Both vmaps are `StatefulMapping` (the mapping recipe on the engine) over `jax.vmap`; they differ
only in how batched states are named:

- `vmap` takes declarations: `in_states` / `out_states` list the States whose values carry the
  batch axis (a State, an iterable or dict of States, or `{axis: states}`). Every other state
  is broadcast, and writing a batched value to one raises `BatchAxisError` (the state keeps its
  old value). A random stream the function draws from is split per lane.
- `vmap2` takes filters: `state_in_axes` / `state_out_axes` are `{axis: filter}` or a filter
  (axis 0), and `unexpected_out_state_mapping` chooses what an undeclared batched write does.

`unvmap(x, op)` reduces a value over every vmapped axis it carries, so a batched condition can
drive an unbatched decision (an error check, a loop exit). It is a `jax.custom_batching` rule:
outside any vmap it is the plain reduction.
"""

from typing import Any, Callable, Dict, Optional, Union

import jax
import jax.numpy as jnp
from jax.custom_batching import custom_vmap

from .._state import State
from ..typing import MISSING, Missing
from ._stateful_mapping import StatefulMapping

__all__ = ["vmap", "vmap2", "unvmap"]




def _declared(spec, where: str):
    """Check that a declaration holds only States; return it as `{axis: [states]}` (or None)."""
    if spec is None:
        return None
    if isinstance(spec, dict) and spec and all(isinstance(k, int) and not isinstance(k, bool) for k in spec):
        return {axis: _state_list(states, f"{where}[{axis}]") for axis, states in spec.items()}
    return {0: _state_list(spec, where)}


def _state_list(spec, where: str) -> list:
    if isinstance(spec, State):
        return [spec]
    items = list(spec.values()) if isinstance(spec, dict) else spec
    try:
        items = list(items)
    except TypeError:
        items = [items]
    for x in items:
        if not isinstance(x, State):
            raise TypeError(
                f"vmap: {where} must hold States (a State, an iterable or dict of States, or "
                f"{{axis: states}}); found {type(x).__name__}: {x!r}. To select states by kind or "
                f"tag, use vmap2 with state_in_axes / state_out_axes filters.")
    return items


def vmap(fn: Union[Callable, Missing] = MISSING, *, in_axes=0, out_axes=0, axis_name=None,
         axis_size: Optional[int] = None, spmd_axis_name=None, in_states=None, out_states=None):
    """Vectorise `fn` over a batch axis; states are broadcast unless declared batched.

    Args:
      fn: the function (or callable module). Omit it to use `vmap(...)` as a decorator.
      in_axes, out_axes: as in `jax.vmap` (keyword arguments are mapped over axis 0).
      axis_name: a name for collectives (`jax.lax.psum(x, axis_name)`).
      axis_size: the batch size; inferred from the mapped arguments and states when None.
      spmd_axis_name: passed to `jax.vmap`.
      in_states: States whose values carry the batch axis: a State, an iterable or dict of
        States, or `{axis: states}`. Each lane sees its slice; a written one is stacked back
        along the same axis.
      out_states: written States whose new value is stacked along an axis (same forms). A state
        only in `out_states` is broadcast in and gains the batch axis.

    Returns:
      The vectorised function (a `StatefulMapping`).

    Raises:
      BatchAxisError: when an undeclared state is written with a value that differs between
        lanes. The state keeps its old value.
      ValueError: for a wrong number of `in_axes`, or inconsistent batch sizes.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> w = brainstate.ParamState(jnp.array(2.))          # read only: broadcast
      >>> h = brainstate.HiddenState(jnp.zeros((3, 2)))     # one hidden vector per lane
      >>> @brainstate.transform.vmap(in_states=h)
      ... def step(x):
      ...     h.value = h.value * w.value + x
      ...     return h.value.sum()
      >>> step(jnp.ones((3, 2))).tolist(), h.value.shape
      ([2.0, 2.0, 2.0], (3, 2))
    """
    if isinstance(fn, Missing):
        return lambda f: vmap(f, in_axes=in_axes, out_axes=out_axes, axis_name=axis_name, axis_size=axis_size,
                              spmd_axis_name=spmd_axis_name, in_states=in_states, out_states=out_states)
    mapping = StatefulMapping(fn, in_axes, out_axes, state_in_axes=_declared(in_states, "in_states"),
                              state_out_axes=_declared(out_states, "out_states"), unexpected_out_state_mapping="raise",
                              axis_size=axis_size, axis_name=axis_name, name="vmap",
                              mapping_kwargs=_spmd(spmd_axis_name), words=("in_states", "out_states"),
                              random_follows_filters=True)
    return mapping


def _spmd(spmd_axis_name) -> Dict[str, Any]:
    return {} if spmd_axis_name is None else {"spmd_axis_name": spmd_axis_name}


def vmap2(fn: Union[Callable, Missing] = MISSING, *, in_axes=0, out_axes=0, axis_name=None,
          axis_size: Optional[int] = None,
          spmd_axis_name=None, state_in_axes=None, state_out_axes=None, unexpected_out_state_mapping: str = "auto"):
    """Vectorise `fn`, selecting batched states with filters.

    Args:
      fn: the function. Omit it to use `vmap2(...)` as a decorator.
      in_axes, out_axes, axis_name, axis_size, spmd_axis_name: as in `vmap`.
      state_in_axes: `{axis: filter}` or a filter (axis 0): states fed per lane. A filter is a
        State type, a tag, a callable, a `brainstate.util` filter, a State or States.
      state_out_axes: `{axis: filter}` or a filter: written states stacked along that axis. A
        state selected by `state_in_axes` is written back along its input axis by default.
      unexpected_out_state_mapping: for an undeclared state written with a batched value:
        'raise' (`BatchAxisError`), 'warn' (warn, then write it back with the batch axis in
        front), 'ignore' (the same, silently) or 'auto' (like 'ignore', and on later calls a
        state whose leading size equals the batch size is fed per lane).

    Random streams (`brainstate.random.RandomState`) are always split per lane.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> counter = brainstate.ShortTermState(jnp.zeros(3))
      >>> @brainstate.transform.vmap2(state_in_axes={0: brainstate.ShortTermState})
      ... def accumulate(x):
      ...     counter.value = counter.value + x
      ...     return counter.value
      >>> accumulate(jnp.array([1., 2., 3.])).tolist()
      [1.0, 2.0, 3.0]
    """
    if isinstance(fn, Missing):
        return lambda f: vmap2(f, in_axes=in_axes, out_axes=out_axes, axis_name=axis_name, axis_size=axis_size,
                               spmd_axis_name=spmd_axis_name, state_in_axes=state_in_axes,
                               state_out_axes=state_out_axes, unexpected_out_state_mapping=unexpected_out_state_mapping)
    return StatefulMapping(fn, in_axes, out_axes, state_in_axes=state_in_axes, state_out_axes=state_out_axes,
                           unexpected_out_state_mapping=unexpected_out_state_mapping, axis_size=axis_size,
                           axis_name=axis_name, name="vmap2", mapping_kwargs=_spmd(spmd_axis_name))


# -- unvmap -------------------------------------------------------------------------------------
def _unvmapped(reduce: Callable) -> Callable:
    """`reduce` over the whole value, including every vmapped axis it carries."""

    @custom_vmap
    def op(x):
        return reduce(x)

    @op.def_vmap
    def rule(axis_size, in_batched, x):
        # x carries this vmap's axis in front now; reduce again for enclosing vmaps.
        return op(x), False

    return op


_OPS = {
    "all": _unvmapped(jnp.all),
    "any": _unvmapped(jnp.any),
    "max": _unvmapped(jnp.max),
    "min": _unvmapped(jnp.min),
    "sum": _unvmapped(jnp.sum),
    "none": _unvmapped(lambda x: x),
}


def unvmap(x, op: str = "any"):
    """Reduce `x` over all its elements and every vmapped axis, leaving an unbatched value.

    Args:
      x: one array.
      op: 'any', 'all', 'max', 'min', 'sum', or 'none' (no reduction: the whole batched value,
        with each vmapped axis in front, as one unbatched array).

    Raises:
      ValueError: for an unknown `op`.

    Example:
      >>> import jax, jax.numpy as jnp, brainstate
      >>> xs = jnp.array([[True, False], [True, True]])
      >>> jax.vmap(lambda x: brainstate.transform.unvmap(x, op='all'))(xs).tolist()
      [False, False]
    """
    fn = _OPS.get(op)
    if fn is None:
        raise ValueError(f"unvmap: op must be one of {sorted(_OPS)}, got {op!r}.")
    return fn(jnp.asarray(x))
