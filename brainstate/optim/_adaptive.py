"""Optimizers with per-coordinate adaptive step sizes: the Adam family, RMSprop, Adagrad, Adadelta, LAMB.

Each class is one `OptaxOptimizer` running one optax alias: it checks its hyperparameters and
names the alias that does the math, so its steps are exactly optax's. Argument names follow the
reference release (PyTorch style: `lr`, `betas`, `eps`, `weight_decay`).

Weight decay comes in two flavours. Where the optax alias has its own (`AdamW`, `Lamb`,
`Adadelta`), `weight_decay` and the filter `weight_decay_mask` go to it. Everywhere else
`weight_decay` is the coupled L2 term of PyTorch: `weight_decay * w` is added to the gradient
before the optimizer sees it. Every class also takes the keyword-only options of
`OptaxOptimizer` (`weight_decay_mask`, `grad_clip_norm`, `grad_clip_value`).
"""

from typing import Any, Optional, Tuple

import optax

from ._base import LearningRate, OptaxOptimizer, _check_betas, _check_number

__all__ = ["Adam", "AdamW", "RMSprop", "RMSProp", "Adagrad", "Adadelta", "Adamax", "Nadam", "RAdam", "Yogi",
           "AdaBelief", "Lamb"]


class Adam(OptaxOptimizer):
    """Adam (`optax.adam`), or AMSGrad (`optax.amsgrad`) with `amsgrad=True`.

    Args:
      lr: the learning rate: a number, or a schedule of the update count (a `brainstate.optim`
        schedule or an optax schedule).
      betas: the decay rates `(beta1, beta2)` of the first and second moment averages, each in
        [0, 1).
      eps: added to the denominator for numerical stability.
      weight_decay: if positive, `weight_decay * w` is added to each gradient (coupled L2, as in
        PyTorch). For decoupled weight decay
        use `AdamW`.
      amsgrad: use the maximum of past second moments (AMSGrad).
      beta1, beta2: if given, override the entries of `betas`.
      **options: `weight_decay_mask`, `grad_clip_norm` and `grad_clip_value`, as in `OptaxOptimizer`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> w = brainstate.ParamState(jnp.ones(3))
      >>> opt = brainstate.optim.Adam(lr=0.1)
      >>> opt.register_trainable_weights({'w': w})
      >>> opt.update({'w': jnp.ones(3)})
      >>> bool((w.value < 1).all())
      True
    """

    __module__ = "brainstate.optim"

    def __init__(self, lr: LearningRate = 1e-3, betas: Tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, *, beta1: Optional[float] = None,
                 beta2: Optional[float] = None, **options: Any):
        self.betas = _check_betas(type(self).__name__, betas, beta1, beta2)
        self.eps = _check_number(type(self).__name__, "eps", eps)
        self.amsgrad = bool(amsgrad)
        super().__init__(lr=lr, weight_decay=weight_decay, **options)

    def _transform(self, learning_rate, mask):
        alias = optax.amsgrad if self.amsgrad else optax.adam
        return alias(learning_rate, *self.betas, eps=self.eps)


class AdamW(OptaxOptimizer):
    """Adam with decoupled weight decay (`optax.adamw`).

    Args:
      lr: the learning rate: a number, or a schedule of the update count (a `brainstate.optim`
        schedule or an optax schedule).
      betas: the decay rates `(beta1, beta2)` of the moment averages, each in [0, 1).
      eps: added to the denominator for numerical stability.
      weight_decay: the decoupled decay rate, applied by optax to the weights `weight_decay_mask`
        selects (all by default).
      **options: `weight_decay_mask`, `grad_clip_norm` and `grad_clip_value`, as in `OptaxOptimizer`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> w = brainstate.ParamState(jnp.ones(3))
      >>> opt = brainstate.optim.AdamW(lr=0.1, weight_decay=0.01)
      >>> opt.register_trainable_weights({'w': w})
      >>> opt.update({'w': jnp.ones(3)})
      >>> bool((w.value < 1).all())
      True
    """

    __module__ = "brainstate.optim"
    _own_weight_decay = True

    def __init__(self, lr: LearningRate = 1e-3, betas: Tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.01, **options: Any):
        self.betas = _check_betas(type(self).__name__, betas)
        self.eps = _check_number(type(self).__name__, "eps", eps)
        super().__init__(lr=lr, weight_decay=weight_decay, **options)

    def _transform(self, learning_rate, mask):
        return optax.adamw(learning_rate, *self.betas, eps=self.eps, weight_decay=self.weight_decay, mask=mask)


