"""A corpus of jaxprs for the jaxpr-tool tests, and helpers to evaluate and compare them.

* `layer_program(case)`: the jaxpr of one layer of the conformance list (tests/nn/cases) with its
  states, via `brainstate.transform.make_jaxpr`.
* `PROGRAMS`: stateful programs using the package's transforms (for_loop, cond, while_loop, jit,
  grad, vmap, checkpoint), a LIF neuron and an RNN cell run over time, and plain JAX programs
  with sub-jaxprs, effects, custom derivatives, literals, constvars and dropped outputs.
* `random_program`: a hypothesis strategy for generated programs of arithmetic / comparison /
  select / reduce / dot operations with repeated subexpressions, constants and dead code.
"""

import dataclasses
from typing import Any, Callable, List, Tuple

import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import brainstate as bs
from brainstate._compatible_import import open_and_consts


@dataclasses.dataclass
class Program:
    """A closed jaxpr and the flat arguments to evaluate it on."""

    name: str
    closed: Any
    args: Tuple[Any, ...]

    def __str__(self):
        return self.name


def evaluate(closed, args) -> List[np.ndarray]:
    """The outputs of `closed` (a Jaxpr or ClosedJaxpr) on `args`, as NumPy arrays."""
    jaxpr, consts = open_and_consts(closed)
    return [_numpy(x) for x in jax.core.eval_jaxpr(jaxpr, consts, *args)]


def _numpy(x) -> np.ndarray:
    """`x` as NumPy; a typed PRNG key as its raw key data."""
    if jax.dtypes.issubdtype(getattr(x, "dtype", None), jax.dtypes.prng_key):
        x = jax.random.key_data(x)
    return np.asarray(x)


def assert_same_values(got, want) -> None:
    """Equal leaf by leaf: same count, shapes and dtypes; values equal up to one or two float32 roundings
    (XLA may round differently once a computation is compiled with other boundaries), NaN where NaN,
    and the same sign where both are zero."""
    got, want = jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want)
    assert len(got) == len(want), f"{len(got)} outputs, expected {len(want)}"
    for a, b in zip(got, want):
        a, b = _numpy(a), _numpy(b)
        assert a.shape == b.shape and a.dtype == b.dtype, f"{a.dtype}{a.shape} vs {b.dtype}{b.shape}"
        if np.issubdtype(a.dtype, np.inexact):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
            for part in (np.real, np.imag) if np.iscomplexobj(a) else (np.asarray,):
                x, y = part(a), part(b)
                zeros = (x == 0) & (y == 0)
                np.testing.assert_array_equal(np.signbit(x[zeros]), np.signbit(y[zeros]))
        else:
            np.testing.assert_array_equal(a, b)


def run_source(source: str, fn_name: str, args) -> Any:
    """Execute generated source and call `fn_name` on `args`."""
    namespace = {}
    exec(compile(source, f"<generated {fn_name}>", "exec"), namespace)
    return namespace[fn_name](*args)


def stateful(name: str, fn: Callable, *args) -> Program:
    """The program of `fn(*args)` as `brainstate.transform.make_jaxpr` sees it (arguments, then states)."""
    closed, states = bs.transform.make_jaxpr(fn)(*args)
    flat = jax.tree_util.tree_leaves(args) + jax.tree_util.tree_leaves([s.value for s in states])
    return Program(name, closed, tuple(flat))


def plain(name: str, fn: Callable, *args) -> Program:
    return Program(name, jax.make_jaxpr(fn)(*args), tuple(jax.tree_util.tree_leaves(args)))


# ----------------------------------------------------------------------------------------------
# layers of the conformance list


_LAYER_PROGRAMS = {}


def layer_program(case) -> Program:
    """The (cached) program of a conformance case."""
    if case.name not in _LAYER_PROGRAMS:
        _LAYER_PROGRAMS[case.name] = _trace_layer(case)
    return _LAYER_PROGRAMS[case.name]


def _trace_layer(case) -> Program:
    bs.random.seed(0)
    layer = case.build()
    return stateful(case.name, lambda *a: layer(*a, **case.kwargs), *case.inputs())


