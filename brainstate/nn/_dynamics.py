"""`Dynamics`: a model advanced once per time step, and the plumbing around its update.

A `Dynamics` is a population of `varshape` units (`num` in total) whose `update(*args)` advances
its states by one step of `environ` `dt`. Time itself is a setting: the step function sets `t`
and `i` (for example `with brainstate.environ.context(t=i * dt, i=i): model(x)` inside a
`brainstate.transform.for_loop`), and models read them with `environ.get`.

Inputs arrive in two ways besides the update's arguments:
- *current inputs* (`add_current_input(key, value_or_fn)`) are added to the input current by
  `sum_current_inputs(init, *args)`; *delta inputs* (`add_delta_input`) are added directly to
  a state variable by `sum_delta_inputs(init, *args)` (an instantaneous jump).
- A function input is called with the `*args, **kwargs` given to `sum_*` (e.g. the membrane
  potential, for conductance-based synapses) on every step and stays registered. A plain value
  is used once: the next sum consumes it (so a projection re-adds it every step). Because the
  value may be a traced array, add and consume it within the same step function.

`module(*args)` (not `module.update`) also runs the *before updates* and *after updates*
registered on the module: delays that record its states or output are after updates.
`prefetch`, `prefetch_delay` and `output_delay` build references to (delayed) states or outputs
before those exist, for wiring networks at construction time.
"""

from typing import Any, Callable, Dict, Hashable, Optional, Tuple, TypeVar, Union

import jax
import jax.numpy as jnp
import numpy as np

from .. import environ
from .._errors import BrainStateError
from .._state import HiddenState, State
from ..graph import Node
from ._delay import Delay, StateWithDelay
from ._module import Module, Size
from ._units import attach, split

__all__ = ["Dynamics", "Prefetch", "PrefetchDelay", "PrefetchDelayAt", "OutputDelayAt", "init_maybe_prefetch",
           "receive_update_input", "not_receive_update_input", "receive_update_output",
           "not_receive_update_output"]

T = TypeVar("T")


def _input_key(key: Any, label: Optional[str]) -> Any:
    return key if label is None else f"{label} // {key}"


