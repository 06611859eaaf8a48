"""State-aware `scan` and `for_loop`: written states ride in the carry.

Both are one recipe (`scan_recipe`) on the stateful-function engine:

1. discover the states the body touches, tracing it once with the shapes of *one step* (the
   carry as given, every `xs` leaf without its leading axis);
2. build the step `((carry, written), x) -> ((carry', written'), y)` from the engine's pure
   function: states the body writes are carried from step to step, states it only reads are
   closed over as constants of the loop;
3. run the loop (`jax.lax.scan` here; nested checkpointed scans in `_checkpointed_loops.py`)
   and write the final carried values back.

States created inside the body are local to one step and never carried. A body that changes a
state's shape or dtype fails at step 1, with the state's write check naming the state.
"""

import contextlib
import operator
from typing import Any, Callable, Optional, Tuple, TypeVar

import jax
import jax.numpy as jnp

from .. import _compatible_import as compat
from ._progress import ProgressBar, as_runner
from ._stateful import StatefulFunction, check_no_state_args

__all__ = ["scan", "for_loop"]

Carry = TypeVar("Carry")
X = TypeVar("X")
Y = TypeVar("Y")


def abstract(tree):
    """The abstract values of a PyTree of arrays (weak types, and inside `shard_map` the mesh axes
    a value varies over, kept: a body traced with less would insert collectives that fail)."""
    return jax.tree_util.tree_map(compat.shaped_abstractify, tree)


def one_step(xs):
    """The abstract value of `xs[0]`: every leaf without its leading axis."""
    return jax.tree_util.tree_map(lambda a: a.update(shape=a.shape[1:]), abstract(xs))


def count(value: Any) -> Optional[int]:
    """`value` as a Python int if it is an integer (a NumPy integer, a concrete integer JAX scalar
    too, as step counts computed with NumPy are), else None; a bool is not a count."""
    if isinstance(value, bool) or getattr(value, "dtype", None) == bool:
        return None
    try:
        return operator.index(value)
    except Exception:  # not an integer, or a traced one (its value is unknown while tracing)
        return None


def loop_length(xs, length: Optional[int], where: str, xs_name: str = "xs") -> int:
    """The number of steps, checked against every leaf's leading axis and `length`."""
    seen = None
    for path, leaf in jax.tree_util.tree_flatten_with_path(xs)[0]:
        name = xs_name + jax.tree_util.keystr(path)
        if not hasattr(leaf, "shape") and not isinstance(leaf, (int, float, complex)):
            raise ValueError(
                f"{where}: {name} is a {type(leaf).__name__} where an array is needed: every leaf "
                f"of the looped-over inputs must be an array with a leading axis of the loop's length.")
        shape = jnp.shape(leaf)
        if not shape:
            raise ValueError(
                f"{where}: {name} is a scalar, so there is no leading axis to loop over. Every leaf "
                f"of the looped-over inputs needs a leading axis of the loop's length; pass "
                f"constants through a closure instead.")
        if seen is None:
            seen = (name, shape[0])
        elif shape[0] != seen[1]:
            raise ValueError(
                f"{where}: inconsistent leading axes: {seen[0]} has length {seen[1]} but {name} "
                f"has length {shape[0]}. Every looped-over input needs the same number of steps.")
    if length is not None:
        n = count(length)
        if n is None or n < 0:
            raise ValueError(f"{where}: length must be a non-negative int, got {length!r}.")
        length = n
        if seen is not None and seen[1] != length:
            raise ValueError(f"{where}: length={length} but {seen[0]} has a leading axis of {seen[1]}.")
        return length
    if seen is None:
        raise ValueError(
            f"{where} needs something to loop over: pass arrays with a leading axis, or "
            f"`length=` to run the body that many times without inputs.")
    return seen[1]


def same_signature(a, b) -> bool:
    """Same tree structure, shapes and dtypes (a weakly typed leaf may differ in dtype)."""
    la, ta = jax.tree_util.tree_flatten(a)
    lb, tb = jax.tree_util.tree_flatten(b)
    # jaxlib ships no stub for PyTreeDef, so mypy cannot type its comparison.
    if ta != tb:  # type: ignore[operator]
        return False
    return all(x.shape == y.shape and (x.dtype == y.dtype or x.weak_type or y.weak_type) for x, y in zip(la, lb))


def writes_into(found):
    """Positions of `found.write_states` within `found.states` (the order `pure` returns them)."""
    index = {id(s): i for i, s in enumerate(found.states)}
    return [index[id(s)] for s in found.write_states]


def check_carried_states(states, before, after, where: str) -> None:
    """Raise, naming the state, if a loop body changed a written state's structure, shape or
    dtype (`restore_value`): the loop carries it, so it must keep them from step to step."""
    for state, a, b in zip(states, before, after):
        a, b = abstract(a), abstract(b)
        if not same_signature(a, b):
            raise TypeError(
                f"{where}: the body changes {state._label()} from {show_signature(a)} to {show_signature(b)} "
                f"(`restore_value`), but a state the loop carries keeps its structure, shape and dtype "
                f"from step to step. Change its shape outside the loop.")


