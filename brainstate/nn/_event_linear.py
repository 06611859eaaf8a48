"""Dense and sparse weight matrices driven by spike events: `EventLinear`, `EventSparseLinear`.

Both map spikes `(..., n_in)` to input `(..., n_out)`, `y = events(spk) @ M` (or `spk @ M`
with `float_as_event=False`), and deliver event by event (`_event_delivery`): each step
touches only the rows of the active inputs, `O(n_in + active * row length)` work, and falls
back to the full product when more inputs are active than `event_capacity` (and its larger
tiers) holds, so no event is ever dropped. Gradients are those of the full product.

- `EventLinear`: a dense `(n_in, n_out)` weight (or a scalar shared by every connection).
- `EventSparseLinear`: a fixed sparsity pattern, given as a `jax.experimental.sparse.BCOO`,
  a SciPy sparse matrix or a dense array whose zeros are left out; one weight per stored
  entry (a `ParamState` of shape `(nnz,)`) or a scalar shared by every synapse. Its rows are
  padded to the longest row for event delivery, so very uneven rows (a hub with thousands of
  targets among neurons with tens) waste work on padding.

The index arrays live in a `LongTermState` (`connectivity`), so `jit` passes them as inputs.
"""

from typing import Any, Optional

import jax
import jax.numpy as jnp
import numpy as np

from .._state import LongTermState, ParamState
from ..typing import ArrayLike
from ._event_delivery import EventSpec, as_events, check_capacity, default_capacities, deliver, pre_major
from ._module import Module, Size
from ._projections import _weight
from ._units import attach, split

__all__ = ["EventLinear", "EventSparseLinear"]


def _inputs(layer: Module, spk: ArrayLike, n_in: int, float_as_event: bool) -> jax.Array:
    x = jnp.asarray(spk)
    if x.ndim == 0 or x.shape[-1] != n_in:
        raise ValueError(f"{layer._label()} expects inputs whose last dimension is {n_in}, got shape {x.shape}.")
    return as_events(x) if float_as_event else x.astype(jnp.result_type(x, jnp.float32))


class EventLinear(Module):
    """Dense connectivity driven by spike events: `events(spk) @ weight`.

    With a weight matrix, delivery is event-driven: the rows of the active inputs are summed,
    `O(active * out)` work (all-input `spk @ weight` beyond `event_capacity`, see `FixedNumConn`).

    Args:
      in_size: input size (last entry: feature count).
      out_size: output size.
      weight: a scalar (every connection shares it), an `(in, out)` array or an initializer.
      float_as_event: True: non-zero inputs count as one event each; False: values multiply.
      block_size: accepted for compatibility (no blocked kernel is used).
      name: optional module name.
      param_type: the State type of the weight (default `ParamState`).
      event_capacity: as in `FixedNumConn`.

    Raises:
      ValueError: for inputs of the wrong feature size, or a bad `event_capacity`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> layer = brainstate.nn.EventLinear(3, 2, jnp.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]))
      >>> layer(jnp.array([0.0, 7.0, 1.0])).tolist()
      [8.0, 10.0]
    """

    def __init__(self, in_size: Size, out_size: Size, weight: Any, float_as_event: bool = True,
                 block_size: int = 64, name: Optional[str] = None, param_type: type = ParamState,
                 event_capacity: Any = None):
        super().__init__(name=name)
        self.in_size, self.out_size = in_size, out_size
        self.float_as_event, self.block_size = float_as_event, block_size
        self.event_capacity = check_capacity(event_capacity, self._label())
        shape = (self._fixed_size("in_size")[-1], self._fixed_size("out_size")[-1])
        self.weight = _weight(weight, shape, self._label(), param_type,
                              full_shape=True)

    def update(self, spk: ArrayLike) -> Any:
        """`(..., in)` spikes to `(..., out)` input."""
        n_in, n_out = self._fixed_size("in_size")[-1], self._fixed_size("out_size")[-1]
        x = _inputs(self, spk, n_in, self.float_as_event)
        w, unit = split(self.weight.value)
        if jnp.ndim(w) == 0:
            y = jnp.broadcast_to(jnp.sum(x, axis=-1, keepdims=True) * w, x.shape[:-1] + (n_out,))
        else:
            spec = EventSpec("matrix", n_out, default_capacities(n_in, self.event_capacity))
            y = deliver(spec, x, w, {})
        return attach(y, unit)


