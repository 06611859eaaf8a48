"""Writing a jaxpr back as readable Python source that computes the same values.

The source is a module: the imports it needs (`jax`, `jax.numpy as jnp`, `jax.lax as lax`), the
constants of closed jaxprs as module-level arrays, one helper function per sub-jaxpr (jit, loop
and cond bodies; each returns a tuple of its outputs) and the function itself, whose parameters
are the jaxpr's inputs (an open jaxpr's constvars first, since their values are unknown).

Each equation becomes one assignment whose right-hand side a *code generator* writes: the
built-in ones live in `_jaxpr_code_rules.py`; `register_prim_handler` adds or replaces one. A
primitive without a generator is written as the `jax.lax` function of the same name when that
function takes the equation's params; otherwise generating code raises an error naming it.
Custom differentiation rules (custom_jvp / custom_vjp), remat policies and jit boundaries are
not reproduced: the code computes the same values, not the same derivatives or compilation.
"""

import ast
import enum
import keyword
import math
import re
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import jax
import jax.numpy as jnp
import numpy as np

from .._compatible_import import AnyJaxpr, DropVar, JaxprEqn, Literal, Primitive, Var, open_and_consts
from ._jaxpr_code_rules import BUILTIN_HANDLERS, Unrepresentable, UnsupportedPrimitiveError, lax_function_call
from ._jaxpr_rewrite import check_jaxpr_arg

__all__ = ["CodeContext", "UnsupportedPrimitiveError", "register_prim_handler", "jaxpr_to_python_code",
           "fn_to_python_code"]

Handler = Callable[["CodeContext", JaxprEqn], Any]
# The code generator of each primitive name: the built-in ones, then those registered.
HANDLERS: Dict[str, Handler] = dict(BUILTIN_HANDLERS)

# Names the generated source itself uses; a variable never takes one of them.
_RESERVED = frozenset({"jax", "jnp", "lax", "sparse", "args", "kwargs", "map"})


def _identifier(hint: str) -> str:
    name = re.sub(r"\W", "_", hint).strip("_") or "fn"
    if name[0].isdigit() or keyword.iskeyword(name):
        name = f"fn_{name}"
    return name


class _Module:
    """The generated module being assembled: names, constants and helper functions."""

    def __init__(self):
        self.taken: set = set(_RESERVED)
        self.var_names: Dict[Var, str] = {}
        self.counter = 0
        self.constants: List[str] = []
        self.helpers: List[str] = []
        self.helper_names: Dict[int, Tuple[Any, str]] = {}

    def fresh(self, hint: str) -> str:
        base = _identifier(hint)
        name, i = base, 0
        while name in self.taken:
            i += 1
            name = f"{base}_{i}"
        self.taken.add(name)
        return name

    def var(self, var: Var) -> str:
        name = self.var_names.get(var)
        while name is None:
            n, letters = self.counter, ""
            self.counter += 1
            while True:  # a, b, ..., z, ba, bb, ...: JAX's own variable naming
                n, r = divmod(n, 26)
                letters = chr(ord("a") + r) + letters
                if n == 0:
                    break
            if letters not in self.taken and not keyword.iskeyword(letters) and not keyword.issoftkeyword(letters):
                self.taken.add(letters)
                name = self.var_names[var] = letters
        return name


class CodeContext:
    """What a code generator gets to write one equation (see `register_prim_handler`)."""

    def __init__(self, module: _Module):
        self._module = module
        self._lines: List[str] = []

    def atom(self, atom: Any) -> str:
        """Source of an equation input: a variable's name or a literal's value."""
        if isinstance(atom, Literal):
            return _array_source(atom.val, atom.aval)
        return self._module.var(atom)

    def value(self, value: Any) -> str:
        """Source of a param value: numbers, strings, tuples, dtypes, `jax.lax` enums and records."""
        return _value_source(value)

    def fresh(self, hint: str) -> str:
        """A new identifier unused in the generated module."""
        return self._module.fresh(hint)

    def emit(self, statement: str) -> None:
        """Add a statement (possibly several lines) before the equation's assignment."""
        self._lines.extend(statement.splitlines())

    def function(self, jaxpr: AnyJaxpr, hint: str = "fn") -> str:
        """The name of a module-level helper computing `jaxpr`; it returns a tuple of the outputs."""
        hit = self._module.helper_names.get(id(jaxpr))
        if hit is None:
            name = self._module.fresh(hint)
            hit = self._module.helper_names[id(jaxpr)] = (jaxpr, name)
            self._module.helpers.append(_function_source(self._module, jaxpr, name, tuple_out=True))
        return hit[1]

    # Reference-compatible helpers for generators written against `ast` nodes.
    def str_name(self, var: Any) -> str:
        return self.atom(var)

    def name(self, var: Any, ctx: Optional[ast.expr_context] = None) -> ast.Name:
        return ast.Name(id=self.atom(var), ctx=ctx or ast.Load())


