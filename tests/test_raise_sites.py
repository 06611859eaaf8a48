"""Every error message the package raises is checked by some test.

The house rule is that each ``raise`` with a message has a test matching that message with
``pytest.raises(..., match=...)``. This module enforces it statically:

* **Raise sites.** Every ``brainstate/**/*.py`` is parsed with :mod:`ast`. A site is a
  ``raise X(message, ...)`` whose message is a string literal, an f-string, a concatenation of
  those, or ``"...".format(...)``; a local variable assigned such a string just before the raise;
  a ``return XError(message)`` in an error factory; or a call of a module's own helper that
  raises one of its parameters (``_require(ok, "message")``). The message is cut into its literal
  runs (the text between the ``{...}`` holes); the longest run is the site's *fragment*. A
  fragment shorter than :data:`MIN_FRAGMENT` characters says too little to be searched for, so
  such sites are counted but not checked.
* **Checked messages.** Every ``tests/**/*.py`` is parsed too. A checked message is the
  ``match=`` of ``pytest.raises`` / ``pytest.warns`` / ``excinfo.match`` (a literal, an f-string,
  ``re.escape(...)``, or a name bound by ``pytest.mark.parametrize`` or passed by the same file's
  callers of a helper), or a string tested with ``"..." in str(err)``.
* **Covered.** A site is covered when a checked pattern ``re.search``-es its message (the holes
  filled with a placeholder), when a literal piece of a pattern lies inside one of the site's
  literal runs, or when the site's fragment lies inside a literal piece of a pattern (a test
  message is often a filled-in instance of the site's template). A piece counts only when it is
  at least :data:`MIN_PIECE` characters long, so that a pattern like ``"shape"`` covers nothing.

The check is textual: two sites that raise the same words are covered by one test of either.
Uncovered sites fail the test, listed as ``file:line: fragment``; the few that no test can
reach are in :data:`ALLOWED` with the reason.
"""

from __future__ import annotations

import ast
import difflib
import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "brainstate"
TESTS = ROOT / "tests"

# A message whose longest literal run is shorter than this ("{name}: {why}") cannot be searched
# for without matching unrelated messages.
MIN_FRAGMENT = 15
# The fewest characters a test must share with a message to check it ("shape", "got 3" say
# nothing); the shared text must also occur in no other message.
MIN_SHARED = 12
# Stands for an f-string hole when a pattern is searched in a site's message: not a word
# character, so `\w+` and `\d+` in a pattern do not match across it by accident.
HOLE = "\x00"

# "path:fragment" -> why no test matches that raise. Keep it short; prefer writing the test.
ALLOWED: dict[str, str] = {}


@dataclass(frozen=True)
class RaiseSite:
    """One error message the package can raise, cut into its literal runs."""

    path: str
    line: int
    runs: tuple[str, ...]

    @property
    def fragment(self) -> str:
        return max(self.runs, key=len, default="")

    @property
    def key(self) -> str:
        return f"{self.path}:{self.fragment}"

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.fragment!r}"


@dataclass(frozen=True)
class Pattern:
    """One message a test checks: a regex, and the literal pieces it is sure to contain."""

    where: str
    regex: Optional[str]
    pieces: tuple[str, ...]


# --------------------------------------------------------------------------- raise sites


