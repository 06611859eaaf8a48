"""Fixtures for the sharding tests: a mesh over the 8 simulated CPU devices (see tests/conftest.py)."""

import jax
import pytest

import brainstate
from sharding_helpers import auto_mesh


@pytest.fixture
def mesh():
    """A 4 x 2 mesh, axes ('data', 'model')."""
    if jax.device_count() < 8:
        pytest.skip("needs 8 devices (XLA_FLAGS=--xla_force_host_platform_device_count=8)")
    return auto_mesh((4, 2), ("data", "model"))


@pytest.fixture(autouse=True)
def _keep_default_stream():
    """Tests reseed the default random stream; put its key back after each."""
    key = brainstate.random.DEFAULT.value
    yield
    brainstate.random.DEFAULT.restore_value(key)
