"""The named optimizers: each one `OptaxOptimizer` running one optax alias.

Every class here only checks its hyperparameters and names the optax alias that does the math
(`optax.adam`, `optax.sgd`, ...), so its steps are exactly optax's. Argument names follow the
reference release (PyTorch style: `lr`, `betas`, `eps`, `weight_decay`).

Weight decay comes in two flavours. Where the optax alias has its own (`AdamW`, `Lion`, `Lamb`,
`Lars`, `Adadelta`), `weight_decay` and the filter `weight_decay_mask` go to it. Everywhere else
`weight_decay` is the coupled L2 term of PyTorch: `weight_decay * w` is added to the gradient
before the optimizer sees it.

Every class also takes the keyword-only options of `OptaxOptimizer`: `weight_decay_mask`,
`grad_clip_norm` and `grad_clip_value`.
"""

from typing import Any, Optional, Tuple

import optax

from ._base import LearningRate, OptaxOptimizer, _check_number

__all__ = ["SGD", "Momentum", "MomentumNesterov", "Nesterov", "Adam", "AdamW", "RMSprop", "RMSProp",
           "Adagrad", "Adadelta", "Adamax", "Nadam", "RAdam", "Lamb", "Lars", "Lion", "Yogi", "AdaBelief",
           "Rprop"]


def _betas(owner: str, betas: Tuple[float, float], beta1: Optional[float] = None,
           beta2: Optional[float] = None) -> Tuple[float, float]:
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"{owner}: betas must be a pair (beta1, beta2), got {betas!r}.")
    b1 = betas[0] if beta1 is None else beta1
    b2 = betas[1] if beta2 is None else beta2
    for name, b in (("beta1", b1), ("beta2", b2)):
        if _check_number(owner, name, b) >= 1.0:
            raise ValueError(f"{owner}: {name} must be in [0, 1), got {b!r}.")
    return float(b1), float(b2)


