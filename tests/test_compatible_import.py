"""The JAX-internal names the ecosystem imports from `brainstate._compatible_import`, with the
calling conventions braintrace and brainpy use, on the installed JAX release."""

import jax
import jax.numpy as jnp
from numpy.testing import assert_allclose

from brainstate import _compatible_import as compat


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
