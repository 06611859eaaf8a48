"""Optimizers whose buffers are States, built on optax.

An optimizer is a `graph.Node`: register the weights it updates once, then call `update` with
their gradients, eagerly or inside `brainstate.transform.jit`. Its buffers (moments, step
count, learning rate) are `OptimState`s, so compiled steps thread them and checkpoints save them.
The update math is optax's: `OptaxOptimizer` runs any `optax.GradientTransformation`, and the
named optimizers are each one optax alias. Learning rates may follow a schedule of the step
count. Requires `optax` (`pip install brainstate[optim]`).

Example:
  >>> import brainstate, jax.numpy as jnp
  >>> model = brainstate.nn.Linear(3, 1)
  >>> opt = brainstate.optim.Adam(lr=1e-2)
  >>> opt.register_trainable_weights(model.states(brainstate.ParamState))
  >>> @brainstate.transform.jit
  ... def step(x, y):
  ...     loss = lambda: ((model(x) - y) ** 2).mean()
  ...     grads = brainstate.transform.grad(loss, grad_states=model.states(brainstate.ParamState))()
  ...     opt.update(grads)
  >>> step(jnp.ones((4, 3)), jnp.zeros((4, 1)))
  >>> int(opt.step_count.value)
  1
"""

try:
    import optax as _optax  # noqa: F401  (checked here so the error names the fix)
except ImportError as _err:
    raise ImportError(
        "brainstate.optim is built on optax, which is not installed. Install it with "
        "`pip install optax` (or `pip install brainstate[optim]`).") from _err

from ._base import OptaxOptimizer as OptaxOptimizer, OptimState as OptimState, Optimizer as Optimizer
from ._adaptive import (
    AdaBelief as AdaBelief, Adadelta as Adadelta, Adagrad as Adagrad, Adam as Adam, Adamax as Adamax,
    AdamW as AdamW, Lamb as Lamb, Nadam as Nadam, RAdam as RAdam, RMSProp as RMSProp, RMSprop as RMSprop,
    Yogi as Yogi,
)
from ._sgd import (
    SGD as SGD, Lars as Lars, Lion as Lion, Momentum as Momentum, MomentumNesterov as MomentumNesterov,
    Nesterov as Nesterov, Rprop as Rprop,
)
from ._schedules import (
    ConstantLR as ConstantLR, CosineAnnealingLR as CosineAnnealingLR,
    CosineAnnealingWarmRestarts as CosineAnnealingWarmRestarts, ExponentialDecayLR as ExponentialDecayLR,
    ExponentialLR as ExponentialLR, LinearLR as LinearLR, LRScheduler as LRScheduler, MultiStepLR as MultiStepLR,
    OneCycleLR as OneCycleLR, PiecewiseConstantSchedule as PiecewiseConstantSchedule,
    PolynomialLR as PolynomialLR, SequentialLR as SequentialLR, StepLR as StepLR,
    WarmupCosineSchedule as WarmupCosineSchedule, WarmupScheduler as WarmupScheduler,
)

__all__ = [
    "Optimizer", "OptaxOptimizer", "OptimState",
    "SGD", "Momentum", "MomentumNesterov", "Nesterov", "Adam", "AdamW", "RMSprop", "RMSProp", "Adagrad",
    "Adadelta", "Adamax", "Nadam", "RAdam", "Lamb", "Lars", "Lion", "Yogi", "AdaBelief", "Rprop",
    "LRScheduler", "ConstantLR", "StepLR", "MultiStepLR", "ExponentialLR", "ExponentialDecayLR",
    "CosineAnnealingLR", "CosineAnnealingWarmRestarts", "PolynomialLR", "LinearLR", "WarmupScheduler",
    "WarmupCosineSchedule", "OneCycleLR", "PiecewiseConstantSchedule", "SequentialLR",
]
