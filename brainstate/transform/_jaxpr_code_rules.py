"""The built-in code generators of `jaxpr_to_python_code`, one per primitive (or family).

A generator `rule(ctx, eqn)` returns the source of an expression computing the equation's
output (or the tuple of its outputs); see `register_prim_handler`. Arithmetic and comparisons
are written as Python operators, everything else as the `jax.lax` / `jax.random` call that binds
the same primitive with the same params. Sub-jaxprs (jit, cond, while, scan, custom_jvp /
custom_vjp, remat bodies) become helper functions. A primitive with no rule here is written by
`lax_function_call` when `jax.lax` has a function of its name taking its params.
"""

import inspect
from typing import Any, Callable, Dict

import jax
import numpy as np

from .._compatible_import import JaxprEqn, Literal, scan_counts

__all__ = ["BUILTIN_HANDLERS", "UnsupportedPrimitiveError", "Unrepresentable", "lax_function_call"]

BUILTIN_HANDLERS: Dict[str, Callable[[Any, JaxprEqn], str]] = {}


class UnsupportedPrimitiveError(NotImplementedError):
    """No code generator can write an equation of this primitive as Python source."""


class Unrepresentable(Exception):
    """A value (or an equation form) with no Python source form; the message says what."""


def _unsupported(eqn: JaxprEqn, why: str) -> UnsupportedPrimitiveError:
    name = eqn.primitive.name
    return UnsupportedPrimitiveError(
        f"Cannot write the '{name}' equation as Python source: {why}. Register a code generator with "
        f"brainstate.transform.register_prim_handler('{name}', handler).")


def _rule(*names: str):
    def register(fn):
        for name in names:
            BUILTIN_HANDLERS[name] = fn
        return fn

    return register


def _args(ctx, atoms) -> str:
    return ", ".join(ctx.atom(a) for a in atoms)


def _tuple(items) -> str:
    return f"({', '.join(items)}{',' if len(items) == 1 else ''})"


def _call(fn: str, ctx, eqn: JaxprEqn, **kwargs: Any) -> str:
    extra = [f"{k}={ctx.value(v)}" for k, v in kwargs.items()]
    return f"{fn}({', '.join([ctx.atom(a) for a in eqn.invars] + extra)})"


def _is_float(atom: Any) -> bool:
    return bool(jax.dtypes.issubdtype(atom.aval.dtype, np.inexact))


# ----------------------------------------------------------------------------------------------
# operators

