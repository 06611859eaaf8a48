"""Check the built HTML site: internal links resolve, and the API reference lists every name.

Runs when an HTML build finishes and reports each problem as a Sphinx warning, so a build with
`-W` fails on it. No network: only links inside the site are followed.

- **Internal links.** Every `href` and `src` that is not an external URL must name a file of the
  output, and a `#fragment` an `id` in that file (Sphinx itself only checks the references it
  resolves; a hand-written `[text](page.md#anchor)` or a broken generated anchor slips through).
- **API names.** Every `(module, name)` of `docs/api_names.txt` (the public names of the reference
  release) that the package provides must have an entry in the API pages: an element whose `id`
  is `module.name`, or for a subpackage its page. Names the package does not provide are listed
  once, as information: they cannot be documented until they exist.

`python docs/_ext/sitecheck.py docs/_build/html` runs the same checks on an existing build.
"""

import html.parser
import importlib
import pathlib
import sys
import urllib.parse
from typing import Dict, Iterable, List, Set, Tuple

HERE = pathlib.Path(__file__).resolve().parent
NAMES_FILE = HERE.parent / "api_names.txt"


class _Collector(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: Set[str] = set()
        self.links: List[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if value is None:
                continue
            if name in ("id", "name"):
                self.ids.add(value)
            elif (name == "href" and tag in ("a", "link")) or (name == "src" and tag in ("img", "script")):
                self.links.append(value)


def _parse(path: pathlib.Path) -> _Collector:
    collector = _Collector()
    collector.feed(path.read_text(encoding="utf-8", errors="replace"))
    return collector


def _pages(outdir: pathlib.Path) -> Dict[pathlib.Path, _Collector]:
    skip = {"_static", "_sources", "_images", "_modules"}
    return {p: _parse(p) for p in sorted(outdir.rglob("*.html"))
            if not skip.intersection(p.relative_to(outdir).parts)}


def broken_links(outdir: pathlib.Path) -> List[str]:
    """`'page: link'` for every internal link whose file or fragment does not exist."""
    outdir = outdir.resolve()
    pages = _pages(outdir)
    problems = []
    for page, collector in pages.items():
        for link in collector.links:
            parsed = urllib.parse.urlsplit(link)
            if parsed.scheme or parsed.netloc or link.startswith(("mailto:", "javascript:", "data:")):
                continue
            target = (page.parent / urllib.parse.unquote(parsed.path)).resolve() if parsed.path else page
            if target.is_dir():
                target = target / "index.html"
            where = page.relative_to(outdir)
            if not target.exists():
                problems.append(f"{where}: link to a missing file: {link}")
                continue
            if parsed.fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else _parse(target).ids
                if urllib.parse.unquote(parsed.fragment) not in ids:
                    problems.append(f"{where}: link to a missing anchor: {link}")
    return problems


def reference_names(path: pathlib.Path = NAMES_FILE) -> List[Tuple[str, str]]:
    names = []
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            module, name = line.split()
            names.append((module, name))
    return names


def _provided(module: str, name: str) -> bool:
    try:
        return hasattr(importlib.import_module(module), name)
    except Exception:  # a lazy attribute whose optional dependency is absent
        return False


def missing_api_names(outdir: pathlib.Path, names: Iterable[Tuple[str, str]] = ()) -> Tuple[List[str], List[str]]:
    """`(undocumented, not_provided)`: names the package has but the API pages lack, and names
    the package does not have at all."""
    api_dir = outdir / "api" / "generated"
    ids: Set[str] = set()
    pages: Set[str] = set()
    for page in api_dir.glob("*.html"):
        ids |= _parse(page).ids
        pages.add(page.stem)
    undocumented, not_provided = [], []
    for module, name in names or reference_names():
        full = f"{module}.{name}"
        if not _provided(module, name):
            not_provided.append(full)
        elif full not in ids and full.replace(".", "_") not in pages:
            undocumented.append(full)
    return undocumented, not_provided


def check(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    from sphinx.util import logging

    logger = logging.getLogger("sitecheck")
    outdir = pathlib.Path(app.outdir)
    for problem in broken_links(outdir):
        logger.warning(problem, type="sitecheck", subtype="link")
    undocumented, not_provided = missing_api_names(outdir)
    for full in undocumented:
        logger.warning(f"the API reference has no entry for {full}, a public name of the reference API",
                       type="sitecheck", subtype="api")
    if not_provided:
        logger.info(f"sitecheck: {len(not_provided)} names of the reference API are not provided by the "
                    f"package, so not documented: {', '.join(not_provided)}")


def setup(app):
    app.connect("build-finished", check)
    return {"parallel_read_safe": True, "version": "1"}


if __name__ == "__main__":
    out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "docs/_build/html")
    links = broken_links(out)
    undocumented, not_provided = missing_api_names(out)
    print("\n".join(links + [f"undocumented: {n}" for n in undocumented]))
    print(f"{len(links)} broken internal links, {len(undocumented)} undocumented API names, "
          f"{len(not_provided)} reference names not provided: {', '.join(not_provided)}")
    sys.exit(1 if links or undocumented else 0)