class RMSprop(OptaxOptimizer):
    """RMSProp (`optax.rmsprop`); also named `RMSProp`.

    Args:
      lr: the learning rate: a number, or a schedule of the update count (a `brainstate.optim`
        schedule or an optax schedule).
      alpha: the decay of the squared-gradient average.
      eps: added to the denominator for numerical stability.
      weight_decay: if positive, `weight_decay * w` is added to each gradient (coupled L2, as in
        PyTorch).
      momentum: the momentum coefficient; 0 for none.
      centered: divide by the variance (the centred second moment) instead of the raw one.
      eps_in_sqrt: put `eps` inside the square root (optax) or, with False, outside (PyTorch).
      **options: `weight_decay_mask`, `grad_clip_norm` and `grad_clip_value`, as in `OptaxOptimizer`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> w = brainstate.ParamState(jnp.ones(3))
      >>> opt = brainstate.optim.RMSprop(lr=0.01)
      >>> opt.register_trainable_weights({'w': w})
      >>> opt.update({'w': jnp.ones(3)})
      >>> bool((w.value < 1).all())
      True
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
    """Adagrad (`optax.adagrad`): the step shrinks with the accumulated squared gradients.

    Args:
      lr: the learning rate: a number, or a schedule of the update count (a `brainstate.optim`
        schedule or an optax schedule).
      weight_decay: if positive, `weight_decay * w` is added to each gradient (coupled L2, as in
        PyTorch).
      initial_accumulator_value: the starting value of the accumulator.
      eps: added to the denominator for numerical stability.
      **options: `weight_decay_mask`, `grad_clip_norm` and `grad_clip_value`, as in `OptaxOptimizer`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> w = brainstate.ParamState(jnp.ones(3))
      >>> opt = brainstate.optim.Adagrad(lr=0.1)
      >>> opt.register_trainable_weights({'w': w})
      >>> opt.update({'w': jnp.ones(3)})
      >>> bool((w.value < 1).all())
      True
    """

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
    """Adadelta (`optax.adadelta`, which applies `weight_decay` itself).

    Args:
      lr: the learning rate: a number, or a schedule of the update count (a `brainstate.optim`
        schedule or an optax schedule).
      rho: the decay of the running averages.
      eps: added for numerical stability.
      weight_decay: the decay rate, applied by optax to the weights `weight_decay_mask` selects.
      **options: `weight_decay_mask`, `grad_clip_norm` and `grad_clip_value`, as in `OptaxOptimizer`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> w = brainstate.ParamState(jnp.ones(3))
      >>> opt = brainstate.optim.Adadelta(lr=1.0)
      >>> opt.register_trainable_weights({'w': w})
      >>> opt.update({'w': jnp.ones(3)})
      >>> bool((w.value < 1).all())
      True
    """

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
        self.betas = _check_betas(type(self).__name__, betas)
        self.eps = _check_number(type(self).__name__, "eps", eps)
        super().__init__(lr=lr, weight_decay=weight_decay, **options)

    def _transform(self, learning_rate, mask):
        return type(self)._alias(learning_rate, *self.betas, eps=self.eps)


class Adamax(_AdamFamily):
    """Adamax, Adam with the infinity norm (`optax.adamax`).

    Args:
      lr: the learning rate: a number, or a schedule of the update count (a `brainstate.optim`
        schedule or an optax schedule).
      betas: the decay rates `(beta1, beta2)` of the moment averages, each in [0, 1).
      eps: added to the denominator for numerical stability.
      weight_decay: if positive, `weight_decay * w` is added to each gradient (coupled L2, as in
        PyTorch).
      **options: `weight_decay_mask`, `grad_clip_norm` and `grad_clip_value`, as in `OptaxOptimizer`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> w = brainstate.ParamState(jnp.ones(3))
      >>> opt = brainstate.optim.Adamax(lr=0.1)
      >>> opt.register_trainable_weights({'w': w})
      >>> opt.update({'w': jnp.ones(3)})
      >>> bool((w.value < 1).all())
      True
    """

    __module__ = "brainstate.optim"
    _alias = staticmethod(optax.adamax)

    def __init__(self, lr: LearningRate = 2e-3, betas: Tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, **options: Any):
        super().__init__(lr, betas, eps, weight_decay, **options)


class Nadam(_AdamFamily):
    """Adam with Nesterov momentum (`optax.nadam`).

    Args:
      lr: the learning rate: a number, or a schedule of the update count (a `brainstate.optim`
        schedule or an optax schedule).
      betas: the decay rates `(beta1, beta2)` of the moment averages, each in [0, 1).
      eps: added to the denominator for numerical stability.
      weight_decay: if positive, `weight_decay * w` is added to each gradient (coupled L2, as in
        PyTorch).
      **options: `weight_decay_mask`, `grad_clip_norm` and `grad_clip_value`, as in `OptaxOptimizer`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> w = brainstate.ParamState(jnp.ones(3))
      >>> opt = brainstate.optim.Nadam(lr=0.1)
      >>> opt.register_trainable_weights({'w': w})
      >>> opt.update({'w': jnp.ones(3)})
      >>> bool((w.value < 1).all())
      True
    """

    __module__ = "brainstate.optim"
    _alias = staticmethod(optax.nadam)

    def __init__(self, lr: LearningRate = 2e-3, betas: Tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, **options: Any):
        super().__init__(lr, betas, eps, weight_decay, **options)


class RAdam(_AdamFamily):
    """Rectified Adam (`optax.radam`).

    Args:
      lr: the learning rate: a number, or a schedule of the update count (a `brainstate.optim`
        schedule or an optax schedule).
      betas: the decay rates `(beta1, beta2)` of the moment averages, each in [0, 1).
      eps: added to the denominator for numerical stability.
      weight_decay: if positive, `weight_decay * w` is added to each gradient (coupled L2, as in
        PyTorch).
      **options: `weight_decay_mask`, `grad_clip_norm` and `grad_clip_value`, as in `OptaxOptimizer`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> w = brainstate.ParamState(jnp.ones(3))
      >>> opt = brainstate.optim.RAdam(lr=0.1)
      >>> opt.register_trainable_weights({'w': w})
      >>> opt.update({'w': jnp.ones(3)})
      >>> bool((w.value < 1).all())
      True
    """

    __module__ = "brainstate.optim"
    _alias = staticmethod(optax.radam)


class Yogi(_AdamFamily):
    """Yogi (`optax.yogi`): Adam with additive second-moment updates.

    Args:
      lr: the learning rate: a number, or a schedule of the update count (a `brainstate.optim`
        schedule or an optax schedule).
      betas: the decay rates `(beta1, beta2)` of the moment averages, each in [0, 1).
      eps: added to the denominator for numerical stability.
      weight_decay: if positive, `weight_decay * w` is added to each gradient (coupled L2, as in
        PyTorch).
      **options: `weight_decay_mask`, `grad_clip_norm` and `grad_clip_value`, as in `OptaxOptimizer`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> w = brainstate.ParamState(jnp.ones(3))
      >>> opt = brainstate.optim.Yogi(lr=0.1)
      >>> opt.register_trainable_weights({'w': w})
      >>> opt.update({'w': jnp.ones(3)})
      >>> bool((w.value < 1).all())
      True
    """

    __module__ = "brainstate.optim"
    _alias = staticmethod(optax.yogi)

    def __init__(self, lr: LearningRate = 1e-3, betas: Tuple[float, float] = (0.9, 0.999), eps: float = 1e-3,
                 weight_decay: float = 0.0, **options: Any):
        super().__init__(lr, betas, eps, weight_decay, **options)


class AdaBelief(_AdamFamily):
    """AdaBelief (`optax.adabelief`): Adam scaled by the belief in the gradient.

    Args:
      lr: the learning rate: a number, or a schedule of the update count (a `brainstate.optim`
        schedule or an optax schedule).
      betas: the decay rates `(beta1, beta2)` of the moment averages, each in [0, 1).
      eps: added to the denominator for numerical stability.
      weight_decay: if positive, `weight_decay * w` is added to each gradient (coupled L2, as in
        PyTorch).
      **options: `weight_decay_mask`, `grad_clip_norm` and `grad_clip_value`, as in `OptaxOptimizer`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> w = brainstate.ParamState(jnp.ones(3))
      >>> opt = brainstate.optim.AdaBelief(lr=0.1)
      >>> opt.register_trainable_weights({'w': w})
      >>> opt.update({'w': jnp.ones(3)})
      >>> bool((w.value < 1).all())
      True
    """

    __module__ = "brainstate.optim"
    _alias = staticmethod(optax.adabelief)

    def __init__(self, lr: LearningRate = 1e-3, betas: Tuple[float, float] = (0.9, 0.999), eps: float = 1e-16,
                 weight_decay: float = 0.0, **options: Any):
        super().__init__(lr, betas, eps, weight_decay, **options)


class Lamb(OptaxOptimizer):
    """LAMB, layer-wise adaptive Adam (`optax.lamb`, which applies `weight_decay` itself).

    Args:
      lr: the learning rate: a number, or a schedule of the update count (a `brainstate.optim`
        schedule or an optax schedule).
      betas: the decay rates `(beta1, beta2)` of the moment averages, each in [0, 1).
      eps: added to the denominator for numerical stability.
      weight_decay: the decay rate, applied by optax to the weights `weight_decay_mask` selects.
      **options: `weight_decay_mask`, `grad_clip_norm` and `grad_clip_value`, as in `OptaxOptimizer`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> w = brainstate.ParamState(jnp.ones(3))
      >>> opt = brainstate.optim.Lamb(lr=0.1)
      >>> opt.register_trainable_weights({'w': w})
      >>> opt.update({'w': jnp.ones(3)})
      >>> bool((w.value < 1).all())
      True
    """

    __module__ = "brainstate.optim"
    _own_weight_decay = True

    def __init__(self, lr: LearningRate = 1e-3, betas: Tuple[float, float] = (0.9, 0.999), eps: float = 1e-6,
                 weight_decay: float = 0.0, **options: Any):
        self.betas = _check_betas(type(self).__name__, betas)
        self.eps = _check_number(type(self).__name__, "eps", eps)
        super().__init__(lr=lr, weight_decay=weight_decay, **options)

    def _transform(self, learning_rate, mask):
        return optax.lamb(learning_rate, *self.betas, eps=self.eps, weight_decay=self.weight_decay, mask=mask)