# ----------------------------------------------------------------------------------------------
# values as source


def _dtype_source(dtype: Any) -> str:
    dtype = np.dtype(dtype)
    name = "bool_" if dtype == np.bool_ else dtype.name
    if not hasattr(jnp, name):
        raise Unrepresentable(f"dtype {dtype}")
    return f"jnp.{name}"


def _scalar_source(x: Any) -> str:
    if isinstance(x, (bool, np.bool_)):
        return repr(bool(x))
    if isinstance(x, (int, np.integer)):
        return repr(int(x))
    if isinstance(x, (complex, np.complexfloating)):
        return repr(complex(x))
    value = float(x)
    if math.isnan(value):
        return "jnp.nan"
    if math.isinf(value):
        return "jnp.inf" if value > 0 else "-jnp.inf"
    if isinstance(x, np.floating):
        short = str(x)  # NumPy's shortest decimal that reads back as this value in its own dtype
        if np.asarray(float(short), dtype=x.dtype).tobytes() == np.asarray(x).tobytes():
            return short
    return repr(value)


def _nested_source(x: np.ndarray) -> str:
    if x.ndim:
        return "[" + ", ".join(_nested_source(v) for v in x) + "]"
    return _scalar_source(x[()])


def _array_source(value: Any, aval: Any) -> str:
    """Source of an array value with type `aval`: a bare Python scalar when `aval` is weakly typed
    (it stays weak in arithmetic, as the literal did), `jnp.<dtype>(...)` or `jnp.asarray(...)`."""
    dtype = getattr(aval, "dtype", None)
    if dtype is None or jax.dtypes.issubdtype(dtype, jax.dtypes.extended):
        raise Unrepresentable(f"a value of type {aval}")
    array = np.asarray(value, dtype=dtype)
    if array.shape == ():
        scalar = _scalar_source(array[()])
        return scalar if getattr(aval, "weak_type", False) else f"{_dtype_source(dtype)}({scalar})"
    if array.size == 0:
        return f"jnp.zeros({array.shape!r}, dtype={_dtype_source(dtype)})"
    return f"jnp.asarray({_nested_source(array)}, dtype={_dtype_source(dtype)})"


def _value_source(v: Any) -> str:
    if v is None or isinstance(v, (bool, int, float, complex, str, np.bool_, np.number)):
        return repr(v) if isinstance(v, str) or v is None else _scalar_source(v)
    if isinstance(v, np.dtype) or (isinstance(v, type) and issubclass(v, np.generic)):
        return _dtype_source(v)
    if isinstance(v, np.ndarray) or isinstance(v, jax.Array):
        return _array_source(v, jax.core.ShapedArray(np.shape(v), np.asarray(v).dtype))
    if isinstance(v, enum.Enum) and getattr(jax.lax, type(v).__name__, None) is type(v):
        return f"lax.{type(v).__name__}.{v.name}"
    if hasattr(v, "_fields") and getattr(jax.lax, type(v).__name__, None) is type(v):
        fields = ", ".join(f"{f}={_value_source(getattr(v, f))}" for f in v._fields)
        return f"lax.{type(v).__name__}({fields})"
    if isinstance(v, tuple):
        items = [_value_source(x) for x in v]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    if isinstance(v, list):
        return "[" + ", ".join(_value_source(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_value_source(k)}: {_value_source(x)}" for k, x in v.items()) + "}"
    raise Unrepresentable(f"a {type(v).__name__} ({v!r})")


# ----------------------------------------------------------------------------------------------
# equations and functions


