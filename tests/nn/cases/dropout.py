"""Conformance cases of the dropout layers (`brainstate/nn/_dropout.py`), called with `fit=True`."""

import jax.numpy as jnp

import brainstate as bs

from . import Case
from .normalization import FitMode


def _x(*shape):
    return lambda: (jnp.linspace(0.5, 2.0, int(jnp.prod(jnp.array(shape)))).reshape(shape),)


def _fixed():
    layer = bs.nn.DropoutFixed(6, prob=0.5)
    layer.init_state()
    return FitMode(layer)


CASES = [
    Case("Dropout", lambda: FitMode(bs.nn.Dropout(0.7)), _x(6), deterministic=False),
    Case("Dropout1d", lambda: FitMode(bs.nn.Dropout1d(0.7)), _x(5, 3), deterministic=False),
    Case("Dropout2d", lambda: FitMode(bs.nn.Dropout2d(0.7)), _x(2, 3, 3), deterministic=False),
    Case("Dropout3d", lambda: FitMode(bs.nn.Dropout3d(0.7)), _x(2, 2, 2, 3), deterministic=False),
    Case("AlphaDropout", lambda: FitMode(bs.nn.AlphaDropout(0.7)), _x(6), deterministic=False),
    Case("FeatureAlphaDropout", lambda: FitMode(bs.nn.FeatureAlphaDropout(0.7)), _x(2, 3, 4),
         deterministic=False),
    Case("DropoutFixed", _fixed, _x(6)),
]
