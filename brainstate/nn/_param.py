"""`Param`: a trainable value with a constraint transform, a prior and an opt-in cache.

A `Param` stores its value in UNCONSTRAINED space: `param.val` is a `ParamState` holding
`t.inverse(value)` (a plain array for `fit=False` / `Const`). `param.value()` returns the
constrained value `t.forward(raw)` (then `precompute`, if given). Gradients, filters and
optimizers therefore see the raw `ParamState` (`module.states(ParamState)`), and an optimizer
step can never leave the constrained set.

The cache. `cache()` computes the constrained value and remembers it together with the exact
objects it came from: the raw value object read through `val.value`, the transform and
`precompute`. `value()` returns the remembered result only when the raw value it reads now IS
that same object. JAX arrays are immutable, so the same object means the same value; any write
to the state (through `set_value`, an optimizer, a transform's write-back, or directly) puts a
new object there, and inside a trace every read yields that trace's own tracer. The cache can
therefore never be stale, under any transform, without hooks or flags set by writes, and it
never hands a tracer to code outside its trace (a different trace reads a different object).
Once `cache()` was called, an eager miss refreshes the entry (so an eager loop recomputes once
per write); `clear_cache()` turns caching off again. Only an explicit `cache()` inside a trace
stores that trace's tracers (`param_precompute` clears them when its block ends). The entry is
one tuple, replaced atomically, so concurrent readers need no lock.
"""

import logging
from typing import Any, Callable, Optional, Sequence, Union

import jax
import jax.numpy as jnp
import numpy as np

from .. import environ
from .._errors import TraceContextError
from .._state import ParamState, State
from ._module import Module
from ._param_transforms import IdentityT, Transform, concrete
from ._regularization import Regularization
from ._units import attach, is_quantity, mantissa, split
from .init import are_broadcastable_shapes, to_size

__all__ = ["Param", "Const"]

ArrayLike = Any
_logger = logging.getLogger("brainstate.nn.Param")


def _as_float(value: ArrayLike) -> Any:
    """`value` as an array of the default float type, keeping its unit."""
    m, unit = split(value)
    return attach(jnp.asarray(m, dtype=environ.dftype()), unit)


def _immutable(raw: Any) -> bool:
    """True for values whose identity pins their content (JAX arrays, tracers, Quantities of them)."""
    return isinstance(split(raw)[0], jax.Array)


def _is_tracer(raw: Any) -> bool:
    return isinstance(split(raw)[0], jax.core.Tracer)


class _CacheSlot:
    """An opaque holder of the one cache entry `(raw, t, precompute, value)` (or None).

    It is a plain object, so the graph walk carries it by reference and never looks inside.
    """

    __slots__ = ("entry", "on")

    def __init__(self):
        self.entry = None
        self.on = False


