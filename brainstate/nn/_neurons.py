"""Spiking point neurons: leaky integrate-and-fire (`LIF`), adaptive LIF (`ALIF`), `Izhikevich`.

Each neuron is a `Dynamics` whose `update(x)` advances one step of `environ` `dt` and returns
the spikes of that step (0/1 floats). The membrane potential `V` and a refractory counter
`refractory` (whole steps of refractoriness left) are `HiddenState`s created by
`init_state(batch_size=None)`; `ALIF` adds its adaptation `a`, `Izhikevich` its recovery `u`.

One step:
1. the input current is `x` plus every current input (`sum_current_inputs(x, V)`);
2. the continuous dynamics advance with `exp_euler_step` (exact for the linear LIF membrane),
   then delta inputs jump `V`;
3. a neuron in its refractory period keeps its (reset) potential;
4. spikes are `spk_fun((V - V_th) / (V_th - V_reset))`: a Heaviside step whose gradient is a
   surrogate (see `sigmoid_spike`), so spiking networks train with `brainstate.transform.grad`;
5. spiking neurons are reset (`'soft'`: subtract `V_th - V_reset`; `'hard'`: set to `V_reset`)
   through the spike's value only (no gradient flows through the reset), and their refractory
   counter is set to `round(tau_ref / dt)` steps.

So after a spike a neuron is silent for exactly `round(tau_ref / dt)` steps, and with constant
input `I` (and `V_reset = V_rest`) a LIF neuron fires with period
`tau_ref + tau * ln(R I / (R I - (V_th - V_rest)))`, up to one step.

Parameters may carry `brainunit` units (all of them or none); the continuous part runs in
units and the threshold logic on plain numbers in the unit of `V`.
"""

from typing import Any, Callable, Dict, Optional

import jax
import jax.numpy as jnp
import numpy as np

from .. import environ
from .._state import HiddenState
from ..typing import ArrayLike
from ._dynamics import Dynamics
from ._integrators import exp_euler_step
from ._module import Size
from ._surrogate import sigmoid_spike
from ._units import attach, decimal, mantissa, split, unit_of

__all__ = ["LIF", "ALIF", "Izhikevich"]


class _SpikingNeuron(Dynamics):
    """Shared plumbing: argument checks, state creation, refractoriness and spike/reset."""

    # Created by `init_state` (from `_initial_states`); subclasses declare their own extra states.
    V: HiddenState
    refractory: HiddenState

    def __init__(self, in_size: Size, tau_ref: Any, spk_fun: Callable, spk_reset: str, name: Optional[str]):
        super().__init__(in_size, name=name)
        self._check(tau_ref, "tau_ref", allow_zero=True)
        if not callable(spk_fun):
            raise TypeError(f"{self._label()}: spk_fun must be a function like brainstate.nn.sigmoid_spike, "
                            f"got {type(spk_fun).__name__}.")
        if spk_reset not in ("soft", "hard"):
            raise ValueError(f"{self._label()}: spk_reset must be 'soft' or 'hard', got {spk_reset!r}.")
        self.tau_ref = tau_ref
        self.spk_fun = spk_fun
        self.spk_reset = spk_reset

    def _check(self, value: Any, arg: str, allow_zero: bool = False) -> None:
        m = split(value)[0]
        if isinstance(m, jax.core.Tracer):
            return
        ok = np.all(np.asarray(m) >= 0) if allow_zero else np.all(np.asarray(m) > 0)
        if not ok:
            raise ValueError(f"{self._label()}: {arg} must be {'non-negative' if allow_zero else 'positive'}, "
                             f"got {value}.")

    def _check_above(self, high: Any, low: Any, high_name: str, low_name: str) -> None:
        try:
            gap = split(high - low)[0]
        except Exception:  # brainunit refuses to subtract quantities of different dimensions
            raise ValueError(f"{self._label()}: {high_name} ({high}) and {low_name} ({low}) must be in the same "
                             f"units: give every parameter units, or none of them.") from None
        if not isinstance(gap, jax.core.Tracer) and not np.all(np.asarray(gap) > 0):
            raise ValueError(f"{self._label()}: {high_name} must be above {low_name}, got {high} and {low}.")

    def _refractory_steps(self) -> jax.Array:
        if isinstance(self.tau_ref, (int, float)) and self.tau_ref == 0:
            return jnp.zeros((), jnp.int32)  # also fine when dt carries units
        dt = environ.get_dt()
        return jnp.round(jnp.asarray(decimal(self.tau_ref / dt, self._label(), "tau_ref / dt"))).astype(jnp.int32)

    def _spike_and_reset(self, v, v_old, th, reset, scale):
        """Steps 3-5 on plain numbers; returns `(spikes, v_after_reset, refractory')`."""
        ref = self._state("refractory").value
        free = ref <= 0
        v = jnp.where(free, v, v_old)
        spk = self.spk_fun((v - th) / scale) * free
        s = jax.lax.stop_gradient(spk)
        v = v - scale * s if self.spk_reset == "soft" else v - (v - reset) * s
        ref = jnp.where(s > 0, self._refractory_steps(), jnp.maximum(ref - 1, 0)).astype(ref.dtype)
        return spk, v, ref

    def _initial_states(self, batch_size: Optional[int]) -> Dict[str, Any]:
        """`{attribute: initial value}` of every hidden state; each neuron model defines it."""
        raise NotImplementedError(f"{self._label()} must define `_initial_states(batch_size)`, the initial "
                                  f"value of each hidden state, e.g. {{'V': ..., 'refractory': ...}}.")

    def init_state(self, batch_size: Optional[int] = None, **kwargs: Any) -> None:
        """Create the hidden states (`V`, `refractory`, ...) with an optional batch axis."""
        self._init_hidden(self._initial_states(batch_size))

    def reset_state(self, batch_size: Optional[int] = None, **kwargs: Any) -> None:
        """Reset the hidden states to their initial values."""
        self._reset_hidden(self._initial_states(batch_size))

    def _refractory_init(self, batch_size):
        shape = self.varshape if batch_size is None else (int(batch_size),) + self.varshape
        return jnp.zeros(shape, jnp.int32)


