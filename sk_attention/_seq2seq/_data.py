"""Token-id pairs as a torch dataset, collated into padded batches."""

import numpy as np
import torch
from torch.utils.data import Dataset

from .._ragged import pad_sequences
from .._text import BOS, EOS, PAD

__all__ = ["SequencePairDataset", "collate_sources"]


class SequencePairDataset(Dataset):
    """Source and target id arrays, batched by :func:`bucket_loader`.

    Parameters
    ----------
    sources : list of ndarray of int
    targets : list of ndarray of int
        Without start and end tokens; they are added when batching.
    """

    def __init__(self, sources, targets):
        self.sources = sources
        self.targets = targets
        # Batches are bucketed by source length: it drives the encoder cost
        # and, in most tasks, the target length too.
        self.lengths = np.array([len(source) for source in sources])

    def __len__(self):
        return len(self.sources)

    def __getitem__(self, index):
        return self.sources[index], self.targets[index]

    @staticmethod
    def collate(pairs):
        """Pad a list of ``(source, target)`` pairs into one batch.

        Returns
        -------
        inputs : dict
            ``source`` (batch, src_len), ``source_lengths`` (batch,) and
            ``target_input`` (batch, tgt_len + 1): the start token, then the
            target.
        target_output : torch.LongTensor of shape (batch, tgt_len + 1)
            The target, then the end token; padded with ``PAD``.
        """
        sources, targets = zip(*pairs)
        inputs = collate_sources(sources)
        target_input, _ = pad_sequences(
            [np.concatenate(([BOS], target)) for target in targets], PAD, np.int64
        )
        target_output, _ = pad_sequences(
            [np.concatenate((target, [EOS])) for target in targets], PAD, np.int64
        )
        inputs["target_input"] = torch.from_numpy(target_input)
        return inputs, torch.from_numpy(target_output)


def collate_sources(sources):
    """Pad source id arrays: ``{"source": (batch, src_len), "source_lengths"}``."""
    source, lengths = pad_sequences(sources, PAD, np.int64)
    return {
        "source": torch.from_numpy(source),
        "source_lengths": torch.from_numpy(lengths),
    }
