"""Synapse models: exponential (`Expon`) and alpha (`Alpha`) conductance/current kernels.

A synapse is a `Dynamics` over the *post-synaptic* population's shape. `update(x)` takes this
step's synaptic input `x` (typically the weighted spikes a projection's connectivity delivers,
plus any registered delta inputs), advances one step of `environ` `dt`, and returns the
synaptic variable `g` (a `HiddenState`; a conductance or a current, depending on how it is
used). Both kernels are linear, so each step uses the exact solution over `dt` (the same
result as `exp_euler_step`, without the Jacobian):

- `Expon`: `dg/dt = -g / tau`, an input `w` jumps `g` by `w`, so it then decays as
  `w exp(-t / tau)`;
- `Alpha`: `dh/dt = -h / tau`, `dg/dt = (h - g) / tau`; an input `w` jumps `h` by `e w`,
  giving `g(t) = w (t / tau) exp(1 - t / tau)`, which rises from 0 to its peak `w` at
  `t = tau`.

An input of step `n` is part of `g` from step `n` on (`Expon`) or from step `n + 1` on (`Alpha`,
whose response starts at 0). Values may carry `brainunit` units (`g`, `x` and the initial
value in one unit, `tau` and `dt` in compatible time units).
"""

from typing import Any, Optional

import jax
import jax.numpy as jnp

from .. import environ
from .._state import HiddenState
from ..typing import ArrayLike
from ._dynamics import Dynamics
from ._module import Size
from ._units import decimal, split

__all__ = ["Expon", "Alpha"]


class _Synapse(Dynamics):
    """Shared plumbing: the time constant, its check and the per-step decay factor."""

    g: HiddenState  # the synaptic variable, created by `init_state`

    def __init__(self, in_size: Size, tau: ArrayLike, g_initializer: Any, name: Optional[str]):
        super().__init__(in_size, name=name)
        m = split(tau)[0]
        if not isinstance(m, jax.core.Tracer) and not bool(jnp.all(jnp.asarray(m) > 0)):
            raise ValueError(f"{self._label()}: tau must be positive, got {tau}.")
        self.tau = tau
        self.g_initializer = g_initializer

    def _decay(self):
        """`(exp(-dt / tau), dt / tau)` as plain numbers."""
        ratio = jnp.asarray(decimal(environ.get_dt() / self.tau, self._label(), "dt / tau"))
        return jnp.exp(-ratio), ratio

    def _with_input(self, g, x):
        return g if x is None else g + x


class Expon(_Synapse):
    """Exponential synapse: each input jumps `g`, which then decays with time constant `tau`.

    Args:
      in_size: the post-synaptic population's shape.
      tau: decay time constant (same time unit as `dt`).
      g_initializer: initial `g` (a value or a function of the shape), default 0.
      name: optional module name.

    Raises:
      ValueError: for a non-positive `tau`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> syn = brainstate.nn.Expon(2, tau=5.0)
      >>> syn.init_state()
      >>> with brainstate.environ.context(dt=0.1):
      ...     g = syn(jnp.array([1.0, 0.0]))
      >>> g.tolist()
      [1.0, 0.0]
    """

    def __init__(self, in_size: Size, tau: ArrayLike = 8.0, g_initializer: Any = 0.0, name: Optional[str] = None):
        super().__init__(in_size, tau, g_initializer, name)

    def init_state(self, batch_size: Optional[int] = None, **kwargs: Any) -> None:
        """Create `g` (with an optional leading batch axis)."""
        self._init_hidden({"g": self._fill(self.g_initializer, batch_size, "g_initializer")})

    def reset_state(self, batch_size: Optional[int] = None, **kwargs: Any) -> None:
        """Reset `g` to its initial value."""
        self._reset_hidden({"g": self._fill(self.g_initializer, batch_size, "g_initializer")})

    def update(self, x: Optional[ArrayLike] = None) -> Any:
        """Decay `g` over one step, add the input `x` and the delta inputs; return `g`."""
        decay, _ = self._decay()
        g = self.sum_delta_inputs(self._with_input(self._state("g").value * decay, x))
        self._check_fits(g, self.g.value, "g")
        self.g.value = g
        return g


class Alpha(_Synapse):
    """Alpha synapse: each input `w` produces `g(t) = w (t / tau) exp(-t / tau)`, which peaks at
    `w / e` a time `tau` after the input (the reference release's scale: `h` jumps by `w`).

    Two hidden states: `g` (the output) and `h` (the rise variable that inputs jump).

    Args:
      in_size: the post-synaptic population's shape.
      tau: time constant; the response peaks `tau` after the input.
      g_initializer: initial `g` and `h`, default 0.
      name: optional module name.

    Raises:
      ValueError: for a non-positive `tau`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> syn = brainstate.nn.Alpha(2, tau=5.0)
      >>> syn.init_state()
      >>> with brainstate.environ.context(dt=0.1):
      ...     g = syn(jnp.array([1.0, 0.0]))
      >>> g.shape
      (2,)
    """

    h: HiddenState  # the rise variable, created by `init_state`

    def __init__(self, in_size: Size, tau: ArrayLike = 8.0, g_initializer: Any = 0.0, name: Optional[str] = None):
        super().__init__(in_size, tau, g_initializer, name)

    def _initial(self, batch_size):
        g = self._fill(self.g_initializer, batch_size, "g_initializer")
        return {"g": g, "h": g}

    def init_state(self, batch_size: Optional[int] = None, **kwargs: Any) -> None:
        """Create `g` and `h` (with an optional leading batch axis)."""
        self._init_hidden(self._initial(batch_size))

    def reset_state(self, batch_size: Optional[int] = None, **kwargs: Any) -> None:
        """Reset `g` and `h` to their initial values."""
        self._reset_hidden(self._initial(batch_size))

    def update(self, x: Optional[ArrayLike] = None) -> Any:
        """Propagate `(g, h)` exactly over one step, then add `x` (and delta inputs) to `h`."""
        decay, ratio = self._decay()
        g, h = self._state("g").value, self._state("h").value
        g = (g + h * ratio) * decay
        inp = self.sum_delta_inputs(self._with_input(h * 0, x))
        self._check_fits(inp, h, "h")
        self.h.value = h * decay + inp
        self.g.value = g
        return g
