"""Every error message the package raises is checked by some test.

The house rule is that each ``raise`` with a message has a test matching that message with
``pytest.raises(..., match=...)``. This module enforces it statically, from the source text:

* **Raise sites.** Every ``brainstate/**/*.py`` is parsed with :mod:`ast`. A site is a
  ``raise X(message, ...)`` whose message is a string literal, an f-string, a concatenation of
  those, ``"..." % ...`` or ``"...".format(...)``; a local variable assigned such a string once;
  a ``return XError(message)`` in an error factory; or a call of a module's own helper that
  raises one of its parameters (``_require(ok, "message")``). The message is kept as its literal
  runs (the text between the ``{...}`` holes); the longest run is the site's *fragment*. A
  fragment shorter than :data:`MIN_FRAGMENT` characters ("{name}: {why}") says too little to
  be searched for, so such sites are counted but not checked.
* **Checked messages.** Every ``tests/**/*.py`` is parsed too. A checked message is the
  ``match=`` of ``pytest.raises`` / ``pytest.warns`` or the argument of ``excinfo.match`` (a
  literal, an f-string, ``re.escape(...)``, a module constant, a name bound by
  ``pytest.mark.parametrize`` -- also inside an f-string -- or passed by the same file's callers
  of a helper), or a string tested with ``"..." in str(err)``. Its regex is cut into the literal
  pieces it is sure to match (:func:`literal_pieces`).
* **Covered.** A pattern checks a site when they share a strong stretch of text (twelve
  characters, two words), every piece of the pattern :func:`fits` the site's message template,
  and no other message both contains that text and fits the pattern. Text that many messages
  share (" must be a positive int, got ") is attributed by proximity instead: to the messages
  of the test file's own module (``test_conv.py`` -> ``_conv.py``), of a module the test file
  imports by name, or of a module whose class or function the pattern names ("RReLU: ...").
  A message raised word for word at several places is covered by one test of any of them.

The check is textual, so it can be fooled both ways: a pattern that only names the values
("got 3") checks nothing it can see, and two messages of one module that differ only inside
their holes are covered by a test of either. Uncovered sites fail the test, listed as
``file:line: fragment``; the few that no test can reach are in :data:`ALLOWED` with the reason.
"""

from __future__ import annotations

import ast
import difflib
import functools
import re
import sys
import textwrap
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
# Marks an f-string hole while a message's parts are merged into runs (a character no message
# contains).
HOLE = "\x00"

# "path:fragment" -> why no test matches that raise. Keep it short; prefer writing the test.
ALLOWED: dict[str, str] = {
    "brainstate/_state/_state.py:State.init needs brainstate.nn.init; import brainstate (not only brainstate._state).":
        "unreachable: importing brainstate._state runs brainstate/__init__.py first, which imports "
        "brainstate.nn.init and so registers the initializer State.init calls",
    "brainstate/nn/_linear_variants.py:: unsupported brainunit sparse format ":
        "unreachable with today's brainunit, whose only sparse matrices are CSR, CSC and COO; the "
        "branch names a format a later brainunit may add",
}


@dataclass(frozen=True)
class RaiseSite:
    """One error message the package can raise, cut into its literal runs."""

    path: str
    line: int
    runs: tuple[str, ...]
    scope: tuple[str, ...] = ()  # the enclosing classes and functions, outermost first

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
    """One message a test checks, as the literal pieces its regex is sure to match."""

    where: str  # test file:line
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


def _message_of(node: ast.AST, helpers: dict[str, tuple[int, str]]) -> Optional[ast.AST]:
    """The message expression `node` raises, if it is a raise site."""
    if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and node.exc.args:
        return node.exc.args[0]
    if (isinstance(node, ast.Return) and isinstance(node.value, ast.Call)
            and _is_error_class(node.value.func) and node.value.args):
        return node.value.args[0]
    if isinstance(node, ast.Call):
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
        if name in helpers:
            index, param = helpers[name]
            given = node.args[index] if index < len(node.args) else None
            return next((k.value for k in node.keywords if k.arg == param), given)
    return None


