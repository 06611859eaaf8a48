"""Interpolation of a `Delay`'s history between stored steps, and the registry of methods.

An interpolation method reads a ring buffer at a fractional position:

    method(history, indices, float_idx, max_length) -> value

- `history`: a PyTree of arrays whose first axis is the ring of `max_length` slots;
- `indices`: a tuple of further indices applied after the slot (may be empty);
- `float_idx`: the fractional ring position to read (slot `i` holds the value written at step
  `i`); positions wrap modulo `max_length`, so `-0.5` lies between the last and the first slot.

Built-in methods combine the slots around `float_idx` with polynomial weights of the fraction
`t = float_idx - floor(float_idx)`:

- `nearest` (alias `round`): the slot at `round(float_idx)`;
- `linear` (alias `linear_interp`): `(1 - t) v0 + t v1`;
- `cubic`: Catmull-Rom spline through `v-1, v0, v1, v2` (exact on quadratics);
- `hermite`: cubic Hermite spline on `v0, v1` with the central-difference slopes
  `(v1 - v-1) / 2` and `(v2 - v0) / 2` (algebraically the same curve as `cubic`);
- `polynomial2`: the parabola through `v-1, v0, v1`;
- `polynomial3`: the cubic through `v-1, v0, v1, v2` (exact on cubics).

The built-ins also take a keyword `newest` (the ring position of the newest stored value):
`Delay` passes it so that a stencil reaching past the newest or the oldest stored value
repeats that end value instead of wrapping around the ring into unrelated data.
"""

from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import jax
import jax.numpy as jnp

__all__ = ["InterpolationRegistry"]


def _weighted(history: Any, indices: Tuple, float_idx: Any, max_length: int, offsets: Sequence[int],
              weights: Callable[[Any], Sequence[Any]], newest: Optional[Any]) -> Any:
    """`sum_k weights(t)[k] * history[floor(float_idx) + offsets[k]]` over every leaf."""
    float_idx = jnp.asarray(float_idx)
    base = jnp.floor(float_idx)
    t = float_idx - base
    base = base.astype(jnp.int32)
    slots = []
    for off in offsets:
        pos = base + off
        if newest is not None:
            pos = jnp.clip(pos, newest - (max_length - 1), newest)
        slots.append(jax.lax.stop_gradient(pos % max_length))
    ws = weights(t)

    def combine(h: jax.Array) -> jax.Array:
        total = None
        for slot, w in zip(slots, ws):
            v = h[(slot,) + tuple(indices)]
            # Per-element fractions (an array of delays) broadcast over the value's trailing axes.
            w = jnp.reshape(w, jnp.shape(w) + (1,) * (v.ndim - jnp.ndim(w))).astype(v.dtype)
            total = w * v if total is None else total + w * v
        assert total is not None  # every built-in stencil reads at least one slot
        return total

    return jax.tree_util.tree_map(combine, history)


def _nearest(history: Any, indices: Tuple, float_idx: Any, max_length: int, *, newest: Any = None) -> Any:
    """The slot nearest to `float_idx` (halves round to even, as `jnp.round`)."""
    return _weighted(history, indices, jnp.round(jnp.asarray(float_idx)), max_length, (0,),
                     lambda t: (jnp.ones_like(t),), newest)


def _linear(history: Any, indices: Tuple, float_idx: Any, max_length: int, *, newest: Any = None) -> Any:
    """Linear interpolation between the two neighbouring slots."""
    return _weighted(history, indices, float_idx, max_length, (0, 1), lambda t: (1 - t, t), newest)


def _catmull_rom(t: Any) -> Tuple[Any, ...]:
    t2, t3 = t * t, t * t * t
    return (-0.5 * t3 + t2 - 0.5 * t, 1.5 * t3 - 2.5 * t2 + 1, -1.5 * t3 + 2 * t2 + 0.5 * t, 0.5 * t3 - 0.5 * t2)


def _cubic(history: Any, indices: Tuple, float_idx: Any, max_length: int, *, newest: Any = None) -> Any:
    """Catmull-Rom cubic through the four slots around `float_idx`."""
    return _weighted(history, indices, float_idx, max_length, (-1, 0, 1, 2), _catmull_rom, newest)


def _hermite_weights(t: Any) -> Tuple[Any, ...]:
    # Hermite basis h00, h10, h01, h11 with slopes m0 = (v1 - v-1) / 2, m1 = (v2 - v0) / 2,
    # collected per slot: v-1 gets -h10/2, v0 gets h00 - h11/2, v1 gets h01 + h10/2, v2 gets h11/2.
    t2, t3 = t * t, t * t * t
    h00, h10, h01, h11 = 2 * t3 - 3 * t2 + 1, t3 - 2 * t2 + t, -2 * t3 + 3 * t2, t3 - t2
    return (-0.5 * h10, h00 - 0.5 * h11, h01 + 0.5 * h10, 0.5 * h11)


def _hermite(history: Any, indices: Tuple, float_idx: Any, max_length: int, *, newest: Any = None) -> Any:
    """Cubic Hermite spline with central-difference slopes."""
    return _weighted(history, indices, float_idx, max_length, (-1, 0, 1, 2), _hermite_weights, newest)


