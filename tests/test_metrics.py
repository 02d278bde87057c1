import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sk_attention.metrics import (
    bleu,
    sequence_accuracy,
    token_accuracy,
    token_error_rate,
)

ALL_METRICS = [sequence_accuracy, token_accuracy, token_error_rate, bleu]

texts = st.lists(st.text(alphabet="ab c", min_size=1, max_size=8), min_size=1)


# sequence_accuracy


def test_sequence_accuracy_counts_exact_matches():
    y_true = ["2021-03-03", "1999-12-31", "abc", "x"]
    y_pred = ["2021-03-03", "1999-12-30", "abc", "x "]
    assert sequence_accuracy(y_true, y_pred) == 0.5


def test_sequence_accuracy_compares_token_lists_and_tuples():
    y_true = [["F", "IY"], ["K", "AE", "T"]]
    y_pred = [("F", "IY"), ["K", "AE"]]
    assert sequence_accuracy(y_true, y_pred) == 0.5


def test_sequence_accuracy_refuses_to_compare_str_with_token_list():
    with pytest.raises(TypeError, match=r"y_true\[0\] is a str but y_pred\[0\]"):
        sequence_accuracy(["ab"], [["a", "b"]])


@pytest.mark.parametrize(
    "container", [list, tuple, lambda v: np.array(v, dtype=object), pd.Series]
)
def test_metrics_accept_array_likes(container):
    y_true = container(["abc", "abd"])
    y_pred = container(["abc", "xbd"])
    assert sequence_accuracy(y_true, y_pred) == 0.5
    assert token_accuracy(y_true, y_pred) == pytest.approx(5 / 6)
    assert token_error_rate(y_true, y_pred, tokenizer="char") == pytest.approx(1 / 6)


def test_pandas_series_with_a_non_default_index():
    y = pd.Series(["a b", "c"], index=[10, 20])
    assert sequence_accuracy(y, y) == 1.0
    assert token_error_rate(y, ["a", "c"]) == pytest.approx(1 / 3)


# token_accuracy


def test_token_accuracy_is_positionwise():
    assert token_accuracy(["abcd"], ["abxd"]) == 0.75
    # A shift by one place makes every later position wrong.
    assert token_accuracy(["abcd"], ["xabcd"]) == 0.0


def test_token_accuracy_normalises_by_the_longer_sequence():
    assert token_accuracy(["abcd"], ["ab"]) == 0.5
    assert token_accuracy(["ab"], ["abcd"]) == 0.5


def test_token_accuracy_sums_over_the_corpus():
    # 3 matches over max lengths 4 + 2: a total, not a mean of 0.75 and 0.0.
    assert token_accuracy(["abcd", "ab"], ["abcx", "ba"]) == pytest.approx(3 / 6)


def test_token_accuracy_with_word_tokens():
    score = token_accuracy(["the cat sat"], ["the dog sat down"], tokenizer="word")
    assert score == 0.5


def test_token_accuracy_of_empty_sequences_is_one():
    assert token_accuracy(["", ""], ["", ""]) == 1.0


# token_error_rate


def test_word_error_rate_known_value():
    # "sat" -> "sit" is a substitution, the second "the" a deletion: 2 / 6.
    wer = token_error_rate(["the cat sat on the mat"], ["the cat sit on mat"])
    assert wer == pytest.approx(2 / 6)


def test_character_error_rate_known_value():
    # kitten -> sitting: k->s, e->i, +g.
    assert token_error_rate(["kitten"], ["sitting"], tokenizer="char") == 0.5


def test_phoneme_error_rate_on_token_lists():
    y_true = [["F", "IY", "N", "IH", "K", "S"], ["K", "AE", "T"]]
    y_pred = [["F", "IY", "N", "IY", "K", "S"], ["K", "AE", "T", "S"]]
    # One substitution plus one insertion over 9 reference phonemes.
    assert token_error_rate(y_true, y_pred) == pytest.approx(2 / 9)


def test_token_lists_are_not_tokenized_again():
    # Multi-character tokens stay whole, even with the "char" tokenizer.
    assert token_error_rate([["AE", "B"]], [["AE", "P"]], tokenizer="char") == 0.5


def test_error_rate_is_pooled_over_the_corpus():
    # 1 edit over 4 + 1 reference words, not the mean of 1/4 and 0.
    y_true = ["a b c d", "e"]
    y_pred = ["a b c x", "e"]
    assert token_error_rate(y_true, y_pred) == pytest.approx(1 / 5)


