"""The SGD family and the sign-based optimizers: SGD, momentum, Nesterov, LARS, Lion, Rprop.

Each class is one `OptaxOptimizer` running one optax alias: it checks its hyperparameters and
names the alias that does the math, so its steps are exactly optax's. Argument names follow the
reference release (PyTorch style: `lr`, `momentum`, `weight_decay`). Where the optax alias has
its own weight decay (`Lars`, `Lion`), `weight_decay` and the filter `weight_decay_mask` go to
it; for SGD `weight_decay` is PyTorch's coupled L2 term, added to the gradient. Every class also
takes the keyword-only options of `OptaxOptimizer` (`weight_decay_mask`, `grad_clip_norm`,
`grad_clip_value`).
"""

from typing import Any, Tuple

import optax

from ._base import LearningRate, OptaxOptimizer, _check_betas, _check_number

__all__ = ["SGD", "Momentum", "MomentumNesterov", "Nesterov", "Lars", "Lion", "Rprop"]


class SGD(OptaxOptimizer):
    """Stochastic gradient descent, with optional (Nesterov) momentum: `optax.sgd`.

    Args:
      lr: the learning rate: a number, or a schedule of the update count (a `brainstate.optim`
        schedule or an optax schedule).
      momentum: the momentum coefficient; 0 for plain SGD.
      weight_decay: if positive, `weight_decay * w` is added to each gradient (coupled L2, as in
        PyTorch).
      nesterov: use Nesterov momentum.
      **options: `weight_decay_mask`, `grad_clip_norm` and `grad_clip_value`, as in `OptaxOptimizer`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> w = brainstate.ParamState(jnp.ones(3))
      >>> opt = brainstate.optim.SGD(lr=0.1)
      >>> opt.register_trainable_weights({'w': w})
      >>> opt.update({'w': jnp.ones(3)})
      >>> [round(x, 4) for x in w.value.tolist()]
      [0.9, 0.9, 0.9]
    """

    __module__ = "brainstate.optim"

    def __init__(self, lr: LearningRate = 1e-3, momentum: float = 0.0, weight_decay: float = 0.0,
                 nesterov: bool = False, **options: Any):
        self.momentum = _check_number(type(self).__name__, "momentum", momentum)
        self.nesterov = bool(nesterov)
        super().__init__(lr=lr, weight_decay=weight_decay, **options)

    def _transform(self, learning_rate, mask):
        return optax.sgd(learning_rate, self.momentum or None, self.nesterov)


class Momentum(SGD):
    """SGD with heavy-ball momentum: `optax.sgd(lr, momentum)`.

    Args:
      lr: the learning rate: a number, or a schedule of the update count (a `brainstate.optim`
        schedule or an optax schedule).
      momentum: the momentum coefficient.
      weight_decay: if positive, `weight_decay * w` is added to each gradient (coupled L2, as in
        PyTorch).
      **options: `weight_decay_mask`, `grad_clip_norm` and `grad_clip_value`, as in `OptaxOptimizer`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> w = brainstate.ParamState(jnp.ones(3))
      >>> opt = brainstate.optim.Momentum(lr=0.1, momentum=0.9)
      >>> opt.register_trainable_weights({'w': w})
      >>> opt.update({'w': jnp.ones(3)})
      >>> bool((w.value < 1).all())
      True
    """

    __module__ = "brainstate.optim"

    def __init__(self, lr: LearningRate = 1e-3, momentum: float = 0.9, weight_decay: float = 0.0, **options: Any):
        super().__init__(lr, momentum, weight_decay, nesterov=False, **options)


class MomentumNesterov(SGD):
    """SGD with Nesterov momentum: `optax.sgd(lr, momentum, nesterov=True)`; also named `Nesterov`.

    Args:
      lr: the learning rate: a number, or a schedule of the update count (a `brainstate.optim`
        schedule or an optax schedule).
      momentum: the momentum coefficient.
      weight_decay: if positive, `weight_decay * w` is added to each gradient (coupled L2, as in
        PyTorch).
      **options: `weight_decay_mask`, `grad_clip_norm` and `grad_clip_value`, as in `OptaxOptimizer`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> w = brainstate.ParamState(jnp.ones(3))
      >>> opt = brainstate.optim.MomentumNesterov(lr=0.1)
      >>> opt.register_trainable_weights({'w': w})
      >>> opt.update({'w': jnp.ones(3)})
      >>> bool((w.value < 1).all())
      True
    """

    __module__ = "brainstate.optim"

    def __init__(self, lr: LearningRate = 1e-3, momentum: float = 0.9, weight_decay: float = 0.0, **options: Any):
        super().__init__(lr, momentum, weight_decay, nesterov=True, **options)


Nesterov = MomentumNesterov


