"""The few array operations in which numpy and torch differ, for the searches.

The searches of :mod:`sk_attention._search` run on torch tensors (the
estimators, on the model's device) and on numpy arrays (the ONNX runtime).
Indexing, arithmetic, comparisons, ``reshape``, ``argmax``, ``clip``,
``any`` and ``all`` are spelled alike in both; the rest goes through an
:class:`ArrayOps`, picked by :func:`array_ops` from the type of an input, as
scikit-learn picks an array namespace from its inputs. This module imports
no torch: a numpy caller never loads it.
"""

from typing import Protocol

import numpy as np
from scipy.special import log_softmax

__all__ = ["ArrayOps", "NumpyOps", "array_ops"]


class ArrayOps(Protocol):
    """What the searches need beyond the shared array syntax.

    Reductions and selections act on the last axis; ``take`` on the first.

    Attributes
    ----------
    int64, float32, bool : dtype
        The library's dtypes of token ids, scores and flags.
    """

    int64: object
    float32: object
    bool: object

    def full(self, shape, value, dtype):
        """A new array of ``shape`` filled with ``value``, on the device."""

    def arange(self, n):
        """``0, 1, ..., n - 1`` as an int64 array, on the device."""

    def flatnonzero(self, mask):
        """Indices of the True entries of a 1-D ``mask``."""

    def take(self, array, index):
        """The rows ``index`` (first axis) of ``array``."""

    def repeat(self, array, repeats):
        """Each entry of a 1-D ``array`` ``repeats`` times in a row."""

    def where(self, condition, x, y):
        """``x`` where ``condition``, else ``y``; either may be a number."""

    def max(self, array):
        """The maximum along the last axis."""

    def topk(self, array, k):
        """The ``k`` largest entries along the last axis and their indices,
        largest first."""

    def take_along_last(self, array, index):
        """``array[..., index]`` row by row, ``index`` shaped as ``array``
        but for its last axis."""

    def log_softmax(self, array):
        """Log-softmax along the last axis."""


class NumpyOps:
    """:class:`ArrayOps` of numpy arrays (the ONNX runtime's)."""

    int64, float32, bool = np.int64, np.float32, np.bool_

    def full(self, shape, value, dtype):
        return np.full(shape, value, dtype=dtype)

    def arange(self, n):
        return np.arange(n, dtype=np.int64)

    def flatnonzero(self, mask):
        return np.flatnonzero(mask)

    def take(self, array, index):
        return array[index]

    def repeat(self, array, repeats):
        return np.repeat(array, repeats)

    def where(self, condition, x, y):
        return np.where(condition, x, y)

    def max(self, array):
        return array.max(axis=-1)

    def topk(self, array, k):
        # Stable: of equal entries, the first wins, whatever the platform.
        index = np.argsort(-array, axis=-1, kind="stable")[..., :k]
        return np.take_along_axis(array, index, axis=-1), index

    def take_along_last(self, array, index):
        return np.take_along_axis(array, index, axis=-1)

    def log_softmax(self, array):
        return log_softmax(array, axis=-1)


_NUMPY = NumpyOps()


def array_ops(array):
    """The :class:`ArrayOps` of ``array``'s library (and device).

    Parameters
    ----------
    array : numpy.ndarray or torch.Tensor

    Returns
    -------
    ArrayOps

    Examples
    --------
    >>> ops = array_ops(np.zeros(3))
    >>> ops.topk(np.array([[0.5, 2.0, 1.0]]), 2)
    (array([[2., 1.]]), array([[1, 2]]))
    """
    if isinstance(array, np.ndarray):
        return _NUMPY
    from ._torch_ops import TorchOps  # only a torch caller gets here

    return TorchOps(array.device)
