"""Batched decoding: greedy search and length-normalised beam search.

The search owns the decoding loop; a model only offers the steps, as the
protocols below declare: :class:`DecodableModel`, whose decoder starts a
:data:`DecoderState` from a :class:`DecoderMemory`. Any model that has these
members decodes here; this module imports no model.

Both searches return the decoded token ids as a ``(batch, length)`` tensor
in which each row ends at its first end token (rows that never produced
one stop at ``max_length``), padded after; :func:`nbest_search` returns the
``n_best`` best outputs of each row's beam with their scores. They run under
the caller's ``torch.inference_mode()``.
"""

from typing import NamedTuple, Protocol, Union, runtime_checkable

import torch

from .._text import BOS, EOS, PAD

__all__ = [
    "DecodableModel",
    "DecoderMemory",
    "DecoderState",
    "Hypotheses",
    "StepDecoder",
    "ban_padding_and_start",
    "beam_search",
    "greedy_search",
    "nbest_search",
    "strip_after_end",
]

#: A decoder state: a tensor whose first dimension is the batch row, or a
#: tuple of states, nested to any depth. The search keeps or reorders rows
#: by indexing the first dimension of every tensor in it.
DecoderState = Union[torch.Tensor, tuple]


@runtime_checkable
class DecoderMemory(Protocol):
    """An encoded batch of sources, as the search needs it.

    Attributes
    ----------
    values : torch.Tensor of shape (batch, src_len, ...)
        The encoder outputs; the search reads the batch size, device and
        size of a row from it.
    """

    values: torch.Tensor

    def select(self, index: torch.Tensor) -> "DecoderMemory":
        """The memory of the batch rows ``index``, a ``(n,)`` long tensor."""


@runtime_checkable
class StepDecoder(Protocol):
    """The decoder of a :class:`DecodableModel`."""

    def start(self, memory: DecoderMemory) -> DecoderState:
        """The state before the first token, one row per memory row."""


@runtime_checkable
class DecodableModel(Protocol):
    """A model the searches can decode with, one token at a time.

    Attributes
    ----------
    decoder : StepDecoder
    """

    decoder: StepDecoder

    def next_token_logits(
        self, tokens: torch.Tensor, state: DecoderState, memory: DecoderMemory
    ) -> tuple[torch.Tensor, DecoderState]:
        """Scores of the next token after ``tokens``.

        Parameters
        ----------
        tokens : torch.LongTensor of shape (batch,)
        state : DecoderState
        memory : DecoderMemory
            With the same rows as ``state``.

        Returns
        -------
        logits : torch.Tensor of shape (batch, vocab_size)
            A fresh tensor: the search writes into it.
        state : DecoderState
            The state after ``tokens``.
        """


class Hypotheses(NamedTuple):
    """The best outputs of each row of a beam search, best first.

    Entries a row's beam could not fill have ``-inf`` scores and padding
    tokens.

    Attributes
    ----------
    tokens : torch.LongTensor of shape (batch, n_best, n_steps)
        Each output ends at its first end token, padded after.
    log_probs : torch.Tensor of shape (batch, n_best)
        Total log-probability of each output, its end token included.
    scores : torch.Tensor of shape (batch, n_best)
        ``log_probs / length ** length_penalty``, what the outputs are
        ranked by.
    """

    tokens: torch.Tensor
    log_probs: torch.Tensor
    scores: torch.Tensor


def ban_padding_and_start(logits):
    """Make padding and the start token impossible as an output token.

    Every search, and the scoring of given outputs, reads its logits through
    this, so that all of them forbid the same tokens whatever the model.

    Parameters
    ----------
    logits : torch.Tensor of shape (..., vocab_size)
        Modified in place.

    Returns
    -------
    torch.Tensor
        ``logits``.
    """
    logits[..., PAD : BOS + 1] = float("-inf")  # one fill: the ids are 0 and 1
    return logits


def _next_token_logits(model, tokens, state, memory):
    """The model's next-token logits, padding and the start token banned."""
    logits, state = model.next_token_logits(tokens, state, memory)
    return ban_padding_and_start(logits), state  # (batch, vocab_size)


