"""State-aware `checkpoint` (alias `remat`): `jax.checkpoint` on the engine's pure function.

Under reverse-mode AD the function's intermediate values are recomputed in the backward pass
instead of stored. States are threaded as in every transform: their values go in as arguments
of the checkpointed function (so gradients flow to them) and the written values come out. The
wrapper keeps one `StatefulFunction`, so state discovery is cached per call signature.
"""

import functools
from typing import Callable, Optional, Tuple, Union

import jax

from ..typing import MISSING, Missing
from ._stateful import StatefulFunction

__all__ = ["checkpoint", "remat"]


def checkpoint(fun: Union[Callable, Missing] = MISSING, *, prevent_cse: bool = True,
               policy: Optional[Callable[..., bool]] = None,
               static_argnums: Union[int, Tuple[int, ...]] = ()) -> Callable:
    """Make `fun` recompute its internals during the backward pass (`jax.checkpoint`).

    Usable as `checkpoint(f)`, `@checkpoint` and `@checkpoint(policy=...)`.

    Args:
      fun: the function; it may read and write states.
      prevent_cse: as in `jax.checkpoint`: stop XLA from merging the recomputation with the
        forward pass.
      policy: a `jax.checkpoint_policies` policy choosing which intermediates to save.
      static_argnums: positional arguments that are compile-time constants.

    Example:
      >>> import brainstate, jax, jax.numpy as jnp
      >>> w = brainstate.ParamState(jnp.array(2.))
      >>> f = brainstate.transform.checkpoint(lambda x: jnp.sin(w.value * x))
      >>> g = brainstate.transform.grad(f, grad_states=w)(1.)
      >>> bool(jnp.allclose(g, jnp.cos(2.)))
      True
    """
    if isinstance(fun, Missing):
        return functools.partial(checkpoint, prevent_cse=prevent_cse, policy=policy, static_argnums=static_argnums)
    if not callable(fun):
        raise TypeError(f"checkpoint expects a callable, got {type(fun).__name__}: {fun!r}.")
    static = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)
    sf = StatefulFunction(fun, static_argnums=static)

    @functools.wraps(fun)
    def remat_fun(*args, **kwargs):
        def jax_call(pure, values, found):
            # Static arguments are baked into the traced jaxpr: only dynamic ones go through.
            dyn_args, dyn_kwargs, _, rebuild = found.signature.split(args, kwargs)

            def run(vals, d_args, d_kwargs):
                full_args, full_kwargs = rebuild(d_args, d_kwargs)
                return pure(vals, *full_args, **full_kwargs)

            return jax.checkpoint(run, prevent_cse=prevent_cse, policy=policy)(values, dyn_args, dyn_kwargs)

        return sf.call(jax_call, args, kwargs)

    setattr(remat_fun, "stateful_fun", sf)  # a function attribute, which mypy cannot declare
    return remat_fun


remat = checkpoint
