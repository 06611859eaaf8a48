"""Deep graphs: the indexed layout keeps headers and reads linear in depth; both layouts read.

A chain of modules N levels deep has keys of N/2 path elements on average: named in full, its
header grows with N² (past safetensors' 100 MB limit near N = 10,000). Such a checkpoint is
written in the indexed layout (version 2: a table of key parts, tensors named by index), every
other in the path-named one (version 1), and `MAX_NAMED_TEXT` = 0 forces the indexed layout onto
the ordinary models of the other tests, so both layouts run every kind of value.
"""

import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import brainstate
from brainstate import checkpoint
from brainstate.checkpoint import _layout, _storage
from ckpt_models import assert_same_bits, make_net, make_states, snapshot


class Level(brainstate.nn.Module):
    """One level of a chain: a scalar parameter and the next level (None at the bottom)."""

    def __init__(self, nxt, value):
        super().__init__()
        self.next = nxt
        self.w = brainstate.ParamState(jnp.asarray(value, jnp.float32))


def chain(depth: int, seed: int) -> Level:
    """A chain built bottom-up as a user would; every level's value differs, and differs by seed."""
    top = None
    for i in range(depth):
        top = Level(top, np.float32(i) / 3 + seed)
    return top


def level_bits(top: Level) -> np.ndarray:
    """The raw bits of every level's value, root first (a walk, not a recursion)."""
    out = []
    while top is not None:
        out.append(np.asarray(top.w.value).view(np.uint32))
        top = top.next
    return np.stack(out)


def deep_key(depth: int) -> str:
    """The key of the parameter `depth` levels below the root."""
    return "next." * depth + "w"


def header(path: str) -> dict:
    with open(path, "rb") as f:
        return json.loads(f.read(int.from_bytes(f.read(8), "little")))


@pytest.fixture
def path(tmp_path):
    return str(tmp_path / "ckpt.safetensors")


@pytest.fixture
def indexed(monkeypatch):
    """Every save in the test uses the indexed layout."""
    monkeypatch.setattr(_layout, "MAX_NAMED_TEXT", 0)


# -- deep chains -----------------------------------------------------------------------------------
@pytest.mark.parametrize("depth", [2000, pytest.param(10_000, marks=pytest.mark.slow)])
def test_deep_chain_round_trip_is_bit_exact(path, depth):
    saved, target = chain(depth, 0), chain(depth, 1)
    checkpoint.save(path, saved)
    assert header(path)["__metadata__"]["format_version"] == "2"
    report = checkpoint.restore(path, target)
    assert report.ok and len(report.restored) == depth
    np.testing.assert_array_equal(level_bits(target), level_bits(saved))
    assert not np.array_equal(level_bits(chain(depth, 1)), level_bits(saved))  # the restore did change it


def test_deep_header_grows_linearly_with_depth(tmp_path):
    sizes = []
    for depth in (1000, 2000, 4000):
        file = str(tmp_path / f"c{depth}.safetensors")
        checkpoint.save(file, chain(depth, 0))
        with open(file, "rb") as f:
            sizes.append(int.from_bytes(f.read(8), "little"))
    # Linear: doubling the depth at most doubles the header (plus a few digits per index);
    # a path-named header would grow four times.
    assert sizes[1] < 2.2 * sizes[0] and sizes[2] < 2.2 * sizes[1]
    assert sizes[2] < 300 * 4000  # per state: its spec, its safetensors entry, two table rows


def test_deep_load_names_the_deepest_state(path):
    depth = 2000
    checkpoint.save(path, {"model": chain(depth, 0)})
    ckpt = checkpoint.load(path)
    key = "model." + deep_key(depth - 1)
    assert len(ckpt.values) == depth and key in ckpt.values and ckpt.kinds[key] == "ParamState"
    np.testing.assert_array_equal(ckpt.values[key], np.float32(0))  # the bottom level, built first
    np.testing.assert_array_equal(ckpt.values["model.w"], np.float32(depth - 1) / 3)
    assert "model." + deep_key(depth) not in ckpt.values


def test_deep_mismatch_names_the_path(path):
    depth = 2000
    checkpoint.save(path, chain(depth, 0))
    target = chain(depth, 1)
    level = target
    for _ in range(1500):
        level = level.next
    level.w = brainstate.ParamState(jnp.zeros((2,), jnp.float32))
    with pytest.raises(checkpoint.CheckpointError,
                       match=rf"\(1 problem\); nothing was restored.\n  mismatched .*\n    {deep_key(1500)}: shape "
                             r"\(\) in the checkpoint, \(2,\) in the target"):
        checkpoint.restore(path, target)
    np.testing.assert_array_equal(target.w.value, chain(depth, 1).w.value)  # nothing was written


