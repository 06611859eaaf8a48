"""Pytest plugin that records one outcome per test, for `tools/ecosystem.py`.

Loaded with ``-p ecosystem_plugin`` (``tools/`` on ``PYTHONPATH``); writes a JSON list of
``{"nodeid", "outcome", "message", "seconds"}`` to the file named by ``$ECOSYSTEM_RESULTS``
(seconds: setup + call + teardown). Under
pytest-xdist the hooks run in the controller, which receives every worker's reports, so one
file holds the whole run. A collection error (a test file that does not import) is recorded
under the file's own node id with outcome ``"error"``.
"""

from __future__ import annotations

import json
import os
import re
import time

_EXCEPTION_LINE = re.compile(r"^[\w.]*(Error|Exception|Exit|Interrupt|Failed|Warning)\b")
_results: dict[str, dict] = {}
_seconds: dict[str, float] = {}


def _last_error_line(report) -> str:
    """The ``E   ...`` line pytest prints last: the exception that ended the test."""
    text = str(report.longrepr) if report.longrepr is not None else ""
    lines = [ln[1:].strip() for ln in text.splitlines() if ln.startswith("E ")]
    # The exception line ("ValueError: ..."), not a trailing note such as JAX's traceback hint.
    raised = [ln for ln in lines if _EXCEPTION_LINE.match(ln)]
    if raised or lines:
        return (raised or lines)[-1][:500]
    # Skips carry a (path, line, reason) tuple; other reprs: keep the last non-empty line.
    if isinstance(report.longrepr, tuple) and len(report.longrepr) == 3:
        return str(report.longrepr[2])[:500]
    rest = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return rest[-1][:500] if rest else ""


_worker = False  # under pytest-xdist, set in the worker processes: the controller writes


def pytest_configure(config) -> None:
    global _worker
    _worker = hasattr(config, "workerinput")


def _progress(nodeid: str, outcome: str) -> None:
    """One line per finished test (time, outcome, node id) to ``$ECOSYSTEM_RESULTS.progress``, to
    follow a long run or recover the results of one that was cut short."""
    path = os.environ.get("ECOSYSTEM_RESULTS")
    if path and not _worker:
        with open(path + ".progress", "a") as f:
            f.write(f"{time.time():.1f} {outcome} {nodeid}\n")


def _record(nodeid: str, outcome: str, message: str = "") -> None:
    previous = _results.get(nodeid)
    # A test that passed its call but failed its teardown is an error, not a pass: the
    # worse outcome wins.
    rank = {"passed": 0, "xpassed": 0, "skipped": 1, "xfailed": 1, "failed": 2, "error": 3}
    if previous is None or rank[outcome] >= rank[previous["outcome"]]:
        _results[nodeid] = {"nodeid": nodeid, "outcome": outcome, "message": message}
    _results[nodeid]["seconds"] = round(_seconds.get(nodeid, 0.0), 3)


def pytest_runtest_logreport(report) -> None:
    """Classify each phase report; the worst phase outcome of a test is its outcome."""
    _seconds[report.nodeid] = _seconds.get(report.nodeid, 0.0) + getattr(report, "duration", 0.0)
    if report.when == "call":
        if hasattr(report, "wasxfail"):
            outcome = "xfailed" if report.skipped else "xpassed"
        else:
            outcome = report.outcome
        _record(report.nodeid, outcome, _last_error_line(report) if outcome != "passed" else "")
    elif report.failed:
        _record(report.nodeid, "error", _last_error_line(report))
    if report.when == "teardown" and report.nodeid in _results:
        _results[report.nodeid]["seconds"] = round(_seconds[report.nodeid], 3)
        _progress(report.nodeid, _results[report.nodeid]["outcome"])
    elif report.skipped:
        _record(report.nodeid, "xfailed" if hasattr(report, "wasxfail") else "skipped",
                _last_error_line(report))


def pytest_collectreport(report) -> None:
    """A module that fails to import is one error for its file."""
    if report.failed:
        _record(report.nodeid or "<session>", "error", _last_error_line(report))


def pytest_sessionfinish(session) -> None:
    path = os.environ.get("ECOSYSTEM_RESULTS")
    if not path or hasattr(session.config, "workerinput"):  # xdist workers report upstream
        return
    with open(path, "w") as f:
        json.dump(sorted(_results.values(), key=lambda r: r["nodeid"]), f, indent=0)
