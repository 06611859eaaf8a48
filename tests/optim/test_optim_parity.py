"""Every optimizer's steps equal optax's applied by hand to the same gradients, eager and jitted."""

import jax
import numpy as np
import optax
import pytest
from numpy.testing import assert_allclose

import brainstate
import brainstate.optim as optim

STEPS = 3
TOL = dict(rtol=1e-6, atol=1e-6)


def _initial():
    rng = np.random.RandomState(0)
    return {"w": rng.normal(size=(3, 4)).astype(np.float32), "b": rng.normal(size=(4,)).astype(np.float32)}


def _grads():
    rng = np.random.RandomState(1)
    return [{"w": rng.normal(size=(3, 4)).astype(np.float32), "b": rng.normal(size=(4,)).astype(np.float32)}
            for _ in range(STEPS)]


def by_hand(tx):
    """optax, the textbook way: init, then update + apply_updates per gradient (jitted, for speed)."""

    @jax.jit
    def step(g, state, params):
        updates, state = tx.update(g, state, params)
        return optax.apply_updates(params, updates), state

    params = {k: np.asarray(v) for k, v in _initial().items()}
    state = tx.init(params)
    for g in _grads():
        params, state = step(g, state, params)
    return params


def with_optimizer(opt, mode):
    weights = {k: brainstate.ParamState(v) for k, v in _initial().items()}
    opt.register_trainable_weights(weights)
    step = brainstate.transform.jit(opt.update) if mode == "jit" else opt.update
    for g in _grads():
        step(g)
    return {k: s.value for k, s in weights.items()}