@pytest.mark.parametrize("limit", [_layout.MAX_NAMED_TEXT, 0], ids=["path-named", "indexed"])
def test_deep_missing_and_unexpected_name_the_paths(path, monkeypatch, limit):
    monkeypatch.setattr(_layout, "MAX_NAMED_TEXT", limit)  # 300 levels fit the path-named layout
    checkpoint.save(path, chain(300, 0))
    assert header(path)["__metadata__"]["format_version"] == ("1" if limit else "2")
    with pytest.raises(checkpoint.CheckpointError, match=rf"missing .*\n    {deep_key(300)}\n"):
        checkpoint.restore(path, chain(301, 0))
    report = checkpoint.restore(path, chain(299, 0), strict=False)
    assert report.unexpected == (deep_key(299),) and len(report.restored) == 299


def test_many_problems_are_counted_not_all_listed(path):
    checkpoint.save(path, chain(2000, 0))
    target = {"other": chain(5, 0)}
    with pytest.raises(checkpoint.CheckpointError, match=r"(?s)2005 problems.*missing .*other.w\n.*unexpected "
                                                         r"[^\n]*\n(    next[^\n]*\n){20}    \.\.\. and 1980 more "
                                                         r"\(the report lists them all\)") as info:
        checkpoint.restore(path, target)
    assert len(info.value.report.unexpected) == 2000


def test_manager_keeps_deep_steps(tmp_path):
    manager = checkpoint.CheckpointManager(str(tmp_path / "run"), max_to_keep=1)
    for step in (1, 2):
        manager.save(step, chain(2000, step))
    target = chain(2000, 0)
    assert manager.all_steps() == [2] and manager.restore(target).ok
    np.testing.assert_array_equal(level_bits(target), level_bits(chain(2000, 2)))


# -- the indexed layout on ordinary models -----------------------------------------------------------
def test_indexed_round_trip_is_bit_identical(path, indexed):
    saved, fresh = make_net(0), make_net(1)
    checkpoint.save(path, {"model": saved})
    meta = header(path)["__metadata__"]
    assert meta["format_version"] == "2"
    names = {leaf["tensor"] for spec in json.loads(meta["states"]) for leaf in spec["leaves"]}
    assert "0.0" in names and not any("weight" in name for name in names)
    assert checkpoint.restore(path, {"model": fresh}).ok
    assert_same_bits(snapshot(saved), snapshot(fresh))
    ckpt = checkpoint.load(path)
    assert ckpt.kinds["model.rng"] == "RandomState" and ckpt.values["model.blocks.0.half"].dtype == jnp.bfloat16


def test_indexed_sharded_round_trip(path, indexed):
    saved, target = make_states(0, sharded=True), make_states(1, sharded=True)
    checkpoint.save(path, saved)
    assert any(".shard-0-of-1." in name for name in os.listdir(os.path.dirname(path)))
    assert checkpoint.restore(path, target).ok
    assert_same_bits(snapshot(saved), snapshot(target))
    assert target["w"].value.sharding == saved["w"].value.sharding
    assert checkpoint.load(path).shardings["w"]["mesh"] == {"data": 2, "model": 2}


def test_indexed_mismatch_names_the_path(path, indexed):
    checkpoint.save(path, {"enc": brainstate.nn.Linear(3, 4), "scale": brainstate.ParamState(jnp.ones(2))})
    target = {"enc": brainstate.nn.Linear(3, 5), "extra": brainstate.State(jnp.zeros(1))}
    with pytest.raises(checkpoint.CheckpointError, match=r"(?s)3 problems.*missing .*extra.*unexpected .*scale.*"
                                                         r"enc.weight: leaf 'bias' shape \(4,\) in the checkpoint"):
        checkpoint.restore(path, target)


def test_colliding_tensor_names_are_saved_indexed(path):
    clash = {"a": brainstate.State({"b": jnp.ones(1)}), "a.b": brainstate.State(jnp.full(2, 2.0))}
    checkpoint.save(path, clash)
    assert header(path)["__metadata__"]["format_version"] == "2"
    target = {"a": brainstate.State({"b": jnp.zeros(1)}), "a.b": brainstate.State(jnp.zeros(2))}
    assert checkpoint.restore(path, target).ok
    np.testing.assert_array_equal(target["a"].value["b"], np.ones(1))
    np.testing.assert_array_equal(target["a.b"].value, np.full(2, 2.0))


@pytest.mark.parametrize("saved_in_a_dict", [True, False])
@pytest.mark.parametrize("limit", [_layout.MAX_NAMED_TEXT, 0], ids=["path-named", "indexed"])
def test_a_lone_empty_key_is_the_root_key(path, monkeypatch, saved_in_a_dict, limit):
    # `{'': state}` and a bare State both have the key '', as their joined paths do.
    monkeypatch.setattr(_layout, "MAX_NAMED_TEXT", limit)
    state, fresh = brainstate.State(jnp.ones(2)), brainstate.State(jnp.zeros(2))
    checkpoint.save(path, {"": state} if saved_in_a_dict else state)
    report = checkpoint.restore(path, fresh if saved_in_a_dict else {"": fresh})
    assert report.ok and report.restored == ("",)
    np.testing.assert_array_equal(fresh.value, np.ones(2))


