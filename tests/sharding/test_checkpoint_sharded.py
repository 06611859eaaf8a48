"""Checkpoints of sharded states: each process's shards in its own file, restored onto any mesh."""

import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import PartitionSpec as P
from numpy.testing import assert_array_equal

import brainstate as bs
from brainstate import checkpoint
from brainstate.checkpoint._storage import read_checkpoint, write_checkpoint
from brainstate.sharding import has_declared_sharding, shard_states
from sharding_helpers import auto_mesh


def make_states(seed=0):
    rng = np.random.default_rng(seed)
    return {
        "w": bs.ParamState(jnp.asarray(rng.normal(size=(8, 4)), jnp.float32), sharding=P("data", "model")),
        "half": bs.ParamState(jnp.asarray(rng.normal(size=(8,)), jnp.bfloat16), sharding=P("model")),
        "keys": bs.State(jax.random.split(jax.random.key(seed), 8), sharding=P("data")),
        "linear": bs.ParamState({"weight": jnp.asarray(rng.normal(size=(4, 8)), jnp.float32),
                                 "bias": jnp.zeros(8)}, sharding={"weight": P(None, "model"), "bias": P()}),
        "local": bs.State(jnp.asarray(rng.normal(size=(3,)), jnp.float32)),  # on one device, not placed
    }


def values(states):
    def plain(x):
        return np.asarray(jax.random.key_data(x) if jnp.issubdtype(x.dtype, jax.dtypes.prng_key) else x)

    return {k: jax.tree_util.tree_map(plain, s.value) for k, s in states.items()}


def only_shard(path):
    """The one shard file of the checkpoint `path` (saved by this single process)."""
    shards = [n for n in os.listdir(os.path.dirname(path)) if n.startswith(os.path.basename(path) + ".shard-")]
    assert len(shards) == 1, shards
    return os.path.join(os.path.dirname(path), shards[0])


@pytest.fixture
def saved(tmp_path, mesh):
    states = make_states(0)
    shard_states({k: s for k, s in states.items() if k != "local"}, mesh)
    path = str(tmp_path / "ckpt.safetensors")
    checkpoint.save(path, states)
    return path, states


def test_sharded_arrays_go_to_the_process_shard_file(saved):
    path, _ = saved
    save_id = read_checkpoint(path)[1]["save_id"]
    assert sorted(os.listdir(os.path.dirname(path))) == ["ckpt.safetensors", f"ckpt.safetensors.shard-0-of-1.{save_id}"]
    pieces, metadata = read_checkpoint(only_shard(path))
    assert metadata["save_id"] == save_id
    layout = json.loads(metadata["pieces"])
    w_pieces = sorted(v["index"] for k, v in layout.items() if v["tensor"] == "w")
    assert len(w_pieces) == 8 and w_pieces[0] == [[0, 2], [0, 2]]  # one piece per device, replicas once
    assert len([v for v in layout.values() if v["tensor"] == "linear.bias"]) == 1


def test_layout_is_recorded(saved):
    path, _ = saved
    layouts = checkpoint.load(path).shardings
    assert layouts["w"] == {"spec": P("data", "model"), "mesh": {"data": 4, "model": 2}}
    assert layouts["linear"]["weight"]["spec"] == P(None, "model")
    assert "local" not in layouts


@pytest.mark.parametrize("shape, names", [((2, 4), ("data", "model")), ((8, 1), ("data", "model")), (None, None)])
def test_restore_onto_another_mesh_shape(saved, shape, names):
    path, source = saved
    target = make_states(1)
    if shape is not None:
        shard_states({k: s for k, s in target.items() if k != "local"}, auto_mesh(shape, names))
    assert checkpoint.restore(path, target).ok
    jax.tree_util.tree_map(assert_array_equal, values(target), values(source))
    if shape is not None:  # each value is placed as the target declares, on the target's mesh
        assert all(has_declared_sharding(s) for k, s in target.items() if k != "local")
        assert target["w"].value.sharding.mesh.axis_sizes == tuple(shape)


def test_load_reassembles_whole_arrays(saved):
    path, source = saved
    loaded = checkpoint.load(path).values
    assert_array_equal(loaded["w"], values(source)["w"])
    assert_array_equal(loaded["linear"]["weight"], values(source)["linear"]["weight"])


def test_missing_shard_file_is_named(saved):
    path, _ = saved
    os.remove(only_shard(path))
    with pytest.raises(checkpoint.CheckpointError, match=r"keeps its sharded arrays in 1 per-process files, and "
                                                         r"'ckpt.safetensors.shard-0-of-1.[0-9a-f]{16}' \(written by "
                                                         r"process 0\) is missing"):
        checkpoint.restore(path, make_states(1))


def test_shard_file_of_another_save_is_refused(saved, tmp_path):
    path, states = saved
    other = str(tmp_path / "other.safetensors")
    checkpoint.save(other, states)
    os.replace(only_shard(other), only_shard(path))
    with pytest.raises(checkpoint.CheckpointError, match=r"belongs to another save than the checkpoint"):
        checkpoint.load(path)


def test_shards_that_do_not_cover_an_array_are_refused(saved):
    path, _ = saved
    shard = only_shard(path)
    pieces, metadata = read_checkpoint(shard)
    layout = json.loads(metadata["pieces"])
    dropped = next(k for k, v in layout.items() if v["tensor"] == "w")
    del pieces[dropped], layout[dropped]
    write_checkpoint(shard, pieces, {"save_id": metadata["save_id"], "pieces": json.dumps(layout)})
    with pytest.raises(checkpoint.CheckpointError, match=r"do not cover the whole of tensor 'w'"):
        checkpoint.load(path)


def test_manager_deletes_the_shard_files_of_old_steps(tmp_path, mesh):
    states = make_states(0)
    shard_states({k: s for k, s in states.items() if k != "local"}, mesh)
    manager = checkpoint.CheckpointManager(tmp_path, max_to_keep=1)
    manager.save(1, states)
    manager.save(2, states)
    step_2 = str(tmp_path / "step_00000002.safetensors")
    assert sorted(os.listdir(tmp_path)) == ["step_00000002.safetensors", os.path.basename(only_shard(step_2))]
    target = make_states(1)
    assert manager.restore(target).ok
    jax.tree_util.tree_map(assert_array_equal, values(target), values(states))


def test_checkpoints_whose_shard_names_carry_no_save_id_are_read(saved):
    # The layout written before shard names carried the save id: '<path>.shard-<i>-of-<n>', and a
    # main file that gives only their number.
    path, source = saved
    tensors, metadata = read_checkpoint(path)
    del metadata["shard_names"]
    write_checkpoint(path, tensors, metadata)
    os.replace(only_shard(path), path + ".shard-0-of-1")
    assert_array_equal(checkpoint.load(path).values["w"], values(source)["w"])
