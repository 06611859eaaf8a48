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
    from brainstate.interop import MissingDependencyError, _layers
    # Import every framework module first: each registers its built-in mappings once, on import,
    # so a snapshot taken before that import would drop them for the rest of the session.
    for framework in _layers.FRAMEWORKS:
        try:
            _layers.load_framework(framework, "tests")
        except MissingDependencyError:  # flax needs Python >= 3.11; equinox may be absent too
            pass
    saved = dict(_layers._EXPORT), dict(_layers._IMPORT)
    yield
    _layers._EXPORT.clear()
    _layers._EXPORT.update(saved[0])
    _layers._IMPORT.clear()
    _layers._IMPORT.update(saved[1])
