"""`Initializer` and the helpers that turn an init specification into an array.

An initializer is a small callable object: `init(shape, dtype=None) -> array of that shape`.
It holds only its hyper-parameters (and, for random ones, where its randomness comes from), so
it can be built once and called for many shapes. Anything that accepts an initializer also
accepts a plain function of the shape or a ready-made array; `param` is the one place that
turns any of these into an array.

Invariants:
- an initializer returns exactly the shape it is asked for, in `dtype` (default
  `brainstate.environ.dftype()`);
- random initializers draw from `brainstate.random` (the default stream, or their own
  `RandomState` when built with a `seed`), so `brainstate.random.seed(n)` reproduces them;
- `unit` (optional, needs the `brainunit` package) multiplies the result by a physical unit.
"""

import math
from typing import Any, Callable, Optional, Sequence, Tuple, Union

import jax
import jax.numpy as jnp
import numpy as np

from ... import environ, random
from ..._state import State
from .._units import attach, is_quantity, split

__all__ = ["Initializer", "param", "to_size", "are_broadcastable_shapes", "calculate_init_gain"]

Shape = Union[int, Sequence[int]]


def to_size(x: Any) -> Optional[Tuple[int, ...]]:
    """Normalise a size to a tuple of ints: `3 -> (3,)`, `[2, 3] -> (2, 3)`, `None -> None`.

    Raises:
      TypeError: `x` is not None, an int or a sequence of ints.

    Example:
      >>> from brainstate.nn import init
      >>> init.to_size(3), init.to_size([2, 3]), init.to_size(None)
      ((3,), (2, 3), None)
    """
    if x is None:
        return None
    if isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_)):
        return (int(x),)
    if isinstance(x, (tuple, list)) and all(
            isinstance(s, (int, np.integer)) and not isinstance(s, (bool, np.bool_)) for s in x):
        return tuple(int(s) for s in x)
    raise TypeError(f"to_size: a size must be an int, a sequence of ints or None, got {x!r}. "
                    f"For example 10 or (28, 28).")


def are_broadcastable_shapes(shape1: Sequence[int], shape2: Sequence[int]) -> bool:
    """Whether two shapes broadcast together under NumPy's rules.

    Example:
      >>> from brainstate.nn import init
      >>> init.are_broadcastable_shapes((3, 1), (1, 4)), init.are_broadcastable_shapes((3,), (4,))
      (True, False)
    """
    try:
        np.broadcast_shapes(tuple(shape1), tuple(shape2))
    except ValueError:
        return False
    return True


_LINEAR_GAIN = ("linear", "identity", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                "conv_transpose2d", "conv_transpose3d", "sigmoid")


def calculate_init_gain(nonlinearity: str, param: Optional[Any] = None) -> float:
    """The recommended weight-scale gain for a nonlinearity.

    `linear`, `identity`, `conv*`, `sigmoid`: 1; `tanh`: 5/3; `relu`: sqrt(2);
    `leaky_relu`: sqrt(2 / (1 + slope**2)) with `param` the negative slope (default 0.01);
    `selu`: 3/4.

    Raises:
      ValueError: unknown nonlinearity, or a `param` that is not a number.

    Example:
      >>> from brainstate.nn import init
      >>> round(init.calculate_init_gain('relu'), 4)
      1.4142
    """
    if nonlinearity in _LINEAR_GAIN:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "selu":
        return 3.0 / 4.0
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float, np.number)) and not isinstance(param, bool):
            slope = float(param)
        else:
            raise ValueError(f"calculate_init_gain: param (the leaky_relu negative slope) must be a "
                             f"number, got {param!r}.")
        return math.sqrt(2.0 / (1.0 + slope ** 2))
    raise ValueError(f"calculate_init_gain: unsupported nonlinearity {nonlinearity!r}. Use one of "
                     f"{sorted(_LINEAR_GAIN + ('tanh', 'relu', 'leaky_relu', 'selu'))}.")


def _stream(seed: Any, owner: str) -> Optional[random.RandomState]:
    """The stream an initializer owns: None (use the default stream), or a `RandomState`."""
    if seed is None or isinstance(seed, random.RandomState):
        return seed
    try:
        return random.RandomState(seed)
    except TypeError as err:
        raise TypeError(f"{owner}: seed must be None, an int, a JAX key or a "
                        f"brainstate.random.RandomState, got {seed!r}.") from err


def _with_unit(value: jax.Array, unit: Any) -> Any:
    """`value` times `unit`; no unit (None or dimensionless 1) leaves `value` a plain array."""
    if unit is None:
        return value
    import brainunit as u  # optional dependency: only needed when a unit is given

    if isinstance(unit, u.Unit) and unit.is_unitless and unit.factor == 1:
        return value
    return value * unit


