"""`Embedding`: a trainable lookup table from integer ids to vectors.

The table lives in one `ParamState` `weight` of shape `(num_embeddings, *embedding_size)`; a call
with integer ids of any shape `S` returns the rows, of shape `(*S, *embedding_size)`. The gradient
of a loss reaches exactly the rows that were looked up.

Out-of-range ids: valid ids are `0 <= id < num_embeddings`. When the ids are concrete (an eager
call) an id outside that range raises an `IndexError` naming the layer. Inside a trace (`jit`,
`vmap`, `grad`, loops) their values are unknown until run time, no error can be raised, and
out-of-range ids are clamped into `[0, num_embeddings - 1]`.

Options, all applied functionally (the table is never written by a call):
- `padding_idx`: that row starts at zero and receives no gradient;
- `max_norm`: returned rows are rescaled to a `norm_type`-norm of at most `max_norm`; the
  gradient is that of the plain lookup, as if the table had been renormalised beforehand;
- `scale_grad_by_freq`: each row's gradient is divided by how often its id occurs in the call;
- `freeze`: no gradient reaches the table.
"""

from typing import Any, Callable, Optional, Sequence, Tuple, Union

import jax
import jax.numpy as jnp
import numpy as np

from .._state import ParamState
from . import init
from ._layer_weights import check_param, is_param, read
from ._module import Module

__all__ = ["Embedding"]