def _equation_lines(module: _Module, eqn: JaxprEqn) -> List[str]:
    name = eqn.primitive.name
    handler = HANDLERS.get(name)
    ctx = CodeContext(module)
    try:
        result = (handler or lax_function_call)(ctx, eqn)
    except Unrepresentable as err:
        raise UnsupportedPrimitiveError(
            f"Cannot write the '{name}' equation as Python source: {err} has no source form. "
            f"Register a code generator with brainstate.transform.register_prim_handler('{name}', handler)."
        ) from None
    if isinstance(result, ast.AST) or (isinstance(result, list) and result and isinstance(result[0], ast.AST)):
        nodes = result if isinstance(result, list) else [result]
        ctx.emit("\n".join(ast.unparse(ast.fix_missing_locations(n)) for n in nodes))
        return ctx._lines
    if not isinstance(result, str):
        raise TypeError(f"The code generator for primitive '{name}' returned {type(result).__name__}; it must "
                        f"return the source of an expression (a str).")
    targets = [("_" if isinstance(v, DropVar) else module.var(v)) for v in eqn.outvars]
    if not targets:
        ctx.emit(result)
    elif len(targets) == 1:
        ctx.emit(f"{targets[0]} = {result}")
    else:
        ctx.emit(f"{', '.join(targets)} = {result}")
    return ctx._lines


def _function_source(module: _Module, x: AnyJaxpr, name: str, tuple_out: bool, flat_args: bool = False) -> str:
    jaxpr, consts = open_and_consts(x)
    ctx = CodeContext(module)
    params: List[str] = []
    if consts:
        for var, value in zip(jaxpr.constvars, consts):
            module.constants.append(f"{module.var(var)} = {_constant_source(value, var)}")
    else:
        params.extend(module.var(v) for v in jaxpr.constvars)
    params.extend(module.var(v) for v in jaxpr.invars)
    body: List[str] = []
    if not tuple_out and params:
        # The function's own inputs become JAX arrays, so that operators on them compute as the jaxpr
        # does even when called with NumPy arrays or Python numbers. (Helpers get JAX values.)
        targets = f"{', '.join(params)}{',' if len(params) == 1 else ''}"
        source = "jax.tree_util.tree_leaves((args, kwargs))" if flat_args else _tuple_source(params)
        body.append(f"{params[0]} = jnp.asarray({params[0]})" if len(params) == 1 and not flat_args
                    else f"{targets} = map(jnp.asarray, {source})")
    if flat_args:
        params = ["*args", "**kwargs"]
    for eqn in jaxpr.eqns:
        body.extend(_equation_lines(module, eqn))
    outs = [ctx.atom(a) for a in jaxpr.outvars]
    if tuple_out or len(outs) != 1:
        body.append(f"return ({', '.join(outs)}{',' if len(outs) == 1 else ''})")
    else:
        body.append(f"return {outs[0]}")
    return f"def {name}({', '.join(params)}):\n" + "\n".join("    " + line for line in body)


def _tuple_source(items: Sequence[str]) -> str:
    return f"({', '.join(items)}{',' if len(items) == 1 else ''})"


def _constant_source(value: Any, var: Var) -> str:
    try:
        return _array_source(value, var.aval)
    except Unrepresentable as err:
        raise UnsupportedPrimitiveError(f"Cannot write the jaxpr constant {var} as Python source: {err} has no "
                                        f"source form.") from None


def _module_source(module: _Module, main: str) -> str:
    body = "\n\n".join(module.constants + module.helpers + [main])
    imports = [line for pattern, line in ((r"\bjax\.", "import jax"), (r"\bjnp\.", "import jax.numpy as jnp"),
                                          (r"\blax\.", "from jax import lax"),
                                          (r"\bsparse\.", "from jax.experimental import sparse"))
               if re.search(pattern, body)]
    return "\n".join(imports) + ("\n\n" if imports else "") + body + "\n"


def _check_fn_name(fn_name: Any) -> None:
    if not isinstance(fn_name, str) or not fn_name.isidentifier() or keyword.iskeyword(fn_name):
        raise ValueError(f"jaxpr_to_python_code(fn_name={fn_name!r}) must be a Python identifier (not a keyword): "
                         f"it names the generated function.")


def jaxpr_to_python_code(jaxpr: AnyJaxpr, fn_name: str = "generated_function") -> str:
    """Python source of a module defining `fn_name`, a function computing what `jaxpr` computes.

    The function's parameters are the jaxpr's invars (preceded by its constvars when their
    values are unknown, i.e. for an open `Jaxpr` on jax < 0.11.1), which it first converts to
    JAX arrays; it returns the single output, or a tuple of the outputs.

    Args:
      jaxpr: a `Jaxpr` or `ClosedJaxpr`.
      fn_name: the name of the generated function.

    Returns:
      The source code (a str); `exec` it and call `fn_name`.

    Raises:
      UnsupportedPrimitiveError: an equation's primitive has no code generator (see
        `register_prim_handler`) or a constant has no source form.
      ValueError: `fn_name` is not an identifier.

    Example:
      >>> import jax, jax.numpy as jnp, brainstate
      >>> closed = jax.make_jaxpr(lambda x, y: jnp.sin(x) * y + 1.0)(1.0, 2.0)
      >>> print(brainstate.transform.jaxpr_to_python_code(closed, "f"))
      import jax.numpy as jnp
      from jax import lax
      <BLANKLINE>
      def f(a, b):
          a, b = map(jnp.asarray, (a, b))
          c = lax.sin(a)
          d = c * b
          e = d + 1.0
          return e
      <BLANKLINE>
    """
    check_jaxpr_arg(jaxpr, "jaxpr_to_python_code")
    _check_fn_name(fn_name)
    module = _Module()
    module.taken.add(fn_name)
    main = _function_source(module, jaxpr, fn_name, tuple_out=False)
    return _module_source(module, main)


