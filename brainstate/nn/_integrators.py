"""The exponential Euler step for `dx/dt = f(x, ...)` (optionally with noise).

Linearising `f` around the current `x`, `f(x + e) ~ f(x) + J e`, and solving the linear ODE
exactly over one step gives

    x_next = x + dt * phi(dt * J) * f(x),        phi(z) = (exp(z) - 1) / z,

which is exact for linear `f` (leaky membranes, exponential synapses) and stays stable for
stiff decays where forward Euler would overshoot. Only the *diagonal* of the Jacobian is used,
obtained with one `jax.jvp` along a vector of ones, so `f` must act element-wise in `x` (each
output element depends on the same element of `x`); this is the case for point-neuron and
synapse equations, where every element is one neuron.

With a diffusion function `g` (an SDE `dx = f dt + g dW`), the Euler-Maruyama noise term
`g(x) * sqrt(dt) * N(0, 1)` is added, drawn from `brainstate.random`.

Units: `x`, `f` and `dt` may be `brainunit` quantities; `dt * J` must be dimensionless.
"""

from typing import Any, Callable

import jax
import jax.numpy as jnp

from .. import environ
from ._units import attach, decimal, split

__all__ = ["exp_euler_step"]


def _exprel(z: jax.Array) -> jax.Array:
    """`(exp(z) - 1) / z`, equal to 1 at `z = 0` and smooth around it."""
    small = jnp.abs(z) < 1e-4
    safe = jnp.where(small, jnp.ones_like(z), z)
    return jnp.where(small, 1 + z / 2 + z * z / 6, jnp.expm1(safe) / safe)


def exp_euler_step(fn: Callable, *args: Any, **kwargs: Any) -> Any:
    """One exponential Euler step of `dx/dt = fn(x, *rest, **kwargs)` over `environ` `dt`.

    Call as `exp_euler_step(f, x, *rest, **kwargs)` for an ODE, or
    `exp_euler_step(f, g, x, *rest, **kwargs)` for an SDE whose diffusion is `g(x, *rest, **kwargs)`.

    Args:
      fn: the drift `f(x, *rest, **kwargs)`, element-wise in `x`.
      *args: optionally the diffusion function first, then the state `x` (a float array or
        Quantity), then any further arguments of `fn`.
      **kwargs: keyword arguments of `fn` (and of the diffusion function).

    Returns:
      `x` after one step of length `brainstate.environ.get_dt()`, with the shape, dtype and
      unit of `x`.

    Raises:
      TypeError: if `fn` (or the diffusion) is not callable, or no state is given.
      ValueError: if `x` is not a floating-point array.
      KeyError: if `dt` is not set in `brainstate.environ`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> with brainstate.environ.context(dt=0.1):
      ...     x = brainstate.nn.exp_euler_step(lambda x: -x / 2.0, jnp.ones(2))
      >>> [round(v, 6) for v in x.tolist()] == [round(float(jnp.exp(-0.05)), 6)] * 2
      True
    """
    if not callable(fn):
        raise TypeError(f"exp_euler_step: fn must be the drift function f(x, ...), got {type(fn).__name__}.")
    diffusion = None
    if args and callable(args[0]) and not hasattr(args[0], "shape"):
        diffusion, args = args[0], args[1:]
    if not args:
        raise TypeError(
            "exp_euler_step needs the state after the function(s): exp_euler_step(f, x, *args) or "
            "exp_euler_step(f, g, x, *args).")
    x, rest = args[0], args[1:]
    x_m, x_unit = split(x)
    x_m = jnp.asarray(x_m)
    if not jnp.issubdtype(x_m.dtype, jnp.floating):
        raise ValueError(
            f"exp_euler_step: the state x must be a floating-point array, got dtype {x_m.dtype}. "
            f"Cast it first, e.g. x.astype(float).")
    dt = environ.get_dt()
    (f_m, f_unit), jac_m = _value_and_diag(fn, x_m, x_unit, rest, kwargs)
    f_val = attach(f_m, f_unit)
    # dt * J must be dimensionless: J has the unit of f over the unit of x.
    jac = attach(jac_m, f_unit) / attach(1.0, x_unit)
    z = jnp.asarray(decimal(dt * jac, "exp_euler_step", "dt * df/dx"), x_m.dtype)
    x_next = x + dt * _exprel(z) * f_val
    if diffusion is not None:
        from .. import random

        noise = random.randn(*x_m.shape).astype(x_m.dtype)
        x_next = x_next + diffusion(x, *rest, **kwargs) * dt ** 0.5 * noise
    return x_next


def _value_and_diag(fn, x_m, x_unit, rest, kwargs):
    """`(f(x) mantissa, unit of f)` and the diagonal of df/dx (mantissa), from one `jax.jvp`."""
    units = []

    def f(m):
        value, unit = split(fn(attach(m, x_unit), *rest, **kwargs))
        units.append(unit)
        return jnp.asarray(value)

    value, diag = jax.jvp(f, (x_m,), (jnp.ones_like(x_m),))
    return (value, units[0]), diag
