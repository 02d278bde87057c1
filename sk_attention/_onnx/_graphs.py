"""The networks of the estimators as exportable graphs (torch).

Each class wraps a fitted module and calls its own methods, so a graph
computes what the estimator computes. The inputs and outputs of every graph
are flat lists of batch-first tensors: the runtime keeps or reorders the
rows of a decoder's memory and state by indexing their first axis, without
knowing what they hold.

* :class:`PoolingGraph`: ``X, lengths -> pooled, weights[, scores]``.
* :class:`EncoderGraph`: ``source, lengths -> memory..., state...``.
* :class:`DecoderStepGraph`: ``tokens, memory..., state... -> log_probs,
  state...``, one token of the searches of ``_search.py``, whose banned
  tokens it bans too.
"""

import torch
from torch import nn

from .._seq2seq._model import Memory
from .._seq2seq._transformer import TransformerMemory
from .._text import BOS, PAD

__all__ = [
    "MEMORY_LAYOUTS",
    "DecoderStepGraph",
    "EncoderGraph",
    "PoolingGraph",
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


class _RecurrentMemory:
    """The recurrent decoder's memory as graph tensors: ``keys, combined, mask``.

    A step reads these and the decoder's weights; the encoder outputs and
    final states serve only the start of the decoder, in the encoder graph,
    so the step's :class:`Memory` holds None in their place.
    """

    @staticmethod
    def flatten(memory):
        return [memory.keys, memory.combined, memory.mask]

    @staticmethod
    def unflatten(module, keys, combined, mask):
        step_weights = module.decoder.step_weights()
        return Memory(None, keys, mask, None, combined, step_weights)


class _TransformerMemory:
    """The Transformer's memory as graph tensors: ``mask, cross k/v...``.

    A step reads the mask and every layer's cross-attention keys and values;
    the encoder outputs serve only the start of the decoder, in the encoder
    graph, so the step's :class:`TransformerMemory` holds None in their place.
    """

    @staticmethod
    def flatten(memory):
        return [memory.mask, *flatten(memory.cross)[0]]

    @staticmethod
    def unflatten(module, mask, *cross):
        pairs = tuple((None, None) for _ in range(len(cross) // 2))
        return TransformerMemory(None, mask, unflatten(cross, pairs))


#: How each architecture's memory crosses from the encoder graph to the step.
MEMORY_LAYOUTS = {"rnn": _RecurrentMemory, "transformer": _TransformerMemory}


class EncoderGraph(nn.Module):
    """The model's ``encode`` and decoder start: ``memory..., state...``.

    The memory is what a decoder step reads of it (see
    :data:`MEMORY_LAYOUTS`). The recurrent encoder runs by direction over
    the padded batch under export (see :mod:`sk_attention._recurrent`),
    which writes ONNX recurrent operators with a dynamic length.

    Parameters
    ----------
    module : torch.nn.Module
        A fitted seq2seq module.
    architecture : {"rnn", "transformer"}
    """

    def __init__(self, module, architecture):
        super().__init__()
        self.module = module
        self.layout = MEMORY_LAYOUTS[architecture]

    def forward(self, source, lengths):
        """``source`` (batch, src_len), ``lengths`` (batch,)."""
        memory = self.module.encode(source, lengths)
        state, _ = flatten(self.module.decoder.start(memory))
        return *self.layout.flatten(memory), *state


class DecoderStepGraph(nn.Module):
    """One decoder step: log-probabilities of the next token and the state.

    Parameters
    ----------
    module : torch.nn.Module
        A fitted seq2seq module.
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
        self.layout = MEMORY_LAYOUTS[architecture]
        vocab_size = module.decoder.output_layer.out_features
        banned = torch.zeros(vocab_size, dtype=torch.bool)
        banned[PAD : BOS + 1] = True  # as the searches ban them
        self.register_buffer("banned", banned)

    def forward(self, tokens, *inputs):
        """``tokens`` (batch,), then the memory and state tensors."""
        memory = self.layout.unflatten(self.module, *inputs[: self.n_memory])
        state = unflatten(inputs[self.n_memory :], self.structure)
        logits, state = self.module.next_token_logits(tokens, state, memory)
        logits = torch.where(self.banned, float("-inf"), logits)  # (batch, V)
        state, _ = flatten(state)
        return torch.log_softmax(logits, dim=-1), *state