def _sites_in(path: Path) -> Iterator[tuple[int, list[Optional[str]], tuple[str, ...]]]:
    """(line, message parts, names of the enclosing classes and functions) of each site."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    helpers = _forwarding_helpers(tree)

    def visit(node: ast.AST, scope: tuple[str, ...], names: dict[str, ast.AST]):
        message = _message_of(node, helpers)
        parts = None if message is None else _literal_runs(message, names)
        if parts is not None:
            yield node.lineno, parts, scope
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            scope, names = scope + (node.name,), _local_strings(node)
        elif isinstance(node, ast.ClassDef):
            scope = scope + (node.name,)
        for child in ast.iter_child_nodes(node):
            yield from visit(child, scope, names)

    yield from visit(tree, (), {})


@functools.lru_cache(maxsize=None)
def raise_sites() -> tuple[RaiseSite, ...]:
    """Every literal error message in the package, in file order."""
    sites = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        for line, parts, scope in _sites_in(path):
            sites.append(RaiseSite(rel, line, _runs_of(parts), scope))
    return tuple(sorted(sites, key=lambda s: (s.path, s.line)))


# --------------------------------------------------------------------------- checked patterns

def literal_pieces(regex: str) -> tuple[str, ...]:
    """The stretches of `regex` that match only themselves, unescaped.

    `\\.`, `\\(` and the like stand for the character, and so does a lone `.` (authors write
    "Map.map" for the dot); `\\d`, `\\b`, classes, groups and repeated wildcards (`.*`) end a
    piece. A character made optional by `?`, `*` or `{m,n}` is dropped.
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
        if char == "." and regex[i + 1:i + 2] not in ("*", "+", "?", "{"):
            current += char  # a lone `.` matches the dot authors mean ("Map.map"), as well as any other
        elif char in ".^$+|()":
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
        return Pattern(where, _runs_of(parts))
    parts = _literal_runs(node, {})
    if parts is None:
        return None
    return Pattern(where, tuple(piece for run in _runs_of(parts) for piece in literal_pieces(run)))


def _literal_pattern(where: str, text: str) -> Pattern:
    """A message a test looks for as plain text (`"..." in str(err)`)."""
    return Pattern(where, (text,))


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


def _fill_holes(expr: ast.AST, columns: dict[str, list[ast.AST]]) -> list[ast.AST]:
    """`expr`, or for an f-string with a hole `{name}` that a parametrize binds to constants,
    one string per value (`f"split_key: {pattern}"` for each `pattern`)."""
    if not isinstance(expr, ast.JoinedStr):
        return [expr]
    for i, part in enumerate(expr.values):
        if not (isinstance(part, ast.FormattedValue) and isinstance(part.value, ast.Name)
                and part.value.id in columns and part.format_spec is None):
            continue
        values = columns[part.value.id]
        if not all(isinstance(v, ast.Constant) for v in values):
            continue
        show = repr if part.conversion == ord("r") else str
        filled = [ast.JoinedStr(expr.values[:i] + [ast.Constant(show(v.value))] + expr.values[i + 1:])
                  for v in values]
        return [one for f in filled for one in _fill_holes(f, columns)]
    return [expr]


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
    return (name.endswith(("pytest.raises", "pytest.warns")) or name in ("raises", "warns")
            or name.endswith(".match") and not name.startswith("re."))


def _is_message_text(node: ast.AST) -> bool:
    """Whether `node` is an error's text in a test: `str(err)`, `repr(e)`, `info.value`, `message`,
    a subprocess's `out.stdout`."""
    if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("str", "repr"):
        return True
    name = ast.unparse(node).lower()
    return any(word in name for word in ("err", "exc", "msg", "message", "info", "text", "record", "out"))


