"""State hooks: global and per-state callbacks on read, write, restore and creation."""

import copy
import gc
import pickle
import threading
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from numpy.testing import assert_allclose

import brainstate
from brainstate._state import _hooks


@pytest.fixture(autouse=True)
def _clean_global_registry():
    brainstate.GlobalHookRegistry.reset()
    yield
    brainstate.GlobalHookRegistry.reset()


def _state(name="w"):
    return brainstate.State(jnp.zeros(2), name=name)


# -- every event fires with the right context ------------------------------------------------------
def test_read_hook_context():
    s = _state()
    seen = []
    s.register_hook("read", seen.append)
    value = s.value
    (ctx,) = seen
    assert isinstance(ctx, brainstate.ReadHookContext)
    assert ctx.operation == "read"
    assert ctx.state is s and ctx.state_name == "w"
    assert ctx.value is value
    assert isinstance(ctx.timestamp, float) and ctx.metadata == {}


def test_write_before_hook_context():
    s = _state()
    old = s.value
    seen = []
    s.register_hook("write_before", seen.append)
    s.value = jnp.ones(2)
    (ctx,) = seen
    assert isinstance(ctx, brainstate.MutableWriteHookContext)
    assert ctx.operation == "write_before"
    assert ctx.old_value is old
    assert_allclose(ctx.value, np.ones(2))
    assert ctx.transformed_value is None and ctx.cancel is False and ctx.cancel_reason is None


def test_write_after_hook_context():
    s = _state()
    old = s.value
    seen = []
    s.register_hook("write_after", seen.append)
    s.value = jnp.ones(2)
    (ctx,) = seen
    assert type(ctx) is brainstate.WriteHookContext
    assert ctx.operation == "write_after"
    assert ctx.old_value is old and ctx.value is s.value


def test_restore_hook_context():
    s = _state()
    old = s.value
    seen = []
    s.register_hook("restore", seen.append)
    s.restore_value(jnp.ones(5))
    (ctx,) = seen
    assert isinstance(ctx, brainstate.RestoreHookContext)
    assert ctx.operation == "restore"
    assert ctx.old_value is old and ctx.value.shape == (5,)


def test_init_hook_context():
    seen = []
    brainstate.register_state_hook("init", seen.append)
    value = jnp.zeros(3)
    s = brainstate.ParamState(value, name="p", unit="mV")
    (ctx,) = seen
    assert isinstance(ctx, brainstate.InitHookContext)
    assert ctx.operation == "init"
    assert ctx.state is s and ctx.state_name == "p"
    assert ctx.value is value and ctx.init_metadata == {"unit": "mV"}


@pytest.mark.parametrize("hook_type", ["read", "write_before", "write_after", "restore"])
def test_global_hooks_fire_for_every_state(hook_type):
    seen = []
    brainstate.register_state_hook(hook_type, lambda ctx: seen.append(ctx.state_name))
    for name in ("a", "b"):
        s = _state(name)
        if hook_type == "read":
            _ = s.value
        elif hook_type == "restore":
            s.restore_value(jnp.ones(2))
        else:
            s.value = jnp.ones(2)
    assert seen == ["a", "b"]


def test_hooks_of_one_event_share_one_context():
    s = _state()
    seen = []
    s.register_hook("read", lambda ctx: ctx.metadata.update(note=1), priority=1)
    s.register_hook("read", lambda ctx: seen.append(dict(ctx.metadata)))
    _ = s.value
    assert seen == [{"note": 1}]


def test_context_holds_the_state_weakly():
    seen = []
    s = _state()
    s.register_hook("read", seen.append)
    _ = s.value
    del s
    gc.collect()
    assert seen[0].state is None and seen[0].state_name is None


# -- order ---------------------------------------------------------------------------------------
def test_global_hooks_run_before_state_hooks_then_by_priority():
    s = _state()
    order = []
    s.register_hook("read", lambda ctx: order.append("state-hi"), priority=5)
    s.register_hook("read", lambda ctx: order.append("state-lo"), priority=-1)
    brainstate.register_state_hook("read", lambda ctx: order.append("global-lo"), priority=-10)
    brainstate.register_state_hook("read", lambda ctx: order.append("global-hi"), priority=10)
    _ = s.value
    assert order == ["global-hi", "global-lo", "state-hi", "state-lo"]


def test_equal_priorities_run_in_registration_order():
    s = _state()
    order = []
    for i in range(4):
        s.register_hook("read", lambda ctx, i=i: order.append(i))
    _ = s.value
    assert order == [0, 1, 2, 3]


