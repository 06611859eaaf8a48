"""The state layer: `State` and its kinds, snapshots, the trace recorder and hooks."""

from ._catch import NewStateCatcher, catch_new_states
from ._state import (BatchState, DelayState, HiddenState, LongTermState, ParamState, ShortTermState,
                     State, maybe_state)
from ._trace import StateTrace, current_trace, trace_stack
from ._treefy import TreefyState
