"""Batched decoding: greedy search, length-normalised beam search, n-best.

One implementation for both backends: the estimators search on torch
tensors, on the model's device; the ONNX runtime on the numpy arrays of its
graphs. The operations in which the two differ come from
:func:`~sk_attention._array_ops.array_ops` of the decoder state, so this
module imports no torch.

The search owns the decoding loop; a model only offers the steps, as the
protocols below declare: a :class:`StepModel` scores the next token of
every row from a :data:`DecoderState` and a :class:`DecoderMemory`, which
the caller makes (an encoder, and the decoder's start). Any model with
these members decodes here; this module imports no model.

:func:`greedy_search` and :func:`beam_search` return the decoded token ids
as a ``(batch, n_steps)`` array in which each row ends at its first end
token (rows that never produced one stop at ``max_length``), padded after;
:func:`nbest_search` returns the ``n_best`` best outputs of each row's beam
with their scores; :func:`forced_log_probs` scores given outputs. On torch
they run under the caller's ``torch.inference_mode()``.
"""

from typing import Any, NamedTuple, Protocol, runtime_checkable

from ._array_ops import array_ops
from ._text import BOS, EOS, PAD

__all__ = [
    "DecoderMemory",
    "DecoderState",
    "Hypotheses",
    "StepModel",
    "ban_padding_and_start",
    "beam_search",
    "decode_sources",
    "forced_log_probs",
    "greedy_search",
    "nbest_lists",
    "nbest_search",
    "nbest_sources",
    "strip_after_end",
]

#: A decoder state: an array whose first axis is the batch row, or a tuple
#: or list of states, nested to any depth. The search keeps or reorders rows
#: by indexing the first axis of every array in it.
DecoderState = Any


@runtime_checkable
class DecoderMemory(Protocol):
    """An encoded batch of sources, one row per decoder state row."""

    def select(self, index) -> "DecoderMemory":
        """The memory of the batch rows ``index``, a 1-D int64 array."""


@runtime_checkable
class StepModel(Protocol):
    """A model the searches can decode with, one token at a time."""

    def next_token_logits(self, tokens, state, memory):
        """Scores of the next token after ``tokens``.

        Parameters
        ----------
        tokens : int64 array of shape (batch,)
        state : DecoderState
        memory : DecoderMemory
            With the same rows as ``state``.

        Returns
        -------
        logits : float32 array of shape (batch, vocab_size)
            Logits, or log-probabilities (which a log-softmax leaves as
            they are); a fresh array: the search writes into it.
        state : DecoderState
            The state after ``tokens``.
        """


class Hypotheses(NamedTuple):
    """The best outputs of each row of a beam search, best first.

    Entries a row's beam could not fill have ``-inf`` scores and padding
    tokens.

    Attributes
    ----------
    tokens : int64 array of shape (batch, n_best, n_steps)
        Each output ends at its first end token, padded after.
    log_probs : float32 array of shape (batch, n_best)
        Total log-probability of each output, its end token included.
    scores : float32 array of shape (batch, n_best)
        ``log_probs / length ** length_penalty``, what the outputs are
        ranked by.
    """

    tokens: Any
    log_probs: Any
    scores: Any


def ban_padding_and_start(logits):
    """Make padding and the start token impossible as an output token.

    Every search, and the scoring of given outputs, reads its logits through
    this, so that all of them forbid the same tokens whatever the model.

    Parameters
    ----------
    logits : array of shape (..., vocab_size)
        Modified in place.

    Returns
    -------
    array
        ``logits``.
    """
    logits[..., PAD : BOS + 1] = float("-inf")  # one fill: the ids are 0 and 1
    return logits


def _next_token_logits(model, tokens, state, memory):
    """The model's next-token logits, padding and the start token banned."""
    logits, state = model.next_token_logits(tokens, state, memory)
    return ban_padding_and_start(logits), state  # (batch, vocab_size)


def _first_array(state):
    """The first array of a nested decoder state."""
    while isinstance(state, (tuple, list)):
        state = state[0]
    return state


