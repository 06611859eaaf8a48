"""Conformance cases of the recurrent cells (`brainstate/nn/_rnn_cells.py`).

Under vmap the hidden states are declared batched: the cell is re-initialised with a batch of 3,
mapped with `in_states`/`out_states` over its `HiddenState`s, then set back to unbatched so
the test's unbatched reference call works.
"""

import jax.numpy as jnp

import brainstate as bs

from . import Case


def _build(cls):
    def build():
        cell = cls(4, 3)
        cell.init_state()
        return cell

    return build


def _vmap(cell, batched):
    cell.reset_state(batch_size=3)
    hidden = list(cell.states(bs.HiddenState).values())
    out = bs.transform.vmap(lambda x: cell(x), in_states=hidden, out_states=hidden)(*batched)
    cell.reset_state()
    return out


CASES = [
    Case(name, _build(getattr(bs.nn, name)), lambda: (jnp.linspace(-1.0, 1.0, 4),), vmap=_vmap)
    for name in ["ValinaRNNCell", "GRUCell", "MGUCell", "LSTMCell", "URLSTMCell"]
]
