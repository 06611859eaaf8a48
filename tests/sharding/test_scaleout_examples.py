"""The scale-out examples run in their short mode and pass their own checks.

They run in this process, which already has the 8 simulated devices they need; each example
raises (SystemExit or AssertionError) when its result is wrong.
"""

import os
import runpy
import sys

import pytest

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "examples")


@pytest.mark.parametrize("name", [
    pytest.param("data_parallel_mlp.py", marks=pytest.mark.slow),  # trains for several CPU seconds
    "tensor_parallel_mlp.py", "sharded_spiking_network.py"])
def test_example_runs_in_short_mode(name, mesh, monkeypatch, capsys):
    path = os.path.join(EXAMPLES, name)
    monkeypatch.setattr(sys, "argv", [path, "--short"])
    runpy.run_path(path, run_name="__main__")
    assert "OK:" in capsys.readouterr().out