class Embedding(Module):
    """A lookup table of `num_embeddings` trainable vectors of shape `embedding_size`.

    Args:
      num_embeddings: number of rows (valid ids are `0 .. num_embeddings - 1`).
      embedding_size: shape of one row (an int or a tuple).
      embedding_init: initializer or array for the `(num_embeddings, *embedding_size)` table, or an
        `nn.Param` of that shape (kept as the table: its constraint and prior apply).
      padding_idx: optional id whose row is zero and receives no gradient.
      max_norm: optional bound on the norm of returned rows.
      norm_type: the `p` of the p-norm used with `max_norm`.
      scale_grad_by_freq: divide each row's gradient by the frequency of its id in the call.
      freeze: stop every gradient to the table.
      name: optional module name.
      param_type: the State class of the table.

    Raises:
      ValueError: a non-positive `num_embeddings`, a `padding_idx` out of range, a non-positive
        `max_norm`, a table of the wrong shape, or a `padding_idx` with an `nn.Param` table.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> emb = brainstate.nn.Embedding(10, 4)
      >>> emb(jnp.array([[1, 2], [3, 9]])).shape
      (2, 2, 4)
    """

    def __init__(self, num_embeddings: int, embedding_size: Union[int, Sequence[int]],
                 embedding_init: Union[Callable, Any] = init.LecunUniform(), padding_idx: Optional[int] = None,
                 max_norm: Optional[float] = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                 freeze: bool = False, name: Optional[str] = None, param_type: type = ParamState):
        super().__init__(name=name)
        if not isinstance(num_embeddings, (int, np.integer)) or isinstance(num_embeddings, bool) or num_embeddings < 1:
            raise ValueError(f"{self._label()}: num_embeddings must be a positive int, got {num_embeddings!r}.")
        self.num_embeddings = int(num_embeddings)
        self.out_size = embedding_size
        if padding_idx is not None:
            if not isinstance(padding_idx, (int, np.integer)) or not 0 <= padding_idx < num_embeddings:
                raise ValueError(f"{self._label()}: padding_idx must be an int in [0, {num_embeddings}), "
                                 f"got {padding_idx!r}.")
            padding_idx = int(padding_idx)
        if max_norm is not None and not max_norm > 0:
            raise ValueError(f"{self._label()}: max_norm must be positive or None, got {max_norm!r}.")
        self.padding_idx, self.max_norm, self.norm_type = padding_idx, max_norm, norm_type
        self.scale_grad_by_freq, self.freeze = bool(scale_grad_by_freq), bool(freeze)

        shape = (self.num_embeddings,) + self._fixed_size("out_size")
        if is_param(embedding_init):
            if padding_idx is not None:
                raise ValueError(f"{self._label()}: padding_idx zeroes a row of the table, which a Param "
                                 f"(with its own constraint) cannot guarantee. Drop padding_idx, or pass an array.")
            self.weight = check_param(self._label(), embedding_init, shape, "embedding_init")
            return
        try:
            table = jnp.broadcast_to(init.param(embedding_init, shape, allow_none=False, allow_scalar=False), shape)
        except (ValueError, TypeError) as err:
            raise ValueError(f"{self._label()}: embedding_init cannot give a table of shape {shape}: {err}") from None
        if padding_idx is not None:
            table = table.at[padding_idx].set(0)
        self.weight = param_type(table)

    @classmethod
    def from_pretrained(cls, embeddings: Any, padding_idx: Optional[int] = None, max_norm: Optional[float] = None,
                        norm_type: float = 2.0, scale_grad_by_freq: bool = False, freeze: bool = True,
                        name: Optional[str] = None, param_type: type = ParamState) -> "Embedding":
        """An Embedding whose table is `embeddings`, exactly (frozen by default).

        The first axis gives `num_embeddings`, the others `embedding_size`. The `padding_idx` row
        keeps its given values (it still receives no gradient).

        Raises:
          ValueError: `embeddings` has fewer than two dimensions.

        Example:
          >>> import brainstate, jax.numpy as jnp
          >>> table = jnp.array([[1., 2.], [3., 4.], [5., 6.]])
          >>> emb = brainstate.nn.Embedding.from_pretrained(table)
          >>> emb(jnp.array([2, 0])).tolist(), emb.freeze
          ([[5.0, 6.0], [1.0, 2.0]], True)
        """
        table = jnp.asarray(embeddings)
        if table.ndim < 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must have at least two dimensions "
                             f"(rows, *embedding_size), got shape {tuple(table.shape)}. Add a trailing axis "
                             f"for one-number rows: `embeddings[:, None]`.")
        layer = cls(table.shape[0], tuple(table.shape[1:]), embedding_init=table, padding_idx=padding_idx,
                    max_norm=max_norm, norm_type=norm_type, scale_grad_by_freq=scale_grad_by_freq, freeze=freeze,
                    name=name, param_type=param_type)
        layer.weight = param_type(table)  # the padding row too keeps the given values
        return layer

    @property
    def embedding_size(self) -> Tuple[int, ...]:
        """The shape of one embedding vector (`out_size`)."""
        return tuple(self._fixed_size("out_size"))

    def update(self, indices: Any) -> jax.Array:
        """The rows for `indices` (an integer array of any shape).

        A negative id counts from the end, as in NumPy (-1 is the last row), eagerly and
        compiled alike.

        Raises:
          TypeError: `indices` is not an integer array.
          IndexError: (eager calls only) an id outside `[-num_embeddings, num_embeddings)`.
        """
        idx = jnp.asarray(indices)
        if not jnp.issubdtype(idx.dtype, jnp.integer):
            raise TypeError(f"{self._label()} expects integer ids, got dtype {idx.dtype}. Cast with "
                            f"`.astype(int)` if the values are whole numbers.")
        if not isinstance(idx, jax.core.Tracer):
            ids = np.asarray(idx)  # compare in NumPy: inside a trace jnp ops would give tracers
            bad = (ids < -self.num_embeddings) | (ids >= self.num_embeddings)
            if bad.any():
                raise IndexError(f"{self._label()} has {self.num_embeddings} rows, so ids must be in "
                                 f"[-{self.num_embeddings}, {self.num_embeddings}), got {ids[bad].tolist()[:5]}.")
        idx = jnp.where(idx < 0, idx + self.num_embeddings, idx)  # NumPy's negative ids
        idx = jnp.clip(idx, 0, self.num_embeddings - 1)  # (compiled, an id past the end reads the last row)
        table = read(self.weight)
        rows = table[idx]
        if self.freeze:
            return self._renorm(jax.lax.stop_gradient(rows))
        if self.padding_idx is not None:
            mask = (idx == self.padding_idx).reshape(idx.shape + (1,) * len(self._fixed_size("out_size")))
            rows = jnp.where(mask, jax.lax.stop_gradient(rows), rows)
        if self.scale_grad_by_freq:
            counts = jnp.zeros(self.num_embeddings, rows.dtype).at[idx.ravel()].add(1)
            s = (1 / counts[idx]).reshape(idx.shape + (1,) * len(self._fixed_size("out_size")))
            rows = rows * s + jax.lax.stop_gradient(rows * (1 - s))
        return self._renorm(rows)

    def _renorm(self, rows: jax.Array) -> jax.Array:
        """Rows with norm above `max_norm` scaled down; the gradient is the identity's."""
        if self.max_norm is None:
            return rows
        axes = tuple(range(rows.ndim - len(self._fixed_size("out_size")), rows.ndim))
        norm = jnp.sum(jnp.abs(rows) ** self.norm_type, axis=axes, keepdims=True) ** (1 / self.norm_type)
        factor = jnp.minimum(1.0, self.max_norm / (norm + 1e-7))
        return rows + jax.lax.stop_gradient(rows * factor - rows)