class Lars(OptaxOptimizer):
    """LARS, layer-wise adaptive SGD (`optax.lars`, which applies `weight_decay` itself).

    Args:
      lr: the learning rate: a number, or a schedule of the update count (a `brainstate.optim`
        schedule or an optax schedule).
      momentum: the momentum coefficient.
      weight_decay: the decay rate, applied by optax to the weights `weight_decay_mask` selects.
      trust_coefficient: scales the layer-wise trust ratio.
      eps: added for numerical stability.
      nesterov: use Nesterov momentum.
      **options: `weight_decay_mask`, `grad_clip_norm` and `grad_clip_value`, as in `OptaxOptimizer`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> w = brainstate.ParamState(jnp.ones(3))
      >>> opt = brainstate.optim.Lars(lr=1.0)
      >>> opt.register_trainable_weights({'w': w})
      >>> opt.update({'w': jnp.ones(3)})
      >>> bool((w.value < 1).all())
      True
    """

    __module__ = "brainstate.optim"
    _own_weight_decay = True

    def __init__(self, lr: LearningRate = 1.0, momentum: float = 0.9, weight_decay: float = 0.0,
                 trust_coefficient: float = 1e-3, eps: float = 1e-8, nesterov: bool = False, **options: Any):
        self.momentum = _check_number(type(self).__name__, "momentum", momentum)
        self.trust_coefficient = _check_number(type(self).__name__, "trust_coefficient", trust_coefficient)
        self.eps = _check_number(type(self).__name__, "eps", eps)
        self.nesterov = bool(nesterov)
        super().__init__(lr=lr, weight_decay=weight_decay, **options)

    def _transform(self, learning_rate, mask):
        return optax.lars(learning_rate, self.weight_decay, True if mask is None else mask,
                          self.trust_coefficient, self.eps, momentum=self.momentum, nesterov=self.nesterov)


class Lion(OptaxOptimizer):
    """Lion, sign-of-momentum updates (`optax.lion`, which applies `weight_decay` itself).

    Args:
      lr: the learning rate: a number, or a schedule of the update count (a `brainstate.optim`
        schedule or an optax schedule).
      betas: the interpolation and decay rates `(beta1, beta2)` of the momentum, each in [0, 1).
      weight_decay: the decay rate, applied by optax to the weights `weight_decay_mask` selects.
      **options: `weight_decay_mask`, `grad_clip_norm` and `grad_clip_value`, as in `OptaxOptimizer`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> w = brainstate.ParamState(jnp.ones(3))
      >>> opt = brainstate.optim.Lion(lr=0.1)
      >>> opt.register_trainable_weights({'w': w})
      >>> opt.update({'w': jnp.ones(3)})
      >>> bool((w.value < 1).all())
      True
    """

    __module__ = "brainstate.optim"
    _own_weight_decay = True

    def __init__(self, lr: LearningRate = 1e-4, betas: Tuple[float, float] = (0.9, 0.99), weight_decay: float = 0.0,
                 **options: Any):
        self.betas = _check_betas(type(self).__name__, betas)
        super().__init__(lr=lr, weight_decay=weight_decay, **options)

    def _transform(self, learning_rate, mask):
        return optax.lion(learning_rate, *self.betas, weight_decay=self.weight_decay, mask=mask)


class Rprop(OptaxOptimizer):
    """Rprop, sign-based steps with adaptive sizes (`optax.rprop`).

    Args:
      lr: the learning rate: a number, or a schedule of the update count (a `brainstate.optim`
        schedule or an optax schedule). (the initial step size).
      etas: the factors `(decrease, increase)` applied to a step size when the
        gradient's sign flips or stays.
      step_sizes: the bounds `(min, max)` of the step sizes.
      **options: `weight_decay_mask`, `grad_clip_norm` and `grad_clip_value`, as in `OptaxOptimizer`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> w = brainstate.ParamState(jnp.ones(3))
      >>> opt = brainstate.optim.Rprop(lr=0.1)
      >>> opt.register_trainable_weights({'w': w})
      >>> for _ in range(2):  # optax's rprop makes its first move on the second step
      ...     opt.update({'w': jnp.ones(3)})
      >>> [round(x, 4) for x in w.value.tolist()]
      [0.9, 0.9, 0.9]
    """

    __module__ = "brainstate.optim"

    def __init__(self, lr: LearningRate = 0.01, etas: Tuple[float, float] = (0.5, 1.2),
                 step_sizes: Tuple[float, float] = (1e-6, 50.0), **options: Any):
        self.etas = tuple(_check_number(type(self).__name__, "etas", e) for e in etas)
        self.step_sizes = tuple(_check_number(type(self).__name__, "step_sizes", s) for s in step_sizes)
        super().__init__(lr=lr, **options)

    def _transform(self, learning_rate, mask):
        return optax.rprop(learning_rate, *self.etas, *self.step_sizes)
