"""`jaxpr_to_python_code`, `fn_to_python_code` and `register_prim_handler`."""

import ast

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.experimental import io_callback

import brainstate as bs
from brainstate._compatible_import import Primitive, open_and_consts
from brainstate.transform._jaxpr_code_rules import UnsupportedPrimitiveError
from brainstate.transform._jaxpr_to_code import HANDLERS
from tests.transform.jaxpr_corpus import assert_same_values, evaluate, run_source

T = bs.transform


def roundtrip(fn, *args):
    """Values of fn's jaxpr, and of its generated source executed."""
    closed = jax.make_jaxpr(fn)(*args)
    got = run_source(T.jaxpr_to_python_code(closed, "f"), "f", args)
    want = evaluate(closed, args)
    return (list(got) if isinstance(got, tuple) and len(want) != 1 else [got]), want


@pytest.fixture
def handlers():
    """Restore the code generators after a test registers its own."""
    saved = dict(HANDLERS)
    yield HANDLERS
    HANDLERS.clear()
    HANDLERS.update(saved)


def test_source_is_a_readable_module():
    source = T.jaxpr_to_python_code(jax.make_jaxpr(lambda x, y: jnp.sin(x) * y - 1.0)(1.0, 2.0), "f")
    assert source == ("import jax.numpy as jnp\nfrom jax import lax\n\ndef f(a, b):\n    a, b = map(jnp.asarray, (a, b))\n"
                      "    c = lax.sin(a)\n    d = c * b\n    e = d - 1.0\n    return e\n")


