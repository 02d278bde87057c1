"""sk_attention: the attention mechanism as scikit-learn estimators."""

from ._pooling import (
    AttentionPooling,
    AttentionPoolingClassifier,
    AttentionPoolingRegressor,
)
from ._seq2seq import AttentionSeq2Seq
from .plotting import plot_attention

__version__ = "0.1.0"

__all__ = [
    "AttentionPooling",
    "AttentionPoolingClassifier",
    "AttentionPoolingRegressor",
    "AttentionSeq2Seq",
    "plot_attention",
    "__version__",
]
