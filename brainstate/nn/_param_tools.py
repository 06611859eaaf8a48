"""Helpers over a model's parameters: counting them and clipping their gradients.

`count_parameters` walks a Module's `ParamState`s (each counted once, under its first path) and
reports element counts per state. `clip_grad_norm` rescales a gradient PyTree so its global norm
is at most `max_norm`, with the same math as `optax.clip_by_global_norm`; it is
pure (jit-friendly) and keeps the tree structure and leaf dtypes.
"""

import math
import numbers
from typing import Any, List, Tuple, Union

import jax
import jax.numpy as jnp

from .._state import ParamState
from ._module import Module

__all__ = ["count_parameters", "clip_grad_norm"]

PyTree = Any
_SUFFIXES = ("", "K", "M", "B", "T", "P", "E")


def _format_count(n: int, precision: int) -> str:
    """`n` as text: exact below 1000, else scaled with a K/M/B/... suffix and `precision` decimals."""
    if n < 1000:
        return str(n)
    magnitude = min(int(math.log10(n)) // 3, len(_SUFFIXES) - 1)
    text = f"{n / 1000 ** magnitude:.{precision}f}"
    if float(text) >= 1000 and magnitude < len(_SUFFIXES) - 1:  # rounding reached the next unit
        magnitude += 1
        text = f"{n / 1000 ** magnitude:.{precision}f}"
    return text + _SUFFIXES[magnitude]


def _table(rows: List[Tuple[str, str]]) -> str:
    header = ("Modules", "Parameters")
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(2)]
    line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    fmt = lambda r: "| " + r[0].ljust(widths[0]) + " | " + r[1].rjust(widths[1]) + " |"  # noqa: E731
    return "\n".join([line, fmt(header), line] + [fmt(r) for r in rows[:-1]] + [line, fmt(rows[-1]), line])


def count_parameters(module: Module, precision: int = 2,
                     return_table: bool = False) -> Union[int, Tuple[str, int]]:
    """Count the parameter elements of `module`, print a per-state table, return the total.

    Args:
      module: the model.
      precision: decimals shown for counts of 1000 and more (e.g. `1.50K`).
      return_table: also return the printed table (a string).

    Returns:
      The total number of elements in the module's `ParamState`s, or `(table, total)`.

    Raises:
      TypeError: if `module` is not a Module.
      ValueError: if `precision` is not a non-negative integer.

    Example:
      >>> import brainstate
      >>> table, n = brainstate.nn.count_parameters(brainstate.nn.Linear(3, 2), return_table=True)  # doctest: +ELLIPSIS
      +...
      >>> n
      8
    """
    if not isinstance(module, Module):
        raise TypeError(
            f"count_parameters: module must be a brainstate.nn.Module, got {type(module).__name__}. "
            f"To count the elements of a PyTree, use sum(x.size for x in jax.tree.leaves(tree)).")
    if isinstance(precision, bool) or not isinstance(precision, numbers.Integral) or precision < 0:
        raise ValueError(f"count_parameters: precision must be a non-negative integer, got {precision!r}.")
    rows, total = [], 0
    for path, state in module.states(ParamState).items():
        n = state.numel()
        rows.append((".".join(str(k) for k in path), _format_count(n, precision)))
        total += n
    rows.append(("Total", _format_count(total, precision)))
    table = _table(rows)
    print(table)
    return (table, total) if return_table else total


def _norm_order(norm_type: Any) -> float:
    if norm_type is None:
        return 2.0
    if isinstance(norm_type, str) and norm_type in ("inf", "-inf"):
        return float(norm_type)
    if isinstance(norm_type, numbers.Real) and not isinstance(norm_type, bool):
        order = float(norm_type)
        if order > 0 or order == -math.inf:
            return order
    raise ValueError(
        f"clip_grad_norm: norm_type must be a positive number, inf, -inf ('inf'/'-inf') or None "
        f"(meaning 2), got {norm_type!r}.")


def _global_norm(leaves: List[jax.Array], p: float) -> jax.Array:
    """The p-norm of all leaves' elements taken together, without concatenating them."""
    mags = [jnp.abs(g) for g in leaves]
    if p == math.inf:
        return jnp.max(jnp.stack([jnp.max(m) for m in mags]))
    if p == 2.0:
        return jnp.sqrt(sum(jnp.sum(m * m) for m in mags))
    if p == -math.inf:
        return jnp.min(jnp.stack([jnp.min(m) for m in mags]))
    return sum(jnp.sum(m ** p) for m in mags) ** (1.0 / p)


def clip_grad_norm(grad: PyTree, max_norm: Union[float, jax.Array], norm_type: Union[int, float, str, None] = 2.0,
                   return_norm: bool = False) -> Union[PyTree, Tuple[PyTree, jax.Array]]:
    """Rescale `grad` so that its global norm is at most `max_norm`.

    The global norm is the `norm_type`-norm of all leaves' elements taken together. If it
    exceeds `max_norm`, every leaf is multiplied by `max_norm / norm`; otherwise the gradients
    are returned unchanged (as `optax.clip_by_global_norm`).

    Args:
      grad: a PyTree of gradient arrays (e.g. the dict returned by `transform.grad`).
      max_norm: the largest allowed norm (a non-negative number or scalar array).
      norm_type: the order p: a positive number, `inf`/`'inf'` (max-abs), `-inf`/`'-inf'`
        (min-abs), or None (2).
      return_norm: also return the norm before clipping.

    Returns:
      The clipped tree, or `(clipped, norm)`.

    Raises:
      ValueError: for an unsupported `norm_type` or a negative `max_norm`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> g, n = brainstate.nn.clip_grad_norm({'w': jnp.array([3., 4.])}, 1.0, return_norm=True)
      >>> g['w'].tolist(), float(n)
      ([0.6000000238418579, 0.800000011920929], 5.0)
    """
    p = _norm_order(norm_type)
    if isinstance(max_norm, numbers.Real) and max_norm < 0:
        raise ValueError(f"clip_grad_norm: max_norm must be non-negative, got {max_norm!r}.")
    leaves = jax.tree_util.tree_leaves(grad)
    if not leaves:
        return (grad, jnp.zeros(())) if return_norm else grad
    norm = _global_norm(leaves, p)
    scale = jnp.where(norm <= max_norm, 1.0, max_norm / jnp.where(norm > 0, norm, 1.0))
    clipped = jax.tree_util.tree_map(lambda g: (g * scale).astype(jnp.result_type(g)), grad)
    return (clipped, norm) if return_norm else clipped
