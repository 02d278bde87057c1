"""Text input of the pooling family: strings or token lists, read through
the same tokenizers and Vocabulary as AttentionSeq2Seq."""

import pickle

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from sk_attention import (
    AttentionPooling,
    AttentionPoolingClassifier,
    AttentionPoolingRegressor,
)

# Negation flips the sentiment: a bag of words cannot read "not good".
TEXTS = ["good movie", "bad movie", "not good", "not bad", "very good film",
         "very bad film"] * 8
LABELS = np.array([1, 0, 0, 1, 1, 0] * 8)
SMALL = dict(encoder="gru", encoder_size=16, embedding_dim=8, attention_size=8,
             dropout=0.0, lr=1e-2, random_state=0)


@pytest.fixture(scope="module")
def fitted():
    return AttentionPoolingClassifier(max_epochs=30, **SMALL).fit(TEXTS, LABELS)


def test_a_classifier_reads_texts(fitted):
    assert fitted.score(TEXTS, LABELS) == 1.0
    assert fitted.vocabulary_.tokens[:2] == ["good", "bad"]
    assert fitted.tokenizer_.name == "word"
    weights = fitted.attention_weights(["not good film"])[0]
    assert weights.shape == (1, 3) and np.isclose(weights.sum(), 1.0)


def test_unseen_tokens_do_not_raise(fitted):
    assert fitted.predict(["zebra crossing", "good zebra"]).shape == (2,)


def test_token_lists_equal_their_strings(fitted):
    np.testing.assert_allclose(
        fitted.predict_proba([["not", "good"]]), fitted.predict_proba(["not good"])
    )


def test_save_load_and_pickle_give_identical_outputs(fitted, tmp_path):
    fitted.save(tmp_path / "text.safetensors")
    loaded = AttentionPoolingClassifier.load(tmp_path / "text.safetensors")
    unpickled = pickle.loads(pickle.dumps(fitted))
    for model in (loaded, unpickled):
        np.testing.assert_array_equal(
            model.predict_proba(TEXTS), fitted.predict_proba(TEXTS)
        )
        assert model.vocabulary_.tokens == fitted.vocabulary_.tokens


def test_a_custom_tokenizer_is_given_again_to_load(tmp_path):
    def split_on_dash(text):
        return text.split("-")

    texts = [text.replace(" ", "-") for text in TEXTS]
    clf = AttentionPoolingClassifier(max_epochs=1, tokenizer=split_on_dash, **SMALL)
    clf.fit(texts, LABELS).save(tmp_path / "custom.safetensors")
    with pytest.raises(ValueError, match="custom tokenizer"):
        AttentionPoolingClassifier.load(tmp_path / "custom.safetensors")
    loaded = AttentionPoolingClassifier.load(
        tmp_path / "custom.safetensors", tokenizer=split_on_dash
    )
    np.testing.assert_array_equal(loaded.predict_proba(texts), clf.predict_proba(texts))


def test_texts_become_vectors_in_a_pipeline():
    pipe = make_pipeline(
        AttentionPooling(max_epochs=20, **SMALL), LogisticRegression()
    ).fit(TEXTS, LABELS)
    assert pipe.score(TEXTS, LABELS) >= 0.9
    assert pipe[0].transform(TEXTS).shape == (len(TEXTS), 16)


def test_a_regressor_reads_characters():
    y = np.array([len(text) for text in TEXTS], dtype=float)
    reg = AttentionPoolingRegressor(max_epochs=2, tokenizer="char", **SMALL)
    assert reg.fit(TEXTS, y).predict(["good"]).shape == (1,)
    assert "g" in reg.vocabulary_.tokens


def test_the_embedding_starts_from_pretrained_vectors():
    vectors = np.arange(16, dtype=np.float32).reshape(2, 8)
    clf = AttentionPoolingClassifier(
        max_epochs=1, optimizer="sgd", pretrained_embeddings=(["film", "zzz"], vectors),
        **{**SMALL, "lr": 1e-12},
    ).fit(TEXTS, LABELS)
    row = clf.vocabulary_.encode(["film"])[0]
    np.testing.assert_allclose(
        clf.module_.tokens.weight[row].detach().numpy(), vectors[0], atol=1e-6
    )


def test_pretrained_vectors_of_the_wrong_width_are_refused():
    clf = AttentionPoolingClassifier(
        pretrained_embeddings=(["film"], np.zeros((1, 3))), **SMALL
    )
    with pytest.raises(ValueError, match="embedding_dim=8"):
        clf.fit(TEXTS, LABELS)
    assert not hasattr(clf, "module_")


@pytest.mark.parametrize(
    "make_error",
    [
        lambda: AttentionPooling(**SMALL).fit(TEXTS),
        lambda: AttentionPoolingClassifier(
            input_layout="channels_first", **SMALL
        ).fit(TEXTS, LABELS),
        lambda: AttentionPoolingClassifier(**SMALL).fit(["good", ""], [0, 1]),
    ],
    ids=["without-y", "channels-first", "no-tokens"],
)
def test_text_that_cannot_be_read_is_refused(make_error):
    with pytest.raises(ValueError, match="needs y|input_layout|X\\[1\\] has no tokens"):
        make_error()


def test_a_model_refuses_the_other_kind_of_input(fitted):
    with pytest.raises(ValueError, match="fitted on text"):
        fitted.predict(np.zeros((2, 3, 1)))
    numeric = AttentionPoolingClassifier(max_epochs=1, random_state=0)
    numeric.fit(np.random.RandomState(0).normal(size=(10, 4, 2)), [0, 1] * 5)
    with pytest.raises(ValueError, match="fitted on numeric"):
        numeric.predict(["good movie"])


def test_tags_say_strings_are_accepted():
    assert AttentionPoolingClassifier().__sklearn_tags__().input_tags.string
