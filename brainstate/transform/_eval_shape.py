"""State-aware `eval_shape`: the output shapes of a stateful function, computed without running it.

The engine recipe with `jax.eval_shape` as the JAX transform: the pure function
`(state_values, *args) -> (written_values, out)` is evaluated abstractly, the abstract written
values are recorded, and nothing is committed. So no array is computed and
no state changes, while the shapes include what the function would write.

Graph nodes cross the boundary as in the reference release: a module passed as an argument
goes in as its pure tree (`graph.graph_to_tree`) and is rebuilt inside, and a module the
function returns comes back rebuilt with `jax.ShapeDtypeStruct`s as its states' values — so
`eval_shape(lambda: Net())` builds a model abstractly (for sizing it, or as the target of a
checkpoint restore) without allocating its arrays.
"""

from typing import Any, Callable, Dict, Literal, Tuple, TypeVar, overload

import jax

from .._state import State
from ..graph import graph_to_tree, tree_to_graph
from ._stateful import StatefulFunction

__all__ = ["eval_shape"]

A = TypeVar("A")


def _shape_of(value):
    return jax.tree_util.tree_map(lambda x: jax.ShapeDtypeStruct(jax.numpy.shape(x), jax.numpy.result_type(x)),
                                  value)


@overload
def eval_shape(f: Callable[..., A], *args: Any, return_state_shapes: Literal[False] = False, **kwargs: Any) -> A: ...
@overload
def eval_shape(f: Callable[..., A], *args: Any, return_state_shapes: Literal[True],
               **kwargs: Any) -> Tuple[Dict[State, Any], A]: ...
@overload
def eval_shape(f: Callable[..., A], *args: Any, return_state_shapes: bool, **kwargs: Any) -> Any: ...


def eval_shape(f: Callable[..., A], *args: Any, return_state_shapes: bool = False, **kwargs: Any) -> Any:
    """Shapes and dtypes of `f(*args, **kwargs)`, without computing it or changing any state.

    Args:
      f: the function; it may read and write states.
      *args, **kwargs: example arguments: arrays or `jax.ShapeDtypeStruct`s (pytrees of them).
      return_state_shapes: also return the shapes of the states `f` touches.

    Returns:
      The output as a pytree of `jax.ShapeDtypeStruct`. With `return_state_shapes=True`,
      `(state_shapes, out)` where `state_shapes` maps every state `f` reads or writes to the
      shape of its value after the call (a written state: the shape of the value `f` writes).

    Example:
      >>> import brainstate, jax, jax.numpy as jnp
      >>> h = brainstate.State(jnp.zeros(4))
      >>> def step(x):
      ...     h.value = h.value + x
      ...     return jnp.outer(h.value, x)
      >>> states, out = brainstate.transform.eval_shape(step, jnp.ones(4), return_state_shapes=True)
      >>> out.shape, states[h].shape, float(h.value.sum())
      ((4, 4), (4,), 0.0)
    """
    if not callable(f):
        raise TypeError(f"eval_shape expects a callable, got {type(f).__name__}: {f!r}.")
    (tree_args, tree_kwargs), _ = graph_to_tree((args, kwargs))

    def pure_f(*inner_args, **inner_kwargs):
        inner_args, inner_kwargs = tree_to_graph((inner_args, inner_kwargs))
        return graph_to_tree(f(*inner_args, **inner_kwargs))[0]

    stateful = StatefulFunction(pure_f, name=getattr(f, "__name__", None))
    state_shapes: Dict[State, Any] = {}

    def jax_call(pure, values, found):
        written, out = jax.eval_shape(pure, values, *tree_args, **tree_kwargs)
        state_shapes.clear()
        state_shapes.update((state, _shape_of(value)) for state, value in zip(found.states, values))
        state_shapes.update(zip(found.write_states, written))
        return written, out

    out = tree_to_graph(stateful.call(jax_call, tree_args, tree_kwargs, write=False))
    return (state_shapes, out) if return_state_shapes else out
