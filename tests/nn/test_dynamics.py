"""`nn.Dynamics` (inputs, before/after updates, prefetch), `exp_euler_step` and the wrappers."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from numpy.testing import assert_allclose

import brainstate as bs

DT = 0.1


class Leaky(bs.nn.Dynamics):
    """x' = (-x + I) / tau, integrated with exp_euler_step; returns x."""

    def __init__(self, in_size, tau=2.0):
        super().__init__(in_size)
        self.tau = tau

    def init_state(self, batch_size=None):
        self.x = bs.HiddenState(self._fill(0.0, batch_size, "x"))

    def update(self, inp=0.0):
        I = self.sum_current_inputs(inp, self.x.value)
        x = bs.nn.exp_euler_step(lambda x, I: (-x + I) / self.tau, self.x.value, I)
        self.x.value = self.sum_delta_inputs(x)
        return self.x.value


def _leaky(n=3):
    model = Leaky(n)
    model.init_state()
    return model


# -- Dynamics basics ------------------------------------------------------------------------------
def test_varshape_and_num():
    model = Leaky((2, 3))
    assert model.varshape == (2, 3) and model.in_size == (2, 3) and model.out_size == (2, 3)
    assert model.num == 6


def test_value_current_input_is_used_once():
    model = _leaky()
    model.add_current_input("pulse", jnp.ones(3))
    with bs.environ.context(dt=DT):
        first = model()
        second = model()
    assert_allclose(np.asarray(first), 1 - np.exp(-DT / 2), rtol=1e-6)
    assert_allclose(np.asarray(second), np.asarray(first) * np.exp(-DT / 2), rtol=1e-6)
    assert "pulse" not in model.current_inputs


def test_function_current_input_persists_and_receives_arguments():
    model = _leaky()
    seen = []
    model.add_current_input("drive", lambda x: seen.append(x.shape) or 2.0)
    with bs.environ.context(dt=DT):
        for _ in range(3):
            out = model()
    assert seen == [(3,)] * 3
    assert_allclose(np.asarray(out), 2 * (1 - np.exp(-3 * DT / 2)), rtol=1e-5)


def test_labels_select_inputs():
    model = _leaky()
    model.add_current_input("a", 1.0, label="soma")
    model.add_current_input("b", 10.0, label="dend")
    model.add_current_input("c", 100.0)
    assert float(model.sum_current_inputs(0.0, label="soma")) == 1.0
    assert float(model.sum_current_inputs(0.0)) == 110.0
    assert model.current_inputs == {}


def test_delta_inputs_jump_the_state():
    model = _leaky()
    model.add_delta_input("kick", 0.5)
    with bs.environ.context(dt=DT):
        out = model()
    assert_allclose(np.asarray(out), [0.5] * 3)


def test_a_pending_value_is_replaced():
    model = _leaky()
    model.add_current_input("p", 1.0)
    model.add_current_input("p", 3.0)
    assert float(model.sum_current_inputs(0.0)) == 3.0


def test_a_key_holding_another_function_is_rejected():
    model = _leaky()
    model.add_current_input("f", lambda: 1.0)
    with pytest.raises(ValueError, match="current input key 'f' is already taken"):
        model.add_current_input("f", lambda: 2.0)


def test_empty_in_size():
    with pytest.raises(ValueError, match="in_size must name at least one dimension"):
        Leaky(())


def test_missing_state_error():
    with pytest.raises(bs.BrainStateError, match="has no state 'x' yet"):
        Leaky(3)._state("x")


def test_before_and_after_updates_and_their_marks():
    model = _leaky()
    calls = []
    model.add_before_update("plain", lambda: calls.append("before"))
    model.add_before_update("with_input", bs.nn.receive_update_input(_Recorder(calls, "input")))
    model.add_after_update("with_output", _Recorder(calls, "output"))
    model.add_after_update("plain", bs.nn.not_receive_update_output(_Recorder(calls, "after")))
    with bs.environ.context(dt=DT):
        model(1.0)
    assert calls == ["before", ("input", 1.0), ("output", (3,)), ("after",)]
    assert model.has_before_update("plain") and not model.has_after_update("missing")
    assert model.get_after_update("plain") is model.after_updates["plain"]


def test_marks_can_be_removed():
    rec = bs.nn.receive_update_input(_Recorder([], "x"))
    assert not hasattr(bs.nn.not_receive_update_input(rec), "_receive_update_input")
    rec = bs.nn.not_receive_update_output(_Recorder([], "x"))
    assert not hasattr(bs.nn.receive_update_output(rec), "_not_receive_update_output")