def test_error_rate_can_exceed_one():
    assert token_error_rate(["a"], ["x y z"]) == 3.0


def test_callable_tokenizer():
    def split_on_dash(text):
        return text.split("-")

    rate = token_error_rate(["2021-03-03"], ["2021-03-04"], tokenizer=split_on_dash)
    assert rate == pytest.approx(1 / 3)


def test_error_rate_needs_reference_tokens():
    with pytest.raises(ValueError, match="y_true holds no tokens"):
        token_error_rate([""], ["abc"])


@given(texts)
def test_perfect_predictions_score_perfectly(y):
    assert sequence_accuracy(y, y) == 1.0
    assert token_accuracy(y, y) == 1.0
    assert token_error_rate(y, y, tokenizer="char") == 0.0


# bleu


def test_bleu_of_identical_corpora_is_100():
    y = ["the cat sat on the mat", "a dog barked", "hi"]
    assert bleu(y, y) == pytest.approx(100.0)


def test_bleu_of_disjoint_corpora_is_0():
    assert bleu(["the cat sat on the mat"], ["one two three four five six"]) == 0.0


def test_bleu_of_a_partial_match_is_between_0_and_100():
    score = bleu(["the cat sat on the mat"], ["the cat sat on a mat"])
    assert 0.0 < score < 100.0


def test_bleu_accepts_token_lists():
    y = [["the", "cat", "sat"], ["a", "dog"]]
    assert bleu(y, y) == pytest.approx(100.0)


def test_bleu_without_sacrebleu_says_how_to_install(monkeypatch):
    # None in sys.modules makes the import fail as if the package were absent.
    monkeypatch.setitem(sys.modules, "sacrebleu", None)
    monkeypatch.setitem(sys.modules, "sacrebleu.metrics", None)
    with pytest.raises(ImportError, match=r'pip install "sk-attention\[bleu\]"'):
        bleu(["a"], ["a"])


# input validation, shared by every metric


@pytest.mark.parametrize("metric", ALL_METRICS)
def test_different_lengths_are_rejected(metric):
    with pytest.raises(ValueError, match="y_true and y_pred must have the same"):
        metric(["a", "b"], ["a"])


@pytest.mark.parametrize("metric", ALL_METRICS)
@pytest.mark.parametrize("name", ["y_true", "y_pred"])
def test_empty_inputs_are_rejected(metric, name):
    args = {"y_true": ["a"], "y_pred": ["a"], name: []}
    with pytest.raises(ValueError, match=f"{name} is empty"):
        metric(**args)


@pytest.mark.parametrize("metric", ALL_METRICS)
@pytest.mark.parametrize("bad_item", [3, None, ["a", 1], {"a"}, b"ab"])
def test_items_must_be_str_or_token_lists(metric, bad_item):
    with pytest.raises(TypeError, match=r"y_pred\[1\] must be a str or a list"):
        metric(["a", "b"], ["a", bad_item])


@pytest.mark.parametrize("metric", ALL_METRICS)
def test_a_single_string_is_not_a_collection(metric):
    with pytest.raises(TypeError, match="y_true must be a list, array or Series"):
        metric("abc", ["a", "b", "c"])


@pytest.mark.parametrize("metric", ALL_METRICS)
def test_2d_arrays_are_rejected(metric):
    y = np.array([["a", "b"], ["c", "d"]], dtype=object)
    with pytest.raises(ValueError, match=r"y_true must be 1-D.*\(2, 2\)"):
        metric(y, ["ab", "cd"])


@pytest.mark.parametrize("metric", [token_accuracy, token_error_rate])
def test_unknown_tokenizer_name_is_rejected(metric):
    with pytest.raises(ValueError, match="tokenizer must be 'char', 'word'.*'bpe'"):
        metric(["a"], ["a"], tokenizer="bpe")


@pytest.mark.parametrize("metric", [token_accuracy, token_error_rate])
def test_tokenizer_of_wrong_type_is_rejected(metric):
    with pytest.raises(TypeError, match="tokenizer must be .* got int"):
        metric(["a"], ["a"], tokenizer=3)


def test_tokenizer_must_return_str_tokens():
    with pytest.raises(TypeError, match="tokenizer must return str tokens"):
        token_error_rate(["ab"], ["ab"], tokenizer=lambda text: [1, 2])
