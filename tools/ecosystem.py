"""Run the test suites of braintools, brainpy and braintrace against a brainstate.

The three libraries people reach BrainState through ship their tests inside their wheels
(braintools, brainpy) or their source distribution (braintrace). This tool builds a Python 3.12
virtual environment with a brainstate (ours, editable, or the reference 0.5.4 release), the
three libraries installed with ``--no-deps`` at fixed versions, and their third-party
dependencies pinned by ``.ci/ecosystem_constraints.txt``; then it runs their tests in place
in site-packages and reports per-package and per-file outcomes.

Commands::

    python tools/ecosystem.py setup  --venv DIR [--reference]
    python tools/ecosystem.py run    --venv DIR [--subset FILE] [--json OUT] [-n N]
    python tools/ecosystem.py errors --json OUT        # group the first errors of a run
    python tools/ecosystem.py has-python312            # exit 0 if a Python 3.12 is found

``setup`` is idempotent: it reuses a venv whose stamp matches (same brainstate source,
same pins). Standard library only, so any host Python can drive it.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import os
import pathlib
import resource
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
TOOLS = ROOT / "tools"
CONSTRAINTS = ROOT / ".ci" / "ecosystem_constraints.txt"

#: The ecosystem releases under test (issue #13). Bump together with the baseline.
PACKAGES = {"braintools": "0.4.0", "brainpy": "2.9.0", "braintrace": "0.2.8"}
#: The reference brainstate release the baseline was measured on.
REFERENCE = "brainstate==0.5.4"
#: Test runners; pytest-timeout turns a hung test into one failure instead of a stuck job.
TEST_TOOLS = ["pytest", "pytest-xdist", "pytest-timeout", "hypothesis"]
#: Names never installed as "third-party dependencies": brainstate is the one under test and
#: the three libraries are installed explicitly with ``--no-deps``.
OURS = {"brainstate", *PACKAGES}
#: Per-package pytest options their own configuration sets (braintrace deselects its random
#: exploration tests, which by its own config must not gate CI).
MARKERS = {"braintrace": "not diagnostic"}


def log(msg: str) -> None:
    print(f"[ecosystem] {msg}", flush=True)


def find_python312() -> str | None:
    """A Python 3.12 interpreter, or None (the caller then skips the stage)."""
    candidates = [os.environ.get("ECOSYSTEM_PYTHON", ""), "python3.12",
                  str(pathlib.Path.home() / ".pyenv/versions/3.12.1/bin/python")]
    env = dict(os.environ, PYENV_VERSION=os.environ.get("PYENV_VERSION", "3.12.1"))
    for cand in candidates:
        exe = shutil.which(cand) if cand and os.sep not in cand else cand
        if not exe or not os.path.exists(exe):
            continue
        try:
            out = subprocess.run([exe, "-c", "import sys; print(sys.version_info[:2] == (3, 12))"],
                                 capture_output=True, text=True, env=env, timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if out.stdout.strip() == "True":
            return exe
    return None


def venv_python(venv: pathlib.Path) -> pathlib.Path:
    return venv / "bin" / "python"


def site_packages(venv: pathlib.Path) -> pathlib.Path:
    out = subprocess.run([str(venv_python(venv)), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                         capture_output=True, text=True, check=True)
    return pathlib.Path(out.stdout.strip())


def pip(venv: pathlib.Path, *args: str) -> None:
    cmd = [str(venv_python(venv)), "-m", "pip", "install", "-q", "--disable-pip-version-check", *args]
    log("pip install " + " ".join(args))
    subprocess.run(cmd, check=True, cwd=tempfile.gettempdir())


def _stamp(reference: bool, source: pathlib.Path) -> str:
    """What a venv was built from: rebuild when the pins, this tool or the mode change."""
    h = hashlib.sha256()
    for path in (CONSTRAINTS, pathlib.Path(__file__), source / "pyproject.toml"):
        h.update(path.read_bytes())
    h.update(b"reference" if reference else str(source).encode())
    return h.hexdigest()[:16]


_REQUIRES_SNIPPET = r"""
import importlib.metadata as md, json, sys
from pip._vendor.packaging.requirements import Requirement
skip = set(sys.argv[2].split(","))
reqs = set()
for dist in sys.argv[1].split(","):
    for text in md.requires(dist) or []:
        req = Requirement(text)
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue  # an extra's requirement, or one for another platform
        if req.name.lower().replace("_", "-") in skip:
            continue
        reqs.add(req.name + (f"[{','.join(sorted(req.extras))}]" if req.extras else ""))