def _coordinates(spar_mat: Any, owner: str):
    """`(pre, post, values, shape)` of a BCOO, SciPy sparse or dense `(in, out)` matrix, as NumPy."""
    from jax.experimental import sparse  # imported on use: it pulls in scipy (~0.4 s)

    if isinstance(spar_mat, sparse.BCOO):
        if spar_mat.ndim != 2 or spar_mat.n_batch or spar_mat.n_dense:
            raise ValueError(f"{owner}: spar_mat must be a plain 2-d BCOO matrix (no batch or dense dimensions), "
                             f"got shape {spar_mat.shape}.")
        idx = np.asarray(spar_mat.indices)
        return idx[:, 0], idx[:, 1], spar_mat.data, spar_mat.shape
    if hasattr(spar_mat, "tocoo") and not isinstance(spar_mat, (np.ndarray, jax.Array)):
        coo = spar_mat.tocoo()
        return np.asarray(coo.row), np.asarray(coo.col), jnp.asarray(coo.data), coo.shape
    dense = np.asarray(spar_mat)
    if dense.ndim != 2:
        raise ValueError(f"{owner}: spar_mat must be a 2-d (in, out) matrix (BCOO, SciPy sparse or dense), got "
                         f"shape {dense.shape}.")
    pre, post = np.nonzero(dense)
    return pre, post, jnp.asarray(dense[pre, post]), dense.shape


class EventSparseLinear(Module):
    """A fixed sparse `(in, out)` matrix driven by spike events: `events(spk) @ M`.

    Args:
      spar_mat: the matrix: a `jax.experimental.sparse.BCOO`, a SciPy sparse matrix, or a
        dense array whose zero entries are left out.
      weight: None: one trainable weight per stored entry, initialised to the matrix's values
        (shape `(nnz,)`, in the order of its entries); a scalar: every synapse shares it (the
        matrix's values are ignored).
      float_as_event: True: non-zero inputs count as one event each; False: values multiply.
      event_capacity: as in `FixedNumConn`.
      name: optional module name.
      param_type: the State type of the weight (default `ParamState`).

    Raises:
      ValueError: for a matrix that is not 2-d, inputs of the wrong size, or a bad `event_capacity`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> layer = brainstate.nn.EventSparseLinear(jnp.array([[0.0, 2.0], [3.0, 0.0], [0.0, 5.0]]))
      >>> layer(jnp.array([1.0, 0.0, 1.0])).tolist()
      [0.0, 7.0]
    """

    def __init__(self, spar_mat: Any, weight: Any = None, float_as_event: bool = True, event_capacity: Any = None,
                 name: Optional[str] = None, param_type: type = ParamState):
        super().__init__(name=name)
        pre, post, values, (n_in, n_out) = _coordinates(spar_mat, self._label())
        n_in, n_out = int(n_in), int(n_out)
        self.in_size, self.out_size = n_in, n_out
        self.float_as_event = float_as_event
        self.event_capacity = check_capacity(event_capacity, self._label())
        order = np.lexsort((post, pre))  # by pre-synaptic neuron: event and full delivery add alike
        pre, post = pre[order].astype(np.int32), post[order].astype(np.int32)
        if weight is None:
            self.weight = _weight(jnp.asarray(values)[order], (pre.size,), self._label(), param_type)
        else:
            self.weight = _weight(weight, (), self._label(), param_type)
        per_synapse = jnp.ndim(split(self.weight.value)[0]) > 0
        event = pre_major(pre, post, n_in, n_out, per_synapse)
        self.connectivity = LongTermState({"pre": jnp.asarray(pre), "post": jnp.asarray(post),
                                           **{"event_" + key: value for key, value in event.items()}})

    def update(self, spk: ArrayLike) -> Any:
        """`(..., in)` spikes to `(..., out)` input."""
        n_in, n_out = self._fixed_size("in_size")[-1], self._fixed_size("out_size")[-1]
        x = _inputs(self, spk, n_in, self.float_as_event)
        w, unit = split(self.weight.value)
        conn = self.connectivity.value
        arrays = {"pre": conn["pre"], "post": conn["post"], "targets": conn["event_targets"]}
        if "event_slots" in conn:
            arrays["slots"] = conn["event_slots"]
        spec = EventSpec("sparse", n_out, default_capacities(n_in, self.event_capacity))
        return attach(deliver(spec, x, w, arrays), unit)
