"""Calling one method on every module of a model: `init_all_states`, `reset_all_states`.

Each module is called once (shared sub-modules too). The order is: first every module whose
method carries no `call_order` mark, children before parents (post-order over the sorted
graph walk); then the marked ones by ascending level, ties again children first. So a parent's
`init_state` can rely on its children's states unless it asks otherwise.
"""

import warnings
from typing import Any, Callable, List, Mapping, Optional, Sequence, Tuple, TypeVar

from .. import graph
from ..util._filters import to_predicate
from ._module import Module

__all__ = ["call_order", "call_all_fns", "init_all_states", "reset_all_states", "MAX_ORDER"]

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])
MAX_ORDER = 10


def call_order(level: int = 0, check_order_boundary: bool = True) -> Callable[[F], F]:
    """Mark a method so collective calls run it after all unmarked ones, lower levels first.

    Args:
      level: the ordering level; lower runs earlier.
      check_order_boundary: require `0 <= level < MAX_ORDER`.

    Raises:
      ValueError: if the level is out of range and `check_order_boundary` is set.

    Example:
      >>> import brainstate
      >>> class Readout(brainstate.nn.Module):
      ...     @brainstate.nn.call_order(1)
      ...     def reset_state(self):
      ...         pass  # runs after every unmarked reset_state
    """
    if check_order_boundary and not (isinstance(level, int) and 0 <= level < MAX_ORDER):
        raise ValueError(
            f"call_order: level must be an integer in [0, {MAX_ORDER}), got {level!r}. Use a level "
            f"in range, or pass check_order_boundary=False to allow any level.")

    def mark(fn: F) -> F:
        setattr(fn, "call_order", level)  # read back with getattr by call_all_fns
        return fn

    return mark


def call_all_fns(target: T, fn_name: str, args: Sequence[Any] = (), kwargs: Optional[Mapping[str, Any]] = None,
                 node_to_exclude: Any = None, fn_if_not_exist: str = "raise") -> T:
    """Call `fn_name(*args, **kwargs)` on every Module in `target`, in collective order.

    Args:
      target: the model (its root is included if it is a Module).
      fn_name: the method name.
      args, kwargs: passed to every call; `args` a tuple of positional arguments, anything
        else one argument (`call_all_fns(net, 'reset_state', 8)`).
      node_to_exclude: a filter; matching modules are skipped.
      fn_if_not_exist: `'raise'`, `'pass'`/`'none'` (skip) or `'warn'` for modules lacking it.

    Returns:
      `target`.

    Raises:
      ValueError: for an unknown `fn_if_not_exist`.
      AttributeError: if a module lacks the method and `fn_if_not_exist='raise'`.

    Example:
      >>> import brainstate
      >>> class Greeter(brainstate.nn.Module):
      ...     def greet(self, who):
      ...         print("hello", who)
      >>> _ = brainstate.nn.call_all_fns(Greeter(), "greet", ("world",))
      hello world
    """
    if fn_if_not_exist not in ("raise", "pass", "none", "warn"):
        raise ValueError(
            f"call_all_fns: fn_if_not_exist must be 'raise', 'pass', 'none' or 'warn', got "
            f"{fn_if_not_exist!r}.")
    kwargs = dict(kwargs or {})
    if not isinstance(args, tuple):
        args = (args,)  # one argument given bare (a list too is one argument), as the reference reads it
    items = list(graph.nodes(target, Module).items())  # children before parents
    if node_to_exclude is not None:
        excluded = to_predicate(node_to_exclude)
        items = [(p, m) for p, m in items if not excluded(p, m)]
    unmarked: List[Tuple[Any, Callable]] = []
    marked: List[Tuple[Any, Callable]] = []
    for path, module in items:
        fn = getattr(module, fn_name, None)
        if fn is None:
            if fn_if_not_exist == "raise":
                raise AttributeError(
                    f"call_all_fns: the {type(module).__name__} at path {path} has no method "
                    f"{fn_name!r}. Define it, exclude the module with node_to_exclude, or pass "
                    f"fn_if_not_exist='pass'.")
            if fn_if_not_exist == "warn":
                warnings.warn(f"call_all_fns: skipping {type(module).__name__} at path {path}: no method {fn_name!r}.")
            continue
        level = getattr(fn, "call_order", None)
        (unmarked if level is None else marked).append((level, fn))
    marked.sort(key=lambda lf: lf[0])  # stable: equal levels keep children-first order
    for _, fn in unmarked + marked:
        fn(*args, **kwargs)
    return target


def init_all_states(target: T, *init_args: Any, node_to_exclude: Any = None, **init_kwargs: Any) -> T:
    """Call `init_state(*init_args, **init_kwargs)` on every Module in `target`; return it.

    Example:
      >>> import brainstate
      >>> model = brainstate.nn.init_all_states(brainstate.nn.Linear(2, 3))
    """
    return call_all_fns(target, "init_state", init_args, init_kwargs, node_to_exclude)


def reset_all_states(target: T, *reset_args: Any, node_to_exclude: Any = None, **reset_kwargs: Any) -> T:
    """Call `reset_state(*reset_args, **reset_kwargs)` on every Module in `target`; return it.

    Args:
      target: the model.
      *reset_args, **reset_kwargs: passed to every `reset_state` (a batch size, say).
      node_to_exclude: a filter; matching modules are skipped.

    Returns:
      `target`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> class Cell(brainstate.nn.Module):
      ...     def __init__(self):
      ...         super().__init__()
      ...         self.h = brainstate.HiddenState(jnp.ones(2))
      ...     def reset_state(self):
      ...         self.h.value = jnp.zeros(2)
      >>> brainstate.nn.reset_all_states(Cell()).h.value.tolist()
      [0.0, 0.0]
    """
    return call_all_fns(target, "reset_state", reset_args, reset_kwargs, node_to_exclude)


def assign_state_values(target, *state_by_abs_path):
    """Write values into `target`'s states by path; return `(unexpected_keys, missing_keys)`.

    Args:
      target: a module.
      *state_by_abs_path: dicts `{path tuple: value}` (as `module.states()` keys them); later
        dicts override earlier ones.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> layer = brainstate.nn.Linear(2, 1)
      >>> new = {('weight',): {'weight': jnp.zeros((2, 1)), 'bias': jnp.ones(1)}}
      >>> brainstate.nn.assign_state_values(layer, new)
      ([], [])
    """
    values = {}
    for mapping in state_by_abs_path:
        values.update(mapping)
    states = target.states()
    unexpected = [k for k in values if k not in states]
    missing = [k for k in states if k not in values]
    for key, value in values.items():
        if key in states:
            states[key].value = value
    return unexpected, missing
