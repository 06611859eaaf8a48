"""Properties of the jaxpr tools over a corpus: the package's layers and transforms, and generated programs.

For every jaxpr: the optimised jaxpr computes the same values as the original (NaNs and signs
of zeros included; up to float rounding, since XLA may round a computation differently once a
pass has moved its jit boundaries or changed what is fused); each pass is idempotent (twice
prints the same jaxpr as once); the Python source generated from the original and from the
optimised jaxpr, executed, computes the same values.
"""

import jax
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import brainstate as bs
from tests.nn.cases import ALL_CASES
from tests.transform.jaxpr_corpus import (DEFAULT_LAYERS, assert_same_values, evaluate, layer_program, programs,
                                          random_program, run_source)

T = bs.transform
PASSES = {"constant_fold": T.constant_fold, "dead_code_elimination": T.dead_code_elimination,
          "common_subexpression_elimination": T.common_subexpression_elimination,
          "copy_propagation": T.copy_propagation, "algebraic_simplification": T.algebraic_simplification,
          "inline_jit": T.inline_jit}
CASES = {case.name: case for case in ALL_CASES}
PROGRAMS = programs()


def outputs(result, n):
    return list(result) if isinstance(result, tuple) and n != 1 else [result]


def check_program(closed, args, generate_code=True):
    want = evaluate(closed, args)
    optimized = T.optimize_jaxpr(closed)
    assert_same_values(evaluate(optimized, args), want)
    for name, pass_ in PASSES.items():
        once = pass_(closed)
        assert str(pass_(once)) == str(once), f"{name} is not idempotent"
        assert_same_values(evaluate(once, args), want)
    if generate_code:
        for jaxpr in (closed, optimized):
            got = run_source(T.jaxpr_to_python_code(jaxpr, "f"), "f", args)
            assert_same_values(outputs(got, len(want)), want)


@pytest.mark.parametrize("name", DEFAULT_LAYERS)
def test_layer_jaxprs(name):
    program = layer_program(CASES[name])
    check_program(program.closed, program.args)


@pytest.mark.slow
@pytest.mark.parametrize("case", [c for c in ALL_CASES if c.name not in DEFAULT_LAYERS], ids=str)
def test_every_layer_jaxpr(case):
    program = layer_program(case)
    check_program(program.closed, program.args)


@pytest.mark.parametrize("program", PROGRAMS, ids=str)
def test_transform_and_structured_jaxprs(program):
    check_program(program.closed, program.args)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_program())
def test_generated_programs(program):
    fn, args = program
    check_program(jax.make_jaxpr(fn)(*args), args)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(DEFAULT_LAYERS + tuple(p.name for p in PROGRAMS)),
       st.lists(st.sampled_from(sorted(PASSES)), max_size=6))
def test_any_sequence_of_passes_keeps_the_values(name, sequence):
    program = layer_program(CASES[name]) if name in CASES else next(p for p in PROGRAMS if p.name == name)
    jaxpr = program.closed
    for pass_name in sequence:
        jaxpr = PASSES[pass_name](jaxpr)
    assert_same_values(evaluate(jaxpr, program.args), evaluate(program.closed, program.args))
    assert [v.aval for v in jaxpr.jaxpr.outvars] == [v.aval for v in program.closed.jaxpr.outvars]
