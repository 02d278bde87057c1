"""linear_ngrams: a linear model of each text's bag of token n-grams, added
to the attention model's prediction."""

import pickle

import numpy as np
import pytest
import torch
from test_persistence import read, write

from sk_attention import AttentionPoolingClassifier
from sk_attention._base import TrainingData
from sk_attention._pooling._linear_ngrams import BUCKETS, NgramScores
from sk_attention._text import Vocabulary

SMALL = dict(hidden_layer_sizes=(8,), attention_size=8, embedding_dim=8,
             encoder="gru", encoder_size=8, random_state=0)
TEXTS = ["a good film", "not a good film", "a bad film", "not a bad film"] * 8
LABELS = [1, 0, 0, 1] * 8


@pytest.fixture(scope="module")
def fitted():
    return AttentionPoolingClassifier(max_epochs=5, **SMALL).fit(TEXTS, LABELS)


def _random_scores(**params):
    scores = NgramScores(**params)
    with torch.no_grad():
        scores.weight.weight.normal_()
    return scores


def test_a_text_scores_the_sum_of_its_ngrams_over_their_root_count():
    ids, lengths = torch.tensor([[4, 5, 6]]), torch.tensor([3])
    scores = NgramScores(vocabulary_size=10, max_n=3, n_outputs=1)
    assert scores.weight.num_embeddings == 10 + BUCKETS
    torch.testing.assert_close(scores(ids, lengths), torch.zeros(1, 1))  # no term yet
    with torch.no_grad():
        scores.weight.weight.fill_(1.0)
    # 3 unigrams, 2 bigrams, 1 trigram: 6 n-grams of score 1.
    torch.testing.assert_close(scores(ids, lengths), torch.tensor([[6**0.5]]))
    with torch.no_grad():
        scores.weight.weight[10:] = 0.0  # the hashed rows: longer n-grams
        scores.weight.weight[:10] = torch.arange(10.0)[:, None]
    torch.testing.assert_close(scores(ids, lengths), torch.tensor([[15 / 6**0.5]]))


def test_word_order_counts_only_through_longer_ngrams():
    ids, lengths = torch.tensor([[4, 5, 6], [6, 5, 4]]), torch.tensor([3, 3])
    bag = _random_scores(vocabulary_size=10, max_n=1, n_outputs=2)(ids, lengths)
    torch.testing.assert_close(bag[0], bag[1])
    bigrams = _random_scores(vocabulary_size=10, max_n=2, n_outputs=2)(ids, lengths)
    assert not torch.allclose(bigrams[0], bigrams[1])


def test_padding_never_changes_a_text_score():
    scores = _random_scores(vocabulary_size=10, max_n=3, n_outputs=2)
    alone = scores(torch.tensor([[4, 5]]), torch.tensor([2]))
    padded = scores(torch.tensor([[4, 5, 9, 9], [1, 2, 3, 4]]), torch.tensor([2, 4]))
    torch.testing.assert_close(padded[0], alone[0])


def test_auto_uses_bigrams_for_words_only():
    words = AttentionPoolingClassifier(max_epochs=1).fit(TEXTS, LABELS)
    assert words.linear_ngrams_ == 2 and words.module_.ngrams.max_n == 2
    chars = AttentionPoolingClassifier(max_epochs=1, tokenizer="char")
    assert chars.fit(TEXTS, LABELS).linear_ngrams_ is None
    assert chars.module_.ngrams is None
    numeric = AttentionPoolingClassifier(max_epochs=1, linear_ngrams=2)
    numeric.fit(np.random.RandomState(0).rand(8, 3, 2), [0, 1] * 4)
    assert numeric.module_.ngrams is None  # no tokens, nothing to count


def test_auto_leaves_out_a_term_too_large_to_update_every_step():
    estimator = AttentionPoolingClassifier()
    encoding = {"vocabulary_": Vocabulary(["a", "b"]), "_task": "classification"}
    for n_outputs, expected in [(200, 2), (300, None)]:  # 2**24 / 65,540 = 256
        resolved = estimator._resolve_auto(
            {**encoding, "_n_outputs": n_outputs},
            TrainingData(None), warm_start=False,
        )
        assert resolved["linear_ngrams"] == expected


def test_predictions_include_the_term(fitted):
    proba = fitted.predict_proba(TEXTS[:4])
    weight = fitted.module_.ngrams.weight.weight
    saved = weight.detach().clone()
    with torch.no_grad():
        weight.zero_()
    try:
        assert not np.allclose(fitted.predict_proba(TEXTS[:4]), proba)
    finally:
        with torch.no_grad():
            weight.copy_(saved)
    np.testing.assert_array_equal(fitted.predict_proba(TEXTS[:4]), proba)


def test_save_load_and_pickle_give_identical_outputs(fitted, tmp_path):
    fitted.save(tmp_path / "ngrams.safetensors")
    loaded = AttentionPoolingClassifier.load(tmp_path / "ngrams.safetensors")
    unpickled = pickle.loads(pickle.dumps(fitted))
    texts = TEXTS[:4] + ["an unseen phrase", "good good bad"]
    for model in (loaded, unpickled):
        assert model.linear_ngrams_ == 2
        np.testing.assert_array_equal(
            model.predict_proba(texts), fitted.predict_proba(texts)
        )


def test_a_file_from_before_the_term_loads_without_it(tmp_path):
    model = AttentionPoolingClassifier(
        max_epochs=2, linear_ngrams=None, label_smoothing=0.0, **SMALL
    ).fit(TEXTS, LABELS)
    path = tmp_path / "older.safetensors"
    model.save(path)
    document, tensors = read(path)
    for name in ("linear_ngrams", "label_smoothing"):
        del document["config"]["params"][name]
        del document["config"]["resolved"][name]
    write(path, document, tensors)
    loaded = AttentionPoolingClassifier.load(path)
    assert loaded.linear_ngrams is None and loaded.label_smoothing == 0.0
    np.testing.assert_array_equal(
        loaded.predict_proba(TEXTS[:4]), model.predict_proba(TEXTS[:4])
    )


@pytest.mark.parametrize("value", [0, -1, 1.5, "two"])
def test_invalid_settings_are_refused_naming_the_parameter(value):
    with pytest.raises(ValueError, match="linear_ngrams"):
        AttentionPoolingClassifier(linear_ngrams=value).fit(TEXTS, LABELS)