class Dynamics(Module):
    """Base class of models updated once per time step (neurons, synapses, ...).

    Args:
      in_size: the population's shape: an int or a tuple of ints.
      name: optional module name.

    Raises:
      ValueError: if `in_size` is empty.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> class Leak(brainstate.nn.Dynamics):
      ...     def init_state(self, batch_size=None):
      ...         self.x = brainstate.HiddenState(jnp.ones(self.varshape))
      ...     def update(self, inp=0.):
      ...         dt = brainstate.environ.get_dt()
      ...         self.x.value = self.x.value + dt * (self.sum_current_inputs(inp) - self.x.value)
      ...         return self.x.value
      >>> leak = Leak(3)
      >>> leak.init_state()
      >>> leak.add_current_input('drive', 1.0)
      >>> with brainstate.environ.context(dt=0.1):
      ...     leak().tolist()
      [1.0, 1.0, 1.0]
    """

    def __init__(self, in_size: Size, name: Optional[str] = None):
        super().__init__(name=name)
        self.in_size = in_size
        if not self.in_size:
            raise ValueError(f"{self._label()}: in_size must name at least one dimension, got {in_size!r}.")
        self.out_size = self.in_size
        self._current_inputs: Optional[Dict[Hashable, Any]] = None
        self._delta_inputs: Optional[Dict[Hashable, Any]] = None
        self._before_updates: Optional[Dict[Hashable, Callable]] = None
        self._after_updates: Optional[Dict[Hashable, Callable]] = None

    @property
    def varshape(self) -> Tuple[int, ...]:
        """The population's shape (`in_size`)."""
        return self._fixed_size("in_size")

    @property
    def num(self) -> int:
        """The number of units: the product of `varshape`."""
        return int(np.prod(self.varshape))

    # -- helpers for subclasses -----------------------------------------------------------------
    def _fill(self, init: Any, batch_size: Optional[int], arg: str) -> Any:
        """`init` (a value or a function of the shape) as a float array of the population's shape."""
        shape = self.varshape if batch_size is None else (int(batch_size),) + self.varshape
        value = init(shape) if callable(init) else init
        m, unit = split(value)
        m = jnp.asarray(m)
        if not jnp.issubdtype(m.dtype, jnp.floating):
            m = m.astype(environ.dftype())
        try:
            m = jnp.broadcast_to(m, shape)
        except ValueError:
            raise ValueError(f"{self._label()}: {arg} has shape {m.shape}, which does not fit the population "
                             f"shape {shape}.") from None
        return attach(m, unit)

    def _init_hidden(self, values: Dict[str, Any]) -> None:
        """Create one `HiddenState` per `{attribute: initial value}` (Quantities allowed)."""
        for attr, value in values.items():
            setattr(self, attr, HiddenState(value, name=attr))

    def _reset_hidden(self, values: Dict[str, Any]) -> None:
        """Write initial values into the hidden states (reshaping them for a new batch size)."""
        for attr, value in values.items():
            state = self.__dict__.get(attr)
            if state is None:
                setattr(self, attr, HiddenState(value, name=attr))
            elif jnp.shape(split(state.value)[0]) == jnp.shape(split(value)[0]):
                state.value = value
            else:
                state.restore_value(value)  # a deliberate change of batch size (or unit)

    def _check_fits(self, new: Any, old: Any, attr: str) -> None:
        """Raise if an update would change the shape of the state `attr` (inputs of a wrong shape)."""
        new_shape, old_shape = jnp.shape(split(new)[0]), jnp.shape(split(old)[0])
        if new_shape != old_shape:
            raise ValueError(
                f"{self._label()}: the inputs give {attr} the shape {new_shape}, but the state has shape "
                f"{old_shape}. Pass inputs that broadcast to the population shape {self.varshape} (with a "
                f"leading batch axis only after `init_state(batch_size)`).")

    def _state(self, attr: str) -> State:
        """The state `attr`, or a clear error if `init_state` has not created it yet."""
        state = self.__dict__.get(attr)
        if state is None:
            raise BrainStateError(
                f"{self._label()} has no state {attr!r} yet: call `init_state()` (or "
                f"`init_state(batch_size)`, or `brainstate.nn.init_all_states(model)`) before updating it.")
        return state

    # -- current and delta inputs ---------------------------------------------------------------
    @property
    def current_inputs(self) -> Optional[Dict[Hashable, Any]]:
        """The registered current inputs (key -> value or function), or None."""
        return self._current_inputs

    @property
    def delta_inputs(self) -> Optional[Dict[Hashable, Any]]:
        """The registered delta inputs (key -> value or function), or None."""
        return self._delta_inputs

    def _register_input(self, attr: str, kind: str, key: Any, inp: Any, label: Optional[str]) -> None:
        key = _input_key(key, label)
        inputs = getattr(self, attr)
        if inputs is None:
            inputs = {}
            setattr(self, attr, inputs)
        old = inputs.get(key)
        if old is not None and callable(old) and old is not inp and old != inp:
            raise ValueError(
                f"{self._label()}: the {kind} input key {key!r} is already taken by {old!r}. Use a "
                f"different key (or label) for each input.")
        inputs[key] = inp  # a pending value is replaced: the latest value of a step wins

    @staticmethod
    def _sum_inputs(inputs: Optional[Dict[Hashable, Any]], init: Any, args, label, kwargs) -> Any:
        if not inputs:
            return init
        prefix = None if label is None else f"{label} // "
        for key in tuple(inputs):
            if prefix is not None and not (isinstance(key, str) and key.startswith(prefix)):
                continue
            inp = inputs[key]
            if callable(inp):
                init = init + inp(*args, **kwargs)
            else:
                init = init + inp
                del inputs[key]
        return init

    def add_current_input(self, key: Hashable, inp: Union[Callable, Any], label: Optional[str] = None) -> None:
        """Register a current input: a function (called every step) or a value (used once).

        Raises:
          ValueError: if `key` (under `label`) already holds a different function.
        """
        self._register_input("_current_inputs", "current", key, inp, label)

    def sum_current_inputs(self, init: Any, *args: Any, label: Optional[str] = None, **kwargs: Any) -> Any:
        """`init` plus every current input (with `label`: only those registered under it).

        Functions are called with `*args, **kwargs`; values are consumed.
        """
        return self._sum_inputs(self._current_inputs, init, args, label, kwargs)

    def add_delta_input(self, key: Hashable, inp: Union[Callable, Any], label: Optional[str] = None) -> None:
        """Register a delta input (an instantaneous jump of a state variable).

        Raises:
          ValueError: if `key` (under `label`) already holds a different function.
        """
        self._register_input("_delta_inputs", "delta", key, inp, label)

    def sum_delta_inputs(self, init: Any, *args: Any, label: Optional[str] = None, **kwargs: Any) -> Any:
        """`init` plus every delta input (with `label`: only those registered under it)."""
        return self._sum_inputs(self._delta_inputs, init, args, label, kwargs)

    # -- before / after updates ------------------------------------------------------------------
    @property
    def before_updates(self) -> Optional[Dict[Hashable, Callable]]:
        """Functions run (in order) before `update` when the module is called, or None."""
        return self._before_updates

    @property
    def after_updates(self) -> Optional[Dict[Hashable, Callable]]:
        """Functions run (in order) after `update` when the module is called, or None."""
        return self._after_updates

    def _add_hook(self, attr: str, kind: str, key: Hashable, fun: Callable) -> None:
        hooks = getattr(self, attr)
        if hooks is None:
            hooks = {}
            setattr(self, attr, hooks)
        if key in hooks:
            raise KeyError(f"{self._label()}: {key!r} is already registered among the {kind} updates; use another key.")
        hooks[key] = fun

    def _get_hook(self, attr: str, kind: str, key: Hashable) -> Callable:
        hooks = getattr(self, attr) or {}
        if key not in hooks:
            raise KeyError(f"{self._label()}: no {kind} update registered under {key!r}.")
        return hooks[key]

    def add_before_update(self, key: Hashable, fun: Callable) -> None:
        """Run `fun()` (or `fun(*args, **kwargs)` if marked `receive_update_input`) before `update`."""
        self._add_hook("_before_updates", "before", key, fun)

    def add_after_update(self, key: Hashable, fun: Callable) -> None:
        """Run `fun(output)` (or `fun()` if marked `not_receive_update_output`) after `update`."""
        self._add_hook("_after_updates", "after", key, fun)

    def get_before_update(self, key: Hashable) -> Callable:
        """The before update registered under `key` (KeyError if none)."""
        return self._get_hook("_before_updates", "before", key)

    def get_after_update(self, key: Hashable) -> Callable:
        """The after update registered under `key` (KeyError if none)."""
        return self._get_hook("_after_updates", "after", key)

    def has_before_update(self, key: Hashable) -> bool:
        """Whether a before update is registered under `key`."""
        return key in (self._before_updates or {})

    def has_after_update(self, key: Hashable) -> bool:
        """Whether an after update is registered under `key`."""
        return key in (self._after_updates or {})

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        for fun in (self._before_updates or {}).values():
            fun(*args, **kwargs) if getattr(fun, "_receive_update_input", False) else fun()
        out = self.update(*args, **kwargs)
        for fun in (self._after_updates or {}).values():
            fun() if getattr(fun, "_not_receive_update_output", False) else fun(out)
        return out

    # -- references to (delayed) states and outputs ---------------------------------------------
    def prefetch(self, item: str) -> "Prefetch":
        """A reference to the attribute `item` (e.g. a state created later by `init_state`)."""
        return Prefetch(self, item)

    def prefetch_delay(self, state: str, *time_and_index: Any, init: Any = None,
                       interpolation: Optional[str] = None, **kwargs: Any) -> "PrefetchDelayAt":
        """A reference to the state `state` as it was `time_and_index[0]` ago."""
        return PrefetchDelayAt(self, state, *time_and_index, delay_init=init, interpolation=interpolation, **kwargs)

    def output_delay(self, *time_and_index: Any, init: Any = None, interpolation: Optional[str] = None,
                     **kwargs: Any) -> "OutputDelayAt":
        """A reference to this module's output as it was `time_and_index[0]` ago."""
        return OutputDelayAt(self, *time_and_index, delay_init=init, interpolation=interpolation, **kwargs)


