"""Read the house docstrings (Google style, Markdown habits) as reStructuredText.

The docstrings are written to be read in a terminal and run as doctests: code in single
backticks, `*args` and `|x|` in prose, a bulleted list straight after its introducing line, an
argument list continued on the next line. reStructuredText reads each of these as broken markup
(interpreted text, emphasis, substitutions, unexpected indentation) and the build treats its
warnings as errors. This hook rewrites the prose before napoleon turns the sections into fields:

- a single-backtick span becomes an inline literal (escaping an adjacent letter or digit, which
  reStructuredText does not allow to touch an inline literal);
- a `*` or `**` that starts a name (`*args`, `**kwargs`) and a `|` are escaped;
- a bulleted list gets the blank lines reStructuredText wants before and after it;
- in an `Args:` section, a line of names ending with a comma is joined to its indented
  continuation (`in_size, R, tau,` / `name: as in LIF`).

Doctest examples (from a `>>>` line to the next blank line) and literal blocks (after a line
ending in `::`) are left untouched, so the examples render exactly as they run. Nothing is
hidden: a docstring this does not repair still fails the build.
"""

import re
from typing import List

# Characters after which reStructuredText recognises the start of inline markup.
_OPENERS = set(" \t'\"([{<-/:\u2018\u201c\u2019\u00ab\u00a1\u00bf\u2010\u2011\u2012\u2013\u2014")
# Characters before which it recognises the end of inline markup.
_CLOSERS = set(" \t'\")]}>-/:.,;!?\\\u2019\u201d\u00bb\u2010\u2011\u2012\u2013\u2014")

_SPAN = re.compile(r"(?<![`:])`(?!`)([^`\n]+?)`(?![`_])")
_STAR_NAME = re.compile(r"(?<![\w*\\])(\*{1,2})(?=[A-Za-z_])(\w+)(?!\w*\*)")
_BULLET = re.compile(r"^(\s*)([-*+]|\d+\.)\s+\S")
_SECTION = re.compile(r"^(\s*)(Args|Arguments|Parameters|Keyword Args|Attributes|Raises|Returns|Yields|Example|Examples|Note|Notes)\s*(\(.*\))?:\s*$")


def _literal(match: "re.Match[str]", line: str) -> str:
    text = match.group(1)
    if text != text.strip():  # an inline literal may not start or end with a space
        return match.group(0)
    before = line[match.start() - 1] if match.start() > 0 else " "
    after = line[match.end()] if match.end() < len(line) else " "
    prefix = "" if before in _OPENERS else "\\ "
    suffix = "" if after in _CLOSERS else "\\ "
    return f"{prefix}``{text}``{suffix}"


def _prose(line: str) -> str:
    """Rewrite one line of prose: code spans to literals, stray stars and bars escaped."""
    out: List[str] = []
    last = 0
    # Split the line into literal spans (kept) and the prose between them (escaped).
    spans = []
    for match in _SPAN.finditer(line):
        spans.append((match.start(), match.end(), _literal(match, line)))
    for match in re.finditer(r"``[^`]+``|:\w+(?::\w+)?:`[^`]+`", line):
        if not any(s <= match.start() < e for s, e, _ in spans):
            spans.append((match.start(), match.end(), match.group(0)))
    for start, end, replacement in sorted(spans):
        if start < last:
            continue
        out.append(_escape(line[last:start]))
        out.append(replacement)
        last = end
    out.append(_escape(line[last:]))
    return "".join(out)


def _escape(text: str) -> str:
    text = _STAR_NAME.sub(lambda m: "\\" + "\\".join(m.group(1)) + m.group(2), text)
    return text.replace("|", "\\|")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def rewrite(lines: List[str]) -> List[str]:
    """The rewritten docstring lines (a new list)."""
    out: List[str] = []
    in_doctest = False
    literal_indent = None  # indentation of the paragraph that opened a literal block
    list_indent = None  # indentation of the bullets of the list being read
    section = None
    for line in lines:
        stripped = line.strip()
        if not stripped:
            in_doctest = False
            out.append(line)
            continue
        indent = _indent(line)
        if literal_indent is not None:
            if indent > literal_indent:
                out.append(line)
                continue
            literal_indent = None
        if in_doctest or stripped.startswith(">>>"):
            in_doctest = True
            out.append(line)
            continue
        heading = _SECTION.match(line)
        if heading:
            section = heading.group(2)
            list_indent = None
            out.append(line)
            continue
        bullet = _BULLET.match(line)
        if bullet:
            if list_indent != indent and out and out[-1].strip():
                out.append("")
            list_indent = indent
        elif list_indent is not None and indent <= list_indent:
            list_indent = None
            if out and out[-1].strip():
                out.append("")
        if (section in ("Args", "Arguments", "Parameters", "Keyword Args") and out
                and out[-1].rstrip().endswith(",") and ":" not in out[-1]
                and indent > _indent(out[-1])):
            out[-1] = out[-1].rstrip() + " " + _prose(stripped)
            continue
        new = _prose(line)
        if stripped.endswith("::"):
            literal_indent = indent
        out.append(new)
    return out


def process_docstring(app, what, name, obj, options, lines: List[str]) -> None:
    lines[:] = rewrite(lines)


def setup(app):
    # Priority 400: before napoleon (500) turns the Google sections into field lists.
    app.connect("autodoc-process-docstring", process_docstring, priority=400)
    return {"parallel_read_safe": True, "version": "1"}