_INFIX = {"add": "+", "add_any": "+", "sub": "-", "mul": "*", "and": "&", "or": "|", "xor": "^", "eq": "==",
          "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
_LAX_NAME = {"add_any": "add", "and": "bitwise_and", "or": "bitwise_or", "xor": "bitwise_xor"}


@_rule(*_INFIX)
def _infix(ctx, eqn: JaxprEqn) -> str:
    x, y = eqn.invars
    name = eqn.primitive.name
    if isinstance(x, Literal) and isinstance(y, Literal):
        # Two Python scalars would compute in Python's float64, not in the jaxpr's dtype.
        return f"lax.{_LAX_NAME.get(name, name)}({ctx.atom(x)}, {ctx.atom(y)})"
    return f"{ctx.atom(x)} {_INFIX[name]} {ctx.atom(y)}"


@_rule("div")
def _div(ctx, eqn: JaxprEqn) -> str:
    x, y = eqn.invars
    if _is_float(x) and not (isinstance(x, Literal) and isinstance(y, Literal)):
        return f"{ctx.atom(x)} / {ctx.atom(y)}"
    return f"lax.div({ctx.atom(x)}, {ctx.atom(y)})"  # integer division rounds toward zero, unlike `//`


@_rule("neg")
def _neg(ctx, eqn: JaxprEqn) -> str:
    x = eqn.invars[0]
    return f"lax.neg({ctx.atom(x)})" if isinstance(x, Literal) else f"-{ctx.atom(x)}"


@_rule("not")
def _not(ctx, eqn: JaxprEqn) -> str:
    x = eqn.invars[0]
    return f"lax.bitwise_not({ctx.atom(x)})" if isinstance(x, Literal) else f"~{ctx.atom(x)}"


# ----------------------------------------------------------------------------------------------
# array operations whose jax.lax signature differs from the primitive's params


@_rule("convert_element_type")
def _convert(ctx, eqn: JaxprEqn) -> str:
    return f"lax.convert_element_type({ctx.atom(eqn.invars[0])}, {ctx.value(eqn.params['new_dtype'])})"


@_rule("iota")
def _iota(ctx, eqn: JaxprEqn) -> str:
    p = eqn.params
    return f"lax.broadcasted_iota({ctx.value(p['dtype'])}, {ctx.value(tuple(p['shape']))}, {p['dimension']})"


@_rule("concatenate")
def _concatenate(ctx, eqn: JaxprEqn) -> str:
    return f"lax.concatenate([{_args(ctx, eqn.invars)}], {eqn.params['dimension']})"


@_rule("stack")
def _stack(ctx, eqn: JaxprEqn) -> str:
    return f"lax.stack([{_args(ctx, eqn.invars)}], axis={eqn.params['axis']})"


@_rule("dynamic_slice")
def _dynamic_slice(ctx, eqn: JaxprEqn) -> str:
    x, *starts = eqn.invars
    return (f"lax.dynamic_slice({ctx.atom(x)}, ({_args(ctx, starts)}{',' if len(starts) == 1 else ''}), "
            f"{ctx.value(tuple(eqn.params['slice_sizes']))})")


@_rule("dynamic_update_slice")
def _dynamic_update_slice(ctx, eqn: JaxprEqn) -> str:
    x, update, *starts = eqn.invars
    return (f"lax.dynamic_update_slice({ctx.atom(x)}, {ctx.atom(update)}, "
            f"({_args(ctx, starts)}{',' if len(starts) == 1 else ''}))")


@_rule("argmax", "argmin")
def _argminmax(ctx, eqn: JaxprEqn) -> str:
    (axis,) = eqn.params["axes"]
    return f"lax.{eqn.primitive.name}({ctx.atom(eqn.invars[0])}, {axis}, {ctx.value(eqn.params['index_dtype'])})"


_SCATTERS = {"scatter": "scatter", "scatter-add": "scatter_add", "scatter_add": "scatter_add",
             "scatter-mul": "scatter_mul", "scatter_mul": "scatter_mul", "scatter-min": "scatter_min",
             "scatter_min": "scatter_min", "scatter-max": "scatter_max", "scatter_max": "scatter_max",
             "scatter-sub": "scatter_sub", "scatter_sub": "scatter_sub"}


@_rule(*_SCATTERS)
def _scatter(ctx, eqn: JaxprEqn) -> str:
    p = eqn.params
    return _call(f"lax.{_SCATTERS[eqn.primitive.name]}", ctx, eqn, dimension_numbers=p["dimension_numbers"],
                 indices_are_sorted=p["indices_are_sorted"], unique_indices=p["unique_indices"], mode=p["mode"])


@_rule("sort")
def _sort(ctx, eqn: JaxprEqn) -> str:
    p = eqn.params
    ops = _tuple([ctx.atom(a) for a in eqn.invars])
    out = (f"lax.sort({ops}, dimension={p['dimension']}, is_stable={p['is_stable']}, "
           f"num_keys={p['num_keys']})")
    return out + "[0]" if len(eqn.outvars) == 1 else out


@_rule("copy")
def _copy(ctx, eqn: JaxprEqn) -> str:
    return f"jnp.copy({ctx.atom(eqn.invars[0])})"


@_rule("optimization_barrier")
def _barrier(ctx, eqn: JaxprEqn) -> str:
    out = f"lax.optimization_barrier({_tuple([ctx.atom(a) for a in eqn.invars])})"
    return out + "[0]" if len(eqn.outvars) == 1 else out


_WINDOW_MONOIDS = {"reduce_window_sum": "add", "reduce_window_max": "max", "reduce_window_min": "min"}


def _window_params(ctx, p: Dict[str, Any]) -> str:
    return ", ".join(ctx.value(tuple(p[k])) for k in ("window_dimensions", "window_strides", "padding",
                                                      "base_dilation", "window_dilation"))


def _identity(op: str, dtype: np.dtype) -> Any:
    """The identity element of `op` (add / max / min) in `dtype`."""
    if op == "add":
        return 0
    if dtype == np.bool_:
        return op == "min"
    if jax.dtypes.issubdtype(dtype, np.inexact):
        return -np.inf if op == "max" else np.inf
    info = np.iinfo(dtype)
    return info.min if op == "max" else info.max


@_rule(*_WINDOW_MONOIDS)
def _reduce_window_monoid(ctx, eqn: JaxprEqn) -> str:
    op, x = _WINDOW_MONOIDS[eqn.primitive.name], eqn.invars[0]
    # Array avals (ShapedArray) have shape and dtype; JAX's stubs type `aval` as the base class.
    dtype = np.dtype(x.aval.dtype)  # type: ignore[attr-defined]
    init = f"{ctx.value(dtype)}({ctx.value(_identity(op, dtype))})"
    return f"lax.reduce_window({ctx.atom(x)}, {init}, lax.{op}, {_window_params(ctx, eqn.params)})"


@_rule("reduce_window")
def _reduce_window(ctx, eqn: JaxprEqn) -> str:
    p = eqn.params
    n = len(eqn.invars) // 2
    fn = ctx.function(p["jaxpr"], "window_reduce")
    consts = "".join(f"{ctx.value(c)}, " for c in p["consts"])
    ops, inits = eqn.invars[:n], eqn.invars[n:]
    if n == 1:
        return (f"lax.reduce_window({ctx.atom(ops[0])}, {ctx.atom(inits[0])}, "
                f"lambda acc_, x_: {fn}({consts}acc_, x_)[0], {_window_params(ctx, p)})")
    return (f"lax.reduce_window({_tuple([ctx.atom(a) for a in ops])}, {_tuple([ctx.atom(a) for a in inits])}, "
            f"lambda acc_, x_: {fn}({consts}*acc_, *x_), {_window_params(ctx, p)})")


@_rule("bcoo_dot_general")
def _bcoo_dot_general(ctx, eqn: JaxprEqn) -> str:
    data, indices, rhs = eqn.invars
    p, info = eqn.params, eqn.params["lhs_spinfo"]
    lhs = (f"sparse.BCOO(({ctx.atom(data)}, {ctx.atom(indices)}), shape={ctx.value(tuple(info.shape))}, "
           f"indices_sorted={info.indices_sorted}, unique_indices={info.unique_indices})")
    return (f"sparse.bcoo_dot_general({lhs}, {ctx.atom(rhs)}, dimension_numbers={ctx.value(p['dimension_numbers'])}, "
            f"preferred_element_type={ctx.value(p['preferred_element_type'])})")


# ----------------------------------------------------------------------------------------------
# random keys


def _impl_name(eqn: JaxprEqn) -> str:
    impl = eqn.params["impl"]
    return getattr(impl, "name", str(impl))


def _scalar_key(eqn: JaxprEqn) -> None:
    # Array avals (ShapedArray) have shape and dtype; JAX's stubs type `aval` as the base class.
    if eqn.invars[0].aval.shape != ():  # type: ignore[attr-defined]
        raise _unsupported(eqn, "jax.random functions take one key, and this equation maps over an array of keys")


@_rule("random_wrap")
def _random_wrap(ctx, eqn: JaxprEqn) -> str:
    return f"jax.random.wrap_key_data({ctx.atom(eqn.invars[0])}, impl={_impl_name(eqn)!r})"


@_rule("random_unwrap")
def _random_unwrap(ctx, eqn: JaxprEqn) -> str:
    return f"jax.random.key_data({ctx.atom(eqn.invars[0])})"


@_rule("random_seed")
def _random_seed(ctx, eqn: JaxprEqn) -> str:
    return f"jax.random.key({ctx.atom(eqn.invars[0])}, impl={_impl_name(eqn)!r})"


@_rule("random_bits")
def _random_bits(ctx, eqn: JaxprEqn) -> str:
    _scalar_key(eqn)
    dtype = np.dtype(f"uint{eqn.params['bit_width']}")
    return f"jax.random.bits({ctx.atom(eqn.invars[0])}, {ctx.value(tuple(eqn.params['shape']))}, {ctx.value(dtype)})"


@_rule("random_split")
def _random_split(ctx, eqn: JaxprEqn) -> str:
    _scalar_key(eqn)
    return f"jax.random.split({ctx.atom(eqn.invars[0])}, {ctx.value(tuple(eqn.params['shape']))})"


@_rule("random_fold_in")
def _random_fold_in(ctx, eqn: JaxprEqn) -> str:
    _scalar_key(eqn)
    return f"jax.random.fold_in({ctx.atom(eqn.invars[0])}, {ctx.atom(eqn.invars[1])})"


# ----------------------------------------------------------------------------------------------
# calls and control flow: sub-jaxprs become helper functions returning tuples


def _first_if_single(eqn: JaxprEqn, call: str) -> str:
    return call + "[0]" if len(eqn.outvars) == 1 else call


@_rule("pjit", "jit", "closed_call", "core_call", "remat2", "checkpoint", "custom_jvp_call", "custom_vjp_call",
       "custom_vjp_call_jaxpr")
def _call_body(ctx, eqn: JaxprEqn) -> str:
    p = eqn.params
    body = p.get("jaxpr", p.get("call_jaxpr", p.get("fun_jaxpr")))
    if body is None:
        raise _unsupported(eqn, "its params hold no jaxpr to call")
    fn = ctx.function(body, str(p.get("name", eqn.primitive.name)))
    # A literal argument is passed as an array: the helper's operators must not see a Python number.
    args = [f"jnp.asarray({ctx.atom(a)})" if isinstance(a, Literal) else ctx.atom(a) for a in eqn.invars]
    return _first_if_single(eqn, f"{fn}({', '.join(args)})")


@_rule("cond")
def _cond(ctx, eqn: JaxprEqn) -> str:
    index, *ops = eqn.invars
    branches = [ctx.function(b, f"branch_{i}") for i, b in enumerate(eqn.params["branches"])]
    call = f"lax.switch({ctx.atom(index)}, {_tuple(branches)}{''.join(', ' + ctx.atom(o) for o in ops)})"
    return _first_if_single(eqn, call)


@_rule("while")
def _while(ctx, eqn: JaxprEqn) -> str:
    p = eqn.params
    nc, nb = p["cond_nconsts"], p["body_nconsts"]
    cconsts, bconsts, init = eqn.invars[:nc], eqn.invars[nc:nc + nb], eqn.invars[nc + nb:]
    cond_fn, body_fn = ctx.function(p["cond_jaxpr"], "while_cond"), ctx.function(p["body_jaxpr"], "while_body")
    cprefix = "".join(f"{ctx.atom(a)}, " for a in cconsts)
    bprefix = "".join(f"{ctx.atom(a)}, " for a in bconsts)
    call = (f"lax.while_loop(lambda carry_: {cond_fn}({cprefix}*carry_)[0], "
            f"lambda carry_: {body_fn}({bprefix}*carry_), {_tuple([ctx.atom(a) for a in init])})")
    return _first_if_single(eqn, call)


@_rule("scan")
def _scan(ctx, eqn: JaxprEqn) -> str:
    p = eqn.params
    num_consts, num_carry = scan_counts(p, len(eqn.invars))
    consts, init, xs = (eqn.invars[:num_consts], eqn.invars[num_consts:num_consts + num_carry],
                        eqn.invars[num_consts + num_carry:])
    body = ctx.function(p["jaxpr"], "scan_body")
    step = ctx.fresh("scan_step")
    prefix = "".join(f"{ctx.atom(a)}, " for a in consts)
    ctx.emit(f"def {step}(carry_, xs_):\n    outs_ = {body}({prefix}*carry_, *xs_)\n"
             f"    return outs_[:{num_carry}], outs_[{num_carry}:]")
    call = (f"lax.scan({step}, {_tuple([ctx.atom(a) for a in init])}, {_tuple([ctx.atom(a) for a in xs])}, "
            f"length={p['length']}, "
            f"reverse={p['reverse']}, unroll={ctx.value(p['unroll'])})")
    carry, ys = ctx.fresh("carry"), ctx.fresh("ys")
    ctx.emit(f"{carry}, {ys} = {call}")
    return _first_if_single(eqn, f"(*{carry}, *{ys})")


# ----------------------------------------------------------------------------------------------
# debugging


@_rule("debug_print")
def _debug_print(ctx, eqn: JaxprEqn) -> str:
    p = eqn.params
    if p.get("static_args"):
        raise _unsupported(eqn, "it prints static (non-array) arguments whose values the jaxpr does not keep")
    args, kwargs = p["in_tree"].unflatten([ctx.atom(a) for a in eqn.invars])
    parts = [repr(p["fmt"])] + [_container(a) for a in args] + [f"{k}={_container(v)}" for k, v in kwargs.items()]
    if p.get("ordered"):
        parts.append("ordered=True")
    return f"jax.debug.print({', '.join(parts)})"


def _container(x: Any) -> str:
    if isinstance(x, str):
        return x
    if isinstance(x, tuple):
        return "(" + ", ".join(_container(v) for v in x) + ("," if len(x) == 1 else "") + ")"
    if isinstance(x, list):
        return "[" + ", ".join(_container(v) for v in x) + "]"
    if isinstance(x, dict):
        return "{" + ", ".join(f"{k!r}: {_container(v)}" for k, v in x.items()) + "}"
    raise Unrepresentable(f"a {type(x).__name__} in debug_print's arguments")


# ----------------------------------------------------------------------------------------------
# the fallback


def lax_function_call(ctx, eqn: JaxprEqn) -> str:
    """`jax.lax.<primitive name>(*inputs, **params)` when that function takes these params.

    A param whose value is None and that the function does not take is dropped (None is JAX's
    "unspecified"); a param equal to the function's default is left out for readability.
    """
    name = eqn.primitive.name.replace("-", "_")
    fn = getattr(jax.lax, name, None)
    if name.startswith("_") or not callable(fn):
        raise _unsupported(eqn, f"it has no code generator and jax.lax has no function '{name}'")
    signature = inspect.signature(fn)
    kwargs = {}
    for key, value in eqn.params.items():
        param = signature.parameters.get(key)
        if param is None:
            if value is None:
                continue
            raise _unsupported(eqn, f"jax.lax.{name} takes no parameter '{key}'")
        if param.default is not inspect.Parameter.empty and _same_value(value, param.default):
            continue
        kwargs[key] = value
    try:
        signature.bind(*eqn.invars, **kwargs)
    except TypeError as err:
        raise _unsupported(eqn, f"jax.lax.{name} cannot take its inputs and params ({err})") from None
    return _call(f"lax.{name}", ctx, eqn, **kwargs)


def _same_value(a: Any, b: Any) -> bool:
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:  # values without a plain truth value (arrays) are never treated as the default
        return False
