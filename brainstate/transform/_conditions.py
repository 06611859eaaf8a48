"""State-aware `cond`, `switch` and `ifelse`.

One recipe on the engine for all three. Each branch is traced once on its own; the state set
is the union over branches, so a state any branch writes is an input and an output of every
branch: each branch's pure function is built over that shared layout, and a branch that does
not write a state returns the value it was given, so only the taken branch's writes take
effect. Branch outputs are checked to agree before JAX sees them, so a mismatch names the
branch. Under `jax.disable_jit()` with a concrete predicate the taken branch simply runs, as
eager Python (so a branch may then return anything).
"""

from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from .. import _compatible_import as compat
from .._errors import BrainStateError
from .._state._commit import commit, snapshot
from ._error_if import jit_error_if
from ._loops import abstract, same_signature, show_signature
from ._stateful import StatefulFunction, check_no_state_args, shared_layout

__all__ = ["cond", "switch", "ifelse"]


def branch_recipe(branches: Sequence[Callable], operands: tuple, where: str, select: Callable):
    """Run `select(branch_pures, state_values)` with the union of the branches' states threaded.

    `select` calls a `jax.lax` conditional on the pure branches `(values, *operands) ->
    (written, out)` and returns its result.
    """
    branches = tuple(branches)
    for k, b in enumerate(branches):
        if not callable(b):
            raise TypeError(f"{where}: branch {k} is not callable: {type(b).__name__} {b!r}.")
    check_no_state_args(operands, {}, where)
    shapes = abstract(operands)
    founds = [StatefulFunction(b, name=f"{where} branch {k} ({_name(b)})").discover(*shapes)
              for k, b in enumerate(branches)]
    for k in range(1, len(branches)):
        if not same_signature(founds[k].out_shapes, founds[0].out_shapes):
            raise TypeError(
                f"{where}: branch {k} ({_name(branches[k])}) returns {show_signature(founds[k].out_shapes)} but "
                f"branch 0 ({_name(branches[0])}) returns {show_signature(founds[0].out_shapes)}. Every branch "
                f"must return the same structure, shapes and dtypes.")
    states, write_states, restored = shared_layout(founds)
    pures = [f.pure(states, write_states) for f in founds]
    while True:  # again on fresh values if another thread wrote a state meanwhile
        values, since = snapshot(states, write_states)
        try:
            written, out = select(pures, values)
        except TypeError:
            if any(restored):
                _check_branch_layouts(pures, values, operands, write_states, where)
            raise
        if commit(write_states, written, restored, since):
            return out


def _check_branch_layouts(pures, values, operands, write_states, where: str) -> None:
    """Name the state if `jax.lax`'s conditional refused branches that leave a written state
    in different layouts (one branch changed its shape with `restore_value`)."""
    layouts = [jax.eval_shape(pure, values, *operands)[0] for pure in pures]
    for k in range(1, len(layouts)):
        for state, a, b in zip(write_states, layouts[0], layouts[k]):
            if not same_signature(a, b):
                raise TypeError(
                    f"{where}: {state._label()} leaves branch 0 as {show_signature(a)} but branch {k} as "
                    f"{show_signature(b)} (`restore_value`). A state written in a conditional must have the "
                    f"same structure, shape and dtype whichever branch runs; change its shape outside.")


def _eager_branch(pred: Any) -> bool:
    """Whether to run the taken branch directly: JIT is disabled and the predicate is known."""
    # JAX's Config holds its options as dynamic attributes, which mypy cannot see.
    return bool(jax.config.jax_disable_jit) and not isinstance(pred, compat.Tracer)  # type: ignore[attr-defined]


def _name(fn) -> str:
    return getattr(fn, "__name__", type(fn).__name__)



