"""Deprecated: `brainstate.augment` is `brainstate.transform` (every access warns)."""

from ._forward import forwarder

NAMES = ("GradientTransform", "grad", "vector_grad", "hessian", "jacobian", "jacrev", "jacfwd", "vmap")

__getattr__, __dir__ = forwarder("brainstate.augment", "brainstate.transform", NAMES)