def _take_rows(ops, state, index):
    """Rows ``index`` of every array in a nested decoder state."""
    if isinstance(state, (tuple, list)):
        return tuple(_take_rows(ops, part, index) for part in state)
    return ops.take(state, index)


def greedy_search(model, memory, state, max_length):
    """Pick the most likely token at every step.

    Finished rows are dropped from the batch as soon as they produce the end
    token, and decoding stops when every row has finished.

    Parameters
    ----------
    model : StepModel
    memory : DecoderMemory
        The encoded batch, ``batch`` rows.
    state : DecoderState
        The decoder state before the first token, ``batch`` rows.
    max_length : int
        The most tokens a row may produce, the end token included.

    Returns
    -------
    int64 array of shape (batch, n_steps), n_steps <= max_length

    Examples
    --------
    >>> import numpy as np
    >>> class Counting:  # "5 6" then the end, whatever the row
    ...     def next_token_logits(self, tokens, state, memory):
    ...         logits = np.zeros((len(tokens), 8), dtype=np.float32)
    ...         logits[:, [5, 6, EOS][state[0]]] = 9.0
    ...         return logits, state + 1
    >>> class Rows:
    ...     def select(self, index):
    ...         return self
    >>> greedy_search(Counting(), Rows(), np.zeros(2, dtype=int), 10)
    array([[5, 6, 2],
           [5, 6, 2]])
    """
    first = _first_array(state)
    ops, batch = array_ops(first), first.shape[0]
    output = ops.full((batch, max_length), PAD, ops.int64)
    active = ops.arange(batch)  # original row of each live row
    tokens = ops.full((batch,), BOS, ops.int64)
    steps = 0
    for position in range(max_length):
        logits, state = _next_token_logits(model, tokens, state, memory)
        tokens = logits.argmax(-1)  # (live,), no softmax needed
        output[active, position] = tokens
        steps = position + 1
        unfinished = tokens != EOS
        if not unfinished.all():
            keep = ops.flatnonzero(unfinished)
            if len(keep) == 0:
                break
            active, tokens = active[keep], tokens[keep]
            state = _take_rows(ops, state, keep)
            memory = memory.select(keep)
    return output[:, :steps]


def beam_search(model, memory, state, max_length, beam_size, length_penalty=1.0):
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

    Parameters
    ----------
    model, memory, state, max_length, beam_size
        As for :func:`nbest_search`.
    length_penalty : float, default=1.0
        0 ranks by total log-probability; 1 by mean log-probability per token.

    Returns
    -------
    int64 array of shape (batch, n_steps), n_steps <= max_length
    """
    return nbest_search(
        model, memory, state, max_length, beam_size, 1, length_penalty
    ).tokens[:, 0]


def nbest_search(model, memory, state, max_length, beam_size, n_best,
                 length_penalty=1.0):
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

    A row whose answer is known leaves the search, as finished rows leave
    greedy search, so the rest step on without it.

    Parameters
    ----------
    model, memory, state, max_length
        As for :func:`greedy_search`.
    beam_size : int
    n_best : int
        At most ``beam_size``.
    length_penalty : float, default=1.0
        As for :func:`beam_search`.

    Returns
    -------
    Hypotheses
        With ``n_steps <= max_length``.
    """
    first = _first_array(state)
    ops, batch = array_ops(first), first.shape[0]
    origin = ops.arange(batch)  # input row of each live row
    # The search starts with one hypothesis per row (the start token alone),
    # so the first step runs once per row, not once per beam.
    width = 1
    tokens = ops.full((batch,), BOS, ops.int64)
    scores = ops.full((batch, 1), 0.0, ops.float32)
    finished = ops.full((batch,), False, ops.bool)
    lengths = ops.full((batch,), 0.0, ops.float32)
    longest = float(max_length) ** length_penalty
    # history[t]: the tokens of step t's hypotheses; parents[t]: the index of
    # each one's prefix among step t - 1's. answers: an _Answer per step at
    # which rows left.
    history, parents, answers = [], [], []
    layout = None  # step t - 1's hypotheses that stayed, if rows left
    first_of_row = origin[:, None]  # (rows, 1)
    padding_only = None
    for step in range(max_length):
        logits, state = _next_token_logits(model, tokens, state, memory)
        log_probs = ops.log_softmax(logits)  # (rows * width, V)
        if padding_only is None:
            padding_only = _padding_only(ops, log_probs.shape[-1])
        scores, parent, tokens, finished, lengths = _extend(
            ops, log_probs, scores, finished, lengths, first_of_row, beam_size,
            padding_only,
        )
        state = _take_rows(ops, state, parent)
        if width != scores.shape[1]:
            memory, first_of_row = _widen(
                ops, memory, scores.shape[0], width, scores.shape[1]
            )
            width = scores.shape[1]
        history.append(tokens)
        parents.append(parent if layout is None else layout[parent])
        layout = None
        out_of_steps = step == max_length - 1
        if not (out_of_steps or bool(finished.any())):
            continue  # no row can be decided yet
        decided, ranked = _decide_rows(
            ops, scores, finished, lengths, length_penalty, longest, out_of_steps,
            min(n_best, width),
        )
        if not decided.any():
            continue
        leaving = ops.flatnonzero(decided)
        answers.append(_answer(ops, step, leaving, origin, scores, ranked, n_best))
        if bool(decided.all()):
            break
        staying = ops.flatnonzero(~decided)
        layout = (staying[:, None] * width + ops.arange(width)).reshape(-1)
        origin, scores = origin[staying], scores[staying]
        first_of_row = first_of_row[: len(origin)]
        tokens, finished, lengths = tokens[layout], finished[layout], lengths[layout]
        state = _take_rows(ops, state, layout)
        memory = memory.select(layout)
    return _backtrack(ops, history, parents, answers, batch, n_best)


