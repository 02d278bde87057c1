"""The Transformer encoder-decoder (torch only, no sklearn).

Vaswani et al. (2017), "Attention is all you need", with the layer
normalisation moved in front of each block ("pre-norm", Xiong et al. 2020,
"On layer normalization in the Transformer architecture"), which trains
without a long warm-up and is stable on small data. Every attention is
computed by :func:`torch.nn.functional.scaled_dot_product_attention`, so
fused kernels run where the hardware has them.

The module is a ``DecodableModel`` of ``_inference.py``, as the recurrent
model is (structurally: neither imports it): ``encode`` returns a
memory with ``values`` and ``select``; ``decoder.start(memory)`` and
``next_token_logits`` step the decoder one token at a time. The decoder
state is a key/value cache:
every layer keeps the self-attention keys and values of the positions
decoded so far, and the cross-attention keys and values are computed once
per source in the memory, so each step costs one position, not the prefix.
"""

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .._sequences import length_mask
from .._text import PAD

__all__ = ["TransformerMemory", "TransformerSeq2SeqModule"]


@dataclass
class TransformerMemory:
    """The encoded sources, with every layer's cross-attention keys/values.

    The ``EncodedSources`` of ``_inference.py``.

    Attributes
    ----------
    values : torch.Tensor of shape (batch, src_len, model_size)
        The encoder outputs, which start the decoder; None in the exported
        decoder step, whose steps read ``mask`` and ``cross`` only.
    mask : torch.BoolTensor of shape (batch, src_len)
        True on real source steps.
    cross : tuple of (keys, values) pairs
        One pair per decoder layer, each ``(batch, heads, src_len, head_size)``.
    """

    values: torch.Tensor
    mask: torch.Tensor
    cross: tuple

    def select(self, index):
        """The memory of the batch rows ``index`` (for beam search)."""
        return TransformerMemory(
            self.values.index_select(0, index),
            self.mask.index_select(0, index),
            tuple(
                (keys.index_select(0, index), values.index_select(0, index))
                for keys, values in self.cross
            ),
        )


def sinusoidal_encoding(positions, size):
    """Vaswani et al. (2017), Section 3.5: sines and cosines of the position.

    Parameters
    ----------
    positions : torch.LongTensor of shape (n,)
    size : int

    Returns
    -------
    torch.Tensor of shape (n, size)
    """
    frequencies = torch.exp(
        torch.arange(0, size, 2, device=positions.device, dtype=torch.float32)
        * (-math.log(10000.0) / size)
    )  # (size / 2,)
    angles = positions.float()[:, None] * frequencies  # (n, ceil(size / 2))
    encoding = torch.stack([angles.sin(), angles.cos()], dim=-1).flatten(1)
    return encoding[:, :size]  # (n, size)


class TokenEmbedding(nn.Module):
    """Scaled token embeddings plus positional encodings, then dropout.

    Parameters
    ----------
    vocab_size, model_size : int
    positional_encoding : {"sinusoidal", "learned"}
    max_positions : int
        Size of the learned position table (unused by sinusoidal encodings,
        which have no limit).
    dropout : float
    """

    def __init__(
        self, vocab_size, model_size, positional_encoding, max_positions, dropout
    ):
        super().__init__()
        self.model_size = model_size
        self.scale = math.sqrt(model_size)
        self.tokens = nn.Embedding(vocab_size, model_size, padding_idx=PAD)
        # Scaled by sqrt(model_size) on use, the embeddings start with unit
        # variance, the scale of the positional encodings, as in Vaswani et al.
        nn.init.normal_(self.tokens.weight, std=model_size**-0.5)
        with torch.no_grad():
            self.tokens.weight[PAD].zero_()
        self.positions = (
            nn.Embedding(max_positions, model_size)
            if positional_encoding == "learned"
            else None
        )
        self.dropout = nn.Dropout(dropout)

    def forward(self, tokens, start=0):
        """Embed ``tokens`` (batch, length) whose first position is ``start``."""
        positions = torch.arange(
            start, start + tokens.size(1), device=tokens.device
        )  # (length,)
        if self.positions is None:
            encoding = sinusoidal_encoding(positions, self.model_size)
        else:
            if start + tokens.size(1) > self.positions.num_embeddings:
                raise ValueError(
                    f"positional_encoding='learned' knows "
                    f"{self.positions.num_embeddings} positions; a sequence "
                    f"needs {start + tokens.size(1)}. Use "
                    "positional_encoding='sinusoidal' for longer sequences."
                )
            encoding = self.positions(positions)
        embedded = self.tokens(tokens) * self.scale + encoding  # (batch, len, model)
        return self.dropout(embedded)