class _Recorder:
    def __init__(self, calls, tag):
        self.calls, self.tag = calls, tag

    def __call__(self, *args):
        self.calls.append((self.tag, *[jnp.shape(a) if jnp.ndim(a) else float(a) for a in args]))


def test_duplicate_update_key():
    model = _leaky()
    model.add_after_update("k", lambda out: None)
    with pytest.raises(KeyError, match="already registered among the after updates"):
        model.add_after_update("k", lambda out: None)


def test_missing_update_key():
    with pytest.raises(KeyError, match="no before update registered under 'k'"):
        _leaky().get_before_update("k")


# -- prefetch -------------------------------------------------------------------------------------
def test_prefetch_reads_a_state_created_later():
    model = Leaky(2)
    ref = model.prefetch("x")
    model.init_state()
    assert_allclose(np.asarray(ref()), [0.0, 0.0])
    assert ref.get_item() is model.x
    bs.nn.init_maybe_prefetch(ref)


def test_prefetch_of_a_missing_attribute():
    with pytest.raises(AttributeError, match="has no attribute 'y'"):
        bs.nn.init_maybe_prefetch(Leaky(2).prefetch("y"))


def test_prefetch_delay_without_a_recorded_delay():
    with pytest.raises(KeyError, match="no after update registered under 'x-prefetch-delay-None'"):
        bs.nn.init_maybe_prefetch(Leaky(2).prefetch("x").delay)


def test_prefetch_delay_and_output_delay_under_jit_and_for_loop():
    with bs.environ.context(dt=DT):
        model = Leaky(2)
        x_two = model.prefetch_delay("x", 2 * DT)
        x_one = model.prefetch("x").delay.at(DT)
        out_three = model.output_delay(3 * DT)
    bs.nn.init_all_states(model)
    bs.nn.init_maybe_prefetch(model.prefetch("x").delay)

    @bs.transform.jit
    def run():
        def step(i):
            with bs.environ.context(t=i * DT, i=i):
                out = model(jnp.array([1.0, 2.0]))
            return out, x_two(), x_one(), out_three()

        return bs.transform.for_loop(step, jnp.arange(8))

    with bs.environ.context(dt=DT):
        out, two, one, three = (np.asarray(a) for a in run())
    shift = lambda a, k: np.concatenate([np.zeros((k, 2)), a[:-k]])
    assert_allclose(two, shift(out, 2), rtol=1e-6)
    assert_allclose(one, shift(out, 1), rtol=1e-6)
    assert_allclose(three, shift(out, 3), rtol=1e-6)


def test_prefetch_delay_needs_dynamics():
    with pytest.raises(TypeError, match="PrefetchDelayAt: module must be a Dynamics"):
        bs.nn.PrefetchDelayAt(bs.nn.Linear(2, 2), "weight", 1.0)


def test_output_delay_needs_dynamics():
    with pytest.raises(TypeError, match="OutputDelayAt: module must be a Dynamics"):
        bs.nn.OutputDelayAt(bs.nn.Linear(2, 2), 1.0)


# -- exp_euler_step -------------------------------------------------------------------------------
def test_exp_euler_is_exact_for_linear_odes():
    x0, tau, I = jnp.array([0.0, 1.0, -2.0]), 3.0, 1.5
    with bs.environ.context(dt=0.5):
        x1 = bs.nn.exp_euler_step(lambda x, I: (-x + I) / tau, x0, I)
    assert_allclose(np.asarray(x1), I + (np.asarray(x0) - I) * np.exp(-0.5 / tau), rtol=1e-6)


def test_exp_euler_uses_the_diagonal_jacobian():
    f = lambda x: -x ** 3 + 1.0
    x0, dt = jnp.array([0.5, 1.0, 2.0]), 0.1
    with bs.environ.context(dt=dt):
        x1 = bs.nn.exp_euler_step(f, x0)
    z = dt * (-3 * np.asarray(x0) ** 2)
    want = np.asarray(x0) + dt * np.expm1(z) / z * np.asarray(f(x0))
    assert_allclose(np.asarray(x1), want, rtol=1e-5)


def test_exp_euler_with_zero_jacobian_is_forward_euler():
    with bs.environ.context(dt=0.2):
        assert_allclose(np.asarray(bs.nn.exp_euler_step(lambda x: jnp.ones_like(x), jnp.zeros(2))), [0.2, 0.2])


def test_exp_euler_sde_adds_scaled_gaussian_noise():
    x0, sigma, dt = jnp.zeros(4), 0.3, 0.04
    bs.random.seed(3)
    with bs.environ.context(dt=dt):
        x1 = bs.nn.exp_euler_step(lambda x: -x, lambda x: sigma * jnp.ones_like(x), x0)
    bs.random.seed(3)
    noise = bs.random.randn(4)
    assert_allclose(np.asarray(x1), sigma * np.sqrt(dt) * np.asarray(noise), rtol=1e-5)


