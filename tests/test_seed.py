"""The user's own description ("Why State-Based?"): its Counter example, verbatim."""

import pathlib
import subprocess
import sys

import jax
import jax.numpy as jnp
import pytest

import brainstate

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_counter_example_runs_verbatim():
    out = subprocess.run([sys.executable, str(ROOT / "examples" / "counter.py")], capture_output=True, text=True,
                         timeout=600, check=True)  # against a hang only, however loaded the machine
    assert out.stdout.strip() == "[1, 2, 3, 4]"


class Counter(brainstate.nn.Module):
    def __init__(self):
        super().__init__()
        self.n = brainstate.State(jnp.array(0))

    def __call__(self):
        self.n.value += 1
        return self.n.value


def test_counter_under_brainstate_jit():
    counter = brainstate.transform.jit(Counter())
    assert [int(counter()) for _ in range(4)] == [1, 2, 3, 4]


def test_counter_under_raw_jax_jit_raises_and_stays_zero():
    model = Counter()
    with pytest.raises(brainstate.TraceContextError, match="brainstate.transform.jit"):
        jax.jit(model)()
    assert int(model.n.value) == 0
