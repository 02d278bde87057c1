"""n-best lists and the likelihood of given outputs, against brute force."""

import itertools

import numpy as np
import pytest
import torch
from _tiny_modules import tiny_rnn, tiny_transformer

from sk_attention import AttentionSeq2Seq
from sk_attention._search import beam_search, nbest_search
from sk_attention._seq2seq._inference import target_log_probs
from sk_attention._text import BOS, EOS, PAD

# Target vocabulary of the tiny models: the four special tokens and two more;
# the unknown token (3) is an output like any other.
TARGET_VOCAB = 6
REAL_TOKENS = (3, 4, 5)


def tiny_module(architecture):
    torch.manual_seed(0)
    if architecture == "rnn":
        module = tiny_rnn(9, TARGET_VOCAB)
    else:
        module = tiny_transformer(9, TARGET_VOCAB)
    with torch.no_grad():  # sharper than an untrained model's near-uniform output
        module.decoder.output_layer.weight.mul_(4)
    return module.eval()


def sources():
    source = torch.tensor([[4, 5, 6, 7], [8, 4, 0, 0], [6, 0, 0, 0]])
    return source, torch.tensor([4, 2, 1])


def step_log_probs(module, memory, row, prefix):
    """log-softmax of the next token after ``prefix``, one step at a time."""
    memory = memory.select(torch.tensor([row]))
    state = module.decoder.start(memory)
    for token in (BOS, *prefix):
        logits, state = module.next_token_logits(torch.tensor([token]), state, memory)
    logits[:, PAD : BOS + 1] = float("-inf")
    return torch.log_softmax(logits[0], dim=-1)


def exhaustive(module, memory, row, max_length, length_penalty):
    """Every output of at most ``max_length`` tokens, best first.

    Outputs end with the end token, or are cut at ``max_length`` without
    it, as a search that runs out of steps returns them.
    """
    found = []
    for length in range(max_length + 1):
        for body in itertools.product(REAL_TOKENS, repeat=length):
            tokens = (*body, EOS) if length < max_length else body
            total = sum(
                float(step_log_probs(module, memory, row, tokens[:t])[tokens[t]])
                for t in range(len(tokens))
            )
            found.append((total / len(tokens) ** length_penalty, total, body))
    return sorted(found, reverse=True)


@pytest.mark.parametrize("architecture", ["rnn", "transformer"])
@pytest.mark.parametrize("length_penalty", [0.0, 1.0])
def test_a_wide_beam_finds_the_exhaustive_top_k(architecture, length_penalty):
    module, max_length, n_best = tiny_module(architecture), 3, 5
    with torch.inference_mode():
        memory = module.encode(*sources())
        state = module.decoder.start(memory)
        # 40 hypotheses hold every output of up to 3 tokens of three kinds.
        found = nbest_search(
            module, memory, state, max_length, 40, n_best, length_penalty
        )
        for row in range(3):
            best = exhaustive(module, memory, row, max_length, length_penalty)[:n_best]
            outputs = [
                tuple(t for t in ids.tolist() if t not in (EOS, PAD))
                for ids in found.tokens[row]
            ]
            assert outputs == [body for _, _, body in best]
            torch.testing.assert_close(
                found.scores[row], torch.tensor([score for score, _, _ in best]),
                rtol=1e-5, atol=1e-5,
            )
            torch.testing.assert_close(
                found.log_probs[row], torch.tensor([total for _, total, _ in best]),
                rtol=1e-5, atol=1e-5,
            )


@pytest.mark.parametrize("architecture", ["rnn", "transformer"])
def test_the_best_of_the_n_best_is_the_beam_search_answer(architecture):
    module = tiny_module(architecture)
    with torch.inference_mode():
        memory = module.encode(*sources())
        state = module.decoder.start(memory)
        answer = beam_search(module, memory, state, 6, 4)
        for n_best in (1, 2, 4):
            best = nbest_search(module, memory, state, 6, 4, n_best).tokens[:, 0]
            width = answer.size(1)
            assert torch.equal(best[:, :width], answer)
            assert torch.all(best[:, width:] == PAD)


def test_a_beam_wider_than_the_choices_leaves_the_rest_empty():
    module = tiny_module("rnn")
    with torch.inference_mode():
        memory = module.encode(*sources())
        state = module.decoder.start(memory)
        # One step: only the three real tokens and the end token are possible.
        found = nbest_search(module, memory, state, 1, 6, 6)
    assert torch.isfinite(found.scores[:, :4]).all()
    assert torch.isinf(found.scores[:, 4:]).all()
    assert torch.isinf(found.log_probs[:, 4:]).all()
    assert torch.all(found.tokens[:, 4:] == PAD)


