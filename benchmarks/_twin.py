"""Hand-tuned plain-PyTorch twins of the AttentionSeq2Seq network.

The yardsticks of ``bench_seq2seq.py``: the architecture of
``sk_attention._seq2seq._model`` with ``num_layers=1``,
``bidirectional=True`` and additive attention, written as one would write it
by hand for speed, with no skorch, no estimator and no library code. Each
twin takes ``cell="gru"`` or ``"lstm"`` (the estimator's default cell); the
GRU is described below, the LSTM differs only in its gates (four instead of
three, torch's ``LSTMCell`` arithmetic) and its cell state, which starts at
zero in the decoder.

:class:`TwinSeq2Seq` is the input-feeding design (``input_feeding=True``):

- a packed bidirectional GRU encoder (``hidden // 2`` units per direction)
  over batches sorted by length, so padding costs nothing;
- the attention keys ``W x_i + b`` and the context half of the combine
  layer ``W_c2 x_i`` projected once per source batch (the context only ever
  enters through ``W_c2 c = sum_i alpha_i W_c2 x_i``);
- under teacher forcing, the embedding half of the GRU's input gates for
  every step in one matmul before the loop;
- per step, one matmul for everything that reads the new hidden state (the
  next step's hidden gates, the hidden half of the combine layer and the
  attention query) and one for the fed-back attentional vector;
- the attention scored as ``2 v^T sigmoid(2 z)`` instead of
  ``v^T tanh(z)`` (equal up to a constant the softmax ignores; torch's CPU
  sigmoid is much faster than its tanh), the factors 2 folded into the
  keys and the query weights;
- the step's largest tensor, ``sigmoid(keys + query)``, allocated once
  (in-place sigmoid), and ``W_c1 h + W_c2 c`` in one ``baddbmm``;
- the output projection and the loss once after the loop;
- length-bucketed, shuffled batches; greedy decoding that drops finished
  rows; a batched beam search in cache-sized blocks (2 MiB of encoder
  outputs per block) whose first step runs once per row and that stops
  once no open hypothesis can win.

:class:`TwinParallelSeq2Seq` is the design without input feeding (the
default): the same encoder (the same code), then under teacher forcing

- the decoder as one ``nn.GRU`` call over the whole padded target (padding
  after a target's end changes none of its steps);
- the query ``2 U h`` and the hidden half of the combine layer ``W_c1 h``
  of every step from one matmul, the attention of all steps batched
  (``2 v^T sigmoid(2 z)``, in-place sigmoid, chunks of steps of at most
  16 MiB of energies), ``W_c1 h + W_c2 c`` in one ``baddbmm``;
- the output projection and the loss once.

Decoding steps the same GRU weights by hand, the input gates of every
target token computed once per call and looked up per step, the next
step's hidden gates computed at the end of a step; the greedy and beam
helpers below serve both twins through ``start`` / ``next_logits``.
"""

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

PAD, BOS, EOS, UNK = 0, 1, 2, 3


class CharVocabulary:
    """Characters <-> ids, ids 0..3 reserved for pad, start, end, unknown."""

    def __init__(self, texts):
        chars = sorted(set("".join(texts)))
        self.itos = ["<pad>", "<s>", "</s>", "<unk>", *chars]
        self.stoi = {char: index for index, char in enumerate(self.itos)}

    def __len__(self):
        return len(self.itos)

    def encode(self, text):
        return np.array([self.stoi.get(char, UNK) for char in text], np.int64)

    def decode(self, ids):
        return "".join(self.itos[index] for index in ids)


def pad(arrays, before=(), after=()):
    """A padded (batch, longest) LongTensor and the lengths."""
    rows = [np.concatenate((before, a, after)).astype(np.int64) for a in arrays]
    lengths = np.array([len(row) for row in rows])
    out = np.zeros((len(rows), lengths.max()), np.int64)
    for index, row in enumerate(rows):
        out[index, : len(row)] = row
    return torch.from_numpy(out), torch.from_numpy(lengths)