class SGD(OptaxOptimizer):
    """Stochastic gradient descent, with optional (Nesterov) momentum: `optax.sgd`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> w = brainstate.ParamState(jnp.ones(3))
      >>> opt = brainstate.optim.SGD(lr=0.1)
      >>> opt.register_trainable_weights({'w': w})
      >>> opt.update({'w': jnp.ones(3)})
      >>> w.value.tolist()
      [0.8999999761581421, 0.8999999761581421, 0.8999999761581421]
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
    """SGD with heavy-ball momentum: `optax.sgd(lr, momentum)`."""

    __module__ = "brainstate.optim"

    def __init__(self, lr: LearningRate = 1e-3, momentum: float = 0.9, weight_decay: float = 0.0, **options: Any):
        super().__init__(lr, momentum, weight_decay, nesterov=False, **options)


class MomentumNesterov(SGD):
    """SGD with Nesterov momentum: `optax.sgd(lr, momentum, nesterov=True)`."""

    __module__ = "brainstate.optim"

    def __init__(self, lr: LearningRate = 1e-3, momentum: float = 0.9, weight_decay: float = 0.0, **options: Any):
        super().__init__(lr, momentum, weight_decay, nesterov=True, **options)


Nesterov = MomentumNesterov


class Adam(OptaxOptimizer):
    """Adam (`optax.adam`), or AMSGrad (`optax.amsgrad`) with `amsgrad=True`.

    `beta1`/`beta2`, if given, override `betas`. For decoupled weight decay use `AdamW`.
    """

    __module__ = "brainstate.optim"

    def __init__(self, lr: LearningRate = 1e-3, betas: Tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, *, beta1: Optional[float] = None,
                 beta2: Optional[float] = None, **options: Any):
        self.betas = _betas(type(self).__name__, betas, beta1, beta2)
        self.eps = _check_number(type(self).__name__, "eps", eps)
        self.amsgrad = bool(amsgrad)
        super().__init__(lr=lr, weight_decay=weight_decay, **options)

    def _transform(self, learning_rate, mask):
        alias = optax.amsgrad if self.amsgrad else optax.adam
        return alias(learning_rate, *self.betas, eps=self.eps)


class AdamW(OptaxOptimizer):
    """Adam with decoupled weight decay (`optax.adamw`); `weight_decay_mask` picks the weights."""

    __module__ = "brainstate.optim"
    _own_weight_decay = True

    def __init__(self, lr: LearningRate = 1e-3, betas: Tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.01, **options: Any):
        self.betas = _betas(type(self).__name__, betas)
        self.eps = _check_number(type(self).__name__, "eps", eps)
        super().__init__(lr=lr, weight_decay=weight_decay, **options)

    def _transform(self, learning_rate, mask):
        return optax.adamw(learning_rate, *self.betas, eps=self.eps, weight_decay=self.weight_decay, mask=mask)


class RMSprop(OptaxOptimizer):
    """RMSProp (`optax.rmsprop`): `alpha` is the decay of the squared-gradient average.

    `eps_in_sqrt=False` puts `eps` outside the square root, as PyTorch does.
    """

    __module__ = "brainstate.optim"

    def __init__(self, lr: LearningRate = 0.01, alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0.0,
                 momentum: float = 0.0, centered: bool = False, *, eps_in_sqrt: bool = True, **options: Any):
        self.alpha = _check_number(type(self).__name__, "alpha", alpha)
        self.eps = _check_number(type(self).__name__, "eps", eps)
        self.momentum = _check_number(type(self).__name__, "momentum", momentum)
        self.centered = bool(centered)
        self.eps_in_sqrt = bool(eps_in_sqrt)
        super().__init__(lr=lr, weight_decay=weight_decay, **options)

    def _transform(self, learning_rate, mask):
        return optax.rmsprop(learning_rate, decay=self.alpha, eps=self.eps, eps_in_sqrt=self.eps_in_sqrt,
                             centered=self.centered, momentum=self.momentum or None)


RMSProp = RMSprop


class Adagrad(OptaxOptimizer):
    """Adagrad (`optax.adagrad`)."""

    __module__ = "brainstate.optim"

    def __init__(self, lr: LearningRate = 0.01, weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10, **options: Any):
        self.initial_accumulator_value = _check_number(type(self).__name__, "initial_accumulator_value",
                                                       initial_accumulator_value)
        self.eps = _check_number(type(self).__name__, "eps", eps)
        super().__init__(lr=lr, weight_decay=weight_decay, **options)

    def _transform(self, learning_rate, mask):
        return optax.adagrad(learning_rate, self.initial_accumulator_value, self.eps)


class Adadelta(OptaxOptimizer):
    """Adadelta (`optax.adadelta`, which applies `weight_decay` itself)."""

    __module__ = "brainstate.optim"
    _own_weight_decay = True

    def __init__(self, lr: LearningRate = 1.0, rho: float = 0.9, eps: float = 1e-6, weight_decay: float = 0.0,
                 **options: Any):
        self.rho = _check_number(type(self).__name__, "rho", rho)
        self.eps = _check_number(type(self).__name__, "eps", eps)
        super().__init__(lr=lr, weight_decay=weight_decay, **options)

    def _transform(self, learning_rate, mask):
        return optax.adadelta(learning_rate, self.rho, self.eps, self.weight_decay, mask)


class _AdamFamily(OptaxOptimizer):
    """Shared constructor of the Adam variants that take `(lr, betas, eps)` and nothing else."""

    _alias: Any = None

    def __init__(self, lr: LearningRate = 1e-3, betas: Tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, **options: Any):
        self.betas = _betas(type(self).__name__, betas)
        self.eps = _check_number(type(self).__name__, "eps", eps)
        super().__init__(lr=lr, weight_decay=weight_decay, **options)

    def _transform(self, learning_rate, mask):
        return type(self)._alias(learning_rate, *self.betas, eps=self.eps)


class Adamax(_AdamFamily):
    """Adamax, Adam with the infinity norm (`optax.adamax`)."""

    __module__ = "brainstate.optim"
    _alias = staticmethod(optax.adamax)

    def __init__(self, lr: LearningRate = 2e-3, betas: Tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, **options: Any):
        super().__init__(lr, betas, eps, weight_decay, **options)


class Nadam(_AdamFamily):
    """Adam with Nesterov momentum (`optax.nadam`)."""

    __module__ = "brainstate.optim"
    _alias = staticmethod(optax.nadam)

    def __init__(self, lr: LearningRate = 2e-3, betas: Tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, **options: Any):
        super().__init__(lr, betas, eps, weight_decay, **options)


class RAdam(_AdamFamily):
    """Rectified Adam (`optax.radam`)."""

    __module__ = "brainstate.optim"
    _alias = staticmethod(optax.radam)


class Yogi(_AdamFamily):
    """Yogi (`optax.yogi`)."""

    __module__ = "brainstate.optim"
    _alias = staticmethod(optax.yogi)

    def __init__(self, lr: LearningRate = 1e-3, betas: Tuple[float, float] = (0.9, 0.999), eps: float = 1e-3,
                 weight_decay: float = 0.0, **options: Any):
        super().__init__(lr, betas, eps, weight_decay, **options)


class AdaBelief(_AdamFamily):
    """AdaBelief (`optax.adabelief`)."""

    __module__ = "brainstate.optim"
    _alias = staticmethod(optax.adabelief)

    def __init__(self, lr: LearningRate = 1e-3, betas: Tuple[float, float] = (0.9, 0.999), eps: float = 1e-16,
                 weight_decay: float = 0.0, **options: Any):
        super().__init__(lr, betas, eps, weight_decay, **options)


class Lamb(OptaxOptimizer):
    """LAMB, layer-wise adaptive Adam (`optax.lamb`, which applies `weight_decay` itself)."""

    __module__ = "brainstate.optim"
    _own_weight_decay = True

    def __init__(self, lr: LearningRate = 1e-3, betas: Tuple[float, float] = (0.9, 0.999), eps: float = 1e-6,
                 weight_decay: float = 0.0, **options: Any):
        self.betas = _betas(type(self).__name__, betas)
        self.eps = _check_number(type(self).__name__, "eps", eps)
        super().__init__(lr=lr, weight_decay=weight_decay, **options)

    def _transform(self, learning_rate, mask):
        return optax.lamb(learning_rate, *self.betas, eps=self.eps, weight_decay=self.weight_decay, mask=mask)


class Lars(OptaxOptimizer):
    """LARS, layer-wise adaptive SGD (`optax.lars`, which applies `weight_decay` itself)."""

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
    """Lion, sign-of-momentum updates (`optax.lion`, which applies `weight_decay` itself)."""

    __module__ = "brainstate.optim"
    _own_weight_decay = True

    def __init__(self, lr: LearningRate = 1e-4, betas: Tuple[float, float] = (0.9, 0.99), weight_decay: float = 0.0,
                 **options: Any):
        self.betas = _betas(type(self).__name__, betas)
        super().__init__(lr=lr, weight_decay=weight_decay, **options)

    def _transform(self, learning_rate, mask):
        return optax.lion(learning_rate, *self.betas, weight_decay=self.weight_decay, mask=mask)


class Rprop(OptaxOptimizer):
    """Rprop, sign-based steps with adaptive sizes (`optax.rprop`)."""

    __module__ = "brainstate.optim"

    def __init__(self, lr: LearningRate = 0.01, etas: Tuple[float, float] = (0.5, 1.2),
                 step_sizes: Tuple[float, float] = (1e-6, 50.0), **options: Any):
        self.etas = tuple(_check_number(type(self).__name__, "etas", e) for e in etas)
        self.step_sizes = tuple(_check_number(type(self).__name__, "step_sizes", s) for s in step_sizes)
        super().__init__(lr=lr, **options)

    def _transform(self, learning_rate, mask):
        return optax.rprop(learning_rate, *self.etas, *self.step_sizes)
