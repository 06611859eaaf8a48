"""Restoring into a target that does not fit: strict reports everything and changes nothing."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import brainstate
from brainstate import checkpoint


def model(hidden=4, extra=False, kind=brainstate.ParamState, dtype=np.float32, seed=0):
    brainstate.random.seed(seed)
    target = {"enc": brainstate.nn.Linear(3, hidden), "dec": brainstate.nn.Linear(hidden, 2),
              "scale": kind(jnp.asarray(np.full((2,), seed, dtype))),
              "count": brainstate.ShortTermState(jnp.asarray(np.int32(seed)))}
    if extra:
        target["extra"] = brainstate.State(jnp.zeros(1))
    return target


def values(target):
    return {".".join(map(str, path)): [np.asarray(x).tobytes() for x in jax.tree_util.tree_leaves(s.value)]
            for path, s in brainstate.graph.states(target).items()}


@pytest.fixture
def path(tmp_path):
    path = str(tmp_path / "ckpt.safetensors")
    checkpoint.save(path, model(seed=1))
    return path


def test_strict_lists_every_problem_and_changes_nothing(path):
    target = model(hidden=5, extra=True, kind=brainstate.LongTermState)
    del target["count"]
    before = values(target)
    with pytest.raises(checkpoint.CheckpointError, match=r"(?s)5 problems\); nothing was restored.*"
                       r"missing .*extra.*unexpected .*count.*mismatched.*"
                       r"dec.weight: leaf 'weight' shape \(4, 2\) in the checkpoint, \(5, 2\) in the target.*"
                       r"enc.weight: leaf 'bias' shape \(4,\) in the checkpoint, \(5,\) in the target; "
                       r"leaf 'weight' shape \(3, 4\) in the checkpoint, \(3, 5\) in the target.*"
                       r"scale: kind ParamState in the checkpoint, LongTermState in the target.*strict=False") as info:
        checkpoint.restore(path, target)
    assert values(target) == before
    report = info.value.report
    assert report.missing == ("extra",) and report.unexpected == ("count",)
    assert set(report.mismatched) == {"dec.weight", "enc.weight", "scale"}
    assert info.value.path == path


def test_non_strict_restores_what_matches(path):
    target = model(hidden=5, extra=True)
    before = values(target)
    report = checkpoint.restore(path, target, strict=False)
    assert report.restored == ("count", "scale")
    assert report.missing == ("extra",) and report.unexpected == ()
    assert list(report.mismatched) == ["dec.weight", "enc.weight"]
    assert not report.ok
    after = values(target)
    assert after["enc.weight"] == before["enc.weight"] and after["extra"] == before["extra"]
    np.testing.assert_array_equal(target["scale"].value, np.full((2,), 1, np.float32))
    assert int(target["count"].value) == 1
    assert "mismatched (in both, but different):" in str(report)


def test_dtype_mismatch_is_reported(path):
    with pytest.raises(checkpoint.CheckpointError, match=r"scale: dtype float32 in the checkpoint, bfloat16 in the target"):
        checkpoint.restore(path, model(dtype=jnp.bfloat16))


def test_leaf_structure_mismatch_is_reported(path):
    target = model()
    target["count"] = brainstate.ShortTermState({"n": jnp.zeros((), jnp.int32)})
    with pytest.raises(checkpoint.CheckpointError, match=r"count: leaves \[''\] in the checkpoint, \['n'\] in the target"):
        checkpoint.restore(path, target)


def test_a_failing_write_puts_back_the_values_already_written(path):
    class Fragile(brainstate.ShortTermState):
        armed = False

        def _write(self, value):
            if Fragile.armed:
                raise RuntimeError("write refused by a hook")
            super()._write(value)

    checkpoint.save(path, {"a": brainstate.State(jnp.ones(2)), "z": Fragile(jnp.ones(2))})
    target = {"a": brainstate.State(jnp.zeros(2)), "z": Fragile(jnp.zeros(2))}
    Fragile.armed = True
    with pytest.raises(RuntimeError, match="write refused by a hook"):
        checkpoint.restore(path, target)
    np.testing.assert_array_equal(target["a"].value, np.zeros(2))


def test_strict_must_be_a_bool(path):
    with pytest.raises(TypeError, match=r"strict must be True or False, got 'no'"):
        checkpoint.restore(path, model(), strict="no")


def test_report_is_ok_when_everything_fits(path):
    report = checkpoint.restore(path, model())
    assert report.ok and str(report).startswith("RestoreReport: 4 restored, 0 missing")
