"""Shared test helpers."""

import pytest

import brainstate


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
