"""The one place where BrainState touches JAX internals, under stable names.

JAX's public API has no way to add an input to a jaxpr while it is being traced, which is what
lets a state-aware transform trace a function exactly once and still turn every `State` it
meets into an argument. That, and evaluating a jaxpr, is all the engine needs from JAX's
internals (`new_input`, `trace_to_jaxpr`, `eval_jaxpr`). Libraries built on BrainState
(braintrace, brainpy) also import JAX internals from here, so the module re-exports the names
they use; it must import on every JAX release we support (0.10 on Python 3.11, 0.12 on 3.12).

Every name below says why it is here. Nothing else in the package imports `jax._src`.
"""

import functools
import inspect
from typing import Any, Callable, Iterable, List, Optional, Sequence, Tuple, TypeVar, Union

import jax
from jax import Device  # noqa: F401  re-exported for the ecosystem
from jax.core import Tracer  # the base class of every tracer, to tell traced values apart
from jax.extend.backend import get_backend  # noqa: F401  re-exported for the ecosystem
from jax.extend.core import (  # noqa: F401  the jaxpr data model, public in jax.extend
    ClosedJaxpr, DebugInfo, DropVar, Effect, Effects, Jaxpr, JaxprEqn, JaxprTypeError, Literal, Primitive,
    Var, check_jaxpr, concrete_or_error, find_top_trace, gensym, get_opaque_trace_state, jaxpr_as_fun,
    jaxprs_in_params, mapped_aval, new_jaxpr_eqn, no_effects, valid_jaxtype)
from jax._src import core as _core  # trace_ctx and eval_jaxpr: no public equivalent
from jax._src import api_util as _api_util  # debug_info for a traced function's names
from jax._src import linear_util as _lu  # wrap_init: what trace_to_jaxpr_dynamic traces
from jax._src import source_info_util as _source_info  # where a new jaxpr input was created
from jax._src.interpreters import batching as _batching  # the ecosystem's vmap-rule helpers
from jax._src.interpreters import partial_eval as _pe  # tracing to a jaxpr with growing inputs

__all__ = [
    # used by the engine
    "Tracer", "EvalTrace", "base_eval_trace", "current_trace", "current_trace_ref", "trace_encloses", "new_input", "trace_to_jaxpr", "eval_jaxpr", "extend_axis_env",
    "shaped_abstractify", "to_aval",
    # re-exported for the ecosystem (braintrace, brainpy)
    "BatchTrace", "BatchTracer", "CallPrimitive", "ClosedJaxpr", "DebugInfo", "Device", "DropVar", "Effect",
    "Effects", "Jaxpr", "JaxprEqn", "JaxprTypeError", "Literal", "Primitive", "SHARD_MAP_CHECK_KW", "Var",
    "check_jaxpr", "concrete_or_error", "find_top_trace", "gensym", "get_aval", "get_backend",
    "get_opaque_trace_state", "is_jit_primitive", "jax_shard_map", "jaxpr_as_fun", "jaxprs_in_params",
    "make_iota", "mapped_aval", "new_jaxpr_eqn", "no_effects", "safe_map", "safe_zip",
    "scan_num_consts_carry", "to_concrete_aval", "to_elt", "trace_ctx", "unzip2", "valid_jaxtype",
    "wrap_init", "wraps",
    # jaxpr helpers for the IR tools (`transform/_jaxpr_*`): the closed/open jaxpr split
    "CLOSED_IS_JAXPR", "AnyJaxpr", "is_jaxpr", "open_and_consts", "map_open", "new_jaxpr", "scan_counts",
]

T1 = TypeVar("T1")
T2 = TypeVar("T2")

trace_ctx = _core.trace_ctx  # the current JAX trace (thread-local); read by `current_trace`
EvalTrace = _core.EvalTrace  # the type of `trace_ctx.trace` outside every JAX transform
# `.value` is the current JAX trace, read without `trace_ctx.trace`'s property call (jit's fast path)
current_trace_ref = getattr(_core, "trace_state_strong_ref", None)
if current_trace_ref is None:  # a JAX release without it: the same value through the property
    class _TraceRef:
        @property
        def value(self) -> Any:
            return _core.trace_ctx.trace

    current_trace_ref = _TraceRef()
