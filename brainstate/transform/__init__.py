"""State-aware transformations: each finds the states a function touches and threads them.

The engine is `StatefulFunction` (_stateful.py); every transform here is a thin recipe on it.
"""

from ._finder import StateFinder
from ._jit import JittedFunction, jit
from ._make_jaxpr import make_jaxpr
from ._stateful import StatefulFunction
from ._grad import GradientTransform, grad, hessian, jacfwd, jacobian, jacrev, vector_grad
from ._autodiff_fwd import fwd_grad, jvp, vjp
