"""State-aware `checkify`: functional runtime checks for functions that read and write states.

`checkify(fun)` is the engine recipe with `jax.experimental.checkify.checkify` as the JAX
transform: the pure function `(state_values, *args) -> (written_values, out)` is checkified, the
written values are stored back exactly as an unchecked call would, and the caller receives
`(error, out)`. The checks themselves (`check`, `check_error`) and the error sets (`user_checks`,
`nan_checks`, ...) are JAX's; they are re-exported here so users need one import.
"""

from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import checkify as _cfy

from ._stateful import StatefulFunction

__all__ = ["checkify", "check", "check_error", "all_checks", "automatic_checks", "div_checks",
           "float_checks", "index_checks", "nan_checks", "user_checks"]

all_checks = _cfy.all_checks
automatic_checks = _cfy.automatic_checks
div_checks = _cfy.div_checks
float_checks = _cfy.float_checks
index_checks = _cfy.index_checks
nan_checks = _cfy.nan_checks
user_checks = _cfy.user_checks


def checkify(fun: Callable, errors: Any = user_checks) -> Callable:
    """Functionalize the checks of a stateful function: it returns `(error, out)`.

    Args:
      fun: the function; it may read and write states and call `check`.
      errors: the set of checks to enable (`user_checks`, `nan_checks`, `index_checks`,
        `div_checks`, `float_checks`, `automatic_checks`, `all_checks`, or a union of them).

    Returns:
      A function with `fun`'s arguments returning `(error, out)`. States written by `fun` are
      updated as by an unchecked call. `error.get()` is the message of the first failed check
      (or None); `check_error(error)` raises it.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> total = brainstate.State(jnp.array(0.))
      >>> def add(x):
      ...     brainstate.transform.check(x >= 0, "x must be non-negative, got {x}", x=x)
      ...     total.value += x
      ...     return total.value
      >>> err, out = brainstate.transform.checkify(add)(-1.0)
      >>> err.get()
      'x must be non-negative, got -1.0 (`check` failed)'
      >>> float(total.value)
      -1.0
    """
    if not callable(fun):
        raise TypeError(f"checkify expects a callable, got {type(fun).__name__}: {fun!r}.")
    stateful = StatefulFunction(fun, name=getattr(fun, "__name__", None))

    def checked(*args, **kwargs):
        errors_out = []

        def jax_call(pure, values, found):
            error, (written, out) = _cfy.checkify(pure, errors=errors)(values, *args, **kwargs)
            errors_out.append(error)
            return written, out

        out = stateful.call(jax_call, args, kwargs)
        return errors_out[-1], out

    checked.__name__ = f"checkify({stateful.name})"
    checked.__doc__ = getattr(fun, "__doc__", None)
    return checked


def check(pred, msg: str, *fmt_args, debug: bool = False, **fmt_kwargs) -> None:
    """Check that `pred` is true; otherwise fail with `msg.format(*fmt_args, **fmt_kwargs)`.

    Eagerly a failed check raises at once. Under `checkify` the failure becomes the returned
    error; under `jit` without `checkify`, a non-debug check cannot be compiled (functionalize
    it with `checkify`), while `debug=True` checks are simply dropped there. Python numbers
    among the format arguments are accepted (they are converted to arrays).
    """
    fmt_args, fmt_kwargs = jax.tree_util.tree_map(
        lambda a: a if isinstance(a, (jax.Array, np.ndarray)) else jnp.asarray(a), (fmt_args, fmt_kwargs))
    _cfy.check(pred, msg, *fmt_args, debug=debug, **fmt_kwargs)


def check_error(error: "_cfy.Error") -> None:
    """Raise the failure carried by `error` (a checkify `Error`), if there is one."""
    _cfy.check_error(error)