def _check_dynamics(module: Any, where: str) -> None:
    if not isinstance(module, Dynamics):
        raise TypeError(f"{where}: module must be a Dynamics, got {type(module).__name__}.")


class Prefetch(Node):
    """A reference to `module.<item>`, resolved when called (a State gives its value).

    Args:
      module: the module holding the item.
      item: the attribute name.

    Example:
      >>> import brainstate
      >>> lif = brainstate.nn.LIF(3)
      >>> brainstate.nn.init_all_states(lif)
      LIF(...)
      >>> brainstate.nn.Prefetch(lif, "V")().shape
      (3,)
    """

    def __init__(self, module: Dynamics, item: str):
        self.module = module
        self.item = item

    @property
    def delay(self) -> "PrefetchDelay":
        """Access to delayed values of the item: `prefetch.delay.at(time)`."""
        return PrefetchDelay(self.module, self.item)

    def get_item(self) -> Any:
        """The referenced attribute itself.

        Raises:
          AttributeError: if the module has no such attribute (yet).
        """
        if not hasattr(self.module, self.item):
            raise AttributeError(
                f"Prefetch: {type(self.module).__name__} has no attribute {self.item!r} (yet). Call "
                f"`init_state` (or `brainstate.nn.init_all_states`) before reading it.")
        return getattr(self.module, self.item)

    def get_item_value(self) -> Any:
        """The item's value (a State's `.value`)."""
        item = self.get_item()
        return item.value if isinstance(item, State) else item

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.get_item_value()


