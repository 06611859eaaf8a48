"""Conformance cases of the element-wise activation layers (`brainstate/nn/_elementwise.py`)."""

import jax.numpy as jnp

import brainstate as bs

from . import Case


def _x():
    return (jnp.linspace(-2.0, 2.0, 6),)


def _case(name, build, inputs=_x, **kw):
    return Case(name, build, inputs, **kw)


_SIMPLE = ["CELU", "ELU", "GELU", "GLU", "Hardshrink", "Hardsigmoid", "Hardswish", "Hardtanh", "Identity",
           "LeakyReLU", "LogSigmoid", "LogSoftmax", "Mish", "ReLU", "ReLU6", "SELU", "SiLU", "Sigmoid",
           "Softmax", "Softmin", "Softplus", "Softshrink", "Softsign", "Tanh", "Tanhshrink"]

CASES = [_case(name, getattr(bs.nn, name)) for name in _SIMPLE] + [
    _case("Threshold", lambda: bs.nn.Threshold(0.1, -1.0)),
    _case("PReLU", lambda: bs.nn.PReLU(6, init=0.1)),
    _case("RReLU", lambda: bs.nn.RReLU(), deterministic=False),
    _case("Softmax2d", bs.nn.Softmax2d, lambda: (jnp.linspace(-1.0, 1.0, 18).reshape(2, 3, 3),)),
]
