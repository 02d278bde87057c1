"""Ragged sequences on the torch side: masks, reversal, rows, bucketed loaders.

Validation, flat storage and padding into numpy arrays live in the
torch-free :mod:`sk_attention._ragged`; this module holds what needs
tensors or torch's data loading: boolean masks (``True`` on real steps),
reversal within lengths for backward recurrences, a padded batch's real
steps laid end to end for convolutions (:class:`StepsInOneRow`), and
training batches of similar length (:func:`bucket_loader`).
"""

import numpy as np
import torch
from torch.utils.data import DataLoader, Sampler, Subset

from ._ragged import sorted_batches

__all__ = [
    "BucketBatchSampler",
    "StepsInOneRow",
    "bucket_loader",
    "length_mask",
    "reverse_within_lengths",
    "sequence_lengths",
    "subset_indices",
]


def length_mask(lengths, max_steps=None):
    """Boolean mask, ``True`` on the real steps of each sequence.

    Parameters
    ----------
    lengths : torch.Tensor of shape (batch,)
    max_steps : int, default=None
        Defaults to ``lengths.max()``.

    Returns
    -------
    torch.BoolTensor of shape (batch, max_steps)

    Examples
    --------
    >>> length_mask(torch.tensor([2, 1]))
    tensor([[ True,  True],
            [ True, False]])
    """
    if max_steps is None:
        max_steps = int(lengths.max())
    steps = torch.arange(max_steps, device=lengths.device)
    return steps[None, :] < lengths[:, None]


def reverse_within_lengths(states, lengths):
    """Each padded sequence's real steps in reverse order; padding stays.

    Step ``t < length`` becomes step ``length - 1 - t``. Applied twice it
    gives ``states`` back. A backward recurrent direction runs over the
    result, so that it reads each sequence from its end and its padding
    last, as over packed sequences. Rows are copied with one
    ``index_select`` on the flattened ``(batch * n_steps)`` rows, which is
    much cheaper than an element-wise gather, forward and backward.

    Parameters
    ----------
    states : torch.Tensor of shape (batch, n_steps, width)
    lengths : torch.Tensor of shape (batch,)

    Returns
    -------
    torch.Tensor of shape (batch, n_steps, width)

    Examples
    --------
    >>> states = torch.arange(6.0).view(2, 3, 1)
    >>> reverse_within_lengths(states, torch.tensor([3, 2]))[..., 0]
    tensor([[2., 1., 0.],
            [4., 3., 5.]])
    """
    batch, n_steps = states.shape[:2]
    positions = torch.arange(n_steps, device=states.device)
    flipped = lengths.to(states.device)[:, None] - 1 - positions
    source = torch.where(flipped >= 0, flipped, positions)  # (batch, n_steps)
    rows = (source + n_steps * torch.arange(batch, device=states.device)[:, None])
    return states.flatten(0, 1).index_select(0, rows.flatten()).view_as(states)


class StepsInOneRow:
    """A padded batch's real steps laid end to end in one row, ``gap`` apart.

    Each sequence follows the previous one after ``gap`` zero steps, and
    the row ends in at least ``gap`` zero steps. A convolution that pads
    "same" by at most ``gap`` steps on either side computes, at every real
    step of the row, what it computes over the padded batch with zeroed
    padding: a window reaches no other sequence's steps. The row holds no
    padding to compute, which on sequences of very different lengths is
    most of a batch.

    Between layers the real steps are kept alone, one row per step,
    ``(count, width)``: :meth:`real_steps` takes them from the padded batch,
    :meth:`to_row` lays them out for a convolution, :meth:`from_row` takes
    them back from its output and :meth:`to_padded` returns them to the
    padded layout. What is computed on them alone (batch statistics) sees
    real steps only.

    The row's length is rounded up to one of 16 lengths per doubling (at
    most 1/16 more steps): a convolution's kernels are prepared for each
    input shape they meet (oneDNN's primitives on the CPU), and rows of any
    length would meet a new shape almost every batch.

    Parameters
    ----------
    mask : torch.BoolTensor of shape (batch, n_steps)
        ``True`` on real steps, which come first in each sequence.
    gap : int
        Zero steps after each sequence.

    Attributes
    ----------
    n_steps : int
        Steps of the row: the real steps, the gaps and the zero steps that
        round its length up.

    Examples
    --------
    >>> mask = torch.tensor([[True, True, True], [True, False, False]])
    >>> row = StepsInOneRow(mask, gap=1)
    >>> row.n_steps
    6
    >>> padded = torch.tensor([[1.0, 2.0, 3.0], [4.0, 0.0, 0.0]])[..., None]
    >>> steps = row.real_steps(padded)  # (count, width)
    >>> row.to_row(steps).T
    tensor([[1., 2., 3., 0., 4., 0.]])
    >>> row.to_padded(row.from_row(row.to_row(steps))).equal(padded)
    True
    """

    def __init__(self, mask, gap):
        self.shape = mask.shape
        spans = mask.sum(1) + gap
        starts = spans.cumsum(0) - spans  # (batch,)
        positions = starts[:, None] + torch.arange(mask.shape[1], device=mask.device)
        #: Rows of the flattened padded batch that hold real steps, and
        #: where the row puts them.
        self.real = mask.flatten().nonzero().squeeze(1)
        self.positions = positions.flatten().index_select(0, self.real)
        self.n_steps = _rounded_up(int(spans.sum()))

    def real_steps(self, padded):
        """``(batch, n_steps, width)`` -> ``(count, width)``."""
        return padded.reshape(-1, padded.shape[-1]).index_select(0, self.real)

    def to_row(self, steps):
        """``(count, width)`` -> ``(row steps, width)``, zero gaps."""
        row = steps.new_zeros(self.n_steps, steps.shape[1])
        return row.index_copy(0, self.positions, steps)

    def from_row(self, row):
        """``(length, width)`` -> ``(count, width)``: the real steps of a
        row, or of a convolution's output over it."""
        return row.index_select(0, self.positions)

    def to_padded(self, steps):
        """``(count, width)`` -> ``(batch, n_steps, width)``, zero padding."""
        padded = steps.new_zeros(self.shape.numel(), steps.shape[1])
        return padded.index_copy(0, self.real, steps).view(*self.shape, -1)