class PrefetchDelay(Node):
    """`Prefetch(...).delay`: choose the delay with `.at(time)`.

    Args:
      module: the module holding the item.
      item: the attribute name.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> with brainstate.environ.context(dt=0.1):
      ...     lif = brainstate.nn.LIF(3)
      ...     v_earlier = brainstate.nn.Prefetch(lif, "V").delay.at(0.2)
      ...     out_earlier = brainstate.nn.OutputDelayAt(lif, 0.2)
      ...     _ = brainstate.nn.init_all_states(lif)
      ...     _ = lif(jnp.ones(3))
      ...     v_earlier().shape, out_earlier().shape
      ((3,), (3,))
    """

    def __init__(self, module: Dynamics, item: str):
        self.module = module
        self.item = item

    def at(self, *delay_time: Any) -> "PrefetchDelayAt":
        """The item as it was `delay_time` ago."""
        return PrefetchDelayAt(self.module, self.item, *delay_time)


class PrefetchDelayAt(Node):
    """The state `module.<item>` read at a delay, through a `StateWithDelay` after update.

    One `StateWithDelay` per (module, item, update_every) records the state after each call of
    the module; every `PrefetchDelayAt` registers its own entry on it.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> with brainstate.environ.context(dt=0.1):
      ...     lif = brainstate.nn.LIF(3)
      ...     v_earlier = brainstate.nn.Prefetch(lif, "V").delay.at(0.2)
      ...     out_earlier = brainstate.nn.OutputDelayAt(lif, 0.2)
      ...     _ = brainstate.nn.init_all_states(lif)
      ...     _ = lif(jnp.ones(3))
      ...     v_earlier().shape, out_earlier().shape
      ((3,), (3,))
    """

    def __init__(self, module: Dynamics, item: str, *time_and_index: Any, delay_init: Any = None,
                 interpolation: Optional[str] = None, update_every: Any = None, **kwargs: Any):
        _check_dynamics(module, "PrefetchDelayAt")
        self.module = module
        self.item = item
        if len(time_and_index) == 1 and isinstance(time_and_index[0], (tuple, list)):
            time_and_index = tuple(time_and_index[0])
        self.delay_time = time_and_index
        if time_and_index:
            key = f"{item}-prefetch-delay-{update_every}"
            if not module.has_after_update(key):
                delay = StateWithDelay(module, item, init=delay_init, interpolation=interpolation or "round",
                                       update_every=update_every, **kwargs)
                module.add_after_update(key, not_receive_update_output(delay))
            state_delay = module.get_after_update(key)
            assert isinstance(state_delay, StateWithDelay)  # this class registered it under `key`
            self.state_delay = state_delay
            self._entry = f"prefetch-{id(self)}"
            self.delay_info = self.state_delay.register_entry(self._entry, *time_and_index)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not self.delay_time:
            return Prefetch(self.module, self.item).get_item_value()
        return self.state_delay.at(self._entry)


