"""`Delay`: a history buffer of past values, read back at a delay.

A `Delay` keeps the last `max_length` values of a PyTree in a buffer (one `DelayState`
holding, per leaf, an array of shape `(max_length, [batch,] *leaf_shape)`) and an integer
write pointer counting the updates. `update(value)` writes the value of the current step;
after it, `retrieve_at_step(k)` returns the value written `k` updates ago (`k = 0`: the newest
one). Before enough updates have happened, the initial value (`init`) fills the history.

Two buffer layouts give identical results (`delay_method`):
- `'rotation'` (default): a ring buffer; a write replaces one slot, O(1) per step;
- `'concat'`: the oldest value first and the newest last; a write shifts the whole buffer by
  one, O(max_length) per step, but slot `i` always holds the value `max_length - 1 - i`
  writes ago.

Delays are given in time and converted to steps with `environ` `dt` (or `update_every`, the
interval between writes). A named entry registered with `register_entry(name, time)` is read
with `at(name)`; a delay that is not a whole number of steps is interpolated between stored
steps with the method named by `interpolation` (see `InterpolationRegistry`: `'linear'`, the
default, `'nearest'`, `'cubic'`, `'hermite'`, `'polynomial2'`, `'polynomial3'`, or a
registered or callable one). `retrieve_at_time(t)` reads the value at absolute time `t`, using
`environ` `t` as "now".

Invariants:
- `max_length = 1 + ceil(longest registered delay in steps)` (one more for the interpolations
  whose stencil reaches one step further back: cubic, hermite, polynomial2/3), fixed when
  `init_state` builds the buffer; registering a longer delay afterwards is an error (call
  `init_state` again). `max_time` is that longest delay, in the units it was given.
- The history holds plain numbers; units (`brainunit`) are stripped on write and re-attached
  on read.
"""

import inspect
import math
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

import jax
import jax.numpy as jnp
import numpy as np

from .. import environ
from .._state import DelayState, ShortTermState, State
from ..graph import Node
from ._collective import call_order
from ._interpolation import InterpolationRegistry, is_built_in, older_margin
from ._module import Module
from ._units import attach, decimal, is_quantity, mantissa, split

__all__ = ["Delay", "DelayAccess", "StateWithDelay"]

_DELAY_METHODS = ("rotation", "concat")
_OLD_NAMES = {"linear_interp": "linear", "round": "nearest"}
# What a Delay knows of one step's value: `(treedef, [(shape, dtype, unit) per leaf])`.
_Info = Tuple[Any, List[Tuple[Tuple[int, ...], Any, Any]]]
_NEAREST = InterpolationRegistry.get("nearest")


