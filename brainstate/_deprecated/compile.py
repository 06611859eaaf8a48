"""Deprecated: `brainstate.compile` is `brainstate.transform` (every access warns)."""

from ._forward import forwarder

NAMES = ("checkpoint", "remat", "cond", "switch", "ifelse", "jit_error_if", "jit", "scan", "checkpointed_scan",
         "for_loop", "checkpointed_for_loop", "while_loop", "bounded_while_loop", "StatefulFunction", "make_jaxpr",
         "ProgressBar")

__getattr__, __dir__ = forwarder("brainstate.compile", "brainstate.transform", NAMES)
