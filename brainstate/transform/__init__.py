"""State-aware transformations: each finds the states a function touches and threads them.

The engine is `StatefulFunction` (_stateful.py); every transform here is a thin recipe on it.
"""

from ._finder import StateFinder
from ._jit import JittedFunction, jit
from ._make_jaxpr import make_jaxpr
from ._stateful import StatefulFunction
from ._grad import GradientTransform, grad, hessian, jacfwd, jacobian, jacrev, vector_grad
from ._autodiff_fwd import fwd_grad, jvp, vjp
from ._eval_shape import eval_shape
from ._error_if import breakpoint_if, jit_error_if
from ._checkify import (all_checks, automatic_checks, check, check_error, checkify, div_checks, float_checks,
                        index_checks, nan_checks, user_checks)
from ._debug_nan import debug_nan, debug_nan_if
from ._progress import ProgressBar
from ._loops import for_loop, scan
from ._while import bounded_while_loop, while_loop
from ._checkpointed_loops import checkpointed_for_loop, checkpointed_scan
from ._conditions import cond, ifelse, switch
from ._remat import checkpoint, remat
from ._named import named_call, named_scope
from ._diagnostics import PerformanceWarning, StateInfo, StateReport, report_states
from ._stateful_mapping import StatefulMapping
from ._vmap import unvmap, vmap, vmap2
from ._vmap_new_states import in_new_state_probe, pmap2_new_states, vmap2_new_states, vmap_new_states
from ._pmap import pmap2
from ._map import map
from ._shard_map import shard_map
from ._jaxpr_passes import (algebraic_simplification, common_subexpression_elimination, constant_fold,
                            copy_propagation, dead_code_elimination)
from ._jaxpr_optimize import optimize_jaxpr
from ._jaxpr_to_code import fn_to_python_code, jaxpr_to_python_code, register_prim_handler
from ._jaxpr_inline import eqns_to_closed_jaxpr, eqns_to_jaxpr, inline_jit
from ._jaxpr_draw import draw, draw_dot_graph, view_pydot
