"""The JAX platform and the number of simulated host devices.

Both are chosen before JAX initialises its backends (first thing in a program): the platform
through JAX's `jax_platforms` option, the device count through the
`--xla_force_host_platform_device_count` flag of the `XLA_FLAGS` environment variable. The
values chosen are also kept as the settings `platform` and `host_device_count`.
"""

import os
import re

import jax

from ._settings import HOST_DEVICE_COUNT, PLATFORM, _DEFAULT, _check

__all__ = ["get_platform", "set_platform", "get_host_device_count", "set_host_device_count"]


def get_platform() -> str:
    """The default JAX backend platform.

    Returns:
      `'cpu'`, `'gpu'` or `'tpu'` (JAX's default backend).

    Example:
      >>> import brainstate
      >>> brainstate.environ.get_platform() in ('cpu', 'gpu', 'tpu')
      True
    """
    return jax.default_backend()


def set_platform(platform: str) -> None:
    """Choose the JAX platform; only effective before JAX initialises its backends.

    Args:
      platform: `'cpu'`, `'gpu'` or `'tpu'`.

    Raises:
      ValueError: for an unsupported platform.

    Example:
      >>> import brainstate
      >>> brainstate.environ.set_platform('cpu')  # call it first thing in a program
      >>> _ = brainstate.environ.pop('platform')  # (this example leaves the settings as they were)
    """
    _check(PLATFORM, platform)
    jax.config.update("jax_platforms", platform)
    _DEFAULT.settings[PLATFORM] = platform


def get_host_device_count() -> int:
    """The number of host (CPU) devices requested through `XLA_FLAGS`.

    Returns:
      The value of `--xla_force_host_platform_device_count`, or 1 when it is not given.

    Example:
      >>> import brainstate
      >>> brainstate.environ.get_host_device_count() >= 1
      True
    """
    m = re.search(r"--xla_force_host_platform_device_count=(\d+)", os.environ.get("XLA_FLAGS", ""))
    return int(m.group(1)) if m else 1


def set_host_device_count(n: int) -> None:
    """Ask XLA for `n` host devices; only effective before JAX initialises its backends.

    It rewrites `--xla_force_host_platform_device_count` in the `XLA_FLAGS` environment variable,
    which child processes inherit too.

    Args:
      n: the number of host (CPU) devices to simulate.

    Example:
      >>> import os, brainstate
      >>> saved = os.environ.get('XLA_FLAGS')
      >>> brainstate.environ.set_host_device_count(8)  # call it before JAX starts
      >>> brainstate.environ.get_host_device_count()
      8
      >>> _ = brainstate.environ.pop('host_device_count')  # (this example puts everything back)
      >>> if saved is None:
      ...     del os.environ['XLA_FLAGS']
      ... else:
      ...     os.environ['XLA_FLAGS'] = saved
    """
    flags = re.sub(r"--xla_force_host_platform_device_count=\d+\s*", "", os.environ.get("XLA_FLAGS", ""))
    os.environ["XLA_FLAGS"] = f"{flags} --xla_force_host_platform_device_count={int(n)}".strip()
    _DEFAULT.settings[HOST_DEVICE_COUNT] = int(n)
