"""`make_jaxpr`: the jaxpr of a stateful function, with the states it threads."""

from typing import Callable

from ._stateful import StatefulFunction

__all__ = ["make_jaxpr"]


def make_jaxpr(fun: Callable, static_argnums=(), static_argnames=(), axis_env=None, return_shape: bool = False,
               return_only_write: bool = False) -> Callable:
    """Return a function that gives `(jaxpr, states)` (and the output shapes if `return_shape`).

    The jaxpr's inputs are the dynamic arguments followed by the values of `states` (in order of
    first use); its outputs are the function's output followed by the new value of every state,
    or, with `return_only_write=True`, of the written states only. `states` lists every state.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> w = brainstate.State(jnp.ones(2))
      >>> jaxpr, states = brainstate.transform.make_jaxpr(lambda x: w.value * x)(2.0)
      >>> states == (w,)
      True
    """
    sf = StatefulFunction(fun, static_argnums, static_argnames, axis_env=axis_env,
                           return_only_write=return_only_write)

    def make(*args, **kwargs):
        jaxpr = sf.get_jaxpr(*args, **kwargs)
        found = sf.discover(*args, **kwargs)
        states = tuple(found.states)
        if return_shape:
            return jaxpr, states, found.out_shapes
        return jaxpr, states

    return make
