"""`split_total`: how many of `total` items a fraction or a count stands for.

Used to size train/validation splits and sub-populations: `fraction` is either a float share
of `total` in [0, 1] or an integer count in [0, total].
"""

from typing import Union

__all__ = ["split_total"]


def split_total(total: int, fraction: Union[int, float]) -> int:
    """The size of a part of `total`: `int(total * fraction)` for a float, `fraction` for an int.

    Args:
      total: the whole, a positive integer.
      fraction: a float in [0, 1] (a share), or an int in [0, total] (a count).

    Raises:
      TypeError: if `total` is not an int or `fraction` is neither an int nor a float.
      ValueError: if `total` is not positive or `fraction` is out of range.

    Example:
      >>> from brainstate.util import split_total
      >>> split_total(10, 0.3), split_total(10, 4)
      (3, 4)
    """
    if isinstance(total, bool) or not isinstance(total, int):
        raise TypeError(f"split_total: 'total' must be an int, got {type(total).__name__}.")
    if total <= 0:
        raise ValueError(f"split_total: 'total' must be a positive integer, got {total}.")
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)):
        raise TypeError(
            f"split_total: 'fraction' must be a float share in [0, 1] or an int count, got "
            f"{type(fraction).__name__}.")
    if fraction < 0:
        raise ValueError(f"split_total: 'fraction' cannot be negative, got {fraction}.")
    if isinstance(fraction, float):
        if fraction > 1:
            raise ValueError(
                f"split_total: a float 'fraction' is a share and cannot exceed 1, got {fraction}. "
                f"Pass an int to give a count instead.")
        return int(total * fraction)
    if fraction > total:
        raise ValueError(f"split_total: the count 'fraction' ({fraction}) cannot exceed 'total' ({total}).")
    return fraction
