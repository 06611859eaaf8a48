"""Compaction of spikes: the indices of the active neurons, in a fixed-size array.

Event-driven delivery needs, each step, the list of neurons that spiked. JAX shapes are
static, so the list has a fixed `capacity`: `active_indices(mask, capacity)` returns the
indices of the first `capacity` True entries of `mask` in increasing order, padded with
`n = mask.shape[-1]` (an index past the end, which gathers with `mode='fill'` and scatters
with `mode='drop'` ignore), and the total count of True entries, so the caller can tell
whether the list is complete (`count <= capacity`) and fall back to an exact path if not.

Why not `jnp.nonzero(mask, size=capacity)`: on the CPU backend its cumulative sum and its
scatter of every entry cost about 2 ns per neuron, more than a whole LIF update. Here the
work on all `n` entries is a single reduction (active neurons per block of `_BLOCK`); the
prefix sums run on the `n / _BLOCK` block counts as small triangular matrix products, and
each of the `capacity` output slots finds its block by binary search and its position
inside the block from a `(capacity, _BLOCK)` prefix. Invariants: exact for `n < 2**24`
(the prefix sums are float32 products of 0/1 and small integers); beyond that the counts
use an integer cumulative sum.
"""

from typing import Tuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.typing import ArrayLike

__all__ = ["active_indices"]

# Neurons per block: 16 gave the fastest compaction of 3,200 to 320,000 neurons on CPU
# (8 makes the block prefix longer, 32 and 64 make the in-block products larger).
_BLOCK = 16
# Width of the triangular matrices of the prefix sums (a 64 x 64 product per 64 blocks).
_ROW = 64
# Up to this many neurons `lax.top_k` compacts as fast as the blocks (measured in the COBA
# network on CPU) and compiles in a third of the time.
_TOP_K_MAX = 4096
# float32 represents every integer below 2**24 exactly: the limit of the product prefix sums.
_EXACT_F32 = 2 ** 24


def _upper(n: int) -> np.ndarray:
    """The `(n, n)` upper triangle of ones, a numpy constant (n is at most `_ROW`, so it stays small)."""
    return np.triu(np.ones((n, n), np.float32))


def _dot(a: jax.Array, b: ArrayLike) -> jax.Array:
    # HIGHEST: accelerators may round float32 products to bf16/tf32, which is inexact on counts.
    return jnp.matmul(a, b, precision=lax.Precision.HIGHEST)


def _prefix_sum(counts: jax.Array) -> jax.Array:
    """Inclusive prefix sum of a 1-d vector of small non-negative integers (float32, exact)."""
    m = counts.shape[0]
    x = counts.astype(jnp.float32)
    if m <= _ROW:
        return _dot(x, _upper(m))
    rows = -(-m // _ROW)
    x = jnp.pad(x, (0, rows * _ROW - m)).reshape(rows, _ROW)
    within = _dot(x, _upper(_ROW))
    totals = within[:, -1]
    before = _prefix_sum(totals) - totals
    return (within + before[:, None]).reshape(-1)[:m]


def active_indices(mask: jax.Array, capacity: int, method: str = "auto") -> Tuple[jax.Array, jax.Array]:
    """Indices of the first `capacity` True entries of a 1-d `mask`, and the number of True entries.

    Args:
      mask: a boolean vector of length `n`.
      capacity: the (static) length of the returned index array.
      method: `'blocks'` (block counts and prefix sums, see the module docstring), `'top_k'`
        (`lax.top_k` of the 0/1 mask: fewer operations to compile, about as fast up to a few
        thousand neurons and 1.5 times slower at tens of thousands) or `'auto'` (`'top_k'` up
        to 4,096 neurons, else `'blocks'`).

    Returns:
      `(indices, count)`: `indices` (int32, shape `(capacity,)`) holds the positions of the
      True entries in increasing order, padded with `n`; `count` (int32 scalar) is the total
      number of True entries, which may exceed `capacity` (the list is then truncated).

    Example:
      >>> import jax.numpy as jnp
      >>> from brainstate.nn._event_compaction import active_indices
      >>> idx, count = active_indices(jnp.array([False, True, False, True, True]), 4)
      >>> idx.tolist(), int(count)
      ([1, 3, 4, 5], 3)
    """
    n = mask.shape[0]
    if capacity <= 0 or n == 0:
        return jnp.full((max(capacity, 0),), n, jnp.int32), jnp.sum(mask, dtype=jnp.int32)
    if method == "top_k" or (method == "auto" and n <= _TOP_K_MAX):
        # Ties (all the 1s) come out in index order, so the list is sorted like the blocks'.
        top, idx = lax.top_k(mask.astype(jnp.float32), min(capacity, n))
        idx = jnp.where(top > 0, idx, n).astype(jnp.int32)
        return jnp.pad(idx, (0, capacity - idx.shape[0]), constant_values=n), jnp.sum(mask, dtype=jnp.int32)
    blocks = -(-n // _BLOCK)
    bits = jnp.pad(mask, (0, blocks * _BLOCK - n)).reshape(blocks, _BLOCK)
    per_block = jnp.sum(bits, axis=1, dtype=jnp.int32)
    if n < _EXACT_F32:
        upto = _prefix_sum(per_block).astype(jnp.int32)
    else:
        upto = jnp.cumsum(per_block, dtype=jnp.int32)
    count = upto[-1]
    slot = jnp.arange(capacity, dtype=jnp.int32)
    # The block holding the (slot + 1)-th active neuron: the first whose running count exceeds slot.
    block = jnp.searchsorted(upto, slot, side="right", method="scan").astype(jnp.int32)
    block = jnp.minimum(block, blocks - 1)
    rank = slot - (upto[block] - per_block[block])  # rank of that neuron within its block
    within = _dot(bits[block].astype(jnp.float32), _upper(_BLOCK))  # (capacity, _BLOCK) running counts
    offset = jnp.sum(within <= rank[:, None].astype(jnp.float32), axis=1, dtype=jnp.int32)
    return jnp.where(slot < count, block * _BLOCK + offset, n), count
