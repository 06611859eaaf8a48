"""`map`: apply a function to every slice of its inputs, sequentially or in vectorised chunks.

Without `batch_size`, `map(f, *xs)` is `for_loop(f, *xs)`: one element per step of a
`jax.lax.scan`, states threaded through the loop carry exactly as an eager Python loop would
update them. With `batch_size=B`, the elements are processed B at a time by the state-aware
`vmap` inside the loop (and the remainder by one more `vmap`), trading memory for throughput.

Invariant: the chunked path gives the same results as the sequential one, or refuses to run.
Inside a chunk the B elements run at once, so a state written by `f` could not be updated
element by element; `map` therefore rejects a chunked `f` that writes any state other than a
random stream (random draws are split per element by `vmap`).
"""

from typing import Any, Callable, Optional

import jax
import jax.numpy as jnp

from ._loops import count, for_loop, loop_length, one_step
from ._stateful import StatefulFunction, check_no_state_args
from ._stateful_mapping import _random_state_type
from ._vmap import vmap

__all__ = ["map"]


def map(f: Callable, *xs, batch_size: Optional[int] = None) -> Any:
    """Apply `f` to every slice of `xs` along the leading axis; return the stacked results.

    Args:
      f: the function, `f(*x) -> y`; it may read states, and write them when `batch_size` is
        None.
      *xs: arrays (or PyTrees) with a common leading axis.
      batch_size: process this many elements at once with `vmap` (None: one at a time).

    Returns:
      The stacked outputs, like `jax.lax.map`.

    Raises:
      ValueError: for a `batch_size` that is not a positive int, or when `batch_size` is given
        and `f` writes a state that is not a random stream.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> scale = brainstate.State(jnp.array(2.))
      >>> brainstate.transform.map(lambda x: x * scale.value, jnp.arange(5.), batch_size=2).tolist()
      [0.0, 2.0, 4.0, 6.0, 8.0]
    """
    check_no_state_args(xs, {}, "map")
    n = loop_length(xs, None, "map")  # (checked here, so errors name `map`)
    if batch_size is None:
        return for_loop(f, *xs)
    size = count(batch_size)
    if size is None or size < 1:
        raise ValueError(f"map: batch_size must be a positive int or None, got {batch_size!r}.")
    batch_size = size
    _check_no_writes(f, xs)
    batched = vmap(f)
    n_full = n - n % batch_size
    parts = []
    if n_full:
        chunks = jax.tree_util.tree_map(
            lambda x: jnp.reshape(x[:n_full], (n_full // batch_size, batch_size) + jnp.shape(x)[1:]), xs)
        ys = for_loop(batched, *chunks)
        parts.append(jax.tree_util.tree_map(lambda y: jnp.reshape(y, (n_full,) + jnp.shape(y)[2:]), ys))
    if n_full < n:
        parts.append(batched(*jax.tree_util.tree_map(lambda x: x[n_full:], xs)))
    if len(parts) == 1:
        return parts[0]
    return jax.tree_util.tree_map(lambda a, b: jnp.concatenate([a, b]), *parts)


def _check_no_writes(f: Callable, xs) -> None:
    rng = _random_state_type()
    found = StatefulFunction(f).discover(*one_step(xs))
    for state in found.write_states:
        if rng is None or not isinstance(state, rng):
            raise ValueError(
                f"map with batch_size writes {state._label()}: a chunk of batch_size elements runs "
                f"at once, so the state cannot be updated element by element as a sequential map "
                f"would. Use map without batch_size, or vmap with the state in out_states.")