class Delay(Module):
    """A ring buffer of past values, read back at fixed or arbitrary delays.

    Args:
      target_info: a PyTree describing one step's value: arrays, `jax.ShapeDtypeStruct`s or
        Quantities (whose units are kept). None for a subclass that fills it in later.
      time: the longest delay to support (in the unit of `dt`); entries may extend it.
      init: the value before the first update: None (zeros), a scalar or array broadcast to
        each leaf, or a function `shape -> array` (called with `dtype=` too if it takes it).
      entries: `{name: time}` or `{name: (time, *indices)}` to register at construction.
      interpolation: how delays that are not a whole number of steps are read: the name of a
        method in `InterpolationRegistry` (with `'nearest'`/`'round'`, a registered delay is
        rounded up to whole steps when registered, as the reference release does) (`'linear'`, `'nearest'`, `'cubic'`, `'hermite'`,
        `'polynomial2'`, `'polynomial3'`, aliases `'linear_interp'`, `'round'`) or a callable
        `fn(history, indices, float_idx, max_length)`. Default: `interp_method`.
      take_aware_unit: accepted for compatibility; units are always kept.
      update_every: write only every `update_every` time (a multiple of `dt`); delays are then
        counted in writes.
      delay_method: the buffer layout, `'rotation'` (default) or `'concat'` (same results).
      interp_method: the older name of `interpolation`, used when `interpolation` is None
        (default `'linear_interp'`; its spellings `'linear_interp'` and `'round'` become
        `'linear'` and `'nearest'`).
      name: optional module name.

    Attributes:
      max_length: the number of stored steps.
      max_time: the longest registered delay (0 if none), in the units it was given.
      interp_method: the interpolation method (a name or a callable).

    Raises:
      ValueError: for an unknown interpolation or delay method, a negative delay or a bad
        `update_every`.
      TypeError: for an `init` that is not an array, scalar, function or None, or an
        `interpolation` that is neither a name nor a callable.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> with brainstate.environ.context(dt=1.0):
      ...     d = brainstate.nn.Delay(jnp.zeros(2), entries={'two': 2.0, 'half': 1.5},
      ...                             interpolation='cubic')
      ...     d.init_state()
      ...     for i in range(5):
      ...         d.update(jnp.full(2, float(i) ** 2))
      ...     d.at('two').tolist(), d.at('half').tolist(), d.max_time
      ([4.0, 4.0], [6.25, 6.25], 2.0)
    """

    def __init__(self, target_info: Any, time: Optional[Union[int, float, Any]] = None, init: Any = None,
                 entries: Optional[Dict[str, Any]] = None, interpolation: Optional[Union[str, Callable]] = None,
                 take_aware_unit: bool = False, update_every: Optional[Union[float, Any]] = None,
                 delay_method: Optional[str] = "rotation", interp_method: Union[str, Callable] = "linear_interp",
                 name: Optional[str] = None):
        super().__init__(name=name)
        if interpolation is None:
            # The older parameter's two spellings map to today's names, as they did before.
            interpolation = _OLD_NAMES.get(interp_method, interp_method) if isinstance(interp_method, str) \
                else interp_method
        self.interp_method = self._check_interpolation(interpolation)
        self.interpolation = self.interp_method
        # Wider stencils (cubic, ...) read one step older than the longest delay: keep it stored.
        self._margin = older_margin(self.interp_method)
        delay_method = "rotation" if delay_method is None else delay_method
        if delay_method not in _DELAY_METHODS:
            raise ValueError(f"{self._label()}: delay_method must be 'rotation' (a ring buffer) or 'concat' (a "
                             f"shifted buffer), got {delay_method!r}.")
        self.delay_method = delay_method
        if init is not None and not (callable(init) or is_quantity(init)
                                     or isinstance(init, (int, float, np.ndarray, np.number, jax.Array))):
            raise TypeError(
                f"{self._label()}: init must be None, a scalar, an array or a function of the shape, "
                f"got {type(init).__name__}.")
        self._init = init
        self.take_aware_unit = take_aware_unit
        self.update_every = update_every
        self._every = 1
        if update_every is not None:
            ratio = decimal(update_every / environ.get_dt(), self._label(), "update_every / dt")
            if not ratio >= 1 or abs(ratio - round(ratio)) > 1e-6:
                raise ValueError(
                    f"{self._label()}: update_every must be a whole multiple of dt "
                    f"(dt={environ.get_dt()}), got {update_every}.")
            self._every = int(round(ratio))
        self._info: Optional[_Info] = None if target_info is None else self._describe(target_info)
        self.max_length = 1
        self.max_time: Any = 0.0
        self._max_steps = 0.0
        self._entries: Dict[str, Tuple] = {}
        if time is not None:
            self.register_delay(time)
        for entry, spec in (entries or {}).items():
            spec = spec if isinstance(spec, (tuple, list)) else (spec,)
            self.register_entry(entry, *spec)

    def _check_interpolation(self, method: Any) -> Union[str, Callable]:
        if isinstance(method, str):
            if method not in InterpolationRegistry.list_methods():
                raise ValueError(
                    f"{self._label()}: unknown interpolation {method!r}; available: "
                    f"{InterpolationRegistry.list_methods()}. Register new methods with "
                    f"brainstate.nn.InterpolationRegistry.register(name, fn).")
            return method
        if callable(method):
            return method
        raise TypeError(f"{self._label()}: interpolation must be a method name or a callable "
                        f"fn(history, indices, float_idx, max_length), got {type(method).__name__}.")

    @staticmethod
    def _describe(target_info: Any) -> _Info:
        """`(treedef, [(shape, dtype, unit)])` of one step's value."""
        leaves, treedef = jax.tree_util.tree_flatten(target_info, is_leaf=is_quantity)
        info: List[Tuple[Tuple[int, ...], Any, Any]] = []
        for leaf in leaves:
            m, unit = split(leaf)
            info.append((tuple(np.shape(m)), jnp.result_type(m) if not hasattr(m, "dtype") else m.dtype, unit))
        return treedef, info

    # -- delays and entries ----------------------------------------------------------------
    def _steps(self, delay_time: Any) -> np.ndarray:
        """A delay time as a (static, possibly fractional) number of buffer slots."""
        slot = environ.get_dt() if self.update_every is None else self.update_every
        try:
            with jax.ensure_compile_time_eval():
                steps = np.asarray(decimal(delay_time / slot, self._label(), "delay time / dt"), dtype=float)
        except (jax.errors.ConcretizationTypeError, jax.errors.TracerArrayConversionError):
            raise ValueError(f"{self._label()}: delay times must be concrete numbers, not traced values.") from None
        if np.any(steps < -1e-9):
            raise ValueError(f"{self._label()}: delays must be non-negative, got {delay_time}.")
        return np.maximum(steps, 0.0)

    def register_delay(self, *time_and_idx: Any) -> Tuple:
        """Make room for a delay of `time_and_idx[0]`; return `(steps, *indices)`.

        Raises:
          ValueError: if the buffer was already built and is too short for this delay.
        """
        if not time_and_idx:
            raise TypeError(f"{self._label()}.register_delay needs a delay time (None for no delay).")
        time, indices = time_and_idx[0], tuple(time_and_idx[1:])
        steps = np.zeros(()) if time is None else self._steps(time)
        if time is not None and self._reads_whole_steps():
            # Read without interpolating: a delay is a whole number of steps, never shorter than
            # asked (0.21 ms at dt = 0.1 ms is 3 steps), as the reference release registers it.
            steps = np.ceil(np.asarray(steps) - 1e-6).astype(np.int32)
        if time is not None and float(np.max(steps)) >= self._max_steps:
            self._max_steps = float(np.max(steps))
            self.max_time = time if np.ndim(steps) == 0 else time[int(np.argmax(steps))]
        longest = float(np.max(steps))
        needed = int(math.ceil(longest - 1e-6)) + 1 + (self._margin if longest > 0 else 0)
        if needed > self.max_length:
            if getattr(self, "history", None) is not None:
                raise ValueError(
                    f"{self._label()}: a delay of {time} needs {needed} slots but the history was built "
                    f"with {self.max_length}. Register every delay before `init_state`, or call "
                    f"`init_state()` again after registering.")
            self.max_length = needed
        return (steps,) + indices

    def _reads_whole_steps(self) -> bool:
        method = self.interpolation
        return (method if callable(method) else InterpolationRegistry.get(method)) is _NEAREST

    def register_entry(self, entry: str, *time_and_idx: Any) -> Tuple:
        """Register the named delay `entry` (read it with `at(entry)`); return its info.

        Raises:
          KeyError: if `entry` is already registered.
        """
        if entry in self._entries:
            raise KeyError(f"{self._label()}: the delay entry {entry!r} is already registered. Use another name.")
        info = self.register_delay(*(time_and_idx or (None,)))
        self._entries[entry] = info
        return info

    def access(self, entry: str, *time_and_idx: Any) -> "DelayAccess":
        """Register `entry` and return a `DelayAccess` that reads it when called."""
        return DelayAccess(self, *time_and_idx, entry=entry)

    # -- states ------------------------------------------------------------------------------
    def _initial(self, shape, dtype):
        init = self._init
        if init is None:
            return jnp.zeros(shape, dtype)
        if callable(init):
            return jnp.asarray(init(shape, dtype=dtype) if _takes_dtype(init) else init(shape), dtype)
        return jnp.broadcast_to(jnp.asarray(split(init)[0], dtype), shape)

    def _value_info(self) -> _Info:
        """`_info`, known from `target_info` or (`StateWithDelay`) from `init_state`."""
        if self._info is None:
            raise ValueError(f"{self._label()} does not know the shape of its values (target_info=None).")
        return self._info

    def _buffers(self, batch_size: Optional[int]):
        treedef, info = self._value_info()
        batch = () if batch_size is None else (int(batch_size),)
        return jax.tree_util.tree_unflatten(
            treedef, [self._initial((self.max_length,) + batch + shape, dtype) for shape, dtype, _ in info])

    @call_order(3)
    def init_state(self, batch_size: Optional[int] = None, **kwargs: Any) -> None:
        """Build the history buffer (filled with `init`) and the write pointer."""
        self.write_ptr = ShortTermState(jnp.zeros((), jnp.int32))
        self.history = DelayState(self._buffers(batch_size))

    def reset_state(self, batch_size: Optional[int] = None, **kwargs: Any) -> None:
        """Refill the history with `init` and rewind the write pointer."""
        self._check_ready()
        self.write_ptr.value = jnp.zeros((), jnp.int32)
        value = self._buffers(batch_size)
        if jax.tree_util.tree_map(jnp.shape, value) == jax.tree_util.tree_map(jnp.shape, self.history.value):
            self.history.value = value
        else:
            self.history.restore_value(value)  # a deliberate change of batch size

    def _check_ready(self) -> None:
        if getattr(self, "history", None) is None:
            from .._errors import BrainStateError

            raise BrainStateError(
                f"{self._label()} has no history yet: call `init_state()` (or "
                f"`brainstate.nn.init_all_states(model)`) before updating or reading it.")

    # -- writing ----------------------------------------------------------------------------
    def update(self, current: Any) -> None:
        """Write this step's value into the buffer and advance the write pointer."""
        self._check_ready()
        treedef, info = self._value_info()
        leaves = jax.tree_util.tree_leaves(current, is_leaf=is_quantity)
        if len(leaves) != len(info):
            raise ValueError(
                f"{self._label()}.update got a value with {len(leaves)} leaves, but the delay holds "
                f"{len(info)} (target_info {treedef}).")
        if any(unit is None and is_quantity(leaf) for leaf, (_, _, unit) in zip(leaves, info)):
            # First Quantity written into a delay built from plain shapes: adopt its units.
            info = [(s, d, split(leaf)[1] if unit is None else unit) for leaf, (s, d, unit) in zip(leaves, info)]
            self._info = (treedef, info)
        values = [mantissa(leaf, unit, self._label(), "the written value") for leaf, (_, _, unit) in zip(leaves, info)]
        ptr = self.write_ptr.value
        hist = jax.tree_util.tree_leaves(self.history.value)
        if self.delay_method == "concat":
            new = [jnp.concatenate([h[1:], jnp.asarray(v, h.dtype)[None]]) for h, v in zip(hist, values)]
        else:
            slot = ptr // self._every
            new = [h.at[slot].set(jnp.asarray(v, h.dtype)) for h, v in zip(hist, values)]
        if self._every > 1:
            write = ptr % self._every == 0
            new = [jnp.where(write, n, h) for n, h in zip(new, hist)]
        self.history.value = jax.tree_util.tree_unflatten(jax.tree_util.tree_structure(self.history.value), new)
        self.write_ptr.value = (ptr + 1) % (self.max_length * self._every)

    # -- reading ----------------------------------------------------------------------------
    def retrieve_at_step(self, delay_step: Any, *indices: Any) -> Any:
        """The value written `delay_step` updates (writes) ago, optionally indexed by `indices`.

        Raises:
          ValueError: if a concrete `delay_step` is negative or beyond the buffer.
        """
        self._check_ready()
        if not isinstance(delay_step, jax.core.Tracer):
            step = np.asarray(delay_step)
            if np.any(step < 0) or np.any(step >= self.max_length):
                raise ValueError(
                    f"{self._label()}: delay_step must be in [0, {self.max_length - 1}] (the buffer "
                    f"holds {self.max_length} slots), got {delay_step}. Register longer delays with "
                    f"`time=` or `register_entry` before `init_state`.")
        slot = jax.lax.stop_gradient((self._newest() - jnp.asarray(delay_step, jnp.int32)) % self.max_length)
        return self._gather((slot,) + tuple(indices))

    def _newest(self) -> Any:
        """The buffer position of the newest written value (positions wrap modulo max_length)."""
        if self.delay_method == "concat":
            return self.max_length - 1
        return (self.write_ptr.value - 1) // self._every

    def _gather(self, index: Tuple) -> Any:
        treedef, info = self._value_info()
        hist = jax.tree_util.tree_leaves(self.history.value)
        return jax.tree_util.tree_unflatten(treedef, [attach(h[index], unit) for h, (_, _, unit) in zip(hist, info)])

    def _read(self, steps: Any, indices: Tuple, method: Union[str, Callable]) -> Any:
        """Read at a (possibly fractional, possibly traced) number of steps back."""
        if isinstance(steps, np.ndarray) and np.allclose(steps, np.round(steps), atol=1e-6):
            return self.retrieve_at_step(np.round(steps).astype(np.int32), *indices)
        if not isinstance(steps, jax.core.Tracer) and np.any(np.asarray(steps) > self.max_length - 1 + 1e-6):
            raise ValueError(
                f"{self._label()}: a delay of {np.max(steps)} steps reaches past the buffer, which holds "
                f"{self.max_length} steps ({self.max_length - 1} back). Register longer delays with `time=` or "
                f"`register_entry` before `init_state`.")
        fn = method if callable(method) else InterpolationRegistry.get(method)
        if fn is _NEAREST:
            # Round in steps back, not in buffer positions, so halves do not depend on the pointer.
            return self.retrieve_at_step(jnp.round(steps).astype(jnp.int32), *indices)
        self._check_ready()
        treedef, info = self._value_info()
        newest = self._newest()
        position = newest - jnp.asarray(steps, environ.dftype())
        if is_built_in(fn):
            value = fn(self.history.value, tuple(indices), position, self.max_length, newest=newest)
        else:
            value = fn(self.history.value, tuple(indices), position, self.max_length)
        leaves = jax.tree_util.tree_leaves(value)
        if len(leaves) != len(info):
            raise ValueError(f"{self._label()}: the interpolation {method!r} returned {len(leaves)} leaves, but the "
                             f"delay holds {len(info)}; it must return one value per history leaf.")
        return jax.tree_util.tree_unflatten(treedef, [attach(v, unit) for v, (_, _, unit) in zip(leaves, info)])

    def at(self, entry: str) -> Any:
        """The value of the registered delay `entry` (interpolated if fractional).

        Raises:
          KeyError: if `entry` was never registered.
        """
        if entry not in self._entries:
            raise KeyError(
                f"{self._label()}: no delay entry {entry!r}; registered: {sorted(self._entries)}. "
                f"Register it with `register_entry({entry!r}, delay_time)`.")
        steps, *indices = self._entries[entry]
        return self._read(steps, tuple(indices), self.interpolation)

    def retrieve_at_time(self, delay_time: Any, *indices: Any) -> Any:
        """The value at absolute time `delay_time`, with `environ` `t` as the current time."""
        now = environ.get(environ.T, desc="the current time, needed by Delay.retrieve_at_time")
        slot = environ.get_dt() if self.update_every is None else self.update_every
        steps = decimal((now - delay_time) / slot, self._label(), "(t - delay_time) / dt")
        return self._read(steps, tuple(indices), self.interpolation)


