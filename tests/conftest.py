"""Shared test helpers.

Tests see 8 simulated CPU devices (set before JAX starts its backend), so multi-device code
runs everywhere without a subprocess.

No test may depend on the machine's speed (CI runs on shared, loaded machines): hypothesis runs
without its per-example deadline and without the health check that times data generation.
"""

import os

os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=8")

import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

import brainstate

settings.register_profile("brainstate", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("brainstate")


@pytest.fixture(autouse=True)
def _clean_environ():
    """Every test starts from default settings."""
    brainstate.environ.reset()
    yield
    brainstate.environ.reset()


class TraceCounter:
    """Wraps a function and counts how often Python runs it (i.e. how often it is traced)."""

    def __init__(self, fun):
        self.fun = fun
        self.count = 0

    def __call__(self, *args, **kwargs):
        self.count += 1
        return self.fun(*args, **kwargs)
