"""Saving and restoring graphs: values, kinds, dtypes, shared states, metadata, new processes."""

import json
import os
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import brainstate
from brainstate import checkpoint
from ckpt_models import assert_same_bits, make_net, snapshot

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


@pytest.fixture
def path(tmp_path):
    return str(tmp_path / "ckpt.safetensors")


def test_round_trip_is_bit_identical(path):
    saved, fresh = make_net(0), make_net(1)
    checkpoint.save(path, saved)
    report = checkpoint.restore(path, fresh)
    assert report.ok and len(report.restored) == len(brainstate.graph.states(saved))
    assert_same_bits(snapshot(saved), snapshot(fresh))


def test_shared_state_is_stored_once_and_stays_shared(path):
    saved, fresh = make_net(0), make_net(1)
    checkpoint.save(path, saved)
    keys = set(checkpoint.load(path).values)
    assert "blocks.0.shared" in keys and "shared" not in keys and "blocks.1.shared" not in keys
    checkpoint.restore(path, fresh)
    assert fresh.shared is fresh.blocks[0].shared is fresh.blocks[1].shared
    np.testing.assert_array_equal(fresh.shared.value, saved.shared.value)


def test_metadata_records_kind_shape_dtype_and_version(path):
    import safetensors

    checkpoint.save(path, {"model": make_net(0)})
    with safetensors.safe_open(path, framework="numpy") as f:
        meta = f.metadata()
        names = set(f.keys())
    assert meta["brainstate_version"] == brainstate.__version__
    states = json.loads(meta["states"])
    linear = states["model.seq.layers.0.weight"]
    assert linear["kind"] == "ParamState"
    assert {leaf["key"]: (leaf["dtype"], leaf["shape"]) for leaf in linear["leaves"]} == {
        "bias": ("float32", [4]), "weight": ("float32", [4, 4])}
    assert {"model.seq.layers.0.weight.weight", "model.seq.layers.0.weight.bias"} <= names
    half = states["model.blocks.0.half"]["leaves"][0]
    assert (half["dtype"], half["encoding"]) == ("bfloat16", "bitcast")
    assert states["model.rng"]["kind"] == "RandomState"
    assert states["model.typed_key"]["leaves"][0]["encoding"] == "prng_key"


def test_load_reads_values_kinds_and_version(path):
    net = make_net(0)
    checkpoint.save(path, net)
    ckpt = checkpoint.load(path)
    assert ckpt.version == brainstate.__version__ and ckpt.kinds["rng"] == "RandomState"
    np.testing.assert_array_equal(jax.random.key_data(ckpt.values["rng"]), jax.random.key_data(net.rng.value))
    np.testing.assert_array_equal(ckpt.values["seq.layers.1.weight"]["weight"], net.seq.layers[1].weight.value["weight"])
    assert ckpt.values["blocks.0.half"].dtype == jnp.bfloat16


def test_random_state_continues_the_same_stream(path):
    net = make_net(0)
    checkpoint.save(path, net)
    expected = net.rng.normal(size=4)
    fresh = make_net(1)
    checkpoint.restore(path, fresh)
    np.testing.assert_array_equal(fresh.rng.normal(size=4), expected)


def test_model_and_optimizer_together(path):
    class Buffers(brainstate.graph.Node):  # stands in for an optimizer: buffers are States
        def __init__(self, seed):
            self.step = brainstate.ShortTermState(jnp.asarray(seed, jnp.int32))
            self.momentum = [brainstate.ShortTermState(jnp.full((3, 4), seed, jnp.float32))]

    saved = {"model": make_net(0), "opt": Buffers(5)}
    fresh = {"model": make_net(1), "opt": Buffers(0)}
    checkpoint.save(path, saved)
    assert {"opt.step", "opt.momentum.0", "model.rng"} <= set(checkpoint.load(path).values)
    assert checkpoint.restore(path, fresh).ok
    assert_same_bits(snapshot(saved), snapshot(fresh))


def test_optimizer_buffers_round_trip(path):
    optim = pytest.importorskip("brainstate.optim")
    model = brainstate.nn.Linear(4, 4)
    opt = optim.Adam(1e-2)
    opt.register_trainable_weights(model.states(brainstate.ParamState))
    grads = jax.tree_util.tree_map(jnp.ones_like, {k: s.value for k, s in model.states(brainstate.ParamState).items()})
    opt.update(grads)
    checkpoint.save(path, {"model": model, "opt": opt})
    fresh_model = brainstate.nn.Linear(4, 4)
    fresh_opt = optim.Adam(1e-2)
    fresh_opt.register_trainable_weights(fresh_model.states(brainstate.ParamState))
    assert checkpoint.restore(path, {"model": fresh_model, "opt": fresh_opt}).ok
    assert_same_bits(snapshot({"model": model, "opt": opt}), snapshot({"model": fresh_model, "opt": fresh_opt}))