def fn_to_python_code(fn: Callable, *args: Any, **kwargs: Any) -> str:
    """Python source of a function computing what `fn(*args, **kwargs)` computes, traced by JAX.

    The generated function has `fn`'s name (or `generated_function`). When the arguments are
    all arrays (no keywords, no containers), it takes them positionally; otherwise it takes
    `*args, **kwargs` with the same structure. It returns the output's leaves: the single leaf
    itself, or a tuple of them.

    Args:
      fn: a function of arrays (traced with `jax.make_jaxpr`).
      *args: example positional arguments.
      **kwargs: example keyword arguments.

    Returns:
      The source code (a str).

    Raises:
      TypeError: `fn` is not callable.
      UnsupportedPrimitiveError: as `jaxpr_to_python_code`.

    Example:
      >>> import jax.numpy as jnp, brainstate
      >>> def scale(x, factor):
      ...     return x * factor
      >>> source = brainstate.transform.fn_to_python_code(scale, jnp.ones(3), 2.0)
      >>> namespace = {}
      >>> exec(source, namespace)
      >>> namespace["scale"](jnp.ones(3), 2.0)
      Array([2., 2., 2.], dtype=float32)
    """
    if not callable(fn):
        raise TypeError(f"fn_to_python_code(fn) needs a callable, got {type(fn).__name__}.")
    closed = jax.make_jaxpr(fn)(*args, **kwargs)
    name = getattr(fn, "__name__", None)
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        name = "generated_function"
    flat_args = bool(kwargs) or not all(jax.tree_util.treedef_is_leaf(jax.tree_util.tree_structure(a)) for a in args)
    module = _Module()
    module.taken.add(name)
    main = _function_source(module, closed, name, tuple_out=False, flat_args=flat_args)
    return _module_source(module, main)


def register_prim_handler(prim_name: Union[str, Primitive], handler: Handler) -> None:
    """Register (or replace) the code generator of a primitive for `jaxpr_to_python_code`.

    A code generator is called as `handler(ctx, eqn)` with a `CodeContext` and the equation, and
    returns the source of an expression: the value of the equation's single output, or a
    tuple/list of its outputs when it has several (`a, b = <expression>`), or a statement when
    it has none. `ctx.atom(x)` writes an input, `ctx.value(p)` a param, `ctx.function(jaxpr)`
    names a helper computing a sub-jaxpr (returning a tuple), and `ctx.emit(line)` adds a
    statement before the assignment. (A generator returning `ast` statements, using
    `ctx.name(var)` / `ctx.str_name(var)`, is accepted too.)

    Args:
      prim_name: the primitive's name (as printed in jaxprs) or the primitive itself.
      handler: the code generator.

    Raises:
      TypeError: `prim_name` is not a str or primitive, or `handler` is not callable.

    Example:
      >>> import jax, jax.numpy as jnp, brainstate
      >>> brainstate.transform.register_prim_handler("sin", lambda ctx, eqn: f"jnp.sin({ctx.atom(eqn.invars[0])})")
      >>> print(brainstate.transform.fn_to_python_code(jnp.sin, 1.0).splitlines()[-2])
          b = jnp.sin(a)
      >>> brainstate.transform.register_prim_handler("sin", lambda ctx, eqn: f"lax.sin({ctx.atom(eqn.invars[0])})")
    """
    if isinstance(prim_name, Primitive):
        prim_name = prim_name.name
    if not isinstance(prim_name, str) or not prim_name:
        raise TypeError(f"register_prim_handler(prim_name=...) needs a primitive name (str) or a jax Primitive, "
                        f"got {prim_name!r}.")
    if not callable(handler):
        raise TypeError(f"register_prim_handler('{prim_name}', handler) needs a callable handler(ctx, eqn), "
                        f"got {type(handler).__name__}.")
    HANDLERS[prim_name] = handler