def _patterns_in(path: Path) -> Iterator[Pattern]:
    """The messages the test file at `path` checks."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    rel = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.name
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
                  and isinstance(node.left, ast.Constant) and isinstance(node.left.value, str)
                  and _is_message_text(node.comparators[0])):
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
                    candidates = _fill_holes(expr, columns)
                for candidate in candidates:
                    pattern = _pattern(where, candidate)
                    if pattern is not None:
                        yield pattern


@functools.lru_cache(maxsize=None)
def checked_patterns() -> tuple[Pattern, ...]:
    """Every message pattern some test checks."""
    return tuple(p for path in sorted(TESTS.rglob("*.py")) for p in _patterns_in(path))


# --------------------------------------------------------------------------- coverage


@functools.lru_cache(maxsize=None)
def common_text(a: str, b: str) -> str:
    """The longest stretch of text that `a` and `b` share."""
    match = difflib.SequenceMatcher(None, a, b, autojunk=False).find_longest_match(0, len(a), 0, len(b))
    return a[match.a:match.a + match.size]


@functools.lru_cache(maxsize=None)
def _messages_containing(text: str) -> frozenset[tuple[str, ...]]:
    """The messages (as literal runs) of every raise site whose literal text contains `text`."""
    return frozenset(site.runs for site in raise_sites() if any(text in run for run in site.runs))


@functools.lru_cache(maxsize=None)
def _template(runs: tuple[str, ...]) -> tuple[dict[str, int], int]:
    """A message's template as bit masks: for each character, the positions holding it; the holes.

    Position j is "the next thing to match is token j"; the tokens are the characters of the runs
    with a hole between two runs and at both ends (an error may quote the message in a longer one).
    """
    chars: dict[str, int] = {}
    holes = 1
    j = 1
    for run in runs:
        for char in run:
            chars[char] = chars.get(char, 0) | 1 << j
            j += 1
        holes |= 1 << j
        j += 1
    return chars, holes


def _close(states: int, holes: int) -> int:
    """Add the positions just after an active hole: a hole may take no text."""
    while True:
        more = states | (states & holes) << 1
        if more == states:
            return states
        states = more


@functools.lru_cache(maxsize=None)
def fits(piece: str, runs: tuple[str, ...]) -> bool:
    """Whether `piece` can be part of a message made from `runs`, by that message's own words.

    A hole takes any text, but :data:`MIN_SHARED` consecutive characters of the piece must be
    literal text of the message: "vmap: axis_size must be a positive int, got 0" fits
    "{where}: axis_size must be a positive int, got {n!r}." but not "vmap_call_all_fns:
    axis_size must be a positive int, got {n!r}.". The template is matched as a bit-parallel
    automaton, one bit per position, one set of positions per count of literal characters
    matched in a row (the last set: enough of them, somewhere).
    """
    chars, holes = _template(runs)
    counts = [_close(~(~0 << holes.bit_length()), holes)] + [0] * MIN_SHARED  # it may start anywhere
    for char in piece:
        literal = chars.get(char, 0)
        enough = (counts[-1] & literal) << 1 | counts[-1] & holes | (counts[-2] & literal) << 1
        counts = ([_close(holes & functools.reduce(int.__or__, counts[:-1]), holes)]
                  + [_close((c & literal) << 1, holes) for c in counts[:-2]] + [_close(enough, holes)])
        if not any(counts):
            return False
    return counts[-1] != 0


@functools.lru_cache(maxsize=None)
def _all_fit(pattern: Pattern, runs: tuple[str, ...]) -> bool:
    """Whether the piece of `pattern` sharing the most text with the message fits it by that text.

    (Other pieces may lie in holes: values, or a report the message quotes.)
    """
    shared = [max((len(common_text(piece, run)) for run in runs), default=0) for piece in pattern.pieces]
    return not shared or fits(pattern.pieces[shared.index(max(shared))], runs)


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
    at least one stretch is strong, every piece of the pattern :func:`fits` the site's message,
    and no other message that fits contains them all: text that other messages contain too
    (" is not callable", "must be positive") proves nothing by itself. Such shared text checks
    the site when the pattern comes from its module's test file (:func:`_tests_module`), from a
    test file importing its module (:func:`_imports`), or names its module's classes or
    functions (:func:`_names_module`).
    """
    stretches = set()
    for piece in pattern.pieces:
        for run in site.runs:
            common = common_text(piece, run)
            if _is_strong(common) or (common == run and re.search(r"\w", run)):
                stretches.add(common)
    if not any(map(_is_strong, stretches)) or not _all_fit(pattern, site.runs):
        return None
    owners = {runs for runs in frozenset.intersection(*(_messages_containing(text) for text in stretches))
              if _all_fit(pattern, runs)}
    if owners == {site.runs}:
        return tuple(sorted(stretches, key=len, reverse=True))
    # A message whose words other messages share ("{cls}: {arg} must be a positive int, got
    # {x}") is checked by the test file of its own module or one importing that module, or by a
    # pattern that names a class or function of that module ("RReLU: lower must not exceed
    # upper", "while_loop: cond_fun must be callable").
    if _tests_module(pattern.where, site.path) or _names_module(pattern, site) or _imports(pattern.where, site.path):
        return tuple(sorted(stretches, key=len, reverse=True))
    return None


