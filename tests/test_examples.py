"""Every example program runs in its short mode and passes its own check.

Each example's `main(...)` returns the numbers it checks; these tests call it with the short
settings of its `--short` flag and check the same numbers (the checkpoint example resumes in a
subprocess of itself, so that case also covers the new-process restore). The examples that train
for seconds are marked `slow` (`pytest -m slow`); the unit tests cover what they use.
"""

import importlib.util
import pathlib
import runpy

import numpy as np
import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


def load(name: str):
    """Import `examples/<name>.py` as a module (examples/ is not a package)."""
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_counter_increments_persist(capsys):
    runpy.run_path(str(EXAMPLES / "counter.py"), run_name="__main__")
    assert capsys.readouterr().out.strip() == "[1, 2, 3, 4]"


def test_train_mlp_loss_falls():
    final = load("train_mlp").main(steps=200, verbose=False)
    assert final < 0.1


@pytest.mark.slow  # trains, then resumes in a new process: several CPU seconds
def test_checkpoint_resume_in_new_process_is_bit_identical():
    result = load("mlp_checkpoint_resume").main(steps=60, stop_at=24, verbose=False)
    assert result["differing"] == []
    assert result["n_params"] == 6  # 3 layers x (weight, bias)
    assert result["n_arrays"] > result["n_params"]  # Adam's buffers and the random key too
    assert result["final_loss"] < 0.5 * result["first_loss"]


@pytest.mark.slow  # 250 training steps: several CPU seconds
def test_rnn_learns_delayed_sum():
    result = load("rnn_sequence").main(train_steps=250, verbose=False)
    assert result["loss_after"] < 0.05 * result["target_variance"]
    assert result["loss_before"] > 0.5 * result["target_variance"]


@pytest.mark.slow  # 300 steps of 8 members: several CPU seconds
def test_ensemble_members_all_learn_and_differ():
    result = load("ensemble_vmap").main(members=8, steps=300, verbose=False)
    first, last = result["first_loss"], result["last_loss"]
    assert first.shape == last.shape == (8,)
    np.testing.assert_array_less(last, 0.2 * first)
    assert result["loss_history"].shape == (300, 8)
    assert result["min_param_distance"] > 1e-3
    assert result["spread_in_gap"] > result["spread_on_data"]


@pytest.mark.slow  # 200 ms of a spiking network: several CPU seconds
def test_coba_network_fires_in_physiological_range(tmp_path):
    try:
        import matplotlib  # noqa: F401  (the 'examples' extra)
        out = tmp_path / "coba.png"
    except ImportError:
        out = None
    result = load("coba_network").main(duration=200.0, out=out and str(out), verbose=False)
    assert 1.0 <= result["rate_e"] <= 50.0
    assert 1.0 <= result["rate_i"] <= 100.0
    if out is not None:
        assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("name", ["mlp_checkpoint_resume", "rnn_sequence", "ensemble_vmap", "coba_network"])
def test_example_has_short_flag_and_docstring(name):
    source = (EXAMPLES / f"{name}.py").read_text()
    module = load(name)
    assert module.__doc__ and "Usage:" in module.__doc__
    assert '"--short"' in source
    assert callable(module.main)
