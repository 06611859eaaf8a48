"""The ecosystem stage's verdict (`tools/ecosystem.py check_subset`): a listed file must pass as
on the reference; failures are tolerated only up to the `known=N` the subset file lists."""

import importlib.util
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("ecosystem_tool", ROOT / "tools" / "ecosystem.py")
ecosystem = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ecosystem)


def _report(passed, failed):
    entry = {"passed": passed, "xpassed": 0, "failed": failed, "error": 0, "first_error": "boom"}
    return {"packages": {"lib": {"files": {"lib/a_test.py": entry}, "counts": {"passed": passed, "failed": failed}}}}


@pytest.mark.parametrize("passed, failed, known, verdict", [
    (10, 0, {}, 0),  # as on the reference
    (8, 2, {}, 1),  # a regression
    (8, 2, {"lib/a_test.py": 2}, 0),  # the listed known failures
    (7, 3, {"lib/a_test.py": 2}, 1),  # one more than listed
])
def test_known_failures_are_tolerated_only_up_to_the_listed_number(passed, failed, known, verdict, capsys):
    assert ecosystem.check_subset(_report(passed, failed), {"lib/a_test.py": 10}, known) == verdict
    out = capsys.readouterr().out
    assert ("REGRESSION lib/a_test.py" in out) == bool(verdict)


def test_the_subset_file_reads_the_known_column(tmp_path):
    listed = tmp_path / "subset.txt"
    listed.write_text("# comment\nlib/a_test.py 10 known=2  # why\nlib/b_test.py 5\n")
    assert ecosystem.read_subset(listed) == {"lib/a_test.py": 10, "lib/b_test.py": 5}
    assert ecosystem.read_known(listed) == {"lib/a_test.py": 2}