def test_exp_euler_under_jit_and_grad():
    f = lambda x, a: -a * x
    with bs.environ.context(dt=0.1):
        g = jax.grad(lambda a: bs.nn.exp_euler_step(f, jnp.array(1.0), a))(2.0)
        assert_allclose(float(g), -0.1 * np.exp(-0.2), rtol=1e-5)
        assert_allclose(float(bs.transform.jit(lambda: bs.nn.exp_euler_step(f, jnp.array(1.0), 2.0))()),
                        np.exp(-0.2), rtol=1e-6)


def test_exp_euler_with_units():
    u = pytest.importorskip("brainunit")
    with bs.environ.context(dt=0.1 * u.ms):
        V = bs.nn.exp_euler_step(lambda V, I: (-V + 1 * u.ohm * I) / (10 * u.ms), jnp.zeros(2) * u.mV, 2 * u.mA)
    assert_allclose(np.asarray(V.to_decimal(u.mV)), 2 * (1 - np.exp(-0.01)), rtol=1e-5)


def test_exp_euler_needs_a_function():
    with pytest.raises(TypeError, match="fn must be the drift function"):
        bs.nn.exp_euler_step(jnp.ones(2), jnp.ones(2))


def test_exp_euler_needs_a_state():
    with pytest.raises(TypeError, match="needs the state after the function"):
        bs.nn.exp_euler_step(lambda x: x)


def test_exp_euler_needs_floats():
    with pytest.raises(ValueError, match="must be a floating-point array, got dtype int32"):
        bs.nn.exp_euler_step(lambda x: x, jnp.array([1, 2]))


def test_exp_euler_needs_a_dimensionless_rate():
    u = pytest.importorskip("brainunit")
    with bs.environ.context(dt=0.1 * u.ms), pytest.raises(ValueError, match="should be dimensionless"):
        bs.nn.exp_euler_step(lambda V: -V * u.mV, jnp.zeros(2) * u.mV)


# -- wrappers -------------------------------------------------------------------------------------
def test_environ_context_sets_dt_for_the_call():
    run = bs.nn.EnvironContext(_leaky(2), dt=DT)
    assert_allclose(np.asarray(run(1.0)), 1 - np.exp(-DT / 2), rtol=1e-6)
    run.add_context(dt=2 * DT)
    assert run.context == {"dt": 2 * DT}
    out = run(0.0, context={"dt": DT})
    assert out.shape == (2,)


def test_environ_context_needs_a_module():
    with pytest.raises(TypeError, match="EnvironContext: layer must be a Module"):
        bs.nn.EnvironContext(lambda x: x, dt=DT)


def test_vmap_maps_selected_states():
    model = Leaky(2)
    model.init_state(batch_size=3)
    mapped = bs.nn.Vmap(model, vmap_states=bs.HiddenState)
    with bs.environ.context(dt=DT):
        out = mapped(jnp.array([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]]))
    assert_allclose(np.asarray(out[:, 0]), np.array([1.0, 2.0, 3.0]) * (1 - np.exp(-DT / 2)), rtol=1e-6)
    assert model.x.value.shape == (3, 2)


def test_vmap_needs_a_module():
    with pytest.raises(TypeError, match="Vmap: module must be a Module"):
        bs.nn.Vmap(lambda x: x)


def test_map_builds_an_ensemble_with_independent_states():
    model = bs.nn.EnvironContext(Leaky(2), dt=DT)
    ensemble = bs.nn.Map(model, init_map_size=4)
    ensemble.init_all_states()
    assert model.layer.x.value.shape == (4, 2)
    out = ensemble(jnp.arange(4.0)[:, None] * jnp.ones((4, 2)))
    assert_allclose(np.asarray(out[:, 1]), np.arange(4.0) * (1 - np.exp(-DT / 2)), rtol=1e-6)


def test_map_before_init():
    with pytest.raises(ValueError, match="Map was called before Map.init_all_states"):
        bs.nn.Map(Leaky(2), init_map_size=2)(jnp.ones((2, 2)))


def test_map_bad_size():
    with pytest.raises(ValueError, match="init_map_size must be a positive int"):
        bs.nn.Map(Leaky(2), init_map_size=0)


def test_map_bad_behavior():
    with pytest.raises(ValueError, match="behavior must be 'vmap'"):
        bs.nn.Map(Leaky(2), init_map_size=2, behavior="pmap")


