"""Connectivity between populations, and `Projection`, which delivers it to a post-synaptic model.

Connectivity layers map pre-synaptic activity `(..., n_pre)` to post-synaptic input
`(..., n_post)`:

- `FixedNumConn`: a fixed number of random connections per neuron, drawn once from
  `brainstate.random` (a seeded stream if `seed` is given). With `efferent_target='post'`
  each pre-synaptic neuron projects to `conn_num` post-synaptic neurons (indices
  `(n_pre, conn_num)`); with `'pre'` each post-synaptic neuron receives from `conn_num`
  pre-synaptic ones (indices `(n_post, conn_num)`). A float `conn_num` in [0, 1] is a
  connection probability: `conn_num * n_target` connections each. Weights are one
  `ParamState`: a scalar (homogeneous) or one weight per connection.
- `EventFixedNumConn` (alias `EventFixedProb`): the same for spikes, which are read as events:
  a non-zero entry contributes its weight once, whatever its value, and a zero entry
  contributes nothing. The gradient passes straight through to the spikes (as if they were
  multiplied), so surrogate-gradient training works. Dense and arbitrary sparse matrices
  driven by events are `EventLinear` and `EventSparseLinear` (`_event_linear`).

Delivery is event-driven (`_event_delivery`): each step the non-zero inputs are compacted
into a list and only their synapses are touched, `O(n_pre + active * conn_num)` work instead
of `O(n_pre * conn_num)`; when more neurons are active than the list holds (`event_capacity`,
with larger tiers behind it) the step falls back to all-synapse delivery, so nothing is ever
dropped. Gradients are those of the all-synapse formulation.

The connectivity arrays live in a `LongTermState` (`connectivity`), not in the compiled
program: `jit` passes them as inputs, so a network of 400,000 neurons compiles as fast as a
small one. They are fixed at construction (the event view of a fixed in-degree is derived
from them then); assign a new connectivity by building a new layer.

`Projection(comm, post, syn=None, reversal=None)` sends pre-synaptic spikes through any
connectivity layer `comm` (e.g. `nn.Linear`, `nn.AllToAll`, `EventFixedProb`), optionally through
a synapse model `syn` (`Expon`, `Alpha`), into the current inputs of `post`.
"""

from typing import Any, Callable, Optional, Union

import jax
import jax.numpy as jnp
import numpy as np

from .. import random
from .._state import LongTermState, ParamState
from ..typing import ArrayLike
from . import init as init_mod
from ._dynamics import Dynamics
from ._event_delivery import EventSpec, as_events, check_capacity, default_capacities, deliver, transpose_in_degree
from ._module import Module, Size
from ._units import attach, split

__all__ = ["FixedNumConn", "EventFixedNumConn", "EventFixedProb", "Projection"]


def _weight(value: Any, shape, owner: str, param_type: type, full_shape: bool = False):
    """A weight ParamState from an initializer, a scalar or an array (units kept).

    With `full_shape`, a non-scalar weight is broadcast to `shape` (event delivery indexes
    it by connection).
    """
    m, unit = split(value)
    if m is None:
        raise ValueError(f"{owner}: the weight is required; pass a scalar, an array or an initializer.")
    m = jnp.asarray(init_mod.param(m, shape, allow_none=False))
    if full_shape and m.ndim > 0:
        m = jnp.broadcast_to(m, shape)
    if not jnp.issubdtype(m.dtype, jnp.floating):
        from .. import environ

        m = m.astype(environ.dftype())
    return param_type(attach(jnp.asarray(m, m.dtype), unit))  # a strong dtype, also for Python scalars