class MultiHeadAttention(nn.Module):
    """Multi-head scaled dot-product attention (Vaswani et al. 2017, 3.2.2).

    Parameters
    ----------
    model_size, num_heads : int
        ``model_size`` must be a multiple of ``num_heads``.
    attention_dropout : float
        Dropout on the attention weights during training.
    """

    def __init__(self, model_size, num_heads, attention_dropout):
        super().__init__()
        self.num_heads = num_heads
        self.query_layer = nn.Linear(model_size, model_size)
        # Keys and values in one matmul: they always come from the same input.
        self.key_value_layer = nn.Linear(model_size, 2 * model_size)
        self.output_layer = nn.Linear(model_size, model_size)
        self.attention_dropout = attention_dropout

    def _split_heads(self, x):
        batch, length, size = x.shape
        return x.view(batch, length, self.num_heads, -1).transpose(1, 2)

    def project_keys_values(self, x):
        """Keys and values of ``x`` (batch, len, model), split into heads.

        Returns
        -------
        keys, values : torch.Tensor of shape (batch, heads, len, head_size)
        """
        keys, values = self.key_value_layer(x).chunk(2, dim=-1)  # (batch, len, model)
        return self._split_heads(keys), self._split_heads(values)

    def forward(self, x, keys, values, mask=None, causal=False, need_weights=False):
        """Attend from ``x`` over precomputed ``keys`` and ``values``.

        Parameters
        ----------
        x : torch.Tensor of shape (batch, n_queries, model_size)
        keys, values : torch.Tensor of shape (batch, heads, n_keys, head_size)
        mask : torch.BoolTensor of shape (batch, n_keys) or None
            True on the keys that may be attended to.
        causal : bool, default=False
            Query ``i`` sees only keys ``0..i`` (queries and keys aligned).
        need_weights : bool, default=False
            Also return the weights, per head (computed without the fused
            kernel, and without dropout).

        Returns
        -------
        output : torch.Tensor of shape (batch, n_queries, model_size)
        weights : torch.Tensor of shape (batch, heads, n_queries, n_keys) or None
        """
        queries = self._split_heads(self.query_layer(x))  # (batch, heads, nq, hs)
        attn_mask = None if mask is None else mask[:, None, None, :]  # (b, 1, 1, nk)
        weights = None
        if need_weights:
            scores = queries @ keys.transpose(-2, -1) / math.sqrt(keys.size(-1))
            if attn_mask is not None:
                scores = scores.masked_fill(~attn_mask, float("-inf"))
            if causal:
                future = torch.ones(
                    scores.shape[-2:], dtype=torch.bool, device=x.device
                ).triu(1)  # (nq, nk)
                scores = scores.masked_fill(future, float("-inf"))
            weights = scores.softmax(dim=-1)  # (batch, heads, nq, nk)
            context = weights @ values  # (batch, heads, nq, head_size)
        else:
            context = F.scaled_dot_product_attention(
                queries,
                keys,
                values,
                attn_mask=attn_mask,
                dropout_p=self.attention_dropout if self.training else 0.0,
                is_causal=causal,
            )  # (batch, heads, nq, head_size)
        context = context.transpose(1, 2).flatten(2)  # (batch, nq, model)
        return self.output_layer(context), weights


class FeedForward(nn.Sequential):
    """Position-wise feed-forward block, ``W2 relu(W1 x)``.

    No dropout inside, as in Vaswani et al. (2017, Section 5.4): the layer
    drops the block's output. On a CPU, drawing a dropout mask for the wide
    hidden activation took about as long as the block's two matrix products.
    """

    def __init__(self, model_size, feedforward_size):
        super().__init__(
            nn.Linear(model_size, feedforward_size),
            nn.ReLU(),
            # Where a dropout was: files saved before name the output layer 3.
            nn.Identity(),
            nn.Linear(feedforward_size, model_size),
        )


class EncoderLayer(nn.Module):
    """Pre-norm self-attention block, then pre-norm feed-forward block."""

    def __init__(
        self, model_size, num_heads, feedforward_size, dropout, attention_dropout
    ):
        super().__init__()
        self.self_norm = nn.LayerNorm(model_size)
        self.self_attention = MultiHeadAttention(
            model_size, num_heads, attention_dropout
        )
        self.feedforward_norm = nn.LayerNorm(model_size)
        self.feedforward = FeedForward(model_size, feedforward_size)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, mask):
        """``x`` (batch, src_len, model), ``mask`` (batch, src_len)."""
        normed = self.self_norm(x)
        keys, values = self.self_attention.project_keys_values(normed)
        attended, _ = self.self_attention(normed, keys, values, mask)
        x = x + self.dropout(attended)
        return x + self.dropout(self.feedforward(self.feedforward_norm(x)))