class DelayAccess(Node):
    """A registered delay entry of a `Delay`, read by calling it.

    Args:
      delay: the `Delay`.
      *time: the delay time, optionally followed by indices.
      entry: the entry name.

    Example:
      >>> import brainstate
      >>> with brainstate.environ.context(dt=0.1):
      ...     lif = brainstate.nn.LIF(3)
      ...     history = brainstate.nn.StateWithDelay(lif, "V")
      ...     two_steps = brainstate.nn.DelayAccess(history, 0.2, entry="V at 0.2 ms")
      ...     _ = brainstate.nn.init_all_states(lif), brainstate.nn.init_all_states(history)
      ...     history.update()
      ...     two_steps().shape
      (3,)
    """

    def __init__(self, delay: Delay, *time: Any, entry: str):
        if not isinstance(delay, Delay):
            raise TypeError(f"DelayAccess: delay must be a Delay, got {type(delay).__name__}.")
        self.delay = delay
        self._delay_entry = entry
        self.delay_info = delay.register_entry(entry, *time)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.delay.at(self._delay_entry)


def _takes_dtype(fn: Callable) -> bool:
    """Whether `fn` accepts a `dtype` keyword (braintools initialisers, `lambda shape, dtype: ...`)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "dtype" or p.kind is inspect.Parameter.VAR_KEYWORD for p in params)


class StateWithDelay(Delay):
    """A `Delay` that records a State of another module (`getattr(target, item)`) each update.

    Args:
      target: the module holding the state.
      item: the attribute name of the state.
      init: the value before the first update.
      interpolation: as in `Delay` (default `'round'`).
      **kwargs: further `Delay` arguments (`time`, `entries`, `update_every`, ...).

    Raises:
      TypeError: at `init_state`, if the attribute is not a State.

    Example:
      >>> import brainstate
      >>> with brainstate.environ.context(dt=0.1):
      ...     lif = brainstate.nn.LIF(3)
      ...     history = brainstate.nn.StateWithDelay(lif, "V")
      ...     two_steps = brainstate.nn.DelayAccess(history, 0.2, entry="V at 0.2 ms")
      ...     _ = brainstate.nn.init_all_states(lif), brainstate.nn.init_all_states(history)
      ...     history.update()
      ...     two_steps().shape
      (3,)
    """

    def __init__(self, target: Node, item: str, init: Optional[Callable] = None, interpolation: Optional[str] = "round",
                 **kwargs: Any):
        super().__init__(None, init=init, interpolation=interpolation, **kwargs)
        self._target = target
        self._target_term = item

    @property
    def state(self) -> State:
        """The recorded State."""
        value = getattr(self._target, self._target_term, None)
        if not isinstance(value, State):
            raise TypeError(
                f"{self._label()}: {type(self._target).__name__}.{self._target_term} is "
                f"{type(value).__name__}, not a State. Record a state attribute (initialise the "
                f"target's states first).")
        return value

    @call_order(3)
    def init_state(self, *args: Any, **kwargs: Any) -> None:
        """Build the buffer with the shape of the state's current value (batch included)."""
        self._info = self._describe(self.state.value)
        super().init_state()

    @call_order(3)
    def reset_state(self, *args: Any, **kwargs: Any) -> None:
        """Refill the history with `init`, shaped like the state's current value: after the
        target was reset with another batch size, so is the history (after the target, like
        `init_state`)."""
        self._info = self._describe(self.state.value)
        super().reset_state()

    def update(self, *args: Any) -> None:
        """Write the state's current value (arguments are ignored)."""
        super().update(self.state.value)
