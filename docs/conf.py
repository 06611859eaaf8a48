"""Sphinx configuration of the BrainState documentation site.

Build (from the repository root, after `pip install -e ".[docs]"`):

    python -m sphinx -W --keep-going -b html docs docs/_build/html

Pages are MyST markdown; tutorials are MyST text notebooks that myst-nb executes at build time
(a failing cell fails the build) and caches by content in `docs/_build/.jupyter_cache`. The API
reference is generated from the package's public tables at build time (`_ext/apigen.py`), so it
never goes stale.
"""

import os
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

import brainstate  # noqa: E402  (the release number below is the package's)

project = "BrainState"
author = "the BrainState developers"
copyright = "2025, the BrainState developers"
release = version = brainstate.__version__

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "apigen",
    "docstring_markup",
    "plain_builtins",
    "sitecheck",
]

exclude_patterns = ["_build", ".jupyter_cache", "jupyter_execute", "README.md", "**.ipynb_checkpoints"]
root_doc = "index"

# Docstrings write code in single backticks (Markdown habit); render it as code, not italics.
default_role = "literal"

# --- MyST and notebook execution -------------------------------------------------------------
myst_enable_extensions = ["colon_fence", "dollarmath", "deflist"]
myst_heading_anchors = 3
nb_execution_mode = os.environ.get("BRAINSTATE_DOCS_EXECUTION", "cache")
nb_execution_cache_path = os.environ.get("BRAINSTATE_DOCS_CACHE", str(HERE / "_build" / ".jupyter_cache"))
nb_execution_raise_on_error = True
nb_execution_show_tb = True
# A tutorial is meant to run in seconds; a minute means something hangs.
nb_execution_timeout = 120
nb_merge_streams = True
# Tracebacks as IPython prints them; pytb lexes a message containing backticks cleanly.
nb_render_error_lexer = "pytb"

# --- autodoc -----------------------------------------------------------------------------------
# Signatures without annotations: JAX's `ArrayLike` alone expands to an eight-member union, which
# buries the argument names; each docstring's Args section says what an argument takes.
autodoc_typehints = "none"
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "show-inheritance": True}
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False
# One entry per Args line, so `size, key, dtype: ...` stays one entry instead of three copies.
napoleon_use_param = False
# `Attributes:` sections as fields, not attribute entries that would clash with the properties
# autodoc documents under the same names.
napoleon_use_ivar = True

# --- HTML --------------------------------------------------------------------------------------
html_theme = "furo"
html_title = f"BrainState {release}"
html_static_path = []
html_theme_options = {"navigation_with_keys": True}