class FixedNumConn(Module):
    """Sparse random connectivity with a fixed number of connections per neuron.

    Inputs multiply their connections' weights; only non-zero inputs cost work (see the
    module docstring).

    Args:
      in_size: pre-synaptic population size (its last entry is the neuron count).
      out_size: post-synaptic population size.
      conn_num: connections per neuron (int), or a probability in [0, 1] (float).
      conn_weight: a scalar (shared), an array broadcasting to `(n_rows, conn_num)` (stored at
        that shape) or an initializer.
      efferent_target: `'post'` (each pre neuron has `conn_num` targets) or `'pre'` (each post
        neuron has `conn_num` sources).
      afferent_ratio: the fraction of pre-synaptic neurons that project at all (drawn once).
      allow_multi_conn: allow repeated targets within a row; if False, each row's targets are
        distinct (drawn by sorting random keys, O(n_rows * n_cols) memory once).
      seed: seed of a private random stream; None draws from `brainstate.random`'s default.
      name: optional module name.
      conn_init: accepted for compatibility (connections are always drawn in one batch).
      param_type: the State type of the weight (default `ParamState`).
      event_capacity: active pre-synaptic neurons per step delivered event by event before the
        next, 8 times larger tier (and finally all-synapse delivery) takes over: None for
        `n_pre / 128 + 16`, an int, or a fraction of `n_pre`; 0 always uses every synapse.

    Raises:
      ValueError: for a bad `conn_num`, `efferent_target`, `afferent_ratio` or `event_capacity`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> conn = brainstate.nn.FixedNumConn(4, 3, conn_num=2, conn_weight=0.5, seed=0)
      >>> conn.indices.shape
      (4, 2)
      >>> float(conn(jnp.array([1.0, 0.0, 0.0, 0.0])).sum())
      1.0
    """

    def __init__(self, in_size: Size, out_size: Size, conn_num: Union[int, float], conn_weight: Any,
                 efferent_target: str = "post", afferent_ratio: Union[int, float] = 1.0,
                 allow_multi_conn: bool = True, seed: Optional[int] = None, name: Optional[str] = None,
                 conn_init: str = "vmap", param_type: type = ParamState, event_capacity: Any = None):
        super().__init__(name=name)
        self.in_size, self.out_size = in_size, out_size
        if efferent_target not in ("pre", "post"):
            raise ValueError(f"{self._label()}: efferent_target must be 'pre' or 'post', got {efferent_target!r}.")
        if not 0.0 <= afferent_ratio <= 1.0:
            raise ValueError(f"{self._label()}: afferent_ratio must be in [0, 1], got {afferent_ratio!r}.")
        self.event_capacity = check_capacity(event_capacity, self._label())
        n_pre, n_post = self._fixed_size("in_size")[-1], self._fixed_size("out_size")[-1]
        n_rows, n_cols = (n_pre, n_post) if efferent_target == "post" else (n_post, n_pre)
        if isinstance(conn_num, float):
            if not 0.0 <= conn_num <= 1.0:
                raise ValueError(f"{self._label()}: a float conn_num is a probability in [0, 1], got {conn_num!r}.")
            conn_num = int(n_cols * conn_num)
        if not isinstance(conn_num, (int, np.integer)) or conn_num < 0:
            raise ValueError(f"{self._label()}: conn_num must be a non-negative int or a probability, got {conn_num!r}.")
        if not allow_multi_conn and conn_num > n_cols:
            raise ValueError(f"{self._label()}: conn_num={conn_num} distinct connections per neuron, but only "
                             f"{n_cols} candidates exist. Lower conn_num or set allow_multi_conn=True.")
        self.conn_num, self.efferent_target, self.seed = int(conn_num), efferent_target, seed
        self.allow_multi_conn, self.afferent_ratio = allow_multi_conn, afferent_ratio
        rng = random.DEFAULT if seed is None else random.RandomState(seed)
        if allow_multi_conn:
            indices = rng.randint(0, n_cols, size=(n_rows, self.conn_num))
        else:
            indices = jnp.argsort(rng.random(size=(n_rows, n_cols)), axis=1)[:, :self.conn_num]
        conn = {"indices": jnp.asarray(indices, jnp.int32)}
        if afferent_ratio != 1.0:
            conn["pre_mask"] = rng.random(size=(n_pre,)) < afferent_ratio
        weight_shape = (n_rows, self.conn_num)
        self.weight = _weight(conn_weight, weight_shape, self._label(), param_type, full_shape=True)
        self._event_ready = efferent_target == "post" or not isinstance(conn["indices"], jax.core.Tracer)
        if efferent_target == "pre" and self._event_ready:
            per_synapse = jnp.ndim(split(self.weight.value)[0]) > 0
            event = transpose_in_degree(np.asarray(conn["indices"]), n_pre, per_synapse)
            conn.update({"event_" + key: value for key, value in event.items()})
        self.connectivity = LongTermState(conn)

    @property
    def indices(self) -> jax.Array:
        """The connection indices: `(n_pre, conn_num)` targets, or `(n_post, conn_num)` sources for `'pre'`."""
        return self.connectivity.value["indices"]

    @property
    def pre_mask(self) -> Optional[jax.Array]:
        """Which pre-synaptic neurons project (`afferent_ratio < 1`), or None when all do."""
        return self.connectivity.value.get("pre_mask")

    def _inputs(self, x: ArrayLike) -> jax.Array:
        x = jnp.asarray(x)
        n_pre = self._fixed_size("in_size")[-1]
        if x.ndim == 0 or x.shape[-1] != n_pre:
            raise ValueError(f"{self._label()} expects inputs whose last dimension is {n_pre} "
                             f"(the pre-synaptic size), got shape {x.shape}.")
        if not jnp.issubdtype(x.dtype, jnp.floating):
            from .. import environ

            x = x.astype(environ.dftype())
        mask = self.pre_mask
        return x if mask is None else x * mask

    def _propagate(self, x: jax.Array) -> Any:
        w, unit = split(self.weight.value)
        conn = self.connectivity.value
        n_pre, n_post = self._fixed_size("in_size")[-1], self._fixed_size("out_size")[-1]
        caps = default_capacities(n_pre, self.event_capacity) if self._event_ready else ()
        if self.efferent_target == "post":
            spec, arrays = EventSpec("rows", n_post, caps), {"targets": conn["indices"]}
        else:
            arrays = {"sources": conn["indices"]}
            arrays.update({key[len("event_"):]: value for key, value in conn.items() if key.startswith("event_")})
            spec = EventSpec("cols", n_post, caps)
        return attach(deliver(spec, x, w, arrays), unit)

    def update(self, x: ArrayLike) -> Any:
        """Propagate `x` of shape `(..., n_pre)` to `(..., n_post)` (values are multiplied)."""
        return self._propagate(self._inputs(x))


