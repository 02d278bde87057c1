"""The one search gives the same answers on torch and on numpy, and the
answers of brute force where a beam can hold every output.

A fake model looks its next-token logits up in a random table indexed by
source row, step and previous token, so the scores depend on the prefix.
"""

import itertools

import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import log_softmax

from sk_attention._search import (
    beam_search,
    forced_log_probs,
    greedy_search,
    nbest_search,
)
from sk_attention._text import BOS, EOS, PAD


class TableModel:
    """Logits ``table[row, step, previous token]``; the state is the step."""

    def __init__(self, table):
        self.table = table  # (batch, max_length, vocab, vocab)

    def next_token_logits(self, tokens, state, memory):
        # Advanced indexing copies, so the search may write into the logits.
        return self.table[memory.rows, state, tokens], state + 1


class Rows:
    """A memory that knows only which source row each of its rows is."""

    def __init__(self, rows):
        self.rows = rows

    def select(self, index):
        return Rows(self.rows[index])


def make_table(seed, batch, max_length, vocab_size, never_end):
    """Random logits; rows in ``never_end`` cannot end before the steps run out."""
    rng = np.random.default_rng(seed)
    table = rng.normal(scale=2.0, size=(batch, max_length, vocab_size, vocab_size))
    table[np.asarray(never_end, dtype=bool), :, :, EOS] = -np.inf
    return table.astype(np.float32)


def run_search(search, table, *options):
    """``search`` over ``table`` on numpy and on torch, as numpy arrays."""
    batch = table.shape[0]
    answers = []
    for backend in (np.asarray, torch.from_numpy):
        model = TableModel(backend(table))
        rows = backend(np.arange(batch))
        state = backend(np.zeros(batch, dtype=np.int64))
        found = search(model, Rows(rows), state, *options)
        parts = found if isinstance(found, tuple) else (found,)
        answers.append([np.asarray(part) for part in parts])
    return answers


def exhaustive(table, row, max_length, length_penalty, n_best):
    """Every output of the row, scored in float64, best ``n_best`` first."""
    vocab_size = table.shape[-1]
    log_probs = table[row].astype(np.float64)
    log_probs[..., [PAD, BOS]] = -np.inf
    log_probs = log_softmax(log_probs, axis=-1)
    found = []
    for length in range(max_length + 1):
        for body in itertools.product(range(EOS + 1, vocab_size), repeat=length):
            tokens = (*body, EOS) if length < max_length else body
            previous = (BOS, *tokens[:-1])
            total = sum(
                log_probs[step, before, token]
                for step, (before, token) in enumerate(zip(previous, tokens))
            )
            if total > -np.inf:
                found.append((total / len(tokens) ** length_penalty, total, tokens))
    found.sort(key=lambda entry: entry[0], reverse=True)
    return found[:n_best]


searches = st.fixed_dictionaries(
    {
        "seed": st.integers(0, 2**32 - 1),
        "batch": st.integers(1, 4),
        "max_length": st.integers(1, 6),
        "vocab_size": st.integers(5, 8),
        "beam_size": st.integers(1, 5),
        "length_penalty": st.sampled_from([0.0, 0.5, 1.0, 1.5]),
        "never_end": st.lists(st.booleans(), min_size=4, max_size=4),
    }
)


@given(searches, st.data())
def test_numpy_and_torch_searches_agree(case, data):
    table = make_table(
        case["seed"], case["batch"], case["max_length"], case["vocab_size"],
        case["never_end"][: case["batch"]],
    )
    max_length, beam_size = case["max_length"], case["beam_size"]
    n_best = data.draw(st.integers(1, beam_size), label="n_best")
    on_numpy, on_torch = run_search(
        nbest_search, table, max_length, beam_size, n_best, case["length_penalty"]
    )
    assert_array_equal(on_numpy[0], on_torch[0])  # the tokens
    for got, want in zip(on_numpy[1:], on_torch[1:]):  # log_probs, scores
        assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    # Rows that cannot end still get an answer, cut at max_length.
    assert np.isfinite(on_numpy[2][:, 0]).all()
    for search, options in [
        (greedy_search, (max_length,)),
        (beam_search, (max_length, beam_size, case["length_penalty"])),
    ]:
        on_numpy, on_torch = run_search(search, table, *options)
        assert_array_equal(on_numpy[0], on_torch[0])


@given(searches)
def test_a_beam_that_holds_every_output_finds_the_exhaustive_best(case):
    # Two output tokens and the end token, at most three steps: 15 outputs,
    # all of which a beam of 16 keeps.
    max_length = min(case["max_length"], 3)
    table = make_table(case["seed"], case["batch"], max_length, 5,
                       case["never_end"][: case["batch"]])
    n_best = case["beam_size"]
    for tokens, log_probs, scores in run_search(
        nbest_search, table, max_length, 16, n_best, case["length_penalty"]
    ):
        for row in range(case["batch"]):
            best = exhaustive(table, row, max_length, case["length_penalty"], n_best)
            outputs = [
                tuple(t for t in ids.tolist() if t != PAD)
                for ids in tokens[row, : len(best)]
            ]
            assert outputs == [output for _, _, output in best]
            assert_allclose(scores[row, : len(best)], [s for s, _, _ in best],
                            rtol=1e-4, atol=1e-4)
            assert_allclose(log_probs[row, : len(best)], [t for _, t, _ in best],
                            rtol=1e-4, atol=1e-4)
            assert np.isinf(scores[row, len(best):]).all()


@given(searches)
def test_forced_scoring_agrees_between_backends_and_with_the_table(case):
    table = make_table(case["seed"], case["batch"], case["max_length"],
                       case["vocab_size"], [False] * case["batch"])
    rng = np.random.default_rng(case["seed"])
    targets = rng.integers(EOS, case["vocab_size"],
                           size=(case["batch"], case["max_length"]))
    on_numpy, on_torch = run_search(
        lambda model, memory, state: forced_log_probs(
            model, memory, state,
            targets if isinstance(state, np.ndarray) else torch.from_numpy(targets),
        ),
        table,
    )
    assert_allclose(on_numpy[0], on_torch[0], rtol=1e-5, atol=1e-5)
    logits = table.astype(np.float64)
    logits[..., [PAD, BOS]] = -np.inf
    log_probs = log_softmax(logits, axis=-1)
    previous = np.concatenate([np.full((case["batch"], 1), BOS), targets[:, :-1]], 1)
    rows, steps = np.indices(targets.shape)
    expected = log_probs[rows, steps, previous, targets]
    assert_allclose(on_numpy[0], expected, rtol=1e-4, atol=1e-4)
