"""Settings shared by a whole program: time step, precision, training mode, ...

`set` changes them process-wide, `context` overrides them on this thread for a block, and
`get` reads them. Compiled functions are keyed on the settings they read while tracing.
"""

from ._settings import (DEFAULT_PRECISION, DT, FIT, HOST_DEVICE_COUNT, I, JIT_ERROR_CHECK, PLATFORM,
                        PRECISION, SUPPORTED_PLATFORMS, SUPPORTED_PRECISIONS, T, EnvironmentState, all,
                        context, get, get_dt, list_registered_behaviors, pop, register_default_behavior,
                        reset, set, unregister_default_behavior)
from ._precision import dctype, dftype, ditype, dutype, get_precision, set_precision, tolerance
from ._platform import get_host_device_count, get_platform, set_host_device_count, set_platform
from jax import devices

# Names the reference release exposes from this module (re-exports kept for compatibility).
import contextlib
import dataclasses
import functools
import os
import re
import threading
import warnings
from collections import defaultdict
from typing import Any, Callable, ContextManager, Dict, Hashable, List, Optional, Union

import jax.numpy as jnp
import numpy as np
from jax.typing import DTypeLike

PlatformType = str
PrecisionType = Union[int, str]
config = jax_config = __import__("jax").config


def __getattr__(name: str):
    # `u` is brainunit, as in the reference release (which imports it here); loaded on first use.
    if name == "u":
        try:
            import brainunit
        except ImportError:
            raise ModuleNotFoundError(f"{__name__}.u is the optional package 'brainunit'; install it with "
                                      f"`pip install brainunit` (or `pip install brainstate[units]`).") from None
        return brainunit
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
