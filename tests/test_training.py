"""A first model trains: jitted SGD on a 2-layer MLP built from nn.Linear."""

import jax
import jax.numpy as jnp
from numpy.testing import assert_allclose

import brainstate as bs


def build():
    bs.random.seed(1)
    model = bs.nn.Sequential(bs.nn.Linear(3, 16), jnp.tanh, bs.nn.Linear(16, 1))
    x = jnp.linspace(-1, 1, 24).reshape(8, 3)
    y = jnp.sum(jnp.sin(x), axis=1, keepdims=True)
    params = model.states(bs.ParamState)

    def loss_fn():
        return jnp.mean((model(x) - y) ** 2)

    def step():
        grads, loss = bs.transform.grad(loss_fn, grad_states=params, return_value=True)()
        for path, g in grads.items():
            params[path].value = jax.tree.map(lambda p, g: p - 0.1 * g, params[path].value, g)
        return loss

    return model, params, loss_fn, step


def test_linear_keeps_one_param_state_with_weight_and_bias():
    layer = bs.nn.Linear(3, 4)
    states = layer.states()
    assert list(states) == [("weight",)]
    assert set(states[("weight",)].value) == {"weight", "bias"}
    assert states[("weight",)].value["weight"].shape == (3, 4)


def test_jitted_sgd_reduces_loss_and_matches_eager():
    _, params_j, loss_j, step_j = build()
    _, params_e, loss_e, step_e = build()
    jitted = bs.transform.jit(step_j)
    before = float(loss_j())
    for _ in range(30):
        jitted()
        step_e()
    assert float(loss_j()) < 0.5 * before
    for path in params_j:
        jax.tree.map(lambda a, b: assert_allclose(a, b, atol=1e-6, rtol=1e-6),
                     params_j[path].value, params_e[path].value)


def test_train_mlp_example_short_run():
    import importlib.util
    import pathlib

    path = pathlib.Path(__file__).resolve().parent.parent / "examples" / "train_mlp.py"
    spec = importlib.util.spec_from_file_location("train_mlp", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.main(steps=200, verbose=False) < 0.15
