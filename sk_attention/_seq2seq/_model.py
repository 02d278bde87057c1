"""The encoder-decoder network with attention (torch only, no sklearn).

The encoder embeds the source tokens and runs a (bidirectional) LSTM or GRU
over packed sequences, so padding costs nothing. The decoder is a stack of
recurrent cells that, at each step, attends over the encoder outputs with
the decoder state as query and combines state and context into an
attentional vector (Luong et al., 2015, Eq. 5). That vector predicts the
next token and is fed back as input at the next step ("input feeding",
Section 3.3), so the decoder knows where it attended before.
"""

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from .._attention import make_attention
from .._sequences import length_mask
from .._text import BOS, PAD

__all__ = ["Memory", "Seq2SeqModule", "SequenceLoss"]

_RNNS = {"lstm": nn.LSTM, "gru": nn.GRU}
_CELLS = {"lstm": nn.LSTMCell, "gru": nn.GRUCell}


@dataclass
class Memory:
    """What the decoder attends over, computed once per source batch.

    Attributes
    ----------
    values : torch.Tensor of shape (batch, src_len, hidden_size)
        The encoder outputs.
    keys : torch.Tensor
        The attention's projection of the values (``W x_i``).
    mask : torch.BoolTensor of shape (batch, src_len)
        True on real source steps.
    final : torch.Tensor of shape (num_layers, batch, hidden_size)
        The encoder's final states, both directions concatenated.
    """

    values: torch.Tensor
    keys: torch.Tensor
    mask: torch.Tensor
    final: torch.Tensor

    def select(self, index):
        """The memory of the batch rows ``index`` (for beam search)."""
        return Memory(
            self.values.index_select(0, index),
            self.keys.index_select(0, index),
            self.mask.index_select(0, index),
            self.final.index_select(1, index),
        )


class Encoder(nn.Module):
    """Embedding + recurrent encoder over packed sequences.

    With ``bidirectional=True`` each direction has ``hidden_size // 2``
    units, so outputs and final states have ``hidden_size`` features either
    way and the decoder can use plain dot-product attention on them.
    """

    def __init__(
        self, vocab_size, embedding_dim, hidden_size, num_layers, bidirectional,
        dropout, cell,
    ):
        super().__init__()
        self.num_layers = num_layers
        self.num_directions = 2 if bidirectional else 1
        self.cell = cell
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=PAD)
        self.dropout = nn.Dropout(dropout)
        self.rnn = _RNNS[cell](
            embedding_dim,
            hidden_size // self.num_directions,
            num_layers=num_layers,
            batch_first=True,
            bidirectional=bidirectional,
            dropout=dropout if num_layers > 1 else 0.0,
        )

    def forward(self, source, lengths):
        """Encode a padded batch.

        Parameters
        ----------
        source : torch.LongTensor of shape (batch, src_len)
        lengths : torch.LongTensor of shape (batch,)

        Returns
        -------
        outputs : torch.Tensor of shape (batch, src_len, hidden_size)
        final : torch.Tensor of shape (num_layers, batch, hidden_size)
        """
        embedded = self.dropout(self.embedding(source))  # (batch, src_len, emb)
        packed = pack_padded_sequence(
            embedded, lengths.cpu(), batch_first=True, enforce_sorted=False
        )
        outputs, final = self.rnn(packed)
        outputs, _ = pad_packed_sequence(
            outputs, batch_first=True, total_length=source.size(1)
        )  # (batch, src_len, hidden_size)
        if self.cell == "lstm":
            final = final[0]  # the hidden state, not the cell state
        batch = source.size(0)
        final = (
            final.view(self.num_layers, self.num_directions, batch, -1)
            .transpose(1, 2)
            .reshape(self.num_layers, batch, -1)
        )  # (num_layers, batch, hidden_size)
        return outputs, final