def bucketed_batches(lengths, batch_size, generator, pool_batches=50):
    """Shuffle, sort pools of ``pool_batches`` batches by length, shuffle batches.

    Every batch comes out sorted longest first, as packing wants.
    """
    order = generator.permutation(len(lengths))
    pool_size = batch_size * pool_batches
    batches = []
    for start in range(0, len(order), pool_size):
        pool = order[start : start + pool_size]
        pool = pool[np.argsort(-lengths[pool], kind="stable")]
        batches.extend(
            pool[i : i + batch_size] for i in range(0, len(pool), batch_size)
        )
    return [batches[i] for i in generator.permutation(len(batches))]


def cell_update(cell, input_gates, hidden_gates, state):
    """The gate arithmetic of torch's ``GRUCell`` / ``LSTMCell``.

    ``state`` is ``(h,)`` for a GRU, ``(h, c)`` for an LSTM; so is the result.
    """
    if cell == "gru":
        (hidden,) = state
        size = hidden.size(1)
        input_rz, input_n = input_gates.split([2 * size, size], 1)
        hidden_rz, hidden_n = hidden_gates.split([2 * size, size], 1)
        reset, update = torch.sigmoid(input_rz + hidden_rz).chunk(2, 1)
        new = torch.tanh(torch.addcmul(input_n, reset, hidden_n))
        return (torch.lerp(new, hidden, update),)
    gates = input_gates + hidden_gates  # (B, 4H)
    in_gate, forget, _, out = torch.sigmoid(gates).chunk(4, 1)
    size = state[0].size(1)
    candidate = torch.tanh(gates[:, 2 * size : 3 * size])
    cell_state = torch.addcmul(forget * state[1], in_gate, candidate)
    return out * torch.tanh(cell_state), cell_state


def initial_state(cell, hidden):
    """The decoder's first ``(h,)`` or ``(h, c)``: the bridged state, zero cell."""
    return (hidden,) if cell == "gru" else (hidden, torch.zeros_like(hidden))


class _TwinEncoder(nn.Module):
    """What both twins share: the embeddings, the bi-GRU/LSTM encoder, the
    bridge, and :meth:`encode`, which reads the subclass's ``key_layer``,
    ``combine_context`` and ``dropout``. Modules are created in the same
    order as when each twin built them itself, so seeds give the same
    weights."""

    def __init__(self, source_vocab, target_vocab, embedding_dim, hidden,
                 attention_size, cell):
        super().__init__()
        self.hidden = hidden
        self.attention_size = attention_size
        self.cell = cell
        self.gates = 3 * hidden if cell == "gru" else 4 * hidden
        self.source_embedding = nn.Embedding(source_vocab, embedding_dim, PAD)
        self.encoder = (nn.GRU if cell == "gru" else nn.LSTM)(
            embedding_dim, hidden // 2, batch_first=True, bidirectional=True
        )
        self.bridge = nn.Linear(hidden, hidden)
        self.target_embedding = nn.Embedding(target_vocab, embedding_dim, PAD)

    def encode(self, source, lengths):
        """Memory for a batch sorted longest first."""
        embedded = self.dropout(self.source_embedding(source))  # (B, S, E)
        packed = pack_padded_sequence(embedded, lengths, batch_first=True)
        outputs, final = self.encoder(packed)
        final = final if self.cell == "gru" else final[0]  # h, not c
        values, _ = pad_packed_sequence(outputs, batch_first=True)  # (B, S, H)
        final = torch.cat([final[0], final[1]], dim=-1)  # (B, H)
        steps = torch.arange(values.size(1), device=values.device)
        mask = steps[None, :] >= lengths.to(values.device)[:, None]  # (B, S)
        negative = values.new_zeros(mask.shape).masked_fill_(mask, float("-inf"))
        keys = 2 * self.key_layer(values)  # (B, S, A)
        context_values = self.combine_context(values)  # (B, S, H)
        return keys, context_values, negative, torch.tanh(self.bridge(final))



