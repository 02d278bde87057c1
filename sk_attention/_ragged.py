"""Ragged sequences without torch: validation, flat storage, padding, batches.

Both estimator families take one variable-length sequence per sample, and
the torch-free ONNX runtime takes the same input. This module validates
such input (:func:`check_sequences`, :func:`check_ragged_array`), holds
numeric sequences flat (:class:`RaggedArray`), pads lists into arrays
(:func:`pad_sequences`), groups samples of similar length for inference
(:func:`sorted_batches`) and cuts inference into bounded chunks
(:func:`chunk_slices`, :meth:`RaggedArray.chunks`), so that padding and
memory cost little. It imports numpy and scipy only; the torch side (masks,
training loaders) is :mod:`sk_attention._sequences`.
"""

import numbers
from collections.abc import Mapping, Set

import numpy as np
import scipy.sparse as sp

__all__ = [
    "RaggedArray",
    "check_ragged_array",
    "check_sequences",
    "chunk_slices",
    "pad_sequences",
    "sorted_batches",
]


def pad_sequences(sequences, pad_value=0, dtype=None):
    """Stack sequences of varying length into one padded array.

    Parameters
    ----------
    sequences : list of array-like of shape (n_steps_i, ...)
        Trailing dimensions must agree.
    pad_value : scalar, default=0
    dtype : numpy dtype, default=None
        Defaults to the dtype of the first sequence.

    Returns
    -------
    padded : ndarray of shape (n_sequences, max_steps, ...)
    lengths : ndarray of shape (n_sequences,), dtype int64

    Examples
    --------
    >>> padded, lengths = pad_sequences([[1, 2, 3], [4]])
    >>> padded
    array([[1, 2, 3],
           [4, 0, 0]])
    >>> lengths
    array([3, 1])
    """
    arrays = [np.asarray(sequence) for sequence in sequences]
    lengths = np.array([len(array) for array in arrays], dtype=np.int64)
    max_steps = int(lengths.max()) if len(arrays) else 0
    trailing = arrays[0].shape[1:] if arrays else ()
    dtype = dtype or (arrays[0].dtype if arrays else np.int64)
    padded = np.full((len(arrays), max_steps, *trailing), pad_value, dtype=dtype)
    for row, array in enumerate(arrays):
        padded[row, : len(array)] = array
    return padded, lengths


def sorted_batches(lengths, batch_size):
    """Split sample indices into batches of similar length, longest first.

    Used at prediction time, where order does not matter but padding does.

    Parameters
    ----------
    lengths : array-like of shape (n_samples,)
    batch_size : int

    Returns
    -------
    list of ndarray of int
    """
    order = np.argsort(-np.asarray(lengths), kind="stable")
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def check_ragged_array(X, *, name="X", n_features=None, allow_nan=False):
    """Validate one sequence of feature vectors per sample.

    Accepts a 3-D array ``(n_samples, n_steps, n_features)``, a list of 2-D
    arrays ``(n_steps_i, n_features)`` or a 2-D array read as ``n_samples``
    univariate sequences (``n_features == 1``).

    Parameters
    ----------
    X : array-like
    name : str, default="X"
        Used in error messages.
    n_features : int, default=None
        If given, every sequence must have this many features.
    allow_nan : bool, default=False

    Returns
    -------
    list of ndarray of shape (n_steps_i, n_features), dtype float32
        New arrays; ``X`` is never modified.

    Raises
    ------
    ValueError
        On no samples, an empty sequence, mixed or unexpected feature counts,
        arrays of the wrong rank, non-finite values or values too large for
        float32; the message names the sample.
    TypeError
        On values that are not numbers (strings, dates, missing samples) and
        on unordered collections (sets, dicts).

    Examples
    --------
    >>> seqs = check_ragged_array([np.ones((3, 2)), np.zeros((1, 2))])
    >>> [s.shape for s in seqs]
    [(3, 2), (1, 2)]
    >>> check_ragged_array(np.ones((4, 5)))[0].shape
    (5, 1)
    """
    if (
        isinstance(X, (str, bytes, Set, Mapping, numbers.Number))
        or X is None
    ):
        raise TypeError(
            f"{name} must be a 3-D array, a list of 2-D arrays or a 2-D array, "
            f"got {type(X).__name__}."
        )
    X = _as_array_or_list(X, name)
    if isinstance(X, np.ndarray):
        _check_numeric_dtype(X.dtype, name)
    if isinstance(X, np.ndarray) and X.dtype != object:
        if X.ndim != 3:
            X = X[:, :, None]  # 2-D: univariate sequences
    samples = list(X)
    if len(samples) == 0:
        raise ValueError(f"{name} holds no samples; at least one is required.")
    sequences = []
    for index, sample in enumerate(samples):
        sequences.append(_check_sample(sample, index, name, allow_nan))
    expected = n_features if n_features is not None else sequences[0].shape[1]
    for index, sequence in enumerate(sequences):
        if sequence.shape[1] != expected:
            what = (
                f"{expected} features, as seen in fit"
                if n_features is not None
                else f"{expected} features like {name}[0]"
            )
            raise ValueError(
                f"{name}[{index}] has {sequence.shape[1]} features; expected {what}."
            )
    return sequences


