"""Argument checks shared by every draw: keys, `size`, dtypes and distribution parameters.

Every public draw validates its arguments here before it touches the key, so a rejected call
never advances the stream. Parameter checks run only on concrete values: inside a trace the
values are tracers whose contents are unknown until run time, and the check is skipped.

Invariants:
- a key is always a typed JAX key (`jax.random.key`, dtype `key<fry>`), as JAX and the
  reference make them; raw `uint32[2]` key data is accepted on input and wrapped bit for bit;
- every message names the function and the argument, says what was expected, and what came.
"""

import functools
import operator
from typing import Any, Callable, Optional, Sequence, Tuple, Union

import jax
import jax.numpy as jnp
import numpy as np

from .. import environ

__all__ = [
    "Size", "SeedOrKey", "key_shape", "is_typed_key", "is_key_data", "to_key", "as_size", "result_shape",
    "float_dtype", "int_dtype", "as_arrays", "has_tracer", "require", "nonnegative", "positive",
    "probability", "ordered", "as_positive_int",
]

Size = Union[int, Sequence[int], None]
SeedOrKey = Union[int, jax.Array, np.ndarray]

_SEED_MODULUS = 2 ** 32


@functools.lru_cache(maxsize=None)
def key_shape() -> Tuple[int, ...]:
    """Shape of one key's raw data under JAX's default PRNG implementation (`(2,)` for threefry)."""
    return tuple(jax.eval_shape(lambda: jax.random.key_data(jax.random.key(0))).shape)


def _describe(x: Any) -> str:
    """Short text for a rejected value: `float32[3]`, `'abc'`, `3.5`."""
    shape, dtype = getattr(x, "shape", None), getattr(x, "dtype", None)
    if shape is not None and dtype is not None:
        return f"{type(x).__name__} {dtype}[{','.join(map(str, shape))}]"
    return repr(x) if len(repr(x)) < 60 else type(x).__name__


def is_typed_key(x: Any) -> bool:
    """Whether `x` is a typed JAX key array (`jax.random.key`), of any shape."""
    dtype = getattr(x, "dtype", None)
    return dtype is not None and jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key)


def is_key_data(x: Any) -> bool:
    """Whether `x` looks like raw key data: a uint32 array of the default key shape."""
    return getattr(x, "dtype", None) == np.uint32 and tuple(getattr(x, "shape", ())) == key_shape()


def to_key(seed_or_key: Any, arg: str = "seed_or_key", batch: bool = False) -> jax.Array:
    """Turn an integer seed, a typed JAX key or raw key data into a typed key (`key<fry>[]`).

    Integer seeds are reduced modulo 2**32 (as JAX does without 64-bit mode), so a seed gives
    the same stream whether or not `jax_enable_x64` is on. Raw key data (`uint32[2]`, what
    `jax.random.PRNGKey` returns) is wrapped without changing its bits.

    Args:
      seed_or_key: the value to convert.
      arg: the argument's name, for the error message.
      batch: also accept an array of typed keys (one key per lane), kept as it is.

    Raises:
      TypeError: `seed_or_key` is none of the accepted forms.
    """
    if isinstance(seed_or_key, (bool, np.bool_)):
        raise TypeError(_key_error(arg, seed_or_key, batch=batch))
    if isinstance(seed_or_key, (int, np.integer)):
        return jax.random.key(int(seed_or_key) % _SEED_MODULUS)
    dtype = getattr(seed_or_key, "dtype", None)
    shape = tuple(getattr(seed_or_key, "shape", (None,)))
    if dtype is None:
        raise TypeError(_key_error(arg, seed_or_key, batch=batch))
    if is_typed_key(seed_or_key):
        if shape != () and not batch:
            raise TypeError(_key_error(arg, seed_or_key, "a single key, not an array of keys"))
        return seed_or_key
    if shape == key_shape() and dtype == np.uint32:
        return jax.random.wrap_key_data(jnp.asarray(seed_or_key))
    if shape == () and jnp.issubdtype(dtype, jnp.integer):
        if isinstance(seed_or_key, jax.core.Tracer):  # a seed chosen inside a compiled function
            return jax.random.key(seed_or_key)
        return jax.random.key(int(seed_or_key) % _SEED_MODULUS)
    raise TypeError(_key_error(arg, seed_or_key, batch=batch))


def _key_error(arg: str, value: Any, detail: str = "", batch: bool = False) -> str:
    raw = f"uint32[{','.join(map(str, key_shape()))}]"
    typed = "a JAX key or array of keys" if batch else "a JAX key"
    return (f"`{arg}` must be an integer seed, {typed} (`jax.random.key(seed)`) or raw key data "
            f"({raw}, as `jax.random.PRNGKey(seed)` returns){'; ' + detail if detail else ''}. "
            f"Got {_describe(value)}.")


def _dim(d: Any) -> Optional[int]:
    """`d` as a Python int if it is an integer scalar (an int, a NumPy integer, a concrete 0-d
    integer array as `x.shape[0] * 2` may give), else None (booleans included)."""
    if isinstance(d, (bool, np.bool_)) or getattr(getattr(d, "dtype", None), "kind", "i") not in "iu":
        return None
    try:
        return operator.index(d)
    except Exception:  # a float, a traced value, an array of several elements
        return None