def _literal_runs(node: ast.AST, names: dict[str, ast.AST]) -> Optional[list[Optional[str]]]:
    """The message `node` builds, as literal runs with `None` at each hole; None if not literal."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        out: list[Optional[str]] = []
        for part in node.values:
            out.append(part.value if isinstance(part, ast.Constant) else None)
        return out
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _literal_runs(node.left, names), _literal_runs(node.right, names)
        if left is None and right is None:
            return None
        return (left or [None]) + (right or [None])
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):  # "..." % args
        left = _literal_runs(node.left, names)
        if left is None:
            return None
        return [piece for run in left for piece in _split_holes(run, r"%[-#0 +]*\d*(?:\.\d+)?[a-zA-Z%]")]
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "format"):
        inner = _literal_runs(node.func.value, names)
        if inner is None:
            return None
        return [piece for run in inner for piece in _split_holes(run, r"\{[^{}]*\}")]
    if isinstance(node, ast.Name) and node.id in names:
        return _literal_runs(names[node.id], {})
    return None


def _split_holes(run: Optional[str], hole: str) -> list[Optional[str]]:
    if run is None:
        return [None]
    out: list[Optional[str]] = []
    for i, piece in enumerate(re.split(hole, run)):
        if i:
            out.append(None)
        out.append(piece)
    return out


def _runs_of(parts: list[Optional[str]]) -> tuple[str, ...]:
    """Merge adjacent literals and split at holes: the literal runs of a message."""
    text = "".join(HOLE if part is None else part for part in parts)
    return tuple(run for run in text.split(HOLE))


def _local_strings(func: ast.AST) -> dict[str, ast.AST]:
    """Names a function assigns exactly once (`message = f"..."`), to the expression assigned."""
    seen: dict[str, list[ast.AST]] = {}
    for node in ast.walk(func):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            seen.setdefault(node.targets[0].id, []).append(node.value)
    return {name: values[0] for name, values in seen.items() if len(values) == 1}


def _is_error_class(func: ast.AST) -> bool:
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return name.endswith(("Error", "Exception", "Interrupt"))


def _forwarding_helpers(tree: ast.Module) -> dict[str, tuple[int, str]]:
    """Functions of a module that raise one of their own parameters: name -> (index, param).

    The index counts positional arguments as the caller passes them (without `self`).
    """
    helpers: dict[str, tuple[int, str]] = {}
    for func in ast.walk(tree):
        if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        params = [a.arg for a in func.args.posonlyargs + func.args.args]
        if params and params[0] in ("self", "cls"):
            params = params[1:]
        for node in ast.walk(func):
            if (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and node.exc.args
                    and isinstance(node.exc.args[0], ast.Name) and node.exc.args[0].id in params):
                param = node.exc.args[0].id
                helpers[func.name] = (params.index(param), param)
    return helpers


def _sites_in(path: Path) -> Iterator[tuple[int, list[Optional[str]]]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    helpers = _forwarding_helpers(tree)
    funcs = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    scopes = [(func, _local_strings(func)) for func in funcs] + [(tree, {})]
    seen: set[int] = set()
    for scope, names in scopes:
        for node in ast.walk(scope):
            if id(node) in seen:
                continue
            message: Optional[ast.AST] = None
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and node.exc.args:
                message = node.exc.args[0]
            elif (isinstance(node, ast.Return) and isinstance(node.value, ast.Call)
                  and _is_error_class(node.value.func) and node.value.args):
                message = node.value.args[0]
            elif isinstance(node, ast.Call):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
                if name in helpers:
                    index, param = helpers[name]
                    if index < len(node.args):
                        message = node.args[index]
                    message = next((k.value for k in node.keywords if k.arg == param), message)
            if message is None:
                continue
            parts = _literal_runs(message, names)
            if parts is not None:
                seen.add(id(node))
                yield node.lineno, parts


@functools.lru_cache(maxsize=None)
def raise_sites() -> tuple[RaiseSite, ...]:
    """Every literal error message in the package, in file order."""
    sites = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        for line, parts in _sites_in(path):
            sites.append(RaiseSite(rel, line, _runs_of(parts)))
    return tuple(sorted(sites, key=lambda s: (s.path, s.line)))


# --------------------------------------------------------------------------- checked patterns

def literal_pieces(regex: str) -> tuple[str, ...]:
    """The stretches of `regex` that match only themselves, unescaped.

    `\\.`, `\\(` and the like stand for the character; `\\d`, `\\b`, classes, groups and
    wildcards end a piece. A character made optional by `?`, `*` or `{m,n}` is dropped.
    """
    pieces: list[str] = []
    current = ""
    i = 0
    while i < len(regex):
        char = regex[i]
        quantifier = re.match(r"\{\d*,?\d*\}", regex[i:]) if char == "{" else None
        if char == "\\" and i + 1 < len(regex):
            if regex[i + 1].isalnum():  # a class (\d), an anchor (\b) or a back-reference
                pieces.append(current)
                current = ""
            else:
                current += regex[i + 1]
            i += 2
            continue
        if char == "[":
            end = re.match(r"\[\^?\]?(?:\\.|[^\]])*\]", regex[i:])
            pieces.append(current)
            current = ""
            i += len(end.group()) if end else 1
            continue
        if char in "?*" or quantifier:
            pieces.append(current[:-1])
            current = ""
            i += len(quantifier.group()) if quantifier else 1
            continue
        if char in ".^$+|()":
            pieces.append(current)
            current = ""
        else:
            current += char
        i += 1
    pieces.append(current)
    return tuple(piece for piece in pieces if piece)


def _pattern(where: str, node: ast.AST) -> Optional[Pattern]:
    """The pattern a test expression stands for, if it is literal enough to read."""
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "escape"
            and node.args):
        parts = _literal_runs(node.args[0], {})
        if parts is None:
            return None
        runs = _runs_of(parts)
        return Pattern(where, ".*?".join(re.escape(run) for run in runs), runs)
    parts = _literal_runs(node, {})
    if parts is None:
        return None
    runs = _runs_of(parts)
    regex = ".*?".join(runs)
    try:
        re.compile(regex)
    except re.error:
        regex = None
    return Pattern(where, regex, tuple(p for run in runs for p in literal_pieces(run)))


def _literal_pattern(where: str, text: str) -> Pattern:
    """A message a test looks for as plain text (`"..." in str(err)`)."""
    return Pattern(where, re.escape(text), (text,))


def _parametrize_columns(func: ast.FunctionDef, module: dict[str, ast.AST]) -> dict[str, list[ast.AST]]:
    """For each name a `pytest.mark.parametrize` binds on `func`: the expressions it takes."""
    columns: dict[str, list[ast.AST]] = {}
    for deco in func.decorator_list:
        if not (isinstance(deco, ast.Call) and ast.unparse(deco.func).endswith("parametrize") and len(deco.args) >= 2):
            continue
        names_node, values = deco.args[0], deco.args[1]
        if isinstance(names_node, ast.Constant) and isinstance(names_node.value, str):
            names = [n.strip() for n in names_node.value.split(",") if n.strip()]
        elif isinstance(names_node, (ast.Tuple, ast.List)):
            names = [n.value for n in names_node.elts if isinstance(n, ast.Constant)]
        else:
            continue
        if isinstance(values, ast.Name):
            values = module.get(values.id, values)
        if not isinstance(values, (ast.List, ast.Tuple)):
            continue
        for row in values.elts:
            if isinstance(row, ast.Call) and ast.unparse(row.func).endswith("param"):
                cells = row.args
            elif len(names) == 1:
                cells = [row]
            elif isinstance(row, (ast.Tuple, ast.List)):
                cells = row.elts
            else:
                continue
            for name, cell in zip(names, cells):
                columns.setdefault(name, []).append(cell)
    return columns


def _calls_to(tree: ast.Module, name: str, func: ast.FunctionDef, param: str) -> Iterator[ast.AST]:
    """The expressions the file's own calls of `name` pass as its parameter `param`."""
    params = [a.arg for a in func.args.posonlyargs + func.args.args]
    index = params.index(param) if param in params else None
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == name):
            continue
        if index is not None and index < len(node.args):
            yield node.args[index]
        for keyword in node.keywords:
            if keyword.arg == param:
                yield keyword.value