class TwinSeq2Seq(_TwinEncoder):
    """Bi-GRU/LSTM encoder, bridge, GRU/LSTM decoder with input feeding and
    additive attention, attentional vector ``tanh(W_c [h; c])``, output
    layer."""

    def __init__(
        self,
        source_vocab,
        target_vocab,
        embedding_dim=64,
        hidden=128,
        attention_size=128,
        dropout=0.1,
        cell="gru",
    ):
        super().__init__(
            source_vocab, target_vocab, embedding_dim, hidden, attention_size, cell
        )
        # Input gates: the embedding half (with b_ih) and the feed half.
        self.gates_embedding = nn.Linear(embedding_dim, self.gates)
        self.gates_feed = nn.Linear(hidden, self.gates, bias=False)
        # Everything that reads the hidden state: W_hh (gates, bias b_hh),
        # W_c1 (H, no bias) and the attention query U (A, no bias), stacked.
        self.from_hidden = nn.Parameter(
            torch.empty(self.gates + hidden + attention_size, hidden)
        )
        self.hidden_bias = nn.Parameter(torch.empty(self.gates))
        self.key_layer = nn.Linear(hidden, attention_size)  # W, b
        self.energy = nn.Parameter(torch.empty(attention_size))  # v
        self.combine_context = nn.Linear(hidden, hidden, bias=False)  # W_c2
        self.output_layer = nn.Linear(hidden, target_vocab)
        self.dropout = nn.Dropout(dropout)
        bound = hidden**-0.5
        for parameter in (self.from_hidden, self.hidden_bias, self.energy):
            nn.init.uniform_(parameter, -bound, bound)

    def weights(self):
        """Per-batch arrangement: the stacked hidden-side weight (query rows
        doubled) and its bias, the doubled energy, the transposed feed weight."""
        rows = self.gates + self.hidden
        weight = torch.cat([self.from_hidden[:rows], 2 * self.from_hidden[rows:]])
        extra = self.hidden_bias.new_zeros(self.hidden + self.attention_size)
        bias = torch.cat([self.hidden_bias, extra])  # (gates + H + A,)
        return weight, bias, 2 * self.energy, self.gates_feed.weight.t()

    def initial_gates(self, hidden, weights):
        rows = self.gates
        return F.linear(hidden, weights[0][:rows], weights[1][:rows])  # (B, G)

    def step(self, input_gates, hidden_gates, recurrent, memory, weights):
        """One recurrent + attention step from precomputed input and hidden
        gates; ``recurrent`` is ``(h,)`` or ``(h, c)``. Returns the next
        state, ``(attentional, hidden gates, *recurrent)``."""
        H, A = self.hidden, self.attention_size
        keys, context_values, negative = memory
        weight, bias, energy, _ = weights
        recurrent = cell_update(self.cell, input_gates, hidden_gates, recurrent)
        hidden_gates, combined, query = F.linear(recurrent[0], weight, bias).split(
            [self.gates, H, A], 1
        )  # (B, G), (B, H), (B, A)
        energies = torch.add(keys, query[:, None]).sigmoid_()  # (B, S, A)
        attention = torch.softmax(energies.matmul(energy) + negative, dim=-1)
        combined = torch.baddbmm(combined[:, None], attention[:, None], context_values)
        attentional = torch.tanh(combined[:, 0])  # (B, H)
        return attentional, hidden_gates, *recurrent

    def forward(self, source, lengths, target_input):
        """Teacher-forced logits (B, T, V)."""
        *memory, hidden = self.encode(source, lengths)
        weights = self.weights()
        embedded = self.dropout(self.target_embedding(target_input.t()))  # (T,B,E)
        input_gates = self.gates_embedding(embedded)  # (T, B, G)
        state = self.start(hidden, weights)
        outputs = []
        for step_gates in input_gates:
            feed, hidden_gates, *recurrent = state
            gates = torch.addmm(step_gates, feed, weights[3])
            state = self.step(gates, hidden_gates, recurrent, memory, weights)
            outputs.append(state[0])
        stacked = torch.stack(outputs, dim=1)  # (B, T, H)
        return self.output_layer(self.dropout(stacked))

    def start(self, hidden, weights):
        """The decoder state: (feed, hidden gates, h[, c]), one row each."""
        return (
            hidden.new_zeros(hidden.shape),
            self.initial_gates(hidden, weights),
            *initial_state(self.cell, hidden),
        )

    def next_logits(self, tokens, state, memory, weights):
        feed, hidden_gates, *recurrent = state
        gates = self.gates_embedding(self.target_embedding(tokens))
        gates = torch.addmm(gates, feed, weights[3])
        state = self.step(gates, hidden_gates, recurrent, memory, weights)
        logits = self.output_layer(state[0])  # (B, V)
        logits[:, :EOS] = float("-inf")  # never pad or start
        return logits, state


