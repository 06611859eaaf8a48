"""ProgressBar: reports from inside compiled loops through tqdm (faked here to record what it is
told) or the plain fallback bar; argument checks."""

import sys
import types

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from numpy.testing import assert_allclose

import brainstate as bs
from brainstate.transform import ProgressBar, checkpointed_for_loop, for_loop, grad, jit, scan


class FakeTqdm:
    """Records how a bar is driven."""

    bars = []

    def __init__(self, total, desc=None, **kwargs):
        self.total, self.desc, self.kwargs = total, desc, kwargs
        self.n, self.updates, self.closed = 0, [], False
        FakeTqdm.bars.append(self)

    def update(self, k=1):
        self.n += k
        self.updates.append(k)

    def set_description(self, desc=None, refresh=True):
        self.desc = desc

    def close(self):
        self.closed = True


@pytest.fixture
def bars(monkeypatch):
    FakeTqdm.bars = []
    monkeypatch.setitem(sys.modules, "tqdm", types.SimpleNamespace(tqdm=FakeTqdm))
    return FakeTqdm.bars


def run_steps(n, pbar, reverse=False):
    total = bs.State(jnp.array(0.0), name="total")

    def step(x):
        total.value += x
        return total.value

    ys = jit(lambda xs: for_loop(step, xs, pbar=pbar, reverse=reverse))(jnp.arange(float(n)))
    jax.effects_barrier()
    return ys


def test_int_pbar_reports_every_n_steps_under_jit(bars):
    ys = run_steps(10, 3)
    assert_allclose(ys[-1], 45.0)
    (bar,) = bars
    assert bar.total == 10 and bar.updates == [3, 3, 3, 1] and bar.closed


def test_count_sets_the_number_of_reports(bars):
    run_steps(20, ProgressBar(count=4))
    assert bars[0].updates == [5, 5, 5, 5]


def test_default_reports_every_five_percent(bars):
    run_steps(40, ProgressBar())
    assert len(bars[0].updates) == 20 and bars[0].n == 40
    assert bars[0].desc == "Running 40 steps"


def test_each_run_draws_a_fresh_bar(bars):
    f = jit(lambda xs: for_loop(lambda x: x * 2, xs, pbar=2))
    f(jnp.arange(4.0))
    f(jnp.arange(4.0))
    jax.effects_barrier()
    assert len(bars) == 2 and all(b.closed and b.n == 4 for b in bars)


def test_reverse_loop_counts_steps_done(bars):
    run_steps(6, 2, reverse=True)
    assert bars[0].updates == [2, 2, 2] and bars[0].closed


def test_string_desc_and_tqdm_kwargs(bars):
    run_steps(4, ProgressBar(freq=2, desc="simulating", leave=False))
    assert bars[0].desc == "simulating" and bars[0].kwargs == {"leave": False}


def test_desc_function_sees_step_carry_and_output(bars):
    seen = []

    def fields(data):
        seen.append(data["i"])
        return {"i": data["i"], "c": float(data["carry"]), "y": float(data["y"])}

    pbar = ProgressBar(freq=2, desc=("step {i} carry {c:.1f} y {y:.1f}", fields))
    scan(lambda c, x: (c + x, c * 10), 0.0, jnp.arange(1.0, 5.0), pbar=pbar)
    jax.effects_barrier()
    assert seen == [1, 3]
    assert bars[0].desc == "step 3 carry 10.0 y 60.0"


def test_desc_function_must_return_a_dict(bars):
    pbar = ProgressBar(freq=1, desc=("{x}", lambda data: 3))
    with pytest.raises(Exception, match="desc function of ProgressBar must return a dict"):
        for_loop(lambda x: x, jnp.arange(2.0), pbar=pbar)
        jax.effects_barrier()


def test_checkpointed_loop_under_grad_reports_each_step_once(bars):
    w = bs.ParamState(jnp.array(0.5), name="w")

    def loss(xs):
        return checkpointed_for_loop(lambda x: jnp.sin(w.value * x), xs, base=2, pbar=1).sum()

    g = grad(loss, grad_states=w)(jnp.arange(9.0))
    jax.effects_barrier()
    assert_allclose(g, jnp.sum(jnp.arange(9.0) * jnp.cos(0.5 * jnp.arange(9.0))), rtol=1e-5)
    (bar,) = bars
    assert bar.n == 9 and sum(bar.updates) == 9 and bar.closed


def test_plain_bar_without_tqdm(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # `import tqdm` now raises ImportError
    run_steps(10, ProgressBar(freq=5, desc="plain"))
    err = capsys.readouterr().err
    assert "plain: 100%" in err and "10/10" in err and err.endswith("\n")


@pytest.mark.parametrize("kwargs,match", [
    (dict(freq=0), "freq must be a positive int"),
    (dict(count=-2), "count must be a positive int"),
    (dict(freq=2, count=3), "both freq=2 and count=3"),
])
def test_bad_frequency_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ProgressBar(**kwargs)


def test_bad_desc():
    with pytest.raises(TypeError, match="desc=.* must be a string or a pair"):
        ProgressBar(desc=("{i}",))


def test_bad_pbar_argument():
    with pytest.raises(TypeError, match="pbar must be a ProgressBar, an int"):
        for_loop(lambda x: x, jnp.arange(3.0), pbar="fast")


def test_explicit_compile_is_reused_by_the_calls_with_a_progress_bar():
    import logging

    compiled = []

    class Catch(logging.Handler):
        def emit(self, record):
            if "Finished XLA compilation of jit(run)" in record.getMessage():
                compiled.append(record)

    v = bs.State(jnp.zeros(3))

    def run():
        def step(i):
            v.value = v.value * 0.5 + 1
            return v.value.sum()

        return bs.transform.for_loop(step, jnp.arange(8), pbar=bs.transform.ProgressBar(freq=4))

    handler = Catch()
    logger = logging.getLogger("jax")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        with jax.log_compiles(True):
            f = bs.transform.jit(run)
            f.compile()
            assert len(compiled) == 1
            f()
            f()
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    assert len(compiled) == 1  # the calls reuse the program compiled ahead of time
    assert_allclose(v.value, np.full(3, 2.0 - 2.0 ** -15), rtol=1e-6)