def _select_state(state, index):
    """Rows ``index`` of every tensor in a nested decoder state."""
    if isinstance(state, torch.Tensor):
        return state.index_select(0, index)
    return tuple(_select_state(part, index) for part in state)


def greedy_search(model, memory, max_length):
    """Pick the most likely token at every step.

    Finished rows are dropped from the batch as soon as they produce the end
    token, and decoding stops when every row has finished.

    Parameters
    ----------
    model : DecodableModel
    memory : DecoderMemory
        The encoded batch, ``batch`` rows.
    max_length : int
        The most tokens a row may produce, the end token included.

    Returns
    -------
    torch.LongTensor of shape (batch, n_steps), n_steps <= max_length
    """
    batch = memory.values.size(0)
    device = memory.values.device
    output = torch.full((batch, max_length), PAD, dtype=torch.long, device=device)
    active = torch.arange(batch, device=device)  # original row of each live row
    tokens = torch.full((batch,), BOS, dtype=torch.long, device=device)
    state = model.decoder.start(memory)
    steps = 0
    for position in range(max_length):
        logits, state = _next_token_logits(model, tokens, state, memory)
        tokens = logits.argmax(dim=-1)  # (live,), no softmax needed
        output[active, position] = tokens
        steps = position + 1
        unfinished = tokens != EOS
        if not unfinished.all():
            keep = unfinished.nonzero().squeeze(1)
            if keep.numel() == 0:
                break
            active, tokens = active[keep], tokens[keep]
            state = _select_state(state, keep)
            memory = memory.select(keep)
    return output[:, :steps]


#: On the CPU, a beam search steps blocks of rows small enough that one
#: ``(hypotheses, src_len, hidden_size)`` float tensor, the size of a step's
#: largest, fits this many bytes (a typical L2 cache). On dates, blocks of
#: 2 MiB decoded 1.15x faster than blocks 4x larger.
BEAM_BLOCK_BYTES = 2**21


def beam_search(model, memory, max_length, beam_size, length_penalty=1.0):
    """Keep the ``beam_size`` most likely prefixes of every row.

    Hypotheses are ranked during the search by total log-probability; the
    finished ones are compared at the end by total log-probability divided
    by ``length ** length_penalty`` (the end token counts), so that longer
    outputs are not penalised merely for having more factors. With
    ``beam_size=1`` this is exactly greedy search.

    A row stops as soon as none of its open hypotheses can still win: an
    open hypothesis's total only falls as it grows, and its length is at
    most ``max_length``, so once ``score / max_length ** length_penalty`` of
    the best open one is no better than the best finished one, the row's
    answer is known. The row then leaves the search, as finished rows leave
    greedy search, with the answer of the full search and without decoding
    its unlikely hypotheses to ``max_length``.

    On the CPU, rows are searched in blocks sized by ``BEAM_BLOCK_BYTES``.

    Parameters
    ----------
    model : DecodableModel
    memory : DecoderMemory
        The encoded batch, ``batch`` rows.
    max_length : int
    beam_size : int
    length_penalty : float, default=1.0
        0 ranks by total log-probability; 1 by mean log-probability per token.

    Returns
    -------
    torch.LongTensor of shape (batch, n_steps), n_steps <= max_length
    """
    return nbest_search(
        model, memory, max_length, beam_size, 1, length_penalty
    ).tokens[:, 0]


