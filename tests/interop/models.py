"""The interop tests' corpus of BrainState models, state comparisons and a reference trainer."""

import jax
import jax.numpy as jnp
import numpy as np
from numpy.testing import assert_allclose

import brainstate
from brainstate import nn


class Block(nn.Module):
    """A custom module: sub-layers, batch statistics and a plain counter state."""

    def __init__(self):
        super().__init__()
        self.l1 = nn.Linear(3, 8)
        self.bn = nn.BatchNorm0d(8)
        self.l2 = nn.Linear(8, 2)
        self.calls = brainstate.ShortTermState(jnp.zeros(()))

    def update(self, x):
        self.calls.value = self.calls.value + 1
        return self.l2(jnp.tanh(self.bn(self.l1(x))))


class Noisy(nn.Module):
    """Adds noise from the default random stream."""

    def __init__(self):
        super().__init__()
        self.scale = brainstate.ParamState(jnp.ones(3))

    def update(self, x):
        return self.scale.value * x + brainstate.random.normal(size=x.shape)


def gru():
    cell = nn.GRUCell(3, 4)
    cell.init_all_states(batch_size=5)
    return cell


# name -> (model factory, input); every model takes the float input (5, 3) unless given
MODELS = {
    "mlp": lambda: nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 2)),
    "mlp_fn": lambda: nn.Sequential(nn.Linear(3, 8), jax.nn.tanh, nn.Linear(8, 2, b_init=None)),
    "batchnorm": lambda: nn.Sequential(nn.Linear(3, 4), nn.BatchNorm0d(4)),
    "batchnorm1d": lambda: nn.BatchNorm1d((7, 3), momentum=0.9),
    "block": Block,
    "gru": gru,
    "masked": lambda: nn.Linear(3, 2, w_mask=jnp.array([[1.0, 0.0]] * 3)),
    "shared": lambda: (lambda l: nn.Sequential(l, nn.ReLU(), l))(nn.Linear(3, 3)),
    "layernorm": lambda: nn.Sequential(nn.Linear(3, 4), nn.LayerNorm(4), nn.RMSNorm(4)),
    "layernorm_2pass": lambda: nn.Sequential(nn.Linear(3, 4), nn.LayerNorm(4, use_fast_variance=False)),
    "conv": lambda: nn.Sequential(nn.Conv1d((7, 3), 4, 3, b_init=nn.init.Constant(0.1)), nn.ReLU()),
    "conv_cf": lambda: nn.Conv2d((3, 6, 6), 4, 3, padding="VALID", channel_first=True, b_init=nn.init.ZeroInit()),
}
INPUTS = {
    "conv": jnp.linspace(-1, 1, 5 * 7 * 3).reshape(5, 7, 3),
    "batchnorm1d": jnp.cos(jnp.arange(5 * 7 * 3.0)).reshape(5, 7, 3),
    "conv_cf": jnp.linspace(-1, 1, 2 * 3 * 6 * 6).reshape(2, 3, 6, 6),
}


def make(name):
    brainstate.random.seed(1)
    return MODELS[name]()


def sample(name):
    return INPUTS.get(name, jnp.linspace(-2, 2, 15).reshape(5, 3))


def target(model, x):
    """A smooth regression target shaped like the model's output."""
    out = brainstate.transform.eval_shape(model, x)
    return jnp.sin(x.sum(axis=-1, keepdims=True)) * jnp.ones(out.shape[-1:])


def assert_same_states(got, want, exact=True):
    """Same paths, same State classes, same tree structures and values."""
    got_states, want_states = brainstate.graph.states(got), brainstate.graph.states(want)
    assert list(got_states.keys()) == list(want_states.keys())
    for path, w in want_states.items():
        g = got_states[path]
        assert type(g) is type(w), path
        assert jax.tree_util.tree_structure(g.value) == jax.tree_util.tree_structure(w.value), path
        for a, b in zip(jax.tree_util.tree_leaves(g.value), jax.tree_util.tree_leaves(w.value), strict=True):
            assert np.asarray(a).dtype == np.asarray(b).dtype, path
            assert_allclose(a, b, rtol=0 if exact else 1e-5, atol=0 if exact else 1e-6, err_msg=str(path))


def bs_sgd(model, x, y, steps, lr=0.1):
    """Losses of `steps` plain SGD steps on `model` in BrainState (the reference to compare with)."""
    params = model.states(brainstate.ParamState)

    @brainstate.transform.jit
    def step():
        def loss():
            return ((model(x) - y) ** 2).mean()

        grads, value = brainstate.transform.grad(loss, grad_states=params, return_value=True)()
        for path, state in params.items():
            state.value = jax.tree_util.tree_map(lambda p, g: p - lr * g, state.value, grads[path])
        return value

    return [float(step()) for _ in range(steps)]