print(json.dumps(sorted(reqs)))
"""


def third_party_requirements(venv: pathlib.Path) -> list[str]:
    """The non-extra requirements of the three libraries, brainstate and themselves excluded.

    Versions come from the constraints file, not from the libraries' lower bounds."""
    out = subprocess.run([str(venv_python(venv)), "-c", _REQUIRES_SNIPPET, ",".join(PACKAGES), ",".join(OURS)],
                         capture_output=True, text=True, check=True, cwd=tempfile.gettempdir())
    return json.loads(out.stdout)


def fetch_braintrace_tests(venv: pathlib.Path, workdir: pathlib.Path) -> int:
    """Copy braintrace's tests from its sdist into the installed package; returns the count.

    The wheel ships none. The sdist's package source is otherwise identical to the wheel's,
    so overlaying only test files (``*_test.py``, ``tests/`` folders and the ``_testing``
    helpers they import) keeps the code under test the installed release.
    """
    version = PACKAGES["braintrace"]
    dl = workdir / "sdist"
    dl.mkdir(parents=True, exist_ok=True)
    subprocess.run([str(venv_python(venv)), "-m", "pip", "download", "-q", "--no-binary", ":all:", "--no-deps",
                    f"braintrace=={version}", "-d", str(dl)], check=True, cwd=tempfile.gettempdir())
    archive = next(dl.glob(f"braintrace-{version}.tar.gz"))
    target = site_packages(venv)
    count = 0
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            parts = pathlib.PurePosixPath(member.name).parts
            if not member.isfile() or len(parts) < 3 or parts[1] != "braintrace":
                continue
            rel = pathlib.PurePosixPath(*parts[1:])
            is_test = rel.name.endswith("_test.py") or "tests" in rel.parts[:-1] or "_testing" in rel.parts[:-1]
            if not is_test:
                continue
            dest = target / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            src = tar.extractfile(member)
            assert src is not None
            dest.write_bytes(src.read())
            count += rel.name.endswith("_test.py")
    return count


def setup(venv: pathlib.Path, reference: bool, source: pathlib.Path = ROOT) -> None:
    stamp_file = venv / ".ecosystem-stamp"
    stamp = _stamp(reference, source)
    if stamp_file.exists() and stamp_file.read_text() == stamp:
        log(f"reusing {venv}")
        return
    python = find_python312()
    if python is None:
        raise SystemExit("no Python 3.12 found (set ECOSYSTEM_PYTHON)")
    if venv.exists():
        shutil.rmtree(venv)
    log(f"creating {venv} with {python}")
    subprocess.run([python, "-m", "venv", str(venv)], check=True,
                   env=dict(os.environ, PYENV_VERSION="3.12.1"))
    constraints = ["-c", str(CONSTRAINTS)]
    pip(venv, *constraints, REFERENCE if reference else f"-e{source}")
    pip(venv, "--no-deps", *[f"{name}=={ver}" for name, ver in PACKAGES.items()])
    deps = third_party_requirements(venv)
    log("third-party requirements: " + ", ".join(deps))
    pip(venv, *constraints, *deps, *TEST_TOOLS)
    n = fetch_braintrace_tests(venv, venv / "work")
    log(f"braintrace: {n} test files copied from the sdist")
    check_brainstate(venv, reference, source)
    stamp_file.write_text(stamp)


def check_brainstate(venv: pathlib.Path, reference: bool, source: pathlib.Path = ROOT) -> None:
    """Fail if a dependency pulled in the wrong brainstate (pip would replace ours silently)."""
    out = subprocess.run([str(venv_python(venv)), "-c", "import brainstate, jax; print(brainstate.__file__); "
                          "print(jax.__version__)"], capture_output=True, text=True, cwd=tempfile.gettempdir())
    path = out.stdout.splitlines()[0] if out.returncode == 0 else ""
    ours = path.startswith(str(source / "brainstate"))
    if out.returncode != 0 and not reference:
        # Our brainstate failing to import is a finding for the test run, not a setup error.
        log("warning: brainstate does not import:\n" + out.stderr[-2000:])
        return
    if out.returncode != 0 or ours == reference:
        raise SystemExit(f"wrong brainstate in {venv}: {path or out.stderr[-2000:]}")
    log(f"brainstate from {path}; jax {out.stdout.splitlines()[1]}")