CASES = {
    "SGD": (lambda: optim.SGD(lr=0.1), lambda: optax.sgd(0.1)),
    "SGD-nesterov": (lambda: optim.SGD(lr=0.1, momentum=0.9, nesterov=True), lambda: optax.sgd(0.1, 0.9, True)),
    "Momentum": (lambda: optim.Momentum(lr=0.1, momentum=0.8), lambda: optax.sgd(0.1, 0.8)),
    "MomentumNesterov": (lambda: optim.MomentumNesterov(lr=0.1, momentum=0.8),
                         lambda: optax.sgd(0.1, 0.8, nesterov=True)),
    "Nesterov": (lambda: optim.Nesterov(lr=0.1), lambda: optax.sgd(0.1, 0.9, nesterov=True)),
    "Adam": (lambda: optim.Adam(lr=1e-2, betas=(0.8, 0.99), eps=1e-7), lambda: optax.adam(1e-2, 0.8, 0.99, 1e-7)),
    "Adam-beta1": (lambda: optim.Adam(lr=1e-2, beta1=0.5), lambda: optax.adam(1e-2, b1=0.5)),
    "Adam-amsgrad": (lambda: optim.Adam(lr=1e-2, amsgrad=True), lambda: optax.amsgrad(1e-2)),
    "Adam-L2": (lambda: optim.Adam(lr=1e-2, weight_decay=0.1),
                lambda: optax.chain(optax.add_decayed_weights(0.1), optax.adam(1e-2))),
    "AdamW": (lambda: optim.AdamW(lr=1e-2, weight_decay=0.05), lambda: optax.adamw(1e-2, weight_decay=0.05)),
    "RMSprop": (lambda: optim.RMSprop(lr=1e-2, alpha=0.9, momentum=0.5, centered=True),
                lambda: optax.rmsprop(1e-2, decay=0.9, centered=True, momentum=0.5)),
    "RMSProp-torch-eps": (lambda: optim.RMSProp(lr=1e-2, eps_in_sqrt=False),
                          lambda: optax.rmsprop(1e-2, decay=0.99, eps_in_sqrt=False)),
    "Adagrad": (lambda: optim.Adagrad(lr=0.1), lambda: optax.adagrad(0.1, 0.0, 1e-10)),
    "Adadelta": (lambda: optim.Adadelta(lr=1.0, rho=0.95, weight_decay=0.01),
                 lambda: optax.adadelta(1.0, 0.95, 1e-6, 0.01)),
    "Adamax": (lambda: optim.Adamax(), lambda: optax.adamax(2e-3)),
    "Nadam": (lambda: optim.Nadam(), lambda: optax.nadam(2e-3)),
    "RAdam": (lambda: optim.RAdam(lr=1e-2), lambda: optax.radam(1e-2)),
    "Yogi": (lambda: optim.Yogi(lr=1e-2), lambda: optax.yogi(1e-2)),
    "AdaBelief": (lambda: optim.AdaBelief(lr=1e-2), lambda: optax.adabelief(1e-2)),
    "Lamb": (lambda: optim.Lamb(lr=1e-2, weight_decay=0.01), lambda: optax.lamb(1e-2, weight_decay=0.01)),
    "Lars": (lambda: optim.Lars(lr=0.1, weight_decay=0.01), lambda: optax.lars(0.1, 0.01, eps=1e-8)),
    "Lion": (lambda: optim.Lion(lr=1e-3, weight_decay=0.01), lambda: optax.lion(1e-3, weight_decay=0.01)),
    "Rprop": (lambda: optim.Rprop(lr=0.01), lambda: optax.rprop(0.01)),
    "OptaxOptimizer-complete": (lambda: optim.OptaxOptimizer(optax.adabelief(1e-2)), lambda: optax.adabelief(1e-2)),
    "OptaxOptimizer-factory": (lambda: optim.OptaxOptimizer(optax.sgd, lr=0.1), lambda: optax.sgd(0.1)),
    "Adam-StepLR": (lambda: optim.Adam(lr=optim.StepLR(0.1, step_size=2, gamma=0.5)),
                    lambda: optax.adam(optax.exponential_decay(0.1, 2, 0.5, staircase=True))),
    "SGD-optax-schedule": (lambda: optim.SGD(lr=optax.linear_schedule(0.1, 0.0, 3), momentum=0.9),
                           lambda: optax.sgd(optax.linear_schedule(0.1, 0.0, 3), 0.9)),
    "clip-norm": (lambda: optim.SGD(lr=0.1, grad_clip_norm=0.5),
                  lambda: optax.chain(optax.clip_by_global_norm(0.5), optax.sgd(0.1))),
    "clip-value": (lambda: optim.Adam(lr=1e-2, grad_clip_value=0.3),
                   lambda: optax.chain(optax.clip(0.3), optax.adam(1e-2))),
}


@pytest.mark.parametrize("name", list(CASES))
def test_matches_optax_by_hand_under_jit(name):
    ours, theirs = CASES[name]
    got = with_optimizer(ours(), "jit")
    want = by_hand(theirs())
    for k in want:
        assert_allclose(got[k], want[k], **TOL, err_msg=k)


# Eager runs dispatch op by op (slow), so a representative few.
@pytest.mark.parametrize("name", ["SGD-nesterov", "Adam", "AdamW", "Adam-StepLR", "clip-norm"])
def test_matches_optax_by_hand_eagerly(name):
    ours, theirs = CASES[name]
    got = with_optimizer(ours(), "eager")
    want = by_hand(theirs())
    for k in want:
        assert_allclose(got[k], want[k], **TOL, err_msg=k)


def test_jit_gives_the_eager_numbers_and_buffers():
    eager, jitted = optim.Adam(lr=1e-2), optim.Adam(lr=1e-2)
    got_eager, got_jit = with_optimizer(eager, "eager"), with_optimizer(jitted, "jit")
    for k in got_eager:
        assert_allclose(got_jit[k], got_eager[k], **TOL)
    buffers_eager, buffers_jit = brainstate.graph.states(eager), brainstate.graph.states(jitted)
    assert list(buffers_eager) == list(buffers_jit)
    for path in buffers_eager:
        assert_allclose(buffers_jit[path].value, buffers_eager[path].value, **TOL, err_msg=str(path))