def test_list_hooks_in_run_order_including_disabled():
    s = _state()
    s.register_hook("read", lambda ctx: None, priority=1, name="one")
    s.register_hook("read", lambda ctx: None, priority=3, name="three", enabled=False)
    s.register_hook("write_after", lambda ctx: None, name="after")
    assert [h.name for h in s.list_hooks("read")] == ["three", "one"]
    assert {h.name for h in s.list_hooks()} == {"one", "three", "after"}
    assert s.has_hooks("write_after") and not s.has_hooks("restore")


# -- write_before: transform and cancel ----------------------------------------------------------
def test_transformed_value_is_written():
    s = _state()

    def clip(ctx):
        ctx.transformed_value = jnp.clip(ctx.value, -1.0, 1.0)

    s.register_hook("write_before", clip)
    s.value = jnp.array([5.0, -5.0])
    assert_allclose(s.value, [1.0, -1.0])


def test_transformations_chain_in_priority_order():
    s = _state()
    s.register_hook("write_before", lambda ctx: setattr(ctx, "transformed_value", ctx.value + 1),
                    priority=2)
    s.register_hook("write_before", lambda ctx: setattr(ctx, "transformed_value", ctx.value * 10),
                    priority=1)
    after = []
    s.register_hook("write_after", lambda ctx: after.append(ctx.value))
    s.value = jnp.ones(2)
    assert_allclose(s.value, [20.0, 20.0])
    assert after[0] is s.value


def test_transformed_value_must_keep_the_signature():
    s = _state()
    s.hooks  # None until a hook is registered
    s.register_hook("write_before", lambda ctx: setattr(ctx, "transformed_value", jnp.zeros(3)),
                    name="reshaper")
    s.hooks.config = brainstate.HookConfig(on_error="raise")
    with pytest.raises(brainstate.HookExecutionError,
                       match=r"write_before hook 'reshaper' set a transformed_value that does not "
                             r"fit the state on State 'w'.*changes its shape"):
        s.value = jnp.ones(2)
    assert_allclose(s.value, np.zeros(2))


def test_misfitting_transformed_value_is_dropped_under_log():
    s = _state()
    s.register_hook("write_before", lambda ctx: setattr(ctx, "transformed_value", jnp.zeros(3)))
    with pytest.warns(brainstate.HookWarning, match="transformed_value that does not fit"):
        s.value = jnp.ones(2)
    assert_allclose(s.value, np.ones(2))


def test_cancel_leaves_the_state_unchanged():
    s = _state()
    after = []

    def veto(ctx):
        ctx.cancel = True
        ctx.cancel_reason = "frozen during eval"

    s.register_hook("write_before", veto, name="freeze")
    s.register_hook("write_after", after.append)
    with pytest.raises(brainstate.HookCancellationError,
                       match=r"Write to State 'w' \(created at .*test_hooks.py:\d+\) was cancelled "
                             r"by write_before hook 'freeze': frozen during eval\. The state keeps"):
        s.value = jnp.ones(2)
    assert_allclose(s.value, np.zeros(2))
    assert after == []


def test_cancel_without_reason():
    s = _state()
    s.register_hook("write_before", lambda ctx: setattr(ctx, "cancel", True))
    with pytest.raises(brainstate.HookCancellationError, match="no reason given"):
        s.value = jnp.ones(2)


def test_cancel_is_not_an_error_so_ignore_does_not_swallow_it():
    s = _state()

    def refuse(ctx):
        raise brainstate.HookCancellationError("read-only")

    s.register_hook("write_before", refuse)
    s.hooks.config = brainstate.HookConfig(on_error="ignore")
    with pytest.raises(brainstate.HookCancellationError, match="read-only"):
        s.value = jnp.ones(2)
    assert_allclose(s.value, np.zeros(2))


# -- error policies ------------------------------------------------------------------------------
def _boom(ctx):
    raise ValueError("boom")


def test_on_error_raise_wraps_the_error():
    s = _state()
    s.register_hook("read", _boom)
    s.hooks.config = brainstate.HookConfig(on_error="raise")
    with pytest.raises(brainstate.HookExecutionError,
                       match=r"read hook '_boom' failed on State 'w' .*ValueError: boom\. Fix the hook, remove "
                             r"it with its handle's remove\(\), or use HookConfig\(on_error='log'\)") as info:
        _ = s.value
    assert isinstance(info.value.__cause__, ValueError)


def test_on_error_log_warns_and_continues():
    s = _state()
    ran = []
    s.register_hook("read", _boom, priority=1)
    s.register_hook("read", ran.append)
    with pytest.warns(brainstate.HookWarning, match=r"read hook '_boom' failed on State 'w'") as rec:
        _ = s.value
    assert ran and rec[0].filename == __file__


