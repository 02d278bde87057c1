"""Greedy and beam search in numpy, for the torch-free runtime.

The searches of ``_seq2seq/_search.py``, step for step, over a decoder
given as a function: ``step(tokens, memory, state) -> (log_probs, state)``,
where ``memory`` and ``state`` are lists of arrays whose first axis is the
batch row (the inputs and outputs of an exported decoder graph) and
``log_probs`` already bans the padding and start tokens. The torch searches
stay torch: they run on the model's device and on its tensors, which this
module cannot, and the tests check that both pick the same tokens.

Both return the decoded ids of each row as a list of lists of int, without
the end token.
"""

import numpy as np

from .._text import BOS, EOS, PAD

__all__ = ["beam_search", "greedy_search"]


def _select(arrays, index):
    return [array[index] for array in arrays]


def _strip(rows):
    rows = rows.tolist()
    return [row[: row.index(EOS)] if EOS in row else row for row in rows]


def greedy_search(step, memory, state, max_length):
    """Pick the most likely token at every step; finished rows leave.

    Parameters
    ----------
    step : callable
    memory, state : list of ndarray
        ``batch`` rows each.
    max_length : int
        The most tokens a row may produce, the end token included.

    Returns
    -------
    list of list of int

    Examples
    --------
    >>> def step(tokens, memory, state):  # "5 6" then the end, every row
    ...     log_probs = np.full((len(tokens), 8), -9.0)
    ...     log_probs[:, [5, 6, EOS][state[0][0]]] = 0.0
    ...     return log_probs, [state[0] + 1]
    >>> greedy_search(step, [np.zeros(2)], [np.zeros(2, dtype=int)], 10)
    [[5, 6], [5, 6]]
    """
    batch = len(memory[0])
    output = np.full((batch, max_length), PAD, dtype=np.int64)
    active = np.arange(batch)  # original row of each live row
    tokens = np.full(batch, BOS, dtype=np.int64)
    steps = 0
    for position in range(max_length):
        log_probs, state = step(tokens, memory, state)
        tokens = log_probs.argmax(axis=-1)  # (live,)
        output[active, position] = tokens
        steps = position + 1
        keep = np.flatnonzero(tokens != EOS)
        if len(keep) < len(tokens):
            if not len(keep):
                break
            active, tokens = active[keep], tokens[keep]
            state, memory = _select(state, keep), _select(memory, keep)
    return _strip(output[:, :steps])


def beam_search(step, memory, state, max_length, beam_size, length_penalty=1.0):
    """Length-normalised beam search, as ``_seq2seq._search.beam_search``.

    Hypotheses are ranked by total log-probability during the search and,
    once finished, by ``total / length ** length_penalty``. A row leaves
    the search as soon as its best open hypothesis, even at ``max_length``,
    can no longer beat its best finished one.

    Parameters
    ----------
    step : callable
    memory, state : list of ndarray
    max_length, beam_size : int
    length_penalty : float, default=1.0

    Returns
    -------
    list of list of int

    Examples
    --------
    >>> def step(tokens, memory, state):  # 4 or 5, then the end
    ...     log_probs = np.full((len(tokens), 6), -np.inf, dtype=np.float32)
    ...     if state[0][0] == 0:
    ...         log_probs[:, 4], log_probs[:, 5] = np.log(0.6), np.log(0.4)
    ...     else:
    ...         log_probs[:, EOS] = 0.0
    ...     return log_probs, [state[0] + 1]
    >>> beam_search(step, [np.zeros(1)], [np.zeros(1, dtype=int)], 5, 2)
    [[4]]
    """
    batch = len(memory[0])
    origin = np.arange(batch)  # input row of each live row
    width = 1  # one hypothesis per row before the first step
    tokens = np.full(batch, BOS, dtype=np.int64)
    scores = np.zeros((batch, 1), dtype=np.float32)
    finished = np.zeros(batch, dtype=bool)
    lengths = np.zeros(batch, dtype=np.float32)
    longest = float(max_length) ** length_penalty
    # history[t], parents[t]: step t's tokens and their prefixes' indices
    # among step t - 1's hypotheses; answers: (step, hypothesis, row, score).
    history, parents, answers = [], [], []
    layout = None  # step t - 1's hypotheses that stayed, if rows left
    first_of_row = origin[:, None] * width  # (rows, 1)
    for position in range(max_length):
        log_probs, state = step(tokens, memory, state)  # (rows * width, V)
        vocab_size = log_probs.shape[1]
        if not history:
            padding_only = np.full(vocab_size, -np.inf, dtype=np.float32)
            padding_only[PAD] = 0.0  # a finished hypothesis keeps its total
        log_probs = np.where(finished[:, None], padding_only, log_probs)
        candidates = (scores.reshape(-1, 1) + log_probs).reshape(len(scores), -1)
        new_width = min(beam_size, candidates.shape[1])
        best = np.argsort(-candidates, axis=1, kind="stable")[:, :new_width]
        scores = np.take_along_axis(candidates, best, axis=1)  # (rows, new_width)
        parent = (first_of_row + best // vocab_size).reshape(-1)
        tokens = (best % vocab_size).reshape(-1)  # (rows * new_width,)
        finished, lengths = finished[parent], lengths[parent]
        lengths = lengths + ~finished
        finished = finished | (tokens == EOS)
        state = _select(state, parent)
        if new_width != width:
            rows = np.arange(len(scores))
            memory = _select(memory, np.repeat(rows * width, new_width))
            first_of_row, width = rows[:, None] * new_width, new_width
        history.append(tokens)
        parents.append(parent if layout is None else layout[parent])
        layout = None
        out_of_steps = position == max_length - 1
        if not (out_of_steps or finished.any()):
            continue  # no row can be decided yet
        done = finished.reshape(-1, width)
        denominator = np.maximum(lengths.reshape(-1, width), 1) ** length_penalty
        normalised = scores / denominator  # (rows, width)
        ranked = np.where(done, normalised, -np.inf)
        best_open = np.where(done, -np.inf, scores).max(axis=1) / longest
        decided = best_open <= ranked.max(axis=1)  # (rows,)
        if out_of_steps:
            ranked = np.where(decided[:, None], ranked, normalised)
            decided[:] = True
        if not decided.any():
            continue
        leaving = np.flatnonzero(decided)
        chosen = ranked[leaving].argmax(axis=1)
        answers.append(
            (position, leaving * width + chosen, origin[leaving],
             ranked[leaving, chosen])
        )
        if decided.all():
            break
        staying = np.flatnonzero(~decided)
        layout = (staying[:, None] * width + np.arange(width)).reshape(-1)
        origin, scores = origin[staying], scores[staying]
        first_of_row = first_of_row[: len(origin)]
        tokens, finished, lengths = tokens[layout], finished[layout], lengths[layout]
        state, memory = _select(state, layout), _select(memory, layout)
    output = np.full((batch, answers[-1][0] + 1), PAD, dtype=np.int64)
    for last, chosen, rows, score in answers:
        for position in range(last, -1, -1):
            output[rows, position] = history[position][chosen]
            chosen = parents[position][chosen]
        # A hypothesis of probability zero is no answer.
        output[rows[np.isinf(score)]] = PAD
    return _strip(output)