def _rounded_up(n_steps):
    """``n_steps`` rounded up to a multiple of the power of two 16 to 32
    times smaller (``n_steps`` itself below 32)."""
    multiple = 1 << max(0, n_steps.bit_length() - 5)
    return -(-n_steps // multiple) * multiple


class BucketBatchSampler(Sampler):
    """Random batches of samples of similar length.

    The indices are shuffled, cut into pools of ``pool_batches`` batches,
    each pool is sorted by length and cut into batches, and the batches are
    shuffled. Fully sorted batches learn less per epoch early in training;
    shuffling within pools keeps most of the padding savings without that
    cost. Randomness comes from torch's global generator, so seeding torch
    makes the order reproducible while each epoch still differs.

    Parameters
    ----------
    lengths : array-like of shape (n_samples,)
    batch_size : int
    shuffle : bool, default=True
        If False, batches follow the length order (longest first).
    pool_batches : int, default=50
        Batches per pool. A pool that holds the whole training set makes the
        same batches every epoch, only their order changes; 1 gives
        uniformly shuffled batches, whatever the lengths.
    """

    def __init__(self, lengths, batch_size, shuffle=True, pool_batches=50):
        self.lengths = np.asarray(lengths)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.pool_batches = pool_batches

    def __iter__(self):
        if not self.shuffle:
            batches = sorted_batches(self.lengths, self.batch_size)
            yield from (batch.tolist() for batch in batches)
            return
        order = torch.randperm(len(self.lengths)).numpy()
        pool_size = self.batch_size * self.pool_batches
        batches = []
        for start in range(0, len(order), pool_size):
            pool = order[start : start + pool_size]
            pool = pool[np.argsort(-self.lengths[pool], kind="stable")]
            batches.extend(
                pool[i : i + self.batch_size]
                for i in range(0, len(pool), self.batch_size)
            )
        for position in torch.randperm(len(batches)).tolist():
            yield batches[position].tolist()

    def __len__(self):
        return -(-len(self.lengths) // self.batch_size)


def subset_indices(dataset):
    """The dataset under any ``Subset`` wrappers, and the indices they select.

    Parameters
    ----------
    dataset : torch.utils.data.Dataset
        Possibly a :class:`torch.utils.data.Subset`, of a subset, ...

    Returns
    -------
    root : torch.utils.data.Dataset
    indices : ndarray of int
        The samples of ``root`` that ``dataset`` holds, in its order.
    """
    if isinstance(dataset, Subset):
        root, indices = subset_indices(dataset.dataset)
        return root, indices[np.asarray(dataset.indices)]
    return dataset, np.arange(len(dataset))


def sequence_lengths(dataset):
    """Lengths of a dataset's samples, seen through ``Subset`` wrappers.

    The dataset (or the one a :class:`torch.utils.data.Subset` wraps) must
    have a ``lengths`` attribute.
    """
    root, indices = subset_indices(dataset)
    return np.asarray(root.lengths)[indices]


def bucket_loader(
    dataset, batch_size, shuffle=False, collate_fn=None, pool_batches=50, **kwargs
):
    """A :class:`~torch.utils.data.DataLoader` over length-bucketed batches.

    It has the signature skorch expects of ``iterator_train`` and
    ``iterator_valid``; ``pool_batches`` is that of
    :class:`BucketBatchSampler` (1: uniformly shuffled batches).
    """
    lengths = sequence_lengths(dataset)
    sampler = BucketBatchSampler(lengths, batch_size, shuffle, pool_batches)
    collate_fn = collate_fn or subset_indices(dataset)[0].collate
    return DataLoader(dataset, batch_sampler=sampler, collate_fn=collate_fn, **kwargs)


