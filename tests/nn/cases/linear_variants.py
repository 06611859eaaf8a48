import jax.numpy as jnp

import brainstate as bs

from . import Case


def _x(n):
    return lambda: (jnp.linspace(-1, 1, n),)


CASES = [
    Case("ScaledWSLinear", lambda: bs.nn.ScaledWSLinear(4, 3), _x(4)),
    Case("SignedWLinear", lambda: bs.nn.SignedWLinear(4, 3, w_sign=jnp.array([[1.0, -1.0, 1.0]])), _x(4)),
    Case("SparseLinear", lambda: bs.nn.SparseLinear(jnp.array([[1.0, 0, 2], [0, 3, 0], [0, 0, 4], [5, 0, 0]]),
                                                   b_init=bs.nn.init.ZeroInit()), _x(4)),
    Case("AllToAll", lambda: bs.nn.AllToAll(4, 4, include_self=False, b_init=bs.nn.init.ZeroInit()), _x(4)),
    Case("OneToOne", lambda: bs.nn.OneToOne(4, b_init=bs.nn.init.ZeroInit()), _x(4)),
    Case("LoRA", lambda: bs.nn.LoRA(4, 2, 3, base_module=bs.nn.Linear(4, 3), alpha=4.0), _x(4)),
]
