"""A constrained fit: a positive time constant and a probability recovered by jitted Adam."""

import jax.numpy as jnp
import numpy as np
from numpy.testing import assert_allclose

import brainstate as bs

nn = bs.nn
TAU, PROB = 1.5, 0.8
T = jnp.linspace(0.0, 5.0, 50)
Y = PROB * jnp.exp(-T / TAU)


class Decay(nn.Module):
    """`y(t) = p * exp(-t / tau)` with `tau > 0` (softplus) and `p` in (0, 1) (sigmoid)."""

    def __init__(self):
        super().__init__()
        # A weak L2 prior on tau: it must not move the optimum by more than the tolerance.
        self.tau = nn.Param(0.5, t=nn.SoftplusT(0.0), reg=nn.L2Reg(1e-6))
        self.prob = nn.Param(0.3, t=nn.SigmoidT(0.0, 1.0))

    def update(self, t):
        return self.prob.value() * jnp.exp(-t / self.tau.value())


def trainer():
    model = Decay()
    params = model.states(bs.ParamState)
    opt = bs.optim.Adam(lr=0.05)
    opt.register_trainable_weights(params)

    def loss():
        return jnp.mean((model(T) - Y) ** 2) + model.reg_loss()

    def step():
        grads, value = bs.transform.grad(loss, grad_states=params, return_value=True)()
        opt.update(grads)
        return value

    return model, params, step


def test_jitted_training_recovers_the_parameters():
    model, _, step = trainer()
    step = bs.transform.jit(step)
    for _ in range(400):
        step()
    assert float(jnp.mean((model(T) - Y) ** 2)) < 1e-6
    assert_allclose(float(model.tau.value()), TAU, rtol=1e-2)
    assert_allclose(float(model.prob.value()), PROB, rtol=1e-2)


def test_eager_and_jitted_training_agree():
    model_e, params_e, step_e = trainer()
    model_j, params_j, step_j = trainer()
    step_j = bs.transform.jit(step_j)
    losses_e = [float(step_e()) for _ in range(15)]
    losses_j = [float(step_j()) for _ in range(15)]
    assert_allclose(losses_j, losses_e, rtol=1e-5)
    assert set(params_e) == set(params_j)
    for path in params_e:
        assert_allclose(np.asarray(params_j[path].value), np.asarray(params_e[path].value), rtol=1e-5, atol=1e-7)
