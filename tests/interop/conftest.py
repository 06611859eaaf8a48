"""Fixtures of the interop tests."""

import pytest

import brainstate


@pytest.fixture
def fit():
    """Run the test body in training mode."""
    with brainstate.environ.context(fit=True):
        yield


@pytest.fixture(autouse=True)
def _restore_layer_mappings():
    """Mappings a test registers do not leak into other tests."""
    from brainstate.interop import _layers
    saved = dict(_layers._EXPORT), dict(_layers._IMPORT)
    yield
    _layers._EXPORT.clear()
    _layers._EXPORT.update(saved[0])
    _layers._IMPORT.clear()
    _layers._IMPORT.update(saved[1])
