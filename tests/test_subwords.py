"""Subword tokenizers: exact round trips, persistence as JSON, tuning."""

import pickle
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from sk_attention import AttentionSeq2Seq
from sk_attention._subwords import train_subword_tokenizer

pytest.importorskip("tokenizers")

TRICKY = [
    "hello world",
    "  two  leading, two  inner and a trailing space ",
    "tab\tand\nnewline",
    "naïve café, Ωmega, 日本語, emoji 🙂",
    "e\u0301 (decomposed) and é (composed)",
    "",
]
WORDS = ["walk", "walked", "walking", "talk", "talked", "talking", "jump",
         "jumped", "jumping", "play", "played", "playing"] * 4
TINY = dict(embedding_dim=8, hidden_size=16, max_epochs=3, lr=0.01,
            validation_fraction=None, early_stopping=False, random_state=0)


@pytest.fixture(scope="module", params=["bpe", "unigram"])
def subwords(request):
    return train_subword_tokenizer(request.param, TRICKY[:4] + WORDS, 300, "t")


@pytest.mark.parametrize("text", TRICKY)
def test_subwords_give_back_the_exact_text(subwords, text):
    tokens = subwords.tokenize(text)
    assert all(isinstance(token, str) for token in tokens)
    assert subwords.detokenize(tokens) == text


@given(st.text(max_size=30))
def test_subwords_give_back_any_text(subwords, text):
    assert subwords.detokenize(subwords.tokenize(text)) == text


def test_bpe_learns_the_frequent_words(subwords):
    if subwords.name == "bpe":
        assert subwords.tokenize("walking") == ["walking"]
        assert len(subwords.tokenize("walkjumping")) < len("walkjumping")


@pytest.fixture(scope="module")
def bpe_model():
    y = [word.upper() for word in WORDS]
    return AttentionSeq2Seq(source_tokenizer="bpe", target_tokenizer="bpe",
                            subword_vocabulary_size=280, **TINY).fit(WORDS, y)


def test_the_fitted_tokenizers_are_trained_on_the_data(bpe_model):
    assert bpe_model.source_tokenizer_.name == "bpe"
    assert "walking" in bpe_model.source_vocab_.tokens
    assert "WALKING" in bpe_model.target_vocab_.tokens
    assert bpe_model.get_params()["source_tokenizer"] == "bpe"


def test_save_load_and_pickle_give_the_same_predictions(bpe_model, tmp_path):
    X = ["walked", "talking", "jumpplay", "naïve"]
    expected = bpe_model.predict(X)
    bpe_model.save(tmp_path / "model.safetensors")
    loaded = AttentionSeq2Seq.load(tmp_path / "model.safetensors")
    assert list(loaded.predict(X)) == list(expected)
    assert list(pickle.loads(pickle.dumps(bpe_model)).predict(X)) == list(expected)
    np.testing.assert_allclose(loaded.score_samples(X, expected),
                               bpe_model.score_samples(X, expected))


def test_a_given_tokenizer_is_copied_saved_as_json_and_restored(bpe_model, tmp_path):
    given = bpe_model.target_tokenizer_.subword
    model = AttentionSeq2Seq(source_tokenizer=given, target_tokenizer=given,
                             **TINY).fit(WORDS, WORDS)
    assert model.target_tokenizer_.subword is not given
    assert model.target_tokenizer_.name == "tokenizers"
    clone(model)
    model.save(tmp_path / "model.safetensors")
    loaded = AttentionSeq2Seq.load(tmp_path / "model.safetensors")
    assert loaded.source_tokenizer.to_str() == given.to_str()
    assert list(loaded.predict(WORDS[:6])) == list(model.predict(WORDS[:6]))


def test_grid_search_tunes_the_tokenizer():
    search = GridSearchCV(
        AttentionSeq2Seq(subword_vocabulary_size=270, **TINY),
        {"source_tokenizer": ["char", "bpe"], "target_tokenizer": ["char", "bpe"]},
        cv=2,
    ).fit(WORDS, WORDS)
    assert len(search.cv_results_["params"]) == 4
    assert search.best_params_["source_tokenizer"] in {"char", "bpe"}


def test_subwords_need_strings_to_learn_from():
    tokens = [list(word) for word in WORDS]
    with pytest.raises(ValueError, match="source_tokenizer='bpe' learns its subwords"):
        AttentionSeq2Seq(source_tokenizer="bpe", **TINY).fit(tokens, WORDS)


def test_a_missing_tokenizers_package_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "tokenizers", None)  # import fails
    model = AttentionSeq2Seq(target_tokenizer="unigram", **TINY)
    with pytest.raises(ImportError, match=r"sk-attention\[subword\]"):
        model.fit(WORDS, WORDS)
    assert "target_tokenizer_" not in vars(model)