# Layers run by the default suite (the whole list runs with -m slow): dense, conv, recurrent,
# spiking with delays, random, normalisation, pooling (reduce_window), gather, sparse, vmap'd.
DEFAULT_LAYERS = ("Linear", "Sequential", "Conv2d", "Dropout", "LIF", "Delay", "Embedding", "BatchNorm1d",
                  "LayerNorm", "MaxPool2d", "LPPool1d", "GRUCell", "LSTMCell", "SparseLinear", "Map")


# ----------------------------------------------------------------------------------------------
# programs using the package's transforms and JAX's structured primitives


def _lif_over_time():
    lif = bs.nn.EnvironContext(bs.nn.LIF(4, tau=10.0, tau_ref=0.5, V_initializer=0.95), dt=0.1)
    bs.nn.init_all_states(lif)
    return stateful("lif_for_loop", lambda xs: bs.transform.for_loop(lambda x: lif(x), xs),
                    jnp.linspace(0.0, 40.0, 24).reshape(6, 4))


def _gru_over_time():
    cell = bs.nn.GRUCell(3, 4)
    cell.init_state()
    return stateful("gru_for_loop", lambda xs: bs.transform.for_loop(lambda x: cell(x), xs),
                    jnp.linspace(-1.0, 1.0, 15).reshape(5, 3))


def _linear_with_counter():
    layer, count = bs.nn.Linear(3, 2), bs.State(jnp.zeros((), jnp.int32))

    def step(x):
        count.value += 1
        return jnp.tanh(layer(x)) + jnp.tanh(layer(x))  # the layer twice: a repeated subexpression

    return stateful("linear_counter", step, jnp.array([0.5, -1.0, 2.0]))


def _cond_and_while():
    acc = bs.State(jnp.ones(3))

    def fn(x, flag):
        def grow(v):
            acc.value = acc.value * 2.0 + v
            return v * 1.0

        def shrink(v):
            acc.value = acc.value - 0.0
            return -(-v)

        y = bs.transform.cond(flag, grow, shrink, x)
        n = bs.transform.while_loop(lambda i: i < 4, lambda i: i + 1, 0)
        return y + n

    return stateful("cond_while", fn, jnp.array([1.0, -2.0, 3.0]), jnp.array(True))


def _grad_vmap_jit_remat():
    layer = bs.nn.Linear(3, 2)
    params = layer.states(bs.ParamState)

    def loss(x):
        return jnp.sum(bs.transform.checkpoint(lambda v: jnp.sin(layer(v)) ** 2)(x))

    def fn(xs):
        grads = bs.transform.grad(loss, params)(xs[0])
        batched = bs.transform.vmap(lambda x: bs.transform.jit(layer)(x))(xs)
        return grads, batched

    return stateful("grad_vmap_jit_remat", fn, jnp.linspace(-1.0, 1.0, 6).reshape(2, 3))


def _dropout():
    drop = bs.nn.Dropout(0.5)
    with bs.environ.context(fit=True):
        return stateful("dropout_random", lambda x: drop(x) + drop(x), jnp.ones(5))


@jax.custom_jvp
def _soft_clip(x):
    return jnp.tanh(x) * 2.0


_soft_clip.defjvp(lambda p, t: (_soft_clip(p[0]), t[0] * (1.0 - jnp.tanh(p[0]) ** 2) * 2.0))


@jax.custom_vjp
def _scaled(x):
    return x * 3.0


_scaled.defvjp(lambda x: (_scaled(x), None), lambda _, g: (g * 3.0,))


def _structured(x, y):
    w = jnp.array([[1.0, 2.0, 0.5], [0.0, -1.0, 1.5], [2.0, 0.25, -0.5]])  # a constvar
    inner = jax.jit(lambda a: jnp.sin(a) * (2.0 * 3.0))
    carry, ys = jax.lax.scan(lambda c, v: (c + inner(v), c * v + 0.0), jnp.zeros(3), jnp.stack([x, y, x]))
    branch = jax.lax.cond(jnp.sum(x) > 0, lambda a: a @ w, lambda a: -(a @ w), y)
    unused = jnp.cos(x) + jnp.exp(y)  # dead code
    z = jax.lax.select_n(x > y, x, x) * 1.0 + _soft_clip(y) + _scaled(x) + jax.checkpoint(jnp.sin)(x)
    return carry, ys, branch, z + inner(x) + inner(x)


