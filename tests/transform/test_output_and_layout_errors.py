"""Clear errors for two mistakes every transform can meet: returning a value that is not a JAX
type, and changing a state's shape (`restore_value`) where a loop or a conditional carries it.
Each error names the culprit; nothing is written back."""

import jax.numpy as jnp
import pytest

import brainstate as bs

T = bs.transform


@pytest.mark.parametrize("run", [
    lambda f: T.jit(f)(1.0),
    lambda f: T.for_loop(f, jnp.arange(3.0)),
    lambda f: T.cond(jnp.array(True), f, f, 1.0),
    lambda f: T.make_jaxpr(f)(1.0),
], ids=["jit", "for_loop", "cond", "make_jaxpr"])
def test_a_string_in_the_output_is_named_with_its_path(run):
    with pytest.raises(TypeError, match=r"returned a str at output `\[1\]\S*` \('label'\), which is not a JAX type"):
        run(lambda x: (x, "label"))


def test_a_module_returned_from_a_transform_is_named():
    class Box:
        pass

    with pytest.raises(TypeError, match=r"returned a Box at output `\['box'\]`"):
        T.jit(lambda x: {"y": x, "box": Box()})(1.0)


def test_valid_outputs_still_pass():
    out = T.jit(lambda x: {"a": x, "n": 3, "f": 2.0, "b": True, "none": None})(1.0)
    assert float(out["a"]) == 1.0 and int(out["n"]) == 3 and out["none"] is None


@pytest.fixture
def h():
    return bs.HiddenState(jnp.zeros(2))


def test_for_loop_body_reshaping_a_state_is_named(h):
    def body(x):
        h.restore_value(jnp.zeros(3) + x)

    with pytest.raises(TypeError, match=r"for_loop: the body changes HiddenState .* from float32\[2\] to "
                                        r"float32\[3\] \(`restore_value`\).*outside the loop"):
        T.for_loop(body, jnp.arange(3.0))
    assert h.value.shape == (2,)


def test_scan_and_while_loop_reshaping_a_state_are_named(h):
    def step(c, x):
        h.restore_value(jnp.zeros(3))
        return c, x

    with pytest.raises(TypeError, match=r"scan: the body changes HiddenState"):
        T.scan(step, 0.0, jnp.arange(3.0))

    def body(c):
        h.restore_value(jnp.zeros((2, 2)))
        return c + 1

    with pytest.raises(TypeError, match=r"while_loop: the body changes HiddenState .* float32\[2,2\]"):
        T.while_loop(lambda c: c < 3, body, 0)
    assert h.value.shape == (2,)


def test_loop_writing_the_same_layout_is_fine(h):
    def body(x):
        h.restore_value(h.value + x)  # a restore that keeps the shape is an ordinary write

    T.for_loop(body, jnp.arange(3.0))
    assert h.value.tolist() == [3.0, 3.0]


def test_conditional_whose_branches_disagree_on_a_state_layout_is_named(h):
    with pytest.raises(TypeError, match=r"cond: HiddenState .* leaves branch 0 as float32\[3\] but branch 1 "
                                        r"as float32\[2\]"):
        T.cond(jnp.array(True), lambda: h.restore_value(jnp.zeros(3)), lambda: None)
    with pytest.raises(TypeError, match=r"switch: HiddenState .* int32\[2\]"):
        T.switch(jnp.array(1), [lambda: None, lambda: h.restore_value(jnp.zeros(2, jnp.int32))])
    assert h.value.shape == (2,) and h.value.dtype == jnp.float32


def test_conditional_whose_branches_agree_on_a_new_layout_runs(h):
    T.cond(jnp.array(False), lambda: h.restore_value(jnp.zeros(3)), lambda: h.restore_value(jnp.ones(3)))
    assert h.value.tolist() == [1.0, 1.0, 1.0]
