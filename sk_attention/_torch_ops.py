"""The :class:`~sk_attention._array_ops.ArrayOps` of torch tensors.

Picked by :func:`sk_attention._array_ops.array_ops` for the estimators'
searches; every method is one torch call on the model's device.
"""

import torch

__all__ = ["TorchOps"]


class TorchOps:
    """:class:`~sk_attention._array_ops.ArrayOps` of tensors on ``device``.

    Parameters
    ----------
    device : torch.device
    """

    int64, float32, bool = torch.int64, torch.float32, torch.bool

    def __init__(self, device):
        self.device = device

    def full(self, shape, value, dtype):
        return torch.full(shape, value, dtype=dtype, device=self.device)

    def arange(self, n):
        return torch.arange(n, device=self.device)

    def flatnonzero(self, mask):
        return mask.nonzero().squeeze(1)

    def take(self, array, index):
        return array.index_select(0, index)

    def repeat(self, array, repeats):
        return array.repeat_interleave(repeats)

    def where(self, condition, x, y):
        return torch.where(condition, x, y)

    def max(self, array):
        return array.amax(-1)

    def topk(self, array, k):
        return array.topk(k, dim=-1)

    def take_along_last(self, array, index):
        return array.gather(-1, index)

    def log_softmax(self, array):
        return torch.log_softmax(array, dim=-1)
