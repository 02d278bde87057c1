"""Inference on id sequences: length-sorted batches, decoding, attention.

The functions take a fitted torch module and lists of source id arrays and
know nothing of strings or of the estimator; :class:`AttentionSeq2Seq`
tokenizes before and detokenizes after.
"""

import numpy as np
import torch

from .._sequences import sorted_batches
from .._text import BOS
from ._data import collate_sources
from ._search import beam_search, greedy_search, strip_after_end

__all__ = ["decode", "forced_attention"]


def _batches(module, source_ids, batch_size):
    """Length-sorted batches of sources, collated onto the module's device."""
    lengths = [len(ids) for ids in source_ids]
    device = next(module.parameters()).device
    for batch in sorted_batches(lengths, batch_size):
        inputs = collate_sources([source_ids[i] for i in batch])
        yield batch, {name: t.to(device) for name, t in inputs.items()}


def decode(module, source_ids, *, batch_size, max_length, beam_size, length_penalty):
    """Decoded target ids (end token stripped) for each source.

    Parameters
    ----------
    module : torch.nn.Module
        A model of the decoding contract of ``_search.py``.
    source_ids : list of ndarray of int
    batch_size : int
        Sources decoded at once.
    max_length : int
        The most tokens an output may have, the end token included.
    beam_size : int
        1 decodes greedily, more runs a beam search.
    length_penalty : float

    Returns
    -------
    list of list of int
    """
    module.eval()
    decoded = [None] * len(source_ids)
    with torch.inference_mode():
        for batch, inputs in _batches(module, source_ids, batch_size):
            memory = module.encode(inputs["source"], inputs["source_lengths"])
            if beam_size == 1:
                ids = greedy_search(module, memory, max_length)
            else:
                ids = beam_search(module, memory, max_length, beam_size, length_penalty)
            for index, row in zip(batch, strip_after_end(ids.cpu())):
                decoded[index] = row
    return decoded


def forced_attention(module, source_ids, predicted, *, batch_size, all_heads):
    """Attention weights of the decoder run over given outputs.

    Parameters
    ----------
    module : torch.nn.Module
    source_ids : list of ndarray of int
    predicted : list of list of int
        The outputs, without start or end token.
    batch_size : int
    all_heads : bool
        Every layer and head (Transformer), not their summary.

    Returns
    -------
    list of ndarray of shape ([layers, heads,] n_output, n_source)
    """
    module.eval()
    weights = [None] * len(source_ids)
    for batch, inputs in _batches(module, source_ids, batch_size):
        targets = [np.array([BOS, *predicted[i]], dtype=np.int64) for i in batch]
        inputs["target_input"] = collate_sources(targets)["source"].to(
            inputs["source"].device
        )
        with torch.inference_mode():
            _, batch_weights = module(
                **inputs, need_weights="all" if all_heads else True
            )  # (batch, [layers, heads,] tgt_len, src_len)
        batch_weights = batch_weights.cpu().numpy()
        for row, index in enumerate(batch):
            n_out, n_src = len(predicted[index]), len(source_ids[index])
            # A copy, so that no result keeps its whole batch alive.
            weights[index] = batch_weights[row, ..., :n_out, :n_src].copy()
    return weights