def cond(pred, true_fun: Callable, false_fun: Callable, *operands) -> Any:
    """`jax.lax.cond` for branches that read and write states.

    States touched by either branch are threaded through both; only the taken branch's writes
    take effect.

    Args:
      pred: a boolean scalar.
      true_fun, false_fun: the branches, called as `fun(*operands)`; they must return values
        of the same structure, shapes and dtypes.
      *operands: the branches' arguments.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> hits = brainstate.State(jnp.array(0))
      >>> def hit():
      ...     hits.value += 1
      ...     return 1.
      >>> brainstate.transform.cond(jnp.array(False), hit, lambda: 0.), int(hits.value)
      (Array(0., dtype=float32, weak_type=True), 0)
    """
    if _eager_branch(pred):
        return true_fun(*operands) if bool(pred) else false_fun(*operands)
    return branch_recipe((true_fun, false_fun), operands, "cond",
                         lambda pures, values: jax.lax.cond(pred, pures[0], pures[1], values, *operands))


def switch(index, branches: Sequence[Callable], *operands) -> Any:
    """`jax.lax.switch` for branches that read and write states: run `branches[index](*operands)`.

    `index` is clamped to `[0, len(branches) - 1]`. States touched by any branch are threaded
    through all of them; only the taken branch's writes take effect.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> fs = [lambda x: x, lambda x: x * 10, lambda x: x * 100]
      >>> [float(brainstate.transform.switch(i, fs, 2.)) for i in (-1, 1, 7)]
      [2.0, 20.0, 200.0]
    """
    branches = tuple(branches)
    if not branches:
        raise ValueError("switch needs at least one branch; got an empty sequence.")
    if _eager_branch(index):
        return branches[int(np.clip(int(index), 0, len(branches) - 1))](*operands)
    out = branch_recipe(branches, operands, "switch",
                        lambda pures, values: jax.lax.switch(index, pures, values, *operands))
    if len(branches) == 1:  # `lax.switch` then calls the branch itself: arrays, as with several
        out = jax.tree_util.tree_map(jnp.asarray, out)
    return out


def ifelse(conditions: Sequence, branches: Sequence[Callable], *operands, check_cond: bool = True) -> Any:
    """An `if / elif / ... / else` chain: run the branch of the first true condition.

    Args:
      conditions: boolean scalars, one per branch, or one fewer than the branches (the last
        branch is then an explicit `else`). When no condition is true the last branch runs.
      branches: the branches, called as `branch(*operands)`.
      *operands: the branches' arguments.
      check_cond: require the conditions to be mutually exclusive: exactly one true when there
        is a condition per branch, at most one with an explicit `else`. Concrete conditions are
        checked at once; traced ones when the compiled code runs (`jit_error_if`).

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> x = jnp.array(3.)
      >>> float(brainstate.transform.ifelse([x > 5, x > 0], [lambda: 2., lambda: 1., lambda: 0.]))
      1.0
    """
    conditions, branches = tuple(conditions), tuple(branches)
    if len(branches) < 1 or len(conditions) not in (len(branches), len(branches) - 1):
        raise ValueError(
            f"ifelse got {len(conditions)} condition(s) for {len(branches)} branch(es). Give one "
            f"condition per branch, or one fewer to make the last branch an unconditional else.")
    if len(branches) == 1:
        return switch(0, branches, *operands)
    scalars = [jnp.asarray(c) for c in conditions]
    for k, c in enumerate(scalars):
        if c.shape != ():
            raise ValueError(f"ifelse: condition {k} has shape {c.shape}; each condition must be a "
                             f"boolean scalar.")
    conds = jnp.stack([c.astype(bool) for c in scalars])
    if check_cond:
        _check_exclusive(conds, len(conditions) == len(branches))
    index = jnp.where(jnp.any(conds), jnp.argmax(conds), len(branches) - 1)
    return switch(index, branches, *operands)


def _check_exclusive(conds, exactly_one: bool) -> None:
    n_true = jnp.sum(conds)
    bad = (n_true != 1) if exactly_one else (n_true > 1)

    def fail(c):
        raise BrainStateError(
            f"ifelse: {int(np.sum(c))} of the conditions {np.asarray(c).tolist()} are true, but with "
            f"check_cond=True {'exactly' if exactly_one else 'at most'} one may be. Make the "
            f"conditions mutually exclusive, or pass check_cond=False to take the first true one.")

    jit_error_if(bad, fail, conds)
