"""Attention pooling: sequences, bags or sets of vectors to one vector each."""

from ._estimator import (
    AttentionPooling,
    AttentionPoolingClassifier,
    AttentionPoolingRegressor,
)

__all__ = [
    "AttentionPooling",
    "AttentionPoolingClassifier",
    "AttentionPoolingRegressor",
]