# -- version 1 (path-named) files --------------------------------------------------------------------
def _write_path_named(path: str, tensors: dict, states: dict) -> None:
    """A version-1 file as brainstate wrote it before the indexed layout existed, built by hand."""
    import safetensors.numpy

    meta = {"brainstate_version": "0.0.1", "jax_version": jax.__version__, "states": json.dumps(states, sort_keys=True),
            "format": "brainstate.checkpoint", "format_version": "1"}
    meta["checksum"] = _storage.checksum(tensors, meta)
    safetensors.numpy.save_file(tensors, path, metadata=meta)


def _leaf(key, tensor, array, encoding="raw"):
    return {"key": key, "tensor": tensor, "dtype": str(array.dtype), "shape": list(array.shape), "encoding": encoding}


@pytest.fixture
def old_file(path):
    """A version-1 file of `{'net': Linear(2, 3), 'half': bfloat16 state, 'deep': a 40-level chain}`."""
    weight, bias = np.arange(6, dtype=np.float32).reshape(2, 3), np.array([1.5, -2, 3], np.float32)
    half = np.array([0.5, 1.25], jnp.bfloat16)
    tensors = {"net.weight.weight": weight, "net.weight.bias": bias, "half": half.view(np.uint16)}
    states = {"net.weight": {"kind": "ParamState", "leaves": [_leaf("bias", "net.weight.bias", bias),
                                                               _leaf("weight", "net.weight.weight", weight)]},
              "half": {"kind": "State", "leaves": [_leaf("", "half", half, "bitcast")]}}
    for depth in range(40):
        key = "deep." + deep_key(depth)
        tensors[key] = np.array(depth + 0.5, np.float32)
        states[key] = {"kind": "ParamState", "leaves": [_leaf("", key, tensors[key])]}
    _write_path_named(path, tensors, states)
    return path, weight, bias, half, set(states)


def _old_target(half_dtype=jnp.bfloat16):
    return {"net": brainstate.nn.Linear(2, 3), "half": brainstate.State(jnp.zeros(2, half_dtype)),
            "deep": chain(40, 7)}


def test_path_named_file_restores(old_file):
    path, weight, bias, half, keys = old_file
    target = _old_target()
    assert checkpoint.restore(path, target).ok
    np.testing.assert_array_equal(target["net"].weight.value["weight"], weight)
    np.testing.assert_array_equal(target["net"].weight.value["bias"], bias)
    np.testing.assert_array_equal(np.asarray(target["half"].value).view(np.uint16), half.view(np.uint16))
    np.testing.assert_array_equal(level_bits(target["deep"]), (np.arange(40, dtype=np.float32) + 0.5).view(np.uint32))
    assert set(checkpoint.load(path).values) == keys


def test_path_named_file_mismatch_names_the_path(old_file):
    path = old_file[0]
    with pytest.raises(checkpoint.CheckpointError, match=r"(?s)1 problem\).*half: dtype bfloat16 in the checkpoint, "
                                                         r"float16 in the target"):
        checkpoint.restore(path, _old_target(jnp.float16))


def test_ordinary_models_are_still_written_path_named(path):
    checkpoint.save(path, {"model": make_net(0)})
    meta = header(path)["__metadata__"]
    assert meta["format_version"] == "1" and "paths" not in meta
    assert "model.seq.layers.0.weight" in json.loads(meta["states"])


# -- damaged indexed headers ---------------------------------------------------------------------------
@pytest.mark.parametrize("paths, states, why", [
    ([[0, "a"]], {"0": {}}, r"has inconsistent metadata .*states is a dict, not a list"),
    ([[0, "a"]], [{"path": 5}], r"has inconsistent metadata .*state path 5 is not a node of the path table"),
    ([[0, "a"]], [{"path": 1, "kind": "State", "leaves": []}] * 2, r"has inconsistent metadata .*two states have the same key"),
    ([[1, "a"]], [], r"has inconsistent metadata .*path row 1 \[1, 'a'\] is not \[an earlier node, a part without '.'\]"),
    ([[0, "a.b"]], [], r"has inconsistent metadata .*path row 1 \[0, 'a.b'\] is not"),
    ([[0, "a"], [0, "a"]], [], r"has inconsistent metadata .*path row 2 \[0, 'a'\] repeats an earlier node"),
])
def test_damaged_indexed_header_is_refused(path, paths, states, why):
    _storage.write_checkpoint(path, {}, {"format_version": "2", "paths": json.dumps(paths), "states": json.dumps(states)})
    with pytest.raises(checkpoint.CheckpointError, match=why):
        checkpoint.load(path)


def test_damaged_path_named_header_is_refused(path):
    _storage.write_checkpoint(path, {}, {"states": json.dumps([])})
    with pytest.raises(checkpoint.CheckpointError, match=r"has inconsistent metadata .*states is a list, not an object"):
        checkpoint.load(path)
