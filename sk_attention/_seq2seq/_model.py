"""The encoder-decoder network with attention (torch only, no sklearn).

The encoder embeds the source tokens and runs a (bidirectional) LSTM or GRU
over packed sequences, so padding costs nothing. The decoder is a stack of
recurrent layers whose top state, at each step, attends over the encoder
outputs as query; state and context combine into an attentional vector
(Luong et al., 2015, Eq. 5) that predicts the next token.

Two decoders share that design and their parameters' names. Without input
feeding (the default), the recurrence reads only the previous token, so
under teacher forcing the layers run over the whole target in one fused
``torch.lstm``/``torch.gru`` call and the attention of all steps is one
batched computation. With input feeding (Section 3.3), each step's
attentional vector is also fed into the next step, so the decoder knows
where it attended before, at the price of a training loop over the target
steps.
"""

from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from .._attention import make_attention
from .._sequences import length_mask
from .._text import PAD
from ._encoder import Encoder

__all__ = ["Memory", "Seq2SeqModule", "SequenceLoss"]

_CELLS = {"lstm": nn.LSTMCell, "gru": nn.GRUCell}
_FUSED_RECURRENCE = {"lstm": torch.lstm, "gru": torch.gru}

# The additive rule's scores pass through a (batch, steps, src_len,
# attention_size) tensor; teacher-forced attention over all target steps
# computes it for this many elements at most at a time.
_SCORE_CHUNK_ELEMENTS = 2**22


@dataclass
class Memory:
    """What the decoder attends over, computed once per source batch.

    The ``EncodedSources`` of ``_inference.py``: decoding sizes its blocks
    of rows from ``values``, and the searches call :meth:`select`.

    Attributes
    ----------
    values : torch.Tensor of shape (batch, src_len, hidden_size)
        The encoder outputs; None in the exported decoder step, whose steps
        read ``keys``, ``mask`` and ``combined`` only.
    keys : torch.Tensor
        The attention's projection of the values (its ``project_keys``).
    mask : torch.BoolTensor of shape (batch, src_len)
        True on real source steps.
    final : torch.Tensor of shape (num_layers, batch, hidden_size)
        The encoder's final states, both directions concatenated, which
        start the decoder; None in the exported decoder step.
    combined : torch.Tensor of shape (batch, src_len, hidden_size)
        The values through the context half of the decoder's combine layer
        (``W_c2 x_i``). The context only enters the decoder through
        ``W_c2 c = sum_i alpha_i W_c2 x_i``, so attending over these saves
        a matmul at every step.
    step_weights : StepWeights
        The decoder's parameters arranged for its steps; they belong to no
        row.
    token_gates : torch.Tensor of shape (target_vocab_size, gates) or None
        When decoding, :meth:`AttentiveDecoder.embedding_gates` of every
        target token (see :meth:`Seq2SeqModule.encode`); it belongs to no
        row.
    """

    values: torch.Tensor
    keys: torch.Tensor
    mask: torch.Tensor
    final: torch.Tensor
    combined: torch.Tensor
    step_weights: "StepWeights"
    token_gates: torch.Tensor = None

    def select(self, index):
        """The memory of the batch rows ``index`` (for beam search).

        Source steps that are padding in every selected row are dropped, so
        a search over fewer or shorter rows attends over less.
        """
        mask = self.mask.index_select(0, index)  # (n, src_len)
        steps = int(mask.sum(1).max()) if len(index) else mask.size(1)
        return Memory(
            self.values[:, :steps].index_select(0, index),
            self.keys[:, :steps].index_select(0, index),
            mask[:, :steps],
            self.final.index_select(1, index),
            self.combined[:, :steps].index_select(0, index),
            self.step_weights,
            self.token_gates,
        )


class StepWeights(NamedTuple):
    """The decoder's parameters arranged for its steps, once per batch.

    Attributes
    ----------
    feed_weight : torch.Tensor of shape (hidden_size, gates) or None
        The first cell's input weights for the fed-back vector, transposed
        for ``addmm``; None without input feeding.
    top_weight, top_bias : torch.Tensor
        One matmul on the top layer's hidden state. Rows: the top cell's
        hidden gates (with their bias), the hidden half of the combine
        layer, then, where the attention has a fused path, its query rows
        (no bias).
    fused_query : FusedAdditiveQuery or None
        The attention's ``fused_query()``: how to score from those query
        rows. None where the attention module runs as it is.
    """

    feed_weight: torch.Tensor
    top_weight: torch.Tensor
    top_bias: torch.Tensor
    fused_query: object


