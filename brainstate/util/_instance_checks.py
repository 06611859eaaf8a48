"""`is_instance_eval` / `not_instance_eval`: `isinstance` checks as reusable predicates.

Handy wherever a one-argument predicate is expected (`DictManager.subset`, `jax.tree` `is_leaf`).
"""

from typing import Any, Callable, Type

__all__ = ["is_instance_eval", "not_instance_eval"]


def is_instance_eval(*cls: Type) -> Callable[[Any], bool]:
    """A predicate `x -> isinstance(x, cls)`.

    Example:
      >>> from brainstate.util import is_instance_eval
      >>> is_number = is_instance_eval(int, float)
      >>> is_number(1), is_number('1')
      (True, False)
    """
    return lambda x: isinstance(x, cls)


def not_instance_eval(*cls: Type) -> Callable[[Any], bool]:
    """A predicate `x -> not isinstance(x, cls)`."""
    return lambda x: not isinstance(x, cls)