def _is_match_call(node: ast.Call) -> bool:
    """`pytest.raises(...)`, `pytest.warns(...)`, `excinfo.match(...)`."""
    name = ast.unparse(node.func)
    return name.endswith(("pytest.raises", "pytest.warns", ".match")) or name in ("raises", "warns")


def _patterns_in(path: Path) -> Iterator[Pattern]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    rel = path.relative_to(ROOT).as_posix()
    module = {t.id: n.value for n in tree.body if isinstance(n, ast.Assign)
              for t in n.targets if isinstance(t, ast.Name)}
    funcs = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    for func in funcs:
        columns = _parametrize_columns(func, module)
        params = {a.arg for a in func.args.posonlyargs + func.args.args + func.args.kwonlyargs}
        for node in ast.walk(func):
            exprs: list[ast.AST] = []
            if isinstance(node, ast.Call) and _is_match_call(node):
                exprs += [k.value for k in node.keywords if k.arg == "match"]
                if ast.unparse(node.func).endswith(".match"):
                    exprs += node.args[:1]
            elif (isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ast.In)
                  and isinstance(node.left, ast.Constant) and isinstance(node.left.value, str)):
                yield _literal_pattern(f"{rel}:{node.lineno}", node.left.value)
            for expr in exprs:
                where = f"{rel}:{node.lineno}"
                if isinstance(expr, ast.Name) and expr.id in columns:
                    candidates = columns[expr.id]
                elif isinstance(expr, ast.Name) and expr.id in params:
                    candidates = list(_calls_to(tree, func.name, func, expr.id))
                elif isinstance(expr, ast.Name) and expr.id in module:
                    candidates = [module[expr.id]]
                else:
                    candidates = [expr]
                for candidate in candidates:
                    pattern = _pattern(where, candidate)
                    if pattern is not None:
                        yield pattern


@functools.lru_cache(maxsize=None)
def checked_patterns() -> tuple[Pattern, ...]:
    """Every message pattern some test checks."""
    return tuple(p for path in sorted(TESTS.rglob("*.py")) for p in _patterns_in(path))


# --------------------------------------------------------------------------- coverage


def common_text(a: str, b: str) -> str:
    """The longest stretch of text that `a` and `b` share."""
    match = difflib.SequenceMatcher(None, a, b, autojunk=False).find_longest_match(0, len(a), 0, len(b))
    return a[match.a:match.a + match.size]


@functools.lru_cache(maxsize=None)
def _messages_containing(text: str) -> frozenset[tuple[str, ...]]:
    """The messages (as literal runs) of every raise site whose literal text contains `text`."""
    return frozenset(site.runs for site in raise_sites() if any(text in run for run in site.runs))


def _is_strong(text: str) -> bool:
    """Whether shared `text` is long enough to be a message's words rather than a coincidence.

    Two words are needed: a bare prefix such as "tree_to_graph: " names a function, not a message.
    """
    return len(text) >= MIN_SHARED and len(re.findall(r"\w+", text)) >= 2


