"""Predicated host actions: raise an error or stop in the debugger when a traced condition holds.

`jit_error_if` and `breakpoint_if` (and `debug_nan_if`) work the same way in every context:

- eagerly (a concrete predicate) they act at once in Python, so the exception is the real one;
- under a trace (`jit`, `for_loop`, `cond`, ...) they stage `lax.cond(flag, host_action, nothing)`
  where `flag` is the predicate reduced over every vmap lane (`any_over_lanes`), so a compiled
  program pays for a host round-trip only when the condition is true, even under `vmap`;
- the host action (`call_host_if`) is one callback per execution, never one per lane: its
  batching rule stacks the lanes, and the host picks the first lane whose predicate holds, so
  the message shows that lane's values.

Only JAX's public API is used: `jax.debug.callback`, `jax.debug.breakpoint`, `lax.cond` and
`jax.custom_batching.custom_vmap`. An error raised inside a compiled program reaches the caller
wrapped in JAX's runtime error, whose message contains the original one.
"""

from typing import Any, Callable, Union

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["jit_error_if", "breakpoint_if", "any_over_lanes", "call_host_if"]


@jax.custom_batching.custom_vmap
def any_over_lanes(flag):
    """`flag` itself outside `vmap`; under `vmap`, whether it is true for any lane (unbatched)."""
    return flag


@any_over_lanes.def_vmap
def _any_over_lanes_rule(axis_size, in_batched, flag):
    batched, = in_batched
    return (jnp.any(flag, axis=0) if batched else flag), False


def _is_traced(*trees) -> bool:
    return any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree_util.tree_leaves(trees))


def _as_flag(pred, where: str):
    """`pred` reduced to one boolean; rejects what cannot be a condition."""
    try:
        pred = jnp.asarray(pred)
    except TypeError:
        raise TypeError(f"{where} needs a boolean array-like predicate, got {type(pred).__name__}: "
                        f"{pred!r}.") from None
    return jnp.any(pred) if pred.ndim else pred.astype(bool)


def _first_true_lane(host: Callable):
    """A staged call of `host(values)` that, under any number of vmaps, runs once per execution.

    The batching rule stacks the lanes (broadcasting unbatched values) instead of letting the
    callback unroll into one host call per lane; the host then picks the first lane whose
    predicate is true.
    """

    def on_host(pred, values):
        pred = np.asarray(pred)
        if not pred.any():
            return
        lane = tuple(int(i) for i in np.argwhere(pred)[0])
        host([np.asarray(v)[lane] for v in values])

    @jax.custom_batching.custom_vmap
    def staged(pred, values):
        jax.debug.callback(on_host, pred, values)
        return ()

    @staged.def_vmap
    def _rule(axis_size, in_batched, pred, values):
        stack = lambda x, b: x if b else jnp.broadcast_to(x, (axis_size,) + jnp.shape(x))
        pred_batched, values_batched = in_batched
        staged(stack(pred, pred_batched), [stack(v, b) for v, b in zip(values, values_batched)])
        return (), ()

    return staged


def call_host_if(pred, host: Callable, values, where: str) -> None:
    """Stage `host(values)` (values as numpy, from the first lane where `pred` holds) when `pred`.

    For traced `pred`/`values` only; the compiled program reaches the host only when the
    (lane-reduced) predicate is true. Gradients do not flow into `values`.
    """
    lane_pred = _as_flag(pred, where)
    values = [jax.lax.stop_gradient(v) for v in values]
    jax.lax.cond(any_over_lanes(lane_pred), _first_true_lane(host), lambda *_: (), lane_pred, values)


def _raise(error: Union[str, Callable], args, kwargs) -> None:
    if isinstance(error, str):
        raise ValueError(message(error, args, kwargs))
    error(*args, **kwargs)