# `trace_ctx.trace` outside every JAX transform, in every thread (jit's fast path compares identity;
# any other trace, an EvalTrace of `ensure_compile_time_eval` included, takes the general path)
base_eval_trace = getattr(_core, "eval_trace", None) or _core.trace_ctx.trace
BatchTrace = _batching.BatchTrace
BatchTracer = _batching.BatchTracer
make_iota = _batching.make_iota
to_elt = _batching.to_elt


# -- what the engine needs ---------------------------------------------------------------------
def current_trace() -> Any:
    """The JAX trace that operations bind to right now (a jaxpr trace while tracing)."""
    return _core.trace_ctx.trace


def new_input(jax_trace: Any, aval: Any) -> Any:
    """Append an input of abstract value `aval` to the jaxpr being built by `jax_trace`.

    Returns the tracer standing for it. This is how a State met for the first time while
    tracing becomes an argument of the traced function without tracing the function again.
    """
    return jax_trace.new_arg(aval, _source_info.current())


def trace_to_jaxpr(fun: Callable, in_avals: Sequence[Any], name: str) -> Tuple[Any, List[Any]]:
    """Trace `fun(*flat_inputs) -> flat_outputs` once; `(jaxpr, consts)`.

    `fun` may call `new_input(current_trace(), aval)` (with the trace current when it started)
    to add inputs after those of `in_avals`; they become trailing invars of the jaxpr.
    """
    dbg = _api_util.debug_info(name, fun, tuple(in_avals), {})
    wrapped = _lu.wrap_init(fun, debug_info=dbg)
    jaxpr, _, consts = _pe.trace_to_jaxpr_dynamic(wrapped, list(in_avals))
    # The debug info names only the declared inputs; drop it so no JAX check compares its
    # argument names with the (longer) list of invars.
    jaxpr = jaxpr.replace(debug_info=None) if _accepts_none_debug_info() else jaxpr
    return jaxpr, list(consts)


@functools.lru_cache(maxsize=None)
def _accepts_none_debug_info() -> bool:
    return "debug_info" in inspect.signature(Jaxpr.replace).parameters if hasattr(Jaxpr, "replace") else False


def trace_encloses(opaque: Any) -> bool:
    """Whether the JAX trace of `opaque` (from `get_opaque_trace_state()`) is the current trace or
    one it is nested in (following each trace's `parent_trace`)."""
    if get_opaque_trace_state() == opaque:
        return True
    trace = getattr(_core.trace_ctx.trace, "parent_trace", None)
    while trace is not None:
        if _core.OpaqueTraceState(trace._weakref) == opaque:
            return True
        trace = getattr(trace, "parent_trace", None)
    return False


def eval_jaxpr(jaxpr: Any, consts: Sequence[Any], *args: Any) -> List[Any]:
    """Evaluate a jaxpr on `args` under whatever transforms are active (binding its equations)."""
    return _core.eval_jaxpr(jaxpr, consts, *args)


def extend_axis_env(axis_env: Iterable[Tuple[Any, int]]):
    """A context in which collectives over the named axes can be traced (as `make_jaxpr(axis_env=)`)."""
    return _core.extend_axis_env_nd(list(axis_env))


def shaped_abstractify(x: Any) -> Any:
    """The abstract value JAX traces `x` with (shape, dtype, weak type); an abstract value as it is."""
    if isinstance(x, _core.AbstractValue):
        return x
    # `get_aval` exists only in older JAX (without `jax.typeof`), so the current stubs lack it.
    return jax.typeof(x) if hasattr(jax, "typeof") else _core.get_aval(x)  # type: ignore[attr-defined]


def to_aval(x: Any) -> Any:
    """An abstract value for a jaxpr input: avals as they are, `ShapeDtypeStruct`s converted."""
    if isinstance(x, _core.AbstractValue):
        return x
    return _core.ShapedArray(tuple(x.shape), x.dtype, weak_type=bool(getattr(x, "weak_type", False)))


