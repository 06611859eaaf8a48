"""Leave references to builtins and `typing` names unlinked instead of guessing a target.

Type annotations refer to `type`, `Tuple`, `Callable` ... by their bare names. The Python
domain resolves a bare name it cannot find exactly by searching every documented object whose
name ends with it, so `type` would link to `GraphDef.type` and `Tuple` to a re-export entry, and
Sphinx warns that the target is ambiguous. Those names belong to Python, not to this site: they
are rendered as plain text.
"""

import builtins
import typing

from sphinx.addnodes import pending_xref

_PYTHON_NAMES = frozenset(n for n in dir(builtins) if not n.startswith("_")) | frozenset(typing.__all__)


def unlink_python_names(app, doctree) -> None:
    for node in list(doctree.findall(pending_xref)):
        if node.get("refdomain") == "py" and node.get("reftarget") in _PYTHON_NAMES:
            node.replace_self(node.children)


def setup(app):
    app.connect("doctree-read", unlink_python_names)
    return {"parallel_read_safe": True, "version": "1"}
