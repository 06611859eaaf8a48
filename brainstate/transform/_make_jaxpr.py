"""`make_jaxpr`: the jaxpr of a stateful function, with the states it threads."""

from typing import Callable

from ._stateful import StatefulFunction

__all__ = ["make_jaxpr"]


def make_jaxpr(fun: Callable, static_argnums=(), static_argnames=(), axis_env=None, return_shape: bool = False,
               return_only_write: bool = False) -> Callable:
    """Return a function that gives `(jaxpr, states)` (and the output shapes if `return_shape`).

    The jaxpr's inputs are the values of `states` (in order) followed by the dynamic arguments;
    its outputs are the new values of the written states followed by the function's output.
    With `return_only_write=True`, `states` lists only the written states.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> w = brainstate.State(jnp.ones(2))
      >>> jaxpr, states = brainstate.transform.make_jaxpr(lambda x: w.value * x)(2.0)
      >>> states == (w,)
      True
    """
    sf = StatefulFunction(fun, static_argnums, static_argnames, axis_env=axis_env)

    def make(*args, **kwargs):
        jaxpr = sf.get_jaxpr(*args, **kwargs)
        found = sf.discover(*args, **kwargs)
        states = tuple(found.write_states if return_only_write else found.states)
        if return_shape:
            return jaxpr, states, found.out_shapes
        return jaxpr, states

    return make
