"""`pmap2`: the mapping recipe (`StatefulMapping`) over `jax.pmap`, one lane per device.

States follow `vmap2`'s rules: `state_in_axes` / `state_out_axes` filters choose the states
that carry the device axis, every other state is replicated, random streams are split so each
device draws its own numbers, and `unexpected_out_state_mapping` decides what an undeclared
state written with a per-device value does. `jax.pmap` itself would silently keep one device's
value for such a state, so the recipe checks the body with `jax.vmap` first (once per traced
signature). The pmapped function is cached per discovered state set, so repeated calls reuse
`jax.pmap`'s compiled program.
"""

from typing import Callable, Iterable, Optional, Union

import jax

from ._stateful_mapping import StatefulMapping
from ..typing import MISSING, Missing

__all__ = ["pmap2"]


def pmap2(fn: Union[Callable, Missing] = MISSING, axis_name=None, *, in_axes=0, out_axes=0,
          static_broadcasted_argnums: Union[int, Iterable[int]] = (), devices=None, backend: Optional[str] = None,
          axis_size: Optional[int] = None, donate_argnums: Union[int, Iterable[int]] = (), global_arg_shapes=None,
          state_in_axes=None, state_out_axes=None, unexpected_out_state_mapping: str = "auto"):
    """Run `fn` on every device in parallel (`jax.pmap`), with its states threaded.

    Args:
      fn: the function. Omit it to use `pmap2(...)` as a decorator.
      axis_name: the device axis name for collectives (`jax.lax.psum(x, axis_name)`).
      in_axes, out_axes: as in `jax.pmap`.
      static_broadcasted_argnums: positional arguments closed over as constants.
      devices, backend: as in `jax.pmap`.
      axis_size: the number of devices used; inferred from the mapped arguments and states.
      donate_argnums: not supported (the arguments are repacked before `jax.pmap` sees them).
      global_arg_shapes: accepted for compatibility; ignored.
      state_in_axes, state_out_axes, unexpected_out_state_mapping: as in `vmap2`.

    Raises:
      NotImplementedError: when `donate_argnums` is given.

    Example:
      >>> import brainstate, jax, jax.numpy as jnp
      >>> bias = brainstate.State(jnp.array(1.))
      >>> f = brainstate.transform.pmap2(lambda x: x + bias.value)
      >>> f(jnp.zeros((jax.local_device_count(), 2))).shape[1]
      2
    """
    if isinstance(fn, Missing):
        return lambda f: pmap2(f, axis_name, in_axes=in_axes, out_axes=out_axes,
                               static_broadcasted_argnums=static_broadcasted_argnums, devices=devices,
                               backend=backend, axis_size=axis_size, donate_argnums=donate_argnums,
                               global_arg_shapes=global_arg_shapes, state_in_axes=state_in_axes,
                               state_out_axes=state_out_axes,
                               unexpected_out_state_mapping=unexpected_out_state_mapping)
    if donate_argnums not in ((), None, []):
        raise NotImplementedError(
            "pmap2 does not support donate_argnums: the state values and arguments are repacked "
            "before jax.pmap sees them, so positional donation cannot be honoured. Call jax.pmap "
            "directly on a pure function if you need donation.")
    kwargs = {k: v for k, v in dict(devices=devices, backend=backend).items() if v is not None}
    return StatefulMapping(fn, in_axes, out_axes, state_in_axes=state_in_axes, state_out_axes=state_out_axes,
                           unexpected_out_state_mapping=unexpected_out_state_mapping,
                           static_argnums=static_broadcasted_argnums, axis_size=axis_size, axis_name=axis_name,
                           name="pmap2", mapping_fn=jax.pmap, mapping_kwargs=kwargs)