def test_on_error_log_uses_the_error_logger():
    s = _state()
    logged = []
    s.register_hook("read", _boom)
    s.hooks.config = brainstate.HookConfig(error_logger=lambda *args: logged.append(args))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _ = s.value
    (message, exc, hook, ctx), = logged
    assert "ValueError: boom" in message and isinstance(exc, ValueError)
    assert hook.name == "_boom" and ctx.operation == "read" and hook.error_count == 1


def test_on_error_ignore_is_silent():
    s = _state()
    s.register_hook("read", _boom)
    s.hooks.config = brainstate.HookConfig(on_error="ignore")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _ = s.value
    assert s.list_hooks()[0].error_count == 1


def test_disable_on_error_after_max_errors():
    s = _state()
    handle = s.register_hook("read", _boom)
    s.hooks.config = brainstate.HookConfig(on_error="ignore", max_errors_per_hook=2,
                                           disable_on_error=True)
    for _ in range(5):
        _ = s.value
    assert handle.hook.error_count == 2
    assert not handle.is_enabled() and not handle.is_active() and not handle.is_removed()
    handle.enable()
    _ = s.value
    assert handle.hook.error_count == 3


def test_disable_on_error_reports_it():
    s = _state()
    s.register_hook("read", _boom)
    s.hooks.config = brainstate.HookConfig(max_errors_per_hook=1, disable_on_error=True)
    with pytest.warns(brainstate.HookWarning, match="is now disabled"):
        _ = s.value


def test_log_stops_after_max_errors():
    s = _state()
    s.register_hook("read", _boom)
    s.hooks.config = brainstate.HookConfig(max_errors_per_hook=3)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        for _ in range(6):
            _ = s.value
    assert len(rec) == 3
    assert "Further errors from this hook are not reported" in str(rec[-1].message)


def test_failed_hook_cannot_cancel_or_transform():
    s = _state()

    def half_done(ctx):
        ctx.cancel = True
        ctx.transformed_value = ctx.value + 100
        raise RuntimeError("oops")

    s.register_hook("write_before", half_done)
    s.hooks.config = brainstate.HookConfig(on_error="ignore")
    s.value = jnp.ones(2)
    assert_allclose(s.value, np.ones(2))


def test_global_config_applies_to_global_hooks():
    brainstate.GlobalHookRegistry(brainstate.HookConfig(on_error="raise"))
    brainstate.register_state_hook("write_after", _boom)
    s = _state()
    with pytest.raises(brainstate.HookExecutionError, match="write_after hook '_boom' failed"):
        s.value = jnp.ones(2)


@pytest.mark.parametrize("kwargs, match", [
    (dict(on_error="explode"),
     r"on_error='explode'\) is not a valid error policy; use one of .*'raise', 'log', 'ignore'"),
    (dict(max_errors_per_hook=0), r"max_errors_per_hook=0\) must be a positive integer"),
    (dict(max_errors_per_hook=True), r"must be a positive integer"),
    (dict(error_logger="stderr"), r"error_logger=...\) must be callable"),
])
def test_invalid_config(kwargs, match):
    with pytest.raises(ValueError, match=match):
        brainstate.HookConfig(**kwargs)


def test_manager_config_must_be_a_hook_config():
    with pytest.raises(TypeError, match="config must be a HookConfig, got dict"):
        brainstate.HookManager(config={"on_error": "raise"})


# -- registration errors -------------------------------------------------------------------------
def test_unknown_hook_type_lists_the_valid_ones():
    s = _state()
    with pytest.raises(brainstate.HookRegistrationError,
                       match=r"Unknown hook type 'on_read'\. Valid hook types are: 'read', "
                             r"'write_before', 'write_after', 'restore', 'init'"):
        s.register_hook("on_read", print)
    with pytest.raises(brainstate.HookRegistrationError, match="Unknown hook type 'wrte'"):
        brainstate.register_state_hook("wrte", print)


@pytest.mark.parametrize("call", [
    lambda s: s.list_hooks("bogus"), lambda s: s.has_hooks("bogus"),
    lambda s: s.clear_hooks("bogus"), lambda s: brainstate.list_state_hooks("bogus"),
    lambda s: brainstate.has_state_hooks("bogus"), lambda s: brainstate.clear_state_hooks("bogus"),
])
@pytest.mark.parametrize("with_hooks", [False, True])
def test_lookups_validate_the_hook_type(call, with_hooks):
    s = _state()
    if with_hooks:
        s.register_hook("read", print)
    with pytest.raises(brainstate.HookRegistrationError, match="Unknown hook type 'bogus'"):
        call(s)


