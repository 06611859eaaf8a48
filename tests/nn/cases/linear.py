import jax.numpy as jnp

import brainstate as bs

from . import Case

CASES = [
    Case("Linear", lambda: bs.nn.Linear(4, 3), lambda: (jnp.linspace(-1, 1, 4),)),
    Case("Sequential", lambda: bs.nn.Sequential(bs.nn.Linear(4, 5), jnp.tanh, bs.nn.Linear(5, 2)),
         lambda: (jnp.linspace(-1, 1, 4),)),
]
