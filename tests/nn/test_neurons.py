"""Spiking neurons: firing rates, refractoriness, resets, adaptation, Izhikevich, training, units."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from numpy.testing import assert_allclose

import brainstate as bs

TAU, TAU_REF, R, V_TH, V_REST = 10.0, 2.0, 1.0, 1.0, 0.0


def _simulate(neuron, inputs, dt, record=lambda n: n.V.value):
    """Run `neuron(inputs[i])` for every step under jit + for_loop; return (spikes, record)."""

    @bs.transform.jit
    def run(xs):
        def step(i, x):
            with bs.environ.context(t=i * dt, i=i):
                spk = neuron(x)
            return spk, record(neuron)

        return bs.transform.for_loop(step, jnp.arange(xs.shape[0]), xs)

    with bs.environ.context(dt=dt):
        return run(inputs)


def test_lif_fires_at_the_analytic_rate():
    dt, duration = 0.05, 1000.0
    current = jnp.array([1.2, 1.5, 2.0, 4.0])
    neuron = bs.nn.LIF(4, R=R, tau=TAU, tau_ref=TAU_REF, V_th=V_TH, V_reset=V_REST, V_rest=V_REST, spk_reset="hard")
    neuron.init_state()
    steps = int(duration / dt)
    spikes, _ = _simulate(neuron, jnp.broadcast_to(current, (steps, 4)), dt)
    rate = np.asarray(spikes).sum(0) / duration
    RI = R * np.asarray(current)
    expected = 1.0 / (TAU_REF + TAU * np.log(RI / (RI - (V_TH - V_REST))))
    assert_allclose(rate, expected, rtol=0.02)


def test_lif_is_silent_and_held_at_reset_during_the_refractory_period():
    dt = 0.1
    n_ref = int(round(TAU_REF / dt))
    neuron = bs.nn.LIF(1, tau=TAU, tau_ref=TAU_REF, V_reset=-0.5, spk_reset="hard")
    neuron.init_state()
    spikes, V = _simulate(neuron, jnp.full((400, 1), 1000.0), dt)
    spikes, V = np.asarray(spikes)[:, 0], np.asarray(V)[:, 0]
    times = np.nonzero(spikes)[0]
    assert len(times) > 5
    for t in times:
        assert not spikes[t + 1:t + 1 + n_ref].any()
        assert_allclose(V[t:t + 1 + n_ref], -0.5)
    # with this strong drive the neuron fires as soon as it may: one step after the silence
    assert set(np.diff(times)) == {n_ref + 1}


def test_lif_subthreshold_membrane_follows_the_closed_form():
    dt, I = 0.1, 0.6
    neuron = bs.nn.LIF(2, R=R, tau=TAU, V_rest=-0.2, V_reset=-0.2)
    neuron.init_state()
    spikes, V = _simulate(neuron, jnp.full((50, 2), I), dt)
    t = dt * np.arange(1, 51)
    assert not np.asarray(spikes).any()
    assert_allclose(np.asarray(V)[:, 0], -0.2 + R * I * (1 - np.exp(-t / TAU)), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("reset", ["soft", "hard"])
def test_reset_after_a_threshold_crossing(reset):
    neuron = bs.nn.LIF(1, tau=TAU, V_th=1.0, V_reset=-0.5, V_initializer=0.99, spk_reset=reset)
    neuron.init_state()
    with bs.environ.context(dt=0.1):
        spk = neuron(jnp.array([5.0]))
    crossed = 5.0 + (0.99 - 5.0) * np.exp(-0.01)
    assert float(spk[0]) == 1.0
    want = crossed - 1.5 if reset == "soft" else -0.5
    assert_allclose(float(neuron.V.value[0]), want, rtol=1e-5)


def test_delta_inputs_jump_the_membrane():
    neuron = bs.nn.LIF(2, tau=TAU)
    neuron.init_state()
    neuron.add_delta_input("kick", jnp.array([0.3, 2.0]))
    with bs.environ.context(dt=0.1):
        spk = neuron()
    assert_allclose(np.asarray(spk), [0.0, 1.0])
    assert_allclose(float(neuron.V.value[0]), 0.3, rtol=1e-6)


def test_alif_threshold_adapts():
    dt, tau_a, beta = 0.1, 50.0, 0.5
    alif = bs.nn.ALIF(1, tau=TAU, tau_a=tau_a, beta=beta, spk_reset="hard")
    lif = bs.nn.LIF(1, tau=TAU, spk_reset="hard")
    alif.init_state()
    lif.init_state()
    drive = jnp.full((3000, 1), 2.0)
    spikes_alif, a = _simulate(alif, drive, dt, record=lambda n: n.a.value)
    spikes_lif, _ = _simulate(lif, drive, dt)
    spikes_alif, a = np.asarray(spikes_alif)[:, 0], np.asarray(a)[:, 0]
    assert 0 < spikes_alif.sum() < np.asarray(spikes_lif).sum()
    first, second = np.nonzero(spikes_alif)[0][:2]
    assert_allclose(a[first], 1.0, rtol=1e-6)
    # between spikes the adaptation decays exponentially with tau_a
    assert_allclose(a[second - 1], np.exp(-(second - 1 - first) * dt / tau_a), rtol=1e-4)


def _izhikevich_reference(I, steps, dt, a=0.02, b=0.2, c=-65.0, d=8.0, v_th=30.0):
    """The Izhikevich model with exponential Euler steps, in NumPy."""
    exprel = lambda z: np.where(np.abs(z) < 1e-4, 1 + z / 2, np.expm1(z) / np.where(z == 0, 1, z))
    V = np.full(I.shape, c, np.float64)
    u = b * V
    out_V, out_s = [], []
    for _ in range(steps):
        f = 0.04 * V * V + 5 * V + 140 - u + I
        V_new = V + dt * exprel(dt * (0.08 * V + 5)) * f
        u = u + dt * exprel(-dt * a) * a * (b * V - u)
        spike = V_new >= v_th
        V = np.where(spike, c, V_new)
        u = np.where(spike, u + d, u)
        out_V.append(V.copy())
        out_s.append(spike)
    return np.array(out_V), np.array(out_s)


def test_izhikevich_matches_a_numpy_implementation():
    dt, steps = 0.05, 2000
    I = np.array([0.0, 5.0, 10.0, 15.0])
    neuron = bs.nn.Izhikevich(4)
    neuron.init_state()
    spikes, V = _simulate(neuron, jnp.broadcast_to(jnp.asarray(I, jnp.float32), (steps, 4)), dt)
    V_ref, s_ref = _izhikevich_reference(I, steps, dt)
    assert_allclose(np.asarray(spikes).sum(0), s_ref.sum(0))
    assert np.asarray(spikes).sum() >= 8
    assert_allclose(np.asarray(V)[:400], V_ref[:400], rtol=1e-3, atol=1e-2)


def test_batched_states_and_reset():
    neuron = bs.nn.ALIF((2, 3))
    neuron.init_state(batch_size=4)
    assert neuron.V.value.shape == (4, 2, 3) and neuron.a.value.shape == (4, 2, 3)
    with bs.environ.context(dt=0.1):
        neuron(jnp.ones((4, 2, 3)) * 30)
    neuron.reset_state(batch_size=4)
    assert_allclose(np.asarray(neuron.V.value), 0.0)
    neuron.reset_state()
    assert neuron.refractory.value.shape == (2, 3)


class _SpikingNet(bs.nn.Module):
    def __init__(self):
        super().__init__()
        self.inp = bs.nn.Linear(3, 6)
        self.lif = bs.nn.LIF(6, tau=5.0, V_th=1.0)
        self.readout = bs.nn.Linear(6, 2)

    def update(self, x):
        return self.readout(self.lif(self.inp(x)))


def _train(params_of, target, lr, steps=8):
    bs.random.seed(0)
    net = _SpikingNet()
    bs.nn.init_all_states(net)
    xs = bs.random.rand(40, 3) * 3.0
    params = params_of(net)

    def loss():
        net.lif.reset_state()
        outs = bs.transform.for_loop(net, xs)
        return jnp.mean((outs.mean(0) - target) ** 2)

    step = bs.transform.jit(bs.transform.grad(loss, grad_states=params, return_value=True))
    losses, input_grads = [], []
    with bs.environ.context(dt=1.0):
        for _ in range(steps):
            grads, value = step()
            losses.append(float(value))
            input_grads.append(float(jnp.abs(grads[("inp", "weight")]["weight"]).sum()))
            for path, g in grads.items():
                params[path].value = jax.tree.map(lambda p, d: p - lr * d, params[path].value, g)
    return losses, input_grads


def test_surrogate_gradient_training_reduces_the_loss():
    losses, input_grads = _train(lambda net: net.states(bs.ParamState), jnp.array([2.0, -1.0]), lr=0.2)
    assert losses[-1] < 0.1 * losses[0]
    assert all(g > 0 for g in input_grads)  # the gradient flows back through the spikes


def test_training_only_the_layer_before_the_spikes_reduces_the_loss():
    only_input = lambda net: {path: s for path, s in net.states(bs.ParamState).items() if path[0] == "inp"}
    losses, _ = _train(only_input, jnp.array([0.5, -0.5]), lr=1.0)
    assert losses[-1] < 0.8 * losses[0]


# -- units ----------------------------------------------------------------------------------------
def test_lif_with_units_fires_at_the_analytic_rate():
    u = pytest.importorskip("brainunit")
    neuron = bs.nn.LIF(2, R=1.0 * u.ohm, tau=10.0 * u.ms, tau_ref=2.0 * u.ms, V_th=-50.0 * u.mV,
                       V_reset=-65.0 * u.mV, V_rest=-65.0 * u.mV, spk_reset="hard")
    neuron.init_state()
    assert isinstance(neuron.V, bs.HiddenState) and neuron.V.value.unit == u.mV
    I = jnp.array([20.0, 40.0]) * u.mA
    spikes, V = _simulate(neuron, jnp.broadcast_to(I.mantissa, (10000, 2)) * u.mA, 0.05 * u.ms)
    RI = np.array([20.0, 40.0])
    expected = 1.0 / (2.0 + 10.0 * np.log(RI / (RI - 15.0)))
    assert_allclose(np.asarray(spikes).sum(0) / 500.0, expected, rtol=0.02)
    assert V.unit == u.mV


def test_quantity_hidden_states_under_grad_and_vmap():
    u = pytest.importorskip("brainunit")
    neuron = bs.nn.LIF(3, tau=10.0 * u.ms, V_th=1.0 * u.mV, V_reset=0.0 * u.mV, V_rest=0.0 * u.mV,
                       R=1.0 * u.ohm)
    neuron.init_state(batch_size=2)
    hidden = list(neuron.states(bs.HiddenState).values())
    with bs.environ.context(dt=0.1 * u.ms):
        out = bs.transform.vmap(lambda x: neuron(x), in_states=hidden, out_states=hidden)(
            jnp.ones((2, 3)) * 30 * u.mA)
        assert out.shape == (2, 3) and neuron.V.value.shape == (2, 3)
        g = bs.transform.grad(lambda x: neuron(x * u.mA).sum())(jnp.ones((2, 3)) * 5)
    assert g.shape == (2, 3)


def test_mixing_units_and_plain_numbers_is_reported():
    u = pytest.importorskip("brainunit")
    with pytest.raises(ValueError, match="V_th .* and V_reset .* must be in the same units"):
        bs.nn.LIF(1, tau=10.0 * u.ms, V_th=1.0, V_reset=0.0 * u.mV, V_rest=0.0 * u.mV, R=1.0 * u.ohm)
    neuron = bs.nn.ALIF(1, tau=10.0 * u.ms, tau_a=100.0 * u.ms, V_th=1.0 * u.mV, V_reset=0.0 * u.mV,
                        V_rest=0.0 * u.mV, R=1.0 * u.ohm)  # beta left as the plain default
    neuron.init_state()
    with bs.environ.context(dt=0.1 * u.ms), pytest.raises(ValueError, match="beta is a plain number"):
        neuron(1.0 * u.mA)


# -- errors ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, match", [
    ({"tau": 0.0}, "tau must be positive"),
    ({"tau_ref": -1.0}, "tau_ref must be non-negative"),
    ({"R": -1.0}, "R must be positive"),
    ({"V_th": 0.0, "V_reset": 0.0}, "V_th must be above V_reset, got 0.0 and 0.0"),
    ({"spk_reset": "zero"}, "spk_reset must be 'soft' or 'hard'"),
])
def test_lif_argument_checks(kwargs, match):
    with pytest.raises(ValueError, match=match):
        bs.nn.LIF(3, **kwargs)


def test_spk_fun_must_be_callable():
    with pytest.raises(TypeError, match="spk_fun must be a function"):
        bs.nn.LIF(3, spk_fun=1.0)


def test_alif_tau_a_must_be_positive():
    with pytest.raises(ValueError, match="ALIF: tau_a must be positive"):
        bs.nn.ALIF(3, tau_a=0.0)


def test_izhikevich_threshold_above_reset():
    with pytest.raises(ValueError, match="V_th must be above the reset potential c"):
        bs.nn.Izhikevich(3, V_th=-70.0)


def test_initializer_of_the_wrong_shape():
    with pytest.raises(ValueError, match="V_initializer has shape \\(2,\\), which does not fit"):
        bs.nn.LIF(3, V_initializer=jnp.zeros(2)).init_state()


def test_update_before_init_state():
    with bs.environ.context(dt=0.1), pytest.raises(bs.BrainStateError, match="LIF has no state 'V' yet"):
        bs.nn.LIF(3)(jnp.ones(3))


def test_input_of_the_wrong_shape():
    neuron = bs.nn.LIF(3)
    neuron.init_state()
    with bs.environ.context(dt=0.1), pytest.raises(ValueError, match="the inputs give V the shape \\(2, 3\\)"):
        neuron(jnp.ones((2, 3)))


def test_a_neuron_model_without_initial_states_is_reported():
    from brainstate.nn._neurons import _SpikingNeuron

    class Bare(_SpikingNeuron):
        pass

    neuron = Bare(3, 0.0, bs.nn.sigmoid_spike, "soft", None)
    with pytest.raises(NotImplementedError, match=r"Bare must define `_initial_states\(batch_size\)`"):
        neuron.init_state()
