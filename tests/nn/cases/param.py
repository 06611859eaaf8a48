import jax.numpy as jnp

import brainstate as bs

from . import Case

# A Param is not called on data itself: its cases are layers that keep one (a constrained,
# regularized weight; a constant bias), so the raw ParamState runs under jit, vmap and grad.
CASES = [
    Case("Param", lambda: bs.nn.Linear(4, 3, w_init=bs.nn.Param(jnp.full((4, 3), 0.5), t=bs.nn.SoftplusT(0.0),
                                                                   reg=bs.nn.L2Reg(0.1))),
         lambda: (jnp.linspace(-1, 1, 4),)),
    Case("Const", lambda: bs.nn.OneToOne(4, w_init=bs.nn.Param(jnp.ones(4), t=bs.nn.PositiveT()),
                                         b_init=bs.nn.Const(jnp.arange(4.0))),
         lambda: (jnp.linspace(-1, 1, 4),)),
]
