"""Sequence-to-sequence with attention."""

from ._estimator import AttentionSeq2Seq

__all__ = ["AttentionSeq2Seq"]
