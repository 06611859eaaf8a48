"""Train a small MLP regression with a jitted SGD step; the loss falls.

Usage: python examples/train_mlp.py [--steps N]
"""

import argparse

import jax
import jax.numpy as jnp

import brainstate as bs


class MLP(bs.nn.Module):
    def __init__(self, sizes):
        super().__init__()
        self.layers = [bs.nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])]

    def update(self, x):
        for layer in self.layers[:-1]:
            x = jnp.tanh(layer(x))
        return self.layers[-1](x)


def main(steps: int = 500, lr: float = 0.05, verbose: bool = True) -> float:
    bs.random.seed(0)
    x = jnp.linspace(-2, 2, 128)[:, None]
    y = jnp.sin(2 * x)
    model = MLP([1, 32, 32, 1])
    params = model.states(bs.ParamState)

    def loss_fn():
        return jnp.mean((model(x) - y) ** 2)

    @bs.transform.jit
    def step():
        grads, loss = bs.transform.grad(loss_fn, grad_states=params, return_value=True)()
        for path, g in grads.items():
            params[path].value = jax.tree.map(lambda p, g: p - lr * g, params[path].value, g)
        return loss

    first = float(loss_fn())
    for i in range(steps):
        loss = step()
        if verbose and (i % (steps // 10 or 1) == 0 or i == steps - 1):
            print(f"step {i:4d}  loss {float(loss):.5f}")
    final = float(loss_fn())
    if verbose:
        print(f"loss {first:.4f} -> {final:.4f}")
    return final


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=500)
    main(parser.parse_args().steps)