@pytest.mark.parametrize("kwargs, match", [
    (dict(callback=42), r"callback must be callable as callback\(context\), got int 42"),
    (dict(callback=print, priority=1.5), r"priority must be an int .*got 1.5"),
    (dict(callback=print, priority=True), r"priority must be an int"),
    (dict(callback=print, name=3), r"Hook name must be a string or None, got 3"),
])
def test_invalid_hook(kwargs, match):
    with pytest.raises(brainstate.HookRegistrationError, match=match):
        _state().register_hook("read", **kwargs)
    with pytest.raises(brainstate.HookRegistrationError, match=match):
        brainstate.register_state_hook("read", **kwargs)


def test_unregister_needs_a_handle():
    s = _state()
    with pytest.raises(brainstate.HookRegistrationError, match="expects the HookHandle .* got str"):
        s.unregister_hook("read")
    with pytest.raises(brainstate.HookRegistrationError, match="expects the HookHandle .* got int"):
        brainstate.unregister_state_hook(3)


# -- handles -------------------------------------------------------------------------------------
def test_handle_remove_disable_enable():
    s = _state()
    seen = []
    handle = s.register_hook("read", seen.append, priority=4, name="spy")
    assert handle.name == "spy" and handle.priority == 4 and handle.is_active()
    handle.disable()
    _ = s.value
    assert seen == [] and not handle.is_active() and not handle.is_removed()
    handle.enable()
    _ = s.value
    assert len(seen) == 1
    assert "enabled" in repr(handle)
    assert handle.remove() is True
    assert handle.remove() is False
    assert handle.is_removed() and not handle.is_active() and "removed" in repr(handle)
    _ = s.value
    assert len(seen) == 1


def test_enabling_a_removed_hook_fails():
    s = _state()
    handle = s.register_hook("read", print, name="spy")
    handle.remove()
    with pytest.raises(brainstate.HookRegistrationError,
                       match="Cannot enable read hook 'spy': it was removed"):
        handle.enable()


def test_unregister_via_state_and_foreign_handles():
    a, b = _state("a"), _state("b")
    ha = a.register_hook("read", print)
    hb = b.register_hook("read", print)
    hg = brainstate.register_state_hook("read", print)
    assert a.unregister_hook(hb) is False and a.unregister_hook(hg) is False
    assert brainstate.unregister_state_hook(ha) is False
    assert a.unregister_hook(ha) is True and not a.has_hooks()
    assert brainstate.unregister_state_hook(hg) is True
    assert _state().unregister_hook(hb) is False  # a state that never had hooks


def test_setting_hook_enabled_directly_takes_effect():
    s = _state()
    seen = []
    s.register_hook("read", seen.append)
    s.list_hooks()[0].enabled = False
    _ = s.value
    assert seen == []


def test_clear_hooks():
    s = _state()
    read = s.register_hook("read", print)
    s.register_hook("write_after", print)
    s.clear_hooks("read")
    assert read.is_removed() and s.has_hooks() and not s.has_hooks("read")
    s.clear_hooks()
    assert not s.has_hooks() and s.list_hooks() == []
    _state().clear_hooks()  # nothing to clear


# -- temporary hooks -----------------------------------------------------------------------------
def test_temporary_hook():
    s = _state()
    seen = []
    with s.temporary_hook("read", seen.append, priority=2, name="tmp") as handle:
        assert handle.is_active() and s.list_hooks()[0].name == "tmp"
        _ = s.value
    _ = s.value
    assert len(seen) == 1 and handle.is_removed() and not s.has_hooks()


def test_temporary_hook_is_removed_on_error():
    s = _state()
    with pytest.raises(KeyError, match="inside"):
        with s.temporary_hook("read", print):
            raise KeyError("inside")
    assert not s.has_hooks()


# -- the global registry and ACTIVE --------------------------------------------------------------
def test_active_tracks_enabled_global_hooks():
    assert _hooks.ACTIVE is False
    handle = brainstate.register_state_hook("read", print)
    assert _hooks.ACTIVE is True
    handle.disable()
    assert _hooks.ACTIVE is False
    handle.enable()
    assert _hooks.ACTIVE is True
    handle.remove()
    assert _hooks.ACTIVE is False
    brainstate.register_state_hook("read", print, enabled=False)
    assert _hooks.ACTIVE is False and brainstate.has_state_hooks()
    brainstate.register_state_hook("write_after", print)
    assert _hooks.ACTIVE is True
    brainstate.clear_state_hooks()
    assert _hooks.ACTIVE is False and not brainstate.has_state_hooks()


