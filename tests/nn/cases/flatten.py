"""Conformance cases of `Flatten` and `Unflatten` (`brainstate/nn/_flatten.py`)."""

import jax.numpy as jnp

import brainstate as bs

from . import Case

CASES = [
    Case("Flatten", lambda: bs.nn.Flatten(in_size=(3, 4)), lambda: (jnp.linspace(-1.0, 1.0, 12).reshape(3, 4),)),
    Case("Unflatten", lambda: bs.nn.Unflatten(0, (2, -1), in_size=(6,)), lambda: (jnp.linspace(-1.0, 1.0, 6),)),
]
