"""A compiled function that reads a setting (every neuron model reads `dt`) runs the program for
the calling thread's current value on every call: by the generated per-call runner, which
compares the values it was installed for, or by the general path when they differ. Eager
results are the oracle; trace counts show that nothing is traced twice for one value."""

import threading

import jax.numpy as jnp
import pytest
from numpy.testing import assert_allclose

import brainstate as bs
from brainstate import environ


@pytest.fixture(autouse=True)
def clean_dt():
    environ.set(dt=0.1)
    yield
    environ.set(dt=0.1)


def _model():
    v = bs.State(jnp.zeros(3))
    runs = []

    def step(x):
        runs.append(1)
        v.value = v.value + environ.get_dt() * (x - v.value)
        return v.value

    return v, step, runs


def _eager(v0, xs_dts):
    v = v0
    for x, dt in xs_dts:
        v = v + dt * (x - v)
    return v


def test_each_call_runs_the_program_for_the_current_value_and_traces_once_per_value():
    v, step, runs = _model()
    jitted = bs.transform.jit(step)
    x = jnp.arange(3.0)
    history = []
    for dt in [0.1, 0.1, 0.2, 0.1, 0.2, 0.2, 0.5, 0.1]:
        with environ.context(dt=dt):
            out = jitted(x)
        history.append((x, dt))
        assert_allclose(out, _eager(jnp.zeros(3), history), rtol=1e-6)
    assert len(runs) == 3  # one trace per value, none when a value comes back
    compiled = jitted._compiled  # the `JittedFunction` behind the function `jit` returned
    assert compiled.__call__ != compiled._generic  # the last value's calls take the generated runner
    assert jitted.__code__ is compiled.__call__.__code__  # and so does the function


def test_a_global_change_between_calls_is_seen():
    v, step, runs = _model()
    jitted = bs.transform.jit(step)
    x = jnp.ones(3)
    jitted(x)
    jitted(x)
    environ.set(dt=0.3)
    assert_allclose(jitted(x), _eager(jnp.zeros(3), [(x, 0.1), (x, 0.1), (x, 0.3)]), rtol=1e-6)
    assert len(runs) == 2


def test_threads_with_their_own_contexts_each_get_their_own_value():
    v, step, runs = _model()
    jitted = bs.transform.jit(step)
    x = jnp.ones(3)
    jitted(x)  # the runner is installed for dt = 0.1 on this thread
    results = {}

    def in_context():
        with environ.context(dt=0.5):
            before = v.value
            results["thread"] = (before, jitted(x))

    worker = threading.Thread(target=in_context)
    worker.start()
    worker.join()
    before, out = results["thread"]
    assert_allclose(out, before + 0.5 * (x - before), rtol=1e-6)
    before = v.value
    assert_allclose(jitted(x), before + 0.1 * (x - before), rtol=1e-6)  # back on this thread's value


def test_an_array_setting_equal_in_value_reuses_the_program():
    v, step, runs = _model()
    jitted = bs.transform.jit(step)
    x = jnp.ones(3)
    environ.set(dt=jnp.asarray(0.25))
    jitted(x)
    environ.set(dt=jnp.asarray(0.25))  # a new array, the same value
    jitted(x)
    environ.set(dt=jnp.asarray(0.5))
    out = jitted(x)
    assert_allclose(out, _eager(jnp.zeros(3), [(x, 0.25), (x, 0.25), (x, 0.5)]), rtol=1e-6)
    assert len(runs) == 2