@functools.lru_cache(maxsize=None)
def _imported_modules(test_file: str) -> frozenset[str]:
    """The package modules a test file imports by their own (private) name, as paths."""
    tree = ast.parse((ROOT / test_file).read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return frozenset(name.replace(".", "/") + ".py" for name in names if name.startswith("brainstate."))


def _imports(test_where: str, module_path: str) -> bool:
    """Whether the test file imports the site's module itself (`from brainstate.x._mod import`)."""
    return module_path in _imported_modules(test_where.split(":")[0])


@functools.lru_cache(maxsize=None)
def _public_names(path: str) -> frozenset[str]:
    """The public classes, and functions with a compound name, a module defines at top level.

    (Single-word function names, such as `get` or `context`, are also plain words.)
    """
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    return frozenset(node.name for node in tree.body
                     if isinstance(node, ast.ClassDef) and not node.name.startswith("_")
                     or isinstance(node, ast.FunctionDef) and "_" in node.name.lstrip("_") and node.name[0] != "_")


def _names_module(pattern: Pattern, site: RaiseSite) -> bool:
    """Whether the pattern names a public class or function of the site's module, or the public
    function raising it."""
    names = _public_names(site.path) | {name for name in site.scope if not name.startswith("_")}
    words = {word for piece in pattern.pieces for word in re.findall(r"\w+", piece)}
    return not names.isdisjoint(words)


def _tests_module(test_where: str, module_path: str) -> bool:
    """Whether the test file at `test_where` is the one for the module at `module_path`.

    `tests/nn/test_conv.py` tests `brainstate/nn/_conv.py`; `test_param_transforms.py` tests
    `_param_transforms_interval.py` and `test_lr_schedules.py` tests `_schedules.py` too.
    """
    test_file, module = Path(test_where.split(":")[0]), Path(module_path)
    test_package = test_file.relative_to("tests").parts[:1] if len(test_file.parts) > 2 else ()
    module_package = module.relative_to("brainstate").parts[:1] if len(module.parts) > 2 else ()
    if tuple(p.lstrip("_") for p in module_package) != test_package:
        return False
    test_stem, module_stem = test_file.stem.removeprefix("test_"), module.stem.lstrip("_")
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
    """The checkable sites no test checks."""
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


# -- the checker itself ---------------------------------------------------------------------------
@pytest.mark.parametrize("regex, pieces", [
    (r"plain text", ("plain text",)),
    (r"shape \(3,\) is not \[4\]", ("shape (3,) is not [4]",)),
    (r"Map.map: got .* instead", ("Map.map: got ", " instead")),
    (r"axis \d+ of [abc]+ here", ("axis ", " of ", " here")),
    (r"colou?r and x{0,1}y", ("colo", "r and ", "y")),
    (r"(?s)a (b|c)\.", ("s", "a ", "b", "c", ".")),
])
def test_literal_pieces(regex, pieces):
    assert literal_pieces(regex) == pieces


TEMPLATE = ("", ": axis_size must be a positive int, got ", ".")  # f"{where}: axis_size ... {n!r}."


@pytest.mark.parametrize("piece, expected", [
    ("vmap: axis_size must be a positive int, got 0.", True),
    ("axis_size must be a positive", True),
    ("a positive int, got 0. And more text after it", True),  # a message quoted inside a longer one
    ("vmap: axis_size must be a negative int", False),
    ("anything at all", False),  # it would lie in a hole: none of the message's own text
])
def test_fits(piece, expected):
    assert fits(piece, TEMPLATE) is expected


def test_fits_tells_a_fixed_prefix_from_a_hole():
    other = ("vmap_call_all_fns: axis_size must be a positive int, got ", ".")
    piece = "vmap: axis_size must be a positive int, got 0"
    assert fits(piece, TEMPLATE) and not fits(piece, other)


def test_fits_with_empty_runs_between_holes():
    runs = ("", ": `", "` must be an integer, got ", ".")  # f"{fn}: `{arg}` must be an integer, got {x}."
    assert fits("split_key: `n` must be an integer, got 2.5.", runs)
    assert not fits("split_key: n must be an integer, got 2.5.", runs)  # only "." would be literal


def _site(*runs, path="brainstate/nn/_elementwise.py"):
    return RaiseSite(path, 1, runs)


@pytest.mark.parametrize("pieces, covered", [
    (("Linear expects inputs whose last dimension is 3, got 4",), True),  # an instance of the template
    (("expects inputs whose last",), True),  # a part of it
    (("got 4",), False),  # only values
    (("Linear expects outputs whose last dimension is 3",), False),  # other words
])
def test_shared_words_needs_the_message_own_text(monkeypatch, pieces, covered):
    site = _site("", " expects inputs whose last dimension is ", ", got ", ".")
    monkeypatch.setattr(sys.modules[__name__], "raise_sites", lambda: (site,))
    _messages_containing.cache_clear()
    try:
        assert (shared_words(Pattern("tests/test_mixin.py:1", pieces), site) is not None) is covered
    finally:
        _messages_containing.cache_clear()


def test_text_shared_by_two_messages_covers_only_by_proximity(monkeypatch):
    mine = _site("", ": lower must be below upper, got lower=", ".")
    theirs = _site("clip: lower must be below upper, got lower=", ".", path="brainstate/optim/_base.py")
    monkeypatch.setattr(sys.modules[__name__], "raise_sites", lambda: (mine, theirs))
    _messages_containing.cache_clear()
    try:
        pattern = ("lower must be below upper",)
        assert shared_words(Pattern("tests/test_mixin.py:1", pattern), mine) is None
        assert shared_words(Pattern("tests/nn/test_elementwise.py:1", pattern), mine) is not None
        assert shared_words(Pattern("tests/test_mixin.py:1", ("RReLU: " + pattern[0],)), mine) is not None
    finally:
        _messages_containing.cache_clear()


def test_sites_are_read_from_every_form_of_message(tmp_path):
    source = tmp_path / "mod.py"
    source.write_text(textwrap.dedent('''
        def _require(ok, message):
            if not ok:
                raise ValueError(message)

        def _error(path):
            return CheckpointError(f"checkpoint {path!r} is damaged beyond repair")

        class Layer:
            def check(self, n):
                message = f"{self}: n must be a positive int, got {n}"
                if n < 1:
                    raise ValueError(message)
                _require(n < 9, f"{self}: n must be below nine, got {n}")
                raise TypeError("plain " + "concatenated message %s here" % n)
        '''))
    found = {tuple(runs): scope for _, parts, scope in _sites_in(source) for runs in [_runs_of(parts)]}
    assert found == {
        ("checkpoint ", " is damaged beyond repair"): ("_error",),
        ("", ": n must be a positive int, got ", ""): ("Layer", "check"),
        ("", ": n must be below nine, got ", ""): ("Layer", "check"),
        ("plain concatenated message ", " here"): ("Layer", "check"),
    }


def test_patterns_are_read_from_parametrize_helpers_and_f_strings(tmp_path):
    source = tmp_path / "test_mod.py"
    source.write_text(textwrap.dedent('''
        import pytest

        @pytest.mark.parametrize("arg, match", [("a", "first message here"), ("b", r"second \\(message\\)")])
        def test_table(arg, match):
            with pytest.raises(ValueError, match=match):
                pass

        @pytest.mark.parametrize("which", ["cond_fun", "body_fun"])
        def test_filled(which):
            with pytest.raises(TypeError, match=f"loop: {which} must be callable"):
                pass

        def check(call, expected):
            with pytest.raises(ValueError, match=expected):
                call()

        def test_helper():
            check(print, "third message here")
            try:
                pass
            except ValueError as err:
                assert "fourth message here" in str(err)
        '''))
    assert sorted(p.pieces for p in _patterns_in(source)) == [
        ("first message here",), ("fourth message here",), ("loop: body_fun must be callable",),
        ("loop: cond_fun must be callable",), ("second (message)",), ("third message here",)]


def test_the_scan_finds_the_package_raises():
    sites = raise_sites()
    assert len(sites) > 500
    ifelse = [s for s in sites if s.path == "brainstate/transform/_conditions.py" and s.runs[0] == "ifelse got "]
    assert len(ifelse) == 1 and ifelse[0].fragment.startswith(" branch(es). Give one condition per branch")


def test_every_pytest_raises_names_the_message_it_expects():
    """`pytest.raises` always with `match=`: an error of the right type but the wrong cause must fail."""
    bare = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "raises"
                    and getattr(node.func.value, "id", "") == "pytest"
                    and not any(k.arg == "match" for k in node.keywords)):
                bare.append(f"{path}:{node.lineno}")
    assert not bare, "pytest.raises without match=: " + ", ".join(bare)