class LIF(_SpikingNeuron):
    """Leaky integrate-and-fire neuron with an absolute refractory period.

    `tau dV/dt = -(V - V_rest) + R I`; a spike when `V >= V_th`, then reset and
    `tau_ref` of refractoriness.

    Args:
      in_size: the population's shape.
      R: membrane resistance.
      tau: membrane time constant (same time unit as `dt`).
      tau_ref: refractory period (0 for none).
      V_th: firing threshold.
      V_reset: reset potential (below `V_th`).
      V_rest: resting potential.
      V_initializer: initial `V` (a value or a function of the shape); default `V_rest`.
      spk_fun: surrogate spike function of `(V - V_th) / (V_th - V_reset)`.
      spk_reset: `'soft'` (subtract `V_th - V_reset`) or `'hard'` (set to `V_reset`).
      name: optional module name.

    Raises:
      ValueError: for a non-positive `tau`, a negative `tau_ref`, `V_th <= V_reset` or an
        unknown `spk_reset`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> neu = brainstate.nn.LIF(3, tau=10.0, V_th=1.0)
      >>> neu.init_state()
      >>> with brainstate.environ.context(dt=0.1):
      ...     spikes = neu(jnp.array([0.0, 5.0, 20.0]))
      >>> spikes.shape
      (3,)
    """

    def __init__(self, in_size: Size, R: ArrayLike = 1.0, tau: ArrayLike = 5.0, tau_ref: ArrayLike = 0.0,
                 V_th: ArrayLike = 1.0, V_reset: ArrayLike = 0.0, V_rest: ArrayLike = 0.0,
                 V_initializer: Any = None, spk_fun: Callable = sigmoid_spike, spk_reset: str = "soft",
                 name: Optional[str] = None):
        super().__init__(in_size, tau_ref, spk_fun, spk_reset, name)
        self._check(tau, "tau")
        self._check(R, "R")
        self._check_above(V_th, V_reset, "V_th", "V_reset")
        self.R, self.tau, self.V_th, self.V_reset, self.V_rest = R, tau, V_th, V_reset, V_rest
        self.V_initializer = V_rest if V_initializer is None else V_initializer

    def _initial_states(self, batch_size):
        return {"V": self._fill(self.V_initializer, batch_size, "V_initializer"),
                "refractory": self._refractory_init(batch_size)}

    def _drift(self, V, I):
        return (self.V_rest - V + self.R * I) / self.tau

    def _input_current(self, x, V):
        init = V * 0 / self.R if x is None else x
        return self.sum_current_inputs(init, V)

    def update(self, x: Optional[ArrayLike] = None) -> jax.Array:
        """Advance one step with external current `x` (None: only registered inputs); return spikes."""
        V = self._state("V").value
        I = self._input_current(x, V)
        V_new = self.sum_delta_inputs(exp_euler_step(self._drift, V, I))
        unit, label = unit_of(V), self._label()
        th, reset = mantissa(self.V_th, unit, label, "V_th"), mantissa(self.V_reset, unit, label, "V_reset")
        self._check_fits(V_new, V, "V")
        v = mantissa(V_new, unit, label, "V")
        spk, v, ref = self._spike_and_reset(v, split(V)[0], th, reset, th - reset)
        self.V.value = attach(v, unit)
        self.refractory.value = ref
        return spk