# ---------------------------------------------------------------- running


def read_subset(path: pathlib.Path) -> dict[str, int]:
    """``.ci/ecosystem_tests.txt``: ``<file relative to site-packages> <expected passes>``
    (``known`` failures, if any, in :func:`read_known`)."""
    subset: dict[str, int] = {}
    for ln in path.read_text().splitlines():
        ln = ln.split("#", 1)[0].strip()
        if not ln:
            continue
        name, passes = ln.split()[:2]
        subset[name] = int(passes)
    return subset


def read_known(path: pathlib.Path) -> dict[str, int]:
    """The optional third column ``known=N``: failures of that file on our package that are
    known and explained in the file (an open issue), tolerated up to N so CI still catches any
    new one."""
    known: dict[str, int] = {}
    for ln in path.read_text().splitlines():
        fields = ln.split("#", 1)[0].split()
        if len(fields) == 3 and fields[2].startswith("known="):
            known[fields[0]] = int(fields[2][len("known="):])
    return known


def run_package(venv: pathlib.Path, package: str, targets: list[str], jobs: int, timeout: int,
                workdir: pathlib.Path) -> tuple[list[dict], float, int]:
    """Run pytest over ``targets`` (paths relative to site-packages); returns per-test records."""
    sp = site_packages(venv)
    ini = workdir / f"{package}.ini"
    # An ini of our own: none of the libraries' or our repo's settings leak in, except
    # braintrace's marker deselection (see MARKERS).
    ini.write_text("[pytest]\naddopts =\n")
    results = workdir / f"{package}.json"
    cmd = [str(venv_python(venv)), "-m", "pytest", *[str(sp / t) for t in targets], "-c", str(ini), "--rootdir", str(sp),
           "-p", "no:cacheprovider", "-p", "ecosystem_plugin", "-q", "--no-header", "-rN",
           "--timeout", str(timeout), "-W", "ignore::DeprecationWarning"]
    if package in MARKERS:
        cmd += ["-m", MARKERS[package]]
    if jobs > 1:
        cmd += ["-n", str(jobs), "--dist", "loadfile"]
    env = dict(os.environ, PYTHONPATH=str(TOOLS), ECOSYSTEM_RESULTS=str(results), JAX_PLATFORMS="cpu",
               MPLBACKEND="Agg", PYTHONDONTWRITEBYTECODE="1")
    logfile = workdir / f"{package}.log"
    log(f"{package}: pytest over {len(targets)} target(s), output in {logfile}")
    t0, cpu0 = time.time(), _children_cpu()
    with open(logfile, "w") as f:
        proc = subprocess.run(cmd, cwd=workdir, env=env, stdout=f, stderr=subprocess.STDOUT, text=True)
    elapsed, cpu = time.time() - t0, _children_cpu() - cpu0
    tail = " | ".join(ln for ln in logfile.read_text().strip().splitlines()[-2:])
    log(f"{package}: {elapsed:.0f}s wall, {cpu:.0f}s CPU, pytest exit {proc.returncode}: {tail}")
    records = json.loads(results.read_text()) if results.exists() else []
    return records, elapsed, cpu, proc.returncode


