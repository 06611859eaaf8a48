"""Deprecated: `brainstate.functional` is `brainstate.nn`'s functions (every access warns)."""

from ._forward import forwarder

NAMES = ("weight_standardization", "clip_grad_norm", "tanh", "relu", "squareplus", "softplus", "soft_sign",
         "sigmoid", "silu", "swish", "log_sigmoid", "elu", "leaky_relu", "hard_tanh", "celu", "selu", "gelu", "glu",
         "logsumexp", "log_softmax", "softmax", "standardize", "relu6", "hard_sigmoid", "sparse_plus", "hard_silu",
         "hard_swish", "hard_shrink", "rrelu", "mish", "soft_shrink", "prelu", "softmin", "one_hot",
         "sparse_sigmoid")

__getattr__, __dir__ = forwarder("brainstate.functional", "brainstate.nn", NAMES)
