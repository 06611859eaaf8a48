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
    Identity as Identity, LeakyReLU as LeakyReLU, LogSigmoid as LogSigmoid,
    Mish as Mish, PReLU as PReLU, ReLU as ReLU, ReLU6 as ReLU6, RReLU as RReLU, SELU as SELU,
    SiLU as SiLU, Sigmoid as Sigmoid,
    Softplus as Softplus, Softshrink as Softshrink, Softsign as Softsign, Tanh as Tanh,
    Tanhshrink as Tanhshrink, Threshold as Threshold,
)
from ._axis_layers import LogSoftmax as LogSoftmax, Softmax as Softmax, Softmax2d as Softmax2d, Softmin as Softmin
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
from ._linear_variants import (
    AllToAll as AllToAll, LoRA as LoRA, OneToOne as OneToOne, ScaledWSLinear as ScaledWSLinear,
    SignedWLinear as SignedWLinear, SparseLinear as SparseLinear,
    weight_standardization as weight_standardization,
)
from ._conv import (
    Conv1d as Conv1d, Conv2d as Conv2d, Conv3d as Conv3d, ConvTranspose1d as ConvTranspose1d,
    ConvTranspose2d as ConvTranspose2d, ConvTranspose3d as ConvTranspose3d, ScaledWSConv1d as ScaledWSConv1d,
    ScaledWSConv2d as ScaledWSConv2d, ScaledWSConv3d as ScaledWSConv3d,
)
from ._embedding import Embedding as Embedding

__all__ += [
    "init", "ScaledWSLinear", "SignedWLinear", "SparseLinear", "AllToAll", "OneToOne", "LoRA",
    "weight_standardization", "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d",
    "ConvTranspose3d", "ScaledWSConv1d", "ScaledWSConv2d", "ScaledWSConv3d", "Embedding",
]

from ._normalization import (
    BatchNorm0d as BatchNorm0d, BatchNorm1d as BatchNorm1d, BatchNorm2d as BatchNorm2d,
    BatchNorm3d as BatchNorm3d, GroupNorm as GroupNorm, LayerNorm as LayerNorm, RMSNorm as RMSNorm,
)
from ._dropout import (
    AlphaDropout as AlphaDropout, Dropout as Dropout, Dropout1d as Dropout1d, Dropout2d as Dropout2d,
    Dropout3d as Dropout3d, DropoutFixed as DropoutFixed, FeatureAlphaDropout as FeatureAlphaDropout,
)
from ._pooling import (
    AdaptiveAvgPool1d as AdaptiveAvgPool1d, AdaptiveAvgPool2d as AdaptiveAvgPool2d,
    AdaptiveAvgPool3d as AdaptiveAvgPool3d, AdaptiveMaxPool1d as AdaptiveMaxPool1d,
    AdaptiveMaxPool2d as AdaptiveMaxPool2d, AdaptiveMaxPool3d as AdaptiveMaxPool3d,
    AvgPool1d as AvgPool1d, AvgPool2d as AvgPool2d, AvgPool3d as AvgPool3d, LPPool1d as LPPool1d,
    LPPool2d as LPPool2d, LPPool3d as LPPool3d, MaxPool1d as MaxPool1d, MaxPool2d as MaxPool2d,
    MaxPool3d as MaxPool3d, MaxUnpool1d as MaxUnpool1d, MaxUnpool2d as MaxUnpool2d,
    MaxUnpool3d as MaxUnpool3d,
)
from ._padding import (
    CircularPad1d as CircularPad1d, CircularPad2d as CircularPad2d, CircularPad3d as CircularPad3d,
    ConstantPad1d as ConstantPad1d, ConstantPad2d as ConstantPad2d, ConstantPad3d as ConstantPad3d,
    ReflectionPad1d as ReflectionPad1d, ReflectionPad2d as ReflectionPad2d,
    ReflectionPad3d as ReflectionPad3d, ReplicationPad1d as ReplicationPad1d,
    ReplicationPad2d as ReplicationPad2d, ReplicationPad3d as ReplicationPad3d,
    ZeroPad1d as ZeroPad1d, ZeroPad2d as ZeroPad2d, ZeroPad3d as ZeroPad3d,
)
from ._flatten import Flatten as Flatten, Unflatten as Unflatten

__all__ += [
    "BatchNorm0d", "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LayerNorm", "RMSNorm", "GroupNorm",
    "Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout", "DropoutFixed",
    "MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d", "LPPool1d", "LPPool2d",
    "LPPool3d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d", "AdaptiveMaxPool3d", "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d",
    "ConstantPad1d", "ConstantPad2d", "ConstantPad3d", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d",
    "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d",
    "ReplicationPad3d", "CircularPad1d", "CircularPad2d", "CircularPad3d", "Flatten", "Unflatten",
]

from ._delay import Delay as Delay, DelayAccess as DelayAccess, StateWithDelay as StateWithDelay
from ._interpolation import InterpolationRegistry as InterpolationRegistry
from ._dynamics import (
    Dynamics as Dynamics, OutputDelayAt as OutputDelayAt, Prefetch as Prefetch, PrefetchDelay as PrefetchDelay,
    PrefetchDelayAt as PrefetchDelayAt, init_maybe_prefetch as init_maybe_prefetch,
    not_receive_update_input as not_receive_update_input, not_receive_update_output as not_receive_update_output,
    receive_update_input as receive_update_input, receive_update_output as receive_update_output,
)
from ._integrators import exp_euler_step as exp_euler_step
from ._surrogate import (SpikeBitwise as SpikeBitwise, arctan_spike as arctan_spike,
                         sigmoid_spike as sigmoid_spike, spike_bitwise as spike_bitwise)