class DecoderLayer(nn.Module):
    """Pre-norm causal self-attention, cross-attention and feed-forward."""

    def __init__(
        self, model_size, num_heads, feedforward_size, dropout, attention_dropout
    ):
        super().__init__()
        self.self_norm = nn.LayerNorm(model_size)
        self.self_attention = MultiHeadAttention(
            model_size, num_heads, attention_dropout
        )
        self.cross_norm = nn.LayerNorm(model_size)
        self.cross_attention = MultiHeadAttention(
            model_size, num_heads, attention_dropout
        )
        self.feedforward_norm = nn.LayerNorm(model_size)
        self.feedforward = FeedForward(model_size, feedforward_size)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, cache, cross, source_mask, need_weights=False):
        """Run the layer over new positions ``x`` after the cached ones.

        Parameters
        ----------
        x : torch.Tensor of shape (batch, n_new, model_size)
        cache : (keys, values), each (batch, heads, n_cached, head_size)
            Self-attention keys and values of the earlier positions.
        cross : (keys, values), each (batch, heads, src_len, head_size)
        source_mask : torch.BoolTensor of shape (batch, src_len)
        need_weights : bool, default=False

        Returns
        -------
        x : torch.Tensor of shape (batch, n_new, model_size)
        cache : the keys and values of all positions so far
        weights : cross-attention weights (batch, heads, n_new, src_len) or None
        """
        normed = self.self_norm(x)
        new_keys, new_values = self.self_attention.project_keys_values(normed)
        keys = torch.cat([cache[0], new_keys], dim=2)  # (batch, heads, n, hs)
        values = torch.cat([cache[1], new_values], dim=2)  # (batch, heads, n, hs)
        # Either the whole target at once (empty cache, causal mask) or one
        # new position, which may see everything cached.
        attended, _ = self.self_attention(normed, keys, values, causal=x.size(1) > 1)
        x = x + self.dropout(attended)
        attended, weights = self.cross_attention(
            self.cross_norm(x), *cross, source_mask, need_weights=need_weights
        )
        x = x + self.dropout(attended)
        x = x + self.dropout(self.feedforward(self.feedforward_norm(x)))
        return x, (keys, values), weights