def nbest_search(model, memory, max_length, beam_size, n_best, length_penalty=1.0):
    """The ``n_best`` best outputs of each row of one beam search.

    The search of :func:`beam_search`, whose best output is the first here,
    except that a row stops only once its ``n_best``-th best finished
    hypothesis can no longer be beaten by an open one (the same bound). The
    outputs are the distinct hypotheses left in the row's beam, best first;
    a row has fewer than ``n_best`` when its beam holds fewer finished ones
    (or, when the steps run out, fewer with a non-zero probability).

    The best output does not depend on ``n_best``: once :func:`beam_search`
    would stop, no open hypothesis has a higher total than the best
    finished one, so none can push it out of the beam later.

    Parameters
    ----------
    model : DecodableModel
    memory : DecoderMemory
        The encoded batch, ``batch`` rows.
    max_length : int
    beam_size : int
    n_best : int
        At most ``beam_size``.
    length_penalty : float, default=1.0

    Returns
    -------
    Hypotheses
        With ``n_steps <= max_length``.
    """
    batch = memory.values.size(0)
    block = batch
    if memory.values.device.type == "cpu":
        row_bytes = memory.values[0].numel() * memory.values.element_size()
        block = max(1, BEAM_BLOCK_BYTES // (beam_size * row_bytes))
    options = (max_length, beam_size, n_best, length_penalty)
    if batch <= block:
        return _beam_block(model, memory, *options)
    device = memory.values.device
    parts = [
        _beam_block(
            model, memory.select(torch.arange(start, min(start + block, batch),
                                              device=device)),
            *options,
        )
        for start in range(0, batch, block)
    ]
    n_steps = max(part.tokens.size(-1) for part in parts)
    tokens = torch.cat(
        [torch.nn.functional.pad(part.tokens, (0, n_steps - part.tokens.size(-1)),
                                 value=PAD)
         for part in parts]
    )  # (batch, n_best, n_steps)
    return Hypotheses(
        tokens,
        torch.cat([part.log_probs for part in parts]),
        torch.cat([part.scores for part in parts]),
    )


def _beam_block(model, memory, max_length, beam_size, n_best, length_penalty):
    """:func:`nbest_search` of one block of rows.

    A row whose answer is known leaves the block, as finished rows leave
    greedy search, so the rest step on without it.
    """
    batch = memory.values.size(0)
    device = memory.values.device
    origin = torch.arange(batch, device=device)  # block row of each live row
    state = model.decoder.start(memory)
    # The search starts with one hypothesis per row (the start token alone),
    # so the first step runs once per row, not once per beam.
    width = 1
    tokens = torch.full((batch,), BOS, dtype=torch.long, device=device)
    scores = torch.zeros((batch, 1), device=device)
    finished = torch.zeros(batch, dtype=torch.bool, device=device)
    lengths = torch.zeros(batch, device=device)
    longest = float(max_length) ** length_penalty
    # history[t]: the tokens of step t's hypotheses; parents[t]: the index of
    # each one's prefix among step t - 1's. answers: an _Answer per step at
    # which rows left.
    history, parents, answers = [], [], []
    layout = None  # step t - 1's hypotheses that stayed, if rows left
    first_of_row = origin[:, None]  # (rows, 1)
    for step in range(max_length):
        logits, state = _next_token_logits(model, tokens, state, memory)
        log_probs = torch.log_softmax(logits, dim=-1)  # (rows * width, V)
        if not history:
            padding_only = _padding_only(log_probs)
        scores, parent, tokens, finished, lengths = _extend(
            log_probs, scores, finished, lengths, first_of_row, beam_size,
            padding_only,
        )
        state = _select_state(state, parent)
        if width != scores.size(1):
            memory, first_of_row = _widen(memory, width, scores.size(1))
            width = scores.size(1)
        history.append(tokens)
        parents.append(parent if layout is None else layout[parent])
        layout = None
        out_of_steps = step == max_length - 1
        if not (out_of_steps or bool(finished.any())):
            continue  # no row can be decided yet
        decided, ranked = _decide_rows(
            scores, finished, lengths, length_penalty, longest, out_of_steps,
            min(n_best, width),
        )
        if not decided.any():
            continue
        leaving = decided.nonzero().squeeze(1)
        answers.append(_answer(step, leaving, origin, scores, ranked, n_best))
        if bool(decided.all()):
            break
        staying = (~decided).nonzero().squeeze(1)
        layout = _hypotheses_of(staying, width)  # (staying rows * width,)
        origin, scores = origin[staying], scores[staying]
        first_of_row = first_of_row[: origin.numel()]
        tokens, finished, lengths = tokens[layout], finished[layout], lengths[layout]
        state = _select_state(state, layout)
        memory = memory.select(layout)
    return _backtrack(history, parents, answers, batch, n_best)


def _padding_only(log_probs):
    """The log-probabilities that extend a finished hypothesis.

    Only padding, at no cost, so a finished hypothesis keeps its total.

    Parameters
    ----------
    log_probs : torch.Tensor of shape (hypotheses, vocab_size)

    Returns
    -------
    torch.Tensor of shape (vocab_size,)
    """
    padding_only = torch.full_like(log_probs[0], float("-inf"))
    padding_only[PAD] = 0.0
    return padding_only  # (V,)


def _extend(log_probs, scores, finished, lengths, first_of_row, beam_size,
            padding_only):
    """Extend every hypothesis by every token; keep each row's best ones.

    Parameters
    ----------
    log_probs : torch.Tensor of shape (rows * width, vocab_size)
    scores : torch.Tensor of shape (rows, width)
        Total log-probability of each hypothesis.
    finished : torch.BoolTensor of shape (rows * width,)
    lengths : torch.Tensor of shape (rows * width,)
        Tokens of each hypothesis up to its end token.
    first_of_row : torch.LongTensor of shape (rows, 1)
        Index of each row's first hypothesis.
    beam_size : int
    padding_only : torch.Tensor of shape (vocab_size,)
        See :func:`_padding_only`.

    Returns
    -------
    scores : torch.Tensor of shape (rows, new_width)
    parent : torch.LongTensor of shape (rows * new_width,)
        Index of each new hypothesis's prefix among the old ones.
    tokens : torch.LongTensor of shape (rows * new_width,)
    finished : torch.BoolTensor of shape (rows * new_width,)
    lengths : torch.Tensor of shape (rows * new_width,)
    """
    vocab_size = log_probs.size(-1)
    log_probs = torch.where(finished[:, None], padding_only, log_probs)
    candidates = (scores.view(-1, 1) + log_probs).view(scores.size(0), -1)
    scores, best = candidates.topk(min(beam_size, candidates.size(1)), dim=-1)
    parent = (first_of_row + best // vocab_size).view(-1)
    tokens = (best % vocab_size).view(-1)  # (rows * new width,)
    finished, lengths = finished[parent], lengths[parent]
    lengths = lengths + (~finished).float()
    finished = finished | (tokens == EOS)
    return scores, parent, tokens, finished, lengths


def _widen(memory, width, new_width):
    """The memory of ``new_width`` hypotheses per row instead of ``width``.

    Returns
    -------
    memory : DecoderMemory
        Each row's memory ``new_width`` times, ``rows * new_width`` rows.
    first_of_row : torch.LongTensor of shape (rows, 1)
    """
    rows = memory.values.size(0) // width
    first = torch.arange(rows, device=memory.values.device) * width
    memory = memory.select(first.repeat_interleave(new_width))
    return memory, first[:, None] // width * new_width


def _decide_rows(scores, finished, lengths, length_penalty, longest, out_of_steps,
                 n_best):
    """Which rows know their answers, and how their hypotheses rank.

    A row is decided once its best open hypothesis, even at the longest
    length, normalises to no better than its ``n_best``-th best finished
    one (see :func:`beam_search`). When the steps run out, every row is
    decided.

    Parameters
    ----------
    scores : torch.Tensor of shape (rows, width)
    finished, lengths : torch.Tensor of shape (rows * width,)
    length_penalty : float
    longest : float
        ``max_length ** length_penalty``.
    out_of_steps : bool
    n_best : int
        At most ``width``.

    Returns
    -------
    decided : torch.BoolTensor of shape (rows,)
    ranked : torch.Tensor of shape (rows, width)
        The normalised scores to choose a decided row's answer by: of the
        finished hypotheses only, ``-inf`` for the open ones, except in the
        rows decided because the steps ran out.
    """
    width = scores.size(1)
    done = finished.view(-1, width)
    denominator = lengths.view(-1, width).clamp(min=1) ** length_penalty
    normalised = scores / denominator  # (rows, width)
    ranked = normalised.masked_fill(~done, float("-inf"))
    best_open = scores.masked_fill(done, float("-inf")).amax(-1) / longest
    if n_best == 1:
        last_answer = ranked.amax(-1)
    else:
        last_answer = ranked.topk(n_best, dim=-1).values[:, -1]
    decided = best_open <= last_answer  # (rows,)
    if out_of_steps:
        # The undecided rows take their best hypothesis.
        ranked = torch.where(decided[:, None], ranked, normalised)
        decided = torch.ones_like(decided)
    return decided, ranked


def _hypotheses_of(rows, width):
    """Indices of the hypotheses of ``rows``, ``(len(rows) * width,)``."""
    layout = rows[:, None] * width + torch.arange(width, device=rows.device)
    return layout.view(-1)


class _Answer(NamedTuple):
    """The rows that left the search at one step, and their best hypotheses."""

    step: int
    chosen: torch.Tensor  # (rows, k): hypothesis indices, best first
    rows: torch.Tensor  # (rows,): block rows
    log_probs: torch.Tensor  # (rows, k)
    scores: torch.Tensor  # (rows, k), -inf where the beam held no answer


def _answer(step, leaving, origin, scores, ranked, n_best):
    """The :class:`_Answer` of the decided rows ``leaving``.

    Parameters
    ----------
    step : int
    leaving : torch.LongTensor of shape (rows,)
        Indices of the decided rows among the live ones.
    origin : torch.LongTensor of shape (live,)
        The block row of each live row.
    scores, ranked : torch.Tensor of shape (live, width)
        Total log-probabilities, and the normalised scores to rank by
        (from :func:`_decide_rows`).
    n_best : int

    Returns
    -------
    _Answer
    """
    width = scores.size(1)
    best, index = ranked[leaving].topk(min(n_best, width), dim=-1)  # (rows, k)
    return _Answer(
        step,
        leaving[:, None] * width + index,
        origin[leaving],
        scores[leaving].gather(1, index),
        best,
    )


def _backtrack(history, parents, answers, batch, n_best):
    """The tokens of each row's answers, followed from their last step back.

    Parameters
    ----------
    history, parents : list of torch.LongTensor
        Per step, each hypothesis's token and the index of its prefix.
    answers : list of _Answer
    batch, n_best : int

    Returns
    -------
    Hypotheses
    """
    n_steps = answers[-1].step + 1
    device = history[0].device
    tokens = torch.full((batch, n_best, n_steps), PAD, dtype=torch.long,
                        device=device)
    log_probs = torch.full((batch, n_best), float("-inf"), device=device)
    scores = torch.full((batch, n_best), float("-inf"), device=device)
    for answer in answers:
        k = answer.chosen.size(1)
        rows = answer.rows[:, None].expand(-1, k).reshape(-1)
        ranks = torch.arange(k, device=device).repeat(answer.rows.numel())
        chosen = answer.chosen.reshape(-1)
        for position in range(answer.step, -1, -1):
            tokens[rows, ranks, position] = history[position][chosen]
            chosen = parents[position][chosen]
        log_probs[answer.rows, :k] = answer.log_probs
        scores[answer.rows, :k] = answer.scores
    # A hypothesis of probability zero (the beam was wider than the choices)
    # is no answer.
    empty = torch.isinf(scores)
    tokens.masked_fill_(empty[..., None], PAD)
    log_probs.masked_fill_(empty, float("-inf"))
    return Hypotheses(tokens, log_probs, scores)


def strip_after_end(token_ids):
    """Cut each row of decoded ids before its first end token.

    Parameters
    ----------
    token_ids : torch.LongTensor of shape (batch, n_steps)

    Returns
    -------
    list of list of int

    Examples
    --------
    >>> strip_after_end(torch.tensor([[5, 6, 2, 0], [7, 7, 7, 7]]))
    [[5, 6], [7, 7, 7, 7]]
    """
    rows = token_ids.tolist()
    return [row[: row.index(EOS)] if EOS in row else row for row in rows]