def _children_cpu() -> float:
    """CPU seconds (user + system) of finished child processes, pytest-xdist workers included.

    Load-independent, unlike wall time: on a machine shared with other jobs this is what says
    whether a run fits the CI budget (about CPU / cores of wall time on an idle machine)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def summarize(records: list[dict]) -> dict:
    """Per-package counts and per-file counts/first error from per-test records."""
    counts: collections.Counter = collections.Counter()
    files: dict[str, dict] = {}
    for rec in records:
        counts[rec["outcome"]] += 1
        fname = rec["nodeid"].split("::", 1)[0]
        entry = files.setdefault(fname, {"passed": 0, "failed": 0, "error": 0, "skipped": 0,
                                         "xfailed": 0, "xpassed": 0, "seconds": 0.0, "first_error": ""})
        entry[rec["outcome"]] += 1
        entry["seconds"] = round(entry["seconds"] + rec.get("seconds", 0.0), 3)
        if rec["outcome"] in ("failed", "error") and not entry["first_error"]:
            entry["first_error"] = rec["message"]
    return {"counts": dict(counts), "files": dict(sorted(files.items()))}


def run(venv: pathlib.Path, subset_path: pathlib.Path | None, out: pathlib.Path | None, jobs: int,
        timeout: int, packages: list[str], logdir: pathlib.Path | None = None) -> int:
    sp = site_packages(venv)
    subset = read_subset(subset_path) if subset_path else None
    report: dict = {"venv": str(venv), "packages": {}}
    # pytest logs stay in workdir, for reading after the run.
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="ecosystem-", dir=logdir))
    for package in packages:
        if subset is None:
            targets = [package]  # the whole installed package: every *_test.py in it
        else:
            targets = [f for f in subset if f.split("/", 1)[0] == package]
            if not targets:
                continue
        missing = [t for t in targets if not (sp / t).exists()]
        if missing:
            raise SystemExit(f"test files listed but not installed: {missing}")
        records, elapsed, cpu, code = run_package(venv, package, targets, jobs, timeout, workdir)
        if not records and code not in (0, 5):
            log(f"{package}: pytest recorded nothing; log:\n" + (workdir / f"{package}.log").read_text()[-4000:])
            records = [{"nodeid": package, "outcome": "error", "message": f"pytest exited {code}"}]
        summary = summarize(records)
        summary["seconds"] = round(elapsed, 1)
        summary["cpu_seconds"] = round(cpu, 1)
        report["packages"][package] = summary
    if out:
        out.write_text(json.dumps(report, indent=1) + "\n")
    print_table(report)
    if subset is not None:
        return check_subset(report, subset, read_known(subset_path))
    return 0


def print_table(report: dict) -> None:
    print(f"{'package':<12} {'passed':>7} {'failed':>7} {'errors':>7} {'skipped':>8} {'xfail':>6} {'seconds':>8} "
          f"{'CPU s':>7}")
    for package, summary in report["packages"].items():
        c = summary["counts"]
        print(f"{package:<12} {c.get('passed', 0) + c.get('xpassed', 0):>7} {c.get('failed', 0):>7} "
              f"{c.get('error', 0):>7} {c.get('skipped', 0):>8} {c.get('xfailed', 0):>6} {summary['seconds']:>8} "
              f"{summary.get('cpu_seconds', 0):>7}")


def check_subset(report: dict, subset: dict[str, int], known: dict | None = None) -> int:
    """Every listed file passes as many tests as on the reference, with no failure or error
    beyond its listed known failures."""
    known = known or {}
    problems = []
    for fname, expected in subset.items():
        package = fname.split("/", 1)[0]
        entry = report["packages"].get(package, {}).get("files", {}).get(fname)
        if entry is None:
            problems.append(f"{fname}: no test ran (expected {expected} passes)")
            continue
        bad = entry["failed"] + entry["error"]
        passed = entry["passed"] + entry["xpassed"]
        allowed = known.get(fname, 0)
        if bad and bad <= allowed and passed >= expected - allowed:
            print(f"KNOWN {fname}: {passed}/{expected} passed, {bad} known failures (listed in the subset file); "
                  f"first: {entry['first_error']}")
            continue
        if bad or passed < expected:
            problems.append(f"{fname}: {passed}/{expected} passed, {entry['failed']} failed, "
                            f"{entry['error']} errors; first: {entry['first_error']}")
    for p in problems:
        print("REGRESSION " + p)
    print(f"ecosystem: {len(subset) - len(problems)} of {len(subset)} files as on the reference")
    counts: collections.Counter = collections.Counter()
    for summary in report["packages"].values():
        counts.update(summary["counts"])
    # The closing line CI reads: the ecosystem tests' own counts.
    print(f"ecosystem: {counts['passed'] + counts['xpassed']} passed, {counts['failed'] + counts['error']} failed, "
          f"{counts['skipped'] + counts['xfailed']} skipped")
    return 1 if problems else 0


def group_errors(path: pathlib.Path) -> None:
    """Print the distinct first errors of a run, most frequent first (the to-do list)."""
    report = json.loads(path.read_text())
    for package, summary in report["packages"].items():
        groups: dict[str, list[str]] = collections.defaultdict(list)
        for fname, entry in summary["files"].items():
            if entry["first_error"]:
                groups[entry["first_error"]].append(fname)
        print(f"== {package}: {len(groups)} distinct first errors")
        for msg, fnames in sorted(groups.items(), key=lambda kv: -len(kv[1])):
            print(f"  [{len(fnames)} files] {msg}")


def merge_reports(paths: list[pathlib.Path]) -> dict:
    """One report from several `run --json` outputs (e.g. one per package)."""
    merged: dict = {"packages": {}}
    for path in paths:
        merged["packages"].update(json.loads(path.read_text())["packages"])
    return merged


def write_baseline(report: dict, out: pathlib.Path, header: str) -> None:
    """The baseline document: per-package counts, then one row per test file."""
    lines = [header.rstrip(), "", "## Counts per package", "",
             "| package | tests | passed | failed | errors | skipped | xfailed | test files | files fully passing |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for package in PACKAGES:
        summary = report["packages"].get(package)
        if summary is None:
            continue
        c, files = summary["counts"], summary["files"]
        clean = sum(1 for e in files.values() if not (e["failed"] or e["error"]) and e["passed"])
        lines.append(f"| {package} | {sum(c.values())} | {c.get('passed', 0) + c.get('xpassed', 0)} | "
                     f"{c.get('failed', 0)} | {c.get('error', 0)} | {c.get('skipped', 0)} | {c.get('xfailed', 0)} | "
                     f"{len(files)} | {clean} |")
    for package in PACKAGES:
        summary = report["packages"].get(package)
        if summary is None:
            continue
        lines += ["", f"## {package}: per test file", "",
                  "| file | passed | failed | errors | skipped | seconds | first failure |",
                  "|---|---:|---:|---:|---:|---:|---|"]
        for fname, e in summary["files"].items():
            first = e["first_error"].replace("|", "\\|")[:120]
            lines.append(f"| {fname} | {e['passed'] + e['xpassed']} | {e['failed']} | {e['error']} | "
                         f"{e['skipped'] + e['xfailed']} | {e.get('seconds', 0):.1f} | {first} |")
    out.write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_setup = sub.add_parser("setup", help="build (or reuse) the test venv")
    p_setup.add_argument("--venv", type=pathlib.Path, required=True)
    p_setup.add_argument("--reference", action="store_true", help=f"install {REFERENCE} instead of this repo")
    p_setup.add_argument("--source", type=pathlib.Path, default=ROOT,
                         help="the brainstate source tree to install editable (default: this repo)")
    p_run = sub.add_parser("run", help="run the suites (all, or the files of --subset)")
    p_run.add_argument("--venv", type=pathlib.Path, required=True)
    p_run.add_argument("--subset", type=pathlib.Path)
    p_run.add_argument("--json", type=pathlib.Path)
    p_run.add_argument("-n", "--jobs", type=int, default=2)
    p_run.add_argument("--timeout", type=int, default=600, help="seconds per test before it fails")
    p_run.add_argument("--packages", nargs="+", default=list(PACKAGES), choices=list(PACKAGES))
    p_run.add_argument("--logdir", type=pathlib.Path, help="where pytest logs are kept (default: a temp dir)")
    p_err = sub.add_parser("errors", help="group the first errors of a --json run")
    p_err.add_argument("--json", type=pathlib.Path, required=True)
    sub.add_parser("has-python312", help="exit 0 if a Python 3.12 interpreter is found, else 1")
    p_base = sub.add_parser("baseline", help="write the baseline document from `run --json` outputs")
    p_base.add_argument("--json", type=pathlib.Path, nargs="+", required=True)
    p_base.add_argument("--header", type=pathlib.Path, required=True, help="markdown put before the tables")
    p_base.add_argument("--out", type=pathlib.Path, required=True)
    args = parser.parse_args(argv)
    if args.command == "has-python312":
        return 0 if find_python312() else 1
    if args.command == "setup":
        setup(args.venv.resolve(), args.reference, args.source.resolve())
        return 0
    if args.command == "run":
        return run(args.venv.resolve(), args.subset, args.json, args.jobs, args.timeout, args.packages, args.logdir)
    if args.command == "baseline":
        write_baseline(merge_reports(args.json), args.out, args.header.read_text())
        return 0
    group_errors(args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