class TwinParallelSeq2Seq(_TwinEncoder):
    """The same encoder and attention without input feeding.

    The decoder's GRU/LSTM reads only the embedding, so under teacher
    forcing it runs over the whole target in one ``nn.GRU``/``nn.LSTM``
    call; then the query and
    the hidden half of the combine layer of every step come from one
    matmul, the attention of every step is one batched computation, and
    ``tanh(W_c1 h + W_c2 c)`` is one ``baddbmm``. Decoding steps the same
    weights by hand, the input gates looked up from a per-token table.
    """

    def __init__(
        self,
        source_vocab,
        target_vocab,
        embedding_dim=64,
        hidden=128,
        attention_size=128,
        dropout=0.1,
        cell="gru",
    ):
        super().__init__(
            source_vocab, target_vocab, embedding_dim, hidden, attention_size, cell
        )
        self.decoder = (nn.GRU if cell == "gru" else nn.LSTM)(
            embedding_dim, hidden, batch_first=True
        )
        # What reads the decoder state: W_c1 (H) and the query U (A), stacked.
        self.from_hidden = nn.Linear(hidden, hidden + attention_size, bias=False)
        self.key_layer = nn.Linear(hidden, attention_size)  # W, b
        self.energy = nn.Parameter(torch.empty(attention_size))  # v
        nn.init.uniform_(self.energy, -(hidden**-0.5), hidden**-0.5)
        self.combine_context = nn.Linear(hidden, hidden, bias=False)  # W_c2
        self.output_layer = nn.Linear(hidden, target_vocab)
        self.dropout = nn.Dropout(dropout)

    def query_weight(self):
        """``[W_c1; 2 U]``: the factor 2 of ``2 v^T sigmoid(2 z)`` folded in."""
        H = self.hidden
        weight = self.from_hidden.weight
        return torch.cat([weight[:H], 2 * weight[H:]])

    def attend(self, hidden, keys, context_values, negative, weight, energy):
        """``tanh(W_c1 h + W_c2 c)`` for queries (B, T, H) or (B, H)."""
        single = hidden.dim() == 2
        if single:
            hidden = hidden[:, None]
        combined, query = F.linear(hidden, weight).split(
            [self.hidden, self.attention_size], -1
        )  # (B, T, H), (B, T, A)
        energies = torch.add(keys[:, None], query[:, :, None]).sigmoid_()
        scores = energies.matmul(energy) + negative[:, None]  # (B, T, S)
        attention = torch.softmax(scores, dim=-1)
        attentional = torch.tanh(torch.baddbmm(combined, attention, context_values))
        return attentional[:, 0] if single else attentional

    def forward(self, source, lengths, target_input, chunk_elements=2**22):
        """Teacher-forced logits (B, T, V), no loop over the steps.

        The attention runs over chunks of steps whose ``(B, steps, S, A)``
        energies hold at most ``chunk_elements`` numbers (16 MiB).
        """
        *memory, hidden = self.encode(source, lengths)
        embedded = self.dropout(self.target_embedding(target_input))  # (B, T, E)
        initial = [part[None] for part in initial_state(self.cell, hidden)]
        initial = initial[0] if self.cell == "gru" else tuple(initial)
        states, _ = self.decoder(embedded, initial)  # (B, T, H)
        keys = memory[0]
        steps = max(1, chunk_elements // keys.numel())
        weight, energy = self.query_weight(), 2 * self.energy
        attentional = torch.cat(
            [
                self.attend(part, *memory, weight, energy)
                for part in states.split(steps, dim=1)
            ],
            dim=1,
        )
        return self.output_layer(self.dropout(attentional))

    def weights(self):
        """Per-decoding arrangement: the input gates of every token, the
        hidden gates' weight and bias, the query weight, the doubled energy."""
        gates = F.linear(
            self.target_embedding.weight,
            self.decoder.weight_ih_l0,
            self.decoder.bias_ih_l0,
        )  # (V, G)
        return (
            gates,
            self.decoder.weight_hh_l0,
            self.decoder.bias_hh_l0,
            self.query_weight(),
            2 * self.energy,
        )

    def start(self, hidden, weights):
        """The decoder state: (hidden gates, h[, c]), one row each."""
        return F.linear(hidden, weights[1], weights[2]), *initial_state(
            self.cell, hidden
        )

    def next_logits(self, tokens, state, memory, weights):
        hidden_gates, *recurrent = state
        table, weight_hh, bias_hh, query_weight, energy = weights
        recurrent = cell_update(self.cell, table[tokens], hidden_gates, recurrent)
        hidden = recurrent[0]  # (B, H)
        attentional = self.attend(hidden, *memory, query_weight, energy)
        logits = self.output_layer(attentional)  # (B, V)
        logits[:, :EOS] = float("-inf")  # never pad or start
        return logits, (F.linear(hidden, weight_hh, bias_hh), *recurrent)


def train_epoch(
    model,
    optimizer,
    sources,
    targets,
    batch_size,
    generator,
    clip=1.0,
    device="cpu",
    autocast_dtype=None,
):
    """One epoch over id arrays; returns the number of target tokens.

    ``autocast_dtype`` (e.g. ``torch.bfloat16``) runs the forward pass under
    :func:`torch.autocast` on ``device``.
    """
    model.train()
    lengths = np.array([len(source) for source in sources])
    tokens = 0
    device_type = torch.device(device).type
    for batch in bucketed_batches(lengths, batch_size, generator):
        source, source_lengths = pad([sources[i] for i in batch])
        target_input, _ = pad([targets[i] for i in batch], before=[BOS])
        target_output, _ = pad([targets[i] for i in batch], after=[EOS])
        target_output = target_output.to(device)
        with torch.autocast(
            device_type, autocast_dtype, enabled=autocast_dtype is not None
        ):
            logits = model(source.to(device), source_lengths, target_input.to(device))
            loss = F.cross_entropy(
                logits.flatten(0, 1), target_output.flatten(), ignore_index=PAD
            )
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        tokens += int((target_output != PAD).sum())  # also waits for the device
    return tokens


def _sorted_chunks(sources, batch_size):
    order = np.argsort([-len(source) for source in sources], kind="stable")
    for start in range(0, len(order), batch_size):
        yield order[start : start + batch_size]


@torch.inference_mode()
def greedy_decode(model, sources, max_length, batch_size=256, device="cpu"):
    """Id lists (end token excluded), batched, finished rows dropped."""
    model.eval()
    results = [None] * len(sources)
    weights = model.weights()
    for chunk in _sorted_chunks(sources, batch_size):
        source, lengths = pad([sources[i] for i in chunk])
        *memory, hidden = model.encode(source.to(device), lengths)
        state = model.start(hidden, weights)
        tokens = torch.full((len(chunk),), BOS, device=device)
        active = torch.arange(len(chunk), device=device)
        output = torch.full((len(chunk), max_length), EOS, device=device)
        for position in range(max_length):
            logits, state = model.next_logits(tokens, state, memory, weights)
            tokens = logits.argmax(-1)
            output[active, position] = tokens
            live = tokens != EOS
            if not live.all():
                keep = live.nonzero()[:, 0]
                if len(keep) == 0:
                    break
                active, tokens = active[keep], tokens[keep]
                state = [part[keep] for part in state]
                memory = [part[keep] for part in memory]
        for row, index in zip(output.tolist(), chunk):
            results[index] = row[: row.index(EOS)] if EOS in row else row
    return results


@torch.inference_mode()
def beam_decode(
    model,
    sources,
    max_length,
    beam_size=5,
    batch_size=256,
    block_bytes=2**21,
    device="cpu",
):
    """Length-normalised batched beam search; id lists (end token excluded).

    Each batch is searched in blocks of rows whose ``(hypotheses, src_len,
    hidden)`` encoder outputs fit ``block_bytes`` (cache-sized); the first
    step runs once per row; a block stops once, in each row, the best open
    hypothesis divided by ``max_length`` cannot beat the best finished one.
    """
    model.eval()
    results = [None] * len(sources)
    weights = model.weights()
    for chunk in _sorted_chunks(sources, batch_size):
        row_bytes = 4 * model.hidden * len(sources[chunk[0]])  # the longest
        block = max(1, block_bytes // (beam_size * row_bytes))
        for start in range(0, len(chunk), block):
            rows = chunk[start : start + block]
            outputs = _beam_block(model, sources, rows, max_length, beam_size,
                                  weights, device)
            for row, index in zip(outputs, rows):
                results[index] = row[: row.index(EOS)] if EOS in row else row
    return results


def _beam_block(model, sources, chunk, max_length, beam_size, weights, device):
    batch = len(chunk)
    source, lengths = pad([sources[i] for i in chunk])
    *memory, hidden = model.encode(source.to(device), lengths)
    state = model.start(hidden, weights)
    tokens = torch.full((batch,), BOS, device=device)
    scores = torch.zeros((batch, 1), device=device)  # one hypothesis per row
    finished = torch.zeros(batch, dtype=torch.bool, device=device)
    lengths = torch.zeros(batch, device=device)
    rows = torch.arange(batch, device=device)
    history, parents = [], []
    pad_only = None
    width = 1
    for _ in range(max_length):
        logits, state = model.next_logits(tokens, state, memory, weights)
        log_probs = torch.log_softmax(logits, dim=-1)  # (B*width, V)
        vocab = log_probs.size(1)
        if pad_only is None:
            pad_only = torch.full((vocab,), float("-inf"), device=device)
            pad_only[PAD] = 0.0
        log_probs = torch.where(finished[:, None], pad_only, log_probs)
        candidates = (scores.view(-1, 1) + log_probs).view(batch, -1)
        scores, best = candidates.topk(beam_size, dim=-1)  # (B, k)
        parent = (rows[:, None] * width + best // vocab).view(-1)
        tokens = (best % vocab).view(-1)
        state = [part[parent] for part in state]
        if width == 1:
            memory = [part[parent] for part in memory]
            width = beam_size
        finished, lengths = finished[parent], lengths[parent]
        lengths += ~finished
        finished |= tokens == EOS
        history.append(tokens)
        parents.append(parent)
        done = finished.view(batch, beam_size)
        normalised = scores / lengths.view(batch, beam_size).clamp(min=1)
        best_done = normalised.masked_fill(~done, float("-inf")).amax(-1)
        best_open = scores.masked_fill(done, float("-inf")).amax(-1) / max_length
        if bool((best_open <= best_done).all()):
            normalised = normalised.masked_fill(~done, float("-inf"))
            break
    chosen = rows * beam_size + normalised.argmax(-1)
    output = torch.empty((batch, len(history)), dtype=torch.long, device=device)
    for position in range(len(history) - 1, -1, -1):
        output[:, position] = history[position][chosen]
        chosen = parents[position][chosen]
    return output.tolist()
