"""Switches for the two write checks, per thread and per block.

Both checks are on by default ([better] than the reference release, where they are opt-in):
- the value-tree check: a write must keep the state's tree structure, shapes and dtypes;
- the tracer check: a tracer may only be written while a state-aware transform is tracing.
`check_state_value_tree(False)` / `check_state_jax_tracer(False)` turn one off inside a block
(for code that reshapes states freely, or deliberately stores tracers).
"""

import contextlib
import threading

__all__ = ["check_state_value_tree", "check_state_jax_tracer", "tree_check_on", "tracer_check_on"]

_local = threading.local()


def tree_check_on() -> bool:
    return getattr(_local, "tree", True)


def tracer_check_on() -> bool:
    return getattr(_local, "tracer", True)


@contextlib.contextmanager
def check_state_value_tree(val: bool = True):
    """Turn the value-tree write check on (default) or off inside the block.

    With the check off, a write may change the state's structure, shapes or dtypes, exactly like
    `restore_value`.
    """
    old = tree_check_on()
    _local.tree = bool(val)
    try:
        yield
    finally:
        _local.tree = old


@contextlib.contextmanager
def check_state_jax_tracer(val: bool = True):
    """Turn the tracer write check on (default) or off inside the block."""
    old = tracer_check_on()
    _local.tracer = bool(val)
    try:
        yield
    finally:
        _local.tracer = old
