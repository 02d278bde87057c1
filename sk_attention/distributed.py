"""Scaling out: estimators trained on several processes or GPUs, and dask.

The ``Accelerated*`` estimators take exactly the parameters of their plain
counterparts and train data-parallel through Hugging Face ``accelerate``
when started by ``torchrun`` or ``accelerate launch``; ``TorchThreads`` sets
torch's thread count in every worker of a dask cluster. Needs the
``distributed`` extra: ``pip install "sk-attention[distributed]"``. See the
"Scaling out" page of the documentation for the recipes.
"""

from ._accelerate import (
    AcceleratedAttentionPooling,
    AcceleratedAttentionPoolingClassifier,
    AcceleratedAttentionPoolingRegressor,
    AcceleratedAttentionSeq2Seq,
)
from ._dask import TorchThreads

__all__ = [
    "AcceleratedAttentionPooling",
    "AcceleratedAttentionPoolingClassifier",
    "AcceleratedAttentionPoolingRegressor",
    "AcceleratedAttentionSeq2Seq",
    "TorchThreads",
]
