"""Generate the API reference pages from the packages' public tables at build time.

Each package `__init__.py` is the public table of contents, so the reference is read off it:
one page per package, listing every public name (`dir(package)` without underscores). Names
defined in BrainState are documented with autodoc, grouped by the private module that defines
them (titled with the first line of that module's docstring); subpackages link to their pages;
names the package re-exports from elsewhere (standard-library modules, `typing` constructs, JAX
functions) are listed with what they are, because code written for the reference
release imports them from here.

The pages are written to `api/generated/` (not committed) when the builder starts, before Sphinx
reads the sources, and rewritten only when their text changes so incremental builds stay cheap.
"""

import functools
import importlib
import inspect
import pathlib
import types
from typing import Dict, List, Tuple

PACKAGES = [
    "brainstate",
    "brainstate.transform",
    "brainstate.graph",
    "brainstate.nn",
    "brainstate.nn.init",
    "brainstate.random",
    "brainstate.environ",
    "brainstate.optim",
    "brainstate.checkpoint",
    "brainstate.sharding",
    "brainstate.interop",
    "brainstate.util",
    "brainstate.mixin",
    "brainstate.typing",
]

# Values of these types are documented as data (constants such as `environ.DT`).
_DATA_TYPES = (str, int, float, bool, tuple, frozenset)


def page_name(package: str) -> str:
    return package.replace(".", "_")


def _defining_module(obj) -> str:
    """The module that defines `obj`, by source file when `__module__` was set to the public one."""
    try:
        source = inspect.getsourcefile(obj)
    except TypeError:
        source = None
    if source:
        for name, module in list(_brainstate_modules().items()):
            if getattr(module, "__file__", None) == source:
                return name
    return getattr(obj, "__module__", "") or ""


_MODULE_CACHE: Dict[str, types.ModuleType] = {}


def _brainstate_modules() -> Dict[str, types.ModuleType]:
    if not _MODULE_CACHE:
        import pkgutil

        import brainstate

        for info in pkgutil.walk_packages(brainstate.__path__, "brainstate."):
            try:
                _MODULE_CACHE[info.name] = importlib.import_module(info.name)
            except ImportError:  # an optional dependency of a corner module is absent
                continue
    return _MODULE_CACHE


def _title_of(module_name: str) -> str:
    module = _brainstate_modules().get(module_name) or importlib.import_module(module_name)
    doc = inspect.getdoc(module) or module_name
    line = doc.strip().splitlines()[0].rstrip(".")
    return line.replace("`", "")


def _describe_foreign(obj) -> str:
    """One line saying what a re-exported foreign object is."""
    if isinstance(obj, types.ModuleType):
        return f"the module ``{obj.__name__}``"
    if isinstance(obj, (type, types.FunctionType, types.BuiltinFunctionType)):
        return f"``{obj.__module__}.{obj.__qualname__}``"
    text = repr(obj)
    return f"``{text if len(text) <= 120 else text[:117] + '...'}``"


def _canonical_package(home: str) -> str:
    """The documented package a defining module belongs to (the longest matching prefix)."""
    best = "brainstate"
    for package in PACKAGES:
        if (home == package or home.startswith(package + ".")) and len(package) > len(best):
            best = package
    return best


def _lazy_names(package: str, module: types.ModuleType) -> List[str]:
    """Names of the reference API that the package provides lazily (a module `__getattr__`),
    so that `dir` does not list them."""
    names_file = pathlib.Path(__file__).resolve().parent.parent / "api_names.txt"
    lazy = []
    for line in names_file.read_text().splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == package and not line.startswith("#"):
            try:
                if hasattr(module, parts[1]):
                    lazy.append(parts[1])
            except Exception:  # an optional dependency of the lazy attribute is absent
                continue
    return lazy