def shared_words(pattern: Pattern, site: RaiseSite) -> Optional[tuple[str, ...]]:
    """The stretches of text by which `pattern` evidently checks the message of `site`, if any.

    For each literal piece of the pattern and literal run of the site, their longest common
    stretch counts when it is strong (:func:`_is_strong`) or is a whole run of the site (as
    "module " in "module {name!r} has no attribute {attr!r}"). The pattern checks the site when
    at least one stretch is strong and no other message contains them all: text that other
    messages contain too (" is not callable", "must be positive") proves nothing. A message
    raised word for word at several places counts as one. A message with no words of its own
    is checked by a pattern with a strong stretch in its module's test file
    (:func:`_tests_module`).
    """
    stretches = set()
    for piece in pattern.pieces:
        for run in site.runs:
            common = common_text(piece, run)
            if _is_strong(common) or (common == run and re.search(r"\w", run)):
                stretches.add(common)
    if not any(map(_is_strong, stretches)):
        return None
    owners = frozenset.intersection(*(_messages_containing(text) for text in stretches))
    if owners == {site.runs}:
        return tuple(sorted(stretches, key=len, reverse=True))
    # A message whose words other messages share ("{cls}: {arg} must be a positive int, got
    # {x}") is checked by the test file of its own module.
    if _tests_module(pattern.where, site.path):
        return tuple(sorted(stretches, key=len, reverse=True))
    return None


def _tests_module(test_where: str, module_path: str) -> bool:
    """Whether the test file at `test_where` is the one for the module at `module_path`.

    `tests/nn/test_conv.py` tests `brainstate/nn/_conv.py`; `test_param_transforms.py` tests
    `_param_transforms_interval.py` and `test_lr_schedules.py` tests `_schedules.py` too.
    """
    test_stem = Path(test_where.split(":")[0]).stem.removeprefix("test_")
    module_stem = Path(module_path).stem.lstrip("_")
    return module_stem in test_stem or test_stem in module_stem


def _grams(text: str) -> set[str]:
    return {text[i:i + MIN_SHARED] for i in range(len(text) - MIN_SHARED + 1)}


def coverage() -> dict[RaiseSite, list[tuple[Pattern, tuple[str, ...]]]]:
    """For each checkable site (fragment of MIN_FRAGMENT or more): the patterns that check it."""
    # A pattern and a site with shared words share a MIN_SHARED-character stretch, so an index of
    # those stretches finds the candidates without comparing every site with every pattern.
    index: dict[str, set[int]] = {}
    patterns = checked_patterns()
    for i, pattern in enumerate(patterns):
        for piece in pattern.pieces:
            for gram in _grams(piece):
                index.setdefault(gram, set()).add(i)
    out: dict[RaiseSite, list[tuple[Pattern, tuple[str, ...]]]] = {}
    for site in raise_sites():
        if len(site.fragment) < MIN_FRAGMENT:
            continue
        candidates = set().union(*(index.get(gram, set()) for run in site.runs for gram in _grams(run)))
        found = [(patterns[i], shared_words(patterns[i], site)) for i in sorted(candidates)]
        out[site] = [(pattern, words) for pattern, words in found if words is not None]
    # A message raised word for word at several places is checked once for all of them.
    by_message: dict[tuple[str, ...], list[tuple[Pattern, tuple[str, ...]]]] = {}
    for site, found in out.items():
        by_message.setdefault(site.runs, []).extend(found)
    return {site: by_message[site.runs] for site in out}


@functools.lru_cache(maxsize=None)
def uncovered_sites() -> tuple[RaiseSite, ...]:
    return tuple(site for site, found in coverage().items() if not found)


# --------------------------------------------------------------------------- tests


def test_every_raised_message_is_matched_by_a_test():
    missing = [site for site in uncovered_sites() if site.key not in ALLOWED]
    assert not missing, (
        f"{len(missing)} error messages are raised but no test matches them. Add a test with "
        "`pytest.raises(<Error>, match=<fragment>)` that triggers each one (or, if no test can "
        "reach it, an entry in ALLOWED of tests/test_raise_sites.py saying why):\n"
        + "\n".join(map(str, missing)))


def test_allow_list_names_only_raises_that_exist_and_are_untested():
    uncovered = {site.key for site in uncovered_sites()}
    stale = sorted(key for key in ALLOWED if key not in uncovered)
    assert not stale, (
        "ALLOWED in tests/test_raise_sites.py names raises that are gone or now tested; remove "
        "these entries:\n" + "\n".join(stale))


def test_allow_list_is_short_and_says_why():
    assert len(ALLOWED) <= 15, "write tests instead of growing the allow-list"
    assert all(len(reason) >= 20 for reason in ALLOWED.values())