# -- re-exports with a version difference ------------------------------------------------------
def get_aval(x: Any) -> Any:
    """The abstract value of `x` (`jax.typeof` on current JAX)."""
    return shaped_abstractify(x)


def _call_primitive_class():
    try:
        from jax.extend.core import CallPrimitive as found  # jax < 0.11.1
        return found
    except ImportError:
        pass
    from jax.extend.core import register_call_primitive_rules  # jax >= 0.11.1

    class CallPrimitive(Primitive):  # type: ignore[valid-type, misc]
        """A call primitive: registering it installs the standard call rules."""

        call_primitive = True

        def __init__(self, name: str):
            super().__init__(name)
            register_call_primitive_rules(self, name=name)

    return CallPrimitive


CallPrimitive = _call_primitive_class()

jax_shard_map: Callable[..., Any]
if hasattr(jax, "shard_map"):
    jax_shard_map = jax.shard_map
else:  # older JAX kept it in experimental
    from jax.experimental.shard_map import shard_map as jax_shard_map
_SHARD_MAP_PARAMS = set(inspect.signature(jax_shard_map).parameters)
# The keyword that turns shard_map's replication check off was renamed.
SHARD_MAP_CHECK_KW = "check_vma" if "check_vma" in _SHARD_MAP_PARAMS else (
    "check_rep" if "check_rep" in _SHARD_MAP_PARAMS else None)


def to_concrete_aval(x: Any) -> Any:
    """The concrete value behind `x` when JAX knows it (a tracer of a known constant), else `x`."""
    if isinstance(x, Tracer):
        value = x.to_concrete_value()
        return x if value is None else value
    return x


def is_jit_primitive(eqn: Any) -> bool:
    """Whether a jaxpr equation is a call of a jitted function (`jit` / `pjit`)."""
    return eqn.primitive.name in ("pjit", "jit")


def scan_num_consts_carry(eqn_params: dict) -> Tuple[int, int]:
    """`(num_consts, num_carry)` of a `scan` equation, from its params, on every JAX release.

    jax >= 0.12 replaced the two integers by `ft_in`, a flat tree grouping the operands as
    `(consts, carry, xs)`: the counts are the sizes of its first two groups.
    """
    if "num_consts" in eqn_params:
        return eqn_params["num_consts"], eqn_params["num_carry"]
    ft_in = eqn_params["ft_in"]
    consts, carry, _ = ft_in.update(list(range(len(list(ft_in))))).unpack()
    return len(list(consts)), len(list(carry))


def scan_counts(params: dict, num_operands: int) -> Tuple[int, int]:
    """`(num_consts, num_carry)` of a `scan` equation with `num_operands` inputs."""
    del num_operands  # the params alone determine the split
    return scan_num_consts_carry(params)


def safe_map(f: Callable, *args: Iterable) -> list:
    """`map` over sequences that must have equal lengths."""
    lists = [list(a) for a in args]
    for other in lists[1:]:
        if len(other) != len(lists[0]):
            raise ValueError(f"safe_map: length mismatch {[len(x) for x in lists]}")
    return list(map(f, *lists))


def safe_zip(*args: Iterable) -> list:
    """`zip` over sequences that must have equal lengths."""
    lists = [list(a) for a in args]
    for other in lists[1:]:
        if len(other) != len(lists[0]):
            raise ValueError(f"safe_zip: length mismatch {[len(x) for x in lists]}")
    return list(zip(*lists))


def unzip2(pairs: Iterable[Tuple[T1, T2]]) -> Tuple[Tuple[T1, ...], Tuple[T2, ...]]:
    """Split an iterable of pairs into two tuples."""
    firsts, seconds = [], []
    for a, b in pairs:
        firsts.append(a)
        seconds.append(b)
    return tuple(firsts), tuple(seconds)


