"""shard_map and pmap2 on 8 simulated CPU devices (the cases run in one subprocess).

The device count is fixed when JAX's backend starts, so the cases in `multidevice_cases.py` run
in a fresh interpreter with `XLA_FLAGS=--xla_force_host_platform_device_count=8`; each test
here reports one case.
"""

import json
import os
import pathlib
import subprocess
import sys

import pytest

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import multidevice_cases  # noqa: E402  (only names are read here: no JAX backend starts)

sys.path.remove(str(HERE))


@pytest.fixture(scope="module")
def results():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=8", JAX_PLATFORMS="cpu")
    proc = subprocess.run([sys.executable, str(HERE / "multidevice_cases.py")], env=env, capture_output=True,
                          text=True, timeout=600, cwd=str(HERE.parent.parent))
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    assert proc.returncode == 0 and lines, f"the case runner failed:\n{proc.stdout}\n{proc.stderr}"
    return json.loads(lines[-1])


@pytest.mark.parametrize("name", sorted(multidevice_cases.CASES))
def test_case(results, name):
    error = results[name]
    if error is not None:
        pytest.fail(error, pytrace=False)
