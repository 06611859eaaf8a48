"""List the brainstate names the ecosystem libraries use that a brainstate lacks.

A library whose ``__init__`` fails on its first missing name hides every later one, so running
its tests shows one error at a time. This tool reads the libraries' source instead (``ast``, no
import): every ``from brainstate.x import y``, ``import brainstate.x`` and attribute chain
``brainstate.x.y`` (through ``import brainstate as bs`` aliases too), and resolves each against
the brainstate importable by the Python running it. Run it with the ecosystem venv's Python::

    /tmp/venv/bin/python tools/ecosystem_names.py [--tests] [--packages braintools brainpy braintrace]

Output: the unresolved names, grouped by brainstate module, each with how many files use it
(names used only in test files are included with ``--tests``).
"""

from __future__ import annotations

import argparse
import ast
import collections
import importlib
import pathlib
import sys
import sysconfig

PACKAGES = ["braintools", "brainpy", "braintrace"]


class _Uses(ast.NodeVisitor):
    """Collect dotted brainstate names used by one module."""

    def __init__(self) -> None:
        self.aliases: dict[str, str] = {}  # local name -> dotted brainstate path
        self.names: set[str] = set()

    def visit_Import(self, node: ast.Import) -> None:
        for a in node.names:
            if a.name == "brainstate" or a.name.startswith("brainstate."):
                self.names.add(a.name)
                if a.asname:
                    self.aliases[a.asname] = a.name
                else:
                    self.aliases["brainstate"] = "brainstate"

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        mod = node.module or ""
        if node.level == 0 and (mod == "brainstate" or mod.startswith("brainstate.")):
            for a in node.names:
                if a.name == "*":
                    continue
                full = f"{mod}.{a.name}"
                self.names.add(full)
                self.aliases[a.asname or a.name] = full

    def visit_Attribute(self, node: ast.Attribute) -> None:
        chain = []
        cur: ast.AST = node
        while isinstance(cur, ast.Attribute):
            chain.append(cur.attr)
            cur = cur.value
        if isinstance(cur, ast.Name) and cur.id in self.aliases:
            self.names.add(".".join([self.aliases[cur.id], *reversed(chain)]))
            return  # the inner attributes are prefixes of this chain
        self.generic_visit(node)


def resolve(dotted: str) -> str | None:
    """None if `dotted` resolves in the installed brainstate, else the first missing prefix."""
    parts = dotted.split(".")
    obj = None
    for i in range(len(parts), 0, -1):  # the longest importable module prefix
        try:
            obj = importlib.import_module(".".join(parts[:i]))
            break
        except ImportError:
            continue
        except Exception:  # a module that raises on import: report it as missing
            return ".".join(parts[:i])
    if obj is None:
        return parts[0]
    for j in range(i, len(parts)):
        try:
            obj = getattr(obj, parts[j])
        except AttributeError:
            return ".".join(parts[:j + 1])
        except Exception:
            return ".".join(parts[:j + 1])
        if not (isinstance(obj, type(sys)) or callable(obj) or isinstance(obj, type)):
            return None  # an instance attribute chain goes past what can be checked statically
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tests", action="store_true", help="include the libraries' test files")
    parser.add_argument("--packages", nargs="+", default=PACKAGES)
    args = parser.parse_args()
    site = pathlib.Path(sysconfig.get_paths()["purelib"])
    users: dict[str, set[str]] = collections.defaultdict(set)
    for package in args.packages:
        for path in sorted((site / package).rglob("*.py")):
            if not args.tests and path.name.endswith("_test.py"):
                continue
            try:
                tree = ast.parse(path.read_text(encoding="utf-8"))
            except (SyntaxError, UnicodeDecodeError):
                continue
            uses = _Uses()
            uses.visit(tree)
            for name in uses.names:
                users[name].add(str(path.relative_to(site)))
    missing: dict[str, set[str]] = collections.defaultdict(set)
    for name, files in users.items():
        first = resolve(name)
        if first is not None:
            missing[first] |= files
    by_module: dict[str, list[tuple[str, int]]] = collections.defaultdict(list)
    for name, files in missing.items():
        module, _, attr = name.rpartition(".")
        by_module[module or name].append((attr or name, len(files)))
    for module in sorted(by_module):
        entries = ", ".join(f"{n} ({k})" for n, k in sorted(by_module[module], key=lambda e: (-e[1], e[0])))
        print(f"{module}: {entries}")
    print(f"{len(missing)} missing names used by {len(set().union(*missing.values())) if missing else 0} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
