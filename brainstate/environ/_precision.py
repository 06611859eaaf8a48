"""The numerical precision setting and the default dtypes it implies.

`precision` is an ordinary setting (8, 16, 32, 64 or 'bf16'; 32 unless set), read through
`get`, so a compiled function that asked for `dftype()` while tracing is keyed on it. Setting it
to 64 turns on JAX's 64-bit mode (process-wide with `set_precision`, inside the block with
`context(precision=64)`).
"""

from typing import Optional

import jax.numpy as jnp
import numpy as np

from ._settings import DEFAULT_PRECISION, PRECISION, EnvironmentState, get, set

__all__ = ["get_precision", "set_precision", "dftype", "ditype", "dutype", "dctype", "tolerance"]


def get_precision(*, env: Optional[EnvironmentState] = None):
    """The numerical precision: 8, 16, 32, 64 or `'bf16'`.

    Args:
      env: the settings store to use; default the process-wide one.

    Returns:
      The current precision (32 unless set).

    Example:
      >>> import brainstate
      >>> with brainstate.environ.context(precision=16):
      ...     brainstate.environ.get_precision()
      16
    """
    return get(PRECISION, DEFAULT_PRECISION, env=env)


def set_precision(precision, *, env: Optional[EnvironmentState] = None) -> None:
    """Set the default precision process-wide; 64 turns on JAX's 64-bit mode.

    Args:
      precision: 8, 16, 32, 64 or `'bf16'`.
      env: the settings store to use; default the process-wide one.

    Raises:
      ValueError: for an unsupported precision.

    Example:
      >>> from brainstate import environ
      >>> store = environ.EnvironmentState()
      >>> environ.set_precision(16, env=store)
      >>> environ.get_precision(env=store), environ.dftype(env=store).__name__
      (16, 'float16')
    """
    set(precision=precision, env=env)


def dftype(*, env: Optional[EnvironmentState] = None):
    """The default float dtype for the current precision.

    Args:
      env: the settings store to use; default the process-wide one.

    Returns:
      A NumPy dtype class: `float64`, `float32`, `float16` (for 16 and 8) or `bfloat16`.

    Example:
      >>> import brainstate
      >>> brainstate.environ.dftype().__name__
      'float32'
      >>> with brainstate.environ.context(precision=64):
      ...     brainstate.environ.dftype().__name__
      'float64'
    """
    p = get_precision(env=env)
    return {64: np.float64, 32: np.float32, 16: np.float16, 8: np.float16, "bf16": jnp.bfloat16}[p]


def ditype(*, env: Optional[EnvironmentState] = None):
    """The default signed integer dtype for the current precision.

    Args:
      env: the settings store to use; default the process-wide one.

    Returns:
      A NumPy dtype class: `int64`, `int32`, `int16` or `int8`.

    Example:
      >>> import brainstate
      >>> brainstate.environ.ditype().__name__
      'int32'
      >>> with brainstate.environ.context(precision=64):
      ...     brainstate.environ.ditype().__name__
      'int64'
    """
    p = get_precision(env=env)
    return {64: np.int64, 32: np.int32, 16: np.int16, 8: np.int8, "bf16": np.int16}[p]


def dutype(*, env: Optional[EnvironmentState] = None):
    """The default unsigned integer dtype for the current precision.

    Args:
      env: the settings store to use; default the process-wide one.

    Returns:
      A NumPy dtype class: `uint64`, `uint32`, `uint16` or `uint8`.

    Example:
      >>> import brainstate
      >>> brainstate.environ.dutype().__name__
      'uint32'
      >>> with brainstate.environ.context(precision=64):
      ...     brainstate.environ.dutype().__name__
      'uint64'
    """
    p = get_precision(env=env)
    return {64: np.uint64, 32: np.uint32, 16: np.uint16, 8: np.uint8, "bf16": np.uint16}[p]


def dctype(*, env: Optional[EnvironmentState] = None):
    """The default complex dtype for the current precision.

    Args:
      env: the settings store to use; default the process-wide one.

    Returns:
      A NumPy dtype class: `complex128` at precision 64, else `complex64`.

    Example:
      >>> import brainstate
      >>> brainstate.environ.dctype().__name__
      'complex64'
      >>> with brainstate.environ.context(precision=64):
      ...     brainstate.environ.dctype().__name__
      'complex128'
    """
    return np.complex128 if get_precision(env=env) == 64 else np.complex64


def tolerance(*, env: Optional[EnvironmentState] = None) -> np.ndarray:
    """A comparison tolerance suited to the current precision.

    Args:
      env: the settings store to use; default the process-wide one.

    Returns:
      A 0-d array in the default float dtype: 1e-12 at precision 64, 1e-5 at 32, 1e-2 below.

    Example:
      >>> import brainstate
      >>> round(float(brainstate.environ.tolerance()), 10)
      1e-05
    """
    p = get_precision(env=env)
    return np.array({64: 1e-12, 32: 1e-5}.get(p, 1e-2), dtype=dftype(env=env))