class Initializer:
    """Base class of initializers: `init(shape, dtype=None, **kwargs) -> array`.

    Subclasses implement `__call__`. The repr shows the public attributes set in `__init__`
    (leaving out `seed` and `unit` when they are None), e.g. `Normal(mean=0.0, scale=1.0)`.

    Example:
      >>> import jax.numpy as jnp
      >>> from brainstate.nn import init
      >>> class Twos(init.Initializer):
      ...     def __call__(self, shape, dtype=None, **kwargs):
      ...         return jnp.full(shape, 2.0, dtype=dtype)
      >>> Twos()((2, 2)).tolist()
      [[2.0, 2.0], [2.0, 2.0]]
      >>> Twos()
      Twos()
    """

    def __call__(self, shape: Shape, dtype: Any = None, **kwargs: Any) -> jax.Array:
        raise NotImplementedError(f"{type(self).__name__} does not implement __call__(shape, dtype=None).")

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items()
                           if not k.startswith("_") and not (k in ("seed", "unit") and v is None))
        return f"{type(self).__name__}({fields})"

    # -- helpers for subclasses ----------------------------------------------------------------
    def _shape(self, shape: Shape) -> Tuple[int, ...]:
        try:
            return to_size(shape) or ()
        except TypeError:
            raise TypeError(f"{type(self).__name__}: shape must be an int or a sequence of ints, got "
                            f"{shape!r}.") from None

    def _rng(self) -> random.RandomState:
        own = getattr(self, "_own_rng", None)
        return random.DEFAULT if own is None else own


def _dtype(dtype: Any) -> Any:
    return environ.dftype() if dtype is None else dtype


def _is_scalar(x: Any) -> bool:
    return isinstance(x, (int, float, complex, np.number, np.bool_, bool)) or (
        hasattr(x, "shape") and hasattr(x, "dtype") and np.ndim(x) == 0)


def param(parameter: Union[Callable, Any, State], sizes: Shape, batch_size: Optional[int] = None,
          allow_none: bool = True, allow_scalar: bool = True) -> Any:
    """Turn an init specification into a value of shape `sizes` (plus a leading batch axis).

    - `None`: returned as None when `allow_none`, else an error.
    - a scalar: returned unchanged when `allow_scalar` (it broadcasts wherever it is used);
      otherwise filled into an array of the full shape.
    - an initializer or any function of the shape: called with `sizes`, or with
      `(batch_size, *sizes)` when `batch_size` is given.
    - an array: must broadcast to `sizes`; returned as is, or with `batch_size` given, expanded
      to `len(sizes)` dimensions and repeated along a new leading axis.
    - a `State`: its value must broadcast to `sizes`; the state itself is returned.
    - an `nn.Param`: its (constrained) value must broadcast to `sizes`; the Param itself is
      returned, so the caller keeps its constraint and prior.

    Values with physical units (`brainunit.Quantity`, e.g. `jnp.ones(3) * u.mV`) keep them.

    Raises:
      ValueError: None while `allow_none=False`, or a value whose shape does not fit `sizes`.
      TypeError: anything else.

    Example:
      >>> from brainstate.nn import init
      >>> init.param(init.ZeroInit(), (3, 4), batch_size=2).shape
      (2, 3, 4)
    """
    sizes = to_size(sizes) or ()
    if batch_size is not None and (not isinstance(batch_size, (int, np.integer)) or batch_size < 1):
        raise ValueError(f"param: batch_size must be a positive int or None, got {batch_size!r}.")
    full = sizes if batch_size is None else (int(batch_size),) + sizes
    if parameter is None:
        if allow_none:
            return None
        raise ValueError(f"param: got None for a parameter of shape {sizes} that is required "
                         f"(allow_none=False). Pass an initializer, a function of the shape or an array.")
    if isinstance(parameter, State):
        _check_fits(jnp.shape(split(parameter.value)[0]), sizes)
        return parameter
    from .._param import Param  # imported on use: `_param` is built on top of this package

    if isinstance(parameter, Param):
        _check_fits(jnp.shape(split(parameter.value())[0]), sizes)
        return parameter
    if callable(parameter) and not is_quantity(parameter):
        # Units (a `brainunit.Quantity`) are kept: the numbers are checked, the unit re-attached.
        mant, unit = split(parameter(full))
        mant = jnp.asarray(mant)
        _check_fits(mant.shape, full, f" (returned by {parameter!r})")
        return attach(mant, unit)
    if _is_scalar(parameter):
        if allow_scalar:
            return parameter
        mant, unit = split(parameter)
        return attach(jnp.full(full, mant, dtype=jnp.result_type(mant)), unit)
    if not hasattr(parameter, "shape"):
        raise TypeError(f"param: expected an initializer, a function of the shape, an array, a State or "
                        f"None, got {type(parameter).__name__} {parameter!r}.")
    mant, unit = split(parameter)
    mant = mant if isinstance(mant, jax.Array) else jnp.asarray(mant)
    _check_fits(mant.shape, sizes)
    if batch_size is not None:
        mant = mant.reshape((1,) * (len(sizes) - mant.ndim) + mant.shape)
        mant = jnp.broadcast_to(mant, (int(batch_size),) + mant.shape)
    return parameter if mant is parameter else attach(mant, unit)


def _check_fits(shape: Tuple[int, ...], sizes: Tuple[int, ...], where: str = "") -> None:
    if len(shape) > len(sizes) or not are_broadcastable_shapes(shape, sizes) or \
            np.broadcast_shapes(shape, sizes) != tuple(sizes):
        raise ValueError(f"param: a value of shape {tuple(shape)}{where} does not fit the parameter "
                         f"shape {tuple(sizes)}; its shape must equal or broadcast to {tuple(sizes)}.")


# `State.init` (in the state layer, below nn) builds its value with `param`.
from ..._state import _state as _state_module  # noqa: E402

_state_module.param_init = param
