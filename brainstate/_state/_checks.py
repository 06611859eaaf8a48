"""Switches for the two write checks, per thread and per block, and the (re)initialisation flag.

Both checks are on by default ([better] than the reference release, where they are opt-in):
- the value-tree check: a write must keep the state's tree structure, shapes and dtypes;
- the tracer check: a tracer may only be written while a state-aware transform is tracing.
`check_state_value_tree(False)` / `check_state_jax_tracer(False)` turn one off inside a block
(for code that reshapes states freely, or deliberately stores tracers).
"""

import contextlib
import threading

__all__ = ["check_state_value_tree", "check_state_jax_tracer", "tree_check_on", "tracer_check_on",
           "initialising", "initialisation"]

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


def initialising() -> bool:
    """True inside `init_state` / `reset_state` (and `init_all_states` / `reset_all_states`)."""
    return getattr(_local, "init", 0) > 0


@contextlib.contextmanager
def initialisation():
    """Mark a block as (re)initialising states: eager writes in it may change a state's shape.

    (Re)initialising is where a model sets its batch size or builds its hidden states anew, so
    the value-tree check lets those writes through outside transforms; inside a transform
    it stays absolute.
    """
    _local.init = getattr(_local, "init", 0) + 1
    try:
        yield
    finally:
        _local.init -= 1
