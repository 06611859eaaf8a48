"""The seed's Counter: a write inside a jitted module persists across calls."""

import jax.numpy as jnp

import brainstate


class Counter(brainstate.nn.Module):
    def __init__(self):
        super().__init__()
        self.n = brainstate.State(jnp.array(0))

    def __call__(self):
        self.n.value += 1
        return self.n.value


counter = brainstate.transform.jit(Counter())
print([int(counter()) for _ in range(4)])  # 1, 2, 3, 4 — the write persists
