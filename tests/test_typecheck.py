"""The package type-checks (house style: a type checker runs in CI); see [tool.mypy] in pyproject."""

import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_package_type_checks():
    pytest.importorskip("mypy")
    proc = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True,
                          timeout=1800)  # against a hang only: mypy may take minutes on a loaded machine
    assert proc.returncode == 0, proc.stdout + proc.stderr