class OutputDelayAt(Node):
    """The output of `module` read at a delay, through a `Delay` after update.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> with brainstate.environ.context(dt=0.1):
      ...     lif = brainstate.nn.LIF(3)
      ...     v_earlier = brainstate.nn.Prefetch(lif, "V").delay.at(0.2)
      ...     out_earlier = brainstate.nn.OutputDelayAt(lif, 0.2)
      ...     _ = brainstate.nn.init_all_states(lif)
      ...     _ = lif(jnp.ones(3))
      ...     v_earlier().shape, out_earlier().shape
      ((3,), (3,))
    """

    def __init__(self, module: Dynamics, *delay_time: Any, delay_init: Any = None,
                 interpolation: Optional[str] = None, update_every: Any = None, **kwargs: Any):
        _check_dynamics(module, "OutputDelayAt")
        self.module = module
        key = f"output-delay-{update_every}"
        if not module.has_after_update(key):
            delay = Delay(jax.ShapeDtypeStruct(module.out_size, environ.dftype()), init=delay_init,
                          interpolation=interpolation, update_every=update_every, **kwargs)
            module.add_after_update(key, receive_update_output(delay))
        out_delay = module.get_after_update(key)
        assert isinstance(out_delay, Delay)  # this class registered it under `key`
        self.out_delay = out_delay
        self._entry = f"output-{id(self)}"
        self.delay_info = self.out_delay.register_entry(self._entry, *(delay_time or (None,)))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.out_delay.at(self._entry)


def init_maybe_prefetch(target: Any, *args: Any, **kwargs: Any) -> None:
    """Check that a prefetch reference resolves (a no-op for anything else).

    Args:
      target: a `Prefetch`, a `PrefetchDelay`, or anything else (ignored).
      *args, **kwargs: accepted for the collective-call signature, unused.

    Example:
      >>> import brainstate
      >>> lif = brainstate.nn.LIF(3)
      >>> _ = brainstate.nn.init_all_states(lif)
      >>> brainstate.nn.init_maybe_prefetch(brainstate.nn.Prefetch(lif, "V"))  # resolves: no error

    Raises:
      AttributeError: if a `Prefetch` points at a missing attribute.
      KeyError: if a `PrefetchDelay`'s module records no delay of that item.
    """
    if isinstance(target, Prefetch):
        target.get_item()
    elif isinstance(target, PrefetchDelay):
        target.module.get_after_update(f"{target.item}-prefetch-delay-None")


def receive_update_output(cls: T) -> T:
    """Mark an after update to be called with the module's output (the default).

    Args:
      cls: the after-update class.

    Returns:
      `cls`, unmarked from `not_receive_update_output`.

    Example:
      >>> import brainstate
      >>> @brainstate.nn.not_receive_update_output
      ... class Tick(brainstate.nn.Module):
      ...     def update(self):
      ...         pass
      >>> "_not_receive_update_output" in brainstate.nn.receive_update_output(Tick).__dict__
      False
    """
    if "_not_receive_update_output" in getattr(cls, "__dict__", {}):
        delattr(cls, "_not_receive_update_output")
    return cls


def not_receive_update_output(cls: T) -> T:
    """Mark an after update to be called without arguments.

    Args:
      cls: the after-update class.

    Returns:
      `cls`, marked.

    Example:
      >>> import brainstate
      >>> @brainstate.nn.not_receive_update_output
      ... class Tick(brainstate.nn.Module):
      ...     def update(self):
      ...         pass
      >>> Tick._not_receive_update_output
      True
    """
    setattr(cls, "_not_receive_update_output", True)  # read back with getattr by Dynamics.__call__
    return cls


def receive_update_input(cls: T) -> T:
    """Mark a before update to be called with the module's call arguments.

    Args:
      cls: the before-update class.

    Returns:
      `cls`, marked.

    Example:
      >>> import brainstate
      >>> @brainstate.nn.receive_update_input
      ... class Log(brainstate.nn.Module):
      ...     def update(self, x):
      ...         pass
      >>> Log._receive_update_input
      True
    """
    setattr(cls, "_receive_update_input", True)  # read back with getattr by Dynamics.__call__
    return cls


def not_receive_update_input(cls: T) -> T:
    """Mark a before update to be called without arguments (the default).

    Args:
      cls: the before-update class.

    Returns:
      `cls`, unmarked from `receive_update_input`.

    Example:
      >>> import brainstate
      >>> @brainstate.nn.receive_update_input
      ... class Log(brainstate.nn.Module):
      ...     def update(self, x):
      ...         pass
      >>> hasattr(brainstate.nn.not_receive_update_input(Log), "_receive_update_input")
      False
    """
    if "_receive_update_input" in getattr(cls, "__dict__", {}):
        delattr(cls, "_receive_update_input")
    return cls