def test_single_state_and_python_scalars(path):
    counter = brainstate.State(3)
    checkpoint.save(path, counter)
    assert list(checkpoint.load(path).values) == [""]
    fresh = brainstate.State(0)
    assert checkpoint.restore(path, fresh).restored == ("",)
    assert int(fresh.value) == 3 and np.asarray(fresh.value).dtype == np.int32


def test_numpy_leaves_stay_numpy(path):
    saved = brainstate.State(np.arange(4, dtype=np.int16))
    checkpoint.save(path, saved)
    fresh = brainstate.State(np.zeros(4, dtype=np.int16))
    checkpoint.restore(path, fresh)
    assert isinstance(fresh.value, np.ndarray) and fresh.value.flags.writeable
    np.testing.assert_array_equal(fresh.value, saved.value)


def test_restored_jax_leaves_keep_their_placement(path):
    device = jax.devices()[0]
    checkpoint.save(path, {"free": brainstate.State(jnp.ones(2)), "pinned": brainstate.State(jnp.ones(2))})
    target = {"free": brainstate.State(jnp.zeros(2)), "pinned": brainstate.State(jax.device_put(jnp.zeros(2), device))}
    checkpoint.restore(path, target)
    assert not target["free"].value.committed
    assert target["pinned"].value.committed and target["pinned"].value.devices() == {device}
    np.testing.assert_array_equal(target["pinned"].value, np.ones(2))


def test_empty_graph(path):
    checkpoint.save(path, {})
    report = checkpoint.restore(path, {})
    assert report.ok and report.restored == ()


def test_restored_model_does_not_retrace_jitted_code(path):
    net, other = make_net(0), make_net(1)
    checkpoint.save(path, other)
    traces = []

    @brainstate.transform.jit
    def forward(x):
        traces.append(1)
        return net.seq(x)

    forward(jnp.ones(4))
    before = len(traces)
    checkpoint.restore(path, net)
    out = forward(jnp.ones(4))
    assert len(traces) == before
    np.testing.assert_allclose(out, other.seq(jnp.ones(4)), rtol=1e-6)


def test_restore_in_a_new_process_is_bit_identical(tmp_path):
    saved = make_net(0)
    source, copy = str(tmp_path / "a.safetensors"), str(tmp_path / "b.safetensors")
    checkpoint.save(source, saved)
    script = textwrap.dedent(f"""
        from brainstate import checkpoint
        from ckpt_models import make_net
        net = make_net(1)
        assert checkpoint.restore({source!r}, net).ok
        checkpoint.save({copy!r}, net)
    """)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([HERE, ROOT]), JAX_PLATFORMS="cpu")
    result = subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    fresh = make_net(2)
    checkpoint.restore(copy, fresh)
    assert_same_bits(snapshot(saved), snapshot(fresh))


# -- values that cannot be saved ---------------------------------------------------------------
def test_save_refuses_non_array_leaves(path):
    with pytest.raises(checkpoint.CheckpointError, match=r"'label' is a str, not an array"):
        checkpoint.save(path, {"label": brainstate.State("abc")})
    assert not os.path.exists(path)


def test_save_refuses_tracers(path):
    net = {"w": brainstate.State(jnp.ones(2))}

    @brainstate.transform.jit
    def inside():
        net["w"].value = net["w"].value + 1
        checkpoint.save(path, net)

    with pytest.raises(checkpoint.CheckpointError, match=r"holds a JAX tracer: checkpoints are written"):
        inside()


def test_save_refuses_colliding_paths(path):
    clash = {"a.b": brainstate.State(jnp.ones(1)), "a": {"b": brainstate.State(jnp.ones(1))}}
    with pytest.raises(checkpoint.CheckpointError, match=r"both give the checkpoint key 'a.b'"):
        checkpoint.save(path, clash)


def test_array_spread_across_processes_is_saved_as_this_process_shards(path, monkeypatch):
    state = brainstate.State(jnp.arange(2.0))
    monkeypatch.setattr(type(state.value), "is_fully_addressable", property(lambda self: False))
    checkpoint.save(path, state)
    assert [n for n in os.listdir(os.path.dirname(path)) if ".shard-0-of-1." in n]
    monkeypatch.undo()
    np.testing.assert_array_equal(checkpoint.load(path).values[""], np.arange(2.0))


def test_missing_safetensors_gives_install_hint(path, monkeypatch):
    monkeypatch.setitem(sys.modules, "safetensors", None)
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    with pytest.raises(ImportError, match=r"pip install 'brainstate\[checkpoint\]'"):
        checkpoint.save(path, brainstate.State(jnp.ones(2)))
