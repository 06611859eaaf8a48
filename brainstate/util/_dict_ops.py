"""Plain nested dicts with string keys: flatten to `'a.b.c'` keys, unflatten, deep-merge.

These work on ordinary dicts (configurations, logged metrics, checkpoints' metadata); for
dicts keyed by graph paths use `NestedDict`/`FlattedDict` instead.

Invariants: the inputs are never modified; `unflatten_dict(flatten_dict(d)) == d` for a dict
whose keys do not contain `sep` (an empty sub-dict survives as an empty dict).
"""

from collections.abc import Mapping
from typing import Any, Dict

__all__ = ["flatten_dict", "unflatten_dict", "merge_dicts"]



def flatten_dict(d: Mapping[Any, Any], parent_key: str = "", sep: str = ".") -> Dict[str, Any]:
    """One level of keys joined by `sep`; empty sub-dicts are kept as `{}` values.

    Args:
      d: a nested mapping.
      parent_key: a prefix for every key (joined with `sep`).
      sep: the separator.

    Example:
      >>> from brainstate.util import flatten_dict
      >>> flatten_dict({'optim': {'lr': 0.1, 'betas': {'b1': 0.9}}})
      {'optim.lr': 0.1, 'optim.betas.b1': 0.9}
    """
    out: Dict[str, Any] = {}
    for key, value in d.items():
        name = f"{parent_key}{sep}{key}" if parent_key else str(key)
        if isinstance(value, Mapping) and value:
            out.update(flatten_dict(value, name, sep))
        else:
            out[name] = {} if isinstance(value, Mapping) else value
    return out


def unflatten_dict(d: Dict[str, Any], sep: str = ".") -> Dict[str, Any]:
    """Nest a dict with `sep`-joined keys (the inverse of `flatten_dict`).

    Raises:
      ValueError: if one key is a prefix of another but holds a plain value (e.g. both `'a'` and
        `'a.b'`), since `'a'` cannot be a value and a dict at once.

    Example:
      >>> from brainstate.util import unflatten_dict
      >>> unflatten_dict({'optim.lr': 0.1, 'seed': 0})
      {'optim': {'lr': 0.1}, 'seed': 0}
    """
    out: Dict[str, Any] = {}
    made = {id(out)}  # the dicts built here; a dict given as a value is a leaf, never filled in
    for key, value in d.items():
        parts = key.split(sep)
        node = out
        for i, part in enumerate(parts[:-1]):
            if part not in node:
                node[part] = {}
                made.add(id(node[part]))
            child = node[part]
            if id(child) not in made:
                raise ValueError(
                    f"unflatten_dict: key {key!r} needs {sep.join(parts[:i + 1])!r} to be a dict, but "
                    f"that key holds the value {child!r}. Rename one of the two keys.")
            node = child
        last = parts[-1]
        if last in node:  # keys are unique, so it was made as the parent of an earlier key
            raise ValueError(
                f"unflatten_dict: key {key!r} holds a value, but other keys lie under it "
                f"({sorted(node[last])}). Rename one of them.")
        node[last] = value
    return out


def merge_dicts(*dicts: Mapping[Any, Any], recursive: bool = True) -> Dict[Any, Any]:
    """A new dict with the entries of every dict, later ones winning.

    Args:
      *dicts: the dicts to merge, in order of increasing priority.
      recursive: merge nested dicts key by key (default); if False, a later nested dict
        replaces an earlier one whole.

    Example:
      >>> from brainstate.util import merge_dicts
      >>> merge_dicts({'a': {'x': 1}}, {'a': {'y': 2}})
      {'a': {'x': 1, 'y': 2}}
      >>> merge_dicts({'a': {'x': 1}}, {'a': {'y': 2}}, recursive=False)
      {'a': {'y': 2}}
    """
    out: Dict[Any, Any] = {}
    for d in dicts:
        for key, value in d.items():
            if recursive and isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
                out[key] = merge_dicts(out[key], value)
            elif recursive and isinstance(value, Mapping):
                out[key] = merge_dicts(value)  # a copy, so later merges never touch the input
            else:
                out[key] = value
    return out