def message(fmt: str, args: tuple, kwargs: dict) -> str:
    """`fmt` with its arguments: `fmt % args` where that works, else `fmt.format(*args)`;
    keywords by `str.format`; unchanged without arguments (braces and all). A message that does
    not take its arguments gets them appended instead of failing."""
    text = fmt
    try:
        if args:
            try:
                text = fmt % args
            except (TypeError, ValueError):
                return fmt.format(*args, **kwargs)
        return text.format(**kwargs) if kwargs else text
    except (IndexError, KeyError, ValueError):
        return f"{fmt} (arguments: {', '.join([*map(repr, args), *(f'{k}={v!r}' for k, v in kwargs.items())])})"


def jit_error_if(pred, error: Union[Callable, str], *err_args, **err_kwargs) -> None:
    """Raise an exception when `pred` is true, eagerly or from inside compiled code.

    Args:
      pred: a boolean (array); the error is raised when any element is true.
      error: a message (raised as a `ValueError`: `error % err_args` where that works, else
        `error.format(*err_args)`, keywords by `str.format`; without arguments the text as it
        is), or a callable called as `error(*err_args, **err_kwargs)` that raises the exception
        it wants.
      *err_args, **err_kwargs: values for the message; arrays show their (per-lane) values.

    Inside `jit`, `for_loop` and the like the exception surfaces when the compiled call runs,
    wrapped in JAX's runtime error (its message contains the original message).

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> @brainstate.transform.jit
      ... def safe_sqrt(x):
      ...     brainstate.transform.jit_error_if(x < 0, "negative input: {}", x)
      ...     return jnp.sqrt(x)
      >>> float(safe_sqrt(4.0))
      2.0
      >>> brainstate.transform.jit_error_if(True, "always {what}", what="fails")
      Traceback (most recent call last):
      ...
      ValueError: always fails
    """
    if not isinstance(error, str) and not callable(error):
        raise TypeError(f"jit_error_if needs `error` to be a message format string or a callable that "
                        f"raises, got {type(error).__name__}: {error!r}.")
    if not _is_traced(pred):
        if bool(_as_flag(pred, "jit_error_if")):
            # Under a raw `jax.grad` the arguments are tracers around known values: show those.
            err_args, err_kwargs = jax.tree_util.tree_map(_known, (err_args, err_kwargs))
            _raise(error, err_args, err_kwargs)
        return

    # Only traced values travel through the compiled program; everything else (Python scalars,
    # strings, objects) stays in the closure and reaches the message unchanged.
    leaves, treedef = jax.tree_util.tree_flatten((err_args, err_kwargs))
    traced = [i for i, leaf in enumerate(leaves) if isinstance(leaf, jax.core.Tracer)]

    def host(traced_values):
        full = list(leaves)
        for i, value in zip(traced, traced_values):
            full[i] = value[()] if value.ndim == 0 else value
        args, kwargs = jax.tree_util.tree_unflatten(treedef, full)
        _raise(error, args, kwargs)

    call_host_if(pred, host, [leaves[i] for i in traced], "jit_error_if")


def _known(x: Any) -> Any:
    """The value inside JVP tracers (`primal`) when it is concrete, else `x`."""
    inner = x
    while isinstance(inner, jax.core.Tracer) and hasattr(inner, "primal"):
        inner = inner.primal
    return x if isinstance(inner, jax.core.Tracer) else inner


def breakpoint_if(pred, **breakpoint_kwargs) -> Any:
    """Enter the JAX debugger (`jax.debug.breakpoint`) only when `pred` is true.

    Args:
      pred: a boolean (array); the breakpoint triggers when any element (any lane) is true.
      **breakpoint_kwargs: passed to `jax.debug.breakpoint` (`backend`, `filter_frames`,
        `num_frames`, `ordered`, ...).

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> brainstate.transform.breakpoint_if(jnp.array(False))  # does nothing
    """
    if not _is_traced(pred):
        if bool(_as_flag(pred, "breakpoint_if")):
            jax.debug.breakpoint(**breakpoint_kwargs)
        return None
    flag = any_over_lanes(_as_flag(pred, "breakpoint_if"))
    jax.lax.cond(flag, lambda: jax.debug.breakpoint(**breakpoint_kwargs), lambda: None)
    return None
