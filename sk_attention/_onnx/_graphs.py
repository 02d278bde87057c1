"""The networks of the estimators as exportable graphs (torch).

Each class wraps a fitted module and calls its own methods, so a graph
computes what the estimator computes. The inputs and outputs of every graph
are flat lists of batch-first tensors: the runtime keeps or reorders the
rows of a decoder's memory and state by indexing their first axis, without
knowing what they hold.

* :class:`PoolingGraph`: ``X, lengths -> pooled, weights[, scores]``.
* :class:`RecurrentEncoderGraph` / :class:`TransformerEncoderGraph`:
  ``source, lengths -> memory..., state...``.
* :class:`DecoderStepGraph`: ``tokens, memory..., state... -> log_probs,
  state...``, one token of the searches of ``_seq2seq/_search.py``, whose
  banned tokens it bans too.
"""

import torch
import torch.nn.functional as F
from torch import nn

from .._recurrent import run_by_direction
from .._seq2seq._model import Memory
from .._seq2seq._transformer import TransformerMemory
from .._sequences import length_mask
from .._text import BOS, PAD

__all__ = [
    "DecoderStepGraph",
    "PoolingGraph",
    "RecurrentEncoderGraph",
    "TransformerEncoderGraph",
    "flatten",
    "unflatten",
]


def flatten(state):
    """The tensors of a nested tuple, depth first, and its structure.

    Examples
    --------
    >>> t = torch.zeros(1)
    >>> leaves, structure = flatten(((t, t), t))
    >>> len(leaves), structure
    (3, ((None, None), None))
    """
    if isinstance(state, torch.Tensor):
        return [state], None
    leaves, structure = [], []
    for part in state:
        part_leaves, part_structure = flatten(part)
        leaves += part_leaves
        structure.append(part_structure)
    return leaves, tuple(structure)


def unflatten(leaves, structure):
    """Inverse of :func:`flatten`."""
    leaves = iter(leaves)

    def build(part):
        if part is None:
            return next(leaves)
        return tuple(build(sub) for sub in part)

    return build(structure)


class PoolingGraph(nn.Module):
    """A pooling module: pooled vectors, weights and the head's scores.

    Parameters
    ----------
    module : torch.nn.Module
        A pooling module (``pool(X, lengths, need_weights)``).
    with_head : bool
        Also return ``module.head`` of the pooled vectors.
    """

    def __init__(self, module, with_head):
        super().__init__()
        self.module = module
        self.with_head = with_head

    def forward(self, X, lengths):
        """``X`` (batch, n_steps, n_features), ``lengths`` (batch,)."""
        pooled, weights = self.module.pool(X, lengths, need_weights=True)
        if not self.with_head:
            return pooled, weights  # (batch, n_pooled), (batch, heads, n_steps)
        return pooled, weights, self.module.head(pooled)  # ..., (batch, n_outputs)


class RecurrentEncoderGraph(nn.Module):
    """The recurrent model's encoder: memory ``(keys, combined, mask)``, state.

    The encoder runs by direction over the padded batch (its path with
    gradients, identical outputs), which exports to ONNX recurrent operators
    with a dynamic length; packed sequences do not export.
    """

    def __init__(self, module):
        super().__init__()
        self.module = module

    def forward(self, source, lengths):
        """``source`` (batch, src_len), ``lengths`` (batch,)."""
        encoder, decoder = self.module.encoder, self.module.decoder
        outputs, final = run_by_direction(
            encoder.rnn, encoder.embedding(source), lengths
        )
        keys = decoder.attention.project_keys(outputs)  # (batch, src_len, ...)
        combined = F.linear(
            outputs, decoder.combine.weight[:, decoder.hidden_size :]
        )  # (batch, src_len, hidden_size)
        mask = length_mask(lengths, source.size(1))  # (batch, src_len)
        memory = Memory(outputs, keys, mask, final, combined, decoder.step_weights())
        state, _ = flatten(decoder.start(memory))
        return keys, combined, mask, *state


def _recurrent_memory(module, keys, combined, mask):
    decoder = module.decoder
    return Memory(combined, keys, mask, None, combined, decoder.step_weights())


class TransformerEncoderGraph(nn.Module):
    """The Transformer's encoder: memory ``(mask, cross k/v...)``, the empty
    key/value cache as state."""

    def __init__(self, module):
        super().__init__()
        self.module = module

    def forward(self, source, lengths):
        """``source`` (batch, src_len), ``lengths`` (batch,)."""
        memory = self.module.encode(source, lengths)
        cross, _ = flatten(memory.cross)  # each (batch, heads, src_len, head)
        state, _ = flatten(self.module.decoder.start(memory))
        return memory.mask, *cross, *state


def _transformer_memory(module, mask, *cross):
    return TransformerMemory(None, mask, unflatten(cross, _pairs(len(cross) // 2)))


def _pairs(n_layers):
    return tuple((None, None) for _ in range(n_layers))


class DecoderStepGraph(nn.Module):
    """One decoder step: log-probabilities of the next token and the state.

    Parameters
    ----------
    module : torch.nn.Module
        A ``DecodableModel`` of ``_search.py``.
    architecture : {"rnn", "transformer"}
    n_memory : int
        How many of the inputs after ``tokens`` are memory.
    structure : tuple
        The :func:`flatten` structure of the decoder state.
    """

    def __init__(self, module, architecture, n_memory, structure):
        super().__init__()
        self.module = module
        self.n_memory = n_memory
        self.structure = structure
        self.memory = (
            _recurrent_memory if architecture == "rnn" else _transformer_memory
        )
        vocab_size = module.decoder.output_layer.out_features
        banned = torch.zeros(vocab_size, dtype=torch.bool)
        banned[PAD : BOS + 1] = True  # as the searches ban them
        self.register_buffer("banned", banned)

    def forward(self, tokens, *inputs):
        """``tokens`` (batch,), then the memory and state tensors."""
        memory = self.memory(self.module, *inputs[: self.n_memory])
        state = unflatten(inputs[self.n_memory :], self.structure)
        logits, state = self.module.next_token_logits(tokens, state, memory)
        logits = torch.where(self.banned, float("-inf"), logits)  # (batch, V)
        state, _ = flatten(state)
        return torch.log_softmax(logits, dim=-1), *state
