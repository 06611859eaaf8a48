"""A tensor-parallel feed-forward layer: its parameters are split across devices.

Run:
  XLA_FLAGS=--xla_force_host_platform_device_count=8 python examples/tensor_parallel_mlp.py [--short]

The layer computes `gelu(x @ W1 + b1) @ W2 + b2`, with a hidden size larger than the model size.
Its parameters name their dimensions with logical axes when they are created ('embed' for the
model size, 'mlp' for the hidden size), and rules map the names onto a 2 x 4 device mesh:

    rules = {'embed': None, 'mlp': 'model'}

so W1 is split by columns and W2 by rows over the 4 devices of mesh axis 'model' (the Megatron
layout: the hidden activations stay split, and XLA adds one all-reduce after the second
product), while batches are split over the 2 devices of mesh axis 'data'. The model is built
with `sharded_init`, so no parameter ever exists whole on one device.

The program checks that training gives the parameters of the same training on one device, that
every parameter keeps its sharding after every step, and that each device holds a quarter of W1.
"""

import argparse
import math
import os

os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=8")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from jax.sharding import AxisType, NamedSharding, PartitionSpec as P  # noqa: E402

import brainstate as bs  # noqa: E402

RULES = {"embed": None, "mlp": "model"}


class FeedForward(bs.nn.Module):
    """`gelu(x @ W1 + b1) @ W2 + b2`; the parameters declare their logical axes at creation."""

    def __init__(self, d_model: int, d_hidden: int):
        super().__init__()
        self.w1 = bs.ParamState(bs.random.normal(size=(d_model, d_hidden)) / math.sqrt(d_model),
                                logical_axes=("embed", "mlp"))
        self.b1 = bs.ParamState(jnp.zeros(d_hidden), logical_axes=("mlp",))
        self.w2 = bs.ParamState(bs.random.normal(size=(d_hidden, d_model)) / math.sqrt(d_hidden),
                                logical_axes=("mlp", "embed"))
        self.b2 = bs.ParamState(jnp.zeros(d_model), logical_axes=("embed",))

    def update(self, x):
        h = jax.nn.gelu(x @ self.w1.value + self.b1.value)
        return h @ self.w2.value + self.b2.value


def make_model() -> FeedForward:
    return FeedForward(32, 256)


def sgd_step(model, lr: float = 0.1):
    params = bs.graph.states(model, bs.ParamState)

    def loss_fn(x, y):
        return jnp.mean((model(x) - y) ** 2)

    @bs.transform.jit
    def step(x, y):
        grads, loss = bs.transform.grad(loss_fn, grad_states=params, return_value=True)(x, y)
        for path, state in params.items():
            state.value = state.value - lr * grads[path]
        return loss

    return step


def main(short: bool = False) -> None:
    steps, batch = (4, 16) if short else (150, 64)
    mesh = jax.make_mesh((2, 4), ("data", "model"), axis_types=(AxisType.Auto,) * 2)

    bs.random.seed(0)
    single = make_model()  # the reference, built eagerly on one device
    bs.random.seed(0)
    sharded = bs.sharding.sharded_init(make_model, mesh, RULES)  # the same values, built sharded

    w1 = sharded.w1.value
    print(f"W1: global {w1.shape}, per device {w1.addressable_shards[0].data.shape}, spec {w1.sharding.spec}")
    if w1.addressable_shards[0].data.shape != (32, 64):
        raise SystemExit("W1 is not split over the 4 devices of mesh axis 'model'")

    teacher = np.random.default_rng(1).normal(size=(32, 32)).astype(np.float32) / math.sqrt(32)
    rng = np.random.default_rng(2)
    step_single, step_sharded = sgd_step(single), sgd_step(sharded)
    for i in range(steps):
        x = rng.normal(size=(batch, 32)).astype(np.float32)
        y = np.tanh(x @ teacher)
        loss = float(jax.block_until_ready(step_single(x, y)))
        xs, ys = (jax.device_put(a, NamedSharding(mesh, P("data"))) for a in (x, y))
        loss_sharded = float(jax.block_until_ready(step_sharded(xs, ys)))
        for path, state in bs.graph.states(sharded, bs.ParamState).items():
            if not bs.sharding.has_declared_sharding(state):
                raise SystemExit(f"step {i}: {path} lost its sharding {state.sharding.spec}")
        if i == 0:
            first = loss
    for path, state in bs.graph.states(sharded, bs.ParamState).items():
        np.testing.assert_allclose(np.asarray(state.value), np.asarray(getattr(single, path[0]).value),
                                   rtol=1e-5, atol=1e-5, err_msg=f"parameter {path}")
    print(f"loss {first:.4f} -> {loss:.4f} (sharded run: {loss_sharded:.4f})")
    if not short and not loss < 0.5 * first:
        raise SystemExit(f"training did not converge: {first} -> {loss}")
    print(f"OK: {steps} steps, parameters match the single device and kept their shardings")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="a few steps only (used by the tests)")
    main(parser.parse_args().short)