def test_active_drops_when_a_global_hook_is_disabled_for_errors():
    brainstate.GlobalHookRegistry.instance().config = brainstate.HookConfig(
        on_error="ignore", max_errors_per_hook=1, disable_on_error=True)
    brainstate.register_state_hook("read", _boom)
    _ = _state().value
    assert _hooks.ACTIVE is False


def test_per_state_hooks_leave_active_alone():
    _state().register_hook("read", print)
    assert _hooks.ACTIVE is False


def test_global_registry_is_a_singleton():
    registry = brainstate.GlobalHookRegistry.instance()
    assert brainstate.GlobalHookRegistry() is registry and isinstance(registry, brainstate.HookManager)
    handle = brainstate.register_state_hook("read", print, name="p")
    assert [h.name for h in brainstate.list_state_hooks()] == ["p"]
    assert [h.name for h in registry.get_hooks("read")] == ["p"]
    assert copy.deepcopy(registry) is registry
    assert pickle.loads(pickle.dumps(registry)) is registry
    brainstate.GlobalHookRegistry.reset()
    assert handle.is_removed() and registry.config == brainstate.HookConfig()


# -- zero cost -----------------------------------------------------------------------------------
def _fail(*args):
    raise AssertionError("hooks were called although none are registered")


@pytest.fixture
def hooks_must_not_run(monkeypatch):
    for name in ("run_read", "run_write_before", "run_write_after", "run_init", "run_restore"):
        monkeypatch.setattr(_hooks, name, _fail)


def test_no_hooks_no_calls(hooks_must_not_run):
    s = brainstate.State(jnp.zeros(2))
    _ = s.value
    s.value = jnp.ones(2)
    s.restore_value(jnp.ones(3))
    assert_allclose(s.value, np.ones(3))


def test_hooks_on_one_state_cost_nothing_for_others(hooks_must_not_run):
    s = _state("hooked")
    s.register_hook("read", print)
    other = _state("other")
    _ = other.value
    other.value = jnp.ones(2)


# -- robustness ----------------------------------------------------------------------------------
def test_read_hook_may_read_its_state():
    s = _state()
    seen = []
    s.register_hook("read", lambda ctx: seen.append(ctx.state.value))
    _ = s.value
    assert len(seen) == 1


def test_write_after_hook_may_write_another_state():
    a, b = _state("a"), _state("b")
    a.register_hook("write_after", lambda ctx: setattr(b, "value", ctx.value * 2))
    seen = []
    b.register_hook("write_after", lambda ctx: seen.append(ctx.state_name))
    a.value = jnp.ones(2)
    assert_allclose(b.value, [2.0, 2.0])
    assert seen == ["b"]


def test_copies_do_not_inherit_hooks():
    s = _state()
    seen = []
    s.register_hook("read", lambda ctx: seen.append(ctx.state))
    shallow, deep = s.copy(), copy.deepcopy(s)
    _ = shallow.value, deep.value
    assert seen == [] and not shallow.has_hooks() and not deep.has_hooks()
    shallow.register_hook("read", lambda ctx: seen.append(ctx.state))
    _ = shallow.value
    assert seen == [shallow] and len(s.list_hooks()) == 1
    _ = s.value
    assert seen == [shallow, s]


def test_pickled_state_loses_its_hooks():
    s = brainstate.State(np.zeros(2), name="w")
    s.register_hook("read", print)
    restored = pickle.loads(pickle.dumps(s))
    assert not restored.has_hooks() and restored.hooks is None


def test_concurrent_registration():
    s = _state()

    def register_many():
        for _ in range(50):
            s.register_hook("read", print)
            brainstate.register_state_hook("read", print)

    threads = [threading.Thread(target=register_many) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(s.list_hooks("read")) == 400
    assert len(brainstate.list_state_hooks("read")) == 400


def test_hooks_run_at_trace_time_not_per_compiled_call():
    s = _state()
    reads = []
    s.register_hook("read", lambda ctx: reads.append(ctx.value))
    s.register_hook("write_before",
                    lambda ctx: setattr(ctx, "transformed_value", jnp.clip(ctx.value, 0.0, 1.5)))

    @brainstate.transform.jit
    def step():
        s.value = s.value + 1.0

    step()
    traced = len(reads)
    assert any(isinstance(v, jax.core.Tracer) for v in reads)
    step()
    step()
    assert len(reads) == traced  # compiled calls run no hooks
    assert_allclose(s.value, [1.5, 1.5])  # the clip is part of the compiled function