@pytest.mark.parametrize("fn", [
    lambda x: x * jnp.float32(2.0) + 1.5,  # a strong and a weak literal
    lambda x: jnp.where(x > 0, x, jnp.nan) + jnp.inf,
    lambda x: (x.astype(jnp.int32) // 2, x.astype(jnp.int32) % 3, -x.astype(jnp.uint8)),  # integer division
    lambda x: x.astype(jnp.bfloat16) * jnp.asarray([1.5, -2.0, 0.25], jnp.bfloat16),  # an array constant
    lambda x: (jnp.asarray([True, False, True]) & (x > 0), jnp.complex64(1 + 2j) * x),
    lambda x: jax.lax.add(2.0, 3.0) * x,  # an operator on two literals
    lambda x: jnp.zeros((0, 3)) + x,  # an empty array
], ids=["literals", "nan_inf", "integers", "bfloat16", "bool_complex", "two_literals", "empty"])
def test_generated_code_computes_the_same_values(fn):
    got, want = roundtrip(fn, jnp.array([1.5, -2.0, 0.0]))
    assert_same_values(got, want)


def test_inputs_may_be_numpy_arrays():
    closed = jax.make_jaxpr(lambda x, y: x - y)(jnp.ones(2), jnp.ones(2))
    out = run_source(T.jaxpr_to_python_code(closed, "f"), "f", (np.array([np.inf, 1.0]), np.array([np.inf, 2.0])))
    assert isinstance(out, jax.Array)
    np.testing.assert_array_equal(out, np.array([np.nan, -1.0], np.float32))


def test_an_open_jaxpr_takes_its_unknown_constants_as_leading_parameters():
    closed = jax.make_jaxpr(lambda x: x + jnp.asarray([1.0, 2.0]))(jnp.ones(2))
    jaxpr, consts = open_and_consts(closed.jaxpr)
    x = jnp.array([0.5, 0.25])
    args = (x,) if consts else (np.array([1.0, 2.0], np.float32), x)  # jax >= 0.11.1 keeps the values
    assert_same_values([run_source(T.jaxpr_to_python_code(closed.jaxpr, "f"), "f", args)], evaluate(closed, [x]))


def test_many_variables_skip_python_keywords():
    def chain(x):
        for _ in range(260):
            x = jnp.sin(x)
        return x

    source = T.jaxpr_to_python_code(jax.make_jaxpr(chain)(0.5), "f")
    assert " if = " not in source and " in = " not in source and " is = " not in source
    assert_same_values([run_source(source, "f", (0.5,))], [chain(jnp.float32(0.5))])


def test_fn_to_python_code_takes_structured_arguments():
    def loss(params, x, *, scale):
        return jnp.sum((params["w"] * x + params["b"]) ** 2) * scale, x

    params = {"w": jnp.array([1.0, 2.0]), "b": jnp.array(0.5)}
    source = T.fn_to_python_code(loss, params, jnp.array([3.0, -1.0]), scale=2.0)
    assert "def loss(*args, **kwargs):" in source
    namespace = {}
    exec(source, namespace)
    got = namespace["loss"](params, jnp.array([3.0, -1.0]), scale=2.0)
    assert_same_values(list(got), jax.tree_util.tree_leaves(loss(params, jnp.array([3.0, -1.0]), scale=2.0)))


def test_fn_to_python_code_names_a_lambda_generated_function():
    source = T.fn_to_python_code(lambda x: x + 1.0, 1.0)
    assert "def generated_function(a):" in source


def test_fn_to_python_code_rejects_a_non_callable():
    with pytest.raises(TypeError, match=r"fn_to_python_code\(fn\) needs a callable, got int"):
        T.fn_to_python_code(3, 1.0)


@pytest.mark.parametrize("name", ["not valid", "def", "1f", 3])
def test_fn_name_must_be_an_identifier(name):
    with pytest.raises(ValueError, match=r"fn_name=.*must be a Python identifier"):
        T.jaxpr_to_python_code(jax.make_jaxpr(jnp.sin)(1.0), name)


def test_rejects_a_non_jaxpr():
    with pytest.raises(TypeError, match=r"jaxpr_to_python_code\(\) takes a jax Jaxpr or ClosedJaxpr, got str"):
        T.jaxpr_to_python_code("{ lambda ; a. let in (a,) }")


# ----------------------------------------------------------------------------------------------
# code generators


def _my_prim():
    prim = Primitive("my_scale")
    prim.def_impl(lambda x, *, factor: x * factor)
    prim.def_abstract_eval(lambda x, *, factor: x)
    return prim


def test_unknown_primitive_error_names_it():
    prim = _my_prim()
    closed = jax.make_jaxpr(lambda x: prim.bind(x, factor=3.0))(1.0)
    with pytest.raises(UnsupportedPrimitiveError, match=r"'my_scale' equation .* jax.lax has no function 'my_scale'. "
                                                         r"Register a code generator with .*register_prim_handler"):
        T.jaxpr_to_python_code(closed)


def test_registered_generator_is_used(handlers):
    prim = _my_prim()
    T.register_prim_handler(prim, lambda ctx, eqn: f"{ctx.atom(eqn.invars[0])} * {ctx.value(eqn.params['factor'])}")
    closed = jax.make_jaxpr(lambda x: prim.bind(x, factor=3.0) + 1.0)(2.0)
    source = T.jaxpr_to_python_code(closed, "f")
    assert "b = a * 3.0" in source
    assert_same_values([run_source(source, "f", (2.0,))], evaluate(closed, [2.0]))


def test_registering_replaces_a_builtin_generator(handlers):
    T.register_prim_handler("sin", lambda ctx, eqn: f"jnp.sin({ctx.atom(eqn.invars[0])})")
    assert "b = jnp.sin(a)" in T.fn_to_python_code(jnp.sin, 1.0)


def test_a_generator_may_return_ast_statements(handlers):
    def ast_handler(ctx, eqn):
        target = ctx.name(eqn.outvars[0], ast.Store())
        call = ast.Call(func=ast.Name(id="jax.lax.cos", ctx=ast.Load()), args=[ctx.name(eqn.invars[0])], keywords=[])
        return ast.Assign(targets=[target], value=call)

    T.register_prim_handler("cos", ast_handler)
    closed = jax.make_jaxpr(lambda x: jnp.cos(x) * 2.0)(1.0)
    source = T.jaxpr_to_python_code(closed, "f")
    assert "b = jax.lax.cos(a)" in source and source.startswith("import jax\n")
    assert_same_values([run_source(source, "f", (1.0,))], evaluate(closed, [1.0]))


def test_a_generator_returning_something_else_is_an_error(handlers):
    T.register_prim_handler("sin", lambda ctx, eqn: 42)
    with pytest.raises(TypeError, match=r"code generator for primitive 'sin' returned int; it must return the source"):
        T.fn_to_python_code(jnp.sin, 1.0)


@pytest.mark.parametrize("name, handler, message", [
    (3, str, r"needs a primitive name \(str\) or a jax Primitive, got 3"),
    ("", str, r"needs a primitive name \(str\) or a jax Primitive, got ''"),
    ("sin", "lax.sin", r"register_prim_handler\('sin', handler\) needs a callable handler\(ctx, eqn\), got str"),
])
def test_register_validates_its_arguments(name, handler, message):
    with pytest.raises(TypeError, match=message):
        T.register_prim_handler(name, handler)


@pytest.mark.parametrize("params, n_inputs, message", [
    ({"foo": 1}, 1, r"jax.lax.sin takes no parameter 'foo'"),
    ({}, 2, r"jax.lax.sin cannot take its inputs and params"),
    ({"accuracy": object()}, 1, r"a object \(.*\) has no source form"),
])
def test_the_lax_fallback_explains_what_does_not_fit(params, n_inputs, message, handlers):
    handlers.pop("sin", None)  # the fallback, whatever another test (or a doctest) registered
    closed = jax.make_jaxpr(lambda x: jnp.sin(x) * 2.0)(1.0)
    sin, mul = closed.jaxpr.eqns
    weird = sin.replace(params=params, invars=[closed.jaxpr.invars[0]] * n_inputs)
    with pytest.raises(UnsupportedPrimitiveError, match=message):
        T.jaxpr_to_python_code(closed.jaxpr.replace(eqns=[weird, mul]))


def test_python_callbacks_cannot_be_written():
    closed = jax.make_jaxpr(lambda x: io_callback(lambda v: v, jax.ShapeDtypeStruct((), jnp.float32), x))(1.0)
    with pytest.raises(UnsupportedPrimitiveError, match=r"'io_callback' equation"):
        T.jaxpr_to_python_code(closed)


def test_batched_keys_are_not_written_as_jax_random_calls():
    keys = jax.random.split(jax.random.key(0), 3)
    closed = jax.make_jaxpr(jax.vmap(lambda k: jax.random.bits(k, (2,))))(keys)
    with pytest.raises(UnsupportedPrimitiveError, match=r"'random_bits' equation .* maps over an array of keys"):
        T.jaxpr_to_python_code(closed)


def test_debug_print_of_static_arguments_cannot_be_written():
    closed = jax.make_jaxpr(lambda x: jax.debug.print("{} {}", x, "text") or x)(1.0)
    with pytest.raises(UnsupportedPrimitiveError, match=r"prints static \(non-array\) arguments"):
        T.jaxpr_to_python_code(closed)


def test_random_keys_are_written_with_jax_random():
    got, want = roundtrip(lambda k: jax.random.uniform(jax.random.split(jax.random.fold_in(k, 3))[1], (3,)),
                          jax.random.key(1))
    assert_same_values(got, want)


def test_a_constant_without_source_form_is_named():
    key = jax.random.key(0)
    closed = jax.make_jaxpr(lambda x: jax.random.uniform(key) + x)(1.0)
    with pytest.raises(UnsupportedPrimitiveError, match=r"Cannot write the jaxpr constant .* as Python source: a value "
                                                         r"of type key<fry>\[\] has no source form"):
        T.jaxpr_to_python_code(closed)


def test_a_call_without_a_body_is_named():
    closed = jax.make_jaxpr(jax.jit(jnp.sin))(1.0)
    (call,) = closed.jaxpr.eqns
    with pytest.raises(UnsupportedPrimitiveError, match=rf"'{call.primitive.name}' equation as Python source: its "
                                                         r"params hold no jaxpr to call"):
        T.jaxpr_to_python_code(closed.jaxpr.replace(eqns=[call.replace(params={"name": "sin"})]))


@jax.tree_util.register_pytree_node_class
class _Pair:
    def __init__(self, a, b):
        self.a, self.b = a, b

    def tree_flatten(self):
        return (self.a, self.b), None

    @classmethod
    def tree_unflatten(cls, aux, children):
        return cls(*children)


def test_debug_print_of_a_custom_pytree_cannot_be_written():
    closed = jax.make_jaxpr(lambda x: jax.debug.print("{}", _Pair(x, x)) or x)(1.0)
    with pytest.raises(UnsupportedPrimitiveError, match=r"'debug_print' equation as Python source: a _Pair in "
                                                         r"debug_print's arguments has no source form"):
        T.jaxpr_to_python_code(closed)
