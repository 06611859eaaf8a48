import threading

import jax.numpy as jnp
import numpy as np
import pytest

import brainstate as bs
from brainstate import environ


def test_set_get_pop():
    environ.set(dt=0.1, foo="bar")
    assert environ.get_dt() == 0.1 and environ.get("foo") == "bar"
    assert environ.pop("foo") == "bar"
    with pytest.raises(KeyError, match="'foo' is not set"):
        environ.get("foo")
    assert environ.get("foo", 3) == 3


def test_missing_key_says_how_to_set():
    with pytest.raises(KeyError, match=r"Setting 'dt' is not set\. Set it globally with "
                                       r"`brainstate\.environ\.set\(dt=value\)` or for a block with "
                                       r"`with brainstate\.environ\.context\(dt=value\): \.\.\.`"):
        environ.get_dt()


def test_pop_missing():
    with pytest.raises(KeyError, match="cannot be popped"):
        environ.pop("nothing")
    assert environ.pop("nothing", None) is None


def test_context_restores():
    environ.set(dt=0.1)
    with environ.context(dt=0.2) as settings:
        assert environ.get_dt() == 0.2 and settings["dt"] == 0.2
        with environ.context(dt=0.3):
            assert environ.get_dt() == 0.3
        assert environ.get_dt() == 0.2
    assert environ.get_dt() == 0.1


def test_context_is_thread_local():
    seen = {}
    ready, done = threading.Event(), threading.Event()

    def worker():
        ready.wait(5)
        seen["dt"] = environ.get("dt", None)
        done.set()

    t = threading.Thread(target=worker)
    t.start()
    with environ.context(dt=0.7):
        ready.set()
        done.wait(5)
    t.join()
    assert seen["dt"] is None


def test_all_and_reset():
    environ.set(dt=0.1, fit=True)
    assert environ.all()["fit"] is True
    environ.reset()
    assert environ.all() == {"precision": 32}


def test_precision_and_dtypes():
    assert environ.dftype() == np.float32 and environ.ditype() == np.int32
    with environ.context(precision=64):
        assert environ.dftype() == np.float64
        assert jnp.ones(1).dtype == jnp.float64
    assert jnp.ones(1).dtype == jnp.float32
    with environ.context(precision=16):
        assert environ.dftype() == np.float16
    with environ.context(precision="bf16"):
        assert environ.dftype() == jnp.bfloat16


def test_set_precision_global():
    environ.set_precision(64)
    try:
        assert environ.get_precision() == 64 and jnp.ones(1).dtype == jnp.float64
    finally:
        environ.reset()
    assert jnp.ones(1).dtype == jnp.float32


def test_bad_precision():
    with pytest.raises(ValueError, match="precision must be one of"):
        environ.set(precision=24)
    with pytest.raises(ValueError, match="precision must be one of"):
        with environ.context(precision=3):
            pass


def test_bad_dt():
    with pytest.raises(ValueError, match="dt must be a scalar"):
        environ.set(dt=[0.1, 0.2])


def test_platform_only_global():
    with pytest.raises(ValueError, match="can only be set globally"):
        with environ.context(platform="cpu"):
            pass


def test_bad_platform():
    with pytest.raises(ValueError, match="platform must be one of"):
        environ.set_platform("abacus")


def test_tolerance():
    assert float(environ.tolerance()) == pytest.approx(1e-5)


def test_registered_behavior():
    seen = []
    environ.register_default_behavior("mode", seen.append)
    try:
        environ.set(mode="a")
        with environ.context(mode="b"):
            pass
        assert seen == ["a", "b", "a"]
        assert "mode" in environ.list_registered_behaviors()
        with pytest.raises(ValueError, match="A behavior for 'mode' is already registered; pass "
                                             "replace_if_exist=True to replace it"):
            environ.register_default_behavior("mode", seen.append)
        with pytest.raises(TypeError, match="behavior for 'other' must be callable, got 3"):
            environ.register_default_behavior("other", 3)
    finally:
        assert environ.unregister_default_behavior("mode")


def test_host_device_count_flag(monkeypatch):
    monkeypatch.setenv("XLA_FLAGS", "--foo")
    environ.set_host_device_count(4)
    assert environ.get_host_device_count() == 4