def _check_numeric_dtype(dtype, name):
    """Refuse arrays whose values are not numbers (NumPy would cast some)."""
    if dtype.kind in "USVMm":
        raise TypeError(
            f"{name} must hold numbers, got an array of dtype {dtype} "
            "(strings, bytes or dates); convert it to numbers explicitly."
        )


def _check_sample(sample, index, name, allow_nan):
    where = f"{name}[{index}]"
    if sample is None or isinstance(sample, (str, bytes, Set, Mapping)):
        raise TypeError(
            f"{where} is a {type(sample).__name__}; each sample must be a 2-D "
            "array-like (n_steps, n_features) of numbers."
        )
    if np.iscomplexobj(sample):  # float32 casting would drop the imaginary part
        raise ValueError(f"{where} holds complex numbers; Complex data not supported.")
    if isinstance(sample, np.ndarray):
        _check_numeric_dtype(sample.dtype, where)
    try:
        with np.errstate(over="ignore"):  # overflow is reported below
            array = np.array(sample, dtype=np.float32)  # a copy: X stays untouched
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"{where} must hold numbers, could not convert it: {error}"
        ) from None
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise ValueError(
            f"{where} must be 2-D (n_steps, n_features), got shape {array.shape}."
        )
    if array.shape[0] == 0:
        raise ValueError(f"{where} is an empty sequence (0 steps).")
    if array.shape[1] == 0:
        raise ValueError(f"{where} has 0 features.")
    if not np.isfinite(array).all():
        if np.isfinite(np.asarray(sample, dtype=np.float64)).all():
            raise ValueError(
                f"{where} holds values too large for float32 (beyond "
                f"{np.finfo(np.float32).max:.3g} in magnitude); rescale it."
            )
        if not allow_nan:
            raise ValueError(f"{where} contains NaN or infinity.")
    return array


def _as_array_or_list(X, name):
    """Unwrap DataFrames and array-likes; refuse sparse and misshapen arrays.

    A DataFrame is one univariate sequence per row. A numeric array must be
    2-D or 3-D; the error says how to reshape one sequence.
    """
    if sp.issparse(X):
        raise TypeError(
            f"{name} is a sparse matrix; sparse input is not supported. Pass a "
            "dense 3-D array, a list of 2-D arrays or a dense 2-D array."
        )
    if hasattr(X, "to_numpy") and not isinstance(X, np.ndarray):
        X = X.to_numpy()
    elif not isinstance(X, (list, tuple, np.ndarray)) and hasattr(X, "__array__"):
        X = np.asarray(X)
    if isinstance(X, np.ndarray) and X.dtype != object and X.ndim not in (2, 3):
        raise ValueError(
            f"{name} must be 3-D (n_samples, n_steps, n_features), a list of "
            f"2-D arrays, or 2-D (univariate sequences); got a {X.ndim}-D "
            f"array of shape {X.shape}. Reshape your data: X.reshape(1, -1) "
            "if it is one univariate sequence."
        )
    return X