def _lagrange(nodes: Sequence[int]) -> Callable[[Any], Tuple[Any, ...]]:
    """Lagrange basis polynomials on integer `nodes`, evaluated at the fraction `t`."""

    def weights(t: Any) -> Tuple[Any, ...]:
        out = []
        for j in nodes:
            w = jnp.ones_like(t)
            for m in nodes:
                if m != j:
                    w = w * (t - m) / (j - m)
            out.append(w)
        return tuple(out)

    return weights


def _polynomial2(history: Any, indices: Tuple, float_idx: Any, max_length: int, *, newest: Any = None) -> Any:
    """The parabola through the slots at offsets -1, 0, 1."""
    return _weighted(history, indices, float_idx, max_length, (-1, 0, 1), _lagrange((-1, 0, 1)), newest)


def _polynomial3(history: Any, indices: Tuple, float_idx: Any, max_length: int, *, newest: Any = None) -> Any:
    """The cubic through the slots at offsets -1, 0, 1, 2."""
    return _weighted(history, indices, float_idx, max_length, (-1, 0, 1, 2), _lagrange((-1, 0, 1, 2)), newest)


_BUILT_IN: Dict[str, Callable] = {
    "nearest": _nearest, "round": _nearest, "linear": _linear, "linear_interp": _linear, "cubic": _cubic,
    "hermite": _hermite, "polynomial2": _polynomial2, "polynomial3": _polynomial3,
}


class InterpolationRegistry:
    """The named interpolation methods a `Delay` can use (`Delay(..., interpolation=name)`).

    Built in: `nearest` (alias `round`), `linear` (alias `linear_interp`), `cubic`, `hermite`,
    `polynomial2`, `polynomial3` (see the module docstring for the formulas). Register your own
    with `register(name, fn)`, where `fn(history, indices, float_idx, max_length)` reads the ring
    buffer `history` at the fractional ring position `float_idx`.

    Example:
      >>> import jax.numpy as jnp
      >>> from brainstate.nn import InterpolationRegistry
      >>> ring = jnp.array([0.0, 10.0, 20.0, 30.0])
      >>> float(InterpolationRegistry.get('linear')(ring, (), 1.25, 4))
      12.5
      >>> 'cubic' in InterpolationRegistry.list_methods()
      True
    """

    __module__ = "brainstate.nn"

    _methods: Dict[str, Callable] = dict(_BUILT_IN)

    @classmethod
    def register(cls, name: str, method: Callable) -> None:
        """Register `method` under `name` (registering a name again replaces the method).

        Raises:
          TypeError: `name` is not a string or `method` is not callable.
          ValueError: `name` is a built-in method.

        Example:
          >>> import jax
          >>> from brainstate.nn import InterpolationRegistry
          >>> def floor_read(history, indices, float_idx, max_length):
          ...     slot = jax.numpy.floor(float_idx).astype(int) % max_length
          ...     return jax.tree.map(lambda h: h[(slot,) + indices], history)
          >>> InterpolationRegistry.register('floor', floor_read)
          >>> InterpolationRegistry.get('floor') is floor_read
          True
          >>> InterpolationRegistry.unregister('floor')
        """
        if not isinstance(name, str):
            raise TypeError(f"InterpolationRegistry.register: name must be a string, got {type(name).__name__}.")
        if not callable(method):
            raise TypeError(f"InterpolationRegistry.register: the method for {name!r} must be callable as "
                            f"fn(history, indices, float_idx, max_length), got {type(method).__name__}.")
        if name in _BUILT_IN:
            raise ValueError(f"InterpolationRegistry.register: {name!r} is a built-in method and cannot be "
                             f"replaced; register yours under another name.")
        cls._methods[name] = method

    @classmethod
    def unregister(cls, name: str) -> None:
        """Remove a method registered with `register`.

        Raises:
          ValueError: `name` is built in or not registered.
        """
        if name in _BUILT_IN or name not in cls._methods:
            why = "is built in" if name in _BUILT_IN else "is not registered"
            raise ValueError(f"InterpolationRegistry.unregister: {name!r} {why}; registered by users: "
                             f"{sorted(set(cls._methods) - set(_BUILT_IN))}.")
        del cls._methods[name]

    @classmethod
    def get(cls, name: str) -> Callable:
        """The method registered as `name`.

        Raises:
          ValueError: no method has that name.
        """
        if name not in cls._methods:
            raise ValueError(f"Unknown interpolation method {name!r}. Available methods: {cls.list_methods()}. "
                             f"Register a new one with InterpolationRegistry.register(name, fn).")
        return cls._methods[name]

    @classmethod
    def list_methods(cls) -> List[str]:
        """The names of every registered method, built-in ones first."""
        return list(cls._methods)


def is_built_in(method: Callable) -> bool:
    """True for the built-in methods, which accept the `newest=` keyword."""
    return any(method is fn for fn in _BUILT_IN.values())


def older_margin(method: Any) -> int:
    """How many slots beyond `ceil(delay)` a built-in method reads (its stencil's older end).

    `cubic`, `hermite` and the polynomials read one slot older than the two neighbours of the
    position; `nearest`, `linear` and user methods (whose stencil is unknown) read none.
    """
    fn = InterpolationRegistry.get(method) if isinstance(method, str) else method
    return int(is_built_in(fn) and fn not in (_nearest, _linear))