def _padding_only(ops, vocab_size):
    """The log-probabilities that extend a finished hypothesis.

    Only padding, at no cost, so a finished hypothesis keeps its total.

    Returns
    -------
    float32 array of shape (vocab_size,)
    """
    padding_only = ops.full((vocab_size,), float("-inf"), ops.float32)
    padding_only[PAD] = 0.0
    return padding_only  # (V,)


def _extend(ops, log_probs, scores, finished, lengths, first_of_row, beam_size,
            padding_only):
    """Extend every hypothesis by every token; keep each row's best ones.

    Parameters
    ----------
    ops : ArrayOps
    log_probs : array of shape (rows * width, vocab_size)
    scores : array of shape (rows, width)
        Total log-probability of each hypothesis.
    finished : bool array of shape (rows * width,)
    lengths : array of shape (rows * width,)
        Tokens of each hypothesis up to its end token.
    first_of_row : int64 array of shape (rows, 1)
        Index of each row's first hypothesis.
    beam_size : int
    padding_only : array of shape (vocab_size,)
        See :func:`_padding_only`.

    Returns
    -------
    scores : array of shape (rows, new_width)
    parent : int64 array of shape (rows * new_width,)
        Index of each new hypothesis's prefix among the old ones.
    tokens : int64 array of shape (rows * new_width,)
    finished : bool array of shape (rows * new_width,)
    lengths : array of shape (rows * new_width,)
    """
    vocab_size = log_probs.shape[-1]
    log_probs = ops.where(finished[:, None], padding_only, log_probs)
    candidates = (scores.reshape(-1, 1) + log_probs).reshape(scores.shape[0], -1)
    scores, best = ops.topk(candidates, min(beam_size, candidates.shape[1]))
    parent = (first_of_row + best // vocab_size).reshape(-1)
    tokens = (best % vocab_size).reshape(-1)  # (rows * new width,)
    finished, lengths = finished[parent], lengths[parent]
    lengths = lengths + ~finished
    finished = finished | (tokens == EOS)
    return scores, parent, tokens, finished, lengths


def _widen(ops, memory, rows, width, new_width):
    """The memory of ``new_width`` hypotheses per row instead of ``width``.

    Returns
    -------
    memory : DecoderMemory
        Each row's memory ``new_width`` times, ``rows * new_width`` rows.
    first_of_row : int64 array of shape (rows, 1)
    """
    row = ops.arange(rows)
    memory = memory.select(ops.repeat(row * width, new_width))
    return memory, (row * new_width)[:, None]


def _decide_rows(ops, scores, finished, lengths, length_penalty, longest,
                 out_of_steps, n_best):
    """Which rows know their answers, and how their hypotheses rank.

    A row is decided once its best open hypothesis, even at the longest
    length, normalises to no better than its ``n_best``-th best finished
    one (see :func:`beam_search`). When the steps run out, every row is
    decided.

    Parameters
    ----------
    ops : ArrayOps
    scores : array of shape (rows, width)
    finished, lengths : array of shape (rows * width,)
    length_penalty : float
    longest : float
        ``max_length ** length_penalty``.
    out_of_steps : bool
    n_best : int
        At most ``width``.

    Returns
    -------
    decided : bool array of shape (rows,)
    ranked : array of shape (rows, width)
        The normalised scores to choose a decided row's answer by: of the
        finished hypotheses only, ``-inf`` for the open ones, except in the
        rows decided because the steps ran out.
    """
    width = scores.shape[1]
    done = finished.reshape(-1, width)
    denominator = lengths.reshape(-1, width).clip(min=1) ** length_penalty
    normalised = scores / denominator  # (rows, width)
    ranked = ops.where(done, normalised, float("-inf"))
    best_open = ops.max(ops.where(done, float("-inf"), scores)) / longest
    if n_best == 1:
        last_answer = ops.max(ranked)
    else:
        last_answer = ops.topk(ranked, n_best)[0][:, -1]
    decided = best_open <= last_answer  # (rows,)
    if out_of_steps:
        # The undecided rows take their best hypothesis.
        ranked = ops.where(decided[:, None], ranked, normalised)
        decided = ops.full(decided.shape, True, ops.bool)
    return decided, ranked


class _Answer(NamedTuple):
    """The rows that left the search at one step, and their best hypotheses."""

    step: int
    chosen: Any  # (rows, k): hypothesis indices, best first
    rows: Any  # (rows,): input rows
    log_probs: Any  # (rows, k)
    scores: Any  # (rows, k), -inf where the beam held no answer


def _answer(ops, step, leaving, origin, scores, ranked, n_best):
    """The :class:`_Answer` of the decided rows ``leaving``.

    Parameters
    ----------
    ops : ArrayOps
    step : int
    leaving : int64 array of shape (rows,)
        Indices of the decided rows among the live ones.
    origin : int64 array of shape (live,)
        The input row of each live row.
    scores, ranked : array of shape (live, width)
        Total log-probabilities, and the normalised scores to rank by
        (from :func:`_decide_rows`).
    n_best : int

    Returns
    -------
    _Answer
    """
    width = scores.shape[1]
    best, index = ops.topk(ranked[leaving], min(n_best, width))  # (rows, k)
    return _Answer(
        step,
        leaving[:, None] * width + index,
        origin[leaving],
        ops.take_along_last(scores[leaving], index),
        best,
    )


def _backtrack(ops, history, parents, answers, batch, n_best):
    """The tokens of each row's answers, followed from their last step back.

    Parameters
    ----------
    ops : ArrayOps
    history, parents : list of int64 array
        Per step, each hypothesis's token and the index of its prefix.
    answers : list of _Answer
    batch, n_best : int

    Returns
    -------
    Hypotheses
    """
    n_steps = answers[-1].step + 1
    tokens = ops.full((batch, n_best, n_steps), PAD, ops.int64)
    log_probs = ops.full((batch, n_best), float("-inf"), ops.float32)
    scores = ops.full((batch, n_best), float("-inf"), ops.float32)
    for answer in answers:
        k = answer.chosen.shape[1]
        rows, ranks = answer.rows[:, None], ops.arange(k)  # index (rows, k)
        chosen = answer.chosen
        for position in range(answer.step, -1, -1):
            tokens[rows, ranks, position] = history[position][chosen]
            chosen = parents[position][chosen]
        log_probs[answer.rows, :k] = answer.log_probs
        scores[answer.rows, :k] = answer.scores
    # A hypothesis of probability zero (the beam was wider than the choices)
    # is no answer.
    empty = scores == float("-inf")
    tokens[empty] = PAD
    log_probs[empty] = float("-inf")
    return Hypotheses(tokens, log_probs, scores)


def decode_sources(model, blocks, n_sources, max_length, beam_size, length_penalty):
    """The decoded ids of every source, end token stripped, block by block.

    Parameters
    ----------
    model : StepModel
    blocks : iterable of (indices, memory, state)
        The encoded sources in the blocks one search takes: the positions
        of the block's sources, their memory and their start state.
    n_sources : int
    max_length : int
        The most tokens an output may have, the end token included.
    beam_size : int
        1 decodes greedily, more runs a beam search.
    length_penalty : float

    Returns
    -------
    list of list of int
    """
    decoded = [None] * n_sources
    for indices, memory, state in blocks:
        if beam_size == 1:
            ids = greedy_search(model, memory, state, max_length)
        else:
            ids = beam_search(
                model, memory, state, max_length, beam_size, length_penalty
            )
        for index, row in zip(indices, strip_after_end(ids)):
            decoded[index] = row
    return decoded


def nbest_sources(
    model, blocks, n_sources, max_length, beam_size, n_best, length_penalty
):
    """The ``n_best`` best outputs of every source, block by block.

    Parameters
    ----------
    model, blocks, n_sources, max_length, beam_size, length_penalty
        As for :func:`decode_sources`.
    n_best : int
        At most ``beam_size``.

    Returns
    -------
    list of list of (list of int, float, float)
        Per source, as :func:`nbest_lists` gives each row.
    """
    decoded = [None] * n_sources
    for indices, memory, state in blocks:
        found = nbest_search(
            model, memory, state, max_length, beam_size, n_best, length_penalty
        )
        for index, outputs in zip(indices, nbest_lists(found)):
            decoded[index] = outputs
    return decoded


def forced_log_probs(model, memory, state, targets):
    """Log-probability of each token of given outputs, fed one at a time.

    The decoder reads the start token and then each given token (teacher
    forcing), under the distribution the searches decode from.

    Parameters
    ----------
    model : StepModel
    memory : DecoderMemory
    state : DecoderState
        The decoder state before the first token, ``batch`` rows.
    targets : int64 array of shape (batch, n_steps)
        Each row's tokens and its end token, padded after.

    Returns
    -------
    float32 array of shape (batch, n_steps)
        The log-probability of each target token; ``-inf`` on padding.
    """
    ops = array_ops(targets)
    batch, n_steps = targets.shape
    scored = ops.full((batch, n_steps), 0.0, ops.float32)
    tokens = ops.full((batch,), BOS, ops.int64)
    for position in range(n_steps):
        logits, state = _next_token_logits(model, tokens, state, memory)
        tokens = targets[:, position]
        scored[:, position] = ops.take_along_last(
            ops.log_softmax(logits), tokens[:, None]
        )[:, 0]
    return scored


def strip_after_end(token_ids):
    """Cut each row of decoded ids before its first end token.

    Parameters
    ----------
    token_ids : int array of shape (batch, n_steps)

    Returns
    -------
    list of list of int

    Examples
    --------
    >>> import numpy as np
    >>> strip_after_end(np.array([[5, 6, 2, 0], [7, 7, 7, 7]]))
    [[5, 6], [7, 7, 7, 7]]
    """
    return [_cut_at_end(row) for row in token_ids.tolist()]


def _cut_at_end(ids):
    return ids[: ids.index(EOS)] if EOS in ids else ids


def nbest_lists(hypotheses):
    """Each row's outputs of an n-best search as lists, best first.

    Parameters
    ----------
    hypotheses : Hypotheses

    Returns
    -------
    list of list of (list of int, float, float)
        Per row, ``(ids, log_probability, score)`` of each output, ids
        without the end token; the entries the beam could not fill are
        left out.
    """
    return [
        [
            (_cut_at_end(ids), log_prob, score)
            for ids, log_prob, score in zip(*row)
            if score != float("-inf")
        ]
        for row in zip(*(part.tolist() for part in hypotheses))
    ]