def wraps(wrapped: Callable, namestr: Optional[str] = None, docstr: Optional[str] = None,
          **kwargs: Any) -> Callable:
    """Like `functools.wraps`, with optional name/doc templates (`{fun}`, `{doc}`)."""
    def decorate(fun: Callable) -> Callable:
        name = getattr(wrapped, "__name__", "<unknown>")
        fun.__name__ = name if namestr is None else namestr.format(fun=name)
        fun.__qualname__ = getattr(wrapped, "__qualname__", fun.__name__)
        fun.__module__ = getattr(wrapped, "__module__", "<unknown module>")
        doc = getattr(wrapped, "__doc__", "") or ""
        fun.__doc__ = doc if docstr is None else docstr.format(fun=name, doc=doc, **kwargs)
        fun.__wrapped__ = wrapped  # type: ignore[attr-defined]
        return fun

    return decorate


def wrap_init(fun: Callable, args: tuple = (), kwargs: Any = None, name: str = "wrap_init", *,
              debug_info: Any = None) -> Any:
    """A `linear_util.WrappedFun` of `fun` with params `kwargs`, its debug info naming `name` and
    describing `args` (the ecosystem's calling convention: `wrap_init(f, args, kwargs, name)`)."""
    kwargs = dict(kwargs or {})
    if debug_info is None:
        debug_info = _api_util.debug_info(name, fun, tuple(args), kwargs)
    return _lu.wrap_init(fun, kwargs, debug_info=debug_info)


# -- jaxpr helpers for the IR tools --------------------------------------------------------------
# jax 0.11.1 folded `ClosedJaxpr` into `Jaxpr`: a `Jaxpr` may carry the values of its leading
# inputs (its consts) and `jax.extend.core.ClosedJaxpr` is the same class. Before, a
# `ClosedJaxpr` wrapped an open `Jaxpr` and a list of consts. The helpers below hide the split.
CLOSED_IS_JAXPR: bool = ClosedJaxpr is Jaxpr

AnyJaxpr = Union[Jaxpr, ClosedJaxpr]


def is_jaxpr(x: Any) -> bool:
    """Whether `x` is a `Jaxpr` or a `ClosedJaxpr` (on every supported JAX)."""
    return isinstance(x, (Jaxpr, ClosedJaxpr))


def open_and_consts(x: Any) -> Tuple[Any, List[Any]]:
    """The open jaxpr of `x` (its `constvars` are the const binders) and the const values known.

    An open `Jaxpr` on jax < 0.11.1 has no values: the list is then empty even when it has
    constvars.
    """
    if not CLOSED_IS_JAXPR and isinstance(x, ClosedJaxpr):
        return x.jaxpr, list(x.consts)
    return x, list(getattr(x, "consts", ()))


def map_open(x: Any, fn: Callable[[Any], Any]) -> Any:
    """Apply `fn` to the open jaxpr inside `x` and rewrap it like `x` (same consts).

    `fn` must keep the constvars and invars (rebuild with `jaxpr.replace(...)`, which keeps values
    attached to constvars on jax >= 0.11.1). Returns `x` itself when `fn` returns its argument.
    """
    if not CLOSED_IS_JAXPR and isinstance(x, ClosedJaxpr):
        new = fn(x.jaxpr)
        return x if new is x.jaxpr else ClosedJaxpr(new, x.consts)
    return fn(x)


def new_jaxpr(constvars: Sequence[Any], invars: Sequence[Any], outvars: Sequence[Any], eqns: Sequence[Any],
              effects: Any, consts: Union[Sequence[Any], None] = None, origin: str = "brainstate") -> Any:
    """Build a jaxpr; with `consts` (one value per constvar), a closed one. `origin` names the
    builder in the jaxpr's debug info."""
    info = DebugInfo(origin, f"<{origin}>", None, None)
    parts = (list(constvars), list(invars), list(outvars), list(eqns), effects, info)
    if consts is None:
        return Jaxpr(*parts)
    if CLOSED_IS_JAXPR:
        # `consts` exists only where a closed jaxpr is a Jaxpr (CLOSED_IS_JAXPR); stubs vary by version.
        return Jaxpr(*parts, consts=list(consts))  # type: ignore[call-arg]
    return ClosedJaxpr(Jaxpr(*parts), list(consts))
