"""The sequence metrics of each epoch on the validation split.

The validation loss scores every token given the true prefix; what a user
gets is decoded output. :class:`ValidationDecoding` greedily decodes the
validation split at the end of every epoch and records, next to skorch's
``valid_loss``:

``valid_error``
    The token error rate: edit distance per reference token (the phoneme
    error rate of a G2P model, the character error rate of a character
    model). Early stopping selects the epoch with the lowest one.
``valid_acc``
    Exact match: the fraction of outputs equal to their reference.

Both are computed on token ids, so they need no vocabulary.
"""

import numpy as np
from rapidfuzz.distance import Levenshtein
from skorch.callbacks import Callback

from .._sequences import subset_indices
from .._training import trained_module
from ._inference import decode

__all__ = ["ValidationDecoding"]


class ValidationDecoding(Callback):
    """Record ``valid_error`` and ``valid_acc`` of greedy decoding per epoch.

    Parameters
    ----------
    max_length : int
        The most tokens an output may have, the end token included.
    batch_size : int
        Sources decoded at once.
    """

    def __init__(self, max_length, batch_size):
        self.max_length = max_length
        self.batch_size = batch_size

    def on_epoch_end(self, net, dataset_valid=None, **kwargs):
        if dataset_valid is None:
            return
        error, accuracy = self.scores(net, dataset_valid)
        for name, value, better in (
            ("valid_error", error, min),
            ("valid_acc", accuracy, max),
        ):
            earlier = net.history[:-1, name] if len(net.history) > 1 else []
            net.history.record(name, value)
            net.history.record(f"{name}_best", better([value, *earlier]) == value)

    def scores(self, net, dataset_valid):
        """``(token error rate, exact match)`` of greedy decoding on a split."""
        sources, targets = _pairs(dataset_valid)
        decoded = decode(
            trained_module(net),
            sources,
            batch_size=self.batch_size,
            max_length=self.max_length,
            beam_size=1,
            length_penalty=1.0,
        )
        references = [target.tolist() for target in targets]
        edits = sum(map(Levenshtein.distance, references, decoded))
        error = edits / max(1, sum(len(reference) for reference in references))
        accuracy = float(np.mean([d == r for d, r in zip(decoded, references)]))
        return error, accuracy

    def error(self, net, dataset_valid):
        """The token error rate alone, as :class:`CheckpointAveraging` scores."""
        return self.scores(net, dataset_valid)[0]


def _pairs(dataset):
    """The source and target id arrays of a (subset of a) pair dataset."""
    root, indices = subset_indices(dataset)
    return [root.sources[i] for i in indices], [root.targets[i] for i in indices]
