"""Learning-rate schedules: their values, their use under jit, their argument checks."""

import math

import jax.numpy as jnp
import numpy as np
import optax
import pytest
from numpy.testing import assert_allclose

import brainstate
import brainstate.optim as optim

COUNTS = [0, 1, 2, 3, 5, 8, 13, 40]


def cosine(base, t, T, eta_min=0.0):
    return eta_min + (base - eta_min) * (1 + math.cos(math.pi * min(t, T) / T)) / 2


# (schedule, the closed-form learning rate at step t)
SCHEDULES = {
    "StepLR": (optim.StepLR(0.1, step_size=3, gamma=0.5), lambda t: 0.1 * 0.5 ** (t // 3)),
    "MultiStepLR": (optim.MultiStepLR(0.1, milestones=[2, 5], gamma=0.1),
                    lambda t: 0.1 * 0.1 ** ((t >= 2) + (t >= 5))),
    "ExponentialLR": (optim.ExponentialLR(0.1, gamma=0.9), lambda t: 0.1 * 0.9 ** t),
    "ExponentialDecayLR": (optim.ExponentialDecayLR(0.1, decay_steps=4, decay_rate=0.5), lambda t: 0.1 * 0.5 ** (t / 4)),
    "ConstantLR": (optim.ConstantLR(0.1, factor=0.5, total_iters=3), lambda t: 0.05 if t < 3 else 0.1),
    "LinearLR": (optim.LinearLR(0.1, start_factor=0.5, end_factor=1.0, total_iters=4),
                 lambda t: 0.1 * (0.5 + 0.5 * min(t, 4) / 4)),
    "PolynomialLR": (optim.PolynomialLR(0.1, total_iters=10, power=2.0), lambda t: 0.1 * (1 - min(t, 10) / 10) ** 2),
    "CosineAnnealingLR": (optim.CosineAnnealingLR(0.1, T_max=10, eta_min=0.01), lambda t: cosine(0.1, t, 10, 0.01)),
    "WarmRestarts": (optim.CosineAnnealingWarmRestarts(0.1, T_0=4), lambda t: cosine(0.1, t % 4, 4)),
    "WarmRestarts-Tmult": (optim.CosineAnnealingWarmRestarts(0.1, T_0=2, T_mult=2),
                           lambda t: cosine(0.1, *next((t - s, p) for s, p in [(0, 2), (2, 4), (6, 8), (14, 16),
                                                                                (30, 32)] if t < s + p))),
    "WarmupScheduler": (optim.WarmupScheduler(0.1, warmup_epochs=4, warmup_start_lr=0.02),
                        lambda t: 0.02 + 0.08 * min(t, 4) / 4),
    "WarmupCosineSchedule": (optim.WarmupCosineSchedule(0.1, warmup_steps=3, total_steps=13),
                             lambda t: 0.1 * t / 3 if t < 3 else cosine(0.1, t - 3, 10)),
    "PiecewiseConstantSchedule": (optim.PiecewiseConstantSchedule(boundaries=[2, 5], values=[0.3, 0.2, 0.1]),
                                  lambda t: 0.3 if t < 2 else 0.2 if t < 5 else 0.1),
    "SequentialLR": (optim.SequentialLR([optim.LinearLR(0.1, 0.1, 1.0, 5), optim.ExponentialLR(0.1, 0.5)], [5]),
                     lambda t: 0.1 * (0.1 + 0.9 * t / 5) if t < 5 else 0.1 * 0.5 ** (t - 5)),
}


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_schedule_values(name):
    schedule, expected = SCHEDULES[name]
    got = [float(schedule(t)) for t in COUNTS]
    assert_allclose(got, [expected(t) for t in COUNTS], rtol=1e-5, atol=1e-7)


def test_one_cycle_rises_to_max_lr_then_falls_to_the_final_value():
    for strategy in ("cos", "linear"):
        s = optim.OneCycleLR(max_lr=1.0, total_steps=100, pct_start=0.3, anneal_strategy=strategy)
        assert_allclose([float(s(0)), float(s(30)), float(s(100))], [1 / 25, 1.0, 1 / 25 / 1e4], rtol=1e-4)
    by_epochs = optim.OneCycleLR(max_lr=1.0, epochs=10, steps_per_epoch=10)
    assert by_epochs.total_steps == 100


def test_cosine_one_cycle_is_optax():
    s = optim.OneCycleLR(max_lr=0.5, total_steps=50)
    ref = optax.cosine_onecycle_schedule(50, 0.5)
    assert_allclose([float(s(t)) for t in COUNTS], [float(ref(t)) for t in COUNTS], rtol=1e-6)


def test_schedule_advances_once_per_update_under_jit():
    w = brainstate.ParamState(jnp.zeros(()))
    opt = optim.SGD(lr=optim.StepLR(1.0, step_size=2, gamma=0.5))
    opt.register_trainable_weights({"w": w})
    traces = []

    @brainstate.transform.jit
    def step():
        traces.append(1)
        opt.update({"w": jnp.ones(())})

    seen_lr, seen_w = [], []
    for i in range(5):
        seen_lr.append(float(opt.lr))
        step()
        seen_w.append(float(w.value))
        if i == 0:
            first = len(traces)  # the discovery run plus the compiled trace
    assert seen_lr == [1.0, 1.0, 0.5, 0.5, 0.25]
    assert_allclose(seen_w, -np.cumsum(seen_lr))
    assert len(traces) == first  # the count is a State: advancing it never retraces
    assert int(opt.step_count.value) == 5


def test_schedule_repr_shows_its_arguments():
    assert repr(optim.StepLR(0.1, step_size=3)) == "StepLR(base_lr=0.1, step_size=3, gamma=0.1)"


@pytest.mark.parametrize("make, error, match", [
    (lambda: optim.StepLR(0.0), ValueError, "base_lr must be > 0"),
    (lambda: optim.StepLR("0.1"), TypeError, "base_lr must be a number, got str"),
    (lambda: optim.StepLR(0.1, step_size=0), ValueError, "step_size must be an integer >= 1"),
    (lambda: optim.StepLR(0.1, gamma=-1.0), ValueError, "gamma must be >= 0"),
    (lambda: optim.MultiStepLR(0.1, milestones=[5, 2]), ValueError, "milestones must be strictly increasing"),
    (lambda: optim.MultiStepLR(0.1, milestones=[-1]), ValueError, "each of milestones must be an integer >= 0"),
    (lambda: optim.OneCycleLR(1.0), ValueError, "give total_steps, or both epochs and steps_per_epoch"),
    (lambda: optim.OneCycleLR(1.0, 10, pct_start=1.0), ValueError, "pct_start must be below 1"),
    (lambda: optim.OneCycleLR(1.0, 10, anneal_strategy="exp"), ValueError, "anneal_strategy must be 'cos' or 'linear'"),
    (lambda: optim.WarmupCosineSchedule(0.1, warmup_steps=10, total_steps=10), ValueError,
     "total_steps must be an integer >= 11"),
    (lambda: optim.PiecewiseConstantSchedule(boundaries=[1, 2], values=[0.1]), ValueError,
     "values needs one more entry than boundaries"),
    (lambda: optim.SequentialLR([], []), TypeError, "schedulers must be a non-empty list of schedules"),
    (lambda: optim.SequentialLR([optim.StepLR(), optim.StepLR()], [1, 2]), ValueError,
     "milestones needs one entry fewer than schedulers"),
])
def test_schedule_argument_errors(make, error, match):
    with pytest.raises(error, match=match):
        make()