class RaggedArray:
    """Validated numeric sequences stored flat, with vectorised batch gathering.

    Parameters
    ----------
    flat : ndarray of shape (total_steps, n_features), float32
        All steps of all sequences, one after another.
    lengths : ndarray of shape (n_samples,), int64

    Examples
    --------
    >>> ragged = RaggedArray(np.arange(6, dtype=np.float32)[:, None],
    ...                      np.array([4, 2]))
    >>> batch, lengths = ragged.gather(np.array([1, 0]))
    >>> batch[..., 0]
    array([[4., 5., 0., 0.],
           [0., 1., 2., 3.]], dtype=float32)
    """

    def __init__(self, flat, lengths):
        self.flat = flat
        self.lengths = lengths
        self.offsets = np.cumsum(lengths) - lengths
        self.max_length = int(lengths.max())
        # Equal lengths: batches are slices of a 3-D view, no gathering.
        self.dense = None
        if (lengths == self.max_length).all():
            self.dense = flat.reshape(len(lengths), self.max_length, -1)

    def __len__(self):
        return len(self.lengths)

    @property
    def n_features(self):
        return self.flat.shape[1]

    def gather(self, indices):
        """Pad the sequences at ``indices`` into one ``(b, max_len, F)`` array."""
        lengths = self.lengths[indices]
        if self.dense is not None:
            return self.dense[indices], lengths
        steps = np.arange(lengths.max())
        real = steps[None, :] < lengths[:, None]  # (b, max_len)
        rows = np.where(real, self.offsets[indices][:, None] + steps, 0)
        batch = self.flat[rows]  # (b, max_len, n_features)
        batch[~real] = 0.0
        return batch, lengths

    def chunks(self, width, elements):
        """Inference batches: ``(index, X, lengths)`` of bounded size.

        A batch holds about ``elements`` values per ``width`` of a step.
        ``index`` is a slice (equal lengths, in order) or an integer array
        (ragged input, grouped by length so that little is padded).
        """
        if self.dense is not None:
            rows = max(1, elements // (self.max_length * width))
            for index in chunk_slices(len(self), rows):
                yield index, self.dense[index], self.lengths[index]
            return
        order = np.argsort(-self.lengths, kind="stable")
        start = 0
        while start < len(order):
            longest = self.lengths[order[start]]
            rows = max(1, elements // (longest * width))
            index = order[start : start + rows]
            yield (index, *self.gather(index))
            start += rows


def check_sequences(X, *, name="X", n_features=None):
    """Validate numeric sequences into a float32 :class:`RaggedArray`.

    Dense numeric arrays take a vectorised path; anything else, and any
    array that fails a check there, goes through :func:`check_ragged_array`,
    which names the offending sample. ``X`` is never written.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_steps, n_features) or \
(n_samples, n_steps), or list of array-like of shape (n_steps_i, n_features)
    name : str, default="X"
    n_features : int, default=None
        If given, every sequence must have this many features.

    Returns
    -------
    RaggedArray

    Examples
    --------
    >>> check_sequences(np.zeros((5, 4))).lengths
    array([4, 4, 4, 4, 4])
    >>> check_sequences([np.ones((3, 2)), np.ones((1, 2))]).lengths
    array([3, 1])
    """
    X = _as_array_or_list(X, name) if not isinstance(X, (str, bytes)) else X
    if isinstance(X, np.ndarray) and X.dtype.kind in "biuf":
        dense = X if X.ndim == 3 else X[:, :, None]
        n_samples, n_steps, n_found = dense.shape
        if n_samples and n_steps and n_found and n_features in (None, n_found):
            with np.errstate(over="ignore"):  # float32 overflow is caught below
                values = np.ascontiguousarray(dense, dtype=np.float32)
            if np.isfinite(values).all():
                if not values.flags.writeable:
                    values = values.copy()  # torch refuses read-only buffers
                lengths = np.full(n_samples, n_steps, dtype=np.int64)
                return RaggedArray(values.reshape(-1, n_found), lengths)
    sequences = check_ragged_array(X, name=name, n_features=n_features)
    lengths = np.array([len(s) for s in sequences], dtype=np.int64)
    return RaggedArray(np.concatenate(sequences), lengths)


def chunk_slices(n_items, size):
    """Consecutive slices of at most ``size`` items covering ``range(n_items)``.

    Inference streams through its input chunk by chunk, so that its memory
    stays near that of one chunk however long the input is.

    Examples
    --------
    >>> list(chunk_slices(5, 2))
    [slice(0, 2, None), slice(2, 4, None), slice(4, 5, None)]
    """
    return [
        slice(start, min(start + size, n_items)) for start in range(0, n_items, size)
    ]
