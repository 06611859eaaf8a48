"""State-aware `while_loop` and `bounded_while_loop`.

Both run the engine recipe on the body: states the body writes ride in the carry next to the
loop value, states it only reads are constants. The condition is discovered on its own and may
only *read* states; reading one the body writes sees the carried (current) value. A condition
that writes a state is an error: JAX evaluates it an unspecified number of times, so a write
there has no well-defined meaning.

`while_loop` is `jax.lax.while_loop` (forward-mode differentiable only). `bounded_while_loop`
runs at most `max_steps` steps as nested scans of `base` blocks, each block skipped by a
`lax.cond` once the condition is false and rematerialised under reverse-mode AD, so it is
reverse-mode differentiable with O(base · log_base max_steps) memory.
"""

from typing import Callable, TypeVar

import jax
import jax.numpy as jnp

from .._errors import BrainStateError
from ._loops import (abstract, body_context, check_carried_states, count, same_signature, show_signature,
                     writes_into)
from .._state._commit import gather
from ._stateful import StatefulFunction, check_no_state_args

__all__ = ["while_loop", "bounded_while_loop"]

T = TypeVar("T")


def while_recipe(cond_fun: Callable, body_fun: Callable, init_val, where: str, loop: Callable):
    """Thread states through `loop(pred, body, carry) -> carry` built from the two functions."""
    for name, fn in (("cond_fun", cond_fun), ("body_fun", body_fun)):
        if not callable(fn):
            raise TypeError(f"{where}: {name} must be callable, got {type(fn).__name__}: {fn!r}.")
    check_no_state_args((init_val,), {}, where)
    shapes = abstract(init_val)
    cond_sf = StatefulFunction(cond_fun)

    def jax_call(body_pure, values, found):
        cond_found = cond_sf.discover(shapes)
        _check_cond(cond_found, where)
        if not same_signature(found.out_shapes, shapes):
            raise TypeError(
                f"{where}: body_fun returns {show_signature(found.out_shapes)} but the loop value is "
                f"{show_signature(shapes)}. The body must return a value of the same structure, shapes and "
                f"dtypes as init_val.")
        write_pos = writes_into(found)
        carried = {id(s): k for k, s in enumerate(found.write_states)}
        cond_values = gather(cond_found.states)
        cond_carried = [(j, carried[id(s)]) for j, s in enumerate(cond_found.states) if id(s) in carried]
        cond_pure = cond_found.pure(cond_found.states, ())

        def pred(carry):
            val, written = carry
            vals = list(cond_values)
            for j, k in cond_carried:
                vals[j] = written[k]
            return cond_pure(vals, val)[1]

        def body(carry):
            val, before = carry
            vals = list(values)
            for p, v in zip(write_pos, before):
                vals[p] = v
            written, val = body_pure(vals, val)
            check_carried_states(found.write_states, before, written, where)
            return val, written

        val, written = loop(pred, body, (init_val, [values[p] for p in write_pos]))
        return written, val

    body_sf = StatefulFunction(body_fun)
    with body_context(where):
        promoted = _promoted(shapes, body_sf.discover(shapes).out_shapes)
        if promoted is not None:
            # As `jax.lax.while_loop` does: a weakly typed loop value (`0`) the body turns into
            # another dtype (`c + 1.`) takes that dtype from the start, and both functions are
            # traced for it (the body a second time, for the new type).
            init_val = jax.tree_util.tree_map(lambda x, a: jnp.asarray(x, a.dtype), init_val, promoted)
            shapes = abstract(init_val)
        return body_sf.call(jax_call, (shapes,), {})


def _promoted(shapes, out_shapes):
    """The loop value's abstract values with weak leaves promoted to the body's output dtypes,
    or None when nothing changes (or the structures differ: `jax_call` reports that)."""
    leaves, tree = jax.tree_util.tree_flatten(shapes)
    out_leaves, out_tree = jax.tree_util.tree_flatten(out_shapes)
    if tree != out_tree or not any(getattr(a, "weak_type", False) and a.dtype != b.dtype
                                   for a, b in zip(leaves, out_leaves)):
        return None
    new = [a.update(dtype=b.dtype, weak_type=b.weak_type) if getattr(a, "weak_type", False) and a.dtype != b.dtype
           and jnp.promote_types(a.dtype, b.dtype) == b.dtype else a for a, b in zip(leaves, out_leaves)]
    return jax.tree_util.tree_unflatten(tree, new)