class ALIF(LIF):
    """Adaptive LIF: each spike raises the threshold, which relaxes back with `tau_a`.

    `tau dV/dt = -(V - V_rest) + R I`, `tau_a da/dt = -a`; a spike when
    `V >= V_th + beta * a`, after which `a += 1`.

    Args:
      in_size, R, tau, tau_ref, V_th, V_reset, V_rest, V_initializer, spk_fun, spk_reset,
        name: as in `LIF`.
      tau_a: adaptation time constant.
      beta: threshold increase per unit of adaptation, in the unit of `V` (with units, pass
        e.g. `0.1 * u.mV`).
      a_initializer: initial adaptation (default 0).

    Raises:
      ValueError: as `LIF`, and for a non-positive `tau_a`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> neu = brainstate.nn.ALIF(3)
      >>> neu.init_state()
      >>> with brainstate.environ.context(dt=0.1):
      ...     spikes = neu(jnp.ones(3))
      >>> spikes.shape
      (3,)
    """

    a: HiddenState  # the adaptation, created by `init_state`

    def __init__(self, in_size: Size, R: ArrayLike = 1.0, tau: ArrayLike = 5.0, tau_a: ArrayLike = 100.0,
                 beta: ArrayLike = 0.1, tau_ref: ArrayLike = 0.0, V_th: ArrayLike = 1.0,
                 V_reset: ArrayLike = 0.0, V_rest: ArrayLike = 0.0, V_initializer: Any = None,
                 a_initializer: Any = 0.0, spk_fun: Callable = sigmoid_spike, spk_reset: str = "soft",
                 name: Optional[str] = None):
        super().__init__(in_size, R=R, tau=tau, tau_ref=tau_ref, V_th=V_th, V_reset=V_reset, V_rest=V_rest,
                         V_initializer=V_initializer, spk_fun=spk_fun, spk_reset=spk_reset, name=name)
        self._check(tau_a, "tau_a")
        self.tau_a, self.beta, self.a_initializer = tau_a, beta, a_initializer

    def _initial_states(self, batch_size):
        states = super()._initial_states(batch_size)
        states["a"] = self._fill(self.a_initializer, batch_size, "a_initializer")
        return states

    def update(self, x: Optional[ArrayLike] = None) -> jax.Array:
        """Advance one step with external current `x`; return spikes."""
        V, a = self._state("V").value, self._state("a").value
        I = self._input_current(x, V)
        V_new = self.sum_delta_inputs(exp_euler_step(self._drift, V, I))
        unit, label = unit_of(V), self._label()
        th, reset = mantissa(self.V_th, unit, label, "V_th"), mantissa(self.V_reset, unit, label, "V_reset")
        beta = mantissa(self.beta, unit, label, "beta")
        self._check_fits(V_new, V, "V")
        v = mantissa(V_new, unit, label, "V")
        spk, v, ref = self._spike_and_reset(v, split(V)[0], th + beta * a, reset, th - reset)
        decay = jnp.exp(-jnp.asarray(decimal(environ.get_dt() / self.tau_a, label, "dt / tau_a")))
        self.V.value = attach(v, unit)
        self.a.value = a * decay + spk
        self.refractory.value = ref
        return spk


