"""Conformance cases of the padding layers (`brainstate/nn/_padding.py`)."""

import jax.numpy as jnp
import numpy as np

import brainstate as bs

from . import Case


def _x(*shape):
    return lambda: (jnp.linspace(-1.0, 1.0, int(np.prod(shape))).reshape(shape),)


_SHAPE = {1: (5, 2), 2: (4, 3, 2), 3: (3, 3, 3, 2)}

CASES = [Case(f"ConstantPad{n}d", lambda n=n: getattr(bs.nn, f"ConstantPad{n}d")(1, value=0.5), _x(*s))
         for n, s in _SHAPE.items()]
CASES += [Case(f"{kind}{n}d", lambda kind=kind, n=n: getattr(bs.nn, f"{kind}{n}d")((1, 2) * n), _x(*s))
          for kind in ["ZeroPad", "ReflectionPad", "ReplicationPad", "CircularPad"] for n, s in _SHAPE.items()]