class AttentiveDecoder(nn.Module):
    """A stack of recurrent cells with attention and input feeding."""

    def __init__(
        self, vocab_size, embedding_dim, hidden_size, num_layers, dropout, cell,
        attention, attention_size,
    ):
        super().__init__()
        self.cell = cell
        self.hidden_size = hidden_size
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=PAD)
        self.cells = nn.ModuleList(
            _CELLS[cell](embedding_dim + hidden_size if layer == 0 else hidden_size,
                         hidden_size)
            for layer in range(num_layers)
        )
        self.bridge = nn.Linear(hidden_size, hidden_size)
        self.attention = make_attention(
            attention, hidden_size, hidden_size, attention_size
        )
        self.combine = nn.Linear(2 * hidden_size, hidden_size, bias=False)
        self.dropout = nn.Dropout(dropout)
        self.output_layer = nn.Linear(hidden_size, vocab_size)

    def start(self, memory):
        """The initial decoder state: bridged encoder states, zero feed.

        Returns
        -------
        state : tuple
            ``(layer_states, feed)``: one ``h`` (GRU) or ``(h, c)`` (LSTM)
            per layer, each ``(batch, hidden_size)``, and the attentional
            vector of the previous step, ``(batch, hidden_size)``.
        """
        hidden = torch.tanh(self.bridge(memory.final))  # (layers, batch, hidden)
        if self.cell == "lstm":
            layers = tuple((h, torch.zeros_like(h)) for h in hidden)
        else:
            layers = tuple(hidden)
        feed = hidden.new_zeros(hidden.shape[1:])  # (batch, hidden)
        return layers, feed

    def step(self, embedded, state, memory, need_weights=False):
        """One decoder step.

        Parameters
        ----------
        embedded : torch.Tensor of shape (batch, embedding_dim)
            The embedded previous token.
        state : tuple
            As returned by :meth:`start` or the previous step.
        memory : Memory
        need_weights : bool, default=False

        Returns
        -------
        attentional : torch.Tensor of shape (batch, hidden_size)
        state : tuple
        weights : torch.Tensor of shape (batch, src_len) or None
        """
        layers, feed = state
        inputs = torch.cat([embedded, feed], dim=-1)  # (batch, emb + hidden)
        new_layers = []
        for index, (cell, layer_state) in enumerate(zip(self.cells, layers)):
            layer_state = cell(inputs, layer_state)
            new_layers.append(layer_state)
            top = layer_state[0] if self.cell == "lstm" else layer_state
            inputs = self.dropout(top) if index + 1 < len(self.cells) else top
        context, weights = self.attention(
            top[:, None, :], memory.keys, memory.values, memory.mask, need_weights
        )  # (batch, 1, hidden), (batch, 1, src_len)
        attentional = torch.tanh(
            self.combine(torch.cat([top, context[:, 0]], dim=-1))
        )  # (batch, hidden)
        weights = weights[:, 0] if weights is not None else None
        return attentional, (tuple(new_layers), attentional), weights

    def logits(self, attentional):
        """Token scores from attentional vectors of any leading shape."""
        return self.output_layer(self.dropout(attentional))

    def forward(self, target_input, memory, need_weights=False):
        """Teacher-forced decoding of whole target sequences.

        Parameters
        ----------
        target_input : torch.LongTensor of shape (batch, tgt_len)
            Start token followed by the target tokens.
        memory : Memory
        need_weights : bool, default=False

        Returns
        -------
        logits : torch.Tensor of shape (batch, tgt_len, vocab_size)
        weights : torch.Tensor of shape (batch, tgt_len, src_len) or None
        """
        embedded = self.dropout(self.embedding(target_input))  # (batch, tgt, emb)
        state = self.start(memory)
        attentionals, weights = [], []
        for position in range(target_input.size(1)):
            attentional, state, step_weights = self.step(
                embedded[:, position], state, memory, need_weights
            )
            attentionals.append(attentional)
            weights.append(step_weights)
        # The output projection runs once over all steps, not once per step.
        logits = self.logits(torch.stack(attentionals, dim=1))  # (batch, tgt, V)
        return logits, torch.stack(weights, dim=1) if need_weights else None


class Seq2SeqModule(nn.Module):
    """Encoder-decoder with attention.

    Parameters
    ----------
    source_vocab_size, target_vocab_size : int
    embedding_dim : int
    hidden_size : int
        Size of the encoder outputs and of the decoder state.
    num_layers : int
    bidirectional : bool
    dropout : float
    cell : {"lstm", "gru"}
    attention : str
        A name from the attention registry.
    attention_size : int
        Hidden size of the scoring network, where it has one.
    """

    def __init__(
        self, source_vocab_size, target_vocab_size, embedding_dim=64,
        hidden_size=128, num_layers=1, bidirectional=True, dropout=0.1,
        cell="lstm", attention="additive", attention_size=128,
    ):
        super().__init__()
        self.encoder = Encoder(
            source_vocab_size, embedding_dim, hidden_size, num_layers,
            bidirectional, dropout, cell,
        )
        self.decoder = AttentiveDecoder(
            target_vocab_size, embedding_dim, hidden_size, num_layers, dropout,
            cell, attention, attention_size,
        )

    def encode(self, source, source_lengths):
        """Run the encoder and project the attention keys once.

        Returns
        -------
        Memory
        """
        outputs, final = self.encoder(source, source_lengths)
        mask = length_mask(source_lengths, source.size(1))  # (batch, src_len)
        keys = self.decoder.attention.project_keys(outputs)
        return Memory(outputs, keys, mask, final)

    def forward(self, source, source_lengths, target_input, need_weights=False):
        """Teacher-forced logits (and optionally attention weights).

        Parameters
        ----------
        source : torch.LongTensor of shape (batch, src_len)
        source_lengths : torch.LongTensor of shape (batch,)
        target_input : torch.LongTensor of shape (batch, tgt_len)
        need_weights : bool, default=False

        Returns
        -------
        torch.Tensor of shape (batch, tgt_len, target_vocab_size), or a
        ``(logits, weights)`` pair when ``need_weights`` is True.
        """
        memory = self.encode(source, source_lengths)
        logits, weights = self.decoder(target_input, memory, need_weights)
        return (logits, weights) if need_weights else logits

    def next_token_log_probs(self, tokens, state, memory):
        """Log-probabilities of the next token after ``tokens``.

        Padding and the start token can never come next.

        Parameters
        ----------
        tokens : torch.LongTensor of shape (batch,)
        state : tuple
        memory : Memory

        Returns
        -------
        log_probs : torch.Tensor of shape (batch, target_vocab_size)
        state : tuple
        """
        embedded = self.decoder.embedding(tokens)  # (batch, emb)
        attentional, state, _ = self.decoder.step(embedded, state, memory)
        logits = self.decoder.logits(attentional)  # (batch, V)
        logits[:, PAD] = float("-inf")
        logits[:, BOS] = float("-inf")
        return F.log_softmax(logits, dim=-1), state


class SequenceLoss(nn.Module):
    """Cross-entropy over all target steps, padding ignored.

    Parameters
    ----------
    label_smoothing : float, default=0.0
    """

    def __init__(self, label_smoothing=0.0):
        super().__init__()
        self.label_smoothing = label_smoothing

    def forward(self, logits, target):
        """``logits`` (batch, tgt_len, V), ``target`` (batch, tgt_len)."""
        return F.cross_entropy(
            logits.flatten(0, 1),
            target.flatten(),
            ignore_index=PAD,
            label_smoothing=self.label_smoothing,
        )
