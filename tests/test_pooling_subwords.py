"""subword_ngrams: a token's vector is its embedding plus the mean of its
hashed character n-grams' embeddings, so unseen words get vectors of their
own."""

import pickle

import numpy as np
import pytest
import torch

from sk_attention import AttentionPoolingClassifier
from sk_attention._pooling._ngrams import (
    SubwordEmbedding,
    check_subword_ngrams,
    subword_sequences,
)
from sk_attention._sequences import length_mask
from sk_attention._text import UNK, Vocabulary

SMALL = dict(hidden_layer_sizes=(16,), embedding_dim=16, attention_size=8,
             dropout=0.0, lr=1e-2, random_state=0)


def _words(suffix, n, seed):
    rng = np.random.RandomState(seed)
    letters = list("bcdfgklmnprstvz")
    return ["".join(rng.choice(letters, 4)) + suffix for _ in range(n)]


# One word per sample, its class told by its ending: with n-grams a model
# can read the ending of a word it never saw; without, every unseen word is
# the unknown token.
TRAIN = _words("ing", 40, 0) + _words("ness", 40, 1)
TRAIN_Y = np.array(["verb"] * 40 + ["noun"] * 40)
TEST = _words("ing", 15, 2) + _words("ness", 15, 3)
TEST_Y = np.array(["verb"] * 15 + ["noun"] * 15)


@pytest.fixture(scope="module")
def fitted():
    return AttentionPoolingClassifier(
        subword_ngrams=(2, 4), max_epochs=15, **SMALL
    ).fit(TRAIN, TRAIN_Y)


def _vectors(model, texts):
    """The token vectors the network embeds ``texts`` into."""
    X, lengths = model._check_fitted_sequences(texts).gather(np.arange(len(texts)))
    mask = length_mask(torch.from_numpy(lengths), X.shape[1])
    with torch.no_grad():
        return model.module_._inputs(torch.from_numpy(X), mask).numpy()


def test_unseen_words_are_read_through_their_ngrams(fitted):
    assert not set(TEST) & set(TRAIN)
    assert fitted.score(TEST, TEST_Y) >= 0.9
    plain = AttentionPoolingClassifier(max_epochs=15, **SMALL).fit(TRAIN, TRAIN_Y)
    assert plain.score(TEST, TEST_Y) <= 0.6  # one vector for every unseen word


def test_an_unseen_word_gets_a_vector_unlike_the_unknown_token(fitted):
    unknown = fitted.module_.tokens.weight[UNK].detach().numpy()
    first, second = _vectors(fitted, ["zzzing", "qqqness"])[:, 0]
    assert fitted.vocabulary_.encode(["zzzing", "qqqness"]).tolist() == [UNK, UNK]
    assert np.abs(first - unknown).max() > 1e-3
    assert np.abs(first - second).max() > 1e-3


def test_save_load_and_pickle_give_identical_outputs(fitted, tmp_path):
    fitted.save(tmp_path / "subwords.safetensors")
    loaded = AttentionPoolingClassifier.load(tmp_path / "subwords.safetensors")
    unpickled = pickle.loads(pickle.dumps(fitted))
    texts = TEST + ["a sentence of several unseen words"]
    for model in (loaded, unpickled):
        assert model.subword_ngrams == (2, 4)
        np.testing.assert_array_equal(
            model.predict_proba(texts), fitted.predict_proba(texts)
        )


def test_a_text_gives_the_same_output_alone_and_in_a_batch(fitted):
    texts = ["bbbing", "a much longer text with many words", "zzness"]
    batch = fitted.predict_proba(texts)
    for index, text in enumerate(texts):
        np.testing.assert_allclose(
            fitted.predict_proba([text])[0], batch[index], rtol=1e-5, atol=1e-6
        )


def test_the_table_holds_each_distinct_token_once():
    sequences = subword_sequences(
        [["film", "film"], ["zzz"]], Vocabulary(["film"]), (3, 3, 50)
    )
    assert sequences.table.shape[0] == 3  # padding row, "film", "zzz"
    X, lengths = sequences.gather(np.array([0, 1]))
    assert X.shape == (2, 2, sequences.table.shape[1])
    assert lengths.tolist() == [2, 1]
    assert X[1, 1].tolist() == [0] * X.shape[2]  # padding: no token, no n-gram
    assert X[0, 0, 0] == 4 and X[1, 0, 0] == UNK
    assert ((X[..., 1:] >= 0) & (X[..., 1:] <= 50)).all()


def test_a_step_is_its_token_vector_plus_the_mean_of_its_ngrams():
    bag = SubwordEmbedding(10, 4)
    tokens = torch.randn(1, 2, 4)
    out = bag(tokens, torch.tensor([[[0, 0], [3, 5]]]))
    assert out.shape == (1, 2, 4)
    torch.testing.assert_close(out[0, 0], tokens[0, 0])  # no n-gram
    expected = tokens[0, 1] + (bag.bag.weight[3] + bag.bag.weight[5]) / 2
    torch.testing.assert_close(out[0, 1], expected)


@pytest.mark.parametrize("value", [(0, 3), (4, 2), (2,), (2, 3, 0), ("a", 3), 3])
def test_invalid_settings_are_refused_naming_the_parameter(value):
    with pytest.raises(ValueError, match="subword_ngrams"):
        check_subword_ngrams(value)
    if isinstance(value, tuple):
        clf = AttentionPoolingClassifier(subword_ngrams=value, **SMALL)
        with pytest.raises(ValueError, match="subword_ngrams"):
            clf.fit(TRAIN, TRAIN_Y)
        assert not hasattr(clf, "module_")


def test_onnx_export_refuses_a_text_model_clearly(fitted, tmp_path):
    pytest.importorskip("onnx")
    from sk_attention.onnx import export

    with pytest.raises(ValueError, match="fitted on text"):
        export(fitted, tmp_path / "model")