class Param(Module):
    """A trainable value with a constraint transform `t`, an optional prior `reg`, and a cache.

    Args:
      value: the initial value, in the constrained space (an array, a number or a Quantity).
      t: the constraint transform; the raw value is `t.inverse(value)`.
      reg: a prior / penalty on the constrained value, or None.
      precompute: an optional function applied to `t.forward(raw)` by `value()`.
      fit: True stores the raw value in a `ParamState` (trainable); False keeps a plain array.
      enable_cache_logging: log cache hits, misses and clears to the `brainstate.nn.Param` logger.

    Raises:
      TypeError: if `t` is not a `Transform`, `reg` not a `Regularization`, `precompute` not
        callable, or `fit` / `enable_cache_logging` not a bool.
      ValueError: if `value` lies outside the range of `t` (its inverse gives NaN).

    Example:
      >>> import jax.numpy as jnp
      >>> import brainstate
      >>> tau = brainstate.nn.Param(jnp.array([5.0, 10.0]), t=brainstate.nn.SoftplusT(0.0),
      ...                           reg=brainstate.nn.L2Reg(0.01))
      >>> tau.value().tolist()
      [5.0, 10.0]
      >>> round(float(tau.reg_loss()), 4)
      1.25
      >>> tau.set_value(jnp.array([2.0, 3.0]))
      >>> [round(v, 4) for v in tau.value().tolist()]
      [2.0, 3.0]
    """

    __module__ = "brainstate.nn"

    def __init__(self, value: ArrayLike, t: Transform = IdentityT(), reg: Optional[Regularization] = None,
                 precompute: Optional[Callable] = None, fit: bool = True, enable_cache_logging: bool = False):
        super().__init__()
        if not isinstance(t, Transform):
            raise TypeError(f"Param: t must be a Transform (e.g. brainstate.nn.SoftplusT(0.0)), got "
                            f"{type(t).__name__} {t!r}.")
        if reg is not None and not isinstance(reg, Regularization):
            raise TypeError(f"Param: reg must be None or a Regularization (e.g. brainstate.nn.L2Reg(0.01)), "
                            f"got {type(reg).__name__} {reg!r}.")
        if precompute is not None and not callable(precompute):
            raise TypeError(f"Param: precompute must be None or a function of the constrained value, got "
                            f"{type(precompute).__name__} {precompute!r}.")
        for name, flag in (("fit", fit), ("enable_cache_logging", enable_cache_logging)):
            if not isinstance(flag, (bool, np.bool_)):
                raise TypeError(f"Param: {name} must be True or False, got {flag!r}.")
        self.fit = bool(fit)
        self.t = t
        self.reg = reg
        self.precompute = precompute
        self._cache_slot = _CacheSlot()
        self._cache_logging = bool(enable_cache_logging)
        raw = self._to_raw(value)
        self.val = ParamState(raw) if self.fit else raw

    # -- raw <-> constrained -------------------------------------------------------------------
    def _to_raw(self, value: ArrayLike) -> Any:
        value = _as_float(value)
        raw = self.t.inverse(value)
        r, v = concrete(split(raw)[0]), concrete(split(value)[0])
        # NaN from the inverse (and not already in the value) means the value is out of range.
        if r is not None and v is not None and np.any(np.isnan(r)) and not np.any(np.isnan(v)):
            raise ValueError(f"Param: the value {value!r} lies outside the range of {self.t!r}: its inverse "
                             f"gives NaN. Pass a value inside the constrained set, or choose another transform.")
        return raw

    def _raw(self) -> Any:
        return self.val.value if isinstance(self.val, State) else self.val

    def _compute(self, raw: Any) -> Any:
        y = self.t.forward(raw)
        return y if self.precompute is None else self.precompute(y)

    def _log(self, event: str) -> None:
        if self._cache_logging:
            _logger.info("Param %s: cache %s", self._name or hex(id(self)), event)

    # -- public API ----------------------------------------------------------------------------
    def value(self) -> Any:
        """The constrained value `t.forward(raw)` (then `precompute`); from the cache when valid."""
        raw = self._raw()
        slot = self._cache_slot
        entry = slot.entry
        if entry is not None and entry[0] is raw and entry[1] is self.t and entry[2] is self.precompute:
            self._log("hit")
            return entry[3]
        y = self._compute(raw)
        # Refresh only with concrete values: an entry holding a tracer would outlive its trace.
        if slot.on and _immutable(raw) and not _is_tracer(raw):
            slot.entry = (raw, self.t, self.precompute, y)
            self._log("miss (refreshed)")
        return y

    def cache(self) -> Any:
        """Compute the constrained value, remember it, and keep caching until `clear_cache()`.

        Returns:
          The constrained value.
        """
        raw = self._raw()
        y = self._compute(raw)
        slot = self._cache_slot
        slot.on = True
        if _immutable(raw):
            slot.entry = (raw, self.t, self.precompute, y)
        self._log("filled")
        return y

    def clear_cache(self) -> None:
        """Forget the cached value and stop caching."""
        self._cache_slot.on = False
        self._cache_slot.entry = None
        self._log("cleared")

    @property
    def cache_stats(self) -> dict:
        """`{'valid': the cache matches the current raw value, 'has_cached_value': an entry exists}`."""
        entry = self._cache_slot.entry
        valid = entry is not None and entry[0] is self._raw() and entry[1] is self.t and entry[2] is self.precompute
        return {"valid": valid, "has_cached_value": entry is not None}

    def set_value(self, value: ArrayLike) -> None:
        """Store `t.inverse(value)`; a value that broadcasts to the parameter's shape is broadcast,
        a larger one (e.g. with a batch axis) gives the parameter its shape.

        Raises:
          ValueError: if `value` lies outside the range of `t`.
          TraceContextError: a traced value for a `fit=False` Param, whose plain array would keep
            the tracer after the transform ends.
        """
        raw = self._to_raw(value)
        if not isinstance(self.val, State) and _is_tracer(raw):
            raise TraceContextError(
                f"Param (fit=False): set_value got a traced value inside a transform, but this parameter "
                f"keeps a plain array, which would hold the tracer after the transform ends. Set constant "
                f"parameters outside transforms, or make the parameter trainable (fit=True, a state).")
        old = self._raw()
        old_shape, new_shape = jnp.shape(split(old)[0]), jnp.shape(split(raw)[0])
        reshape = False
        if new_shape != old_shape:
            if are_broadcastable_shapes(new_shape, old_shape) and \
                    tuple(np.broadcast_shapes(new_shape, old_shape)) == tuple(old_shape):
                m, unit = split(raw)
                raw = attach(jnp.broadcast_to(m, old_shape), unit)
            else:  # a larger value (a batch axis added, say) reshapes the parameter on purpose
                reshape = True
        if isinstance(self.val, State):
            if reshape:
                self.val.restore_value(raw)
            else:
                self.val.value = raw
        else:
            self.val = raw

    def reg_loss(self) -> Any:
        """The prior's loss at the constrained value (0.0 without a prior or for `fit=False`)."""
        if not self.fit or self.reg is None:
            return 0.0
        return self.reg.loss(self.value())

    def reset_to_prior(self) -> None:
        """Set the value to the prior's `reset_value()` (nothing happens without a prior)."""
        if self.reg is not None:
            self.set_value(self.reg.reset_value())

    def clip(self, min_val: Optional[float] = None, max_val: Optional[float] = None) -> None:
        """Clip the constrained value into `[min_val, max_val]` in place (None: no bound)."""
        m, unit = split(self.value())
        lo = None if min_val is None else mantissa(min_val, unit, "Param.clip", "min_val")
        hi = None if max_val is None else mantissa(max_val, unit, "Param.clip", "max_val")
        self.set_value(attach(jnp.clip(m, lo, hi), unit))

    @classmethod
    def init(cls, data: Union[Callable, ArrayLike, "Param", None], sizes: Union[int, Sequence[int], None] = None,
             allow_none: bool = True, **param_kwargs: Any) -> Optional["Param"]:
        """Turn an init specification into a `Param`: a Param is returned as is, an array or a
        number becomes a `Const`, a function is called with `sizes` (and `param_kwargs`) first.

        Args:
          data: a `Param`, an array / number / Quantity, a function of the shape, or None.
          sizes: the expected shape (the value must broadcast to it); required for a function.
          allow_none: return None for `data=None` instead of raising.
          **param_kwargs: passed to the function.

        Raises:
          ValueError: `data` is None while `allow_none=False`, a function is given without
            `sizes`, or the value does not broadcast to `sizes`.
          TypeError: `data` is of another type.

        Example:
          >>> import jax.numpy as jnp
          >>> import brainstate
          >>> p = brainstate.nn.Param.init(jnp.ones(3), sizes=3)
          >>> type(p).__name__, p.fit
          ('Const', False)
        """
        if data is None:
            if allow_none:
                return None
            raise ValueError("Param.init: got None for a required parameter (allow_none=False). Pass a Param, "
                             "an array, a number or a function of the shape.")
        size = None if sizes is None else (to_size(sizes) or ())
        if not isinstance(data, Param):
            if callable(data):
                if size is None:
                    raise ValueError(f"Param.init: {data!r} is a function of the shape, so sizes must be given, "
                                     f"e.g. Param.init(init_fn, sizes=(10, 20)).")
                data = data(size, **param_kwargs)
            if not (is_quantity(data) or isinstance(data, (jax.Array, np.ndarray, np.number, int, float, bool))):
                raise TypeError(f"Param.init: expected a Param, an array, a number or a function of the shape, "
                                f"got {type(data).__name__} {data!r}.")
            data = Const(data)
        if size is not None:
            shape = jnp.shape(split(data.value())[0])
            if not are_broadcastable_shapes(shape, size) or np.broadcast_shapes(shape, size) != tuple(size):
                raise ValueError(f"Param.init: the value has shape {tuple(shape)}, which does not broadcast to "
                                 f"the requested sizes {tuple(size)}.")
        return data


class Const(Param):
    """A fixed, non-trainable `Param` (`fit=False`): its value is a plain array, not a state.

    Args:
      value: the value.
      **param_kwargs: other `Param` arguments (`t`, `reg`, `precompute`); `fit` may only be False.

    Raises:
      ValueError: if `fit=True` is passed.

    Example:
      >>> import brainstate
      >>> c = brainstate.nn.Const(2.0)
      >>> float(c.value()), c.fit, len(c.states())
      (2.0, False, 0)
    """

    __module__ = "brainstate.nn"

    def __init__(self, value: ArrayLike, **param_kwargs: Any):
        if param_kwargs.pop("fit", False):
            raise ValueError("Const: a Const is never trainable, so fit must be False. Use "
                             "brainstate.nn.Param(value, ...) for a trainable parameter.")
        super().__init__(value, fit=False, **param_kwargs)
