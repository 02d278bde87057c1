"""Training data of the pooling estimators: the dataset and the input scaling."""

import numpy as np
import torch

__all__ = ["PoolingDataset", "scaling_statistics"]


class PoolingDataset(torch.utils.data.Dataset):
    """Sequences and targets for skorch; batches are padded in one gather.

    ``__getitems__`` hands the batch's indices straight to :meth:`collate`
    (also through :class:`torch.utils.data.Subset`), so no per-sample Python
    work is done. ``lengths`` lets :func:`~sk_attention._sequences.bucket_loader`
    group similar lengths.

    Parameters
    ----------
    sequences : RaggedArray
    y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
    """

    def __init__(self, sequences, y):
        self.sequences = sequences
        self.y = y
        self.lengths = sequences.lengths

    def __len__(self):
        return len(self.sequences)

    def __getitem__(self, index):
        return index

    def __getitems__(self, indices):
        return indices

    def collate(self, indices):
        indices = np.asarray(indices)
        X, lengths = self.sequences.gather(indices)
        inputs = {"X": torch.from_numpy(X), "lengths": torch.from_numpy(lengths)}
        return inputs, torch.from_numpy(self.y[indices])


def scaling_statistics(steps, scaling):
    """Per-feature ``(mean, scale)`` of the training steps for ``scaling``.

    Parameters
    ----------
    steps : ndarray of shape (total_steps, n_features)
    scaling : {"global", "feature", "series", "series_and_global"} or None
        ``"series"`` standardizes each sequence on its own, in the network:
        no statistics (like None). ``"series_and_global"`` adds the global
        statistics' view to it, so it gets those of ``"global"``.

    Returns
    -------
    mean, scale : ndarray of shape (n_features,), float64

    Examples
    --------
    >>> steps = np.array([[0.0, 10.0], [2.0, 30.0]])
    >>> scaling_statistics(steps, "feature")
    (array([ 1., 20.]), array([ 1., 10.]))
    """
    n_features = steps.shape[1]
    if scaling is None or scaling == "series":
        return np.zeros(n_features), np.ones(n_features)
    if scaling == "feature":
        mean = steps.mean(axis=0, dtype=np.float64)
        scale = steps.std(axis=0, dtype=np.float64)
    else:
        mean = np.full(n_features, steps.mean(dtype=np.float64))
        scale = np.full(n_features, steps.std(dtype=np.float64))
    scale[scale < 10 * np.finfo(np.float32).eps] = 1.0  # constant values
    return mean, scale
