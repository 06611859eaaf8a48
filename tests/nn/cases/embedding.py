import jax.numpy as jnp

import brainstate as bs

from . import Case

CASES = [
    Case("Embedding", lambda: bs.nn.Embedding(10, 4, padding_idx=0), lambda: (jnp.array([0, 3, 9, 3]),)),
]