def scan_recipe(f: Callable, init, xs, length: Optional[int], pbar, where: str, loop: Callable,
                check_carry: bool = True):
    """Run `f(carry, x) -> (carry, y)` over `xs` with its states threaded; `(carry, ys)`.

    `loop(step, carry, xs, n, runner)` performs the iteration of the pure
    `step(carry, x) -> (carry, y)` and reports progress through `runner` (None: no bar).
    """
    check_no_state_args((init, xs), {}, where)
    n = loop_length(xs, length, where)
    runner = as_runner(pbar, n)
    init_shapes = abstract(init)
    sf = StatefulFunction(f)

    def jax_call(pure, values, found):
        if check_carry:
            _check_scan_out(found.out_shapes, init_shapes, where)
        write_pos = writes_into(found)

        def step(carry, x):
            user_carry, before = carry
            vals = list(values)
            for p, v in zip(write_pos, before):
                vals[p] = v
            written, (user_carry, y) = pure(vals, user_carry, x)
            check_carried_states(found.write_states, before, written, where)
            return (user_carry, written), y

        (carry, written), ys = loop(step, (init, [values[p] for p in write_pos]), xs, n, runner)
        return written, (carry, ys)

    with body_context(where):
        return sf.call(jax_call, (init_shapes, one_step(xs)), {})


@contextlib.contextmanager
def body_context(where: str):
    """Say in the traceback that an error (a state write check, say) came from a loop body."""
    try:
        yield
    except (ValueError, TypeError) as e:
        e.add_note(f"(raised while tracing the body of {where})")
        raise


def _check_scan_out(out, init_shapes, where: str) -> None:
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise TypeError(f"{where}: the body must return a pair (new_carry, y); it returned {show_signature(out)}.")
    if not same_signature(out[0], init_shapes):
        raise TypeError(
            f"{where}: the body's new carry {show_signature(out[0])} does not match the initial carry "
            f"{show_signature(init_shapes)}. The carry must keep its structure, shapes and dtypes from "
            f"step to step.")


def show_signature(tree) -> str:
    """A PyTree of abstract values as text, e.g. `(float32[3], int32[])`."""

    def leaf(s):
        return f"{s.dtype}[{','.join(map(str, s.shape))}]" if hasattr(s, "shape") else repr(s)

    return str(jax.tree_util.tree_map(leaf, tree))


def lax_loop(reverse: bool = False, unroll=1) -> Callable:
    """The `loop` of `scan_recipe` that runs one `jax.lax.scan`, reporting every step."""

    def loop(step, carry, xs, n, runner):
        if runner is None:
            return jax.lax.scan(step, carry, xs, length=n, reverse=reverse, unroll=unroll)

        def counted(c, x):
            i, c = c
            c, y = step(c, x)
            runner(i, c[0], y)
            return (i + 1, c), y

        (_, carry), ys = jax.lax.scan(counted, (jnp.int32(0), carry), xs, length=n, reverse=reverse, unroll=unroll)
        return carry, ys

    return loop


def for_body(f: Callable) -> Callable:
    """`f(*x) -> y` as a scan body `(None, x) -> (None, y)` (named after `f` for messages)."""

    def body(carry, x):
        return carry, f(*x)

    body.__name__ = getattr(f, "__name__", type(f).__name__)
    return body


def scan(f: Callable[[Carry, X], Tuple[Carry, Y]], init: Carry, xs: X, length: Optional[int] = None,
         reverse: bool = False, unroll=1, pbar: Optional[ProgressBar | int] = None) -> Tuple[Carry, Y]:
    """`jax.lax.scan` for a body that reads and writes states.

    States the body writes are carried from step to step and hold their final values afterwards;
    states it only reads are constants of the loop.

    Args:
      f: the body, `f(carry, x) -> (new_carry, y)`.
      init: the initial carry.
      xs: a PyTree of arrays with a common leading axis (or None with `length=`).
      length: the number of steps when `xs` is None (checked against `xs` otherwise).
      reverse: iterate from the last element of `xs` to the first.
      unroll: steps unrolled per iteration of the compiled loop.
      pbar: a `ProgressBar` or an int (report every that many steps).

    Returns:
      `(final_carry, ys)`, `ys` being the stacked `y`s.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> total = brainstate.State(jnp.array(0.))
      >>> def body(c, x):
      ...     total.value += x
      ...     return c + 1, total.value
      >>> n, ys = brainstate.transform.scan(body, 0, jnp.array([1., 2., 3.]))
      >>> int(n), ys.tolist(), float(total.value)
      (3, [1.0, 3.0, 6.0], 6.0)
    """
    return scan_recipe(f, init, xs, length, pbar, "scan", lax_loop(reverse, unroll))


def for_loop(f: Callable[..., Y], *xs, length: Optional[int] = None, reverse: bool = False, unroll=1,
             pbar: Optional[ProgressBar | int] = None) -> Y:
    """Call `f(*x)` for every slice `x` of `xs` along the leading axis; return the stacked outputs.

    With `length=` and no `xs`, `f` takes no arguments and runs `length` times. States are
    threaded as in `scan`.

    Args:
      f: the body, `f(*x) -> y`.
      *xs: arrays (or PyTrees) with a common leading axis.
      length: the number of steps (required when there are no `xs`).
      reverse, unroll, pbar: as in `scan`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> v = brainstate.State(jnp.array(0.))
      >>> def step(i):
      ...     v.value = 0.5 * v.value + i
      ...     return v.value
      >>> brainstate.transform.for_loop(step, jnp.arange(3.)).tolist()
      [0.0, 1.0, 2.5]
    """
    _, ys = scan_recipe(for_body(f), None, xs, length, pbar, "for_loop", lax_loop(reverse, unroll),
                        check_carry=False)
    return ys
