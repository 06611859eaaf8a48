import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from numpy.testing import assert_allclose

import brainstate as bs


class Block(bs.nn.Module):
    def __init__(self, shared):
        super().__init__()
        self.w = bs.ParamState(jnp.ones((2, 2)))
        self.shared = shared


class Model(bs.nn.Module):
    def __init__(self):
        super().__init__()
        shared = bs.ParamState(jnp.zeros(2))
        self.layers = [Block(shared), Block(shared)]
        self.h = bs.HiddenState(jnp.zeros(2))

    def update(self, x):
        for layer in self.layers:
            x = x @ layer.w.value + layer.shared.value
        self.h.value = self.h.value * 0.5 + x
        return x


def test_report_paths_reads_writes_creates_with_closure_and_shared_state():
    model = Model()
    counter = bs.State(jnp.array(0), name="counter")

    def step(x):
        counter.value += 1
        tmp = bs.State(x, name="tmp")
        return model(tmp.value)

    report = bs.transform.report_states(step, jnp.ones(2), root=model)
    assert [i.path for i in report.reads] == ["counter", "layers.0.w", "layers.0.shared", "layers.1.w", "h"]
    assert [i.path for i in report.writes] == ["counter", "h"]
    assert [i.path for i in report.creates] == ["tmp"]
    assert report.donates == []
    h = [i for i in report.writes if i.path == "h"][0]
    assert h.kind == "HiddenState" and h.signature == "float32[2]"
    assert "reads (5)" in str(report)


def test_report_on_jitted_module_finds_root_and_donation():
    model = Model()
    jitted = bs.transform.jit(model, donate_states=bs.HiddenState)
    report = jitted.report(jnp.ones(2))
    assert [i.path for i in report.writes] == ["h"]
    assert [i.path for i in report.donates] == ["h"]


def test_report_does_not_change_states():
    s = bs.State(jnp.zeros(2))
    bs.transform.report_states(lambda: setattr(s, "value", s.value + 1))
    assert_allclose(s.value, np.zeros(2))


def test_write_only_state_warning():
    out = bs.State(jnp.zeros(2), name="out")

    def f(x):
        out.value = x * 2

    report = bs.transform.report_states(f, jnp.ones(2))
    assert any("`out` is written but its previous value is never read" in w for w in report.warnings)
    with pytest.warns(bs.transform.PerformanceWarning, match="`out` is written but"):
        bs.transform.jit(f)(jnp.ones(2))


def test_no_warning_for_read_then_written_state():
    s = bs.State(jnp.zeros(2))
    with warnings.catch_warnings():
        warnings.simplefilter("error", bs.transform.PerformanceWarning)
        bs.transform.jit(lambda: setattr(s, "value", s.value + 1))()


def test_retrace_explained_for_argument_shape():
    f = bs.transform.jit(lambda x: x * 2)
    f(jnp.ones(3))
    f(jnp.ones(4))
    assert f.explain_retraces() == ["argument `x` changed shape (3,) → (4,)"]


def test_retrace_explained_for_state_dtype_by_path():
    model = Model()
    f = bs.transform.jit(model)
    f(jnp.ones(2))
    model.layers[1].w.restore_value(jnp.ones((2, 2), jnp.float16))
    f(jnp.ones(2))
    assert f.explain_retraces()[-1] == "`layers.1.w` changed dtype float32 → float16"


def test_retrace_explained_for_static_argument():
    f = bs.transform.jit(lambda x, k: x * k, static_argnums=1)
    f(1.0, 2)
    f(1.0, 3)
    assert f.explain_retraces() == ["static argument `k` changed 2 → 3"]


def test_retrace_explained_for_environ():
    f = bs.transform.jit(lambda x: x * bs.environ.get_dt())
    with bs.environ.context(dt=0.1):
        f(1.0)
    with bs.environ.context(dt=0.5):
        f(1.0)
    assert f.explain_retraces()[-1] == "environ `dt` changed 0.1 → 0.5"


def test_no_retrace_no_explanation():
    s = bs.State(jnp.zeros(2))
    f = bs.transform.jit(lambda x: setattr(s, "value", s.value + x))
    for _ in range(3):
        f(jnp.ones(2))
    assert f.explain_retraces() == []


def test_donated_states_are_reused_and_values_correct():
    w = bs.ParamState(jnp.ones(3), name="w")

    @bs.transform.jit(donate_states=True)
    def step(x):
        w.value = w.value - 0.1 * x
        return w.value.sum()

    old = w.value
    step(jnp.ones(3))
    assert_allclose(w.value, 0.9 * np.ones(3), rtol=1e-6)
    assert old.is_deleted()
    step(jnp.ones(3))
    assert_allclose(w.value, 0.8 * np.ones(3), rtol=1e-6)
    assert step.donated_states(jnp.ones(3)) == [w]


def test_donation_off_by_default_keeps_old_arrays():
    w = bs.ParamState(jnp.ones(3))
    step = bs.transform.jit(lambda: setattr(w, "value", w.value * 2))
    old = w.value
    step()
    assert not old.is_deleted()
    assert step.donated_states() == []