def _check_cond(found, where: str) -> None:
    if found.write_states:
        state = found.write_states[0]
        raise BrainStateError(
            f"{where}: cond_fun writes {state._label()}. A loop condition must be free of side "
            f"effects (it is evaluated an unspecified number of times); move the write into "
            f"body_fun.")
    out = found.out_shapes
    if not (hasattr(out, "shape") and out.shape == () and out.dtype == jnp.bool_):
        raise TypeError(f"{where}: cond_fun must return a boolean scalar, got {show_signature(out)}.")



def while_loop(cond_fun: Callable[[T], bool], body_fun: Callable[[T], T], init_val: T) -> T:
    """`jax.lax.while_loop` for functions that use states.

    States `body_fun` writes are carried and hold their final values afterwards. `cond_fun` may
    read states (it sees the current carried value) but must not write any.

    Args:
      cond_fun: `cond_fun(val) -> bool scalar`; the loop runs while it is true.
      body_fun: `body_fun(val) -> val`.
      init_val: the initial loop value.

    Returns:
      The final loop value.

    Raises:
      BrainStateError: if `cond_fun` writes a state.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> n = brainstate.State(jnp.array(0))
      >>> def body(x):
      ...     n.value += 1
      ...     return x * 2
      >>> int(brainstate.transform.while_loop(lambda x: n.value < 5, body, 1)), int(n.value)
      (32, 5)
    """
    return while_recipe(cond_fun, body_fun, init_val, "while_loop",
                        lambda pred, body, carry: jax.lax.while_loop(pred, body, carry))


def _bounded(max_steps: int, base: int) -> Callable:
    """The loop of `bounded_while_loop`: guarded steps in nested, skippable scans."""

    def loop(pred, body, carry):
        def go(c):
            return (c[0] < max_steps) & pred(c[1])

        def run(c, n):
            """Run at most `n` guarded steps."""
            if n == 1:
                return jax.lax.cond(go(c), lambda c: (c[0] + 1, body(c[1])), lambda c: c, c)
            sub = 1
            while sub * base < n:
                sub *= base
            blocks = -(-n // sub)
            inner = (lambda c: run(c, 1)) if sub == 1 else jax.checkpoint(lambda c: run(c, sub))

            def block(c, _):
                return jax.lax.cond(go(c), inner, lambda c: c, c), None

            return jax.lax.scan(block, c, None, length=blocks)[0]

        if max_steps == 0:  # (arrays, as any other number of steps gives)
            return jax.tree_util.tree_map(jnp.asarray, carry)
        return run((jnp.int32(0), carry), max_steps)[1]

    return loop


def bounded_while_loop(cond_fun: Callable[[T], bool], body_fun: Callable[[T], T], init_val: T, *,
                       max_steps: int, base: int = 16) -> T:
    """A while loop of at most `max_steps` steps that is reverse-mode differentiable.

    Same state semantics as `while_loop`. The steps run inside nested scans of `base` blocks;
    blocks after the condition turned false are skipped, and the backward pass stores
    O(base · log_base max_steps) carries.

    Args:
      cond_fun, body_fun, init_val: as in `while_loop`.
      max_steps: the most steps to run; the loop stops there even if `cond_fun` is still true.
      base: the branching factor of the nested scans.

    Example:
      >>> import brainstate, jax
      >>> f = lambda x: brainstate.transform.bounded_while_loop(lambda v: v < 10., lambda v: v * 2.,
      ...                                                        x, max_steps=100)
      >>> float(f(1.5)), float(jax.grad(f)(1.5))
      (12.0, 8.0)
    """
    steps, branching = count(max_steps), count(base)
    if steps is None or steps < 0:
        raise ValueError(f"bounded_while_loop: max_steps must be a non-negative int, got {max_steps!r}.")
    if branching is None or branching < 2:
        raise ValueError(f"bounded_while_loop: base must be an int >= 2, got {base!r}.")
    return while_recipe(cond_fun, body_fun, init_val, "bounded_while_loop", _bounded(steps, branching))