class EventFixedNumConn(FixedNumConn):
    """`FixedNumConn` for spikes: every non-zero entry is one event (see the module docstring).

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> conn = brainstate.nn.EventFixedProb(100, 50, conn_num=0.1, conn_weight=0.2, seed=0)
      >>> spikes = jnp.zeros(100).at[3].set(1.0)
      >>> round(float(conn(spikes).sum()), 4)  # one spike, 5 targets of weight 0.2
      1.0
    """

    def update(self, spk: ArrayLike) -> Any:
        """Propagate the events of `spk` of shape `(..., n_pre)` to `(..., n_post)`."""
        return self._propagate(as_events(self._inputs(spk)))


EventFixedProb = EventFixedNumConn


class Projection(Module):
    """Deliver pre-synaptic spikes to a post-synaptic `Dynamics` through `comm` (and a synapse).

    Each call `proj(spikes)` computes `x = comm(spikes)`, then:
    - without `syn`: `x` is added to `post`'s current inputs as a value for its next update;
    - with `syn` (a `Dynamics` with a `g` state, e.g. `Expon`): `syn(x)` advances the synapse,
      and `post` reads the current from `syn.g` on each update (registered once, at
      construction): `g` itself, or `g * (reversal - V)` (conductance-based) when `reversal` is
      given, with `V` the membrane potential `post` passes to `sum_current_inputs`.
    Call the projection before `post` in each step, in the same step function.

    Args:
      comm: the connectivity: any callable module, e.g. `EventFixedProb`, `Linear`, `AllToAll`.
      post: the post-synaptic `Dynamics`.
      syn: optional synapse `Dynamics` over `post`'s shape.
      reversal: reversal potential for conductance-based input (requires `syn`).
      label: optional input label (see `Dynamics.sum_current_inputs`).
      name: optional module name.

    Returns (of a call):
      `x` without a synapse, else the synapse's `g`.

    Raises:
      TypeError: if `comm` is not callable or `post`/`syn` are not `Dynamics`.
      ValueError: if `reversal` is given without `syn`.
    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> with brainstate.environ.context(dt=0.1):
      ...     post = brainstate.nn.LIF(3)
      ...     comm = brainstate.nn.Linear(2, 3, w_init=jnp.ones((2, 3)))
      ...     proj = brainstate.nn.Projection(comm, post, syn=brainstate.nn.Expon(3, tau=5.0))
      ...     _ = brainstate.nn.init_all_states(post), brainstate.nn.init_all_states(proj)
      ...     proj(jnp.array([1.0, 1.0])).tolist()  # the synapse's conductance after one spike pair
      [2.0, 2.0, 2.0]
    """

    def __init__(self, comm: Callable, post: Dynamics, syn: Optional[Dynamics] = None, reversal: Any = None,
                 label: Optional[str] = None, name: Optional[str] = None):
        super().__init__(name=name)
        if not callable(comm):
            raise TypeError(f"{self._label()}: comm must be a callable module (e.g. EventFixedProb), "
                            f"got {type(comm).__name__}.")
        if not isinstance(post, Dynamics):
            raise TypeError(f"{self._label()}: post must be a Dynamics (e.g. LIF), got {type(post).__name__}.")
        if syn is not None and not isinstance(syn, Dynamics):
            raise TypeError(f"{self._label()}: syn must be a Dynamics (e.g. Expon) or None, got {type(syn).__name__}.")
        if reversal is not None and syn is None:
            raise ValueError(f"{self._label()}: a reversal potential needs a synapse (syn=...) holding the "
                             f"conductance.")
        self.comm, self.post, self.syn, self.reversal, self.label = comm, post, syn, reversal, label
        self._key = name or f"{type(self).__name__}-{id(self)}"
        if syn is not None:
            post.add_current_input(self._key, self._synaptic_current, label=label)

    def _synaptic_current(self, V: Any = None, *args: Any, **kwargs: Any) -> Any:
        assert self.syn is not None  # registered on `post` only when built with a synapse
        g = self.syn._state("g").value
        if self.reversal is None:
            return g
        if V is None:
            V = self.post._state("V").value
        return g * (self.reversal - V)

    def update(self, spikes: ArrayLike) -> Any:
        """Propagate this step's pre-synaptic `spikes`; return the delivered input (or `g`)."""
        x = self.comm(spikes)
        if self.syn is None:
            self.post.add_current_input(self._key, x, label=self.label)
            return x
        return self.syn(x)