@pytest.mark.parametrize("architecture", ["rnn", "transformer"])
def test_target_log_probs_are_the_sum_of_per_step_log_softmax(architecture):
    module = tiny_module(architecture)
    source, lengths = sources()
    source_ids = [row[:n].numpy() for row, n in zip(source, lengths)]
    targets = [np.array([4, 5, 5]), np.array([], dtype=np.int64), np.array([5])]
    scored = target_log_probs(module, source_ids, targets, batch_size=2)
    with torch.inference_mode():
        memory = module.encode(source, lengths)
        for row, target in enumerate(targets):
            tokens = [*target.tolist(), EOS]
            expected = [
                float(step_log_probs(module, memory, row, tokens[:t])[tokens[t]])
                for t in range(len(tokens))
            ]
            np.testing.assert_allclose(scored[row], expected, rtol=1e-5, atol=1e-5)


# -- the estimator -----------------------------------------------------------


@pytest.fixture(scope="module")
def rough_model(reversal_data):
    """A reversal model trained briefly, so that its n-best lists vary."""
    X_train, y_train, _, _ = reversal_data
    return AttentionSeq2Seq(
        embedding_dim=16, hidden_size=32, max_epochs=4, lr=5e-3, beam_size=5,
        validation_fraction=None, early_stopping=False, random_state=0,
    ).fit(X_train, y_train)


def test_nbest_lists_are_sorted_distinct_and_full(rough_model, reversal_data):
    X_test = reversal_data[2][:60]
    outputs, log_probs, scores = rough_model.predict_nbest(X_test, n_best=5)
    assert outputs.shape == log_probs.shape == scores.shape == (60, 5)
    assert np.all(np.diff(scores, axis=1) <= 0)
    for row in outputs:
        assert None not in row  # a vocabulary of 8 letters fills a beam of 5
        assert len(set(row)) == 5
    # Each output's end token counts, except where it ran out of steps.
    bound = rough_model.max_output_length_
    lengths = np.array([[min(len(output) + 1, bound) for output in row]
                        for row in outputs])
    np.testing.assert_allclose(scores, log_probs / lengths, rtol=1e-5)


def test_the_first_of_the_n_best_is_predict(rough_model, reversal_data):
    X_test = reversal_data[2][:60]
    predicted = rough_model.predict(X_test)
    assert list(rough_model.predict_nbest(X_test, n_best=1)[0][:, 0]) == list(predicted)
    assert list(rough_model.predict_nbest(X_test, n_best=3)[0][:, 0]) == list(predicted)
    greedy = rough_model.predict_nbest(X_test, n_best=1, beam_size=1)[0][:, 0]
    rough_model.set_params(beam_size=1)
    try:
        assert list(greedy) == list(rough_model.predict(X_test))
    finally:
        rough_model.set_params(beam_size=5)


def test_score_samples_agrees_with_the_nbest_log_probs(rough_model, reversal_data):
    X_test = reversal_data[2][:40]
    outputs, log_probs, _ = rough_model.predict_nbest(X_test, n_best=3)
    for column in range(3):
        np.testing.assert_allclose(
            rough_model.score_samples(X_test, outputs[:, column]),
            log_probs[:, column], rtol=1e-4, atol=1e-4,
        )
    per_token = rough_model.score_samples(X_test, outputs[:, 0], per_token=True)
    assert [len(values) for values in per_token] == [
        len(output) + 1 for output in outputs[:, 0]
    ]


def test_score_samples_streams_in_chunks_with_the_same_result(rough_model,
                                                              reversal_data):
    X_test, y_test = reversal_data[2][:50], reversal_data[3][:50]
    whole = rough_model.score_samples(X_test, y_test)
    rough_model.set_params(predict_batch_size=3)  # chunks of 48 pairs
    try:
        np.testing.assert_allclose(rough_model.score_samples(X_test, y_test), whole,
                                   rtol=1e-5, atol=1e-5)
    finally:
        rough_model.set_params(predict_batch_size=256)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_best": 6}, "n_best=6 is more than beam_size=5"),
        ({"n_best": 3, "beam_size": 2}, "n_best=3 is more than beam_size=2"),
        ({"n_best": 0}, "n_best must be an integer >= 1"),
        ({"n_best": 2.0}, "n_best must be an integer >= 1"),
        ({"beam_size": 0}, "beam_size must be an integer >= 1"),
    ],
)
def test_bad_nbest_arguments_are_named(rough_model, kwargs, message):
    with pytest.raises(ValueError, match=message):
        rough_model.predict_nbest(["abc"], **kwargs)


def test_score_samples_refuses_y_of_another_length(rough_model):
    with pytest.raises(ValueError, match="X and y must hold the same number"):
        rough_model.score_samples(["abc", "bca"], ["cba"])