class Scaled(bs.nn.Module):
    """A per-member weight (created by init_state) and a buffer created beforehand."""

    def __init__(self, n):
        super().__init__()
        self.offset = bs.ShortTermState(jnp.arange(float(n)))  # one entry per member, made in __init__

    def init_state(self):
        self.w = bs.ParamState(jnp.ones(2))
        self.calls = bs.ShortTermState(jnp.zeros(()))

    def apply(self, x):
        self.calls.value = self.calls.value + 1
        return x * self.w.value

    def shifted(self, x):
        return x + self.offset.value


def test_map_method_by_name_maps_the_ensemble_states():
    ensemble = bs.nn.Map(Scaled(3), init_map_size=3)
    ensemble.init_all_states()
    ensemble.module.w.value = jnp.arange(6.0).reshape(3, 2)
    out = ensemble.map("apply", in_axes=None)(jnp.array([1.0, 10.0]))
    assert_allclose(out, [[0.0, 10.0], [2.0, 30.0], [4.0, 50.0]])
    assert_allclose(ensemble.module.calls.value, [1.0, 1.0, 1.0])  # written back per member


def test_map_with_a_callable():
    ensemble = bs.nn.Map(Scaled(3), init_map_size=3)
    ensemble.init_all_states()
    out = ensemble.map(lambda x: ensemble.module.apply(x) * 2)(jnp.ones((3, 2)))
    assert_allclose(out, np.full((3, 2), 2.0))


def test_map_state_axes_maps_more_states():
    ensemble = bs.nn.Map(Scaled(3), init_map_size=3)
    ensemble.init_all_states()
    out = ensemble.map("shifted", in_axes=None, state_axes={0: "never-matching-tag", 1: bs.ShortTermState})
    with pytest.raises(ValueError, match="cannot map"):
        out(jnp.zeros(()))  # axis 1 does not exist on the 1-d offset: the selector was applied
    mapped = ensemble.map("shifted", in_axes=None, state_axes={0: bs.ShortTermState})
    assert_allclose(mapped(jnp.array(10.0)), [10.0, 11.0, 12.0])


def test_map_unknown_method():
    ensemble = bs.nn.Map(Scaled(2), init_map_size=2)
    ensemble.init_all_states()
    with pytest.raises(AttributeError, match="Map.map: the wrapped Scaled has no method 'nope'"):
        ensemble.map("nope")


def test_map_fn_must_be_callable():
    ensemble = bs.nn.Map(Scaled(2), init_map_size=2)
    ensemble.init_all_states()
    with pytest.raises(TypeError, match="Map.map: fn must be a method name or a callable, got int"):
        ensemble.map(3)


def test_map_method_before_init():
    with pytest.raises(ValueError, match="Map.map was called before Map.init_all_states"):
        bs.nn.Map(Scaled(2), init_map_size=2).map("apply")


def test_vmap_call_all_fns_batches_new_states():
    model = Leaky(2)
    bs.nn.vmap_call_all_fns(model, "init_state", axis_size=5)
    assert model.x.value.shape == (5, 2)


def test_vmap_call_all_fns_bad_axis_size():
    with pytest.raises(ValueError, match="axis_size must be a positive int"):
        bs.nn.vmap_call_all_fns(Leaky(2), "init_state", axis_size=0)


def test_vmap_call_all_fns_bad_kwargs():
    with pytest.raises(TypeError, match="kwargs must be a mapping"):
        bs.nn.vmap_call_all_fns(Leaky(2), "init_state", kwargs=[1], axis_size=2)


def test_missing_transform_is_reported(monkeypatch):
    monkeypatch.delattr(bs.transform, "vmap")
    with pytest.raises(NotImplementedError, match="needs brainstate.transform.vmap"):
        bs.nn.Vmap(Leaky(2))(jnp.ones((2, 2)))


# -- unit conversion at the boundary --------------------------------------------------------------
def test_unit_conversion_errors():
    u = pytest.importorskip("brainunit")
    from brainstate.nn._units import decimal, mantissa

    with pytest.raises(ValueError, match="Model: x carries the unit mV but the model works in plain numbers"):
        mantissa(1.0 * u.mV, None, "Model", "x")
    with pytest.raises(ValueError, match="Model: x is a plain number \\(2.0\\) but the model works in mV"):
        mantissa(2.0, u.mV, "Model", "x")
    with pytest.raises(ValueError, match="Model: x has the unit ms, which cannot be converted to mV"):
        mantissa(1.0 * u.ms, u.mV, "Model", "x")
    with pytest.raises(ValueError, match="Model: r should be dimensionless but has the unit mV"):
        decimal(1.0 * u.mV, "Model", "r")
    assert mantissa(0.0, u.mV) == 0.0
    assert_allclose(float(mantissa(2.0 * u.volt, u.mV)), 2000.0)
