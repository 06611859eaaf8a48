"""CheckpointManager: numbered steps in a directory, the last N kept, latest restored by default."""

import os

import jax.numpy as jnp
import numpy as np
import pytest

import brainstate
from brainstate import checkpoint


def net(value):
    return {"w": brainstate.ParamState(jnp.full((3,), value, jnp.float32)),
            "step": brainstate.ShortTermState(jnp.asarray(np.int32(value)))}


def test_keeps_the_last_n_steps(tmp_path):
    manager = checkpoint.CheckpointManager(tmp_path / "run", max_to_keep=2)
    for step in range(1, 6):
        manager.save(step, net(step))
    assert manager.all_steps() == [4, 5] and manager.latest_step() == 5
    assert sorted(os.listdir(tmp_path / "run")) == ["step_00000004.safetensors", "step_00000005.safetensors"]


def test_restores_the_latest_step_by_default_or_the_one_asked(tmp_path):
    manager = checkpoint.CheckpointManager(str(tmp_path), max_to_keep=3)
    for step in (10, 20, 30):
        manager.save(step, net(step))
    target = net(0)
    assert manager.restore(target).ok
    assert int(target["step"].value) == 30
    manager.restore(target, step=20)
    np.testing.assert_array_equal(target["w"].value, np.full((3,), 20.0, np.float32))


def test_keep_every_step(tmp_path):
    manager = checkpoint.CheckpointManager(str(tmp_path), max_to_keep=None)
    for step in range(4):
        manager.save(step, net(step))
    assert manager.all_steps() == [0, 1, 2, 3]


def test_other_files_and_leftover_temporaries_are_not_steps(tmp_path):
    manager = checkpoint.CheckpointManager(str(tmp_path))
    manager.save(7, net(7))
    for name in (".step_00000008.safetensors.123.abcd.tmp", "notes.txt", "step_x.safetensors"):
        (tmp_path / name).write_bytes(b"junk")
    assert manager.all_steps() == [7]


def test_empty_or_missing_directory(tmp_path):
    manager = checkpoint.CheckpointManager(str(tmp_path / "never"))
    assert manager.all_steps() == [] and manager.latest_step() is None
    with pytest.raises(checkpoint.CheckpointError, match=r"no checkpoint in .*never' yet"):
        manager.restore(net(0))


def test_unknown_step(tmp_path):
    manager = checkpoint.CheckpointManager(str(tmp_path))
    manager.save(1, net(1))
    with pytest.raises(checkpoint.CheckpointError, match=r"step 2 is not saved in .*; the saved steps are \[1\]"):
        manager.restore(net(0), step=2)


def test_existing_step_needs_overwrite(tmp_path):
    manager = checkpoint.CheckpointManager(str(tmp_path))
    manager.save(1, net(1))
    with pytest.raises(checkpoint.CheckpointError, match=r"step 1 is already saved .* overwrite=True"):
        manager.save(1, net(2))
    manager.save(1, net(2), overwrite=True)
    target = net(0)
    manager.restore(target)
    assert int(target["step"].value) == 2


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_max_to_keep_must_be_positive(tmp_path, bad):
    with pytest.raises(ValueError, match=r"max_to_keep must be a positive int or None"):
        checkpoint.CheckpointManager(str(tmp_path), max_to_keep=bad)


@pytest.mark.parametrize("bad", [-1, 1.0, True, "3"])
def test_step_must_be_a_non_negative_int(tmp_path, bad):
    manager = checkpoint.CheckpointManager(str(tmp_path))
    with pytest.raises(TypeError, match=r"step must be a non-negative integer"):
        manager.save(bad, net(0))
    with pytest.raises(TypeError, match=r"step must be a non-negative integer"):
        manager.restore(net(0), step=bad)


def test_repr(tmp_path):
    assert repr(checkpoint.CheckpointManager("runs", max_to_keep=3)) == "CheckpointManager('runs', max_to_keep=3)"
