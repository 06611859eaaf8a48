"""`moved_to_braintools`: the deprecated `brainstate.init` / `brainstate.surrogate` modules.

They live in the optional `braintools` package now. Accessing one warns and returns
`braintools.<name>`; without braintools it is a `ModuleNotFoundError` that says what to install.
"""

import importlib
import warnings
from typing import Any


def moved_to_braintools(name: str) -> Any:
    """`braintools.<name>`, after a `DeprecationWarning` attributed to the caller's caller.

    Raises:
      ModuleNotFoundError: braintools is not installed.
    """
    warnings.warn(f"brainstate.{name} is deprecated; use braintools.{name} instead (brainstate.nn.init holds "
                  f"brainstate's own initializers).", DeprecationWarning, stacklevel=3)
    try:
        module = importlib.import_module(f"braintools.{name}")
    except ModuleNotFoundError as err:
        if err.name not in ("braintools", f"braintools.{name}"):
            raise
        raise ModuleNotFoundError(
            f"brainstate.{name} moved to the braintools package (braintools.{name}), which is not installed. "
            f"Install it with `pip install braintools` (it needs Python >= 3.12), or use brainstate.nn.init for "
            f"initializers.", name="braintools") from None
    return module
