"""Names in the compiled program: `named_call` and `named_scope`.

`named_call` only names: the body runs inline inside `jax.named_call`, so every equation it
stages carries the name in its name stack (and in HLO metadata, profiles and lowered text). It
does not trace the function separately, so state reads and writes are recorded by whatever
transform is running, exactly as without it.

`named_scope` names and compiles: it is `brainstate.transform.jit` of the function renamed to
`name` (the jaxpr shows a `jit` equation called `name`) with its body inside `jax.named_scope`.
States are threaded by `jit`. The static arguments may be given per call by a function of the
arguments; one compiled function is kept per static configuration.
"""

import functools
from typing import Callable, Dict, Optional, Sequence, Union

import jax

from ._jit import jit

__all__ = ["named_call", "named_scope"]


def named_call(fun: Optional[Callable] = None, *, name: Optional[str] = None) -> Callable:
    """Name everything `fun` computes, without compiling or changing how states are used.

    Usable as `@named_call`, `@named_call(name="block")` or `named_call(fun, name="block")`.

    Args:
      fun: the function to wrap; omitted, a decorator is returned.
      name: the name; defaults to `fun.__name__`.

    Example:
      >>> import brainstate, jax, jax.numpy as jnp
      >>> @brainstate.transform.named_call(name="block")
      ... def block(x):
      ...     return jnp.sin(x) * 2.0
      >>> jaxpr = jax.make_jaxpr(block)(1.0)
      >>> str(jaxpr.eqns[0].source_info.name_stack)
      'block'
    """
    if name is not None and not isinstance(name, str):
        raise TypeError(f"named_call needs `name` to be a string, got {type(name).__name__}: {name!r}.")

    def wrap(f: Callable) -> Callable:
        if not callable(f):
            raise TypeError(f"named_call expects a callable, got {type(f).__name__}: {f!r}.")
        scope = name if name is not None else getattr(f, "__name__", type(f).__name__)
        return jax.named_call(f, name=scope)

    return wrap if fun is None else wrap(fun)


def _as_tuple(value, kind) -> tuple:
    if value is None:
        return ()
    if isinstance(value, kind):
        return (value,)
    return tuple(value)


def named_scope(name: str, static_argnums: Union[int, Sequence[int], Callable, None] = None,
                static_argnames: Union[str, Sequence[str], Callable, None] = None) -> Callable[[Callable], Callable]:
    """Decorator: compile a (stateful) function with `jit` under the name `name`.

    Args:
      name: the name of the compiled computation and of its scope.
      static_argnums, static_argnames: as in `jit`, or a function `(*args, **kwargs) -> spec`
        computing them from each call's arguments. On a method, mark `self` (index 0) static.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> @brainstate.transform.named_scope("power", static_argnums=1)
      ... def power(x, n):
      ...     return x ** n
      >>> float(power(3.0, 2))
      9.0
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"named_scope needs a non-empty string name, got {type(name).__name__}: {name!r}.")

    def decorator(fn: Callable) -> Callable:
        if not callable(fn):
            raise TypeError(f"named_scope({name!r}) decorates a callable, got {type(fn).__name__}: {fn!r}.")

        def body(*args, **kwargs):
            with jax.named_scope(name):
                return fn(*args, **kwargs)

        body.__name__ = body.__qualname__ = name  # the compiled computation is called `name`
        compiled: Dict[tuple, Callable] = {}

        @functools.wraps(fn)
        def call(*args, **kwargs):
            nums = static_argnums(*args, **kwargs) if callable(static_argnums) else static_argnums
            names = static_argnames(*args, **kwargs) if callable(static_argnames) else static_argnames
            key = (tuple(i + len(args) if i < 0 else i for i in _as_tuple(nums, int)), _as_tuple(names, str))
            entry = compiled.get(key)
            if entry is None:
                entry = compiled[key] = jit(body, static_argnums=key[0], static_argnames=key[1])
            return entry(*args, **kwargs)

        return call

    return decorator
