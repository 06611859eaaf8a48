"""Conformance cases of the pooling layers (`brainstate/nn/_pooling.py`)."""

import jax.numpy as jnp
import numpy as np

import brainstate as bs

from . import Case


def _x(*shape):
    # distinct values, so every max is unique and LP windows are never all zero
    return lambda: ((jnp.cos(jnp.arange(int(np.prod(shape)), dtype=jnp.float32)) + 2.0).reshape(shape),)


_SHAPE = {1: (6, 2), 2: (4, 4, 2), 3: (4, 4, 4, 2)}


def _unpool_inputs(n):
    def inputs():
        y, idx = getattr(bs.nn, f"MaxPool{n}d")(2, return_indices=True)(*_x(*_SHAPE[n])())
        return y, idx

    return inputs


CASES = []
for n, shape in _SHAPE.items():
    CASES += [
        Case(f"MaxPool{n}d", lambda n=n: getattr(bs.nn, f"MaxPool{n}d")(2, padding=1), _x(*shape)),
        Case(f"AvgPool{n}d", lambda n=n: getattr(bs.nn, f"AvgPool{n}d")(3, stride=2, padding="SAME"), _x(*shape)),
        Case(f"LPPool{n}d", lambda n=n: getattr(bs.nn, f"LPPool{n}d")(2.0, 2), _x(*shape)),
        Case(f"AdaptiveAvgPool{n}d", lambda n=n: getattr(bs.nn, f"AdaptiveAvgPool{n}d")(3), _x(*shape)),
        Case(f"AdaptiveMaxPool{n}d", lambda n=n: getattr(bs.nn, f"AdaptiveMaxPool{n}d")(3), _x(*shape)),
        Case(f"MaxUnpool{n}d", lambda n=n: getattr(bs.nn, f"MaxUnpool{n}d")(2), _unpool_inputs(n)),
    ]
