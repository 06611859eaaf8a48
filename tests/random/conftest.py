"""Helpers for the brainstate.random tests."""

import numpy as np
import pytest

import brainstate


@pytest.fixture(autouse=True)
def _keep_default_stream():
    """Each test may reseed the default stream; put its key (and NumPy's state) back after."""
    key = brainstate.random.DEFAULT.value
    np_state = np.random.get_state()
    yield
    brainstate.random.DEFAULT.restore_value(key)
    brainstate.random.DEFAULT._backup = None
    np.random.set_state(np_state)