def as_size(size: Any, fn: str) -> Optional[Tuple[int, ...]]:
    """Normalise NumPy's `size` argument: None, an int, or a tuple/list of ints.

    Integer scalars of any kind count as ints (NumPy integers, concrete 0-d integer arrays).

    Raises:
      TypeError: `size` has another type.
      ValueError: `size` has a negative entry.
    """
    if size is None:
        return None
    entries = size if isinstance(size, (tuple, list)) else (size,)
    shape = tuple(_dim(d) for d in entries)
    if None in shape:
        raise TypeError(
            f"{fn}: `size` must be None, an int or a tuple of ints (the output shape), got "
            f"{_describe(size)}. For example `size=(2, 3)`.")
    if any(d < 0 for d in shape):  # type: ignore[operator]
        raise ValueError(f"{fn}: `size` entries must be non-negative, got {shape}.")
    return shape  # type: ignore[return-value]


def result_shape(fn: str, size: Any, *params: Any) -> Tuple[int, ...]:
    """The output shape: `size` if given (the parameters must broadcast to it), else the
    broadcast shape of the parameters.

    Raises:
      ValueError: the parameters do not broadcast to each other or to `size`.
    """
    shape = as_size(size, fn)
    param_shapes = [np.shape(p) for p in params if p is not None]
    try:
        joint = np.broadcast_shapes(*param_shapes) if param_shapes else ()
        if shape is None:
            return tuple(joint)
        if np.broadcast_shapes(shape, joint) != shape:
            raise ValueError
    except ValueError:
        raise ValueError(
            f"{fn}: parameters of shapes {param_shapes} cannot be broadcast to "
            f"{'each other' if shape is None else f'size={shape}'}. Give parameters that broadcast "
            f"to the requested `size`, or leave `size=None` to use their broadcast shape.") from None
    return shape


def float_dtype(dtype: Any, fn: str) -> np.dtype:
    """The requested float dtype, or `brainstate.environ.dftype()` when None."""
    if dtype is None:
        return np.dtype(environ.dftype())
    dtype = jnp.dtype(dtype)
    if not jnp.issubdtype(dtype, jnp.floating):
        raise TypeError(f"{fn}: `dtype` must be a floating-point dtype, got {dtype}. "
                        f"Draw floats and cast the result if you need another type.")
    return dtype


def int_dtype(dtype: Any, fn: str) -> np.dtype:
    """The requested integer dtype, or `brainstate.environ.ditype()` when None."""
    if dtype is None:
        return np.dtype(environ.ditype())
    dtype = jnp.dtype(dtype)
    if not jnp.issubdtype(dtype, jnp.integer):
        raise TypeError(f"{fn}: `dtype` must be an integer dtype, got {dtype}.")
    return dtype


def as_arrays(*values: Any) -> Tuple[Any, ...]:
    """Lists and tuples become arrays (NumPy ones while concrete); everything else is kept."""
    def convert(x):
        if not isinstance(x, (list, tuple)):
            return x
        return jnp.asarray(x) if has_tracer(x) else np.asarray(x)
    return tuple(convert(x) for x in values)


def has_tracer(value: Any) -> bool:
    """Whether any leaf of `value` is a JAX tracer (its contents unknown until run time)."""
    return any(isinstance(x, jax.core.Tracer) for x in jax.tree_util.tree_leaves(value))


def require(fn: str, arg: str, value: Any, ok: Callable[[np.ndarray], Any], what: str) -> None:
    """Raise a ValueError naming `arg` unless `ok(value)` holds for every element.

    Skipped when `value` is None or traced. NaN fails every check.
    """
    if value is None or has_tracer(value):
        return
    arr = np.asarray(value)
    with np.errstate(invalid="ignore"):
        good = np.asarray(ok(arr), dtype=bool)
    if not good.all():
        shown = (arr if arr.size <= 6 else
                 f"an array of shape {arr.shape} with {good.size - good.sum()} bad entries")
        raise ValueError(f"{fn}: `{arg}` must be {what}, got {shown}.")


def nonnegative(fn: str, arg: str, value: Any) -> None:
    """`value >= 0` everywhere (scales, rates, counts)."""
    require(fn, arg, value, lambda a: a >= 0, "non-negative (>= 0)")


def positive(fn: str, arg: str, value: Any) -> None:
    """`value > 0` everywhere (shapes, degrees of freedom)."""
    require(fn, arg, value, lambda a: a > 0, "positive (> 0)")


def probability(fn: str, arg: str, value: Any, low_open: bool = False, high_open: bool = False) -> None:
    """`value` in [0, 1], with either end excluded on request."""
    interval = f"{'(' if low_open else '['}0, 1{')' if high_open else ']'}"
    require(fn, arg, value,
            lambda a: ((a > 0) if low_open else (a >= 0)) & ((a < 1) if high_open else (a <= 1)),
            f"a probability in {interval}")


def ordered(fn: str, strict: bool, **values: Any) -> None:
    """The named values are increasing (`strict`) or non-decreasing, element by element.

    Skipped when any of them is traced.
    """
    if has_tracer(list(values.values())):
        return
    names = list(values)
    for lo, hi in zip(names, names[1:]):
        a, b = np.asarray(values[lo]), np.asarray(values[hi])
        with np.errstate(invalid="ignore"):
            good = np.all(a < b) if strict else np.all(a <= b)
        if not good:
            relation = "below" if strict else "at most"
            raise ValueError(f"{fn}: `{lo}` must be {relation} `{hi}`, got {lo}={a}, {hi}={b}.")


def as_positive_int(fn: str, arg: str, value: Any) -> int:
    """A concrete Python int >= 1 (array shapes and counts that fix the output shape)."""
    try:
        n = operator.index(value)
    except TypeError:
        raise TypeError(f"{fn}: `{arg}` must be an integer, got {_describe(value)}.") from None
    if isinstance(value, (bool, np.bool_)) or n < 1:
        raise ValueError(f"{fn}: `{arg}` must be a positive integer, got {value!r}.")
    return n