from ._neurons import ALIF as ALIF, LIF as LIF, Izhikevich as Izhikevich
from ._synapses import Alpha as Alpha, Expon as Expon
from ._projections import (EventFixedNumConn as EventFixedNumConn, EventFixedProb as EventFixedProb,
                           FixedNumConn as FixedNumConn, Projection as Projection)
from ._event_linear import EventLinear as EventLinear, EventSparseLinear as EventSparseLinear
from ._wrappers import EnvironContext as EnvironContext, Map as Map, Vmap as Vmap, vmap_call_all_fns as vmap_call_all_fns

__all__ += [
    "Delay", "DelayAccess", "StateWithDelay", "InterpolationRegistry", "Dynamics", "OutputDelayAt", "Prefetch", "PrefetchDelay",
    "PrefetchDelayAt", "init_maybe_prefetch", "not_receive_update_input", "not_receive_update_output",
    "receive_update_input", "receive_update_output", "exp_euler_step", "SpikeBitwise", "arctan_spike",
    "sigmoid_spike", "spike_bitwise", "ALIF", "LIF", "Izhikevich", "Alpha", "Expon", "EventFixedNumConn",
    "EventFixedProb", "EventLinear", "EventSparseLinear", "FixedNumConn", "Projection", "EnvironContext", "Map", "Vmap",
    "vmap_call_all_fns",
]

from ._vmap_states import vmap_init_all_states as vmap_init_all_states, vmap_reset_all_states as vmap_reset_all_states

__all__ += ["vmap_init_all_states", "vmap_reset_all_states"]

from ._collective import assign_state_values as assign_state_values

__all__ += ["assign_state_values"]

from ._param_transforms import (
    AffineT as AffineT, ChainT as ChainT, IdentityT as IdentityT, MaskedT as MaskedT, Transform as Transform,
)
from ._param_transforms_interval import (
    ClipT as ClipT, ScaledSigmoidT as ScaledSigmoidT, SigmoidT as SigmoidT, SoftsignT as SoftsignT, TanhT as TanhT,
)
from ._param_transforms_halfline import (
    ExpT as ExpT, LogT as LogT, NegativeT as NegativeT, NegSoftplusT as NegSoftplusT, PositiveT as PositiveT,
    PowerT as PowerT, ReluT as ReluT, SoftplusT as SoftplusT,
)
from ._param_transforms_vector import OrderedT as OrderedT, SimplexT as SimplexT, UnitVectorT as UnitVectorT
from ._regularization import (
    ChainedReg as ChainedReg, ElasticNetReg as ElasticNetReg, HuberReg as HuberReg, L1Reg as L1Reg, L2Reg as L2Reg,
    Regularization as Regularization,
)
from ._regularization_structural import (
    EntropyReg as EntropyReg, GroupLassoReg as GroupLassoReg, MaxNormReg as MaxNormReg, OrthogonalReg as OrthogonalReg,
    SpectralNormReg as SpectralNormReg, TotalVariationReg as TotalVariationReg,
)
from ._priors import (
    CauchyReg as CauchyReg, GaussianReg as GaussianReg, HorseshoeReg as HorseshoeReg,
    SpikeAndSlabReg as SpikeAndSlabReg, StudentTReg as StudentTReg, UniformReg as UniformReg,
)
from ._priors_positive import (
    BetaReg as BetaReg, DirichletReg as DirichletReg, ExponentialReg as ExponentialReg, GammaReg as GammaReg,
    InverseGammaReg as InverseGammaReg, LogNormalReg as LogNormalReg, LogUniformReg as LogUniformReg,
)
from ._param import Const as Const, Param as Param
from ._hidata import HiData as HiData

__all__ += [
    "Transform", "IdentityT", "AffineT", "ChainT", "MaskedT", "SigmoidT", "ScaledSigmoidT", "TanhT", "SoftsignT",
    "ClipT", "SoftplusT", "NegSoftplusT", "ExpT", "LogT", "PositiveT", "NegativeT", "ReluT", "PowerT", "OrderedT",
    "SimplexT", "UnitVectorT",
    "Regularization", "ChainedReg", "L1Reg", "L2Reg", "ElasticNetReg", "HuberReg", "GroupLassoReg",
    "TotalVariationReg", "MaxNormReg", "EntropyReg", "OrthogonalReg", "SpectralNormReg", "GaussianReg",
    "StudentTReg", "CauchyReg", "HorseshoeReg", "SpikeAndSlabReg", "UniformReg", "LogNormalReg", "ExponentialReg",
    "GammaReg", "InverseGammaReg", "LogUniformReg", "BetaReg", "DirichletReg",
    "Param", "Const", "HiData",
]


# Compatibility: names the reference release still answers with a DeprecationWarning.
_deprecated_aliases = {"ModuleMapper": "Map"}


def __getattr__(name: str):
    if name in _deprecated_aliases:
        import warnings

        new = _deprecated_aliases[name]
        warnings.warn(f"brainstate.nn.{name} is deprecated; use brainstate.nn.{new} instead.",
                      DeprecationWarning, stacklevel=2)
        return globals()[new]
    raise AttributeError(f"module 'brainstate.nn' has no attribute {name!r}")
