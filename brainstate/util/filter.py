"""Filters as a module: `from brainstate.util.filter import OfType` (as in the reference).

The filter language lives in `brainstate.util._filters`; this module gathers its names, and the
type aliases that describe a filter, under the import path released libraries use. The same
names are available directly from `brainstate.util`.

Example:
  >>> from brainstate.util.filter import OfType, to_predicate
  >>> import brainstate
  >>> to_predicate(OfType(brainstate.ParamState))((), brainstate.ParamState(1.0))
  True
"""

from ..typing import Filter as Filter
from ..typing import Key as Key
from ..typing import PathParts as PathParts
from ..typing import Predicate as Predicate
from ._filters import All as All
from ._filters import Any as Any
from ._filters import Everything as Everything
from ._filters import Not as Not
from ._filters import Nothing as Nothing
from ._filters import OfType as OfType
from ._filters import PathContains as PathContains
from ._filters import WithTag as WithTag
from ._filters import to_predicate as to_predicate

__all__ = ["to_predicate", "OfType", "WithTag", "PathContains", "Any", "All", "Not", "Everything", "Nothing",
           "Filter", "Key", "PathParts", "Predicate"]
