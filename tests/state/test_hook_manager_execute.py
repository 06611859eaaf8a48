"""HookManager.execute_*_hooks: running one manager's hooks directly, as the reference allows."""

import weakref

import jax.numpy as jnp
import pytest
from numpy.testing import assert_allclose

import brainstate


@pytest.fixture
def state():
    return brainstate.State(jnp.zeros(2))


def _recorder(manager, hook_type, seen):
    return manager.register_hook(hook_type, lambda ctx: seen.append((hook_type, ctx)))


def test_execute_read_hooks_runs_only_this_managers_hooks(state):
    manager, seen, other = brainstate.HookManager(), [], []
    _recorder(manager, "read", seen)
    state.register_hook("read", lambda ctx: other.append(ctx))  # the state's own manager: not run
    manager.execute_read_hooks(jnp.ones(2), weakref.ref(state))
    assert len(seen) == 1 and other == []
    _, ctx = seen[0]
    assert ctx.state is state
    assert_allclose(ctx.value, [1.0, 1.0])


def test_execute_write_before_hooks_chains_transformations(state):
    manager = brainstate.HookManager()
    manager.register_hook("write_before", lambda ctx: setattr(ctx, "transformed_value", ctx.value + 1), priority=1)
    manager.register_hook("write_before", lambda ctx: setattr(ctx, "transformed_value", ctx.value * 10))
    out = manager.execute_write_before_hooks(jnp.ones(2), state.value, weakref.ref(state))
    assert_allclose(out, [20.0, 20.0])  # (1 + 1) * 10: the second hook sees the first one's result
    assert_allclose(state.value, [0.0, 0.0])  # nothing is written


def test_execute_write_before_hooks_without_hooks_returns_the_value(state):
    out = brainstate.HookManager().execute_write_before_hooks(jnp.ones(2), state.value, weakref.ref(state))
    assert_allclose(out, [1.0, 1.0])


def test_execute_write_before_hooks_cancellation_raises(state):
    manager = brainstate.HookManager()

    def veto(ctx):
        ctx.cancel, ctx.cancel_reason = True, "read-only"

    manager.register_hook("write_before", veto, name="veto")
    with pytest.raises(brainstate.HookCancellationError, match="cancelled by write_before hook 'veto': read-only"):
        manager.execute_write_before_hooks(jnp.ones(2), state.value, weakref.ref(state))


@pytest.mark.parametrize("hook_type,call", [
    ("write_after", lambda m, ref: m.execute_write_after_hooks(jnp.ones(2), jnp.zeros(2), ref)),
    ("restore", lambda m, ref: m.execute_restore_hooks(jnp.ones(3), jnp.zeros(2), ref)),
])
def test_execute_after_and_restore_hooks_see_old_and_new(state, hook_type, call):
    manager, seen = brainstate.HookManager(), []
    _recorder(manager, hook_type, seen)
    call(manager, weakref.ref(state))
    (kind, ctx), = seen
    assert kind == hook_type and ctx.state is state
    assert_allclose(ctx.old_value, [0.0, 0.0])
    assert ctx.value.shape in ((2,), (3,))


def test_execute_init_hooks_passes_metadata(state):
    manager, seen = brainstate.HookManager(), []
    _recorder(manager, "init", seen)
    manager.execute_init_hooks(state.value, weakref.ref(state), {"tag": "w"})
    manager.execute_init_hooks(state.value, weakref.ref(state))
    assert [ctx.init_metadata for _, ctx in seen] == [{"tag": "w"}, {}]


def test_disabled_hooks_do_not_run(state):
    manager, seen = brainstate.HookManager(), []
    _recorder(manager, "read", seen).disable()
    manager.execute_read_hooks(state.value, weakref.ref(state))
    assert seen == []


@pytest.mark.parametrize("ref", [None, "not a ref"])
def test_execute_needs_a_live_weak_reference(ref):
    with pytest.raises(ReferenceError, match="HookManager.execute_read_hooks: state_ref must be a live weak"):
        brainstate.HookManager().execute_read_hooks(1.0, ref)


def test_execute_with_a_dead_reference_raises():
    s = brainstate.State(jnp.zeros(2))
    ref = weakref.ref(s)
    del s
    import gc

    gc.collect()
    with pytest.raises(ReferenceError, match="execute_restore_hooks: state_ref must be a live weak reference"):
        brainstate.HookManager().execute_restore_hooks(1.0, 0.0, ref)