def _with_effects(x):
    y = jnp.sin(x)
    jax.debug.print("y = {}", y)
    return jnp.sin(x) * 1.0 + y


def programs() -> List[Program]:
    return [
        _lif_over_time(), _gru_over_time(), _linear_with_counter(), _cond_and_while(), _grad_vmap_jit_remat(),
        _dropout(),
        plain("structured", _structured, jnp.array([0.5, -1.0, 2.0]), jnp.array([1.0, 0.25, -3.0])),
        plain("debug_print", _with_effects, jnp.array([0.5, -0.0, 2.0])),
        plain("literal_output", lambda x: (x, 1.0, jnp.float32(2.0) * 3.0), jnp.ones(2)),
        plain("top_k_dropvar", lambda x: jax.lax.top_k(x, 2)[1], jnp.array([3.0, 1.0, 2.0])),
    ]


# ----------------------------------------------------------------------------------------------
# generated programs

UNARY = {"sin": jnp.sin, "tanh": jnp.tanh, "neg": jnp.negative, "abs": jnp.abs, "negneg": lambda a: -(-a)}
BINARY = {"add": jnp.add, "sub": jnp.subtract, "mul": jnp.multiply, "max": jnp.maximum,
          "where_lt": lambda a, b: jnp.where(a < b, a, b), "where_ge": lambda a, b: jnp.where(a >= b, b, a)}
CONSTANT = {"add_c": lambda a, c: a + c, "mul_c": lambda a, c: a * c, "sub_c": lambda a, c: a - c,
            "c_times_c": lambda a, c: a * (jax.lax.mul(jnp.float32(c), jnp.float32(2.0)))}
OTHER = ("sum_back", "dot", "repeat", "identity_ops")

_W = np.array([[0.5, -1.0, 2.0], [1.0, 0.0, -0.5], [0.25, 1.5, 1.0]], np.float32)


@st.composite
def random_program(draw) -> Tuple[Callable, Tuple[np.ndarray, np.ndarray]]:
    """A function of two float32[3] vectors and example inputs (with -0.0, inf and nan sometimes)."""
    names = sorted(UNARY) + sorted(BINARY) + sorted(CONSTANT) + list(OTHER)
    ops = draw(st.lists(st.tuples(st.sampled_from(names), st.integers(0, 50), st.integers(0, 50),
                                  st.sampled_from([0.0, -0.0, 1.0, 2.0, 0.5, -3.0])), min_size=1, max_size=12))
    outputs = draw(st.lists(st.integers(0, 50), min_size=1, max_size=3))

    def apply(name, a, b, c):
        if name in UNARY:
            return UNARY[name](a)
        if name in BINARY:
            return BINARY[name](a, b)
        if name in CONSTANT:
            return CONSTANT[name](a, c)
        if name == "sum_back":
            return a + jnp.sum(b)
        if name == "dot":
            return a @ jnp.asarray(_W)  # a closed-over array: a constvar
        return jnp.reshape(jnp.asarray(a, jnp.float32), (3,)).T + jnp.zeros(3)  # identity_ops

    def fn(x, y):
        values, made = [x, y], []
        for name, i, j, c in ops:
            if name == "repeat":  # an earlier operation on the same operands: a common subexpression
                name, i, j, c = made[i % len(made)] if made else ("sin", 0, 0, c)
            else:
                i, j = i % len(values), j % len(values)
            values.append(apply(name, values[i], values[j], c))
            made.append((name, i, j, c))
        return tuple(values[k % len(values)] for k in outputs)  # earlier values may stay unused: dead code

    element = st.one_of(st.floats(-4.0, 4.0, width=32), st.sampled_from([0.0, -0.0, np.inf, -np.inf, np.nan]))
    x = draw(hnp.arrays(np.float32, (3,), elements=element))
    y = draw(hnp.arrays(np.float32, (3,), elements=element))
    return fn, (x, y)
