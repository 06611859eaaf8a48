"""The state layer: `State` and its kinds, snapshots, the trace recorder and hooks."""

from ._catch import NewStateCatcher, catch_new_states
from ._state import (BatchState, DelayState, HiddenState, LongTermState, ParamState, ShortTermState,
                     State, maybe_state)
from ._checks import check_state_jax_tracer, check_state_value_tree, initialisation
from ._fake import FakeState
from ._hidden_group import HiddenGroupState, HiddenTreeState
from ._trace import StateTrace, current_trace, trace_stack
from ._trace_stack import (StateTraceStack, record_state_init, record_state_value_read, record_state_value_restore,
                           record_state_value_write)
from ._treefy import TreefyState
from ._state_dict import StateDictManager
