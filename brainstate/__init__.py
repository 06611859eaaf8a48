"""BrainState: explicit, mutable state for JAX, with state-aware transformations.

`State` holds a mutable value; `brainstate.transform` (jit, grad, vmap, loops, ...) discovers
which states a function reads and writes and threads them through pure JAX automatically;
`brainstate.graph` splits object graphs of modules into structure plus data; `brainstate.nn`
builds models from `Module`s whose leaves are states.
"""

__version__ = "0.1.0"

from ._errors import BatchAxisError, BrainStateError, TraceContextError
from ._state import (BatchState, DelayState, HiddenState, LongTermState, ParamState, ShortTermState,
                     State, TreefyState, catch_new_states, maybe_state)
from . import util
from . import environ
from . import transform
