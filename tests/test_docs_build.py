"""The documentation site builds, and renders in a real browser.

Both are opt-in: `-m docs` builds the whole site into a temporary directory with warnings as
errors, executing every tutorial from scratch (several minutes on 2 cores; needs the `docs`
extra); `-m browser` also serves the built site on localhost and loads pages in headless
chromium. The checks that need no build (the API-name list, the link checker) run by default.
"""

import functools
import http.server
import os
import pathlib
import shutil
import subprocess
import sys
import threading

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS / "_ext"))

import docstring_markup  # noqa: E402  (docs/_ext, put on the path above)
import sitecheck  # noqa: E402


@functools.lru_cache(maxsize=None)
def _build(outdir: str) -> pathlib.Path:
    """Build the site once per session into `outdir` (a fresh notebook cache: every tutorial runs)."""
    out = pathlib.Path(outdir)
    env = {"BRAINSTATE_DOCS_CACHE": str(out / "jupyter_cache")}
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", str(DOCS), str(out / "html")],
        cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True,
        timeout=3600)  # against a hang only: executing every tutorial on a loaded machine takes minutes
    assert result.returncode == 0, f"the documentation build failed:\n{result.stderr[-20000:]}"
    return out / "html"


@pytest.fixture(scope="session")
def built_site(tmp_path_factory) -> pathlib.Path:
    try:
        import myst_nb  # noqa: F401  (the docs extra)
    except ImportError:
        pytest.fail("the docs tests need the docs extra: pip install -e '.[docs]'")
    return _build(str(tmp_path_factory.mktemp("docs")))


@pytest.mark.docs
def test_site_builds_without_warnings_and_runs_every_tutorial(built_site):
    executed = sorted(p.relative_to(built_site) for p in (built_site / "tutorials").glob("*.html"))
    assert len(executed) >= 13, executed
    # An executed notebook carries its outputs: the Counter counts to 4 on the first page.
    assert "[1, 2, 3, 4]" in (built_site / "getting_started.html").read_text()


@pytest.mark.docs
def test_api_reference_lists_every_reference_name_the_package_has(built_site):
    undocumented, not_provided = sitecheck.missing_api_names(built_site)
    assert undocumented == []
    # Names the package lacks cannot be documented; the list only shrinks as they are added.
    assert set(not_provided) <= {"brainstate.transform.in_new_state_probe", "brainstate.environ.u",
                                 "brainstate.nn.InterpolationRegistry", "brainstate.typing.u"}


@pytest.mark.docs
def test_every_internal_link_resolves(built_site):
    assert sitecheck.broken_links(built_site) == []


def test_reference_name_list_is_complete_and_well_formed():
    names = sitecheck.reference_names()
    modules = {module for module, _ in names}
    assert len(names) == len(set(names)) == 658
    assert modules == {"brainstate", "brainstate.transform", "brainstate.graph", "brainstate.random",
                       "brainstate.environ", "brainstate.util", "brainstate.mixin", "brainstate.nn",
                       "brainstate.nn.init", "brainstate.typing"}


def test_link_checker_reports_missing_files_and_anchors(tmp_path):
    (tmp_path / "a.html").write_text('<a href="b.html#here">ok</a> <a href="b.html#gone">x</a> '
                                     '<a href="c.html">y</a> <a href="https://example.org/">z</a>')
    (tmp_path / "b.html").write_text('<h1 id="here">B</h1>')
    assert sitecheck.broken_links(tmp_path) == ["a.html: link to a missing anchor: b.html#gone",
                                                "a.html: link to a missing file: c.html"]


def test_api_check_finds_an_undocumented_name(tmp_path):
    api = tmp_path / "api" / "generated"
    api.mkdir(parents=True)
    (api / "brainstate_random.html").write_text('<dt id="brainstate.random.normal">normal</dt>')
    undocumented, not_provided = sitecheck.missing_api_names(
        tmp_path, [("brainstate.random", "normal"), ("brainstate.random", "uniform"),
                   ("brainstate.random", "no_such_draw")])
    assert undocumented == ["brainstate.random.uniform"]
    assert not_provided == ["brainstate.random.no_such_draw"]


@pytest.mark.parametrize("line, expected", [
    ("Returns `x` unchanged.", "Returns ``x`` unchanged."),
    ("the `State`s it reads", "the ``State``\\ s it reads"),       # a letter may not touch a literal
    ("a(`x`) b", "a(``x``) b"),
    ("passed as *args and **kwargs", "passed as \\*args and \\*\\*kwargs"),
    ("emphasis *stays* here", "emphasis *stays* here"),
    ("mean of |x|", "mean of \\|x\\|"),
    ("already ``literal`` and :class:`Role`", "already ``literal`` and :class:`Role`"),
])
def test_docstring_prose_becomes_valid_restructuredtext(line, expected):
    assert docstring_markup.rewrite([line]) == [expected]


def test_doctest_examples_and_literal_blocks_are_left_alone():
    lines = ["Example:", "  >>> f(`a`, *args)", "  `b`", "", "Code::", "", "    x = `c` * y", "After `d`."]
    assert docstring_markup.rewrite(lines) == [
        "Example:", "  >>> f(`a`, *args)", "  `b`", "", "Code::", "", "    x = `c` * y", "After ``d``."]


def test_bulleted_list_gets_blank_lines_around_it():
    lines = ["Each call:", "- first item,", "  continued;", "- second item.", "Then more."]
    assert docstring_markup.rewrite(lines) == [
        "Each call:", "", "- first item,", "  continued;", "- second item.", "", "Then more."]


def test_argument_names_continued_on_the_next_line_are_joined():
    lines = ["Args:", "  in_size, R, tau,", "    name: as in `LIF`.", "  beta: the increase."]
    assert docstring_markup.rewrite(lines) == [
        "Args:", "  in_size, R, tau, name: as in ``LIF``.", "  beta: the increase."]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def served_site(built_site):
    handler = functools.partial(_QuietHandler, directory=str(built_site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _chromium() -> str:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        pytest.skip("no chromium binary on PATH (Debian: apt-get install chromium); the browser test needs one")
    return binary


def _dump_dom(binary: str, url: str, wait_ms: int = 0) -> str:
    """The page's DOM after its scripts ran, as headless chromium renders it."""
    args = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom"]
    if wait_ms:
        args.append(f"--virtual-time-budget={wait_ms}")
    result = subprocess.run(args + [url], capture_output=True, text=True,
                            timeout=300)  # against a hang only: chromium starts slowly on a loaded machine
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.mark.browser
@pytest.mark.parametrize("page, expected", [
    ("index.html", "Explicit, mutable state for JAX"),
    ("tutorials/transforms.html", "Control flow"),
    ("api/generated/brainstate_transform.html", "brainstate.transform.jit"),
])
def test_pages_render_in_a_browser(served_site, page, expected):
    dom = _dump_dom(_chromium(), f"{served_site}/{page}")
    assert expected in dom
    assert "furo" in dom  # the theme's stylesheet and markup are there


@pytest.mark.browser
def test_search_finds_jit(served_site):
    dom = _dump_dom(_chromium(), f"{served_site}/search.html?q=jit", wait_ms=20000)
    assert "search-summary" in dom, "the search ran no query"
    assert "api/generated/brainstate_transform.html" in dom, "the search did not find the jit API page"
