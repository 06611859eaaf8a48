"""BrainState: explicit, mutable state for JAX, with state-aware transformations.

`State` holds a mutable value; `brainstate.transform` (jit, grad, vmap, loops, ...) discovers
which states a function reads and writes and threads them through pure JAX automatically;
`brainstate.graph` splits object graphs of modules into structure plus data; `brainstate.nn`
builds models from `Module`s whose leaves are states.
"""

__version__ = "0.6.0"

from ._errors import BatchAxisError, BrainStateError, TraceContextError
from ._state import (BatchState, DelayState, HiddenState, LongTermState, ParamState, ShortTermState,
                     State, TreefyState, catch_new_states, maybe_state, FakeState, HiddenGroupState,
                     HiddenTreeState, StateTraceStack, check_state_jax_tracer, check_state_value_tree)
from ._state._hooks import (GlobalHookRegistry, Hook, HookCancellationError, HookConfig, HookContext,
                            HookError, HookExecutionError, HookHandle, HookManager,
                            HookRegistrationError, HookWarning, InitHookContext,
                            MutableWriteHookContext, ReadHookContext, RestoreHookContext,
                            WriteHookContext, clear_state_hooks, has_state_hooks, list_state_hooks,
                            register_state_hook, unregister_state_hook)
from ._state import StateDictManager
from . import typing
from . import util
from . import environ
from . import graph
from . import random
from . import transform
from . import nn
from . import checkpoint
from . import sharding
from . import mixin
from . import interop  # flax / equinox are imported on first use of a conversion


from ._deprecated import install_aliases as _install_aliases

_install_aliases()  # `import brainstate.compile` etc. load the deprecated forwarding modules


def __getattr__(name):
    import importlib

    # brainstate.optim needs optax (the 'optim' extra), so it is imported on first use.
    if name == "optim":
        return importlib.import_module(f"{__name__}.optim")
    # Deprecated spellings of older releases (brainstate/_deprecated/), loaded on first use so
    # that `import brainstate` stays fast and warning-free.
    if name in ("compile", "augment", "functional"):
        return importlib.import_module(f"{__name__}.{name}")  # through the alias finder
    if name in ("init", "surrogate"):
        from ._deprecated._braintools import moved_to_braintools

        return moved_to_braintools(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
