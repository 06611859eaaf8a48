"""Neural-network building blocks: `Module` and the layers and helpers built on it.

A model is a tree (or graph) of Modules whose leaves are States; see `brainstate.graph` for
how it is split into structure and data.
"""

from ._collective import call_all_fns, call_order, init_all_states, reset_all_states
from ._linear import Linear
from ._module import Module
from ._sequential import Sequential

__all__ = ["Module", "Sequential", "Linear", "call_order", "call_all_fns", "init_all_states",
           "reset_all_states"]

from ._activations import (
    celu as celu, elu as elu, gelu as gelu, glu as glu, hard_shrink as hard_shrink,
    hard_sigmoid as hard_sigmoid, hard_silu as hard_silu, hard_swish as hard_swish,
    hard_tanh as hard_tanh, leaky_relu as leaky_relu, log_sigmoid as log_sigmoid,
    log_softmax as log_softmax, logsumexp as logsumexp, mish as mish, one_hot as one_hot,
    prelu as prelu, relu as relu, relu6 as relu6, rrelu as rrelu, selu as selu, sigmoid as sigmoid,
    silu as silu, soft_shrink as soft_shrink, soft_sign as soft_sign, softmax as softmax,
    softmin as softmin, softplus as softplus, sparse_plus as sparse_plus,
    sparse_sigmoid as sparse_sigmoid, squareplus as squareplus, standardize as standardize,
    swish as swish, tanh as tanh, tanh_shrink as tanh_shrink,
)
from ._elementwise import (
    CELU as CELU, ELU as ELU, GELU as GELU, GLU as GLU, ElementWiseBlock as ElementWiseBlock,
    Hardshrink as Hardshrink, Hardsigmoid as Hardsigmoid, Hardswish as Hardswish, Hardtanh as Hardtanh,
    Identity as Identity, LeakyReLU as LeakyReLU, LogSigmoid as LogSigmoid, LogSoftmax as LogSoftmax,
    Mish as Mish, PReLU as PReLU, ReLU as ReLU, ReLU6 as ReLU6, RReLU as RReLU, SELU as SELU,
    SiLU as SiLU, Sigmoid as Sigmoid, Softmax as Softmax, Softmax2d as Softmax2d, Softmin as Softmin,
    Softplus as Softplus, Softshrink as Softshrink, Softsign as Softsign, Tanh as Tanh,
    Tanhshrink as Tanhshrink, Threshold as Threshold,
)
from ._rnn_cells import (
    GRUCell as GRUCell, LSTMCell as LSTMCell, MGUCell as MGUCell, RNNCell as RNNCell,
    URLSTMCell as URLSTMCell, ValinaRNNCell as ValinaRNNCell,
)
from ._metrics import (
    AccuracyMetric as AccuracyMetric, AverageMetric as AverageMetric, ConfusionMatrix as ConfusionMatrix,
    F1ScoreMetric as F1ScoreMetric, Metric as Metric, MetricState as MetricState,
    MultiMetric as MultiMetric, PrecisionMetric as PrecisionMetric, RecallMetric as RecallMetric,
    WelfordMetric as WelfordMetric,
)
from ._param_tools import clip_grad_norm as clip_grad_norm, count_parameters as count_parameters

__all__ += [
    "celu", "elu", "gelu", "glu", "hard_shrink", "hard_sigmoid", "hard_silu", "hard_swish", "hard_tanh",
    "leaky_relu", "log_sigmoid", "log_softmax", "logsumexp", "mish", "one_hot", "prelu", "relu", "relu6",
    "rrelu", "selu", "sigmoid", "silu", "soft_shrink", "soft_sign", "softmax", "softmin", "softplus",
    "sparse_plus", "sparse_sigmoid", "squareplus", "standardize", "swish", "tanh", "tanh_shrink",
    "ElementWiseBlock", "CELU", "ELU", "GELU", "GLU", "Hardshrink", "Hardsigmoid", "Hardswish", "Hardtanh",
    "Identity", "LeakyReLU", "LogSigmoid", "LogSoftmax", "Mish", "PReLU", "RReLU", "ReLU", "ReLU6", "SELU",
    "SiLU", "Sigmoid", "Softmax", "Softmax2d", "Softmin", "Softplus", "Softshrink", "Softsign", "Tanh",
    "Tanhshrink", "Threshold",
    "RNNCell", "ValinaRNNCell", "GRUCell", "MGUCell", "LSTMCell", "URLSTMCell",
    "Metric", "MetricState", "AverageMetric", "AccuracyMetric", "MultiMetric", "WelfordMetric",
    "PrecisionMetric", "RecallMetric", "F1ScoreMetric", "ConfusionMatrix",
    "count_parameters", "clip_grad_norm",
]

from . import init as init
