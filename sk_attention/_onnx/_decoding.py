"""Decoding with the exported seq2seq graphs: the searches on numpy arrays.

:class:`GraphDecoder` is the runtime's counterpart of the estimator's
``_seq2seq/_inference.py``: it encodes length-sorted batches of source ids
with the encoder graph, and offers the decoder graph, one token at a time,
to the searches and the teacher-forced scoring of
:mod:`sk_attention._search`, the very functions the estimator runs on its
torch module. It imports numpy and the torch-free modules only.
"""

import numpy as np

from .._ragged import pad_sequences, sorted_batches
from .._search import (
    decode_sources,
    forced_log_probs,
    nbest_sources,
)
from .._text import EOS

__all__ = ["GraphDecoder", "GraphMemory"]


class GraphMemory:
    """The memory outputs of the encoder graph, a ``DecoderMemory``.

    Parameters
    ----------
    arrays : list of ndarray
        Each with one row per source on its first axis; what they hold is
        the exported model's business.
    """

    def __init__(self, arrays):
        self.arrays = arrays

    def select(self, index):
        """The memory of the rows ``index``."""
        return GraphMemory([array[index] for array in self.arrays])


class GraphDecoder:
    """The encoder and decoder-step sessions of an export, a ``StepModel``.

    Parameters
    ----------
    encoder, decoder : onnxruntime.InferenceSession
        ``source, lengths -> memory..., state...`` and ``tokens, memory...,
        state... -> log_probs, state...``.
    n_memory : int
        How many of the encoder's outputs are memory.
    """

    def __init__(self, encoder, decoder, n_memory):
        self.encoder, self.decoder, self.n_memory = encoder, decoder, n_memory
        # The exporter drops inputs a graph does not read (the top LSTM
        # layer's hidden state, whose gates the state carries instead).
        self._step_inputs = {node.name for node in decoder.get_inputs()}
        self._step_outputs = [node.name for node in decoder.get_outputs()]
        self._step_names = [
            "tokens",
            *(f"memory_{i}" for i in range(n_memory)),
            *(f"state_{i}" for i in range(len(self._step_outputs) - 1)),
        ]

    def next_token_logits(self, tokens, state, memory):
        """The decoder graph's log-probabilities of the next token, and state."""
        feed = {
            name: value
            for name, value in zip(
                self._step_names, [tokens, *memory.arrays, *state]
            )
            if name in self._step_inputs
        }
        log_probs, *state = self.decoder.run(self._step_outputs, feed)
        return log_probs, state

    def _encoded(self, source_ids, batch_size):
        """Per length-sorted batch: its indices, memory and start state."""
        for batch in sorted_batches([len(ids) for ids in source_ids], batch_size):
            source, lengths = pad_sequences(
                [source_ids[index] for index in batch], dtype=np.int64
            )
            encoded = self.encoder.run(None, {"source": source, "lengths": lengths})
            memory = GraphMemory(encoded[: self.n_memory])
            yield batch, memory, encoded[self.n_memory :]

    def decode(self, source_ids, *, batch_size, max_length, beam_size,
               length_penalty):
        """Decoded target ids (end token stripped) for each source.

        As ``_seq2seq._inference.decode``.

        Returns
        -------
        list of list of int
        """
        return decode_sources(
            self, self._encoded(source_ids, batch_size), len(source_ids),
            max_length, beam_size, length_penalty,
        )

    def decode_nbest(self, source_ids, *, batch_size, max_length, beam_size,
                     n_best, length_penalty):
        """The ``n_best`` best outputs of one beam search for each source.

        As ``_seq2seq._inference.decode_nbest``.

        Returns
        -------
        list of list of (list of int, float, float)
        """
        return nbest_sources(
            self, self._encoded(source_ids, batch_size), len(source_ids),
            max_length, beam_size, n_best, length_penalty,
        )

    def target_log_probs(self, source_ids, target_ids, *, batch_size):
        """Log-probability of each given target token and of the end token.

        The decoder graph reads the targets one token at a time (teacher
        forcing); as ``_seq2seq._inference.target_log_probs``.

        Returns
        -------
        list of ndarray of shape (len(target) + 1,), float32
        """
        scored = [None] * len(source_ids)
        for batch, memory, state in self._encoded(source_ids, batch_size):
            targets, lengths = pad_sequences(
                [np.append(target_ids[index], EOS) for index in batch],
                dtype=np.int64,
            )  # (batch, longest + 1)
            log_probs = forced_log_probs(self, memory, state, targets)
            for row, index in enumerate(batch):
                scored[index] = log_probs[row, : lengths[row]].copy()
        return scored
