"""`forwarder`: builds the `__getattr__` / `__dir__` of a deprecated module that forwards names."""

import importlib
import warnings
from typing import Any, Callable, Iterable, List, Tuple


def forwarder(old: str, new: str, names: Iterable[str]) -> Tuple[Callable[[str], Any], Callable[[], List[str]]]:
    """Module-level `__getattr__` and `__dir__` forwarding `names` of module `old` to module `new`.

    Each access warns (`DeprecationWarning`, attributed to the caller's line) and returns
    `getattr(new_module, name)`; any other name is an `AttributeError` listing the kept names.
    """
    kept = tuple(names)

    def __getattr__(name: str) -> Any:
        if name.startswith("_"):
            # Tools probe modules for dunders (`__test__`, `__wrapped__`, ...): plain and silent.
            raise AttributeError(f"module {old!r} has no attribute {name!r}")
        if name not in kept:
            raise AttributeError(f"module {old!r} has no attribute {name!r}. {old} is deprecated and keeps only "
                                 f"{', '.join(kept)}; look for {name!r} in {new}.")
        warnings.warn(f"{old}.{name} is deprecated; use {new}.{name} instead.", DeprecationWarning, stacklevel=2)
        return getattr(importlib.import_module(new), name)

    def __dir__() -> List[str]:
        return sorted(kept)

    return __getattr__, __dir__
