"""`checkpointed_scan` and `checkpointed_for_loop`: loops with O(log n) memory under reverse AD.

The state handling is `scan`'s (`_loops.scan_recipe`); only the iteration differs. `n` steps
run as an outer scan over blocks of `base**(k-1)` steps (`k` the smallest power with
`base**k >= n`), each block itself a nested scan wrapped in `jax.checkpoint`; the leftover
`n mod block` steps recurse the same way. Reverse-mode AD then keeps one carry per block at
each of the `O(log_base n)` levels and recomputes a block's inside when it is needed, instead
of storing every step.

A progress bar reports at the outer level, once per block: steps inside a checkpointed block
run again during the backward pass, and reporting them would advance the bar twice.
"""

from typing import Callable, Optional, Tuple, TypeVar

import jax
import jax.numpy as jnp

from ._loops import for_body, scan_recipe
from ._progress import ProgressBar

__all__ = ["checkpointed_scan", "checkpointed_for_loop"]

Carry = TypeVar("Carry")
X = TypeVar("X")
Y = TypeVar("Y")


def _block_size(n: int, base: int) -> int:
    """The largest power of `base` strictly below `n` (n > base)."""
    block = 1
    while block * base < n:
        block *= base
    return block


def _split(xs, start: int, stop: int, blocks: int = 0):
    """`xs[start:stop]`, reshaped to `(blocks, -1, ...)` when `blocks` is given."""

    def cut(x):
        x = x[start:stop]
        return x.reshape((blocks, -1) + x.shape[1:]) if blocks else x

    return jax.tree_util.tree_map(cut, xs)


def _merge(ys):
    """Undo the block reshape of stacked outputs: `(q, block, ...) -> (q * block, ...)`."""
    return jax.tree_util.tree_map(lambda y: y.reshape((-1,) + y.shape[2:]), ys)


def _inner(step, carry, xs, n: int, base: int):
    """Run `n` steps (a power of `base`) as nested scans; every sub-block is rematerialised."""
    if n <= base:
        return jax.lax.scan(step, carry, xs, length=n)
    sub = n // base
    block = jax.checkpoint(lambda c, xb: _inner(step, c, xb, sub, base))
    carry, ys = jax.lax.scan(block, carry, _split(xs, 0, n, base), length=base)
    return carry, _merge(ys)


def nested_loop(base: int) -> Callable:
    """The `loop` of `scan_recipe` with checkpointed nested scans."""
    if not isinstance(base, int) or isinstance(base, bool) or base < 2:
        raise ValueError(f"base must be an int >= 2 (the branching factor of the nested scans), got {base!r}.")

    def loop(step, carry, xs, n, runner, done=0):
        if n <= base:
            block, blocks, run_block = 1, n, step
        else:
            block = _block_size(n, base)
            blocks = n // block
            run_block = jax.checkpoint(lambda c, xb: _inner(step, c, xb, block, base))
        head = _split(xs, 0, blocks * block, blocks if block > 1 else 0)
        if runner is None:
            carry, ys = jax.lax.scan(run_block, carry, head, length=blocks)
        else:
            def counted(c, xb):
                i, c = c
                c, yb = run_block(c, xb)
                runner(i + block - 1, c[0], None, stride=block)
                return (i + block, c), yb

            (_, carry), ys = jax.lax.scan(counted, (jnp.int32(done), carry), head, length=blocks)
        if block > 1:
            ys = _merge(ys)
        rest = n - blocks * block
        if rest:
            carry, tail = loop(step, carry, _split(xs, blocks * block, n), rest, runner, done + blocks * block)
            ys = jax.tree_util.tree_map(lambda a, b: jnp.concatenate([a, b]), ys, tail)
        return carry, ys

    return loop


def checkpointed_scan(f: Callable[[Carry, X], Tuple[Carry, Y]], init: Carry, xs: X, length: Optional[int] = None,
                      base: int = 16, pbar: Optional[ProgressBar | int] = None) -> Tuple[Carry, Y]:
    """`scan` whose reverse-mode gradient needs O(base · log_base n) carries of memory, not O(n).

    Same results and state semantics as `scan`; the backward pass recomputes the forward inside
    checkpointed blocks (about one extra forward pass).

    Args:
      f: the body, `f(carry, x) -> (new_carry, y)`.
      init: the initial carry.
      xs: a PyTree of arrays with a common leading axis (or None with `length=`).
      length: the number of steps when `xs` is None.
      base: the branching factor of the nested scans.
      pbar: a `ProgressBar` or an int; it advances once per outer block.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> c, ys = brainstate.transform.checkpointed_scan(lambda c, x: (c + x, c), 0., jnp.ones(40), base=4)
      >>> float(c), ys.shape
      (40.0, (40,))
    """
    return scan_recipe(f, init, xs, length, pbar, "checkpointed_scan", nested_loop(base))


def checkpointed_for_loop(f: Callable[..., Y], *xs: X, length: Optional[int] = None, base: int = 16,
                          pbar: Optional[ProgressBar | int] = None) -> Y:
    """`for_loop` with the O(log n)-memory reverse-mode gradient of `checkpointed_scan`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> acc = brainstate.State(jnp.array(0.))
      >>> def step(x):
      ...     acc.value += x
      ...     return acc.value
      >>> brainstate.transform.checkpointed_for_loop(step, jnp.arange(5.), base=2).tolist()
      [0.0, 1.0, 3.0, 6.0, 10.0]
    """
    _, ys = scan_recipe(for_body(f), None, xs, length, pbar, "checkpointed_for_loop", nested_loop(base),
                        check_carry=False)
    return ys
