"""Ensembles of a model: `vmap_init_all_states` and `vmap_reset_all_states`.

`vmap_init_all_states(model, axis_size=N)` runs `init_all_states` under
`transform.vmap_new_states`, so every state the modules create holds N copies along a leading
axis (N independent initialisations: random initialisers draw different values per copy).
`vmap_reset_all_states(model, axis_size=N)` runs `reset_all_states` the same way: states that
already carry the batch axis (every leaf with a leading axis of size N) are reset per copy and
keep that axis, states the reset creates get it, every other state is shared by all copies.
"""

from typing import Any, Optional, TypeVar

import jax
import numpy as np

from .. import graph
from ..transform import vmap_new_states
from ._collective import init_all_states, reset_all_states

__all__ = ["vmap_init_all_states", "vmap_reset_all_states"]

T = TypeVar("T")


def _need_size(axis_size, where: str) -> int:
    if not isinstance(axis_size, int) or isinstance(axis_size, bool) or axis_size < 1:
        raise ValueError(f"{where}: axis_size must be a positive int (the number of copies), got {axis_size!r}.")
    return axis_size


def vmap_init_all_states(target: T, *init_args: Any, axis_size: Optional[int] = None, node_to_exclude: Any = None,
                         state_to_exclude: Any = None, state_tag: Optional[str] = None, in_states: Any = None,
                         out_states: Any = None, **init_kwargs: Any) -> T:
    """Initialise `target` with `axis_size` copies of every state its modules create.

    Args:
      target: the model.
      *init_args, **init_kwargs: passed to every `init_state`.
      axis_size: the number of copies (required).
      node_to_exclude: a filter of modules whose `init_state` is not called.
      state_to_exclude: a filter of new states that are not batched (they must be the same in
        every copy).
      state_tag: a tag added to every batched new state.
      in_states, out_states: pre-existing batched states, as in `transform.vmap`.

    Returns:
      `target`.

    Raises:
      ValueError: without a positive int `axis_size`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> class Cell(brainstate.nn.Module):
      ...     def init_state(self):
      ...         self.h = brainstate.HiddenState(jnp.zeros(3))
      >>> cell = brainstate.nn.vmap_init_all_states(Cell(), axis_size=4)
      >>> cell.h.value.shape
      (4, 3)
    """
    _need_size(axis_size, "vmap_init_all_states")

    def init():
        init_all_states(target, *init_args, node_to_exclude=node_to_exclude, **init_kwargs)

    vmap_new_states(init, axis_size=axis_size, state_tag=state_tag, state_to_exclude=state_to_exclude,
                    in_states=in_states, out_states=out_states)()
    return target


def vmap_reset_all_states(target: T, *reset_args: Any, axis_size: Optional[int] = None, node_to_exclude: Any = None,
                          state_tag: Optional[str] = None, **reset_kwargs: Any) -> T:
    """Reset every copy of an ensemble made by `vmap_init_all_states`.

    States whose every leaf has a leading axis of size `axis_size` are reset per copy; states
    the reset creates get that axis (and `state_tag`); other states are shared.

    Raises:
      ValueError: without a positive int `axis_size`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> class Cell(brainstate.nn.Module):
      ...     def init_state(self):
      ...         self.h = brainstate.HiddenState(jnp.zeros(2))
      ...     def reset_state(self):
      ...         self.h.value = jnp.zeros(2)
      >>> cell = brainstate.nn.vmap_init_all_states(Cell(), axis_size=4)
      >>> cell.h.value = jnp.ones((4, 2))
      >>> brainstate.nn.vmap_reset_all_states(cell, axis_size=4).h.value.shape
      (4, 2)
    """
    _need_size(axis_size, "vmap_reset_all_states")
    batched = [s for s in graph.states(target).values()
               if all(np.ndim(x) and np.shape(x)[0] == axis_size for x in jax.tree_util.tree_leaves(s.value))]

    def reset():
        reset_all_states(target, *reset_args, node_to_exclude=node_to_exclude, **reset_kwargs)

    vmap_new_states(reset, axis_size=axis_size, state_tag=state_tag, in_states=batched or None)()
    return target