class AttentiveDecoder(nn.Module):
    """A stack of recurrent cells with attention, with or without input feeding.

    The parameters live in ordinary :class:`~torch.nn.GRUCell` /
    :class:`~torch.nn.LSTMCell` modules, but a step does not call them: most
    of a step's cost at these sizes is the number of small operations, so
    the gate arithmetic is written out and the matmuls are merged. The first
    layer's input gates split into an embedding half, looked up or computed
    for all target steps at once, and, with input feeding, a half for the
    fed-back attentional vector. Everything that reads the top layer's new
    hidden state (its hidden gates for the next step, the hidden half of the
    combine layer and, where the attention offers a fused path, its query
    projection) is one matmul, carried in the state to the next step.

    Under teacher forcing without input feeding, :meth:`forward` runs the
    same weights through PyTorch's fused multi-layer kernel over the whole
    target instead of stepping.
    """

    def __init__(
        self, vocab_size, embedding_dim, hidden_size, num_layers, dropout, cell,
        attention, attention_size, attention_dropout=0.0, input_feeding=False,
    ):
        super().__init__()
        self.cell = cell
        self.attention_dropout = attention_dropout
        self.input_feeding = input_feeding
        self.hidden_size = hidden_size
        self.embedding_dim = embedding_dim
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=PAD)
        first_input = embedding_dim + hidden_size if input_feeding else embedding_dim
        self.cells = nn.ModuleList(
            _CELLS[cell](first_input if layer == 0 else hidden_size, hidden_size)
            for layer in range(num_layers)
        )
        self.bridge = nn.Linear(hidden_size, hidden_size)
        self.attention = make_attention(
            attention, hidden_size, hidden_size, attention_size
        )
        self.combine = nn.Linear(2 * hidden_size, hidden_size, bias=False)
        self.dropout = nn.Dropout(dropout)
        self.output_layer = nn.Linear(hidden_size, vocab_size)

    def step_weights(self):
        """The parameters a step uses, arranged once per batch.

        Returns
        -------
        StepWeights
        """
        top = self.cells[-1]
        fused = self.attention.fused_query()
        parts = [top.weight_hh, self.combine.weight[:, : self.hidden_size]]
        if fused is not None:
            parts.append(fused.weight)
        weight = torch.cat(parts)  # (gates + hidden [+ attention], hidden)
        bias = F.pad(top.bias_hh, (0, weight.size(0) - top.bias_hh.size(0)))
        feed_weight = None
        if self.input_feeding:
            feed_weight = self.cells[0].weight_ih[:, self.embedding_dim :].t()
        return StepWeights(feed_weight, weight, bias, fused)

    def embedding_gates(self, embedded):
        """The embedding half of the first layer's input gates.

        ``embedded`` has any leading shape and ``embedding_dim`` features;
        the result has the cell's gate size (``3 * hidden`` or
        ``4 * hidden``) instead.
        """
        first = self.cells[0]
        return F.linear(
            embedded, first.weight_ih[:, : self.embedding_dim], first.bias_ih
        )

    def initial_hidden(self, memory):
        """The layers' first hidden states: the bridged encoder states.

        Returns
        -------
        torch.Tensor of shape (num_layers, batch, hidden_size)
        """
        return torch.tanh(self.bridge(memory.final))

    def start(self, memory):
        """The initial decoder state: bridged encoder states, zero feed.

        Returns
        -------
        state : tuple
            ``(layer_states, top_gates)``, or with input feeding
            ``(layer_states, feed, top_gates)``: one ``h`` (GRU) or
            ``(h, c)`` (LSTM) per layer, each ``(batch, hidden_size)``; the
            attentional vector of the previous step, ``(batch,
            hidden_size)``; and the top cell's hidden gates for the next
            step, ``(batch, gates)``, already computed by the previous
            step's fused matmul (see :class:`StepWeights`).
        """
        hidden = self.initial_hidden(memory)  # (layers, batch, hidden)
        if self.cell == "lstm":
            layers = tuple((h, torch.zeros_like(h)) for h in hidden)
        else:
            layers = tuple(hidden)
        weights = memory.step_weights
        n_gates = self.cells[-1].weight_hh.size(0)
        top_gates = F.linear(
            hidden[-1], weights.top_weight[:n_gates], weights.top_bias[:n_gates]
        )  # (batch, gates)
        if not self.input_feeding:
            return layers, top_gates
        feed = hidden.new_zeros(hidden.shape[1:])  # (batch, hidden)
        return layers, feed, top_gates

    def _update(self, input_gates, hidden_gates, layer_state):
        """The cell's gate arithmetic (as in torch's GRUCell / LSTMCell)."""
        size = self.hidden_size
        if self.cell == "gru":
            input_rz, input_new = input_gates.split([2 * size, size], 1)
            hidden_rz, hidden_new = hidden_gates.split([2 * size, size], 1)
            reset, update = torch.sigmoid(input_rz + hidden_rz).chunk(2, 1)
            new = torch.tanh(torch.addcmul(input_new, reset, hidden_new))
            return torch.lerp(new, layer_state, update)  # (batch, hidden)
        gates = input_gates + hidden_gates  # (batch, 4 * hidden)
        in_gate, forget, candidate, out = gates.chunk(4, 1)  # (batch, hidden)
        in_gate, forget, _, out = torch.sigmoid(gates).chunk(4, 1)
        candidate = torch.tanh(candidate)
        cell = torch.addcmul(forget * layer_state[1], in_gate, candidate)
        return out * torch.tanh(cell), cell

    def _update_layers(self, input_gates, layers, top_gates):
        """Step every layer of the stack, bottom to top.

        Parameters
        ----------
        input_gates : torch.Tensor of shape (batch, gates)
            The first layer's input gates.
        layers : tuple
            The layer states of the previous step.
        top_gates : torch.Tensor of shape (batch, gates)
            The top layer's hidden gates, from the previous step's fused
            matmul.

        Returns
        -------
        layers : tuple
            The new layer states.
        hidden : torch.Tensor of shape (batch, hidden_size)
            The top layer's new hidden state.
        """
        new_layers, last = [], len(self.cells) - 1
        for index, (cell, layer_state) in enumerate(zip(self.cells, layers)):
            if index == last:
                hidden_gates = top_gates
            else:
                hidden = layer_state[0] if self.cell == "lstm" else layer_state
                hidden_gates = F.linear(hidden, cell.weight_hh, cell.bias_hh)
            layer_state = self._update(input_gates, hidden_gates, layer_state)
            new_layers.append(layer_state)
            hidden = layer_state[0] if self.cell == "lstm" else layer_state
            if index < last:
                above = self.cells[index + 1]
                input_gates = F.linear(
                    self.dropout(hidden), above.weight_ih, above.bias_ih
                )  # (batch, gates)
        return tuple(new_layers), hidden

    def _attend(self, hidden, query, combined_hidden, memory, need_weights):
        """Attend from the top state and add the context to the combine layer.

        Parameters
        ----------
        hidden : torch.Tensor of shape (batch, hidden_size)
            The top layer's new hidden state, the query.
        query : torch.Tensor of shape (batch, attention_size)
            The query's projection by the fused matmul (no columns where the
            attention has no fused path).
        combined_hidden : torch.Tensor of shape (batch, hidden_size)
            ``W_c1 h``, the hidden half of the combine layer.
        memory : Memory
        need_weights : bool

        Returns
        -------
        combined : torch.Tensor of shape (batch, hidden_size)
            ``W_c1 h + W_c2 c``, with ``W_c2 c`` attended from
            ``memory.combined``.
        weights : torch.Tensor of shape (batch, src_len) or None
        """
        fused = memory.step_weights.fused_query
        if fused is None:
            context, weights = self.attention(
                hidden[:, None], memory.keys, memory.combined, memory.mask,
                need_weights, self.attention_dropout,
            )  # (batch, 1, hidden), (batch, 1, src_len)
            weights = weights[:, 0] if weights is not None else None
            return combined_hidden + context[:, 0], weights
        weights = fused.weights(query, memory.keys, memory.mask)  # (batch, src)
        attended = weights
        if self.training and self.attention_dropout:
            attended = F.dropout(weights, self.attention_dropout)
        combined = torch.baddbmm(
            combined_hidden[:, None], attended[:, None], memory.combined
        )[:, 0]  # (batch, hidden)
        return combined, weights

    def step(self, embedding_gates, state, memory, need_weights=False):
        """One decoder step.

        Parameters
        ----------
        embedding_gates : torch.Tensor of shape (batch, gate_size)
            :meth:`embedding_gates` of the embedded previous token.
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
        weights = memory.step_weights
        if self.input_feeding:
            layers, feed, top_gates = state
            input_gates = torch.addmm(
                embedding_gates, feed, weights.feed_weight
            )  # (batch, gates)
        else:
            (layers, top_gates), input_gates = state, embedding_gates
        layers, hidden = self._update_layers(input_gates, layers, top_gates)
        top = F.linear(hidden, weights.top_weight, weights.top_bias)
        # One split, not several slices: its backward is one concatenation.
        n_gates, size = top_gates.size(1), self.hidden_size
        top_gates, combined_hidden, query = top.split(
            [n_gates, size, top.size(1) - n_gates - size], 1
        )  # (batch, gates), (batch, hidden), (batch, attention_size)
        combined, attention = self._attend(
            hidden, query, combined_hidden, memory, need_weights
        )
        attentional = torch.tanh(combined)  # tanh(W_c [h; c]), (batch, hidden)
        if self.input_feeding:
            return attentional, (layers, attentional, top_gates), attention
        return attentional, (layers, top_gates), attention

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
        if not self.input_feeding:
            return self._forward_in_parallel(target_input, memory, need_weights)
        embedded = self.dropout(self.embedding(target_input.t()))  # (tgt, batch, emb)
        # The embedding half of the input gates of every step at once.
        all_gates = self.embedding_gates(embedded)  # (tgt, batch, gates)
        state = self.start(memory)
        attentionals, attention = [], []
        for step_gates in all_gates:
            attentional, state, step_attention = self.step(
                step_gates, state, memory, need_weights
            )
            attentionals.append(attentional)
            attention.append(step_attention)
        # The output projection runs once over all steps, not once per step.
        logits = self.logits(torch.stack(attentionals, dim=1))  # (batch, tgt, V)
        return logits, torch.stack(attention, dim=1) if need_weights else None

    def _forward_in_parallel(self, target_input, memory, need_weights):
        """:meth:`forward` without input feeding: no loop over the steps.

        The layers run over the whole target in one call of PyTorch's fused
        kernel, with the cells' own weights (and its dropout between
        layers, as :meth:`_update_layers` drops); the attention of every
        step is then one batched computation.
        """
        embedded = self.dropout(self.embedding(target_input))  # (batch, tgt, emb)
        initial = self.initial_hidden(memory)  # (layers, batch, hidden)
        if self.cell == "lstm":
            initial = (initial, torch.zeros_like(initial))
        weights = [
            weight
            for cell in self.cells
            for weight in (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
        ]
        # (input, hx, params, has_biases, num_layers, dropout, train,
        #  bidirectional, batch_first), as nn.LSTM / nn.GRU call it.
        hidden = _FUSED_RECURRENCE[self.cell](
            embedded, initial, weights, True, len(self.cells), self.dropout.p,
            self.training, False, True,
        )[0]  # (batch, tgt, hidden)
        combined_hidden = F.linear(hidden, self.combine.weight[:, : self.hidden_size])
        context, weights = self._attend_all(hidden, memory, need_weights)
        attentional = torch.tanh(combined_hidden + context)  # (batch, tgt, hidden)
        return self.logits(attentional), weights

    def _attend_all(self, hidden, memory, need_weights):
        """Attention of every target step, in chunks of steps.

        Returns
        -------
        context : torch.Tensor of shape (batch, tgt_len, hidden_size)
            ``W_c2 c`` of every step, attended from ``memory.combined``.
        weights : torch.Tensor of shape (batch, tgt_len, src_len) or None
        """
        batch, steps, _ = hidden.shape
        per_step = batch * memory.keys.size(1) * memory.keys.size(2)
        chunk = max(1, _SCORE_CHUNK_ELEMENTS // per_step)
        parts = [
            self.attention(
                queries, memory.keys, memory.combined, memory.mask,
                need_weights, self.attention_dropout,
            )
            for queries in hidden.split(chunk, dim=1)
        ]
        context = torch.cat([part[0] for part in parts], dim=1)
        if not need_weights:
            return context, None
        return context, torch.cat([part[1] for part in parts], dim=1)


class Seq2SeqModule(nn.Module):
    """Encoder-decoder with attention.

    It is a ``DecodableModel`` of ``_inference.py`` (structurally: it has
    the members, it imports nothing from there): :meth:`encode` returns a
    :class:`Memory`, ``decoder.start`` a state of nested tensors with one
    row per source, and :meth:`next_token_logits` steps it for the searches
    of ``_search.py``.

    The settings have no defaults here: :class:`AttentionSeq2Seq` passes
    every one (``_architectures.py``), and its docstring is where each is
    explained and defaulted.

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
    attention_dropout : float
        Dropout on the decoder's attention weights during training.
    input_feeding : bool
        Feed each step's attentional vector into the next step.
    training_precision : {"float32", "bfloat16"}
        The number format of teacher-forced passes in training mode, under
        :func:`torch.autocast`; the parameters and everything in eval mode
        stay float32.
    """

    def __init__(
        self, source_vocab_size, target_vocab_size, *, embedding_dim,
        hidden_size, num_layers, bidirectional, dropout, cell, attention,
        attention_size, attention_dropout, input_feeding, training_precision,
    ):
        super().__init__()
        self.training_precision = training_precision
        self.encoder = Encoder(
            source_vocab_size, embedding_dim, hidden_size, num_layers,
            bidirectional, dropout, cell,
        )
        self.decoder = AttentiveDecoder(
            target_vocab_size, embedding_dim, hidden_size, num_layers, dropout,
            cell, attention, attention_size, attention_dropout, input_feeding,
        )

    def encode(self, source, source_lengths):
        """Run the encoder and project the attention keys once.

        Returns
        -------
        Memory
        """
        outputs, final = self.encoder(source, source_lengths)
        mask = length_mask(source_lengths, source.size(1))  # (batch, src_len)
        keys = self.decoder.attention.project_keys(outputs)  # (batch, src_len, ...)
        combine = self.decoder.combine.weight[:, self.decoder.hidden_size :]
        combined = F.linear(outputs, combine)  # (batch, src_len, hidden_size)
        step_weights = self.decoder.step_weights()
        token_gates = None
        decoder = self.decoder
        if not (self.training or torch.is_grad_enabled()):
            if decoder.embedding.num_embeddings <= source.size(0):
                # Decoding looks up the embedding half of the input gates of
                # each token instead of a matmul per step; with no more
                # tokens than rows the table costs at most one step.
                token_gates = decoder.embedding_gates(decoder.embedding.weight)
        return Memory(outputs, keys, mask, final, combined, step_weights, token_gates)

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
        autocast = torch.autocast(
            source.device.type,
            dtype=getattr(torch, self.training_precision),
            enabled=self.training and self.training_precision != "float32",
        )
        with autocast:
            memory = self.encode(source, source_lengths)
            logits, weights = self.decoder(target_input, memory, need_weights)
        logits = logits.float()  # the loss in float32 whatever the precision
        return (logits, weights) if need_weights else logits

    def next_token_logits(self, tokens, state, memory):
        """Scores of the next token after ``tokens``, for the searches.

        Parameters
        ----------
        tokens : torch.LongTensor of shape (batch,)
        state : tuple
        memory : Memory

        Returns
        -------
        logits : torch.Tensor of shape (batch, target_vocab_size)
        state : tuple
        """
        decoder = self.decoder
        if memory.token_gates is None:
            gates = decoder.embedding_gates(decoder.embedding(tokens))
        else:
            gates = memory.token_gates.index_select(0, tokens)  # (batch, gates)
        attentional, state, _ = decoder.step(gates, state, memory)
        return decoder.logits(attentional), state


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
