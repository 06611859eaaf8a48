"""The JAX-internal names the ecosystem imports from `brainstate._compatible_import`, with the
calling conventions braintrace and brainpy use, on the installed JAX release."""

import jax
import jax.numpy as jnp
import pytest
from numpy.testing import assert_allclose

from brainstate import _compatible_import as compat
from brainstate._compatible_import import safe_map, safe_zip


def test_wrap_init_takes_args_kwargs_and_a_name():
    wrapped = compat.wrap_init(lambda x: x * 2.0, (jnp.ones(2),), {}, "double")
    assert_allclose(wrapped.call_wrapped(jnp.ones(2)), [2.0, 2.0])
    assert "double" in str(wrapped.debug_info)


def test_scan_num_consts_carry_counts_the_operand_groups():
    w = jnp.full(3, 2.0)

    def f(c, xs):
        def body(carry, x):
            a, b = carry
            return (a + x * w, b + 1.0), x

        return jax.lax.scan(body, c, xs)

    closed = jax.make_jaxpr(f)((jnp.zeros(3), jnp.zeros(())), jnp.ones((4, 3)))
    (eqn,) = [e for e in closed.jaxpr.eqns if e.primitive.name == "scan"]
    consts, carry = compat.scan_num_consts_carry(eqn.params)
    assert carry == 2 and consts + carry + 1 == len(eqn.invars)
    assert compat.scan_counts(eqn.params, len(eqn.invars)) == (consts, carry)


def test_safe_map_maps_equal_length_sequences():
    assert safe_map(lambda a, b: a * b, [1, 2, 3], (4, 5, 6)) == [4, 10, 18]


def test_safe_zip_zips_equal_length_sequences():
    assert safe_zip([1, 2], "ab") == [(1, "a"), (2, "b")]


@pytest.mark.parametrize("lengths", [(1, 2), (2, 1), (2, 2, 3)])
def test_safe_map_refuses_sequences_of_different_lengths(lengths):
    # A plain `map` would stop at the shortest sequence and silently drop the rest.
    with pytest.raises(ValueError, match=rf"safe_map: length mismatch \[{', '.join(map(str, lengths))}\]"):
        safe_map(lambda *xs: xs, *[range(n) for n in lengths])


@pytest.mark.parametrize("lengths", [(1, 2), (2, 1), (2, 2, 3)])
def test_safe_zip_refuses_sequences_of_different_lengths(lengths):
    with pytest.raises(ValueError, match=rf"safe_zip: length mismatch \[{', '.join(map(str, lengths))}\]"):
        safe_zip(*[range(n) for n in lengths])