class Izhikevich(_SpikingNeuron):
    """The Izhikevich (2003) neuron: quadratic membrane with a recovery variable `u`.

    `dV/dt = p1 V^2 + p2 V + p3 - u + I`, `du/dt = a (b V - u)`; a spike when `V >= V_th`,
    then `V = c`, `u += d`. Defaults (regular spiking) are in mV and ms.

    Args:
      in_size: the population's shape.
      a, b, c, d: the model's recovery rate, sensitivity, reset potential and reset jump. With
        units, `u` has the unit of `dV/dt`: e.g. `a=0.02 / u.ms`, `b=0.2 / u.ms`, `c=-65 * u.mV`,
        `d=8 * u.mV / u.ms`.
      V_th: spike cut-off potential.
      p1, p2, p3: the membrane polynomial's coefficients (with units: `0.04 / (u.mV * u.ms)`,
        `5 / u.ms`, `140 * u.mV / u.ms`).
      tau_ref: refractory period (0 for none).
      V_initializer: initial `V` (default `c`); u_initializer: initial `u` (default `b * V`).
      spk_fun: surrogate spike function of `(V - V_th) / (V_th - c)`.
      name: optional module name.

    Raises:
      ValueError: for `V_th <= c` or a negative `tau_ref`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> neu = brainstate.nn.Izhikevich(2)
      >>> neu.init_state()
      >>> with brainstate.environ.context(dt=0.1):
      ...     spikes = neu(jnp.zeros(2))
      >>> spikes.shape
      (2,)
    """

    u: HiddenState  # the recovery variable, created by `init_state`

    def __init__(self, in_size: Size, a: ArrayLike = 0.02, b: ArrayLike = 0.2, c: ArrayLike = -65.0,
                 d: ArrayLike = 8.0, V_th: ArrayLike = 30.0, p1: ArrayLike = 0.04, p2: ArrayLike = 5.0,
                 p3: ArrayLike = 140.0, tau_ref: ArrayLike = 0.0, V_initializer: Any = None,
                 u_initializer: Any = None, spk_fun: Callable = sigmoid_spike, name: Optional[str] = None):
        super().__init__(in_size, tau_ref, spk_fun, "hard", name)
        self._check_above(V_th, c, "V_th", "the reset potential c")
        self.a, self.b, self.c, self.d, self.V_th = a, b, c, d, V_th
        self.p1, self.p2, self.p3 = p1, p2, p3
        self.V_initializer = c if V_initializer is None else V_initializer
        self.u_initializer = u_initializer

    def _initial_states(self, batch_size):
        V = self._fill(self.V_initializer, batch_size, "V_initializer")
        u = self._fill(self.b * V if self.u_initializer is None else self.u_initializer, batch_size, "u_initializer")
        return {"V": V, "u": u, "refractory": self._refractory_init(batch_size)}

    def _dV(self, V, u, I):
        return self.p1 * V * V + self.p2 * V + self.p3 - u + I

    def _du(self, u, V):
        return self.a * (self.b * V - u)

    def update(self, x: Optional[ArrayLike] = None) -> jax.Array:
        """Advance one step with external input `x` (in the unit of `dV/dt`); return spikes."""
        V, u = self._state("V").value, self._state("u").value
        I = self.sum_current_inputs(u * 0 if x is None else x, V)
        V_new = self.sum_delta_inputs(exp_euler_step(self._dV, V, u, I))
        u_new = exp_euler_step(self._du, u, V)
        unit, u_unit, label = unit_of(V), unit_of(u), self._label()
        th, c = mantissa(self.V_th, unit, label, "V_th"), mantissa(self.c, unit, label, "c")
        self._check_fits(V_new, V, "V")
        v = mantissa(V_new, unit, label, "V")
        spk, v, ref = self._spike_and_reset(v, split(V)[0], th, c, th - c)
        d = mantissa(self.d, u_unit, label, "d")
        self.V.value = attach(v, unit)
        self.u.value = attach(mantissa(u_new, u_unit, label, "u") + d * jax.lax.stop_gradient(spk), u_unit)
        self.refractory.value = ref
        return spk