class TransformerDecoder(nn.Module):
    """The decoder stack, run over a whole target or one step at a time."""

    def __init__(
        self,
        vocab_size,
        model_size,
        num_heads,
        num_layers,
        feedforward_size,
        dropout,
        attention_dropout,
        positional_encoding,
        max_positions,
    ):
        super().__init__()
        self.num_heads = num_heads
        self.embedding = TokenEmbedding(
            vocab_size, model_size, positional_encoding, max_positions, dropout
        )
        self.layers = nn.ModuleList(
            DecoderLayer(
                model_size, num_heads, feedforward_size, dropout, attention_dropout
            )
            for _ in range(num_layers)
        )
        self.final_norm = nn.LayerNorm(model_size)
        self.output_layer = nn.Linear(model_size, vocab_size)

    def start(self, memory):
        """The empty key/value cache: one ``(keys, values)`` pair per layer.

        Returns
        -------
        tuple of (keys, values), each (batch, heads, 0, head_size)
        """
        batch, _, model_size = memory.values.shape
        empty = memory.values.new_zeros(
            (batch, self.num_heads, 0, model_size // self.num_heads)
        )
        return tuple((empty, empty) for _ in self.layers)

    def forward(self, target_input, memory, state=None, need_weights=False):
        """Decode ``target_input`` after the positions cached in ``state``.

        Parameters
        ----------
        target_input : torch.LongTensor of shape (batch, n_new)
        memory : TransformerMemory
        state : tuple, default=None
            A cache from :meth:`start` or an earlier call; None starts empty.
        need_weights : bool or "all", default=False
            True returns the last layer's cross-attention averaged over heads;
            ``"all"`` returns every layer's, per head.

        Returns
        -------
        logits : torch.Tensor of shape (batch, n_new, vocab_size)
        state : tuple
            The cache extended by the new positions.
        weights : None, torch.Tensor of shape (batch, n_new, src_len) when
            ``need_weights`` is True, or of shape (batch, layers, heads, n_new,
            src_len) when it is ``"all"``.
        """
        state = self.start(memory) if state is None else state
        x = self.embedding(target_input, start=state[0][0].size(2))
        new_state, weights = [], []
        last = len(self.layers) - 1
        for index, (layer, cache, cross) in enumerate(
            zip(self.layers, state, memory.cross)
        ):
            wanted = need_weights == "all" or (bool(need_weights) and index == last)
            x, cache, layer_weights = layer(x, cache, cross, memory.mask, wanted)
            new_state.append(cache)
            weights.append(layer_weights)
        logits = self.output_layer(self.final_norm(x))  # (batch, n_new, V)
        if need_weights == "all":
            weights = torch.stack(weights, dim=1)  # (batch, layers, heads, n, src)
        elif need_weights:
            weights = weights[-1].mean(dim=1)  # (batch, n_new, src_len)
        else:
            weights = None
        return logits, tuple(new_state), weights


class TransformerSeq2SeqModule(nn.Module):
    """Transformer encoder-decoder with pre-norm layers.

    A ``DecodableModel`` of ``_inference.py``, structurally: the decoder state
    is the key/value cache of :meth:`TransformerDecoder.start`, every tensor
    of it with one row per source.

    The settings have no defaults here: :class:`AttentionSeq2Seq` passes
    every one (``_architectures.py``), and its docstring is where each is
    explained and defaulted.

    Parameters
    ----------
    source_vocab_size, target_vocab_size : int
    model_size : int
        Size of embeddings and of every layer's output; a multiple of
        ``num_heads``. The estimator's ``hidden_size``.
    num_heads : int
    num_layers : int
        Layers in the encoder and in the decoder.
    feedforward_size : int
    dropout : float
        On embeddings and on every block's output.
    attention_dropout : float
        On the attention weights.
    positional_encoding : {"sinusoidal", "learned"}
    max_positions : int
        Positions of the learned table (per sequence, source or target).
    """

    def __init__(
        self, source_vocab_size, target_vocab_size, *, model_size, num_heads,
        num_layers, feedforward_size, dropout, attention_dropout,
        positional_encoding, max_positions,
    ):
        super().__init__()
        if model_size % num_heads:
            raise ValueError(
                f"The model size ({model_size}) must be a multiple of num_heads "
                f"({num_heads})."
            )
        layer_options = (
            model_size,
            num_heads,
            feedforward_size,
            dropout,
            attention_dropout,
        )
        self.source_embedding = TokenEmbedding(
            source_vocab_size,
            model_size,
            positional_encoding,
            max_positions,
            dropout,
        )
        self.encoder_layers = nn.ModuleList(
            EncoderLayer(*layer_options) for _ in range(num_layers)
        )
        self.encoder_norm = nn.LayerNorm(model_size)
        self.decoder = TransformerDecoder(
            target_vocab_size,
            model_size,
            num_heads,
            num_layers,
            feedforward_size,
            dropout,
            attention_dropout,
            positional_encoding,
            max_positions,
        )

    def encode(self, source, source_lengths):
        """Encode a padded batch; project every layer's cross keys/values once.

        Parameters
        ----------
        source : torch.LongTensor of shape (batch, src_len)
        source_lengths : torch.LongTensor of shape (batch,)

        Returns
        -------
        TransformerMemory
        """
        mask = length_mask(source_lengths, source.size(1))  # (batch, src_len)
        x = self.source_embedding(source)  # (batch, src_len, model)
        for layer in self.encoder_layers:
            x = layer(x, mask)
        values = self.encoder_norm(x)  # (batch, src_len, model)
        cross = tuple(
            layer.cross_attention.project_keys_values(values)
            for layer in self.decoder.layers
        )
        return TransformerMemory(values, mask, cross)

    def forward(self, source, source_lengths, target_input, need_weights=False):
        """Teacher-forced logits (and optionally attention weights).

        Parameters
        ----------
        source : torch.LongTensor of shape (batch, src_len)
        source_lengths : torch.LongTensor of shape (batch,)
        target_input : torch.LongTensor of shape (batch, tgt_len)
        need_weights : bool or "all", default=False
            See :meth:`TransformerDecoder.forward`.

        Returns
        -------
        torch.Tensor of shape (batch, tgt_len, target_vocab_size), or a
        ``(logits, weights)`` pair when ``need_weights`` is set.
        """
        memory = self.encode(source, source_lengths)
        logits, _, weights = self.decoder(
            target_input, memory, need_weights=need_weights
        )
        return (logits, weights) if need_weights else logits

    def next_token_logits(self, tokens, state, memory):
        """Scores of the next token after ``tokens``, for the searches.

        Parameters
        ----------
        tokens : torch.LongTensor of shape (batch,)
        state : tuple
            The key/value cache.
        memory : TransformerMemory

        Returns
        -------
        logits : torch.Tensor of shape (batch, target_vocab_size)
        state : tuple
            The cache, one position longer.
        """
        logits, state, _ = self.decoder(tokens[:, None], memory, state)
        return logits[:, 0], state
