"""The data-parallel training case shared by the two-process test and its single-device reference.

`Regressor` is an MLP plus a per-example state split over the mesh axis 'data' (so a checkpoint
holds pieces written by both processes). `run(model, batches, put)` trains it with SGD and
returns the losses; `put` places each batch (split over 'data' in the multi-process run).
"""

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import PartitionSpec as P

import brainstate as bs

BATCH = 8
STEPS = 2


class Regressor(bs.nn.Module):
    def __init__(self, layout: bool):
        super().__init__()
        self.mlp = bs.nn.Sequential(bs.nn.Linear(6, 16), jax.nn.tanh, bs.nn.Linear(16, 2))
        self.seen = bs.ShortTermState(jnp.zeros(BATCH))  # the summed error of each example
        if layout:
            self.seen.sharding = P("data")


def make_model(layout: bool = True) -> Regressor:
    """The model; with `layout`, `seen` declares its split over the mesh axis 'data'."""
    bs.random.seed(0)
    return Regressor(layout)


def batches():
    rng = np.random.default_rng(0)
    for _ in range(STEPS):
        x = rng.normal(size=(BATCH, 6)).astype(np.float32)
        yield x, np.stack([np.sin(x[:, 0]), x[:, 1] * x[:, 2]], axis=1).astype(np.float32)


def run(model: Regressor, put=lambda a: a, lr: float = 0.1):
    params = bs.graph.states(model, bs.ParamState)

    @bs.transform.jit
    def step(x, y):
        def loss_fn():
            return jnp.mean((model.mlp(x) - y) ** 2)

        grads, loss = bs.transform.grad(loss_fn, grad_states=params, return_value=True)()
        for path, state in params.items():
            state.value = jax.tree_util.tree_map(lambda w, g: w - lr * g, state.value, grads[path])
        model.seen.value = model.seen.value + jnp.mean((model.mlp(x) - y) ** 2, axis=1)
        return loss

    return [float(jax.block_until_ready(step(put(x), put(y)))) for x, y in batches()]


def parameters(model: Regressor, to_numpy=np.asarray) -> dict:
    """'layers.0.weight.bias' -> value, for every parameter leaf."""
    flat = {}
    for path, state in bs.graph.states(model, bs.ParamState).items():
        for key, leaf in state.value.items():
            flat[".".join(map(str, path + (key,)))] = to_numpy(leaf)
    return flat
