"""Conformance cases of the brain-dynamics family (neurons, synapses, delays, connectivity).

Models that read `environ` `dt` are wrapped in `nn.EnvironContext(model, dt=0.1)`, the way a
network fixes its time step. Under vmap their states are declared batched: every module is
reset with a batch of 3, the call is mapped with the hidden states (axis 0) and the delay
histories (axis 1, after the time axis) in `in_states`/`out_states`, then the model is reset
unbatched so the test's unbatched reference call works.
"""

import jax
import jax.numpy as jnp

import brainstate as bs

from . import Case

DT = 0.1


def _in_dt(module):
    return bs.nn.EnvironContext(module, dt=DT)


def _built(make):
    def build():
        with bs.environ.context(dt=DT):
            model = make()
        bs.nn.init_all_states(model)
        return model

    return build


def _vmap_batched(layer, batched):
    bs.nn.reset_all_states(layer, batch_size=3)
    hidden = list(layer.states(bs.HiddenState).values())
    history = list(layer.states(bs.DelayState).values())
    axes = {0: hidden, 1: history} if history else {0: hidden}
    try:
        return bs.transform.vmap(lambda *a: layer(*a), in_states=axes, out_states=axes)(*batched)
    finally:
        bs.nn.reset_all_states(layer)


class TwoSteps(bs.nn.Module):
    """Call `module` twice on the same input: an Alpha synapse's input reaches its output only on
    the step after it arrives, so one step has a zero gradient."""

    def __init__(self, module):
        super().__init__()
        self.module = module

    def update(self, x):
        self.module(x)
        return self.module(x)


def _drive():
    return (jnp.linspace(0.0, 30.0, 4),)


def _spikes():
    return (jnp.array([1.0, 0.0, 1.0, 1.0, 0.0]),)


def _projection():
    post = bs.nn.LIF(4, tau=10.0)
    return _in_dt(bs.nn.Projection(bs.nn.EventFixedProb(5, 4, 0.5, 0.3, seed=0), post, bs.nn.Expon(4, tau=5.0)))


def _state_with_delay():
    neuron = bs.nn.LIF(4)
    neuron.init_state()
    return bs.nn.StateWithDelay(neuron, "V", entries={"d": 2 * DT})


def _map():
    m = bs.nn.Map(bs.nn.Linear(4, 3), init_map_size=2)
    m.init_all_states()
    return m


NO_OUTPUT = "update writes the buffer and returns nothing to differentiate"

CASES = [
    Case("LIF", _built(lambda: _in_dt(bs.nn.LIF(4, tau=10.0, tau_ref=0.5, V_initializer=0.95))), _drive,
         vmap=_vmap_batched),
    Case("ALIF", _built(lambda: _in_dt(bs.nn.ALIF(4, tau=10.0, V_initializer=0.95))), _drive, vmap=_vmap_batched),
    Case("Izhikevich", _built(lambda: _in_dt(bs.nn.Izhikevich(4, V_initializer=29.0))), _drive, vmap=_vmap_batched),
    Case("Expon", _built(lambda: _in_dt(bs.nn.Expon(4, tau=5.0))), _drive, vmap=_vmap_batched),
    Case("Alpha", _built(lambda: _in_dt(TwoSteps(bs.nn.Alpha(4, tau=5.0, g_initializer=1.0)))), _drive,
         vmap=_vmap_batched),
    Case("Delay", _built(lambda: bs.nn.Delay(jax.ShapeDtypeStruct((4,), jnp.float32), entries={"d": 2.5 * DT})),
         _drive, vmap=_vmap_batched, skip_grad=NO_OUTPUT),
    Case("StateWithDelay", _built(_state_with_delay), lambda: (), skip_vmap="a call has no input to map",
         skip_grad=NO_OUTPUT),
    Case("EnvironContext", lambda: bs.nn.EnvironContext(bs.nn.Linear(4, 3), fit=False),
         lambda: (jnp.linspace(-1.0, 1.0, 4),)),
    Case("Vmap", lambda: bs.nn.Vmap(bs.nn.Linear(4, 3)), lambda: (jnp.ones((2, 4)),)),
    Case("Map", _map, lambda: (jnp.ones((2, 4)),)),
    Case("SpikeBitwise", lambda: bs.nn.SpikeBitwise("or"), lambda: (jnp.array([0.0, 1.0, 1.0]), jnp.array([1.0, 0.0, 1.0]))),
    Case("EventLinear", lambda: bs.nn.EventLinear(5, 3, bs.nn.init.Normal()), _spikes),
    Case("EventSparseLinear", lambda: bs.nn.EventSparseLinear(
        jnp.array([[0.5, 0, 0], [0, 1.0, 2.0], [0, 0, 0], [3.0, 0, 0], [0, 0, -1.0]])), _spikes),
    Case("FixedNumConn", lambda: bs.nn.FixedNumConn(5, 4, 2, bs.nn.init.Normal(), seed=1), _spikes),
    Case("EventFixedNumConn", lambda: bs.nn.EventFixedNumConn(5, 4, 2, 0.5, seed=1), _spikes),
    Case("EventFixedProb", lambda: bs.nn.EventFixedProb(5, 4, 0.5, bs.nn.init.Normal(), efferent_target="pre",
                                                         seed=1), _spikes),
    Case("Projection", _built(_projection), _spikes, vmap=_vmap_batched),
]