def classify(package: str):
    """Sort a package's public names into documented groups, aliases, subpackages and re-exports.

    Returns `(groups, aliases, subpackages, foreign)`: `groups` maps a defining module to
    `(name, directive)` pairs documented here; `aliases` are `(name, target)` pairs, `target`
    being the full name under which the same object is documented (another name of this
    package, or its home package); `foreign` are `(name, description)` pairs.
    """
    module = importlib.import_module(package)
    groups: Dict[str, List[Tuple[str, str]]] = {}
    aliases: List[Tuple[str, str]] = []
    subpackages: List[str] = []
    foreign: List[Tuple[str, str]] = []
    documented: Dict[int, str] = {}
    names = sorted(set(n for n in dir(module) if not n.startswith("_")) | set(_lazy_names(package, module)))
    # Document an object under its own name first (`RMSprop`), its aliases after (`RMSProp`).
    names.sort(key=lambda n: getattr(getattr(module, n, None), "__name__", None) != n)
    for name in names:
        try:
            obj = getattr(module, name)
        except Exception:  # a lazy attribute whose optional dependency is absent
            continue
        if isinstance(obj, types.ModuleType):
            if obj.__name__ in PACKAGES:
                subpackages.append(obj.__name__)
            else:
                foreign.append((name, _describe_foreign(obj)))
            continue
        home = _defining_module(obj)
        if isinstance(obj, _DATA_TYPES) and not callable(obj):
            groups.setdefault(package, []).append((name, "autodata"))
            continue
        if not home.startswith("brainstate"):
            foreign.append((name, _describe_foreign(obj)))
            continue
        canonical = _canonical_package(home)
        if canonical != package and getattr(importlib.import_module(canonical), name, None) is obj:
            aliases.append((name, f"{canonical}.{name}"))
            continue
        if id(obj) in documented:
            aliases.append((name, f"{package}.{documented[id(obj)]}"))
            continue
        documented[id(obj)] = name
        if inspect.isclass(obj):
            directive = "autoexception" if issubclass(obj, BaseException) else "autoclass"
        elif inspect.isroutine(obj) or isinstance(obj, functools.partial) or hasattr(obj, "__wrapped__"):
            directive = "autofunction"
        else:  # an instance defined here: the default random stream, a sentinel, a TypeVar
            directive = "autodata"
        groups.setdefault(home, []).append((name, directive))
    return groups, aliases, subpackages, foreign


def render(package: str) -> str:
    groups, aliases, subpackages, foreign = classify(package)
    title = f"``{package}``"
    lines = [title, "=" * len(title), "", f".. currentmodule:: {package}", ""]
    summary = inspect.getdoc(importlib.import_module(package)) or ""
    if summary:
        lines += [summary.strip().splitlines()[0].replace("`", "``"), ""]
    if subpackages:
        lines += ["Subpackages: " + ", ".join(f":doc:`{s} <{page_name(s)}>`" for s in subpackages) + ".", ""]
        heading = "Subpackages"
        lines += [heading, "-" * len(heading), ""]
        for sub in subpackages:
            lines += [f".. py:data:: {sub.rsplit('.', 1)[1]}", "", f"   The subpackage :doc:`{sub} <{page_name(sub)}>`.", ""]
    count = sum(len(v) for v in groups.values()) + len(aliases) + len(subpackages) + len(foreign)
    lines += [f"{count} public names.", ""]
    for home in sorted(groups, key=lambda h: (h == package, _title_of(h) if h != package else "")):
        heading = _title_of(home) if home != package else "Constants and settings keys"
        lines += [heading, "-" * len(heading), ""]
        for name, directive in groups[home]:
            lines += [f".. {directive}:: {name}", ""]
    if aliases:
        heading = "Other names"
        lines += [heading, "-" * len(heading), ""]
        for name, target in aliases:
            role = "class" if inspect.isclass(getattr(importlib.import_module(package), name)) else "obj"
            lines += [f".. py:data:: {name}", "", f"   The same object as :py:{role}:`{target}`.", ""]
    if foreign:
        heading = "Re-exported from other libraries"
        lines += [heading, "-" * len(heading), "",
                  "Available here because code written for the reference release imports them from",
                  f"``{package}``; they are documented by their own projects.", ""]
        for name, what in foreign:
            lines += [f".. py:data:: {name}", "", f"   Re-exported: {what}.", ""]
    return "\n".join(lines)


def generate(app) -> None:
    out = pathlib.Path(app.srcdir) / "api" / "generated"
    out.mkdir(parents=True, exist_ok=True)
    for package in PACKAGES:
        path = out / f"{page_name(package)}.rst"
        text = render(package)
        if not path.exists() or path.read_text() != text:
            path.write_text(text)


def setup(app):
    app.connect("builder-inited", generate)
    return {"parallel_read_safe": True, "version": "1"}
