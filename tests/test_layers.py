"""Imports flow one way: errors → util → environ → state → graph → random → transform → nn."""

import ast
import pathlib

import pytest

ORDER = ["_errors", "typing", "util", "_state", "environ", "graph", "random", "transform", "sharding", "mixin", "nn",
         "optim", "checkpoint", "interop"]
ROOT = pathlib.Path(__file__).resolve().parent.parent / "brainstate"


def layer_of(path: pathlib.Path):
    rel = path.relative_to(ROOT).parts
    name = rel[0].removesuffix(".py")
    return name if name in ORDER else None


def imported_layers(path: pathlib.Path):
    tree = ast.parse(path.read_text())
    depth_pkg = len(path.relative_to(ROOT).parts) - 1
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            up = node.level - 1
            if up < depth_pkg:
                continue  # inside the same top-level package
            mod = (node.module or "").split(".")[0]
            names = [mod] if mod else [a.name for a in node.names]
            for n in names:
                if n in ORDER:
                    yield n, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("brainstate."):
            n = node.module.split(".")[1]
            if n in ORDER:
                yield n, node.lineno


@pytest.mark.parametrize("path", sorted(p for p in ROOT.rglob("*.py") if layer_of(p)), ids=str)
def test_imports_flow_one_way(path):
    me = ORDER.index(layer_of(path))
    for layer, line in imported_layers(path):
        assert ORDER.index(layer) <= me, f"{path.relative_to(ROOT)}:{line} imports {layer}, a higher layer"
